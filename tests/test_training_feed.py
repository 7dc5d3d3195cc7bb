"""builder.training.feed: multi-hot text reaches Keras one encoded batch at a time.

The book's text templates (IMDB dense, Reuters dense, IMDB LSTM) train end to end in the
worker on tiny files in Keras' format (through the loader's seam), so every path that
hands text to Keras (fit with hold-out, split or K-fold, evaluate, predict) is exercised.
"""

from __future__ import annotations

import copy

import fixtures_data
import numpy as np
import pytest

from builder import templates
from builder.data import clear_cache, keras_sets, prepare
from builder.data.preprocess import MultiHotRows, multi_hot
from builder.project import validate
from builder.training import feed, runs, worker


@pytest.fixture
def tiny_text(tmp_path, monkeypatch):
    monkeypatch.setitem(keras_sets.SOURCES, "imdb", fixtures_data.write_imdb(tmp_path))
    monkeypatch.setitem(keras_sets.SOURCES, "reuters", fixtures_data.write_reuters(tmp_path))
    clear_cache()
    yield
    clear_cache()


SEQS = [[1, 5, 5, 9], [], [2, 3], [1, 11, 4], [7], [1, 2, 3, 4, 5, 6]]


def _batches(ds):
    return [tuple(np.asarray(part) for part in batch) for batch in ds.as_numpy_iterator()]


def test_dataset_batches_equal_multi_hot_in_order():
    rows = MultiHotRows(SEQS, 10)  # id 11 is outside the vocabulary: ignored
    y = np.arange(6, dtype=np.float32)
    batches = _batches(feed.dataset(rows, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), multi_hot(SEQS, 10))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert batches[0][0].dtype == np.float32


def test_shuffled_dataset_keeps_rows_with_their_labels_and_changes_order():
    import keras

    keras.utils.set_random_seed(0)
    seqs = [[i % 50, 50 + i % 7] for i in range(64)]
    rows, y = MultiHotRows(seqs, 60), np.arange(64, dtype=np.int32)
    ds = feed.dataset(rows, {"out": y}, batch_size=16, shuffle=True)
    orders = []
    for _ in range(2):
        labels, xs = [], []
        for x_batch, y_batch in ds.as_numpy_iterator():
            labels.append(y_batch["out"])
            xs.append(x_batch)
        labels = np.concatenate(labels)
        np.testing.assert_array_equal(np.concatenate(xs), multi_hot(seqs, 60)[labels])
        assert sorted(labels) == list(range(64))
        orders.append(labels.tolist())
    assert orders[0] != orders[1] and orders[0] != list(range(64))


def test_plain_arrays_pass_through_and_lazy_ones_materialise():
    x = np.ones((3, 2), np.float32)
    assert not feed.is_lazy(x) and feed.is_lazy({"a": MultiHotRows(SEQS, 10)})
    assert feed.materialise(x) is x
    both = feed.materialise([MultiHotRows(SEQS, 10), x])
    np.testing.assert_array_equal(both[0], multi_hot(SEQS, 10))
    (xf, _yf), (xv, yv) = feed.split_last(MultiHotRows(SEQS, 10), np.arange(6), 0.34)
    assert len(xf) == 3 and yv.tolist() == [3, 4, 5] and isinstance(xv, MultiHotRows)


def _train(project, tmp_path, **changes):
    p = copy.deepcopy(project)
    p["fit"].update(epochs=2, batch_size=4, **changes)
    p = validate(p)
    folder = runs.create_run(tmp_path / "runs", "tests", p, {})
    events = []
    summary = worker.train(p, folder, events.append, device="cpu")
    assert summary["state"] == "finished", summary["message"]
    return summary, folder


@pytest.mark.parametrize(
    "name,validation",
    [
        ("imdb_dense", {"method": "holdout", "count": 2}),
        ("imdb_dense", {"method": "split", "fraction": 0.25}),
        ("reuters_dense", {"method": "holdout", "fraction": 0.25}),
        ("imdb_lstm", {"method": "holdout", "count": 2}),
    ],
)
def test_text_templates_train_on_tiny_files(tiny_text, tmp_path, name, validation):
    summary, folder = _train(templates.load(name), tmp_path, validation=validation)
    assert summary["epochs"] == 2
    assert len(summary["history"]["loss"]) == 2 and len(summary["history"]["val_loss"]) == 2
    assert set(summary["test"]) >= {"loss", "accuracy"}
    assert (folder / "model.keras").is_file()


@pytest.mark.parametrize(
    "callbacks,parallel",
    [
        ([], True),  # folds side by side
        ([{"class_name": "EarlyStopping", "config": {"patience": 5}}], False),  # one by one
    ],
)
def test_multi_hot_kfold_trains_every_fold(tiny_text, tmp_path, callbacks, parallel):
    summary, folder = _train(
        templates.load("imdb_dense"),
        tmp_path,
        validation={"method": "kfold", "k": 2},
        callbacks=callbacks,
    )
    assert set(summary["kfold"]) >= {"val_loss", "val_accuracy"}
    assert set(summary["test"]) >= {"loss", "accuracy"}
    assert len(list((folder / "folds").glob("fold-*.keras"))) == 2
    assert runs.read_json(folder / "run.json")["parallel_folds"] is parallel


def test_per_batch_evaluation_and_prediction_equal_the_dense_matrix(tiny_text):
    import keras

    from builder.build import build

    project = templates.load("imdb_dense")
    prepared = prepare(project)
    assert isinstance(prepared.x_test, MultiHotRows)
    keras.utils.set_random_seed(0)
    model = build(project)
    dense = np.asarray(prepared.x_test)
    np.testing.assert_allclose(
        feed.predict(model, prepared.x_test, batch_size=3, verbose=0),
        model.predict(dense, batch_size=3, verbose=0),
        rtol=1e-6,
    )
    lazy = feed.evaluate(
        model, prepared.x_test, prepared.y_test, batch_size=3, verbose=0, return_dict=True
    )
    plain = model.evaluate(dense, prepared.y_test, batch_size=3, verbose=0, return_dict=True)
    assert lazy == pytest.approx(plain, rel=1e-6)
