"""Hostile and broken input: every class of input ends in a plain ProjectError message (or a
correct result) in bounded time and memory, through the Python API and the CLI; plus a
hypothesis fuzz over every loader, where only ProjectError may escape."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import limits
from builder.data import csv_data
from builder.opener import open_document
from builder.project import ProjectError, graph_order, load_project_file, loads, validate
from tests.helpers import project

ROOT = Path(__file__).resolve().parent.parent


def _digits(units=10, **changes) -> dict:
    """A valid offline project: digits (64 features) -> Dense(units) -> Dense(10)."""
    doc = project(
        [
            ("hidden", "Dense", {"units": units, "activation": "relu"}),
            ("digit", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        options={"image_layout": "flat", "label_encoding": "one_hot"},
    )
    doc.update(changes)
    return doc


def _cli(*args, timeout=240) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "builder", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return done


def _write(tmp_path, name, text) -> Path:
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- deep JSON


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1),
    ],
)
def test_deep_json_is_refused_by_every_json_loader(text):
    from builder.keras_import import from_keras_json

    for load in (loads, from_keras_json, lambda t: open_document("x.json", t.encode())):
        with pytest.raises(ProjectError, match="nests too deeply"):
            load(text)


def test_deep_json_via_cli(tmp_path):
    path = _write(tmp_path, "deep.json", "[" * 100_000)
    for args in (
        ["check", path],
        ["check", path, "--json"],
        ["export", path, "--to", "script", "-o", tmp_path / "x.py"],
        ["train", path],
    ):
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "nests too deeply" in done.stderr + done.stdout


def test_json_depth_ignores_brackets_inside_strings():
    assert limits.json_depth('{"a": ["[[[", {"b": "\\"]]]{{{"}]}') == 3
    assert limits.json_depth("[" * 70) == 70


# --------------------------------------------------------------------------- huge files


@pytest.mark.timeout(30)
def test_huge_project_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "w") as fh:  # valid JSON, padded past the cap
        fh.write(json.dumps(_digits())[:-1] + " " * limits.MAX_PROJECT_BYTES + "}")
    with pytest.raises(ProjectError, match=re.escape("at most 5.0 MB")):
        load_project_file(path)
    done = _cli("check", path)
    assert done.returncode == 2 and "at most 5.0 MB" in done.stderr


@pytest.mark.timeout(30)
def test_endless_device_file_is_read_only_to_the_cap():
    with pytest.raises(ProjectError, match=re.escape("larger than 5.0 MB")):
        load_project_file("/dev/zero")


# --------------------------------------------------------------------------- many layers


def _reversed_chain(n: int) -> dict:
    layers = [
        {
            "name": f"l{i}",
            "class_name": "Dense",
            "config": {"units": 4},
            "inbound": [f"l{i - 1}" if i else "x"],
        }
        for i in range(n)
    ]
    layers[-1]["config"] = {"units": 10, "activation": "softmax"}  # digits: 10 classes
    doc = _digits()
    doc["model"] = {
        "inputs": [{"name": "x", "shape": [64], "dtype": "float32"}],
        "layers": layers[::-1],
        "outputs": [f"l{n - 1}"],
    }
    doc["compile"]["loss"] = "categorical_crossentropy"
    doc["compile"]["metrics"] = []
    doc["data"] = {"dataset": "digits", "options": {}}
    return doc


@pytest.mark.timeout(20)
def test_graph_order_of_10000_reversed_layers_is_fast():
    doc = _reversed_chain(10_000)
    order = graph_order(validate(doc))
    assert [lay["name"] for lay in order] == [f"l{i}" for i in range(10_000)]


@pytest.mark.timeout(20)
def test_a_cycle_of_10000_layers_is_named_briefly():
    doc = _reversed_chain(10_000)
    doc["model"]["layers"][-1]["inbound"] = ["l9999"]  # l0 now reads the last layer
    with pytest.raises(ProjectError, match=r"form a cycle") as err:
        validate(doc)
    assert "and 9,990 more" in str(err.value) and len(str(err.value)) < 1000


@pytest.mark.timeout(240)
def test_10000_reversed_layers_check_via_cli(tmp_path):
    path = _write(tmp_path, "rev.json", _reversed_chain(10_000))
    done = _cli("check", path, "--json")
    assert done.returncode == 0, done.stderr[-500:]
    assert len(json.loads(done.stdout)["layers"]) == 10_000


def test_more_layers_than_the_cap_are_refused_at_once():
    doc = _reversed_chain(limits.MAX_LAYERS + 1)
    with pytest.raises(ProjectError, match="at most 10,000"):
        validate(doc)


# --------------------------------------------------------------------------- wide CSV


@pytest.mark.timeout(30)
def test_million_column_csv_is_refused_quickly(tmp_path):
    path = tmp_path / "wide.csv"
    n = 1_000_000
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n")
    for read in (csv_data.inspect_csv, csv_data.load_table, csv_data.read_header):
        with pytest.raises(ProjectError, match="columns") as err:
            read(path)
        assert "more than once" not in str(err.value)


def test_csv_header_past_the_column_cap_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    n = limits.MAX_CSV_COLUMNS + 1
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n")
    with pytest.raises(csv_data.DataError, match="10,001 columns; at most 10,000"):
        csv_data.inspect_csv(path)


def test_csv_header_longer_than_64_kb_is_read_whole(tmp_path):
    names = [f"column_{i:06d}" for i in range(6000)]  # ~84 KB of header
    rows = "\n".join(",".join(str(r + i) for i in range(6000)) for r in range(3))
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + rows + "\n")
    summary = csv_data.inspect_csv(path)
    assert summary.columns == names
    assert csv_data.read_header(path) == names


def test_csv_rows_longer_than_the_header_are_refused_not_shifted():
    with pytest.raises(csv_data.DataError, match="more values than the header"):
        csv_data.load_table(b"a,b\n" + b"1,2,3\n" * 12)


# --------------------------------------------------------------------------- .keras files


def _small_keras_config() -> bytes:
    import keras

    model = keras.Sequential(
        [keras.Input((4,), name="x"), keras.layers.Dense(3, activation="relu", name="d")]
    )
    return model.to_json().encode()


def _keras_zip(config: bytes, weights_zeros: int = 0, **extra: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", b'{"keras_version": "3.15.1"}')
        archive.writestr("config.json", config)
        if weights_zeros:
            with archive.open("model.weights.h5", "w", force_zip64=True) as entry:
                chunk = bytes(1 << 20)
                for _ in range(weights_zeros >> 20):
                    entry.write(chunk)
        for name, data in extra.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.timeout(60)
def test_zip_bomb_keras_file_imports_from_its_config_only(tmp_path, monkeypatch):
    import keras

    from builder.keras_import import from_keras_file

    bomb = _keras_zip(_small_keras_config(), weights_zeros=200 << 20)
    assert len(bomb) < 2 << 20  # 200 MB of weights stored in well under 2 MB
    path = tmp_path / "bomb.keras"
    path.write_bytes(bomb)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: (
            opened.append(getattr(name, "filename", name)),
            real_open(self, name, *a, **k),
        )[1],
    )
    monkeypatch.setattr(
        keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras opened an uploaded file")
    )
    imported, _ = from_keras_file(path)
    assert imported["model"]["layers"][0]["config"] == {"units": 3, "activation": "relu"}
    imported, _ = open_document("bomb.keras", bomb)
    assert opened == ["config.json", "config.json"]


def test_keras_config_bombs_are_refused_from_the_directory(tmp_path):
    from builder.keras_import import from_keras_file

    padded = b'{"class_name": "Sequential", "config": {"layers": []}}' + b" " * (5 << 20)
    with pytest.raises(ProjectError, match=r"expands .* times"):
        from_keras_file(_keras_zip(padded), "padded.keras")
    big = b" " * (limits.MAX_KERAS_JSON_BYTES + 1)
    with pytest.raises(ProjectError, match="too large for a model description"):
        from_keras_file(_keras_zip(big), "big.keras")
    many = {f"assets/{i}": b"" for i in range(limits.MAX_ZIP_ENTRIES + 1)}
    with pytest.raises(ProjectError, match=r"lists 10,00[0-9] files"):
        from_keras_file(_keras_zip(_small_keras_config(), **many), "many.keras")


def _with_foreign_activation(config: bytes) -> bytes:
    doc = json.loads(config)
    doc["config"]["layers"][1]["config"]["activation"] = {
        "module": "os",
        "class_name": "function",
        "config": "system",
        "registered_name": "function",
    }
    return json.dumps(doc).encode()


def test_reference_to_a_non_keras_function_is_refused_naming_the_layer(tmp_path):
    from builder.keras_import import from_keras_file, from_keras_json

    evil = _with_foreign_activation(_small_keras_config())
    path = tmp_path / "evil.keras"
    path.write_bytes(_keras_zip(evil))
    for load in (
        lambda: from_keras_json(evil),
        lambda: from_keras_file(path),
        lambda: open_document("evil.json", evil),
    ):
        with pytest.raises(
            ProjectError,
            match=r"layer 'd' refers to 'os.system', which is "
            r"not part of Keras",
        ):
            load()
    done = _cli("check", path)  # not a project file: refused, never imported or executed
    assert done.returncode == 2


def test_keras_function_references_are_still_imported():
    from builder.keras_import import from_keras_config

    doc = json.loads(_small_keras_config())
    doc["config"]["layers"][1]["config"]["activation"] = {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    imported, _ = from_keras_config(doc)
    assert imported["model"]["layers"][0]["config"]["activation"] == "relu"


# --------------------------------------------------------------------------- NaN and inf


def _set(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


NUMBER_FIELDS = [
    (("model", "layers", 0, "config", "units"), "model.layers[0]"),
    (("compile", "optimizer", "config", "learning_rate"), "compile.optimizer.config"),
    (("compile", "loss_weights"), "compile.loss_weights"),
    (("fit", "callbacks"), "fit.callbacks[0].config"),
    (("fit", "validation"), "fit.validation.fraction"),
    (("model", "layers", 0, "position"), "model.layers[0].position"),
]


def _with_number(path: tuple, value) -> dict:
    doc = _digits()
    if path == ("compile", "loss_weights"):
        return _set(doc, path, {"digit": value})
    if path == ("fit", "callbacks"):
        return _set(doc, path, [{"class_name": "ReduceLROnPlateau", "config": {"factor": value}}])
    if path == ("fit", "validation"):
        return _set(doc, path, {"method": "split", "fraction": value})
    if path[-1] == "position":
        return _set(doc, path, [0, value])
    return _set(doc, path, value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("path,field", NUMBER_FIELDS)
def test_non_finite_numbers_are_refused_everywhere(path, field, value):
    with pytest.raises(ProjectError) as err:
        validate(_with_number(path, value))
    assert field in str(err.value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_are_refused_when_parsed(tmp_path, literal):
    text = json.dumps(_with_number(("compile", "loss_weights"), 1.5)).replace("1.5", literal)
    with pytest.raises(ProjectError, match=f"holds {literal}"):
        loads(text)
    done = _cli("check", _write(tmp_path, "nan.json", text))
    assert done.returncode == 2 and literal in done.stderr


# --------------------------------------------------------------------------- names and ids


@pytest.mark.parametrize("path", [("model", "layers", 0, "name"), ("model", "inputs", 0, "name")])
def test_names_ending_in_a_newline_are_refused(path):
    with pytest.raises(ProjectError, match="not a valid name"):
        validate(_set(_digits(), path, "hidden\n"))


def test_newline_name_via_cli_and_export(tmp_path):
    doc = _set(_digits(), ("model", "layers", 0, "name"), "hidden\n")
    path = _write(tmp_path, "nl.json", doc)
    assert _cli("export", path, "--to", "script", "-o", tmp_path / "x.py").returncode == 2
    assert not (tmp_path / "x.py").exists()


def test_ids_are_matched_in_full():
    from builder.edit import rename_layer
    from builder.training import devices, runs

    with pytest.raises(runs.RunError):
        runs.check_run_id("20261129-120000-abcdef\n")
    with pytest.raises(runs.RunError):
        runs.check_owner("session\n")
    with pytest.raises(devices.DeviceError):
        devices.check_choice("cpu\n")
    with pytest.raises(ProjectError):
        rename_layer(_digits(), "hidden", "h\n")


# --------------------------------------------------------------------------- dimensions


@pytest.mark.parametrize("shape", [[-5], [28, -1], [0], [8, 0], [2.5], [True], [10**12], ["a"], 64])
def test_bad_input_dimensions_are_refused_with_a_message(shape):
    from builder.checker import check

    doc = _set(_digits(), ("model", "inputs", 0, "shape"), shape)
    with pytest.raises(ProjectError, match=r"model.inputs\[0\].shape"):
        validate(doc)
    result = check(doc)  # never raises: the layer says its input is missing
    assert not result.valid
    assert any("model.inputs[0].shape" in e for e in result.errors)


@pytest.mark.parametrize("shape", [[]])
def test_shapes_keras_takes_are_checked_without_error(shape):
    """[] (one number per sample) is a Keras shape: validating and checking it gives a
    result, never an exception."""
    from builder.checker import check

    doc = _set(_digits(), ("model", "inputs", 0, "shape"), shape)
    assert validate(doc)["model"]["inputs"][0]["shape"] == shape
    result = check(doc)
    assert result.inputs[0]["shape"] == [None, *shape]


def test_negative_dimension_via_cli(tmp_path):
    path = _write(tmp_path, "neg.json", _set(_digits(), ("model", "inputs", 0, "shape"), [-5]))
    done = _cli("check", path)
    assert done.returncode == 1 and "NOT valid" in done.stdout


def test_negative_dimension_in_keras_json_is_refused():
    from builder.keras_import import from_keras_json

    doc = json.loads(_small_keras_config())
    doc["config"]["layers"][0]["config"]["batch_shape"] = [None, -4]
    with pytest.raises(ProjectError, match="shape"):
        from_keras_json(json.dumps(doc))


# --------------------------------------------------------------------------- absurd sizes


def test_huge_dense_is_not_valid():
    from builder.checker import check

    result = check(_digits(units=10**9))
    assert not result.valid
    assert any(
        "parameters; netbuilder builds at most" in e and "'hidden'" in e for e in result.errors
    )


def test_huge_dense_via_cli(tmp_path):
    path = _write(tmp_path, "huge.json", _digits(units=10**9))
    done = _cli("check", path)
    assert done.returncode == 1 and "netbuilder builds at most" in done.stdout
    done = _cli("export", path, "--to", "keras-json", "-o", tmp_path / "m.json")
    assert done.returncode == 1 and "builds at most" in done.stderr
    assert not (tmp_path / "m.json").exists()


# --------------------------------------------------------------------------- memory guard


def test_export_refuses_a_model_larger_than_free_memory(monkeypatch, tmp_path):
    from builder import build, export

    monkeypatch.setattr(limits, "available_memory", lambda: 50 * 1024**2)
    monkeypatch.setattr(build, "build_model", lambda p: pytest.fail("built before the guard"))
    doc = _digits(units=300_000)  # 19 M parameters: 77 MB of weights
    for run in (
        lambda: export.to_keras_json(doc),
        lambda: export.save_keras(doc, tmp_path / "m.keras"),
    ):
        with pytest.raises(
            ProjectError,
            match=r"needs about [0-9.]+ MB of memory .* this "
            r"machine has 50.0 MB available",
        ):
            run()


def test_parallel_kfold_counts_every_copy(monkeypatch):
    from builder import build

    monkeypatch.setattr(limits, "available_memory", lambda: 1000 * 1024**2)
    monkeypatch.setattr(build, "memory_needed", lambda project, purpose: 300 * 1024**2)
    build.check_memory(_digits(), "train")  # 300 MB of 800 MB usable: fine
    with pytest.raises(ProjectError, match=re.escape("1.2 GB of memory to train")):
        build.check_memory(_digits(), "train", copies=4)


def test_out_of_memory_while_exporting_is_a_message(monkeypatch):
    from builder import build, export

    class ResourceExhaustedError(Exception):
        pass

    def exhausted(project, compile=True):
        raise ResourceExhaustedError("OOM when allocating tensor with shape[64,1000000]")

    monkeypatch.setattr(build, "build", exhausted)
    with pytest.raises(ProjectError, match="too large to build in this machine's memory"):
        export.to_keras_json(_digits())


@pytest.mark.timeout(240)
def test_training_refuses_before_allocating_via_cli(tmp_path):
    doc = _digits(units=100_000)
    doc["fit"]["batch_size"] = 1 << 20  # activations of a 2**20 batch: hundreds of GB
    path = _write(tmp_path, "big.json", doc)
    done = _cli("train", path, "--runs", tmp_path / "runs", "--json")
    assert done.returncode == 1
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["state"] == "failed"
    assert "of memory to train" in summary["message"] and "available" in summary["message"]


# --------------------------------------------------------------------------- formula cells


def test_compare_csv_escapes_formula_cells():
    import pandas as pd

    from ui.charts import table_csv

    table = pd.DataFrame(
        [
            {"name": '=HYPERLINK("http://x","y")', "loss": -0.5, "note": "@SUM"},
            {"name": "+1", "loss": 1.0, "note": "\tcmd"},
            {"name": "-2", "loss": 2.0, "note": "plain"},
        ]
    )
    text = table_csv(table)
    rows = list(__import__("csv").reader(io.StringIO(text)))
    assert rows[1] == ['\'=HYPERLINK("http://x","y")', "-0.5", "'@SUM"]
    assert rows[2] == ["'+1", "1.0", "'\tcmd"]
    assert rows[3] == ["'-2", "2.0", "plain"]


# --------------------------------------------------------------------------- fuzz

FUZZ = settings(
    max_examples=120,
    deadline=timedelta(seconds=10),
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _mutate(data, doc):
    """``doc`` with one to three values (anywhere) replaced by random JSON, or deleted."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(json_values)
    return doc


def _only_project_errors(call):
    try:
        call()
    except ProjectError as err:
        assert str(err).strip()


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_project_loader_bytes(data):
    _only_project_errors(lambda: loads(data))
    _only_project_errors(lambda: open_document("x.json", data))


@FUZZ
@given(json_values)
def test_fuzz_project_loader_json(value):
    _only_project_errors(lambda: loads(json.dumps(value)))


@FUZZ
@given(st.data())
def test_fuzz_project_with_random_fields(data):
    from builder.checker import check

    doc = _mutate(data, _digits())
    _only_project_errors(lambda: loads(json.dumps(doc)))
    _only_project_errors(lambda: validate(doc, check_graph=False))
    check(doc)  # the checker never raises, valid or not


@pytest.fixture(scope="module")
def keras_doc():
    import keras

    a = keras.Input((8,), name="a")
    b = keras.Input((8,), name="b")
    x = keras.layers.Dense(4, activation="relu", name="d1")(a)
    y = keras.layers.Dense(4, name="d2")(b)
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(
        keras.layers.Concatenate(name="cat")([x, y])
    )
    model = keras.Model([a, b], out)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return json.loads(
        json.dumps({**json.loads(model.to_json()), "compile_config": model.get_compile_config()})
    )


@FUZZ
@given(data=st.data())
def test_fuzz_keras_json_with_random_fields(keras_doc, data):
    from builder.keras_import import from_keras_config, from_keras_json

    doc = _mutate(data, keras_doc)
    _only_project_errors(lambda: from_keras_config(doc))
    _only_project_errors(lambda: from_keras_json(json.dumps(doc)))


@FUZZ
@given(json_values)
def test_fuzz_keras_json_random_documents(value):
    from builder.keras_import import from_keras_json

    _only_project_errors(lambda: from_keras_json(json.dumps(value)))


zip_entries = st.dictionaries(
    st.sampled_from(["config.json", "metadata.json", "model.weights.h5", "x/y", "a"]),
    st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    max_size=4,
)


@FUZZ
@given(zip_entries, st.integers(0, 8), st.binary(max_size=8))
def test_fuzz_keras_zip_archives(entries, cut, junk):
    from builder.keras_import import from_keras_file

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    data = buffer.getvalue()
    for variant in (data, data[: len(data) - cut] + junk, junk + data):
        _only_project_errors(lambda v=variant: from_keras_file(v, "fuzz.keras"))
        _only_project_errors(lambda v=variant: open_document("fuzz.keras", v))


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_keras_file_bytes(data):
    from builder.keras_import import from_keras_file

    _only_project_errors(lambda: from_keras_file(data, "fuzz.keras"))


csv_text = st.lists(
    st.lists(
        st.text(alphabet=st.sampled_from('ab1,;."\t\n\r-=é '), max_size=6), min_size=1, max_size=5
    ),
    min_size=0,
    max_size=15,
).map(lambda rows: "\n".join(",".join(row) for row in rows))


@FUZZ
@given(csv_text | st.text(max_size=200))
def test_fuzz_csv_text(text):
    data = text.encode("utf-8")
    _only_project_errors(lambda: csv_data.inspect_csv(data))
    _only_project_errors(lambda: csv_data.load_table(data))


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_csv_bytes(data):
    _only_project_errors(lambda: csv_data.inspect_csv(data))
