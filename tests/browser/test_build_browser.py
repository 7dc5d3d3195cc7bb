"""The Build page in a real browser: drag, fix, reorder, save and restore.

Each test opens the app in a fresh browser context, so it starts from the default
template (input of 64 values, Dense 'hidden' 64, Dense 'digit' 10).
"""

from __future__ import annotations

import json
import secrets

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser.nav import download, expand

TF_TIMEOUT = 120_000  # the server imports TensorFlow after the first paint


@pytest.fixture
def build(open_app):
    page = open_app("app.py")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("nb-out-hidden")).to_contain_text("(None, 64)", timeout=TF_TIMEOUT)
    return page


def card_names(main) -> list[str]:
    return main.locator("li.nb-card").evaluate_all("cards => cards.map(c => c.dataset.name)")


def test_drop_conv2d_shows_error_and_fix_repairs_it(build):
    main = build.get_by_test_id("stMain")
    digit = main.get_by_test_id("nb-card-digit")
    main.get_by_test_id("nb-chip-Conv2D").drag_to(digit, target_position={"x": 80, "y": 3})
    conv = main.locator('li.nb-card[data-class-name="Conv2D"]')
    expect(conv).to_have_count(1)
    expect(conv.locator(".nb-error")).to_contain_text("needs images")
    assert card_names(main)[1] == conv.get_attribute("data-name")
    fix = conv.locator("button.nb-fix").first
    expect(fix).to_contain_text("Reshape")
    fix.click()
    expect(main.locator('li.nb-card[data-class-name="Reshape"]')).to_have_count(1)
    expect(conv.locator(".nb-error")).to_have_count(0)
    expect(main.locator('li.nb-card[data-class-name="Reshape"] .nb-out')).to_contain_text(
        "(None, 8, 8, 1)"
    )
    expect(conv.locator(".nb-out")).to_contain_text("(None, 6, 6, ")


def test_reorder_by_drag(build):
    main = build.get_by_test_id("stMain")
    hidden = main.get_by_test_id("nb-card-hidden")
    main.get_by_test_id("nb-card-digit").drag_to(
        hidden, source_position={"x": 12, "y": 12}, target_position={"x": 80, "y": 3}
    )
    expect(main.locator("li.nb-card").first).to_have_attribute("data-name", "digit")
    assert card_names(main) == ["digit", "hidden"]


def test_save_reload_and_open(build, chromium, streamlit_server, tmp_path):
    main = build.get_by_test_id("stMain")
    main.get_by_test_id("nb-chip-Dropout").click()  # appended at the end
    expect(main.locator("li.nb-card")).to_have_count(3)
    names = card_names(main)

    build.reload()
    main = build.get_by_test_id("stMain")
    expect(main.locator("li.nb-card")).to_have_count(3, timeout=TF_TIMEOUT)
    assert card_names(main) == names

    sidebar = build.get_by_test_id("stSidebar")
    save = sidebar.get_by_role("button", name="Save project")
    expect(sidebar.get_by_text("New / Open / Save")).to_be_visible(timeout=TF_TIMEOUT)
    expand(sidebar.get_by_text("New / Open / Save"), save)
    saved_file = tmp_path / "saved.json"
    download(build, save).save_as(saved_file)
    saved = json.loads(saved_file.read_text())
    assert [lay["name"] for lay in saved["model"]["layers"]] == names

    other = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    other.goto(f"{streamlit_server.url('app.py')}/?p={secrets.token_hex(8)}")  # a new project
    other_main = other.get_by_test_id("stMain")
    expect(other_main.locator("li.nb-card")).to_have_count(2, timeout=TF_TIMEOUT)
    other_bar = other.get_by_test_id("stSidebar")
    upload = other_bar.locator('input[type="file"]')
    expand(other_bar.get_by_text("New / Open / Save"), other_bar.get_by_test_id("stFileUploader"))
    upload.set_input_files(saved_file)
    expect(other_main.locator("li.nb-card")).to_have_count(3, timeout=TF_TIMEOUT)
    assert card_names(other_main) == names
    other.context.close()
