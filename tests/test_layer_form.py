"""The layer form's wrapped layers through AppTest on the Build page: a wrapper's inner
layer, a wrapper inside it, and their advanced settings are all edited in place."""

from __future__ import annotations

import pytest

from tests.test_page_build import _act, _open


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _wrapped_project(layer: dict) -> dict:
    from builder.project import new_project

    project = new_project("TD", [{"name": "seq", "shape": [6, 5, 4], "dtype": "float32"}])
    project["model"]["layers"] = [{"name": "td", "class_name": "TimeDistributed", "config": layer}]
    project["model"]["outputs"] = ["td"]
    return project


def _config(at) -> dict:
    return at.session_state["project"]["model"]["layers"][0]["config"]


def test_advanced_settings_of_a_wrapped_layer_are_edited_in_place():
    at = _open(_wrapped_project({"layer": {"class_name": "Dense", "config": {"units": 8}}}))
    _act(at, type="select", name="td")
    toggle = at.toggle(key="build_wrapadv:td:layer")
    assert not toggle.value and "wrapped Dense" in toggle.label
    assert "build_param:td:layer.bias_initializer" not in [t.key for t in at.text_input]
    toggle.set_value(True).run()
    at.text_input(key="build_param:td:layer.bias_initializer").set_value("ones").run()
    assert not at.exception, at.exception
    inner = _config(at)["layer"]
    assert inner == {
        "class_name": "Dense",
        "config": {"units": 8, "bias_initializer": "ones"},
    }
    assert "1 set" in at.toggle(key="build_wrapadv:td:layer").label


def test_a_wrapper_inside_a_wrapper_is_edited_in_place():
    lstm = {"class_name": "LSTM", "config": {"units": 4}}
    bidi = {"class_name": "Bidirectional", "config": {"layer": lstm}}
    at = _open(_wrapped_project({"layer": bidi}))
    _act(at, type="select", name="td")
    assert at.selectbox(key="build_wrap:td:layer").value == "Bidirectional"
    assert at.selectbox(key="build_wrap:td:layer.layer").value == "LSTM"
    at.number_input(key="build_param:td:layer.layer.units").set_value(6).run()
    assert not at.exception, at.exception
    assert _config(at)["layer"]["config"]["layer"] == {"class_name": "LSTM", "config": {"units": 6}}
    at.selectbox(key="build_wrap:td:layer.layer").set_value("GRU").run()
    inner = _config(at)["layer"]["config"]["layer"]
    assert inner["class_name"] == "GRU" and inner["config"]["units"] == 32  # GRU's defaults
