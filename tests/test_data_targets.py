"""Several outputs, several targets: a CSV whose columns "kind" (3 classes) and "size" (a
number) each train their own head of a two-output functional model.

Covers the data layer (aligned splits, labels keyed by output), the project file (old
single-target files unchanged, bad mappings refused), fit_check's per-output messages,
training one epoch in-process with each head's loss in the history, and the Results page
showing each output's predictions. The exported script's arrays are compared with the
app's in test_export_data.py, its run in test_export.py; the Data page in test_page_data.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from builder import advice, fit_check
from builder.data import csv_data, describe, loader, registry
from builder.data.errors import DataError
from builder.project import validate
from tests.fixtures_data import mixed_csv_project, two_target_project, write_two_target_csv

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def two(tmp_path) -> dict:
    loader.clear_cache()
    return two_target_project(tmp_path)


# --------------------------------------------------------------------------- data


def test_each_target_is_encoded_and_the_splits_stay_aligned(tmp_path):
    path = write_two_target_csv(tmp_path / "t.csv")
    table = csv_data.load_table(
        str(path), test_fraction=0.25, targets=(("kind", "auto"), ("size", "auto"))
    )
    kind, size = table.targets
    assert (kind.task, kind.num_classes, kind.class_names) == (
        "multiclass",
        3,
        ("large", "medium", "small"),
    )
    assert size.task == "regression" and size.y_train.dtype == np.float32
    assert table.feature_names == ["a", "b", "colour=blue", "colour=green", "colour=red"]
    frame = csv_data.read_rows(str(path), ",")
    # Every training row's two targets are that row's: rebuild the row from the raw split.
    for i in range(len(table.raw_train)):
        a, b = table.raw_train["a"][i], table.raw_train["b"][i]
        row = frame[(frame["a"] == a) & (frame["b"] == b)].iloc[0]
        assert kind.class_names[kind.y_train[i]] == row["kind"]
        assert size.y_train[i] == np.float32(row["size"])
    assert len(kind.y_test) == len(size.y_test) == len(table.x_test) == 30


def test_prepare_gives_each_output_its_own_labels(two):
    prepared = loader.prepare(two)
    assert set(prepared.y_train) == {"kind", "size"}
    assert prepared.y_train["kind"].shape == (90, 3)  # one-hot for categorical_crossentropy
    assert prepared.y_train["size"].shape == (90,) and prepared.y_train["size"].dtype == np.float32
    kind_train, _ = prepared.output_targets["kind"]
    np.testing.assert_array_equal(prepared.y_train["kind"].argmax(axis=1), kind_train)
    sample = prepared.sample("test", 0)
    assert set(sample["labels"]) == {"kind", "size"} and sample["target"] == "kind, size"
    assert prepared.predicted_label([0.1, 0.7, 0.2], "kind") == "medium (0.70)"
    assert prepared.predicted_label([3.25], "size") == "3.25"

    sparse = copy.deepcopy(two)
    sparse["compile"]["loss"]["kind"] = "sparse_categorical_crossentropy"
    prepared = loader.prepare(sparse)
    assert prepared.y_train["kind"].shape == (90,) and prepared.y_train["kind"].dtype == np.int32
    assert prepared.info.target_of("kind").label_encoding == "integer"


def test_describe_maps_columns_to_outputs(two):
    info = describe(two["data"])
    assert [(t.output, t.column, t.task) for t in info.targets] == [
        ("kind", "kind", "multiclass"),
        ("size", "size", "regression"),
    ]
    assert info.for_output("size").task == "regression" and info.task == "multiclass"
    assert advice.recommended_losses(two) == {"kind": "categorical_crossentropy", "size": "mse"}


@pytest.mark.parametrize(
    "targets, words",
    [
        ("kind", "must be a list"),
        ([{"column": "kind"}], "needs 'output'"),
        ([{"column": "kind", "output": "kind", "colour": 1}], "unknown key"),
        ([{"column": "kind", "output": "kind", "task": "sorting"}], "not one of"),
        (
            [{"column": "kind", "output": "a"}, {"column": "kind", "output": "b"}],
            "'kind': each column",
        ),
        (
            [{"column": "kind", "output": "a"}, {"column": "size", "output": "a"}],
            "'a': each output",
        ),
    ],
)
def test_bad_target_lists_are_refused_with_the_fix(two, targets, words):
    two["data"]["options"]["targets"] = targets
    problems = registry.validate_data_settings(two["data"])
    assert problems and problems[0].startswith("data.options.targets: ")
    assert words in problems[0]


def test_a_missing_target_column_is_named(two):
    two["data"]["options"]["targets"][1]["column"] = "weight"
    with pytest.raises(DataError, match="no column 'weight'"):
        describe(two["data"])


def test_an_old_single_target_project_is_unchanged(tmp_path):
    """A file without ``targets`` validates, describes and prepares exactly as before."""
    p = mixed_csv_project(tmp_path, "csv_multiclass")
    assert validate(copy.deepcopy(p)) == validate(p)
    assert "targets" not in validate(p)["data"]["options"]
    info = describe(p["data"])
    assert info.targets == () and info.task == "multiclass" and info.target_name == "band"
    prepared = loader.prepare(p)
    assert prepared.output_targets == {} and prepared.y_train.shape == (105, 3)
    table = csv_data.load_table(p["data"]["options"]["path"], "band", "multiclass", 0.25)
    assert table.targets[0].column == "band" and len(table.targets) == 1
    np.testing.assert_array_equal(prepared.y_train.argmax(axis=1), table.y_train)
    np.testing.assert_array_equal(prepared.x_test, table.x_test)
    assert "labels" not in prepared.sample("train", 0)


# --------------------------------------------------------------------------- fit_check


def test_the_two_head_model_fits_its_data(two):
    result = fit_check.check(two)
    assert result.valid, fit_check.problems(result)


def test_a_head_too_narrow_for_its_column_is_an_error_naming_both(two):
    two["model"]["layers"][1]["config"]["units"] = 2
    result = fit_check.check(two)
    assert not result.valid
    (problem,) = fit_check.problems(result)
    assert problem[0] == "kind"
    assert "output 'kind' (trained on column 'kind', multiclass)" in problem[1]
    assert "needs 3 units" in problem[1]
    assert result.layer("kind").fixes[0].action["value"] == 3


def test_a_class_loss_on_a_number_column_is_an_error_with_the_loss_fix(two):
    two["compile"]["loss"]["size"] = "categorical_crossentropy"
    result = fit_check.check(two)
    (problem,) = fit_check.problems(result)
    assert problem[0] == "size" and "column 'size' holds numbers" in problem[1]
    fix = result.layer("size").fixes[0].action
    assert fix == {"op": "set_compile", "key": "loss", "output": "size", "value": "mse"}


def test_an_output_without_a_column_and_a_column_without_an_output(two):
    two["data"]["options"]["targets"][1]["output"] = "height"
    problems = [m for _, m in fit_check.problems(fit_check.check(two))]
    assert any("column 'size' is mapped to output 'height'" in m for m in problems)
    assert any("output 'size' has no target column" in m for m in problems)
    with pytest.raises(DataError, match="output 'height'"):
        loader.prepare(two)


def test_accuracy_on_the_number_head_is_advised_against(two):
    two["compile"]["metrics"]["size"] = ["accuracy"]
    result = fit_check.check(two)
    advice_ = [w for w in result.layer("size").warnings if w.code == "accuracy-regression"]
    assert advice_ and advice_[0].fix.action["output"] == "size"


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize(
    "validation", [{"method": "holdout", "fraction": 0.2}, {"method": "kfold", "k": 3}]
)
def test_each_head_trains_on_its_own_column(two, tmp_path, validation):
    from builder.training import runs, worker

    two["fit"]["validation"] = validation
    p = validate(two)
    folder = runs.create_run(tmp_path / "runs", "t", p, {})
    summary = worker.train(p, folder, device="cpu")
    assert summary["state"] == "finished", summary.get("message")
    history = summary["history"]
    for key in ("kind_loss", "size_loss", "val_kind_accuracy", "val_size_mae"):
        assert len(history[key]) == 1, key
    test = summary["test"]
    assert {"kind_loss", "size_loss", "kind_accuracy", "size_mae"} <= set(test)


# --------------------------------------------------------------------------- Results page


def test_results_show_each_output_against_its_column(two, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from builder import paths
    from builder.training import runs, worker

    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    p = validate(two)
    folder = runs.create_run(paths.runs_root(), at.session_state["_pid"], p, {})
    assert worker.train(p, folder, device="cpu")["state"] == "finished"
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.main.markdown)
    assert "**kind** · column kind (multiclass)" in text
    assert "**size** · column size (regression)" in text
    assert text.count("`kind` predicted **") == 4 and text.count("`size` predicted **") == 4
    kinds = [
        json.loads(c.proto.spec)["data"][0].get("type", "scatter") for c in at.get("plotly_chart")
    ]
    assert "heatmap" in kinds and "scatter" in kinds


def test_renaming_an_output_keeps_its_column(two):
    from builder import edit

    renamed = edit.rename_layer(two, "size", "height")
    assert renamed["data"]["options"]["targets"][1] == {
        "column": "size",
        "output": "height",
        "task": "regression",
    }
    assert fit_check.check(renamed).valid


def test_one_loss_for_both_heads_is_fixed_per_output(two):
    """A string loss trains every head alike: mse on the class column is advised against,
    and its fix gives that output its own loss, leaving the number column's mse."""
    from builder import fixes

    two["compile"]["loss"] = "mse"
    two["compile"]["metrics"] = ["mae"]
    result = fit_check.check(two)
    assert result.valid
    (warning,) = [w for w in result.layer("kind").warnings if w.code.startswith("regression-loss")]
    fixed = fixes.apply_fix(two, warning.fix)
    assert fixed["compile"]["loss"] == {"kind": "categorical_crossentropy", "size": "mse"}
    assert fit_check.check(fixed).valid


def test_the_compile_form_recommends_each_outputs_loss(two, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.session_state["project"] = two
    at.switch_page("pages/build.py").run()
    assert not at.exception, at.exception
    kind, size = at.selectbox(key="build_loss:kind"), at.selectbox(key="build_loss:size")
    assert "categorical_crossentropy (recommended)" in kind.options
    assert "mse (recommended)" in size.options and "mse (recommended)" not in kind.options
    assert any("its own column of the CSV" in c.value for c in at.caption)
