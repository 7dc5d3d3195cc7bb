"""A model with no data chosen is checked for what it is (#19 item 3).

A Keras import, a project file without a ``data`` section: it builds or not; a bundled
dataset whose samples fit its input is offered, and no fix changes the model's input to
fit data the user never chose. Data chosen but unreadable is never called valid.
"""

from __future__ import annotations

import json
import re

import pytest

from builder import fixes
from builder.__main__ import main
from builder.fit_check import check
from builder.project import ProjectError, validate


def _doc(shape, layers, data=None) -> dict:
    doc = {
        "format": "netbuilder.project",
        "version": 2,
        "name": "no data",
        "model": {"inputs": [{"name": "x", "shape": shape}], "layers": layers},
    }
    doc["model"]["outputs"] = [layers[-1]["name"]]
    if data is not None:
        doc["data"] = data
    return doc


CONV = [
    {"name": "c", "class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3}},
    {"name": "f", "class_name": "Flatten", "config": {}},
    {"name": "d", "class_name": "Dense", "config": {"units": 10, "activation": "softmax"}},
]


def _set_input_fixes(result) -> list:
    found = [f for r in result.layers for f in r.fixes if f.action.get("op") == "set_input"]
    found += [f for fs in result.error_fixes.values() for f in fs if f.action["op"] == "set_input"]
    return found


@pytest.mark.parametrize(
    "shape,dataset",
    [
        ([28, 28, 1], "mnist"),
        ([32, 32, 3], "cifar10"),
        ([64], "digits"),
        ([224, 224, 3], None),
    ],
)
def test_without_data_the_model_is_checked_on_its_own(shape, dataset):
    layers = CONV if len(shape) == 3 else CONV[2:]
    project = validate(_doc(shape, layers))
    assert project["data"]["chosen"] is False
    result = check(project)
    assert (result.valid, result.builds, result.fits_data) == (True, True, None)
    assert _set_input_fixes(result) == []
    assert result.data_reason.startswith("no data chosen")
    offer = [w for w in result.warnings if w.code == "no-data"]
    assert len(offer) == 1
    if dataset is None:
        assert result.data_suggestion is None and offer[0].fix is None
        return
    assert result.data_suggestion["dataset"] == dataset
    # The offered dataset, once used, is chosen and fits the model as it is.
    chosen = fixes.apply_fix(project, offer[0].fix)
    assert "chosen" not in chosen["data"]
    assert chosen["model"]["inputs"] == project["model"]["inputs"]
    after = check(validate(chosen))
    assert (after.valid, after.builds, after.fits_data) == (True, True, True)


def test_a_model_that_does_not_build_is_not_valid_without_data():
    bad = [{"name": "c", "class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3}}]
    result = check(validate(_doc([64], bad)))
    assert (result.valid, result.builds, result.fits_data) == (False, False, None)


def test_chosen_data_that_does_not_fit_is_still_said():
    result = check(validate(_doc([28, 28, 1], CONV, {"dataset": "digits", "options": {}})))
    assert (result.valid, result.builds, result.fits_data) == (False, True, False)
    assert _set_input_fixes(result)  # the user chose Digits: following it is the fix


def test_chosen_must_be_false_when_given():
    with pytest.raises(ProjectError, match=re.escape("data.chosen")):
        validate(_doc([64], CONV[2:], {"dataset": "digits", "options": {}, "chosen": True}))


def test_training_refuses_a_model_with_no_data():
    from builder.data import DataError, prepare

    with pytest.raises(DataError, match="no data is chosen"):
        prepare(validate(_doc([64], CONV[2:])))


def test_imported_resnet50_gets_no_data_errors():
    import keras

    from builder.keras_import import from_keras_json

    model = keras.applications.ResNet50(weights=None)
    project, _ = from_keras_json(model.to_json())
    result = check(project)
    assert (result.valid, result.builds, result.fits_data) == (True, True, None)
    assert _set_input_fixes(result) == []
    assert not [r.name for r in result.layers if r.error]


def _cli(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_cli_check_json_reports_builds_and_fits_data(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_doc([28, 28, 1], CONV)), encoding="utf-8")
    code, out = _cli(capsys, "check", str(path), "--json")
    report = json.loads(out)
    assert code == 0
    assert (report["valid"], report["builds"], report["fits_data"]) == (True, True, None)
    assert "MNIST" in report["fits_data_reason"]
    assert report["data_suggestion"]["dataset"] == "mnist"
    code, out = _cli(capsys, "check", str(path))
    assert code == 0
    assert out.splitlines()[-2].startswith("data: no data chosen: MNIST")
    assert out.splitlines()[-1] == "valid"


def test_cli_check_never_calls_unreadable_data_valid(tmp_path, capsys):
    from builder import limits

    columns = limits.MAX_CSV_COLUMNS + 1
    (tmp_path / "wide.csv").write_text(
        ",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join(["1"] * columns) + "\n",
        encoding="utf-8",
    )
    data = {"dataset": "csv", "options": {"path": "wide.csv", "target": "c0"}}
    dense = [{"name": "d", "class_name": "Dense", "config": {"units": 1}}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_doc([4], dense, data)), encoding="utf-8")
    code, out = _cli(capsys, "check", str(path), "--json")
    report = json.loads(out)
    assert code == 1
    assert (report["valid"], report["builds"], report["fits_data"]) == (False, True, None)
    assert "columns" in report["fits_data_reason"]
    code, out = _cli(capsys, "check", str(path))
    assert code == 1
    assert "error: the data cannot be read: the file has" in out
    assert out.splitlines()[-1] == "NOT valid"


def test_a_script_is_not_exported_without_data():
    from builder import export

    project = validate(_doc([28, 28, 1], CONV))
    with pytest.raises(ProjectError, match="no data is chosen"):
        export.to_script(project)
    assert json.loads(export.to_keras_json(project))["class_name"] in ("Sequential", "Functional")
