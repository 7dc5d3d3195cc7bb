"""builder.data.preprocess: ragged sequences, multi-hot, padding, word codec, labels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fixtures_data import RANK, naive_multi_hot
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.data import DataError
from builder.data.preprocess import (
    MultiHotRows,
    Ragged,
    TextCodec,
    labels_for_loss,
    loss_family,
    multi_hot,
    pad_sequences,
    standardize,
    standardize_fit,
)

sequences = st.lists(st.lists(st.integers(0, 60), max_size=30), max_size=25)


def test_ragged_round_trip():
    seqs = [[1, 2, 3], [], [7], [4, 4]]
    ragged = Ragged.from_sequences(seqs)
    assert ragged.values.dtype == np.int32 and ragged.offsets.tolist() == [0, 3, 3, 4, 6]
    assert len(ragged) == 4 and ragged.lengths.tolist() == [3, 0, 1, 2]
    assert ragged[0].tolist() == [1, 2, 3] and ragged[-1].tolist() == [4, 4]
    assert ragged.tolist() == seqs
    assert ragged.take(np.array([3, 0])).tolist() == [[4, 4], [1, 2, 3]]
    assert Ragged.from_sequences(ragged) is ragged
    with pytest.raises(IndexError):
        ragged[4]


def test_ragged_reads_keras_object_arrays():
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = [1, 5], [2]
    assert Ragged.from_sequences(objects).tolist() == [[1, 5], [2]]


@settings(max_examples=60, deadline=None, database=None)
@given(seqs=sequences, num_words=st.integers(1, 70), chunk=st.integers(1, 50))
def test_multi_hot_matches_the_books_loop(seqs, num_words, chunk):
    expect = naive_multi_hot(seqs, num_words)
    for given_as in (seqs, Ragged.from_sequences(seqs)):
        out = multi_hot(given_as, num_words, chunk_tokens=chunk)
        assert out.dtype == np.float32 and out.shape == (len(seqs), num_words)
        np.testing.assert_array_equal(out, expect)


@settings(max_examples=60, deadline=None, database=None)
@given(seqs=sequences, num_words=st.integers(1, 70), data=st.data())
def test_multi_hot_rows_read_like_the_dense_matrix(seqs, num_words, data):
    dense = naive_multi_hot(seqs, num_words)
    rows = MultiHotRows(seqs, num_words)
    assert rows.shape == dense.shape and len(rows) == len(seqs) and rows.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(rows), dense)
    n = len(seqs)
    start = data.draw(st.integers(-n - 2, n + 2))
    stop = data.draw(st.integers(-n - 2, n + 2))
    np.testing.assert_array_equal(np.asarray(rows[start:stop]), dense[start:stop])
    np.testing.assert_array_equal(np.asarray(rows[::2]), dense[::2])
    if n:
        index = data.draw(st.lists(st.integers(-n, n - 1), max_size=10))
        picked = rows[np.array(index, np.int64)]
        assert isinstance(picked, MultiHotRows)
        np.testing.assert_array_equal(
            np.asarray(picked), dense[np.array(index, np.int64)].reshape(len(index), num_words)
        )
        mask = np.arange(n) % 3 == 0
        np.testing.assert_array_equal(np.asarray(rows[mask]), dense[mask])
        i = data.draw(st.integers(-n, n - 1))
        np.testing.assert_array_equal(rows[i], dense[i])


def test_multi_hot_rows_hold_ids_not_the_matrix():
    rows = MultiHotRows([[1, 5, 5], [2]], 10_000)
    assert rows.shape == (2, 10_000) and rows.nbytes < 100
    assert "2 rows x 10,000 words" in repr(rows)
    with pytest.raises(IndexError, match="out of range"):
        rows[np.array([2])]
    with pytest.raises(IndexError, match=re.escape("np.asarray")):
        rows[0, 1]
    with pytest.raises(IndexError, match="2 values"):
        rows[np.array([True])]
    with pytest.raises(IndexError):
        rows[2]
    assert rows[[]].shape == (0, 10_000)


def test_ragged_rows_are_views():
    ragged = Ragged.from_sequences([[1, 2], [3], [], [4, 5, 6]])
    part = ragged.rows(1, 4)
    assert part.tolist() == [[3], [], [4, 5, 6]] and np.shares_memory(part.values, ragged.values)
    assert ragged.rows(3, 1).tolist() == [] and ragged.rows(-1, 9).tolist() == [[4, 5, 6]]


def test_multi_hot_example_and_dtype():
    out = multi_hot([[1, 3], [2, 2, 9]], 4, dtype=np.uint8)
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 1, 0, 1], [0, 0, 1, 0]]


def naive_pad(seqs, maxlen, padding, truncating):
    """Padding one row at a time, the reference to compare with."""
    out = np.zeros((len(seqs), maxlen), np.int32)
    for i, seq in enumerate(seqs):
        seq = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if seq:
            if padding == "pre":
                out[i, maxlen - len(seq) :] = seq
            else:
                out[i, : len(seq)] = seq
    return out


@settings(max_examples=80, deadline=None, database=None)
@given(
    seqs=sequences,
    maxlen=st.integers(1, 12),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_matches_row_by_row_padding(seqs, maxlen, padding, truncating):
    ours = pad_sequences(seqs, maxlen, padding=padding, truncating=truncating)
    assert ours.dtype == np.int32 and ours.shape == (len(seqs), maxlen)
    np.testing.assert_array_equal(ours, naive_pad(seqs, maxlen, padding, truncating))


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_matches_keras(padding, truncating):
    from keras.utils import pad_sequences as keras_pad

    seqs = [[1, 2, 3, 4, 5, 6], [], [7], [8, 9, 10]]
    np.testing.assert_array_equal(
        pad_sequences(seqs, 4, padding=padding, truncating=truncating),
        keras_pad(seqs, maxlen=4, padding=padding, truncating=truncating),
    )


def test_pad_sequences_refuses_unknown_side():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences([[1]], 3, padding="middle")


@pytest.mark.parametrize(
    "text, ids",
    [
        ("The movie was great", [1, 1 + 3, 2 + 3, 4 + 3, 6 + 3]),
        ("GREAT, great!", [1, 9, 9]),
        ("it's a movie", [1, RANK["it's"] + 3, 3 + 3, 2 + 3]),
        ("'great' zebra", [1, 9, 2]),  # quotes stripped; unknown word -> 2
        ("the ending", [1, 4, 2]),  # "ending" is rank 20: 23 >= num_words 20 -> 2
        ("", [1]),
    ],
)
def test_codec_encode(text, ids):
    assert TextCodec(RANK, num_words=20).encode(text) == ids


def test_codec_decode_skips_padding_and_start():
    codec = TextCodec(RANK, num_words=100)
    assert codec.decode([0, 0, 1, 4, 5, 2, 9]) == "the movie ? great"
    assert codec.decode(codec.encode("a great story")) == "a great story"


def test_standardize_uses_given_statistics():
    train = np.array([[1.0, 5.0], [3.0, 5.0]], np.float32)
    mean, std = standardize_fit(train)
    assert mean.tolist() == [2.0, 5.0] and std.tolist() == [1.0, 1.0]  # constant -> std 1
    assert standardize(np.array([[4.0, 6.0]]), mean, std).tolist() == [[2.0, 1.0]]


@pytest.mark.parametrize(
    "loss, family",
    [
        ("binary_crossentropy", "binary"),
        ("BinaryCrossentropy", "binary"),
        ("categorical_crossentropy", "categorical"),
        ("CategoricalCrossentropy", "categorical"),
        ("kl_divergence", "categorical"),
        ("sparse_categorical_crossentropy", "sparse"),
        ("SparseCategoricalCrossentropy", "sparse"),
        ("mse", "regression"),
        ("mean_absolute_error", "regression"),
        ("Huber", "regression"),
        ("my_loss", None),
        (None, None),
    ],
)
def test_loss_family(loss, family):
    assert loss_family(loss) == family


CODES = np.array([0, 2, 1, 2])
BINARY = np.array([1, 0, 0, 1])


@pytest.mark.parametrize(
    "targets, loss, task, encoding, expect, dtype, note",
    [
        (BINARY, "binary_crossentropy", "binary", "binary", [1, 0, 0, 1], np.float32, None),
        (BINARY, None, "binary", "binary", [1, 0, 0, 1], np.float32, None),
        (BINARY, "mse", "binary", "binary", [1, 0, 0, 1], np.float32, "usual loss for two"),
        (
            BINARY,
            "categorical_crossentropy",
            "binary",
            "one_hot",
            [[0, 1], [1, 0], [1, 0], [0, 1]],
            np.float32,
            "2 units with softmax",
        ),
        (
            BINARY,
            "sparse_categorical_crossentropy",
            "binary",
            "integer",
            [1, 0, 0, 1],
            np.int32,
            "2 units with softmax",
        ),
        (
            CODES,
            "sparse_categorical_crossentropy",
            "multiclass",
            "integer",
            [0, 2, 1, 2],
            np.int32,
            None,
        ),
        (
            CODES,
            "categorical_crossentropy",
            "multiclass",
            "one_hot",
            [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
            np.float32,
            None,
        ),
        (
            CODES,
            None,
            "multiclass",
            "one_hot",
            [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
            np.float32,
            None,
        ),
        (
            CODES,
            "my_loss",
            "multiclass",
            "one_hot",
            [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
            np.float32,
            "Unknown loss 'my_loss'",
        ),
        (
            CODES,
            "binary_crossentropy",
            "multiclass",
            "one_hot",
            [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
            np.float32,
            "own yes/no question",
        ),
        (
            CODES,
            "mse",
            "multiclass",
            "one_hot",
            [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]],
            np.float32,
            "trains poorly",
        ),
        (np.array([1.5, 2.0]), "mse", "regression", "value", [1.5, 2.0], np.float32, None),
        (np.array([1.5, 2.0]), None, "regression", "value", [1.5, 2.0], np.float32, None),
    ],
)
def test_labels_for_loss(targets, loss, task, encoding, expect, dtype, note):
    classes = None if task == "regression" else int(targets.max()) + 1
    preferred = {
        "binary": "binary",
        "regression": "value",
        "multiclass": "integer" if loss_family(loss) == "sparse" else "one_hot",
    }[task]
    y, got_encoding, notes = labels_for_loss(
        targets, loss, task=task, num_classes=classes, label_encoding=preferred, dataset="Test set"
    )
    assert got_encoding == encoding and y.dtype == dtype and y.tolist() == expect
    assert (note is None and notes == []) or any(note in n for n in notes)


@pytest.mark.parametrize(
    "label_encoding, loss, encoding, note",
    [
        (
            "one_hot",
            "sparse_categorical_crossentropy",
            "integer",
            "label_encoding is 'one_hot' but sparse_categorical_crossentropy needs class numbers",
        ),
        (
            "integer",
            "categorical_crossentropy",
            "one_hot",
            "label_encoding is 'integer' but categorical_crossentropy needs one-hot labels",
        ),
        ("integer", None, "integer", None),
    ],
)
def test_loss_wins_over_label_encoding(label_encoding, loss, encoding, note):
    _, got, notes = labels_for_loss(
        CODES,
        loss,
        task="multiclass",
        num_classes=3,
        label_encoding=label_encoding,
        dataset="Test set",
    )
    assert got == encoding
    assert (note is None and notes == []) or notes[0].startswith(note)


@pytest.mark.parametrize(
    "loss",
    ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge"],
)
def test_classification_loss_on_regression_is_refused(loss):
    with pytest.raises(
        DataError,
        match=f"loss '{loss}' is for classification, but Houses is "
        "a regression.*use loss 'mse' with metric 'mae'",
    ):
        labels_for_loss(
            np.array([1.0]),
            loss,
            task="regression",
            num_classes=None,
            label_encoding="value",
            dataset="Houses",
        )


def test_regression_loss_on_integer_classes_says_they_are_encoded_for_it():
    import numpy as np

    from builder.data.preprocess import labels_for_loss

    _, encoding, notes = labels_for_loss(
        np.array([0, 1, 2]),
        "mse",
        task="multiclass",
        num_classes=3,
        label_encoding="integer",
        dataset="Digits",
    )
    assert encoding == "one_hot"
    assert "the class numbers are one-hot encoded for it" in notes[0]
    assert "on one-hot labels" not in notes[0]
