"""Text in the model: the text layers in the catalogue and checker (shapes against Keras),
a CSV's text column as raw strings, adapt at run start on the training part only, the
adapted vocabulary kept in the run folder, the saved model, the exported script and the
``.keras`` export, and predictions from raw strings."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import keras_layer, project

from builder import catalogue, templates
from builder.adapt import pending, training_part
from builder.project import ProjectError, validate

ROOT = Path(__file__).resolve().parent.parent

# Short film reviews in plain English, each written once: a word of one review may be in
# no other, so what a layer learns depends on which rows it reads.
POSITIVE = [
    "A wonderful film with brilliant acting and a moving story.",
    "I loved every minute of it, the cast is superb.",
    "Beautifully shot, funny and touching from start to finish.",
    "One of the best movies I have seen this year.",
    "The music is lovely and the script is clever.",
    "An excellent thriller that kept me guessing until the end.",
    "Charming, warm and full of heart; my whole family enjoyed it.",
    "The director delivers a stunning and memorable picture.",
    "Great performances by the two leads, I would watch it again.",
    "A delightful comedy with sharp dialogue and real wit.",
    "Gripping, intelligent and superbly edited.",
    "The animation is gorgeous and the songs are catchy.",
    "A fine adaptation of the novel, faithful and elegant.",
    "Fresh, bold and surprisingly tender.",
    "I laughed out loud many times, a real treat.",
    "A masterpiece of suspense with a satisfying twist.",
    "The acting is natural and the characters feel alive.",
    "Uplifting and inspiring, a joy to watch.",
    "Clever plotting and a terrific villain.",
    "Everything works here: story, photography and sound.",
]
NEGATIVE = [
    "A boring film with terrible acting and a dull story.",
    "I hated every minute of it, the cast is wooden.",
    "Badly shot, unfunny and tedious from start to finish.",
    "One of the worst movies I have seen this year.",
    "The music is grating and the script is lazy.",
    "A predictable thriller that gave everything away early.",
    "Cold, cynical and empty; my whole family walked out.",
    "The director delivers a confused and forgettable mess.",
    "Weak performances by the two leads, I would never watch it again.",
    "A clumsy comedy with flat dialogue and no wit.",
    "Slow, stupid and poorly edited.",
    "The animation is ugly and the songs are annoying.",
    "A poor adaptation of the novel, careless and crude.",
    "Stale, timid and strangely heartless.",
    "I never laughed once, a real chore.",
    "A failure of suspense with an absurd twist.",
    "The acting is stiff and the characters feel fake.",
    "Depressing and pointless, a pain to sit through.",
    "Sloppy plotting and a silly villain.",
    "Nothing works here: story, photography or sound.",
]


def _reviews_csv(folder: Path) -> Path:
    """60 rows: a review, a star rating (left out: the model reads the text alone) and the
    sentiment, in a fixed shuffled order."""
    rows = [(text, 4 + i % 2, "positive") for i, text in enumerate(POSITIVE)]
    rows += [(text, 1 + i % 2, "negative") for i, text in enumerate(NEGATIVE)]
    rows += [(POSITIVE[i] + " " + POSITIVE[-1 - i], 5, "positive") for i in range(10)]
    rows += [(NEGATIVE[i] + " " + NEGATIVE[-1 - i], 1, "negative") for i in range(10)]
    order = np.random.default_rng(7).permutation(len(rows))
    path = folder / "reviews.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "stars", "sentiment"])
        writer.writerows(rows[i] for i in order)
    return path


def _imdb_text(path: Path, epochs: int = 2) -> dict:
    """The raw-text IMDB template on the reviews file, small enough to train in seconds."""
    p = templates.load("imdb_text")
    p["data"]["options"]["path"] = str(path)
    p["fit"].update(epochs=epochs, batch_size=8)
    return validate(p)


def _oracle_vocabulary(texts, max_tokens: int = 10000) -> list[str]:
    """Plain Keras: a TextVectorization adapted to ``texts``."""
    import keras
    import tensorflow as tf

    layer = keras.layers.TextVectorization(max_tokens=max_tokens, output_mode="multi_hot")
    layer.adapt(tf.constant(np.asarray(texts).astype(str)))
    return [str(w) for w in layer.get_vocabulary()]


# --------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize(
    "class_name, config, shape, dtype",
    [
        ("TextVectorization", {"max_tokens": 100, "output_mode": "multi_hot",
                               "pad_to_max_tokens": True}, (), "string"),
        ("TextVectorization", {"max_tokens": 100, "output_mode": "count",
                               "pad_to_max_tokens": True}, (), "string"),
        ("TextVectorization", {"max_tokens": 100, "output_sequence_length": 12}, (1,), "string"),
        ("TextVectorization", {"vocabulary": ["good", "bad", "film"],
                               "output_mode": "multi_hot"}, (), "string"),
        ("TextVectorization", {"max_tokens": 50, "output_mode": "multi_hot",
                               "vocabulary_size": 20}, (), "string"),
        ("StringLookup", {"vocabulary": ["red", "green", "blue"],
                          "output_mode": "one_hot"}, (1,), "string"),
        ("StringLookup", {}, (3,), "string"),
        ("IntegerLookup", {"max_tokens": 10, "output_mode": "multi_hot",
                           "pad_to_max_tokens": True}, (4,), "int32"),
        ("Hashing", {"num_bins": 8, "output_mode": "one_hot"}, (1,), "int32"),
        ("Hashing", {"num_bins": 8}, (1,), "string"),
        ("Normalization", {"mean": [1.0, 2.0], "variance": [1.0, 4.0]}, (2,), "float32"),
        ("Normalization", {}, (5,), "float32"),
        ("Discretization", {"bin_boundaries": [0.0, 1.0]}, (3,), "float32"),
        ("Discretization", {"num_bins": 4, "output_mode": "one_hot"}, (1,), "float32"),
    ],
)  # fmt: skip
def test_checker_gives_keras_shapes_for_preprocessing_layers(class_name, config, shape, dtype):
    import keras

    from builder.checker import check

    p = project([("pre", class_name, config)], shape=shape, dtype=dtype, loss="mse")
    p["model"]["inputs"][0]["name"] = "x"
    result = check(p)
    layer = result.layers[0]
    assert layer.error is None, layer.error
    expected = keras_layer(class_name, config)(keras.Input(shape=shape, dtype=dtype))
    assert layer.output_shape == list(expected.shape)


def test_text_layers_are_catalogued_for_string_inputs():
    for name in ("TextVectorization", "StringLookup"):
        entry = catalogue.get(name)
        assert entry["input_dtype"] == "string" and entry["category"] == "preprocessing"
        vocabulary = next(p for p in entry["params"] if p["name"] == "vocabulary")
        assert vocabulary["type"] == "values"
    modes = next(
        p for p in catalogue.get("TextVectorization")["params"] if p["name"] == "output_mode"
    )
    assert modes["choices"] == ["int", "multi_hot", "count", "tf_idf"]


@pytest.mark.parametrize("class_name", ["TextVectorization", "StringLookup", "IntegerLookup"])
def test_a_vocabulary_is_a_list_never_a_file_to_read(class_name):
    p = project([("pre", class_name, {"vocabulary": "/etc/passwd"})], shape=(1,), loss="mse")
    with pytest.raises(ProjectError, match="never a file path"):
        validate(p)


def test_unpadded_multi_hot_before_adapt_is_refused_as_keras_refuses_it():
    import keras

    from builder.checker import check

    config = {"max_tokens": 100, "output_mode": "multi_hot"}
    p = project(
        [("tv", "TextVectorization", config), ("out", "Dense", {"units": 1})],
        shape=(),
        dtype="string",
        loss="mse",
    )
    assert not check(p).valid
    inputs = keras.Input(shape=(), dtype="string")
    vectorized = keras_layer("TextVectorization", config)(inputs)
    with pytest.raises(ValueError):
        keras.layers.Dense(1)(vectorized)


# --------------------------------------------------------------------------- CSV text


def test_a_csv_text_column_is_the_models_raw_text_input(tmp_path):
    from builder.data import csv_data, describe

    path = _reviews_csv(tmp_path)
    table = csv_data.load_table(str(path), target="sentiment", text="review")
    assert table.x_train.dtype == object and table.x_train.ndim == 1
    assert len(table.x_train) + len(table.x_test) == 60
    assert set(table.x_train) | set(table.x_test) <= set(csv_data.read_rows(path, ",")["review"])
    assert table.encoder.dropped == (("stars", "the model reads the text column 'review' alone"),)
    assert table.feature_names == ["review"]
    info = describe({"dataset": "csv", "options": {"path": str(path), "target": "sentiment",
                                                   "text": "review"}})  # fmt: skip
    assert info.input_spec == {"shape": [], "dtype": "string"}
    with pytest.raises(ProjectError, match="column 'sentiment' is the column to predict"):
        csv_data.load_table(str(path), target="sentiment", text="sentiment")
    with pytest.raises(ProjectError, match="no column 'comment' to read as text"):
        csv_data.load_table(str(path), target="sentiment", text="comment")


def test_template_checks_valid_and_follows_the_text_data(tmp_path):
    from builder.fit_check import check

    p = _imdb_text(_reviews_csv(tmp_path))
    assert pending(p) == ["text_vectorization"]
    result = check(p)
    assert result.valid, result.errors + [r.error for r in result.layers if r.error]
    assert [r.output_shape for r in result.layers] == [
        [None, 10000],
        [None, 16],
        [None, 16],
        [None, 1],
    ]
    assert result.total_params == 10000 * 16 + 16 + 16 * 16 + 16 + 17


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One run of the raw-text IMDB network on the reviews CSV: (project, run folder,
    prepared data)."""
    from builder.data import prepare
    from builder.training import runs, worker

    folder = tmp_path_factory.mktemp("text")
    p = _imdb_text(_reviews_csv(folder))
    data = prepare(p)
    run = runs.create_run(folder / "runs", "t", p, {})
    summary = worker.train(p, run, prepared=data, device="cpu")
    assert summary["state"] == "finished", summary
    return p, run, data


def test_a_run_adapts_to_the_training_part_only_and_keeps_the_vocabulary(trained):
    p, run, data = trained
    adapted = json.loads((run / "adapted.json").read_text(encoding="utf-8"))
    vocabulary = adapted["text_vectorization"]["vocabulary"]
    part = training_part(p, data.x_train, data.y_train)
    assert len(part) == len(data.x_train) - round(0.4 * len(data.x_train))
    assert vocabulary == _oracle_vocabulary(part)
    # words of the held-out reviews alone are not learnt
    assert vocabulary != _oracle_vocabulary(data.x_train)
    import keras

    saved = keras.saving.load_model(run / "model.keras")
    assert [str(w) for w in saved.get_layer("text_vectorization").get_vocabulary()] == vocabulary


def test_the_saved_model_predicts_from_raw_strings(trained):
    import keras
    import tensorflow as tf

    from builder.training import feed

    _p, run, data = trained
    saved = keras.saving.load_model(run / "model.keras")
    review = "A wonderful film, I loved the music."
    x = data.encode_text(review)
    assert x.tolist() == [review]
    ours = feed.predict(saved, x, verbose=0)
    theirs = saved.predict(tf.constant([review]), verbose=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours.shape == (1, 1) and 0.0 <= float(ours[0, 0]) <= 1.0


# --------------------------------------------------------------------------- exports


def test_exported_script_adapts_the_same_way_and_trains(trained, tmp_path):
    from builder import export

    p, run, _ = trained
    (tmp_path / "reviews.csv").write_bytes(Path(p["data"]["options"]["path"]).read_bytes())
    script = tmp_path / "train_text.py"
    script.write_text(export.to_script(p), encoding="utf-8")
    code = (
        "import json, runpy, sys; sys.argv = ['train_text.py', '--report', 'r.json']; "
        "g = runpy.run_path('train_text.py', run_name='__main__'); "
        "layer = g['model'].get_layer('text_vectorization'); "
        "json.dump([str(w) for w in layer.get_vocabulary()], open('v.json', 'w'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    adapted = json.loads((run / "adapted.json").read_text(encoding="utf-8"))
    assert (
        json.loads((tmp_path / "v.json").read_text())
        == (adapted["text_vectorization"]["vocabulary"])
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["total_params"] == 10000 * 16 + 16 + 16 * 16 + 16 + 17
    assert [layer["output_shape"] for layer in report["layers"]] == [
        [[None, 10000]],
        [[None, 16]],
        [[None, 16]],
        [[None, 1]],
    ]
    assert set(report["test"]) == {"loss", "accuracy"}


def test_keras_export_carries_the_vocabulary_and_imports_back(trained, tmp_path):
    import keras
    import tensorflow as tf

    from builder import export, keras_import

    p, run, _ = trained
    path = export.save_keras(p, tmp_path / "text.keras")
    loaded = keras.saving.load_model(path)
    adapted = json.loads((run / "adapted.json").read_text(encoding="utf-8"))
    vocabulary = adapted["text_vectorization"]["vocabulary"]
    assert [str(w) for w in loaded.get_layer("text_vectorization").get_vocabulary()] == vocabulary
    assert loaded.predict(tf.constant(["a dull film"]), verbose=0).shape == (1, 1)
    back, notes = keras_import.from_keras_file(path)
    assert back["model"]["inputs"][0]["dtype"] == "string"
    tv = back["model"]["layers"][0]
    assert tv["class_name"] == "TextVectorization"
    assert tv["config"]["vocabulary_size"] == len(vocabulary)
    assert any("adapts again to the project's training data" in n for n in notes)


def test_adapting_modules_import_no_framework():
    code = (
        "import sys, builder.adapt, builder.export, builder.data.csv_data; "
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
