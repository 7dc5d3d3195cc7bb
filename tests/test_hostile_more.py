"""More hostile input, found by red-teaming issue #11 after tests/test_hostile.py: a file
that is small but names a million bad entries, numbers too long for Python, a named pipe
instead of a file, infinite numbers and an explosion of one-hot inputs in a CSV, and a
Keras model of thousands of alike layers. Each ends in a plain ProjectError (DataError is
one) in bounded time and memory, through the API and the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from builder import limits
from builder.data import csv_data
from builder.errors import ProjectError
from builder.opener import open_document
from builder.project import load_project_file, loads
from tests.helpers import cli_in_process, project

ROOT = Path(__file__).resolve().parent.parent


def _digits() -> dict:
    return project(
        [
            ("hidden", "Dense", {"units": 10, "activation": "relu"}),
            ("digit", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        options={"image_layout": "flat", "label_encoding": "one_hot"},
    )


def _with(change) -> dict:
    doc = _digits()
    change(doc)
    return doc


# ------------------------------------------------------------- a million bad entries

MANY = 200_000  # about 4 MB of JSON: under the 5 MB cap, so the check itself must be bounded

FLOODS = {
    "unknown top-level fields": lambda d: d.update({f"k{i}": 1 for i in range(MANY)}),
    "unknown metrics": lambda d: d["compile"].update(metrics=["x"] * MANY),
    "unknown callbacks": lambda d: d["fit"].update(callbacks=[{"class_name": "x"}] * MANY),
    "unknown layer settings": lambda d: d["model"]["layers"][0]["config"].update(
        {f"k{i}": 1 for i in range(MANY)}
    ),
    "unknown dataset options": lambda d: d["data"]["options"].update(
        {f"k{i}": 1 for i in range(MANY)}
    ),
    "loss weights of missing outputs": lambda d: d["compile"].update(
        loss_weights={f"o{i}": 1 for i in range(MANY)}
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_a_flood_of_bad_entries_stops_after_the_problem_cap(flood):
    text = json.dumps(_with(FLOODS[flood]))
    assert len(text) < limits.MAX_PROJECT_BYTES
    for load in (loads, lambda t: open_document("p.json", t.encode())):
        with pytest.raises(ProjectError) as caught:
            load(text)
        # Before the cap: every entry became a line (a 4 MB file gave a 228 MB message).
        assert len(caught.value.problems) <= limits.MAX_PROBLEMS + 1
        assert len(str(caught.value)) < 50_000
        assert "checking stopped after" in str(caught.value)


def test_problem_list_stops_at_its_cap_and_the_error_says_so():
    from builder.errors import ProblemList

    problems = ProblemList()
    with pytest.raises(ProblemList.Full):
        problems.extend(("f", f"m{i}") for i in range(limits.MAX_PROBLEMS + 5))
    assert len(problems) == limits.MAX_PROBLEMS and problems.full
    err = ProjectError(problems)
    assert str(err).endswith("fix these, then check again.)")
    few = ProjectError([("a", "one"), ("b", "two")])
    assert str(few) == "a: one\nb: two"
    many = ProjectError([("a", str(i)) for i in range(1000)])
    assert len(many.problems) == limits.MAX_PROBLEMS + 1


# ------------------------------------------------------------- numbers Python cannot read

LONG_INT = "9" * 5000  # Python refuses int("9" * 5000): more than 4,300 digits


def test_an_integer_of_thousands_of_digits_is_a_plain_refusal():
    from builder.keras_import import from_keras_json

    text = json.dumps(_digits()).replace('"epochs": 1', f'"epochs": {LONG_INT}')
    assert LONG_INT in text
    for load in (loads, from_keras_json, lambda t: open_document("p.json", t.encode())):
        with pytest.raises(ProjectError, match="number too long to read"):
            load(text)


def test_nan_and_infinity_keep_their_own_message():
    from builder.keras_import import from_keras_json

    for word in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(_digits()).replace('"epochs": 1', f'"epochs": {word}')
        for load in (loads, from_keras_json):
            with pytest.raises(ProjectError, match=f"holds {word}, which is not a number"):
                load(text)


# ------------------------------------------------------------- a named pipe for a file


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_not_waited_on(tmp_path):
    from builder.keras_import import from_keras_file

    fifo = tmp_path / "project.json"
    os.mkfifo(fifo)
    # open() on a pipe nobody writes to used to block forever.
    with pytest.raises(ProjectError, match="not valid JSON"):
        load_project_file(fifo)
    with pytest.raises(ProjectError, match=re.escape("not a Keras 3 .keras file")):
        from_keras_file(fifo)
    with pytest.raises(csv_data.DataError, match="not a regular file"):
        csv_data.load_table(str(fifo))


# ------------------------------------------------------------- CSV


def _csv(rows: list[str], header: str = "a,b,y") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.mark.parametrize("cell, line", [("inf", 5), ("-Infinity", 5), ("1e400", 5)])
def test_an_infinite_number_in_a_csv_is_refused_with_its_column_and_line(cell, line):
    rows = [f"{cell if i == line - 2 else i},{i},{i % 2}" for i in range(40)]
    with pytest.raises(
        csv_data.DataError,
        match=rf"column 'a' holds an infinite number.* "
        rf"line\(s\) {line} of the file",
    ):
        csv_data.load_table(_csv(rows))


def test_an_infinite_regression_target_is_refused():
    rows = [f"{i},{i},{'inf' if i == 3 else i * 0.5}" for i in range(40)]
    with pytest.raises(csv_data.DataError, match="column 'y' holds an infinite number"):
        csv_data.load_table(_csv(rows), task="regression")


def test_finite_csv_still_loads():
    # Column a is not counting the rows (a row ID is left out): every number, in no order.
    rows = [f"{(i * 7) % 40},{i * 0.25},{i % 2}" for i in range(40)]
    table = csv_data.load_table(_csv(rows))
    assert table.x_train.shape[1] == 2


def _categories_csv(rows: int, columns: int, values: int) -> bytes:
    header = ",".join(f"c{j}" for j in range(columns)) + ",y"
    lines = [
        ",".join(f"v{(i * 7 + j * 13) % values}" for j in range(columns)) + f",{i % 2}"
        for i in range(rows)
    ]
    return _csv(lines, header)


@pytest.mark.timeout(60)
def test_one_hot_inputs_are_sized_before_encoding(monkeypatch):
    data = _categories_csv(rows=200, columns=50, values=20)  # 200 x 1,000 inputs
    monkeypatch.setattr(limits, "MAX_CSV_ENCODED_VALUES", 100_000)
    with pytest.raises(csv_data.DataError, match=r"200 rows x 1,000 inputs.*'c0' \(20\)"):
        csv_data.load_table(data)
    # The same table fits when the cap allows it ...
    monkeypatch.setattr(limits, "MAX_CSV_ENCODED_VALUES", 2_000_000)
    assert csv_data.load_table(data).x_train.shape == (160, 1000)
    # ... and not when the machine has too little memory free for it, saying both numbers.
    monkeypatch.setattr(limits, "available_memory", lambda: 1_000_000)
    with pytest.raises(csv_data.DataError, match=re.escape("this machine has 976.6 KB free")):
        csv_data.load_table(data)


# ------------------------------------------------------------- Keras JSON


@pytest.mark.timeout(120)
def test_a_keras_model_of_thousands_of_alike_layers_builds_each_setting_once(monkeypatch):
    from builder import checker, keras_import, keras_import_layer

    layers = [
        {
            "module": "keras.layers",
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, 8], "dtype": "float32", "name": "x"},
        }
    ]
    layers += [
        {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"name": f"d{i}", "units": 1 + i % 2},
        }
        for i in range(3000)
    ]
    doc = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "seq", "layers": layers},
    }
    calls = []
    real = checker.make_layer
    monkeypatch.setattr(checker, "make_layer", lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(keras_import_layer, "_REBUILT", {})
    project_doc, _ = keras_import.from_keras_json(json.dumps(doc))
    assert len(project_doc["model"]["layers"]) == 3000
    assert project_doc["model"]["layers"][1]["config"] == {"units": 2}
    # One Keras layer per distinct setting, not per layer (3,000 took ~5 s, 10,000 ~20 s).
    assert len(calls) == 2


# ------------------------------------------------------------- the CLI, one process


@pytest.mark.timeout(240)
def test_cli_check_of_a_flood_and_a_long_number_answers_briefly(tmp_path, capfd):
    flood = tmp_path / "flood.json"
    flood.write_text(json.dumps(_with(FLOODS["unknown metrics"])), encoding="utf-8")
    digits = tmp_path / "digits.json"
    digits.write_text(
        json.dumps(_digits()).replace('"epochs": 1', f'"epochs": {LONG_INT}'), encoding="utf-8"
    )
    done = cli_in_process(capfd, "check", flood, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1 and len(done.stdout) + len(done.stderr) < 50_000  # was 235 MB
    done = cli_in_process(capfd, "check", digits, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2 and "number too long to read" in done.stderr[-300:]


# ------------------------------------------------------------- check of a malformed file


@pytest.mark.parametrize(
    "field, value", [(("inputs", 0, "shape"), 64), (("outputs",), 5), (("layers",), {"a": 1})]
)
def test_check_of_a_malformed_model_reports_instead_of_failing(field, value):
    """``check`` (what the CLI runs on a file that does not validate) takes the raw document:
    the data-fit step used to fail on a shape that is not a list (TypeError)."""
    from builder.fit_check import check

    doc = _digits()
    target = doc["model"]
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    result = check(doc)
    assert not result.valid


def test_a_model_too_deep_for_keras_is_refused_before_building():
    """Keras walks the graph recursively: a 10,000-layer chain would end in RecursionError
    after minutes. Building refuses it at once, naming the depth and the limit."""
    from builder import limits
    from builder.build import BuildError, build_model

    depth = limits.MAX_BUILD_DEPTH + 1
    doc = {
        "format": "netbuilder.project",
        "version": 2,
        "name": "deep",
        "model": {
            "inputs": [{"name": "x", "shape": [4]}],
            "layers": [
                {"name": f"d{i}", "class_name": "Dense", "config": {"units": 4}}
                for i in range(depth)
            ],
            "outputs": [f"d{depth - 1}"],
        },
    }
    with pytest.raises(BuildError, match=f"{depth:,} layers deep"):
        build_model(doc)
