"""builder.data.registry: dataset metadata, option validation, input specs, recommendations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from builder.data import (
    DATASETS,
    DataError,
    describe,
    input_spec,
    recommend,
    validate_data_settings,
)
from builder.data.registry import resolved_options

ROOT = Path(__file__).resolve().parent.parent
OPTION_KEYS = {"name", "type", "default", "min", "max", "choices", "label", "help"}


def data(dataset: str, **options) -> dict:
    return {"dataset": dataset, "options": options}


def test_names():
    assert list(DATASETS) == [
        "imdb",
        "reuters",
        "boston_housing",
        "mnist",
        "fashion_mnist",
        "cifar10",
        "digits",
        "breast_cancer",
        "wine",
        "diabetes",
        "csv",
    ]


def test_importing_registry_loads_no_framework():
    code = (
        "import sys, builder.data.registry, builder.data; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'pandas', 'streamlit') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", list(DATASETS))
def test_spec_is_complete(name):
    spec = DATASETS[name]
    assert spec.name == name and spec.label and spec.description
    assert spec.source in ("keras", "sklearn", "csv")
    assert spec.sample_kind in ("text", "image", "table")
    assert spec.offline == (spec.source != "keras")
    if spec.source == "csv":
        assert spec.task == "auto"
    else:
        assert spec.task in ("binary", "multiclass", "regression")
        if spec.task == "regression":
            assert spec.num_classes is None and spec.class_names is None
        else:
            assert len(spec.class_names) == spec.num_classes
    for opt in spec.options:
        assert set(opt) == OPTION_KEYS, opt
        assert opt["type"] in ("int", "float", "bool", "choice", "str", "targets", "columns")
        assert opt["label"] and opt["help"]
        if opt["type"] == "choice":
            assert opt["default"] in opt["choices"]
        if opt["type"] in ("int", "float"):
            assert opt["min"] <= opt["default"] <= opt["max"]
    for entry in spec.files:
        assert entry["bytes"] > 0 and entry["url"].startswith("https://")
        assert entry["role"] in ("data", "word_index")
    assert (spec.source == "keras") == bool(spec.files)
    json.dumps([spec.options, spec.files])  # the UI and project file need plain JSON


@pytest.mark.parametrize(
    "name, section", [("imdb", "3.4"), ("reuters", "3.5"), ("boston_housing", "3.6")]
)
def test_book_sections_named(name, section):
    assert f"section {section}" in DATASETS[name].description


def test_reuters_has_the_46_topic_names():
    names = DATASETS["reuters"].class_names
    assert len(names) == 46 and len(set(names)) == 46
    assert names[:5] == ("cocoa", "grain", "veg-oil", "earn", "acq")


@pytest.mark.parametrize(
    "settings, shape, dtype",
    [
        (data("imdb"), [10000], "float32"),
        (data("imdb", num_words=5000), [5000], "float32"),
        (data("imdb", encoding="sequence"), [200], "int32"),
        (data("reuters", encoding="sequence", maxlen=80), [80], "int32"),
        (data("boston_housing"), [13], "float32"),
        (data("mnist"), [784], "float32"),
        (data("mnist", image_layout="image"), [28, 28, 1], "float32"),
        (data("fashion_mnist", image_layout="image"), [28, 28, 1], "float32"),
        (data("cifar10"), [32, 32, 3], "float32"),
        (data("cifar10", image_layout="flat"), [3072], "float32"),
        (data("digits"), [64], "float32"),
        (data("digits", image_layout="image"), [8, 8, 1], "float32"),
        (data("breast_cancer"), [30], "float32"),
        (data("wine"), [13], "float32"),
        (data("diabetes"), [10], "float32"),
    ],
)
def test_input_spec(settings, shape, dtype):
    assert input_spec(settings) == {"shape": shape, "dtype": dtype}


@pytest.mark.parametrize(
    "settings, units, activation, loss, metrics",
    [
        (data("imdb"), 1, "sigmoid", "binary_crossentropy", ["accuracy"]),
        (data("breast_cancer"), 1, "sigmoid", "binary_crossentropy", ["accuracy"]),
        (data("reuters"), 46, "softmax", "categorical_crossentropy", ["accuracy"]),
        (
            data("reuters", label_encoding="integer"),
            46,
            "softmax",
            "sparse_categorical_crossentropy",
            ["accuracy"],
        ),
        (data("mnist"), 10, "softmax", "sparse_categorical_crossentropy", ["accuracy"]),
        (data("wine"), 3, "softmax", "categorical_crossentropy", ["accuracy"]),
        (data("boston_housing"), 1, None, "mse", ["mae"]),
        (data("diabetes"), 1, None, "mse", ["mae"]),
    ],
)
def test_recommend(settings, units, activation, loss, metrics):
    rec = recommend(settings)
    assert rec["last_layer"]["class_name"] == "Dense"
    assert rec["last_layer"]["config"]["units"] == units
    assert rec["last_layer"]["config"].get("activation") == activation
    assert rec["loss"] == loss and rec["metrics"] == metrics


@pytest.mark.parametrize(
    "settings, task, classes, encoding",
    [
        (data("imdb"), "binary", 2, "binary"),
        (data("reuters"), "multiclass", 46, "one_hot"),
        (data("mnist", label_encoding="one_hot"), "multiclass", 10, "one_hot"),
        (data("boston_housing"), "regression", None, "value"),
    ],
)
def test_describe(settings, task, classes, encoding):
    info = describe(settings)
    assert (info.task, info.num_classes, info.label_encoding) == (task, classes, encoding)
    assert info.dataset == settings["dataset"]


def test_describe_names_boston_features():
    info = describe(data("boston_housing"))
    assert info.feature_names[:3] == ("CRIM", "ZN", "INDUS") and len(info.feature_names) == 13


@pytest.mark.parametrize(
    "settings, field, words",
    [
        ("nope", "data", "must be an object"),
        ({"dataset": "mnsit"}, "data.dataset", "Did you mean 'mnist'"),
        ({"dataset": None}, "data.dataset", "Choose one of"),
        ({"dataset": "imdb", "options": [1]}, "data.options", "must be an object"),
        (data("imdb", num_word=100), "data.options.num_word", "Did you mean 'num_words'"),
        (data("imdb", num_words=5), "data.options.num_words", "from 10 to 88,587, got 5"),
        (data("imdb", num_words=100.0), "data.options.num_words", "whole number"),
        (data("imdb", num_words=True), "data.options.num_words", "whole number"),
        (data("imdb", encoding="onehot"), "data.options.encoding", "multi_hot, sequence"),
        (data("imdb", num_words=40000), "data.options.num_words", "encoding 'sequence'"),
        (data("reuters", maxlen=0), "data.options.maxlen", "from 1 to 2,500"),
        (data("mnist", image_layout="2d"), "data.options.image_layout", "image, flat"),
        (data("mnist", normalize=True), "data.options.normalize", "options are: image_layout"),
        (data("wine", normalize="yes"), "data.options.normalize", "true or false"),
        (data("wine", test_fraction=0.9), "data.options.test_fraction", "from 0.05 to 0.5"),
        (data("wine", test_fraction=float("nan")), "data.options.test_fraction", "a number"),
        (data("csv", path=3), "data.options.path", "must be text"),
        (data("csv"), "data.options.path", "no CSV file chosen"),
        (data("csv", path="x.csv", task="classify"), "data.options.task", "auto, binary"),
    ],
)
def test_validate_names_field_and_fix(settings, field, words):
    problems = validate_data_settings(settings)
    assert len(problems) >= 1
    assert any(p.startswith(f"{field}: ") and words in p for p in problems), problems


@pytest.mark.parametrize(
    "settings",
    [
        data("imdb"),
        data("imdb", num_words=20000, encoding="multi_hot"),
        data("imdb", num_words=88587, encoding="sequence", maxlen=500),
        data("reuters", label_encoding="integer"),
        data("cifar10", image_layout="flat"),
        data("boston_housing", normalize=False),
        data("diabetes", test_fraction=0.5),
        {"dataset": "digits", "options": None},
        {"dataset": "digits"},
    ],
)
def test_valid_settings(settings):
    assert validate_data_settings(settings) == []


def test_validation_reads_no_file_loading_says_what_is_wrong(tmp_path):
    """A project whose CSV is missing must still open: the file is checked when loaded."""
    assert validate_data_settings(data("csv", path="/no/such/file.csv")) == []
    with pytest.raises(DataError, match=re.escape("no file at '/no/such/file.csv'")):
        describe(data("csv", path="/no/such/file.csv"))
    path = tmp_path / "t.csv"
    path.write_text("height,weight,kind\n" + "1,2,a\n2,3,b\n" * 10)
    assert validate_data_settings(data("csv", path=str(path), target="wieght")) == []
    with pytest.raises(DataError, match="the file has no column 'wieght'"):
        describe(data("csv", path=str(path), target="wieght"))


def test_resolved_options_fill_defaults_and_refuse_invalid():
    assert resolved_options(data("imdb", maxlen=50)) == {
        "num_words": 10000,
        "encoding": "multi_hot",
        "maxlen": 50,
    }
    with pytest.raises(DataError, match=r"data\.options\.maxlen: must be from 1"):
        resolved_options(data("imdb", maxlen=-1))
    with pytest.raises(DataError, match="unknown dataset"):
        describe(data("mystery"))
