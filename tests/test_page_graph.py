"""The Graph page through AppTest: gestures, faults, form, mode switch, compile per output.

The page runs on its own (``pages/graph.py`` as the script: ``ui.state`` starts from the
offline default template, as in the app). The graph editor is a custom component (an
UnknownElement here): its view is read from the element's JSON payload, and gestures are
sent by putting an action in its session-state key, as the browser would through its
trigger.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import graph, templates
from builder.project import inbound_of
from tests.helpers import project as make

ROOT = Path(__file__).resolve().parent.parent
EDITOR_KEY = "graph_editor"
TIMEOUT = 120  # the first check imports TensorFlow


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _open(project: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "graph.py"), default_timeout=TIMEOUT)
    if project is not None:
        at.session_state["project"] = project
        at.session_state["_undo"] = []
        at.session_state["_redo"] = []
    at.run()
    assert not at.exception, at.exception
    return at


def _view(at: AppTest) -> dict:
    (element,) = [
        e
        for e in at.main
        if type(e).__name__ == "UnknownElement"
        and getattr(e.proto, "component_name", "") == "netbuilder_graph_editor"
    ]
    return json.loads(element.proto.json)


_seq = iter(range(1, 10**6))


def _act(at: AppTest, **action) -> AppTest:
    at.session_state[EDITOR_KEY] = {"action": {**action, "seq": next(_seq)}}
    at.run()
    assert not at.exception, at.exception
    return at


def _project(at: AppTest) -> dict:
    return at.session_state["project"]


def _node(view: dict, name: str) -> dict:
    return next(n for n in view["nodes"] if n["name"] == name)


def _errors(at: AppTest) -> list[str]:
    """The error boxes as rendered: user names are markdown-escaped in the source."""
    return [e.value.replace("\\", "") for e in at.error]


def test_page_draws_the_default_project_as_nodes_and_edges():
    at = _open()
    view = _view(at)
    assert [n["name"] for n in view["nodes"]] == ["pixels", "hidden", "digit"]
    assert _node(view, "hidden")["output_shape"] == "(None, 64)"
    assert _node(view, "hidden")["params"] == "4,160"
    assert _node(view, "digit")["is_output"] is True
    assert [(e["source"], e["target"], e["shape"]) for e in view["edges"]] == [
        ("pixels", "hidden", "(None, 64)"),
        ("hidden", "digit", "(None, 64)"),
    ]
    ys = [_node(view, n)["y"] for n in ("pixels", "hidden", "digit")]
    assert ys == sorted(ys)
    assert any("plain stack" in c.value for c in at.caption)
    assert any("No problems" in s.value for s in at.success)


def test_draw_two_branches_see_the_merge_error_and_fix_it():
    at = _open()
    _act(at, type="add", class_name="Dense", x=400, y=100, source="pixels")
    side = _view(at)["selected"]
    assert inbound_of(_project(at)["model"])[side] == ["pixels"]
    assert any(f"no output depends on '{side}'" in e for e in _errors(at))
    _act(at, type="select", name=side)
    at.number_input(key=f"graph_param:{side}:units").set_value(32).run()
    _act(at, type="add", class_name="Add", x=200, y=400, source="hidden")
    merge = _view(at)["selected"]
    node = _node(_view(at), merge)
    assert node["status"] == "error" and "merges at least 2 inputs" in node["error"]
    _act(at, type="connect", source=side, target=merge)
    _act(at, type="connect", source=merge, target="digit")
    view = _view(at)
    node = _node(view, merge)
    assert "needs inputs of the same shape" in node["error"]
    assert node["fixes"][0]["label"] == f"Set {side}.units to 64"
    assert {(e["source"], e["target"]) for e in view["edges"]} >= {
        (side, merge),
        ("hidden", merge),
        (merge, "digit"),
    }
    _act(at, type="apply_fix", name=merge, fix=0)
    view = _view(at)
    assert all(n["error"] is None for n in view["nodes"])
    assert _node(view, merge)["output_shape"] == "(None, 64)"
    assert any("No problems" in s.value for s in at.success)
    assert any("Graph mode (functional API)" in c.value for c in at.caption)


def test_a_validation_that_cannot_split_the_data_is_a_problem_with_its_fix():
    from builder import templates

    project = templates.load("offline_default")  # Digits: 1,437 training samples
    project["fit"]["validation"] = {"method": "split", "fraction": 0.9999}
    at = _open(project)
    assert any("leaves no training sample" in e for e in _errors(at))
    (fix,) = [b for b in at.button if b.key.startswith("graph_fix:error:")]
    assert fix.label.replace("\\", "") == "Fix: Use validation_split 0.2"
    fix.click().run()
    assert not at.exception, at.exception
    assert _project(at)["fit"]["validation"] == {"method": "split", "fraction": 0.2}
    assert not any("validation_split" in e for e in _errors(at))
    assert any("No problems" in s.value for s in at.success)


def test_connect_refusal_is_shown_and_changes_nothing():
    at = _open()
    before = _project(at)
    _act(at, type="connect", source="digit", target="hidden")
    assert _project(at) == before
    assert any("would make a cycle" in e for e in _errors(at))


def test_move_stores_the_position_and_delete_removes_the_node():
    at = _open()
    _act(at, type="move", name="hidden", x=333, y=222)
    layer = _project(at)["model"]["layers"][0]
    assert layer["position"] == [333.0, 222.0]
    assert (_node(_view(at), "hidden")["x"], _node(_view(at), "hidden")["y"]) == (333.0, 222.0)
    _act(at, type="delete", name="hidden")
    assert [lay["name"] for lay in _project(at)["model"]["layers"]] == ["digit"]


def test_disconnect_an_edge_of_a_merge():
    at = _open(templates.load("two_branch"))
    _act(at, type="disconnect", source="wide", target="joined")
    assert inbound_of(_project(at)["model"])["joined"] == ["deep_2"]
    errors = " ".join(_errors(at))
    assert "Concatenate 'joined' merges at least 2 inputs but receives 1" in errors
    assert "no output depends on 'wide'" in errors


def test_stack_to_graph_mode_and_back_loses_nothing():
    at = _open()
    original = _project(at)
    at.button(key="graph_mode").click().run()
    assert all(lay.get("inbound") for lay in _project(at)["model"]["layers"])
    assert any("still a chain" in c.value for c in at.caption)
    at.button(key="graph_stack").click().run()
    assert _project(at) == original
    assert any("plain stack" in c.value for c in at.caption)


def test_back_to_a_stack_is_refused_with_the_reason():
    at = _open(templates.load("two_branch"))
    at.button(key="graph_stack").click().run()
    assert any("cannot be a stack" in e and "'joined' reads 2 layers" in e for e in _errors(at))


def test_cycle_in_an_opened_file_is_shown_on_its_nodes():
    p = make(
        [
            ("a", "Dense", {"units": 4}, ["x", "b"]),
            ("b", "Dense", {"units": 4}, ["a"]),
            ("out", "Dense", {"units": 1}, ["b"]),
        ],
        shape=(4,),
    )
    at = _open(p)
    view = _view(at)
    assert "form a cycle" in " ".join(_errors(at))
    assert {n["name"] for n in view["nodes"] if n["status"] == "error"} >= {"a", "b"}


def test_form_edits_the_selected_layer_and_marks_outputs():
    at = _open(graph.to_graph(templates.load("offline_default")))
    _act(at, type="select", name="hidden")
    at.number_input(key="graph_param:hidden:units").set_value(0).run()
    assert _project(at)["model"]["layers"][0]["config"]["units"] == 64
    assert any("units" in e for e in _errors(at))
    at.number_input(key="graph_param:hidden:units").set_value(32).run()
    assert _project(at)["model"]["layers"][0]["config"]["units"] == 32
    activation = at.selectbox(key="graph_param:hidden:activation")
    assert activation.format_func(activation.value) == "relu"
    activation.select_index(activation.options.index("tanh")).run()
    assert _project(at)["model"]["layers"][0]["config"]["activation"] == "tanh"
    at.checkbox(key="graph_output:hidden").check().run()
    assert _project(at)["model"]["outputs"] == ["digit", "hidden"]
    assert _node(_view(at), "hidden")["is_output"] is True
    at.text_input(key="graph_name:hidden").set_value("trunk").run()
    assert _project(at)["model"]["outputs"] == ["digit", "trunk"]
    assert _view(at)["selected"] == "trunk"


def test_connect_from_the_form_and_add_an_input():
    at = _open(templates.load("two_branch"))
    at.text_input(key="graph_new_input").set_value("3")
    at.button(key="graph_add_input").click().run()
    assert _project(at)["model"]["inputs"][1] == {
        "name": "input_1",
        "shape": [3],
        "dtype": "float32",
    }
    assert "input 'input_1' feeds no output" in " ".join(_errors(at))
    _act(at, type="select", name="joined")
    at.selectbox(key="graph_connect_from:joined").set_value("input_1").run()
    assert inbound_of(_project(at)["model"])["joined"] == ["deep_2", "wide", "input_1"]
    assert not _errors(at)


def test_multi_output_compile_settings():
    at = _open(templates.load("multi_head"))
    assert at.selectbox(key="graph_loss:diagnosis").value == "binary_crossentropy"
    assert at.selectbox(key="graph_loss:score").value == "mse"
    assert at.number_input(key="graph_weight:score").value == 0.5
    at.selectbox(key="graph_loss:score").set_value("mae").run()
    at.number_input(key="graph_weight:score").set_value(0.25).run()
    at.multiselect(key="graph_metrics:diagnosis").set_value(["accuracy", "auc"]).run()
    comp = _project(at)["compile"]
    assert comp["loss"] == {"diagnosis": "binary_crossentropy", "score": "mae"}
    assert comp["loss_weights"] == {"diagnosis": 1.0, "score": 0.25}
    assert comp["metrics"] == {"diagnosis": ["accuracy", "auc"], "score": ["mae"]}


def test_second_output_turns_compile_settings_per_output():
    at = _open(graph.to_graph(templates.load("offline_default")))
    _act(at, type="select", name="hidden")
    at.checkbox(key="graph_output:hidden").check().run()
    at.selectbox(key="graph_loss:hidden").set_value("mse").run()
    comp = _project(at)["compile"]
    assert comp["loss"] == {"digit": "categorical_crossentropy", "hidden": "mse"}
    at.checkbox(key="graph_output:hidden").uncheck().run()
    assert _project(at)["compile"]["loss"] == "categorical_crossentropy"


def test_unknown_node_in_an_action_is_refused_with_a_message():
    at = _open()
    _act(at, type="delete", name="nope")
    assert [lay["name"] for lay in _project(at)["model"]["layers"]] == ["hidden", "digit"]
    assert any("no layer named 'nope'" in e for e in _errors(at))


def test_templates_popover_loads_a_graph_template():
    at = _open()
    at.button(key="graph_tpl:inception_block").click().run()
    view = _view(at)
    assert _node(view, "block")["output_shape"] == "(None, 8, 8, 64)"
    assert len([e for e in view["edges"] if e["target"] == "block"]) == 4


def test_graph_page_has_the_same_compile_editor_with_the_optimizer():
    at = _open(templates.load("two_branch"))
    at.selectbox(key="graph_optimizer").set_value("Adam").run()
    at.number_input(key="graph_opt:beta_2").set_value(0.99).run()
    at.checkbox(key="graph_opt:amsgrad").check().run()
    opt = _project(at)["compile"]["optimizer"]
    assert opt == {
        "class_name": "Adam",
        "config": {
            "learning_rate": 0.001,
            "beta_1": 0.9,
            "beta_2": 0.99,
            "epsilon": 1e-07,
            "amsgrad": True,
        },
    }
    at.selectbox(key="graph_loss").set_value("mae").run()
    at.multiselect(key="graph_metrics").set_value(["mse"]).run()
    assert _project(at)["compile"]["loss"] == "mae"
    assert _project(at)["compile"]["metrics"] == ["mse"]


# --------------------------------------------------------------------------- big graphs


def _names(view: dict) -> list[str]:
    return [n["name"] for n in view["nodes"]]


def test_a_big_graph_is_drawn_folded_and_unfolds_without_changing_the_project():
    from tests.test_layout import dense_like

    at = _open(dense_like())
    before = json.dumps(_project(at), sort_keys=True)
    view = _view(at)
    assert _names(view) == [
        "x",
        "conv1_conv",
        "group:conv2",
        "pool2_conv",
        "group:conv3",
        "pool3_conv",
    ]
    stage = _node(view, "group:conv3")
    assert stage["kind"] == "group" and stage["summary"] == "12 blocks · 48 layers"
    assert [e["folded"] for e in view["edges"] if e["source"] == "group:conv3"] == [True]
    assert any("Click a group to unfold it" in c.value for c in at.caption)

    _act(at, type="expand", name="group:conv3")
    view = _view(at)
    assert "group:conv3_block7" in _names(view) and "group:conv3" not in _names(view)
    assert [f["id"] for f in view["frames"]] == ["group:conv3"]
    _act(at, type="expand", name="group:conv3_block7")
    assert "conv3_block7_1_conv" in _names(_view(at))
    # The folded stage showed the shape leaving it, and the parameters of all its layers.
    _act(at, type="expand", name="group:conv3_block12")
    unfolded = _view(at)
    assert _node(unfolded, "conv3_block12_concat")["output_shape"] == stage["output_shape"]
    members = [n for n in unfolded["nodes"] if n["name"].startswith("conv3_block12_")]
    block = _node(view, "group:conv3_block12")
    assert sum(int(n["params"].replace(",", "")) for n in members) == int(
        block["params"].replace(",", "")
    )
    _act(at, type="collapse", name="group:conv3")
    assert "group:conv3" in _names(_view(at)) and _view(at)["frames"] == []

    at.button(key="graph_unfold_all").click().run()
    assert len(_view(at)["nodes"]) == len(graph.node_names(_project(at)))
    at.button(key="graph_fold_all").click().run()
    assert len(_view(at)["nodes"]) == 6
    assert json.dumps(_project(at), sort_keys=True) == before
    assert at.session_state["_undo"] == []


def test_search_highlights_unfolds_selects_and_focuses_the_first_match():
    from tests.test_layout import dense_like

    at = _open(dense_like())
    at.text_input(key="graph_search").set_value("CONV3_block12").run()
    assert not at.exception, at.exception
    view = _view(at)
    first = "conv3_block12_0_bn"
    assert at.session_state["graph_selected"] == first and view["selected"] == first
    assert view["focus"]["name"] == first
    assert {n["name"] for n in view["nodes"] if n["match_count"]} == {
        "conv3_block12_0_bn", "conv3_block12_0_relu", "conv3_block12_1_conv",
        "conv3_block12_concat",
    }  # fmt: skip
    assert _node(view, first)["prefix"] == "conv3_block12"
    assert any("4 nodes match `CONV3_block12` (showing 1 of 4)" in c.value for c in at.caption)
    # Its settings are open, as after a click on it.
    assert at.number_input(key=f"graph_param:{first}:momentum").value == 0.99

    seq = view["focus"]["seq"]
    at.button(key="graph_next_hit").click().run()
    view = _view(at)
    assert view["selected"] == "conv3_block12_0_relu" and view["focus"]["seq"] == seq + 1

    # A match inside a folded group is counted on the group.
    at.text_input(key="graph_search").set_value("block2_").run()
    view = _view(at)
    assert view["selected"] == "conv2_block2_0_bn"
    assert _node(view, "group:conv3_block2")["match_count"] == 4

    at.text_input(key="graph_search").set_value("no_such_layer").run()
    assert any("No node name contains `no_such_layer`" in c.value for c in at.caption)
    assert at.button(key="graph_next_hit").disabled
