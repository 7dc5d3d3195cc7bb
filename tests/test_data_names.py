"""Input and output names follow the data until the user renames them (#19 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import data_names, templates
from builder.edit import rename_input, rename_layer

ROOT = Path(__file__).resolve().parent.parent
CSV = {"dataset": "csv", "options": {"path": "houses.csv", "target": "Sale Price ($)"}}


def _default(**data) -> dict:
    project = templates.load(templates.DEFAULT)  # input "pixels", output "digit", Digits
    return {**project, "data": data} if data else project


def _names(project: dict) -> tuple[str, list[str]]:
    return project["model"]["inputs"][0]["name"], project["model"]["outputs"]


@pytest.mark.parametrize(
    "data,names",
    [
        ({"dataset": "wine", "options": {}}, ("measurements", ["cultivar"])),
        ({"dataset": "imdb", "options": {}}, ("reviews", ["sentiment"])),
        ({"dataset": "cifar10", "options": {}}, ("image", ["object"])),
        (CSV, ("features", ["sale_price"])),
        ({"dataset": "mnist", "options": {}}, ("pixels", ["digit"])),  # the same names
    ],
)
def test_given_names_follow_the_data(data, names):
    before = _default()
    after, said = data_names.follow(before, {**before, "data": data})
    assert _names(after) == names
    assert len(said) == sum(a != b for a, b in zip(names, ("pixels", ["digit"])))
    # The layer reading the input and the loss keyed by output follow too.
    assert after["model"]["layers"][0].get("inbound") in (None, [names[0]])


def test_names_the_user_chose_are_kept():
    before = rename_layer(rename_input(_default(), "pixels", "scan"), "digit", "label_head")
    after, said = data_names.follow(before, {**before, "data": CSV})
    assert _names(after) == ("scan", ["label_head"]) and said == []


def test_a_csv_target_change_renames_the_output_named_after_the_old_one():
    before = rename_layer(_default(**CSV), "digit", "sale_price")
    other = {"dataset": "csv", "options": {"path": "houses.csv", "target": "rooms"}}
    after, _ = data_names.follow(before, {**before, "data": other})
    assert _names(after) == ("features", ["rooms"])


def test_a_new_model_keeps_its_own_names():
    before = _default()
    other = templates.load("cifar10_augmented")
    after, said = data_names.follow(before, other)
    assert after == other and said == []


def test_no_data_chosen_renames_nothing():
    before = _default()
    after, said = data_names.follow(before, {**before, "data": {**before["data"], "chosen": False}})
    assert _names(after) == ("pixels", ["digit"]) and said == []


@pytest.mark.parametrize(
    "column,name",
    [
        ("Sale Price ($)", "sale_price"),
        ("2nd", "target_2nd"),
        ("$$", None),
        ("Survived", "survived"),
    ],
)
def test_column_names(column, name):
    assert data_names.column_name(column) == name


def test_data_page_switch_renames_input_and_output(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    pid = "00000000000000aa"
    (tmp_path / "autosave").mkdir()
    (tmp_path / "autosave" / f"{pid}.json").write_text(json.dumps(_default()), encoding="utf-8")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["_pid"] = pid
    at.run()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("wine").run()
    assert not at.exception
    project = at.session_state["project"]
    assert _names(project) == ("measurements", ["cultivar"])
    assert "The output 'digit' is now 'cultivar'" in " ".join(s.value for s in at.success)
    from builder.project import validate

    validate(project)  # still a whole project: every reference renamed
