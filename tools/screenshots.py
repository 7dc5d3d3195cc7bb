"""Redraw docs/screenshot-build.png: the Build page with an error, a fix and a selected layer.

    python -m tools.screenshots [--out docs/screenshot-build.png]

Starts ``streamlit run app.py`` on a free local port with a throwaway NETBUILDER_HOME,
opens it in Debian's Chromium (/usr/bin/chromium) through Playwright, drops a Conv2D onto
the default template so the page shows an error and its fix, selects a layer and saves
the picture. A tool for the README, not a test: it checks nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
STARTUP_TIMEOUT_S = 60
TF_TIMEOUT_MS = 120_000
# True when Streamlit has no script run in progress (its status widget is quiet).
IDLE = """() => {
    const w = document.querySelector('[data-testid="stStatusWidget"]');
    return !w || !/Stop|Running/.test(w.innerText);
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_app(home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless=true",
            "--server.address=127.0.0.1",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=dict(os.environ, NETBUILDER_HOME=str(home)),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def draw_build_page(url: str, out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(url)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_test_id("nb-out-hidden")).to_contain_text(
            "(None, 64)", timeout=TF_TIMEOUT_MS
        )
        main.get_by_test_id("nb-chip-Conv2D").drag_to(
            main.get_by_test_id("nb-card-digit"), target_position={"x": 80, "y": 3}
        )
        expect(main.locator('li.nb-card[data-class-name="Conv2D"] .nb-error')).to_have_count(1)
        main.get_by_test_id("nb-card-hidden").locator(".nb-summary").click()
        expect(main.get_by_test_id("stNumberInput").first).to_be_visible()
        page.wait_for_timeout(1000)
        page.wait_for_function(IDLE)
        page.wait_for_timeout(500)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "screenshot-build.png",
        help="where to write the picture (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (Debian package `chromium`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        process, url = _start_app(Path(tmp) / "home", Path(tmp) / "streamlit.log")
        try:
            draw_build_page(url, args.out)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
