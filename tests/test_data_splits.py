"""builder.data.splits: the book's holdout and K-fold validation splits."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data import DataError, holdout, kfold_splits, num_samples, subset

X = np.arange(20).reshape(10, 2)
Y = np.arange(10) * 10


@pytest.mark.parametrize(
    "kwargs, held",
    [
        ({"count": 3}, 3),
        ({"count": 9}, 9),
        ({"fraction": 0.2}, 2),
        ({"fraction": 0.01}, 1),
        ({"fraction": 0.99}, 9),
    ],
)
def test_holdout_keeps_the_first_samples_for_validation(kwargs, held):
    (x_fit, y_fit), (x_val, y_val) = holdout(X, Y, **kwargs)
    assert x_val.tolist() == X[:held].tolist() and y_val.tolist() == Y[:held].tolist()
    assert x_fit.tolist() == X[held:].tolist() and y_fit.tolist() == Y[held:].tolist()


def test_holdout_splits_dicts_and_lists_alike():
    x = {"a": X, "b": [Y, Y + 1]}
    y = {"out": Y}
    (x_fit, y_fit), (x_val, _y_val) = holdout(x, y, count=4)
    assert x_val["a"].tolist() == X[:4].tolist() and x_val["b"][1].tolist() == (Y[:4] + 1).tolist()
    assert isinstance(x_fit["b"], list) and y_fit["out"].tolist() == Y[4:].tolist()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "either count .* or fraction"),
        ({"count": 2, "fraction": 0.5}, "not both"),
        (
            {"count": 10},
            r"fit\.validation\.count: the training split has 10 samples, so between 1 "
            r"and 9 can be held out, got 10",
        ),
        ({"count": 0}, r"fit\.validation\.count"),
        ({"count": 2.0}, r"fit\.validation\.count"),
        ({"fraction": 1.0}, r"fit\.validation\.fraction: must be between 0 and 1"),
        ({"fraction": True}, r"fit\.validation\.fraction"),
    ],
)
def test_holdout_refuses_impossible_sizes(kwargs, match):
    with pytest.raises(DataError, match=match):
        holdout(X, Y, **kwargs)


def test_holdout_needs_equal_lengths():
    with pytest.raises(ValueError, match="same number of samples"):
        holdout(X, Y[:5], count=2)


def test_kfold_matches_the_books_loop():
    n, k = 11, 4
    size = n // k
    book = []
    for i in range(k):
        val = list(range(i * size, (i + 1) * size))
        train = list(range(0, i * size)) + list(range((i + 1) * size, n))
        book.append((train, val))
    ours = [(tr.tolist(), va.tolist()) for tr, va in kfold_splits(n, k)]
    assert ours == book
    assert all(10 in tr for tr, _ in ours)  # the remainder always trains, as in the book


@pytest.mark.parametrize("n, k", [(10, 2), (10, 10), (404, 4)])
def test_kfold_folds_are_disjoint_and_cover(n, k):
    folds = list(kfold_splits(n, k))
    assert len(folds) == k
    vals = np.concatenate([va for _, va in folds])
    assert len(np.unique(vals)) == len(vals) == (n // k) * k
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0 and len(tr) + len(va) == n


@pytest.mark.parametrize("k", [1, 0, 11, 2.0, True])
def test_kfold_refuses_bad_k(k):
    with pytest.raises(
        DataError,
        match=r"fit\.validation\.k: K-fold needs a whole number of "
        r"folds from 2 to 10",
    ):
        list(kfold_splits(10, k))


def test_num_samples_and_subset():
    assert num_samples(X, {"y": Y}) == 10
    assert subset((X, Y), np.array([1, 3]))[1].tolist() == [10, 30]
