"""Every page has the app's frame in a real browser (ui.frame):

- a page reached straight from its URL on a server that has not yet run ``app.py`` (a
  reload on /compare after a restart) — Streamlit ran the page file on its own there, with
  no page list and no sidebar;
- a page with nothing more to show (Compare and Results before any run) — ``st.stop()``
  there ended the app's run before the sidebar's project name and New / Open / Save.

AppTest runs a page file on its own after ``switch_page``, so only a browser sees these.
"""

from __future__ import annotations

import secrets

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser.conftest import StreamlitServer
from tests.browser.nav import go


@pytest.fixture
def fresh_server(tmp_path):
    server = StreamlitServer(tmp_path)
    yield server
    server.stop()


@pytest.mark.parametrize("title", ["Compare", "Results"])
def test_a_page_opened_by_its_url_on_a_fresh_server_has_the_whole_frame(
    fresh_server, new_page, title
):
    url, pid = fresh_server.url("app.py"), secrets.token_hex(8)
    new_page.goto(f"{url}/{title.lower()}?p={pid}")  # the first request this server sees
    main, sidebar = new_page.get_by_test_id("stMain"), new_page.get_by_test_id("stSidebar")
    expect(main.get_by_text("No runs yet").first).to_be_visible(timeout=120_000)
    expect(main.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(sidebar.locator(".st-key-nb_nav").get_by_role("link", name="Data")).to_be_visible()
    name = sidebar.get_by_label("Project name", exact=True)
    expect(name).to_be_visible()
    expect(sidebar.get_by_text("New / Open / Save")).to_be_visible()
    # The sidebar's widgets act on a page that ended early: a rename is kept.
    name.fill(f"Renamed on {title}")
    name.press("Enter")
    go(new_page, "Data")
    expect(name).to_have_value(f"Renamed on {title}")
