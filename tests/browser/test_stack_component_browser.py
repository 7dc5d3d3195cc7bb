"""The stack editor in a real browser, alone (tests/browser/harness_stack.py).

Each gesture must reach Python as exactly one action; the harness view is fixed,
so the cards stay where they are and positions can be aimed at directly.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

HARNESS = "tests/browser/harness_stack.py"


@pytest.fixture
def editor(open_app):
    page = open_app(HARNESS)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("nb-card-d2")).to_be_visible()
    return page


def received(page) -> list[dict]:
    texts = page.get_by_test_id("stMain").get_by_test_id("stText").all_inner_texts()
    return [json.loads(t.removeprefix("action: ")) for t in texts if t.startswith("action: ")]


def last_action(page, count: int) -> dict:
    expect(page.get_by_test_id("stMain").get_by_test_id("stText")).to_have_count(count)
    action = received(page)[-1]
    assert isinstance(action.pop("seq"), int)
    return action


def test_view_is_drawn(editor):
    main = editor.get_by_test_id("stMain")
    expect(main.get_by_test_id("nb-input-pixels")).to_contain_text("(None, 784)")
    expect(main.get_by_test_id("nb-out-d1")).to_contain_text("(None, 16)")
    expect(main.get_by_test_id("nb-params-d1")).to_contain_text("12,560")
    expect(main.get_by_test_id("nb-error-c1")).to_contain_text("needs images")
    expect(main.get_by_test_id("nb-fix-c1-0")).to_have_text("Fix: Insert Reshape before it")
    expect(main.get_by_test_id("nb-warning-d2")).to_contain_text("narrow")
    expect(main.get_by_test_id("nb-card-d1")).to_have_attribute("aria-current", "true")
    expect(main.get_by_test_id("nb-chip-Dense")).to_have_attribute(
        "title", "Fully connected layer: every input feeds every unit."
    )
    expect(main.get_by_role("button", name="Delete d1")).to_be_visible()


def test_drag_chip_into_position_1(editor):
    main = editor.get_by_test_id("stMain")
    main.get_by_test_id("nb-chip-Dropout").drag_to(
        main.get_by_test_id("nb-card-c1"), target_position={"x": 60, "y": 3}
    )
    assert last_action(editor, 1) == {"type": "add", "class_name": "Dropout", "index": 1}


def test_drag_card_below_another(editor):
    main = editor.get_by_test_id("stMain")
    card_d2 = main.get_by_test_id("nb-card-d2")
    height = card_d2.bounding_box()["height"]
    main.get_by_test_id("nb-card-d1").drag_to(
        card_d2, source_position={"x": 12, "y": 12}, target_position={"x": 60, "y": height - 3}
    )
    assert last_action(editor, 1) == {"type": "move", "name": "d1", "index": 2}


def test_click_selects_and_buttons_act(editor):
    main = editor.get_by_test_id("stMain")
    main.get_by_test_id("nb-card-c1").locator(".nb-summary").click()
    assert last_action(editor, 1) == {"type": "select", "name": "c1"}
    main.get_by_role("button", name="Fix c1: Insert Reshape before it").click()
    assert last_action(editor, 2) == {"type": "apply_fix", "name": "c1", "fix": 0}
    main.get_by_role("button", name="Duplicate d2").click()
    assert last_action(editor, 3) == {"type": "duplicate", "name": "d2"}
    main.get_by_role("button", name="Move d2 up").click()
    assert last_action(editor, 4) == {"type": "move", "name": "d2", "index": 1}
    main.get_by_role("button", name="Delete d1").click()
    assert last_action(editor, 5) == {"type": "delete", "name": "d1"}
    main.get_by_test_id("nb-chip-Flatten").click()
    assert last_action(editor, 6) == {"type": "add", "class_name": "Flatten", "index": 3}


def test_filter_hides_other_chips(editor):
    main = editor.get_by_test_id("stMain")
    main.get_by_test_id("nb-palette-filter").fill("conv")
    expect(main.get_by_test_id("nb-chip-Conv2D")).to_be_visible()
    expect(main.get_by_test_id("nb-chip-Dense")).to_be_hidden()


def test_drop_line_marks_the_gap_while_dragging(editor):
    main = editor.get_by_test_id("stMain")
    target = main.get_by_test_id("nb-card-d2").bounding_box()
    main.get_by_test_id("nb-chip-Dropout").hover()
    editor.mouse.down()
    editor.mouse.move(target["x"] + 50, target["y"] + 5, steps=8)
    editor.mouse.move(target["x"] + 60, target["y"] + 6, steps=2)
    line = main.get_by_test_id("nb-drop-line")
    expect(line).to_be_visible()
    expect(line).to_have_attribute("data-gap", "2")
    editor.mouse.up()
    expect(line).to_be_hidden()
    assert last_action(editor, 1) == {"type": "add", "class_name": "Dropout", "index": 2}
