"""Two tabs of one browser opened on the bare URL (issue 13): both open the most recent
project; when both change it, the tab that saves second is moved to a new address and told,
and neither overwrites the other's autosave."""

from __future__ import annotations

import json
import re
import secrets

from playwright.sync_api import expect

ID = re.compile(r"[?&]p=([0-9a-f]{16})")


def _rename(page, name: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_label("Project name", exact=True)
    box.fill(name)
    box.press("Enter")
    expect(box).to_have_value(name)


def _url_id(page) -> str:
    found = ID.search(page.url)
    assert found, page.url
    return found.group(1)


def _saved_name(streamlit_server, pid: str) -> str:
    path = streamlit_server.workdir / "home" / "autosave" / f"{pid}.json"
    return json.loads(path.read_text())["name"]


def test_two_bare_url_tabs_never_write_the_same_autosave(chromium, streamlit_server):
    url = streamlit_server.url("app.py")
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    try:
        # The project changed last on this server: made here, so the bare URL opens it.
        setup = context.new_page()
        pid = secrets.token_hex(8)
        setup.goto(f"{url}/?p={pid}")
        _rename(setup, "Shared by two tabs")
        setup.wait_for_timeout(1000)
        setup.close()

        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            page.goto(url)
            expect(
                page.get_by_test_id("stSidebar").get_by_label("Project name", exact=True)
            ).to_have_value("Shared by two tabs", timeout=60_000)
            expect(page).to_have_url(re.compile(rf"[?&]p={pid}"))

        _rename(first, "First tab's work")
        first.wait_for_timeout(1000)
        _rename(second, "Second tab's work")
        toast = second.get_by_test_id("stToast").filter(has_text="also changed in another tab")
        expect(toast).to_be_visible(timeout=30_000)
        expect(second).not_to_have_url(re.compile(rf"[?&]p={pid}"), timeout=30_000)
        moved = _url_id(second)
        assert moved != pid and f"?p={moved}" in toast.inner_text()
        assert _url_id(first) == pid

        assert _saved_name(streamlit_server, pid) == "First tab's work"
        assert _saved_name(streamlit_server, moved) == "Second tab's work"
        # Both go on saving under their own ids.
        _rename(first, "First tab, later")
        _rename(second, "Second tab, later")
        second.wait_for_timeout(1500)
        assert _saved_name(streamlit_server, pid) == "First tab, later"
        assert _saved_name(streamlit_server, moved) == "Second tab, later"
        assert _url_id(first) == pid and _url_id(second) == moved
    finally:
        context.close()
