"""Keras datasets: the real cached files (MNIST, Fashion-MNIST, Boston), IMDB and Reuters
through the loader seam with tiny files, and the offline messages. Nothing downloads:
``origin_reachable`` and Keras' loaders are replaced wherever a download could start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import fixtures_data
import numpy as np
import pytest
from fixtures_data import IMDB_TEST, IMDB_TRAIN, RANK, naive_multi_hot, text_project

from builder.data import DataError, clear_cache, keras_sets, offline, prepare
from builder.data.keras_sets import KerasSource, NpzTextSource, read_npz

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch) -> NpzTextSource:
    source = fixtures_data.write_imdb(tmp_path)
    monkeypatch.setitem(keras_sets.SOURCES, "imdb", source)
    clear_cache()
    yield source
    clear_cache()


@pytest.fixture
def tiny_reuters(tmp_path, monkeypatch) -> NpzTextSource:
    source = fixtures_data.write_reuters(tmp_path)
    monkeypatch.setitem(keras_sets.SOURCES, "reuters", source)
    clear_cache()
    yield source
    clear_cache()


# --------------------------------------------------------------------------- real files


def test_mnist_loads_offline_in_both_layouts(shared_datasets):
    flat = prepare(text_project("mnist", "sparse_categorical_crossentropy"))
    assert flat.x_train.shape == (60000, 784) and flat.x_test.shape == (10000, 784)
    assert flat.x_train.dtype == np.float32
    assert 0.0 == flat.x_train.min() and flat.x_train.max() == 1.0
    assert flat.y_train.dtype == np.int32 and set(np.unique(flat.y_train)) == set(range(10))
    image = prepare(text_project("mnist", "categorical_crossentropy", image_layout="image"))
    assert image.x_train.shape == (60000, 28, 28, 1)
    assert image.y_test.shape == (10000, 10) and image.y_test.sum(axis=1).max() == 1
    np.testing.assert_array_equal(image.x_train.reshape(60000, 784), flat.x_train)
    sample = image.sample("test", 0)
    assert sample["pixels"].shape == (28, 28) and sample["pixels"].dtype == np.uint8
    assert sample["label"] == "7"  # MNIST's first test digit
    assert not image.x_train.flags.writeable


def test_fashion_mnist_loads_offline(shared_datasets):
    prepared = prepare(text_project("fashion_mnist", "sparse_categorical_crossentropy"))
    assert prepared.x_train.shape == (60000, 784) and prepared.x_test.shape == (10000, 784)
    assert prepared.x_train.dtype == np.float32 and prepared.x_train.max() == 1.0
    assert prepared.sample("train", 0)["label"] == "Ankle boot"


def test_boston_loads_offline_normalised_with_train_stats(shared_datasets):
    import keras

    (x_train, y_train), (x_test, _) = keras.datasets.boston_housing.load_data()
    prepared = prepare(text_project("boston_housing", "mse"))
    assert prepared.x_train.shape == (404, 13) and prepared.x_test.shape == (102, 13)
    assert prepared.y_train.dtype == np.float32 and prepared.info.label_encoding == "value"
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    np.testing.assert_allclose(prepared.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(prepared.x_test, (x_test - mean) / std, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(prepared.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.abs(prepared.x_test.mean(axis=0)).max() > 0.01  # test stats were not used
    np.testing.assert_allclose(prepared.y_train, y_train, rtol=1e-6)
    row = prepared.sample("train", 0)
    assert row["row"]["CRIM"] == pytest.approx(x_train[0, 0])
    np.testing.assert_allclose(prepared.encode_row(row["row"]), prepared.x_train[:1], atol=1e-5)
    raw = prepare(text_project("boston_housing", "mse", normalize=False))
    assert raw.mean is None and raw.x_train[0, 0] == pytest.approx(x_train[0, 0])


def test_imdb_word_index_is_read_from_keras_cache(shared_datasets):
    index = keras_sets.word_index("imdb")
    assert index["the"] == 1 and len(index) == 88584


def test_cache_dir_is_keras_own(keras_home):
    from keras.src.backend.config import keras_home as keras_home_now

    assert offline.keras_cache_dir() == Path(keras_home_now()) / "datasets"
    assert offline.keras_cache_dir() == keras_home / "datasets"


@pytest.mark.parametrize(
    "env, expect",
    [
        ({"KERAS_HOME": "{tmp}/kh"}, "{tmp}/kh/datasets"),
        ({"HOME": "{tmp}"}, "{tmp}/.keras/datasets"),
    ],
)
def test_cache_dir_before_keras_is_imported(tmp_path, env, expect):
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_HOME"}
    environ.update({k: v.format(tmp=tmp_path) for k, v in env.items()})
    code = "from builder.data.offline import keras_cache_dir; print(keras_cache_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expect.format(tmp=tmp_path)


# --------------------------------------------------------------------------- offline


def test_missing_file_message_names_file_size_and_folder(keras_home):
    with pytest.raises(DataError) as err:
        prepare(text_project("imdb", "binary_crossentropy"))
    message = str(err.value)
    folder = keras_home / "datasets"
    assert "IMDB movie reviews needs imdb.npz" in message
    assert "17.5 MB, 17,464,789 bytes" in message
    assert f"save it as {folder / 'imdb.npz'}" in message
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz" in message
    assert "Traceback" not in message


def test_cifar_message_says_the_name_keras_expects(keras_home):
    with pytest.raises(
        DataError,
        match=r"cifar-10-python\.tar\.gz \(170\.5 MB.*save it as "
        r".*cifar-10-batches-py-target_archive",
    ):
        prepare(text_project("cifar10", "sparse_categorical_crossentropy"))


def test_no_connection_fails_fast_with_the_same_message(monkeypatch):
    monkeypatch.setattr(offline, "origin_reachable", lambda url, timeout=2.0: False)
    with pytest.raises(
        DataError,
        match=r"needs reuters\.npz, not found .*there is no "
        r"connection to storage\.googleapis\.com",
    ):
        prepare(text_project("reuters", "categorical_crossentropy"), allow_download=True)


def test_failed_download_becomes_the_same_message(monkeypatch, tmp_path):
    import keras

    def fail(**kwargs):
        raise Exception("URL fetch failure on https://...: None -- [Errno -3]")

    monkeypatch.setattr(offline, "origin_reachable", lambda url, timeout=2.0: True)
    monkeypatch.setattr(keras.datasets.reuters, "load_data", fail)
    clear_cache()
    with pytest.raises(
        DataError,
        match=r"needs reuters\.npz.*loading it failed: URL fetch "
        r"failure.*save it as",
    ):
        prepare(text_project("reuters", "categorical_crossentropy"), allow_download=True)


def test_wrong_size_file_is_not_handed_to_keras(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "reuters.npz").write_bytes(b"partial")
    with pytest.raises(
        DataError,
        match=r"reuters\.npz has 7 bytes but reuters\.npz has "
        r"2,110,848: it is incomplete.*Delete it",
    ):
        offline.ensure_files("reuters", allow_download=True)
    assert (tmp_path / "reuters.npz").exists()


def test_cache_status_reports_each_file(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "keras_cache_dir", lambda: tmp_path)
    (tmp_path / "fashion-mnist").mkdir()
    (tmp_path / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"x" * 5148)
    status = {s["name"]: s for s in offline.cache_status("fashion_mnist")}
    assert status["t10k-labels-idx1-ubyte.gz"]["present"]
    assert status["t10k-labels-idx1-ubyte.gz"]["size_ok"]
    assert not status["train-images-idx3-ubyte.gz"]["present"]
    with pytest.raises(
        DataError,
        match=re.escape(
            "train-labels-idx1-ubyte.gz and train-images-idx3-ubyte.gz and t10k-images"
        ),
    ):
        offline.ensure_files("fashion_mnist")


def test_production_sources_are_keras_itself():
    assert keras_sets.SOURCES["imdb"] == KerasSource("imdb")
    assert set(keras_sets.SOURCES) == {
        "imdb",
        "reuters",
        "boston_housing",
        "mnist",
        "fashion_mnist",
        "cifar10",
    }


# --------------------------------------------------------------------------- the seam


@pytest.mark.parametrize(
    "layout, writer, num_words",
    [
        ("imdb", fixtures_data.write_imdb, 12),
        ("imdb", fixtures_data.write_imdb, None),
        ("reuters", fixtures_data.write_reuters, 15),
    ],
)
def test_npz_source_matches_keras_loader(tmp_path, monkeypatch, layout, writer, num_words):
    """The seam gives exactly what keras.datasets.<layout>.load_data gives for the same file."""
    import importlib

    import keras  # noqa: F401  (keras.src is importable only after keras)

    module = importlib.import_module(f"keras.src.datasets.{layout}")
    source = writer(tmp_path)
    monkeypatch.setattr(module, "get_file", lambda *args, **kwargs: source.data_path)
    (kx_train, ky_train), (kx_test, ky_test) = module.load_data(num_words=num_words)
    (ox_train, oy_train), (ox_test, oy_test) = source.load(num_words=num_words)
    assert ox_train.tolist() == [list(s) for s in kx_train]
    assert ox_test.tolist() == [list(s) for s in kx_test]
    assert oy_train.tolist() == ky_train.tolist() and oy_test.tolist() == ky_test.tolist()


def test_read_npz_refuses_code_in_pickles(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    payload = np.empty(1, dtype=object)
    payload[0] = Evil()
    np.savez(tmp_path / "evil.npz", x=payload)
    with pytest.raises(pickle.UnpicklingError, match="system is not allowed"):
        read_npz(tmp_path / "evil.npz")


def test_imdb_multi_hot_through_the_seam(tiny_imdb):
    prepared = prepare(text_project("imdb", "binary_crossentropy", num_words=12))
    assert prepared.x_train.shape == (8, 12) and prepared.x_train.dtype == np.float32
    assert prepared.y_train.dtype == np.float32 and prepared.y_train.shape == (8,)
    seqs = prepared.train_sequences.tolist()
    np.testing.assert_array_equal(prepared.x_train, naive_multi_hot(seqs, 12))
    assert all(s[0] == 1 and max(s) < 12 for s in seqs)
    # Every review in the file comes back (Keras shuffles them with seed 113).
    texts = {prepared.sample("train", i)["text"] for i in range(8)}
    expected = {" ".join(w if RANK[w] + 3 < 12 else "?" for w in t.split()) for t, _ in IMDB_TRAIN}
    assert texts == expected
    labels = {
        prepared.sample("train", i)["text"]: prepared.sample("train", i)["label"] for i in range(8)
    }
    for text, label in IMDB_TRAIN:
        short = " ".join(w if RANK[w] + 3 < 12 else "?" for w in text.split())
        assert labels[short] == ("positive" if label else "negative")


def test_imdb_padded_sequences(tiny_imdb):
    prepared = prepare(
        text_project("imdb", "binary_crossentropy", encoding="sequence", maxlen=5, num_words=100)
    )
    assert prepared.x_test.shape == (4, 5) and prepared.x_test.dtype == np.int32
    assert prepared.info.input_spec == {"shape": [5], "dtype": "int32"}
    for row, seq in zip(prepared.x_test, prepared.test_sequences.tolist()):
        kept = seq[-5:]
        assert row.tolist() == [0] * (5 - len(kept)) + kept
    assert any("longer than maxlen=5" in note for note in prepared.notes)


def test_encode_text_round_trip(tiny_imdb):
    multi = prepare(text_project("imdb", "binary_crossentropy", num_words=100))
    x = multi.encode_text("The movie was GREAT, and the zebra was great!")
    assert x.shape == (1, 100) and x.dtype == np.float32
    ids = [1, 2] + [RANK[w] + 3 for w in ("the", "movie", "was", "great", "and")]
    assert np.flatnonzero(x[0]).tolist() == sorted(set(ids))
    assert (
        multi.decode_text(multi.codec.encode("the zebra loved it's ending"))
        == "the ? loved it's ending"
    )
    seq = prepare(
        text_project("imdb", "binary_crossentropy", encoding="sequence", maxlen=6, num_words=100)
    )
    padded = seq.encode_text("a great story")
    assert padded.tolist() == [[0, 0, 1, RANK["a"] + 3, RANK["great"] + 3, RANK["story"] + 3]]
    assert seq.decode_text(padded[0]) == "a great story"


@pytest.mark.parametrize(
    "loss, shape, dtype, note",
    [
        ("binary_crossentropy", (4,), np.float32, None),
        ("sparse_categorical_crossentropy", (4,), np.int32, "2 units with softmax"),
        ("categorical_crossentropy", (4, 2), np.float32, "2 units with softmax"),
    ],
)
def test_imdb_labels_follow_the_loss(tiny_imdb, loss, shape, dtype, note):
    prepared = prepare(text_project("imdb", loss))
    assert prepared.y_test.shape == shape and prepared.y_test.dtype == dtype
    assert sorted(prepared.test_targets.tolist()) == sorted(y for _, y in IMDB_TEST)
    assert (note is None) == (prepared.notes == [])


@pytest.mark.parametrize(
    "options, loss, shape, dtype, encoding, note",
    [
        ({}, "categorical_crossentropy", (12, 46), np.float32, "one_hot", None),
        (
            {"label_encoding": "integer"},
            "sparse_categorical_crossentropy",
            (12,),
            np.int32,
            "integer",
            None,
        ),
        (
            {},
            "sparse_categorical_crossentropy",
            (12,),
            np.int32,
            "integer",
            "label_encoding is 'one_hot'",
        ),
        (
            {"label_encoding": "integer"},
            "categorical_crossentropy",
            (12, 46),
            np.float32,
            "one_hot",
            "label_encoding is 'integer'",
        ),
    ],
)
def test_reuters_labels_follow_the_loss(tiny_reuters, options, loss, shape, dtype, encoding, note):
    prepared = prepare(text_project("reuters", loss, **options))
    assert len(prepared.x_train) == 12 and len(prepared.x_test) == 3  # Keras' 80/20
    assert prepared.y_train.shape == shape and prepared.y_train.dtype == dtype
    assert prepared.info.label_encoding == encoding
    assert (note is None and prepared.notes == []) or prepared.notes[0].startswith(note)
    assert prepared.sample("train", 0)["label"] in fixtures_data_topics()


def fixtures_data_topics() -> set[str]:
    from builder.data import DATASETS

    return {DATASETS["reuters"].class_names[t] for _, t in fixtures_data.REUTERS}


def test_word_index_missing_only_hides_words(tiny_imdb, monkeypatch):
    source = NpzTextSource("imdb", tiny_imdb.data_path, word_index_path=None)
    monkeypatch.setitem(keras_sets.SOURCES, "imdb", source)
    clear_cache()
    prepared = prepare(text_project("imdb", "binary_crossentropy"))
    assert prepared.x_train.shape == (8, 10000)
    with pytest.raises(DataError, match=r"word index file None .* does not exist"):
        prepared.sample("train", 0)


def test_origin_reachable_tries_one_quick_connection():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        assert offline.origin_reachable(f"http://127.0.0.1:{port}/imdb.npz", timeout=1.0)
    assert not offline.origin_reachable(f"http://127.0.0.1:{port}/imdb.npz", timeout=1.0)


def test_reuters_topic_names_are_keras_own():
    import keras

    from builder.data import DATASETS

    assert DATASETS["reuters"].class_names == tuple(keras.datasets.reuters.get_label_names())


class _TinyCifar:
    """CIFAR-10 as ``keras.datasets.cifar10.load_data`` returns it (uint8 channels-last
    photos, labels as an (n, 1) column), 12 + 4 made-up photos: the 170 MB archive cannot
    be had offline and Keras deletes a cached file whose hash does not match."""

    def check(self, allow_download, roles=("data",)):
        pass

    def load(self, num_words=None):
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
        y = (np.arange(16) % 10).astype(np.uint8).reshape(-1, 1)
        return (x[:12], y[:12]), (x[12:], y[12:])


def test_cifar10_through_the_seam_feeds_a_convnet(monkeypatch, tmp_path):
    from builder.project import validate
    from builder.training import runs, worker
    from tests.helpers import project

    monkeypatch.setitem(keras_sets.SOURCES, "cifar10", _TinyCifar())
    clear_cache()
    try:
        prepared = prepare(text_project("cifar10", "sparse_categorical_crossentropy"))
        raw = _TinyCifar().load()[0][0]
        assert prepared.x_train.shape == (12, 32, 32, 3) and prepared.x_train.dtype == np.float32
        np.testing.assert_allclose(prepared.x_train, raw / 255.0, rtol=1e-6)
        assert prepared.y_train.shape == (12,) and prepared.y_test.tolist() == [2, 3, 4, 5]
        sample = prepared.sample("train", 1)
        np.testing.assert_array_equal(sample["pixels"], raw[1])
        assert sample["label"] == "automobile"  # Keras' class 1
        p = validate(
            project(
                [
                    ("c", "Conv2D", {"filters": 4, "kernel_size": [3, 3]}),
                    ("f", "Flatten", {}),
                    ("out", "Dense", {"units": 10, "activation": "softmax"}),
                ],
                shape=(32, 32, 3),
                loss="sparse_categorical_crossentropy",
                dataset="cifar10",
            )
        )
        folder = runs.create_run(tmp_path / "runs", "tests", p, {})
        summary = worker.train(p, folder, device="cpu")
        assert summary["state"] == "finished", summary["message"]
        assert set(summary["test"]) == {"loss", "accuracy"}
    finally:
        clear_cache()
