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

How it waits: the page is checked on every animation frame (``wait_for_function`` with
``polling="raf"``, looking inside the components' shadow roots too). A Playwright locator
wait backs off to one check every 500 ms after its first few tries, which rounded the
later of two events up by up to half a second and made single runs swing 1.1-1.7x.
Before measuring, the project's modules are compiled to bytecode (``compileall``), as a
user's machine has them after the first start (a sandbox with ``PYTHONDONTWRITEBYTECODE``
would otherwise compile them on every server start).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, StreamlitServer

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


# Whether an element matching ``selector`` (whose text contains ``text``) is in the page,
# in the document or in any open shadow root (the v2 components draw in one).
_FOUND = """([selector, text]) => {
  const roots = [document];
  for (let i = 0; i < roots.length; i++) {
    for (const found of roots[i].querySelectorAll(selector)) {
      if (found.textContent.includes(text)) return true;
    }
    for (const host of roots[i].querySelectorAll("*")) {
      if (host.shadowRoot) roots.push(host.shadowRoot);
    }
  }
  return false;
}"""


def _found(selector: str, text: str = ""):
    return lambda page: page.wait_for_function(
        _FOUND, arg=[selector, text], polling="raf", timeout=180_000
    )


def _timed_page(browser, script: str, *waits) -> list[float]:
    """Serve ``script`` fresh; seconds from the request until each wait in ``waits`` ends."""
    with tempfile.TemporaryDirectory() as tmp:
        server = StreamlitServer(Path(tmp))
        try:
            url = server.url(script)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            times = []
            for wait in waits:
                wait(page)
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
            _found("h1", "Trivial page"),
        )
    finally:
        script.unlink(missing_ok=True)
    return seconds


def app_seconds(browser) -> tuple[float, float]:
    cards, shapes = _timed_page(
        browser,
        "app.py",
        _found('[data-testid="nb-card-hidden"]'),
        _found('[data-testid="nb-out-hidden"]', "(None, 64)"),
    )
    return cards, shapes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    for package in ("builder", "ui", "pages"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "app.py", quiet=1)

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
