"""AppTest: a model with no data chosen on Build, Data and Train (#19 item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from builder.project import validate

ROOT = Path(__file__).resolve().parent.parent

CONV = {
    "format": "netbuilder.project",
    "version": 2,
    "name": "imported convnet",
    "model": {
        "inputs": [{"name": "img", "shape": [28, 28, 1]}],
        "layers": [
            {"name": "c", "class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3}},
            {"name": "f", "class_name": "Flatten", "config": {}},
            {"name": "out", "class_name": "Dense", "config": {"units": 10}},
        ],
        "outputs": ["out"],
    },
}


def _app(tmp_path, monkeypatch, doc: dict, page: str) -> AppTest:
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    pid = "0123456789abcdef"
    (tmp_path / "autosave").mkdir()
    (tmp_path / "autosave" / f"{pid}.json").write_text(json.dumps(doc), encoding="utf-8")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["_pid"] = pid  # the autosave a ?p= address restores
    at.run()
    assert at.session_state["project"] == validate(doc)
    at.switch_page(page).run()
    assert not at.exception
    return at


def _texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_data_page_offers_the_dataset_that_fits(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch, CONV, "pages/data.py")
    assert "No data is chosen" in _texts(at.info)
    assert at.selectbox(key="data_dataset").value == ""
    at.button(key="data_use_suggested").click().run()
    project = at.session_state["project"]
    assert project["data"] == {"dataset": "mnist", "options": {"image_layout": "image"}}
    assert project["model"]["inputs"][0]["shape"] == [28, 28, 1]  # the model kept its input
    assert "No data is chosen" not in _texts(at.info)


def test_picking_a_dataset_chooses_it(tmp_path, monkeypatch):
    doc = {**CONV, "model": {**CONV["model"], "inputs": [{"name": "img", "shape": [5, 5, 2]}]}}
    at = _app(tmp_path, monkeypatch, doc, "pages/data.py")
    assert all(b.key != "data_use_suggested" for b in at.button)
    at.selectbox(key="data_dataset").set_value("wine").run()
    project = at.session_state["project"]
    assert project["data"]["dataset"] == "wine" and "chosen" not in project["data"]
    assert project["model"]["inputs"][0]["shape"] == [13]  # the user chose: input follows


def test_build_page_says_no_data_and_calls_the_model_valid(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch, CONV, "pages/build.py")
    for _ in range(20):  # the page reruns once Keras is imported
        if "Valid model" in _texts(at.sidebar.success):
            break
        at.run()
    assert "Valid model" in _texts(at.sidebar.success)
    assert not at.error
    fix = [b for b in at.button if "no-data" in str(b.key)]
    assert [b.label for b in fix] == ["Fix: Use MNIST handwritten digits"]
    fix[0].click().run()
    assert at.session_state["project"]["data"]["dataset"] == "mnist"


def test_train_page_has_no_start_without_data(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch, CONV, "pages/train.py")
    for _ in range(20):
        if any(b.key == "train_use_suggested" for b in at.button):
            break
        at.run()
    assert all(b.key != "train_start" for b in at.button)
    assert "none chosen" in _texts(at.markdown)
    at.button(key="train_use_suggested").click().run()
    assert at.session_state["project"]["data"]["dataset"] == "mnist"


def test_graph_page_offers_the_dataset_and_shows_no_data_error(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch, CONV, "pages/graph.py")
    for _ in range(20):
        if "No problems" in _texts(at.success):
            break
        at.run()
    assert "No problems" in _texts(at.success)
    assert not at.error
    at.button(key="graph_use_suggested").click().run()
    assert at.session_state["project"]["data"]["dataset"] == "mnist"
