"""First paint and the keyboard in a real browser: no raw page list, Ctrl+Z / Ctrl+Shift+Z,
and an undo history that outlives a reload."""

from __future__ import annotations

import secrets
import time

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser.nav import go

TF_TIMEOUT = 120_000  # the server imports TensorFlow after the first paint
TITLES = ["Build", "Graph", "Data", "Train", "Experiments", "Results", "Compare"]
LINKS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stSidebar"] a, [data-testid="stSidebarNav"] a')).map(a => a.innerText.trim())"""


def _cards(main) -> list[str]:
    return main.locator("li.nb-card").evaluate_all("cards => cards.map(c => c.dataset.name)")


@pytest.fixture
def build(streamlit_server, new_page):
    new_page.goto(f"{streamlit_server.url('app.py')}/?p={secrets.token_hex(8)}")
    main = new_page.get_by_test_id("stMain")
    expect(main.get_by_test_id("nb-out-hidden")).to_contain_text("(None, 64)", timeout=TF_TIMEOUT)
    return new_page


def test_first_paint_shows_only_the_app_page_list(streamlit_server, new_page):
    url = f"{streamlit_server.url('app.py')}/?p={secrets.token_hex(8)}"
    new_page.goto(url, wait_until="commit")
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # sample the sidebar from the first paint on
        links = new_page.evaluate(LINKS)
        if links and links not in seen:
            seen.append(links)
        if seen and new_page.get_by_test_id("nb-card-hidden").count():
            break  # the page list and the cards are both up
        new_page.wait_for_timeout(20)
    assert seen, "the sidebar never showed a link"
    for links in seen:  # never the pages/ file names ("app", "build", ...)
        assert links[: len(TITLES)] == TITLES, links
    # The app's own page list works (a click landing while the page waits for Keras is
    # repeated, as in every browser test: tests/browser/nav.py).
    go(new_page, "Data")


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo_outside_text_fields(build):
    main = build.get_by_test_id("stMain")
    main.get_by_test_id("nb-delete-hidden").click()
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(0)

    main.get_by_role("heading", name="Build", exact=True).click()  # focus off any field
    build.keyboard.press("Control+z")
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(1)
    build.keyboard.press("Control+Shift+z")
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(0)
    build.keyboard.press("Control+z")
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(1)
    build.keyboard.press("Control+y")
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(0)

    # In a text field, Ctrl+Z is the field's own undo: the model stays as it is.
    box = main.get_by_placeholder("Filter layer types")
    box.fill("Dense")
    box.press("Control+z")
    build.wait_for_timeout(1500)
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(0)
    assert _cards(main) == ["digit"]


def test_undo_works_after_a_reload(build):
    main = build.get_by_test_id("stMain")
    main.get_by_test_id("nb-delete-hidden").click()
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(0)

    build.reload()  # a new Streamlit session on the same ?p=
    main = build.get_by_test_id("stMain")
    expect(main.get_by_test_id("nb-card-digit")).to_be_visible(timeout=TF_TIMEOUT)
    undo = main.get_by_role("button", name="Undo", exact=True)
    expect(undo).to_be_enabled()
    main.get_by_role("heading", name="Build", exact=True).click()
    build.keyboard.press("Control+z")
    expect(main.get_by_test_id("nb-card-hidden")).to_have_count(1)
    assert _cards(main) == ["hidden", "digit"]
