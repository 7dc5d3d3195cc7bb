"""Text is text in a real browser: a project name written as a markdown image of a local
address is shown as those characters on every page, and Chromium never requests it."""

from __future__ import annotations

import http.server
import json
import secrets
import threading
from typing import ClassVar

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from builder import templates
from tests.browser.nav import expand, go


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Counter.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def counter():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counter.hits = []
    yield server.server_address[1], _Counter.hits
    server.shutdown()


def _autosave(home, pid: str, name: str) -> None:
    project = templates.load(templates.DEFAULT)
    project["name"] = name
    folder = home / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{pid}.json").write_text(json.dumps(project), encoding="utf-8")


def test_a_markdown_image_in_a_project_name_is_never_fetched(streamlit_server, new_page, counter):
    port, hits = counter
    url = streamlit_server.url("app.py")
    home = streamlit_server.workdir / "home"
    current, other = secrets.token_hex(8), secrets.token_hex(8)
    name = f"![i](http://127.0.0.1:{port}/name.png) <img src=http://127.0.0.1:{port}/tag.png>"
    _autosave(home, other, f"{name} other")
    _autosave(home, current, name)
    new_page.goto(f"{url}/?p={current}")
    sidebar = new_page.get_by_test_id("stSidebar")
    header = sidebar.get_by_text("Projects (").first
    expect(header).to_be_visible(timeout=120_000)
    # The open project's line in Projects (once `**{name}** (open)`, which fetched).
    shown = sidebar.get_by_text(f"{name} (open)", exact=True)
    expand(header, shown)
    for title in ("Build", "Graph", "Data", "Train", "Results"):
        go(new_page, title)
        expand(header, shown)
    assert new_page.locator("img[src*='127.0.0.1']").count() == 0
    assert hits == []
