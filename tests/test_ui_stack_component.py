"""ui.stack_component: action validation, and the component driven through AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.stack_component import ACTION_FIELDS, parse_action

HARNESS = str(Path(__file__).parent / "browser" / "harness_stack.py")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "add", "class_name": "Dense", "index": 1, "seq": 3},
         {"type": "add", "class_name": "Dense", "index": 1, "seq": 3}),
        ({"type": "move", "name": "d1", "index": 2.0, "seq": 4.0},
         {"type": "move", "name": "d1", "index": 2, "seq": 4}),
        ({"type": "select", "name": "d1", "seq": 5, "index": 9},
         {"type": "select", "name": "d1", "seq": 5}),
        ({"type": "delete", "name": "d1", "seq": 6}, {"type": "delete", "name": "d1", "seq": 6}),
        ({"type": "duplicate", "name": "d1", "seq": 7},
         {"type": "duplicate", "name": "d1", "seq": 7}),
        ({"type": "apply_fix", "name": "c1", "fix": 0, "seq": 8},
         {"type": "apply_fix", "name": "c1", "fix": 0, "seq": 8}),
    ],
)
def test_parse_action_keeps_fields_of_its_type(raw, expected):
    assert parse_action(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "select",
        {"type": "rename", "name": "d1", "seq": 1},
        {"type": "select", "name": "d1"},
        {"type": "select", "name": "d1", "seq": True},
        {"type": "select", "name": "", "seq": 1},
        {"type": "select", "name": 3, "seq": 1},
        {"type": "add", "class_name": "Dense", "index": -1, "seq": 1},
        {"type": "add", "class_name": "Dense", "index": 1.5, "seq": 1},
        {"type": "add", "class_name": "Dense", "index": True, "seq": 1},
        {"type": "apply_fix", "name": "c1", "seq": 1},
    ],
)
def test_parse_action_rejects_malformed(raw):
    assert parse_action(raw) is None


def test_every_action_type_names_its_fields():
    assert set(ACTION_FIELDS) == {"add", "move", "select", "delete", "duplicate", "apply_fix"}


def _actions(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_action_reaches_python_once():
    at = AppTest.from_file(HARNESS).run()
    assert not at.exception
    assert _actions(at) == []
    at.session_state["stack"] = {"action": {"type": "select", "name": "c1", "seq": 5}}
    at.run()
    at.run()
    assert _actions(at) == ['action: {"name": "c1", "seq": 5, "type": "select"}']


def test_same_action_with_new_seq_arrives_again():
    at = AppTest.from_file(HARNESS).run()
    for seq in (1, 2):
        at.session_state["stack"] = {"action": {"type": "delete", "name": "d1", "seq": seq}}
        at.run()
    assert len(_actions(at)) == 2


def test_malformed_action_is_ignored():
    at = AppTest.from_file(HARNESS).run()
    at.session_state["stack"] = {"action": {"type": "delete", "seq": 1}}
    at.run()
    assert not at.exception
    assert _actions(at) == []
