"""Tiny IMDB- and Reuters-like files in Keras' own format, for tests that never download.

Keras keeps IMDB and Reuters as ``.npz`` files of object arrays (one Python list of word
ranks per text) plus a word-index JSON mapping each word to its frequency rank from 1.
A made-up file cannot be put into Keras' cache (Keras deletes files whose hash does not
match), so tests point ``builder.data.keras_sets.SOURCES`` at these files instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from builder.data.keras_sets import NpzTextSource

# Frequency ranks are positions in this list + 1 ("the" is rank 1, as in IMDB).
WORDS = [
    "the",
    "movie",
    "a",
    "was",
    "and",
    "great",
    "bad",
    "plot",
    "acting",
    "not",
    "film",
    "good",
    "boring",
    "it's",
    "story",
    "i",
    "loved",
    "hated",
    "music",
    "ending",
]
RANK = {word: i + 1 for i, word in enumerate(WORDS)}


def ranks(text: str) -> list[int]:
    """The word ranks of a text made of WORDS."""
    return [RANK[word] for word in text.split()]


IMDB_TRAIN = [
    ("the movie was great and the acting was good", 1),
    ("bad plot and bad acting", 0),
    ("i loved the music and the ending", 1),
    ("boring film i hated it's ending", 0),
    ("a great story", 1),
    ("not good not great", 0),
    ("the film was not boring", 1),
    ("hated the plot hated the acting hated the music", 0),
]
IMDB_TEST = [
    ("loved it's story", 1),
    ("the ending was bad", 0),
    ("great great great film", 1),
    ("a boring boring movie", 0),
]
# Reuters keeps one array of texts and one of topics; Keras splits 80/20 after shuffling.
REUTERS = [
    (text, topic)
    for (text, _), topic in zip(
        IMDB_TRAIN + IMDB_TEST + IMDB_TRAIN[:3], [3, 4, 19, 3, 1, 4, 3, 20, 4, 3, 19, 1, 3, 4, 19]
    )
]


def _objects(texts: list[str]) -> np.ndarray:
    """A 1-D object array of lists, as Keras stores ragged sequences."""
    out = np.empty(len(texts), dtype=object)
    for i, text in enumerate(texts):
        out[i] = ranks(text)
    return out


def write_word_index(path: Path) -> Path:
    path.write_text(json.dumps(RANK), encoding="utf-8")
    return path


def write_imdb(folder: Path) -> NpzTextSource:
    """imdb.npz + imdb_word_index.json in ``folder``; returns a source reading them."""
    data = folder / "tiny_imdb.npz"
    np.savez(
        data,
        x_train=_objects([t for t, _ in IMDB_TRAIN]),
        y_train=np.array([y for _, y in IMDB_TRAIN], np.int64),
        x_test=_objects([t for t, _ in IMDB_TEST]),
        y_test=np.array([y for _, y in IMDB_TEST], np.int64),
    )
    index = write_word_index(folder / "tiny_imdb_word_index.json")
    return NpzTextSource("imdb", str(data), str(index))


def write_reuters(folder: Path) -> NpzTextSource:
    """reuters.npz (x, y) + reuters_word_index.json in ``folder``; returns a source."""
    data = folder / "tiny_reuters.npz"
    np.savez(
        data, x=_objects([t for t, _ in REUTERS]), y=np.array([y for _, y in REUTERS], np.int64)
    )
    index = write_word_index(folder / "tiny_reuters_word_index.json")
    return NpzTextSource("reuters", str(data), str(index))


def naive_multi_hot(sequences, num_words: int) -> np.ndarray:
    """The book's vectorize_sequences, one row at a time: the reference to compare with."""
    out = np.zeros((len(sequences), num_words))
    for i, seq in enumerate(sequences):
        for word_id in seq:
            if word_id < num_words:
                out[i, word_id] = 1.0
    return out


def text_project(dataset: str, loss, **options) -> dict:
    """The smallest project dict ``prepare`` needs."""
    return {"data": {"dataset": dataset, "options": options}, "compile": {"loss": loss}}


# --------------------------------------------------------------------------- CSV cases

MIXED_ROWS = 140


def write_mixed_csv(path: Path, target: str, sep: str = ",", blank_line: bool = False) -> Path:
    """A CSV the app accepts but a naive reader does not: a row ID (whole numbers counting
    the rows) and an ID column (a different text in every row), both of which the app
    leaves out, a column empty in every row (left out), a
    text column with empty cells, number columns with empty cells, and the target last.

    ``target``: "price" (numbers, regression), "band" (three words, multiclass), "sold"
    ("yes"/"no", binary) or "grade" (whole numbers 1-4, classes). ``blank_line`` puts an
    empty line in the middle of the file (pandas then reads whole numbers as floats).
    """
    towns = ["Leeds", "York", "Hull"]
    lines = [sep.join(["row_id", "id", "notes", "town", "rooms", "area", target])]
    for i in range(MIXED_ROWS):
        town = "" if i % 11 == 0 else towns[i % 3]
        rooms = "" if i % 7 == 3 else str(1 + i % 5)
        area = f"{40 + (i * 37) % 90 + 0.25 * (i % 4):.2f}" if i % 13 != 5 else ""
        price = 50 + 20 * (1 + i % 5) + (i * 37) % 90 + 15 * (i % 3)
        value = {
            "price": f"{price}.5",
            "band": ["low", "mid", "high"][price % 3],
            "sold": ["no", "yes"][price % 2],
            "grade": str(1 + price % 4),
        }[target]
        lines.append(sep.join([str(i + 1), f"u{i:04d}", "", town, rooms, area, value]))
        if blank_line and i == MIXED_ROWS // 2:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


MIXED_CASES = {
    "csv_regression": {
        "target": "price",
        "task": "regression",
        "loss": "mse",
        "metrics": ["mae"],
        "units": 1,
        "activation": None,
        "options": {},
    },
    "csv_multiclass": {
        "target": "band",
        "task": "multiclass",
        "loss": "categorical_crossentropy",
        "metrics": ["accuracy"],
        "units": 3,
        "activation": "softmax",
        "options": {},
    },
    "csv_binary": {
        "target": "sold",
        "task": "binary",
        "loss": "binary_crossentropy",
        "metrics": ["accuracy"],
        "units": 1,
        "activation": "sigmoid",
        "options": {"normalize": False},
        "sep": ";",
        "blank_line": True,
    },
    "csv_excluded": {  # the user leaves out the text column and a number column
        "target": "price",
        "task": "regression",
        "loss": "mse",
        "metrics": ["mae"],
        "units": 1,
        "activation": None,
        "options": {"exclude": ["town", "rooms"]},
    },
    "csv_integer_classes": {
        "target": "grade",
        "task": "auto",
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
        "units": 4,
        "activation": "softmax",
        "options": {},
        "sep": "\t",
        "blank_line": True,
    },
}


def mixed_csv_project(folder: Path, case: str) -> dict:
    """A Dense network on ``write_mixed_csv``'s file for one of MIXED_CASES, its input
    as wide as the app's encoding of the file."""
    from builder.data import registry
    from tests.helpers import project

    spec = MIXED_CASES[case]
    path = folder / f"{case}.csv"
    if not path.exists():
        write_mixed_csv(path, spec["target"], spec.get("sep", ","), spec.get("blank_line", False))
    options = {
        "path": str(path),
        "target": spec["target"],
        "task": spec["task"],
        "test_fraction": 0.25,
        **spec["options"],
    }
    data = {"dataset": "csv", "options": options}
    width = registry.describe(data).input_spec["shape"]
    out = {"units": spec["units"]}
    if spec["activation"]:
        out["activation"] = spec["activation"]
    p = project(
        [("hidden", "Dense", {"units": 8, "activation": "relu"}), ("out", "Dense", out)],
        shape=width,
        loss=spec["loss"],
        metrics=spec["metrics"],
        dataset="csv",
        options=options,
    )
    p["name"] = case
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    return p


# --------------------------------------------------------------------------- two targets


def write_two_target_csv(path: Path, rows: int = 120) -> Path:
    """A CSV with two target columns: "kind" (three words, multiclass) and "size" (a
    number, regression), both following the features "a", "b" and "colour"."""
    lines = ["a,b,colour,kind,size"]
    for i in range(rows):
        a, b = (i * 7) % 13, (i * 5) % 11
        colour = ["red", "green", "blue"][i % 3]
        kind = ["small", "medium", "large"][(a + b) % 3]
        lines.append(f"{a},{b},{colour},{kind},{a * 1.5 + b * 0.25 + 2:.2f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def two_target_project(folder: Path, **options) -> dict:
    """A two-head functional model on ``write_two_target_csv``'s file: output "kind"
    (Dense 3, softmax, categorical crossentropy) learns column "kind", output "size"
    (Dense 1, mse) learns column "size"."""
    from tests.helpers import project

    path = folder / "two_targets.csv"
    if not path.exists():
        write_two_target_csv(path)
    options = {
        "path": str(path),
        "targets": [
            {"column": "kind", "output": "kind", "task": "multiclass"},
            {"column": "size", "output": "size", "task": "regression"},
        ],
        "test_fraction": 0.25,
        **options,
    }
    p = project(
        [
            ("hidden", "Dense", {"units": 8, "activation": "relu"}, ["x"]),
            ("kind", "Dense", {"units": 3, "activation": "softmax"}, ["hidden"]),
            ("size", "Dense", {"units": 1}, ["hidden"]),
        ],
        shape=(5,),
        outputs=["kind", "size"],
        loss={"kind": "categorical_crossentropy", "size": "mse"},
        dataset="csv",
        options=options,
    )
    p["compile"]["metrics"] = {"kind": ["accuracy"], "size": ["mae"]}
    p["name"] = "two_targets"
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    return p
