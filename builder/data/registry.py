"""Every dataset the builder offers, as data: what it holds, its options, what a model needs.

This module is pure metadata. It never imports TensorFlow, Keras or scikit-learn, so the
first page paint does not wait for them; only a CSV's description reads the file (through
``builder.data.csv_data``, which imports pandas when called).

The project's ``data`` section is ``{"dataset": name, "options": {...}}``; options use the
same dict format as the layer catalogue's parameters (name, type, default, min, max,
choices, label, help), so the UI draws dataset forms with the same code as layer forms.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, replace
from typing import Any

from builder import fields, limits
from builder.data.errors import DataError
from builder.errors import ProblemList

__all__ = [
    "DATASETS",
    "MULTI_HOT_LIMIT_BYTES",
    "DataInfo",
    "DatasetSpec",
    "TargetInfo",
    "describe",
    "input_spec",
    "recommend",
    "recommend_for",
    "recommend_outputs",
    "resolved_options",
    "target_pairs",
    "validate_data_settings",
]

# Multi-hot text vectors are dense float32 (rows x num_words); above this a machine with
# 16 GB starts swapping once Keras makes its own copies during fit.
MULTI_HOT_LIMIT_BYTES = 4 * 1024**3

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TASKS = ("binary", "multiclass", "regression")
# The keys of one entry of a CSV's ``targets`` option; "task" may be left out ("auto").
TARGET_KEYS = ("column", "output", "task")


def _option(
    name: str,
    type_: str,
    default: Any,
    label: str,
    help_: str,
    *,
    min_: float | None = None,
    max_: float | None = None,
    choices: tuple | None = None,
) -> dict:
    """One option in the layer catalogue's parameter format (every key always present)."""
    return {
        "name": name,
        "type": type_,
        "default": default,
        "min": min_,
        "max": max_,
        "choices": list(choices) if choices is not None else None,
        "label": label,
        "help": help_,
    }


def _file(name: str, size: int, url: str, role: str = "data", save_as: str | None = None) -> dict:
    """A file a Keras loader downloads; ``save_as`` is its path under $KERAS_HOME/datasets."""
    return {"name": name, "bytes": size, "url": url, "role": role, "save_as": save_as or name}


def _num_words(default: int, most: int) -> dict:
    return _option(
        "num_words",
        "int",
        default,
        "Vocabulary size",
        "Keep only this many most frequent words (the book keeps 10,000); rarer "
        "words become the out-of-vocabulary id 2.",
        min_=10,
        max_=most,
    )


_ENCODING = _option(
    "encoding",
    "choice",
    "multi_hot",
    "Text encoding",
    "multi_hot: one vector of num_words zeros and ones per text, for Dense layers (the "
    "book's choice); sequence: the word ids in order, padded or cut to maxlen, for "
    "Embedding, LSTM or Conv1D.",
    choices=("multi_hot", "sequence"),
)
_MAXLEN = _option(
    "maxlen",
    "int",
    200,
    "Sequence length",
    "Used with encoding 'sequence': longer texts keep their last maxlen words, shorter ones "
    "are padded with 0 at the start (Keras' pad_sequences defaults).",
    min_=1,
    max_=2500,
)


def _label_encoding(default: str) -> dict:
    return _option(
        "label_encoding",
        "choice",
        default,
        "Labels as",
        "one_hot: a vector with a 1 at the class (categorical_crossentropy); "
        "integer: the class number (sparse_categorical_crossentropy). If the loss "
        "needs the other form, the loss wins and a note says so.",
        choices=("one_hot", "integer"),
    )


def _image_layout(default: str, shape: tuple[int, int, int]) -> dict:
    h, w, c = shape
    return _option(
        "image_layout",
        "choice",
        default,
        "Image layout",
        f"image: each sample is {h}x{w}x{c} (height, width, channels), for Conv2D; "
        f"flat: {h * w * c} numbers in a row, for Dense. Pixels are scaled to 0-1 "
        f"either way.",
        choices=("image", "flat"),
    )


_NORMALIZE = _option(
    "normalize",
    "bool",
    True,
    "Normalize features",
    "Subtract each feature's mean and divide by its standard deviation, both computed on the "
    "training split only, as the book does for Boston housing.",
)
_TEST_FRACTION = _option(
    "test_fraction",
    "float",
    0.2,
    "Test fraction",
    "Share of the rows kept apart as the test set, the same rows every time (fixed seed, "
    "stratified by class for classification).",
    min_=0.05,
    max_=0.5,
)


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is, before anything is loaded.

    ``options`` is a tuple of option dicts in the layer catalogue's parameter format; treat
    them as read-only. ``files`` lists what a Keras loader downloads: ``name`` (the file
    as published), ``bytes``, ``url``, ``role`` ("data" is needed to train, "word_index"
    only to show or type text) and ``save_as`` (its path under ``$KERAS_HOME/datasets``).
    A CSV's task, classes and features depend on its file: its spec says ``task="auto"``
    and ``describe`` tells the rest. ``sample_shape`` is one sample's natural shape:
    (height, width, channels) for images, (features,) for tables, None for text and CSV.
    """

    name: str
    label: str
    description: str
    source: str  # "keras" | "sklearn" | "csv"
    task: str  # "binary" | "multiclass" | "regression"; "auto" for csv
    num_classes: int | None
    class_names: tuple[str, ...] | None
    sample_kind: str  # "text" | "image" | "table"
    options: tuple[dict, ...]
    offline: bool
    files: tuple[dict, ...] = ()
    num_examples: int | None = None
    sample_shape: tuple[int, ...] | None = None
    feature_names: tuple[str, ...] | None = None
    target_name: str | None = None

    def option(self, name: str) -> dict | None:
        """The option dict called ``name``, or None."""
        return next((opt for opt in self.options if opt["name"] == name), None)

    def defaults(self) -> dict:
        """Every option at its default value."""
        return {opt["name"]: opt["default"] for opt in self.options}


@dataclass(frozen=True)
class TargetInfo:
    """One target column of a CSV with several: the model output it trains, its task and
    classes, and the form of its labels (as ``DataInfo``'s fields of the same names)."""

    output: str
    column: str
    task: str
    num_classes: int | None
    class_names: tuple[str, ...] | None
    label_encoding: str


@dataclass(frozen=True)
class DataInfo:
    """What the rest of the app needs to know about the data a project will train on.

    ``input_spec`` is ``{"shape": [...], "dtype": "float32" | "int32"}`` for one sample
    (no batch axis). ``label_encoding`` is the form of the labels: "binary" (one 0/1
    float per sample), "one_hot" (num_classes floats), "integer" (the class number) or
    "value" (one float to predict, for regression).
    ``targets``: for a CSV with several target columns, one ``TargetInfo`` per column, each
    trained by its own model output; empty when every output learns the one label. The
    task, classes and label form above are then the first target's.
    """

    dataset: str
    task: str
    num_classes: int | None
    class_names: tuple[str, ...] | None
    input_spec: dict
    label_encoding: str
    sample_kind: str
    feature_names: tuple[str, ...] | None = None
    target_name: str | None = None
    targets: tuple[TargetInfo, ...] = ()

    def target_of(self, output: str) -> TargetInfo | None:
        """The target column trained by ``output``, None when there is none (or when every
        output learns the one label: see ``for_output``)."""
        return next((t for t in self.targets if t.output == output), None)

    def for_output(self, output: str) -> DataInfo:
        """The data as ``output`` sees it: its own target's task, classes and label form
        (itself when every output learns the one label, or ``output`` has no target)."""
        target = self.target_of(output)
        if target is None:
            return self
        return replace(
            self,
            task=target.task,
            num_classes=target.num_classes,
            class_names=target.class_names,
            label_encoding=target.label_encoding,
            target_name=target.column,
            targets=(),
        )


_REUTERS_TOPICS = (
    "cocoa",
    "grain",
    "veg-oil",
    "earn",
    "acq",
    "wheat",
    "copper",
    "housing",
    "money-supply",
    "coffee",
    "sugar",
    "trade",
    "reserves",
    "ship",
    "cotton",
    "carcass",
    "crude",
    "nat-gas",
    "cpi",
    "money-fx",
    "interest",
    "gnp",
    "meal-feed",
    "alum",
    "oilseed",
    "gold",
    "tin",
    "strategic-metal",
    "livestock",
    "retail",
    "ipi",
    "iron-steel",
    "rubber",
    "heat",
    "jobs",
    "lei",
    "bop",
    "zinc",
    "orange",
    "pet-chem",
    "dlr",
    "gas",
    "silver",
    "wpi",
    "hog",
    "lead",
)
_BOSTON_FEATURES = (
    "CRIM",
    "ZN",
    "INDUS",
    "CHAS",
    "NOX",
    "RM",
    "AGE",
    "DIS",
    "RAD",
    "TAX",
    "PTRATIO",
    "B",
    "LSTAT",
)
_FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_CIFAR10 = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_DIGITS = tuple(str(d) for d in range(10))
_FASHION_FILES = tuple(
    _file(name, size, _KERAS_ORIGIN + name, save_as=f"fashion-mnist/{name}")
    for name, size in (
        ("train-labels-idx1-ubyte.gz", 29_515),
        ("train-images-idx3-ubyte.gz", 26_421_880),
        ("t10k-labels-idx1-ubyte.gz", 5_148),
        ("t10k-images-idx3-ubyte.gz", 4_422_102),
    )
)

_SPECS = (
    DatasetSpec(
        name="imdb",
        label="IMDB movie reviews",
        description="50,000 movie reviews labelled positive or negative: binary "
        "classification of text (book section 3.4).",
        source="keras",
        task="binary",
        num_classes=2,
        class_names=("negative", "positive"),
        sample_kind="text",
        options=(_num_words(10_000, 88_587), _ENCODING, _MAXLEN),
        offline=False,
        num_examples=50_000,
        files=(
            _file("imdb.npz", 17_464_789, _KERAS_ORIGIN + "imdb.npz"),
            _file(
                "imdb_word_index.json",
                1_641_221,
                _KERAS_ORIGIN + "imdb_word_index.json",
                role="word_index",
            ),
        ),
        target_name="sentiment",
    ),
    DatasetSpec(
        name="reuters",
        label="Reuters newswires",
        description="11,228 short Reuters newswires from 1986 sorted into 46 topics: "
        "single-label multiclass classification (book section 3.5).",
        source="keras",
        task="multiclass",
        num_classes=46,
        class_names=_REUTERS_TOPICS,
        sample_kind="text",
        options=(_num_words(10_000, 30_982), _ENCODING, _MAXLEN, _label_encoding("one_hot")),
        offline=False,
        num_examples=11_228,
        files=(
            _file("reuters.npz", 2_110_848, _KERAS_ORIGIN + "reuters.npz"),
            _file(
                "reuters_word_index.json",
                550_378,
                _KERAS_ORIGIN + "reuters_word_index.json",
                role="word_index",
            ),
        ),
        target_name="topic",
    ),
    DatasetSpec(
        name="boston_housing",
        label="Boston housing prices",
        description="506 Boston suburbs in the mid-1970s, 13 features each: predict the "
        "median home price in $1000s, a regression (book section 3.6).",
        source="keras",
        task="regression",
        num_classes=None,
        class_names=None,
        sample_kind="table",
        options=(_NORMALIZE,),
        offline=False,
        num_examples=506,
        files=(_file("boston_housing.npz", 57_026, _KERAS_ORIGIN + "boston_housing.npz"),),
        sample_shape=(13,),
        feature_names=_BOSTON_FEATURES,
        target_name="median home price ($1000s)",
    ),
    DatasetSpec(
        name="mnist",
        label="MNIST handwritten digits",
        description="70,000 grayscale 28x28 images of handwritten digits 0-9: the book's "
        "first network (section 2.1).",
        source="keras",
        task="multiclass",
        num_classes=10,
        class_names=_DIGITS,
        sample_kind="image",
        options=(_image_layout("flat", (28, 28, 1)), _label_encoding("integer")),
        offline=False,
        num_examples=70_000,
        files=(_file("mnist.npz", 11_490_434, _KERAS_ORIGIN + "mnist.npz"),),
        sample_shape=(28, 28, 1),
        target_name="digit",
    ),
    DatasetSpec(
        name="fashion_mnist",
        label="Fashion-MNIST clothing",
        description="70,000 grayscale 28x28 images of clothing in 10 kinds: a harder "
        "drop-in for MNIST.",
        source="keras",
        task="multiclass",
        num_classes=10,
        class_names=_FASHION,
        sample_kind="image",
        options=(_image_layout("flat", (28, 28, 1)), _label_encoding("integer")),
        offline=False,
        num_examples=70_000,
        files=_FASHION_FILES,
        sample_shape=(28, 28, 1),
        target_name="kind of clothing",
    ),
    DatasetSpec(
        name="cifar10",
        label="CIFAR-10 small photos",
        description="60,000 colour 32x32 photos in 10 classes (airplane, cat, ship...): "
        "image classification for convnets.",
        source="keras",
        task="multiclass",
        num_classes=10,
        class_names=_CIFAR10,
        sample_kind="image",
        options=(_image_layout("image", (32, 32, 3)), _label_encoding("integer")),
        offline=False,
        num_examples=60_000,
        files=(
            _file(
                "cifar-10-python.tar.gz",
                170_498_071,
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                save_as="cifar-10-batches-py-target_archive",
            ),
        ),
        sample_shape=(32, 32, 3),
        target_name="object",
    ),
    DatasetSpec(
        name="digits",
        label="Digits (8x8, offline)",
        description="1,797 grayscale 8x8 images of handwritten digits shipped with "
        "scikit-learn: a tiny MNIST that needs no download.",
        source="sklearn",
        task="multiclass",
        num_classes=10,
        class_names=_DIGITS,
        sample_kind="image",
        options=(_image_layout("flat", (8, 8, 1)), _label_encoding("integer"), _TEST_FRACTION),
        offline=True,
        num_examples=1_797,
        sample_shape=(8, 8, 1),
        target_name="digit",
    ),
    DatasetSpec(
        name="breast_cancer",
        label="Breast cancer (offline)",
        description="569 breast tumour measurements (30 features) labelled malignant or "
        "benign: binary classification of a table, shipped with scikit-learn.",
        source="sklearn",
        task="binary",
        num_classes=2,
        class_names=("malignant", "benign"),
        sample_kind="table",
        options=(_NORMALIZE, _TEST_FRACTION),
        offline=True,
        num_examples=569,
        sample_shape=(30,),
        target_name="diagnosis",
    ),
    DatasetSpec(
        name="wine",
        label="Wine cultivars (offline)",
        description="178 Italian wines, 13 chemical measurements each, from 3 cultivars: "
        "multiclass classification of a table, shipped with scikit-learn.",
        source="sklearn",
        task="multiclass",
        num_classes=3,
        class_names=("cultivar 1", "cultivar 2", "cultivar 3"),
        sample_kind="table",
        options=(_NORMALIZE, _TEST_FRACTION, _label_encoding("one_hot")),
        offline=True,
        num_examples=178,
        sample_shape=(13,),
        target_name="cultivar",
    ),
    DatasetSpec(
        name="diabetes",
        label="Diabetes progression (offline)",
        description="442 diabetes patients, 10 baseline measurements each: predict disease "
        "progression one year later, a regression shipped with scikit-learn.",
        source="sklearn",
        task="regression",
        num_classes=None,
        class_names=None,
        sample_kind="table",
        options=(_NORMALIZE, _TEST_FRACTION),
        offline=True,
        num_examples=442,
        sample_shape=(10,),
        feature_names=("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
        target_name="disease progression after one year",
    ),
    DatasetSpec(
        name="csv",
        label="Your CSV file",
        description="A table you upload: one row per sample, one column to predict; "
        "numbers are normalised and text columns one-hot encoded.",
        source="csv",
        task="auto",
        num_classes=None,
        class_names=None,
        sample_kind="table",
        options=(
            _option(
                "path",
                "str",
                "",
                "CSV file",
                "Path of the CSV file (the Data page fills it in when you upload).",
            ),
            _option(
                "target",
                "str",
                "",
                "Column to predict",
                "Name of the target column; empty means the last column.",
            ),
            _option(
                "task",
                "choice",
                "auto",
                "Task",
                "auto: text targets or up to 10 distinct whole numbers are classes "
                "(2 classes: binary), anything else is regression.",
                choices=("auto",) + _TASKS,
            ),
            _option(
                "targets",
                "targets",
                [],
                "Columns to predict, one per output",
                "For a model with several outputs: a list of {column, output, task}, each "
                "column the target of the model output named (task auto, binary, "
                "multiclass or regression). Empty: every output learns the one column "
                "above.",
            ),
            _option(
                "exclude",
                "columns",
                [],
                "Leave out columns",
                "Columns of the file that are not inputs to the model (a name, a row "
                "number, a note). Row IDs and free text are left out without being listed.",
            ),
            _TEST_FRACTION,
            _NORMALIZE,
            _label_encoding("one_hot"),
        ),
        offline=True,
    ),
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


# --------------------------------------------------------------------------- validation


_close = fields.did_you_mean


def _check_value(opt: dict, value: Any) -> str | None:
    """Why ``value`` is not acceptable for option ``opt``, or None when it is."""
    kind = opt["type"]
    if kind == "targets":
        return _targets_problem(value)
    if kind == "columns":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f'must be a list of column names such as ["id", "name"], got {value!r}.'
        if len(value) > limits.MAX_CSV_COLUMNS:
            return f"lists {len(value):,} columns; a file has at most {limits.MAX_CSV_COLUMNS:,}."
        return None
    return fields.check_value(opt, value)


def _targets_problem(value: Any) -> str | None:
    """Why ``value`` is not a list of {column, output, task} entries, or None."""
    example = '[{"column": "species", "output": "kind", "task": "auto"}, ...]'
    if not isinstance(value, list):
        return f"must be a list such as {example}, got {value!r}."
    if len(value) > limits.MAX_CSV_COLUMNS:
        return f"lists {len(value):,} targets; a file has at most {limits.MAX_CSV_COLUMNS:,}."
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            return f"entry {i} must be an object such as {example[1:-6]}, got {entry!r}."
        unknown = sorted(set(entry) - set(TARGET_KEYS), key=str)
        if unknown:
            return (
                f"entry {i} has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"its keys are {', '.join(TARGET_KEYS)}."
            )
        for key in ("column", "output"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                return f"entry {i} needs {key!r}: the name of a {key}, got {entry.get(key)!r}."
        task = entry.get("task", "auto")
        if task not in ("auto",) + _TASKS:
            return (
                f"entry {i} (column {entry['column']!r}): task {task!r} is not one of "
                f"auto, {', '.join(_TASKS)}.{_close(task, _TASKS)}"
            )
    for key in ("column", "output"):
        counts = collections.Counter(entry[key] for entry in value)
        twice = sorted(n for n, count in counts.items() if count > 1)
        if twice:
            what = "column is the target of" if key == "column" else "output is trained on"
            return (
                f"{', '.join(map(repr, twice))}: each {what} one entry only, one output per column."
            )
    return None


def target_pairs(options: dict) -> tuple[tuple[str, str], ...]:
    """A CSV's several targets as ((column, task), ...) in their order; () for one target."""
    return tuple((t["column"], t.get("task", "auto")) for t in options.get("targets") or ())


def validate_data_settings(data: Any) -> list[str]:
    """Every problem with a project's ``data`` section, one message each, [] when valid.

    Messages start with the field they are about (``data.options.num_words: ...``) and say
    the fix. Nothing is read from disk (a CSV's file is checked when it is loaded).
    """
    if not isinstance(data, dict):
        return [
            'data: must be an object such as {"dataset": "mnist", "options": {}}, '
            f"got {data!r}."
        ]
    name = data.get("dataset")
    if name not in DATASETS:
        return [
            f"data.dataset: unknown dataset {name!r}.{_close(name, DATASETS)} Choose one "
            f"of: {', '.join(DATASETS)}."
        ]
    spec = DATASETS[name]
    options = data.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return [f"data.options: must be an object of option names and values, got {options!r}."]
    problems = ProblemList(cap=limits.MAX_PROBLEMS + 1)
    known = {opt["name"] for opt in spec.options}
    try:
        for key, value in options.items():
            opt = spec.option(key)
            if opt is None:
                problems.append(
                    f"data.options.{key}: {spec.label} has no option {key!r}."
                    f"{_close(key, known)} Its options are: "
                    f"{', '.join(sorted(known))}."
                )
                continue
            problem = _check_value(opt, value)
            if problem:
                problems.append(f"data.options.{key}: {problem}")
    except ProblemList.Full:  # thousands of unknown options: enough said
        pass
    problems = list(problems)
    if problems:
        return problems
    resolved = {**spec.defaults(), **options}
    if spec.sample_kind == "text" and resolved["encoding"] == "multi_hot":
        need = spec.num_examples * resolved["num_words"] * 4
        if need > MULTI_HOT_LIMIT_BYTES:
            most = MULTI_HOT_LIMIT_BYTES // (spec.num_examples * 4)
            problems.append(
                f"data.options.num_words: multi-hot vectors of {resolved['num_words']:,} "
                f"floats for {spec.num_examples:,} texts take {need / 1024**3:.1f} GB; use "
                f"num_words up to {most:,}, or encoding 'sequence' with an Embedding layer."
            )
    if spec.source == "csv":
        problems.extend(_csv_problems(resolved))
    return problems


def _csv_problems(options: dict) -> list[str]:
    # The file itself is not read here: a project whose CSV is missing must still open.
    # ``describe`` and loading say what is wrong with the file (missing, no such column).
    if not options["path"]:
        return [
            "data.options.path: no CSV file chosen; upload one on the Data page or set "
            "the path of a .csv file."
        ]
    return []


def resolved_options(data_settings: dict) -> dict:
    """The dataset's options with defaults filled in; DataError when the settings are invalid."""
    problems = validate_data_settings(data_settings)
    if problems:
        raise DataError("The data settings need fixing: " + " ".join(problems))
    spec = DATASETS[data_settings["dataset"]]
    return {**spec.defaults(), **(data_settings.get("options") or {})}


# --------------------------------------------------------------------------- description


def _image_spec(shape: tuple[int, ...], layout: str) -> dict:
    if layout == "flat":
        return {"shape": [math.prod(shape)], "dtype": "float32"}
    return {"shape": list(shape), "dtype": "float32"}


def describe(data_settings: dict) -> DataInfo:
    """Task, classes, input spec and label form for the project's ``data`` section.

    Needs no TensorFlow and loads nothing, except for a CSV file, which is read (and
    cached) because its task, classes and one-hot width depend on its contents.
    Raises DataError when the settings are invalid or the CSV cannot be used.
    """
    options = resolved_options(data_settings)
    spec = DATASETS[data_settings["dataset"]]
    targets: tuple[TargetInfo, ...] = ()
    if spec.source == "csv":
        from builder.data import csv_data

        table = csv_data.load_table_cached(options)
        task, classes, names = table.task, table.num_classes, table.class_names
        shape = {"shape": [len(table.feature_names)], "dtype": "float32"}
        features, target = tuple(table.feature_names), table.target
        if options.get("targets"):
            targets = tuple(
                TargetInfo(
                    output=entry["output"],
                    column=col.column,
                    task=col.task,
                    num_classes=col.num_classes,
                    class_names=col.class_names,
                    label_encoding=_encoding_of(col.task, options),
                )
                for entry, col in zip(options["targets"], table.targets)
            )
    else:
        task, classes, names = spec.task, spec.num_classes, spec.class_names
        features, target = spec.feature_names, spec.target_name
        if spec.sample_kind == "text":
            if options["encoding"] == "multi_hot":
                shape = {"shape": [options["num_words"]], "dtype": "float32"}
            else:
                shape = {"shape": [options["maxlen"]], "dtype": "int32"}
        elif spec.sample_kind == "image":
            shape = _image_spec(spec.sample_shape, options["image_layout"])
        else:
            shape = {"shape": list(spec.sample_shape), "dtype": "float32"}
    encoding = _encoding_of(task, options)
    return DataInfo(
        dataset=spec.name,
        task=task,
        num_classes=classes,
        class_names=names,
        input_spec=shape,
        label_encoding=encoding,
        sample_kind=spec.sample_kind,
        feature_names=features,
        target_name=target,
        targets=targets,
    )


def _encoding_of(task: str, options: dict) -> str:
    """The label form of a task before any loss has a say: "binary", the dataset's
    ``label_encoding`` for several classes, "value" for regression."""
    if task == "binary":
        return "binary"
    if task == "multiclass":
        return options.get("label_encoding", "one_hot")
    return "value"


def input_spec(data_settings: dict) -> dict:
    """One sample's ``{"shape": [...], "dtype": "float32" | "int32"}``, batch axis excluded.

    >>> input_spec({"dataset": "imdb", "options": {"num_words": 5000}})
    {'shape': [5000], 'dtype': 'float32'}
    >>> input_spec({"dataset": "mnist", "options": {"image_layout": "image"}})
    {'shape': [28, 28, 1], 'dtype': 'float32'}
    """
    return dict(describe(data_settings).input_spec)


def recommend(data_settings: dict) -> dict:
    """The last layer, loss and metrics that suit the dataset's task.

    Returns ``{"last_layer": {"class_name": "Dense", "config": {...}}, "loss": str,
    "metrics": [str]}``: sigmoid + binary_crossentropy for two classes, softmax +
    (sparse_)categorical_crossentropy for more (sparse when labels are integers), a
    plain Dense(1) + mse with the mae metric for regression, as in the book.
    """
    return recommend_for(describe(data_settings))


def recommend_outputs(info: DataInfo, outputs: list[str]) -> dict[str, dict]:
    """``recommend_for`` per model output: each output's own target decides its last layer,
    loss and metrics (the one label's recommendation for every output without one)."""
    return {out: recommend_for(info.for_output(out)) for out in outputs}


def recommend_for(info: DataInfo) -> dict:
    """``recommend`` for a dataset already described (see ``describe``)."""
    if info.task == "binary":
        return {
            "last_layer": {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}},
            "loss": "binary_crossentropy",
            "metrics": ["accuracy"],
        }
    if info.task == "multiclass":
        loss = (
            "sparse_categorical_crossentropy"
            if info.label_encoding == "integer"
            else "categorical_crossentropy"
        )
        return {
            "last_layer": {
                "class_name": "Dense",
                "config": {"units": info.num_classes, "activation": "softmax"},
            },
            "loss": loss,
            "metrics": ["accuracy"],
        }
    return {
        "last_layer": {"class_name": "Dense", "config": {"units": 1}},
        "loss": "mse",
        "metrics": ["mae"],
    }


def matching_data(inputs: list[dict]) -> dict | None:
    """The first built-in dataset (default options, or the other image layout) whose
    samples have the model's input shape and dtype; None for several inputs or no match."""
    if len(inputs) != 1:
        return None
    first = inputs[0] if isinstance(inputs[0], dict) else {}
    want = {"shape": first.get("shape"), "dtype": first.get("dtype", "float32")}
    for name, spec in DATASETS.items():
        if spec.source == "csv":
            continue
        variants = [{}] + [
            {"image_layout": c} for c in (spec.option("image_layout") or {}).get("choices") or []
        ]
        shape = want["shape"]
        if spec.option("encoding") and len(shape) == 1 and shape[0] and shape[0] <= 2500:
            variants.append({"encoding": "sequence", "maxlen": shape[0]})
        for options in variants:
            data = {"dataset": name, "options": options}
            if input_spec(data) == want:
                return data
    return None
