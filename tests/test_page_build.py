"""The Build page through AppTest: stack actions, settings form, compile, undo, templates.

The stack editor is a custom component (an UnknownElement here): its view is read from the
element's JSON payload, and gestures are sent by putting an action in its session-state
key, as the browser would through its trigger.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
STACK_KEY = "build_stack"
TIMEOUT = 120  # the first check imports TensorFlow


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _open(project: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    if project is not None:
        at.session_state["project"] = project
    at.switch_page("pages/build.py").run()
    assert not at.exception, at.exception
    return at


def _view(at: AppTest) -> dict:
    (element,) = [
        e
        for e in at.main
        if type(e).__name__ == "UnknownElement"
        and getattr(e.proto, "component_name", "") == "netbuilder_stack_editor"
    ]
    return json.loads(element.proto.json)


_seq = iter(range(1, 10**6))


def _act(at: AppTest, **action) -> AppTest:
    at.session_state[STACK_KEY] = {"action": {**action, "seq": next(_seq)}}
    at.run()
    assert not at.exception, at.exception
    return at


def _names(at: AppTest) -> list[str]:
    return [lay["name"] for lay in at.session_state["project"]["model"]["layers"]]


def _dense_project(*extra: dict) -> dict:
    from builder.project import new_project

    # MNIST's flat 784 pixels and 10 classes: the model fits its data.
    project = new_project(
        "Dense test", [{"name": "pixels", "shape": [784], "dtype": "float32"}], "mnist"
    )
    project["compile"]["loss"] = "categorical_crossentropy"
    project["model"]["layers"] = [
        {"name": "d1", "class_name": "Dense", "config": {"units": 16, "activation": "relu"}},
        *extra,
        {"name": "out", "class_name": "Dense", "config": {"units": 10, "activation": "softmax"}},
    ]
    project["model"]["outputs"] = ["out"]
    return project


def test_page_draws_stack_with_shapes_and_summary():
    at = _open(_dense_project())
    view = _view(at)
    assert [lay["name"] for lay in view["layers"]] == ["d1", "out"]
    assert view["layers"][0]["output_shape"] == "(None, 16)"
    assert view["layers"][0]["params"] == "12,560"
    assert view["inputs"] == [{"name": "pixels", "shape": "(None, 784)"}]
    assert {m.label: m.value for m in at.metric}["Parameters"] == "12,730"
    assert not at.get("plotly_chart")  # no Plotly on the first paint: the diagram is asked for
    at.toggle(key="build_show_diagram").set_value(True).run()
    assert any(c.proto.spec for c in at.get("plotly_chart"))
    exports = {b.proto.label for b in at.get("download_button")}
    assert {"Python script", "Notebook", "Keras JSON"} <= exports


def test_add_move_duplicate_delete_select():
    at = _open(_dense_project())
    _act(at, type="add", class_name="Dropout", index=1)
    drop = _view(at)["selected"]
    assert drop.startswith("dropout")
    assert _names(at) == ["d1", drop, "out"]
    _act(at, type="move", name=drop, index=0)
    assert _names(at) == [drop, "d1", "out"]
    _act(at, type="duplicate", name="d1")
    copy = _view(at)["selected"]
    assert _names(at) == [drop, "d1", copy, "out"]
    _act(at, type="delete", name=drop)
    assert _names(at) == ["d1", copy, "out"]
    _act(at, type="select", name="out")
    assert _view(at)["selected"] == "out"
    assert at.text_input(key="build_name:out").value == "out"


def test_error_badge_and_fix_from_the_card():
    conv = {"name": "c1", "class_name": "Conv2D", "config": {"filters": 8, "kernel_size": [3, 3]}}
    at = _open(_dense_project(conv))
    card = _view(at)["layers"][1]
    assert card["status"] == "error"
    assert "needs images" in card["error"]
    assert card["fixes"][0]["label"].startswith("Insert Reshape")
    _act(at, type="apply_fix", name="c1", fix=0)
    view = _view(at)
    assert [lay["class_name"] for lay in view["layers"]] == ["Dense", "Reshape", "Conv2D", "Dense"]
    assert view["layers"][1]["output_shape"] == "(None, 4, 4, 1)"
    # The model builds now, but its output is a grid per image: that is the next error
    # (its shape shown beside it), and its fix makes the model fit MNIST's labels.
    out = view["layers"][3]
    assert out["output_shape"] == "(None, 2, 2, 10)" and "several values" in out["error"]
    assert out["fixes"][0]["label"] == "Insert GlobalAveragePooling2D before out"
    _act(at, type="apply_fix", name="out", fix=0)
    assert all(lay["error"] is None for lay in _view(at)["layers"])


def test_unknown_layer_in_action_is_refused_with_a_message():
    at = _open(_dense_project())
    _act(at, type="delete", name="nope")
    assert _names(at) == ["d1", "out"]
    assert any("no layer named 'nope'" in e.value for e in at.error)


def test_settings_form_applies_good_values_and_refuses_bad_ones():
    at = _open(_dense_project())
    _act(at, type="select", name="d1")
    units = at.number_input(key="build_param:d1:units")
    assert units.value == 16
    units.set_value(32).run()
    assert at.session_state["project"]["model"]["layers"][0]["config"]["units"] == 32
    assert _view(at)["layers"][0]["output_shape"] == "(None, 32)"
    at.number_input(key="build_param:d1:units").set_value(0).run()
    assert at.session_state["project"]["model"]["layers"][0]["config"]["units"] == 32
    assert any("units" in e.value for e in at.error)
    activation = at.selectbox(key="build_param:d1:activation")
    assert activation.format_func(activation.value) == "relu"
    activation.select_index(activation.options.index("tanh")).run()
    assert at.session_state["project"]["model"]["layers"][0]["config"]["activation"] == "tanh"
    penalty = at.text_input(key="build_param:d1:kernel_regularizer")
    assert penalty.value == ""
    penalty.set_value("l2").run()
    assert at.session_state["project"]["model"]["layers"][0]["config"]["kernel_regularizer"] == "l2"
    at.text_input(key="build_param:d1:kernel_regularizer").set_value(
        '{"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}}'
    ).run()
    assert at.session_state["project"]["model"]["layers"][0]["config"]["kernel_regularizer"] == {
        "class_name": "L1L2",
        "config": {"l1": 0.01, "l2": 0.02},
    }


def test_advanced_settings_are_in_an_expander_and_kept():
    at = _open(_dense_project())
    _act(at, type="select", name="d1")
    (advanced,) = [e for e in at.expander if e.label.startswith("Advanced")]
    keys = (
        {w.key for w in advanced.text_input}
        | {w.key for w in advanced.checkbox}
        | {w.key for w in advanced.selectbox}
        | {w.key for w in advanced.number_input}
    )
    assert "build_param:d1:bias_constraint" in keys and "build_param:d1:units" not in keys
    at.text_input(key="build_param:d1:bias_initializer").set_value(
        '{"class_name": "Constant", "config": {"value": 0.1}}'
    ).run()
    config = at.session_state["project"]["model"]["layers"][0]["config"]
    assert config["bias_initializer"] == {"class_name": "Constant", "config": {"value": 0.1}}
    (advanced,) = [e for e in at.expander if e.label.startswith("Advanced")]
    assert "1 set" in advanced.label


def test_wrapped_layer_is_edited_in_place():
    from builder.project import new_project

    project = new_project("TD", [{"name": "seq", "shape": [5, 4], "dtype": "float32"}])
    project["model"]["layers"] = [
        {
            "name": "td",
            "class_name": "TimeDistributed",
            "config": {"layer": {"class_name": "Dense", "config": {"units": 8}}},
        }
    ]
    project["model"]["outputs"] = ["td"]
    at = _open(project)
    _act(at, type="select", name="td")
    assert at.selectbox(key="build_wrap:td:layer").value == "Dense"
    at.number_input(key="build_param:td:layer.units").set_value(3).run()
    layer = at.session_state["project"]["model"]["layers"][0]["config"]["layer"]
    assert layer == {"class_name": "Dense", "config": {"units": 3}}
    at.selectbox(key="build_wrap:td:layer").set_value("Conv1D").run()
    layer = at.session_state["project"]["model"]["layers"][0]["config"]["layer"]
    assert layer["class_name"] == "Conv1D" and layer["config"]["filters"] == 32


def test_text_parameters_parse_lists():
    conv = {"name": "c1", "class_name": "Conv2D", "config": {"filters": 8, "kernel_size": [3, 3]}}
    reshape = {"name": "r", "class_name": "Reshape", "config": {"target_shape": [28, 28, 1]}}
    at = _open(_dense_project(reshape, conv))
    _act(at, type="select", name="c1")
    field = at.text_input(key="build_param:c1:kernel_size")
    assert field.value == "3, 3"
    field.set_value("5, 5").run()
    assert at.session_state["project"]["model"]["layers"][2]["config"]["kernel_size"] == [5, 5]
    at.text_input(key="build_param:c1:kernel_size").set_value("5, x").run()
    assert at.session_state["project"]["model"]["layers"][2]["config"]["kernel_size"] == [5, 5]
    assert any("numbers separated by commas" in e.value for e in at.error)


def test_a_validation_that_cannot_split_the_data_has_its_fix_beside_the_error():
    project = _dense_project()
    project["fit"]["validation"] = {"method": "holdout", "count": 100_000}  # MNIST: 60,000
    at = _open(project)
    assert any("100,000 samples are held out" in e.value for e in at.main.error)
    fixes = [b for b in at.button if b.key.startswith("build_fix:error:")]
    assert [b.label for b in fixes] == [
        "Fix: Hold out 20 % instead",
        "Fix: Hold out 12,000 samples",
    ]
    fixes[1].click().run()
    assert not at.exception, at.exception
    assert at.session_state["project"]["fit"]["validation"] == {
        "method": "holdout",
        "count": 12_000,
    }
    assert not any("held out" in e.value for e in at.main.error)
    assert not [b for b in at.button if b.key.startswith("build_fix:error:")]


def test_undo_and_redo():
    at = _open(_dense_project())
    _act(at, type="delete", name="d1")
    assert _names(at) == ["out"]
    at.button(key="build_undo").click().run()
    assert _names(at) == ["d1", "out"]
    at.button(key="build_redo").click().run()
    assert _names(at) == ["out"]


def test_compile_settings_and_recommended_loss():
    project = _dense_project()
    project["compile"]["loss"] = "binary_crossentropy"
    at = _open(project)
    loss = at.selectbox(key="build_loss")
    assert loss.value == "binary_crossentropy"
    # The project's data (MNIST) has 10 classes with integer labels.
    assert "sparse_categorical_crossentropy (recommended)" in loss.options
    assert any("Recommended" in c.value for c in at.caption)
    loss.set_value("sparse_categorical_crossentropy (recommended)").run()
    assert at.session_state["project"]["compile"]["loss"] == "sparse_categorical_crossentropy"
    assert not any("Recommended" in c.value for c in at.caption)
    at.selectbox(key="build_optimizer").set_value("Adam").run()
    optimizer = at.session_state["project"]["compile"]["optimizer"]
    assert optimizer["class_name"] == "Adam"
    assert optimizer["config"]["learning_rate"] == 0.001
    at.number_input(key="build_opt:learning_rate").set_value(0.01).run()
    assert at.session_state["project"]["compile"]["optimizer"]["config"]["learning_rate"] == 0.01
    at.multiselect(key="build_metrics").set_value(["accuracy", "auc"]).run()
    assert at.session_state["project"]["compile"]["metrics"] == ["accuracy", "auc"]


def test_template_gallery_and_empty_model():
    at = _open(_dense_project())
    at.button(key="build_tpl:mnist_convnet").click().run()
    assert "Conv2D" in [lay["class_name"] for lay in at.session_state["project"]["model"]["layers"]]
    at.button(key="build_tpl:empty").click().run()
    assert at.session_state["project"]["model"]["layers"] == []
    assert _view(at)["layers"] == []


def test_graph_model_is_shown_and_reordering_refused():
    project = _dense_project()
    project["model"]["layers"][1]["inbound"] = ["d1"]
    at = _open(project)
    assert any("graph" in i.value for i in at.info)
    _act(at, type="move", name="out", index=0)
    assert _names(at) == ["d1", "out"]
    assert any("connections" in e.value for e in at.error)


def test_diagram_places_nodes_by_their_connections_not_file_order():
    from builder.project import new_project

    project = new_project("Merge first", [{"name": "pixels", "shape": [784], "dtype": "float32"}])
    project["model"]["layers"] = [
        {"name": "both", "class_name": "Concatenate", "config": {}, "inbound": ["wide", "deep2"]},
        {"name": "wide", "class_name": "Dense", "config": {"units": 8}, "inbound": ["pixels"]},
        {"name": "deep2", "class_name": "Dense", "config": {"units": 8}, "inbound": ["deep1"]},
        {"name": "deep1", "class_name": "Dense", "config": {"units": 8}, "inbound": ["pixels"]},
        {"name": "out", "class_name": "Dense", "config": {"units": 1}, "inbound": ["both"]},
    ]
    project["model"]["outputs"] = ["out"]
    at = _open(project)
    at.toggle(key="build_show_diagram").set_value(True).run()
    (chart,) = [e for e in at.get("plotly_chart")]
    traces = json.loads(chart.proto.spec)["data"]
    (boxes,) = [t for t in traces if t.get("mode") == "text"]
    row = {text.split(":")[0]: -y for text, y in zip(boxes["hovertext"], boxes["y"])}
    assert row == {"pixels": 0, "wide": 1, "deep1": 1, "deep2": 2, "both": 3, "out": 4}


def test_compile_editor_optimizer_settings_from_the_schema():
    at = _open(_dense_project())
    at.number_input(key="build_opt:learning_rate").set_value(0.05).run()
    at.selectbox(key="build_optimizer").set_value("SGD").run()
    assert at.session_state["project"]["compile"]["optimizer"] == {
        "class_name": "SGD",
        "config": {"learning_rate": 0.05, "momentum": 0.0, "nesterov": False},
    }
    at.checkbox(key="build_opt:nesterov").check().run()
    assert at.session_state["project"]["compile"]["optimizer"]["config"]["nesterov"] is True
    at.number_input(key="build_opt:momentum").set_value(1.5).run()
    assert at.session_state["project"]["compile"]["optimizer"]["config"]["momentum"] == 0.0
    assert any("must be from 0 to 1, got 1.5" in e.value for e in at.error)
    assert at.number_input(key="build_opt:momentum").value == 1.5  # kept to correct
    at.number_input(key="build_opt:momentum").set_value(0.9).run()
    assert at.session_state["project"]["compile"]["optimizer"]["config"]["momentum"] == 0.9
    assert not any("must be from 0 to 1" in e.value for e in at.error)


def test_compile_editor_sets_losses_weights_and_metrics_per_output():
    from builder import templates

    at = _open(templates.load("multi_head"))
    assert at.selectbox(key="build_loss:score").value == "mse"
    assert at.number_input(key="build_weight:score").value == 0.5
    at.selectbox(key="build_loss:score").set_value("huber").run()
    at.number_input(key="build_weight:diagnosis").set_value(2.0).run()
    at.multiselect(key="build_metrics:score").set_value(["mae", "mse"]).run()
    comp = at.session_state["project"]["compile"]
    assert comp["loss"] == {"diagnosis": "binary_crossentropy", "score": "huber"}
    assert comp["loss_weights"] == {"diagnosis": 2.0, "score": 0.5}
    assert comp["metrics"] == {"diagnosis": ["accuracy"], "score": ["mae", "mse"]}


def test_ctrl_z_and_ctrl_shift_z_from_the_editor_undo_and_redo():
    at = _open(_dense_project())
    _act(at, type="add", class_name="Dropout", index=1)
    assert len(_names(at)) == 3
    _act(at, type="undo")  # what the component sends for Ctrl+Z
    assert _names(at) == ["d1", "out"]
    _act(at, type="redo")  # Ctrl+Shift+Z
    assert len(_names(at)) == 3


def test_painted_action_releases_the_keras_import_and_changes_nothing():
    """The stack editor says its cards are on screen ("painted"): the background import may
    go ahead; the project and its undo history stay as they were."""
    from ui import preload

    at = _open(_dense_project())
    before = json.dumps(at.session_state["project"], sort_keys=True)
    _act(at, type="painted")
    assert preload.was_painted()
    assert json.dumps(at.session_state["project"], sort_keys=True) == before
    assert at.button(key="build_undo").disabled
