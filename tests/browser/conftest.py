"""Browser-test fixtures: a real `streamlit run` server and a headless Chromium.

The tests need Debian's Chromium at /usr/bin/chromium and the `playwright` package
(no `playwright install`: Chromium is launched from its path). Without either, every
test here is skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60
EXPECT_TIMEOUT_MS = 20_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


class StreamlitServer:
    """Starts ``streamlit run <script>`` on a free localhost port, once per script."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: dict[str, tuple[subprocess.Popen, str]] = {}

    def url(self, script: str) -> str:
        if script not in self.processes:
            if not (REPO / script).exists():
                pytest.skip(f"{script} does not exist yet")
            port = _free_port()
            log = self.workdir / f"{Path(script).stem}-{port}.log"
            env = dict(os.environ, NETBUILDER_HOME=str(self.workdir / "home"))
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streamlit",
                    "run",
                    script,
                    "--server.port",
                    str(port),
                    "--server.headless=true",
                    "--server.address=127.0.0.1",
                    "--server.fileWatcherType=none",
                    "--browser.gatherUsageStats=false",
                ],
                cwd=REPO,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(url, process, log)
            except RuntimeError:
                process.kill()
                raise
            self.processes[script] = (process, url)
        return self.processes[script][1]

    def stop(self) -> None:
        for process, _ in self.processes.values():
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory) -> Iterator[StreamlitServer]:
    server = StreamlitServer(tmp_path_factory.mktemp("streamlit"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package `chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the `playwright` package is not installed")
    from playwright.sync_api import expect

    # Playwright's 5 s default for an expectation is short for a page that streams a chart
    # and a table on two loaded cores (Streamlit loads those elements' code on first use):
    # what a test waits for longer names its own timeout.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium):
    """A fresh browser page (own context, so no shared storage between tests)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def open_app(streamlit_server, new_page):
    """Open ``script`` (path from the repository root) in a fresh page, on a new project
    unless ``fresh=False``; return the page."""

    def _open(script: str, fresh: bool = True):
        # A bare URL reopens the project changed last (by any test on this server): a new
        # project id in the URL gives each test the offline default instead.
        url = streamlit_server.url(script)
        new_page.goto(f"{url}/?p={secrets.token_hex(8)}" if fresh else url)
        new_page.get_by_test_id("stMain").wait_for()
        return new_page

    return _open
