"""App cold start to first paint, and to the first shape feedback, in headless Chromium.

    python bench/bench_app.py [--runs 3]

Starts ``streamlit run app.py`` on a free localhost port (fresh NETBUILDER_HOME each run),
opens it in Debian's Chromium and measures, from the moment the page is requested:
  * first paint: the sidebar shows the project's name (no TensorFlow needed);
  * first shapes: the stack editor shows a layer's output shape (TensorFlow loaded, model
    checked).
The baseline measured in the same run is a bare ``python -c "import tensorflow"``: first
paint should take a fraction of it (the page does not wait for TensorFlow), first shapes
about one import more.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer  # noqa: E402


def tf_import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True,
                   capture_output=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    return time.perf_counter() - start


def one_run(browser) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(Path(tmp))
        started = time.perf_counter()
        try:
            url = server.url("app.py")
            ready = time.perf_counter() - started
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            page.get_by_text("Handwritten digits, dense 64-10").first.wait_for(timeout=60_000)
            paint = time.perf_counter() - t0
            page.get_by_test_id("nb-out-hidden").get_by_text("(None, 64)").wait_for(timeout=120_000)
            shapes = time.perf_counter() - t0
            page.close()
        finally:
            server.stop()
    return ready, paint, shapes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    baseline = statistics.median(tf_import_seconds() for _ in range(args.runs))
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.runs):
            rows.append(one_run(browser))
        browser.close()
    ready, paint, shapes = (statistics.median(col) for col in zip(*rows))
    print(f"plain `import tensorflow`         {baseline:6.2f} s   (baseline)")
    print(f"server start to healthy           {ready:6.2f} s")
    print(f"page request to first paint       {paint:6.2f} s   ratio to TF import "
          f"{paint / baseline:.2f}")
    print(f"page request to first shapes      {shapes:6.2f} s   ratio to TF import "
          f"{shapes / baseline:.2f}")


if __name__ == "__main__":
    main()
