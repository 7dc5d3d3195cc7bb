"""The exported script prepares exactly the data the app trains on.

The script's data and label sections (generated from the fitted encoder) run in this
process and their arrays are compared with ``loader.prepare``'s, for CSV files the app
accepts (a row ID, an ID column, an empty column and columns the user excludes, all
left out, a text column, empty cells,
numeric, text and yes/no targets) and for every template whose dataset is here offline.
Training the exported scripts is tested in test_export.py (one subprocess for all).
"""

from __future__ import annotations

import ast
import json
import os
import re

import numpy as np
import pytest

from builder import export, templates
from builder.data import csv_data, encoding, keras_sets, loader, offline, registry
from builder.data.errors import DataError
from builder.data.preprocess import standardize, standardize_fit
from builder.project import ProjectError
from tests import fixtures_data
from tests.fixtures_data import MIXED_CASES, mixed_csv_project, two_target_project
from tests.helpers import LazyModule

keras = LazyModule("keras")  # imported on first use, not at collection

DATA_SECTIONS = ("Imports", "Settings", "Data", "Labels")


def _script_arrays(p) -> dict:
    """Run the exported notebook's data and label cells (the script's code, without the
    command line) and return their x/y arrays as the model receives them."""
    sections = export._sections(p, for_notebook=True)
    namespace: dict = {"__name__": "__main__"}
    for section in sections:
        if section.title in DATA_SECTIONS:
            exec(compile(section.code, f"<export {section.title}>", "exec"), namespace)
    targets, inputs = namespace["targets"], namespace["inputs"]
    return {
        "x_train": inputs(namespace["x_train"]),
        "x_test": inputs(namespace["x_test"]),
        "y_train": targets(namespace["y_train"]),
        "y_test": targets(namespace["y_test"]),
    }


def _same(script, app, what: str) -> None:
    if isinstance(app, dict):
        assert isinstance(script, dict) and set(script) == set(app), what
        for key in app:
            _same(script[key], app[key], f"{what}[{key!r}]")
        return
    if isinstance(script, dict):  # several inputs, each given the same features
        for key, value in script.items():
            _same(value, app, f"{what}[{key!r}]")
        return
    script, app = np.asarray(script), np.asarray(app)
    assert script.shape == app.shape, f"{what}: {script.shape} != {app.shape}"
    assert np.allclose(script, app, rtol=0, atol=0), (
        f"{what}: {np.abs(script.astype(float) - app.astype(float)).max()} apart"
    )


def _assert_script_prepares_the_apps_data(p) -> None:
    loader.clear_cache()
    app = loader.prepare(p)
    script = _script_arrays(p)
    for split in ("train", "test"):
        _same(script[f"x_{split}"], app.x_train if split == "train" else app.x_test, f"x_{split}")
        _same(script[f"y_{split}"], app.y_train if split == "train" else app.y_test, f"y_{split}")


# --------------------------------------------------------------------------- CSV files


@pytest.mark.parametrize("case", list(MIXED_CASES))
def test_csv_script_prepares_the_apps_arrays(tmp_path, monkeypatch, case):
    p = mixed_csv_project(tmp_path, case)
    monkeypatch.chdir(tmp_path)  # the script reads the file by its name
    _assert_script_prepares_the_apps_data(p)


def test_csv_encoder_is_plain_literals(tmp_path):
    p = mixed_csv_project(tmp_path, "csv_multiclass")
    enc = encoding.fit(p)
    values = enc.literals()
    assert ast.literal_eval(repr(values)) == values
    assert json.loads(json.dumps(values)) == values
    assert dict(values["dropped"]) == {
        "row_id": "looks like a row ID",
        "notes": "empty in every row",
        "id": "free text/identifier: 105 different text values in 105 training rows",
    }
    assert [c["name"] for c in values["columns"]] == ["town", "rooms", "area"]
    assert values["columns"][0]["categories"] == ["(missing)", "Hull", "Leeds", "York"]
    assert values["target_classes"] == ["high", "low", "mid"] and values["target_is_text"]
    assert values["labels"] == {"out": "one_hot"}
    assert values["mean"][:4] == [0.0] * 4 and values["std"][:4] == [1.0] * 4


def test_excluded_columns_and_row_ids_are_left_out_of_the_export_too(tmp_path, monkeypatch):
    p = mixed_csv_project(tmp_path, "csv_excluded")
    values = encoding.fit(p).literals()
    assert [c["name"] for c in values["columns"]] == ["area"]
    assert values["options"]["exclude"] == ["town", "rooms"]
    assert dict(values["dropped"]) == {
        "town": csv_data.LEFT_OUT_BY_USER,
        "rooms": csv_data.LEFT_OUT_BY_USER,
        "row_id": "looks like a row ID",
        "notes": "empty in every row",
        "id": "free text/identifier: 105 different text values in 105 training rows",
    }
    code = export.to_script(p)
    assert "# Left out, as in the app: column 'row_id' (looks like a row ID)." in code
    assert "# Left out, as in the app: column 'town' (left out on the Data page)." in code
    monkeypatch.chdir(tmp_path)
    _assert_script_prepares_the_apps_data(p)


def test_csv_integer_classes_keep_their_values(tmp_path):
    """A blank line makes pandas read whole numbers as floats: the classes are written as
    the floats the app matched, and the script reads the file the same way."""
    values = encoding.fit(mixed_csv_project(tmp_path, "csv_integer_classes")).literals()
    assert values["task"] == "multiclass" and values["delimiter"] == "\t"
    assert values["target_classes"] == [1.0, 2.0, 3.0, 4.0] and not values["target_is_text"]
    assert values["class_names"] == ["1", "2", "3", "4"] and values["labels"] == {"out": "integer"}


def test_csv_encoder_matches_what_training_uses(tmp_path):
    """The literals are the training encoder's own numbers, not recomputed ones."""
    p = mixed_csv_project(tmp_path, "csv_regression")
    enc = encoding.fit(p)
    table = csv_data.load_table_cached(registry.resolved_options(p["data"]))
    assert enc.mean == [float(v) for v in table.encoder.mean]
    assert enc.columns == [col.literal() for col in table.encoder.columns]
    fill = {c["name"]: c["fill"] for c in enc.columns if c["kind"] == "number"}
    rooms = csv_data.read_rows(p["data"]["options"]["path"], ",")["rooms"]
    assert fill["rooms"] == float(table.raw_train["rooms"].median()) and rooms.isna().any()


def test_csv_script_writes_the_encoder_as_literals(tmp_path):
    code = export.to_script(mixed_csv_project(tmp_path, "csv_binary"))
    tree = ast.parse(code)
    assigned = {
        n.targets[0].id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
    }
    assert ast.literal_eval(assigned["SEPARATOR"]) == ";"
    assert ast.literal_eval(assigned["CLASSES"]) == ["no", "yes"]
    assert [c["name"] for c in ast.literal_eval(assigned["COLUMNS"])] == ["town", "rooms", "area"]
    assert "MEAN" not in assigned  # normalize is off for this case
    assert "# Left out, as in the app: column 'id' (free text/identifier: 105 different" in code
    assert str(tmp_path) not in code  # the file by its name only
    for fn in ("def read_rows(", "def target_codes(", "def split_rows(", "def encode_columns("):
        assert code.count(fn) == 1


def test_csv_script_says_when_the_file_changed(tmp_path, monkeypatch):
    p = mixed_csv_project(tmp_path, "csv_multiclass")
    code = export.to_script(p)
    path = tmp_path / "csv_multiclass.csv"
    path.write_text(path.read_text().replace(",high\n", ",huge\n", 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    data = code.split("# --- Data ")[1].split("\n", 1)[1].split("# --- Labels ")[0]
    namespace = {"np": np, "os": os}
    with pytest.raises(SystemExit, match="not among CLASSES"):
        exec(compile(data, "<data>", "exec"), namespace)


@pytest.mark.parametrize(
    "loss, options",
    [
        ({"kind": "categorical_crossentropy", "size": "mse"}, {}),
        ({"kind": "sparse_categorical_crossentropy", "size": "mae"}, {"normalize": False}),
    ],
)
def test_two_target_script_gives_each_output_the_apps_labels(tmp_path, monkeypatch, loss, options):
    """Several target columns: the script's y holds one column per target and ``targets``
    encodes each for its output's loss, equal to the app's dict of labels."""
    p = two_target_project(tmp_path, **options)
    p["compile"]["loss"] = loss
    monkeypatch.chdir(tmp_path)
    _assert_script_prepares_the_apps_data(p)


@pytest.mark.parametrize(
    "loss, units, activation",
    [("binary_crossentropy", 1, "sigmoid"), ("categorical_crossentropy", 2, "softmax")],
)
def test_a_yes_no_column_beside_a_number_column(tmp_path, monkeypatch, loss, units, activation):
    """A two-class text column (0/1 floats, or one-hot pairs for categorical loss) and a
    number column: the script's labels equal the app's either way."""
    lines = ["a,b,colour,kind,size"]
    for i in range(120):
        a, b = (i * 7) % 13, (i * 5) % 11
        lines.append(f"{a},{b},{['red', 'green'][i % 2]},{['no', 'yes'][(a + b) % 2]},{a * 1.5}")
    (tmp_path / "two_targets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = two_target_project(tmp_path)
    p["data"]["options"]["targets"][0]["task"] = "auto"
    p["model"]["inputs"][0]["shape"] = [4]
    p["model"]["layers"][1]["config"].update(units=units, activation=activation)
    p["compile"]["loss"]["kind"] = loss
    monkeypatch.chdir(tmp_path)
    _assert_script_prepares_the_apps_data(p)


def test_two_target_encoder_lists_each_column_and_its_output(tmp_path):
    values = encoding.fit(two_target_project(tmp_path)).literals()
    assert json.loads(json.dumps(values)) == values
    assert [(t["column"], t["output"], t["task"]) for t in values["targets"]] == [
        ("kind", "kind", "multiclass"),
        ("size", "size", "regression"),
    ]
    assert values["targets"][0]["classes"] == ["large", "medium", "small"]
    assert values["labels"] == {"kind": "one_hot", "size": "value"}
    assert [c["name"] for c in values["columns"]] == ["a", "b", "colour"]
    code = export.to_script(two_target_project(tmp_path))
    assert "TARGETS = [" in code and "TARGET = " not in code


# --------------------------------------------------------------------------- templates


def _fake_text(monkeypatch, tmp_path, name: str) -> None:
    """IMDB and Reuters are not here offline: the app and the script both read the same
    tiny files in Keras' format (tests/fixtures_data.py)."""
    source = (fixtures_data.write_imdb if name == "imdb" else fixtures_data.write_reuters)(tmp_path)
    monkeypatch.setitem(keras_sets.SOURCES, name, source)

    def load_data(num_words=None, **kwargs):
        (x_train, y_train), (x_test, y_test) = source.load(num_words)

        def lists(seqs):
            out = np.empty(len(seqs), dtype=object)
            for i, seq in enumerate(seqs.tolist()):
                out[i] = seq
            return out

        return (lists(x_train), y_train), (lists(x_test), y_test)

    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", load_data)


@pytest.mark.parametrize("name", templates.names())
def test_template_script_prepares_the_apps_arrays(tmp_path, monkeypatch, name):
    p = templates.load(name)
    dataset = p["data"]["dataset"]
    if dataset == "csv":
        pytest.skip("the template reads the user's own CSV: tests/test_adapt.py exports it")
    if dataset in ("imdb", "reuters"):
        _fake_text(monkeypatch, tmp_path, dataset)
    elif dataset in keras_sets.SOURCES:
        try:
            offline.ensure_files(dataset, False)
        except DataError:
            pytest.skip(f"{dataset} files are not in ../shared/datasets here")
    _assert_script_prepares_the_apps_data(p)


# --------------------------------------------------------------------------- normalisation


def test_one_normalisation_for_tables_and_export():
    """Training and the exported script use standardize; a mask keeps one-hot inputs 0/1."""
    x = np.array([[1.0, 0.0, 5.0], [3.0, 1.0, 5.0], [5.0, 1.0, 5.0]], np.float32)
    mean, std = standardize_fit(x, only=np.array([True, False, True]))
    assert mean.tolist() == [3.0, 0.0, 5.0] and std[1:].tolist() == [1.0, 1.0]
    out = standardize(x, mean.tolist(), std.tolist())  # literals work as arrays do
    assert out.dtype == np.float32 and out[:, 1].tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(out[:, 0], (x[:, 0] - 3.0) / np.std(x[:, 0]), rtol=1e-6)
    assert out[:, 2].tolist() == [0.0, 0.0, 0.0]
    assert "def standardize(x, mean, std):" in export.to_script(templates.load("two_branch"))


def test_export_refuses_a_loss_the_data_cannot_take():
    p = templates.load("two_branch")  # diabetes: a regression
    p["compile"]["loss"] = "categorical_crossentropy"
    with pytest.raises(ProjectError, match="regression"):
        export.to_script(p)


def test_export_says_which_file_a_table_needs(monkeypatch):
    """Exporting Boston Housing reads it (its means and deviations): a missing file is a
    ProjectError saying where to put it, not a traceback."""

    def missing(name, allow_download, roles=("data",)):
        raise DataError(f"{name}.npz is not in Keras' dataset folder: save it there.")

    loader.clear_cache()
    monkeypatch.setattr(offline, "ensure_files", missing)
    with pytest.raises(
        ProjectError, match=re.escape("boston_housing.npz is not in Keras' dataset folder")
    ):
        export.to_script(templates.load("boston_regression"))
    loader.clear_cache()
