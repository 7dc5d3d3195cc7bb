"""builder.data.loader.prepare: caching, progress, multi-output labels, sample() errors."""

from __future__ import annotations

import fixtures_data
import numpy as np
import pytest
from fixtures_data import text_project

from builder.data import DataError, clear_cache, keras_sets, prepare
from builder.data.preprocess import MultiHotRows


@pytest.fixture
def tiny_imdb(tmp_path, monkeypatch):
    monkeypatch.setitem(keras_sets.SOURCES, "imdb", fixtures_data.write_imdb(tmp_path))
    clear_cache()
    yield
    clear_cache()


def test_progress_reports_from_start_to_ready(tiny_imdb):
    heard = []
    prepare(text_project("imdb", "binary_crossentropy"), lambda f, m: heard.append((f, m)))
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[0] < 0.5 and fractions[-1] == 1.0
    assert "Loading IMDB movie reviews (imdb.npz)" in heard[0][1]
    assert any("multi-hot vectors of 10,000 words" in m for _, m in heard)
    assert heard[-1][1] == "Ready: 8 training and 4 test samples."


def test_second_prepare_reuses_the_encoded_arrays(tiny_imdb, monkeypatch):
    first = prepare(text_project("imdb", "binary_crossentropy"))

    def no_second_load(*args, **kwargs):
        raise AssertionError("the dataset was loaded again")

    monkeypatch.setattr(fixtures_data.NpzTextSource, "load", no_second_load)
    again = prepare(text_project("imdb", "sparse_categorical_crossentropy"))
    assert again.x_train is first.x_train
    assert again.y_train.dtype == np.int32 and first.y_train.dtype == np.float32
    other = prepare(text_project("imdb", "binary_crossentropy", encoding="sequence"))
    assert other.x_train.dtype == np.int32  # new encoding, same raw sequences


def test_arrays_are_read_only(tiny_imdb):
    prepared = prepare(text_project("imdb", "binary_crossentropy"))
    assert isinstance(prepared.x_train, MultiHotRows)  # encoded per batch, never stored
    for array in (
        prepared.x_train.sequences.values,
        prepared.x_train.sequences.offsets,
        prepared.x_test.sequences.values,
        prepared.y_train,
        prepared.y_test,
    ):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    with pytest.raises(TypeError):
        prepared.x_train[0] = 0


def test_dict_loss_gives_labels_per_output():
    prepared = prepare(
        text_project(
            "wine",
            {"kind": "sparse_categorical_crossentropy", "kind_hot": "categorical_crossentropy"},
        )
    )
    assert set(prepared.y_train) == {"kind", "kind_hot"}
    assert prepared.y_train["kind"].shape == (142,)
    assert prepared.y_train["kind_hot"].shape == (142, 3)
    np.testing.assert_array_equal(
        prepared.y_train["kind_hot"].argmax(axis=1), prepared.y_train["kind"]
    )
    assert any(n.startswith("Output 'kind': label_encoding is 'one_hot'") for n in prepared.notes)


@pytest.mark.parametrize(
    "split, index, match",
    [
        ("valid", 0, "split must be 'train' or 'test'"),
        ("test", 36, "no sample 36: the test split has 36 samples, numbered 0 to 35"),
        ("train", -1, "no sample -1"),
        ("train", 1.5, "no sample 1.5"),
    ],
)
def test_sample_errors(split, index, match):
    prepared = prepare(text_project("wine", "categorical_crossentropy"))
    with pytest.raises(DataError, match=match):
        prepared.sample(split, index)


@pytest.mark.parametrize(
    "name, call, match",
    [
        ("wine", lambda p: p.encode_text("hello"), "Wine cultivars .* is not text"),
        ("digits", lambda p: p.encode_row({"a": 1}), r"Digits \(8x8, offline\) is not a table"),
    ],
)
def test_wrong_kind_of_encoding(name, call, match):
    prepared = prepare(text_project(name, None))
    with pytest.raises(DataError, match=match):
        call(prepared)


@pytest.mark.parametrize(
    "project, match",
    [
        ({"compile": {}}, "data: must be an object"),
        (text_project("wine", None, test_fraction=2.0), r"data\.options\.test_fraction"),
        (
            text_project("diabetes", "categorical_crossentropy"),
            "loss 'categorical_crossentropy' is for classification, but Diabetes progression",
        ),
    ],
)
def test_prepare_refuses_with_a_message(project, match):
    with pytest.raises(DataError, match=match):
        prepare(project)
