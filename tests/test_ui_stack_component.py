"""ui.stack_component: action validation, and the component driven through AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.stack_component import ACTION_FIELDS, build_view, layer_fixes, parse_action

HARNESS = str(Path(__file__).parent / "browser" / "harness_stack.py")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"type": "add", "class_name": "Dense", "index": 1, "seq": 3},
            {"type": "add", "class_name": "Dense", "index": 1, "seq": 3},
        ),
        (
            {"type": "move", "name": "d1", "index": 2.0, "seq": 4.0},
            {"type": "move", "name": "d1", "index": 2, "seq": 4},
        ),
        (
            {"type": "select", "name": "d1", "seq": 5, "index": 9},
            {"type": "select", "name": "d1", "seq": 5},
        ),
        ({"type": "delete", "name": "d1", "seq": 6}, {"type": "delete", "name": "d1", "seq": 6}),
        (
            {"type": "duplicate", "name": "d1", "seq": 7},
            {"type": "duplicate", "name": "d1", "seq": 7},
        ),
        (
            {"type": "apply_fix", "name": "c1", "fix": 0, "seq": 8},
            {"type": "apply_fix", "name": "c1", "fix": 0, "seq": 8},
        ),
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
    assert set(ACTION_FIELDS) == {
        "add",
        "move",
        "select",
        "delete",
        "duplicate",
        "apply_fix",
        "undo",
        "redo",
        "painted",
    }


def _actions(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_action_reaches_python_once():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    assert not at.exception
    assert _actions(at) == []
    at.session_state["stack"] = {"action": {"type": "select", "name": "c1", "seq": 5}}
    at.run()
    at.run()
    assert _actions(at) == ['action: {"name": "c1", "seq": 5, "type": "select"}']


def test_same_action_with_new_seq_arrives_again():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    for seq in (1, 2):
        at.session_state["stack"] = {"action": {"type": "delete", "name": "d1", "seq": seq}}
        at.run()
    assert len(_actions(at)) == 2


def test_malformed_action_is_ignored():
    at = AppTest.from_file(HARNESS, default_timeout=60).run()
    at.session_state["stack"] = {"action": {"type": "delete", "seq": 1}}
    at.run()
    assert not at.exception
    assert _actions(at) == []


# ---------------------------------------------------------------- build_view


def _project() -> dict:
    from builder.project import new_project

    project = new_project(inputs=[{"name": "pixels", "shape": [784], "dtype": "float32"}])
    project["model"]["layers"] = [
        {"name": "d1", "class_name": "Dense", "config": {"units": 16, "activation": "relu"}},
        {"name": "c1", "class_name": "Conv2D", "config": {"filters": 32, "kernel_size": [3, 3]}},
    ]
    project["model"]["outputs"] = ["c1"]
    return project


def _result():
    from builder.results import Advice, CheckResult, Fix, LayerReport

    reshape = Fix("Insert Reshape before c1", {"op": "insert_before", "target": "c1"})
    wider = Fix("Set units to 64", {"op": "set_config", "target": "d1"})
    return CheckResult(
        valid=False,
        inputs=[],
        layers=[
            LayerReport(
                name="d1",
                class_name="Dense",
                inbound=["pixels"],
                output_shape=[None, 16],
                params=12560,
                summary="16 units, relu",
                warnings=[Advice("bottleneck", "narrow", "d1", wider)],
            ),
            LayerReport(
                name="c1",
                class_name="Conv2D",
                inbound=["d1"],
                error="Conv2D 'c1' needs images",
                fixes=[reshape],
            ),
        ],
    )


def test_build_view_without_result_is_tentative():
    view = build_view(_project(), None, "d1")
    assert view["inputs"] == [{"name": "pixels", "shape": "(None, 784)"}]
    assert [layer["status"] for layer in view["layers"]] == ["tentative", "tentative"]
    assert view["layers"][0]["summary"] == "16 units, relu"
    assert view["layers"][0]["output_shape"] is None
    assert view["selected"] == "d1"
    assert {"class_name": "Dense", "label": "Dense", "category": "core"}.items() <= next(
        p for p in view["palette"] if p["class_name"] == "Dense"
    ).items()
    assert view["categories"][0]["id"] == "core"


def test_build_view_with_result_shows_shapes_errors_and_fixes():
    view = build_view(_project(), _result(), "gone")
    d1, c1 = view["layers"]
    assert (d1["status"], d1["output_shape"], d1["params"]) == ("ok", "(None, 16)", "12,560")
    assert d1["warnings"] == ["narrow"]
    assert d1["fixes"] == [{"label": "Set units to 64"}]
    assert (c1["status"], c1["error"], c1["output_shape"]) == (
        "error",
        "Conv2D 'c1' needs images",
        None,
    )
    assert c1["fixes"] == [{"label": "Insert Reshape before c1"}]
    assert view["selected"] is None


def test_layer_fixes_lists_error_fixes_then_warning_fixes():
    result = _result()
    assert [f.label for f in layer_fixes(result, "c1")] == ["Insert Reshape before c1"]
    assert [f.label for f in layer_fixes(result, "d1")] == ["Set units to 64"]
    assert layer_fixes(result, "nope") == []
    assert layer_fixes(None, "d1") == []
