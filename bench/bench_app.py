"""App cold start, against a trivial Streamlit page and a bare TensorFlow import measured in
the same run, in headless Chromium.

    python bench/bench_app.py [--runs 3]

Each run starts a fresh server (fresh NETBUILDER_HOME) and measures from the moment the page
is requested:
  * trivial page: a one-line Streamlit script (``st.title``) shows its heading;
  * cards: app.py's Build page shows the default template's layer cards (no TensorFlow);
  * shapes: the cards show an output shape (TensorFlow loaded, model checked).
A bare ``python -c "import tensorflow"`` is timed in the same runs. Printed ratios:
cards / trivial page (goal ≤ 1.3) and shapes / (trivial page + TF import) (goal ≤ 1.0).
Medians over ``--runs``; the machine's other load shows in the spread, so run it when quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer  # noqa: E402

TRIVIAL = 'import streamlit as st\nst.title("Trivial page")\n'


def tf_import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        check=True,
        capture_output=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""},
    )
    return time.perf_counter() - start


def _timed_page(browser, script: str, *waits) -> list[float]:
    """Serve ``script`` fresh; seconds from the request until each locator in ``waits``."""
    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(Path(tmp))
        try:
            url = server.url(script)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            times = []
            for wait in waits:
                wait(page).wait_for(timeout=180_000)
                times.append(time.perf_counter() - t0)
            page.close()
        finally:
            server.stop()
    return times


def trivial_seconds(browser) -> float:
    script = ROOT / "bench" / ".bench_trivial_page.py"  # StreamlitServer runs repo paths
    script.write_text(TRIVIAL)
    try:
        (seconds,) = _timed_page(
            browser,
            str(script.relative_to(ROOT)),
            lambda p: p.get_by_role("heading", name="Trivial page"),
        )
    finally:
        script.unlink(missing_ok=True)
    return seconds


def app_seconds(browser) -> tuple[float, float]:
    cards, shapes = _timed_page(
        browser,
        "app.py",
        lambda p: p.get_by_test_id("nb-card-hidden"),
        lambda p: p.get_by_test_id("nb-out-hidden").get_by_text("(None, 64)"),
    )
    return cards, shapes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    load_before = os.getloadavg()[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.runs):  # interleaved, so load hits all three alike
            trivial = trivial_seconds(browser)
            tf = tf_import_seconds()
            cards, shapes = app_seconds(browser)
            rows.append((trivial, tf, cards, shapes))
        browser.close()
    trivial, tf, cards, shapes = (statistics.median(col) for col in zip(*rows))
    print(f"trivial Streamlit page, request to heading   {trivial:6.2f} s")
    print(f"bare `import tensorflow`                     {tf:6.2f} s")
    print(
        f"app, request to layer cards                  {cards:6.2f} s   "
        f"{cards / trivial:.2f}x the trivial page (goal <= 1.3)"
    )
    print(
        f"app, request to shapes                       {shapes:6.2f} s   "
        f"{shapes / (trivial + tf):.2f}x trivial page + TF import (goal <= 1.0)"
    )
    print(
        f"load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(
        "runs (trivial, tf, cards, shapes): "
        + "; ".join(", ".join(f"{v:.2f}" for v in row) for row in rows)
    )


if __name__ == "__main__":
    main()
