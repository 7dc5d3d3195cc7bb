"""Validation splits the way the book makes them: the first samples held out, or K folds.

Data may be one array, a dict of arrays (named inputs or outputs) or a list of arrays; every
array's first axis is the sample axis and all of them must have the same length.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from builder.data.errors import DataError

__all__ = ["SPLIT_SEED", "holdout", "kfold_splits", "leaves", "map_leaves", "num_samples", "subset"]

# scikit-learn sets and CSV files are split with this seed, so a project trains and is
# evaluated on the same rows every time it is opened.
SPLIT_SEED = 0


def leaves(data: Any) -> list:
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in leaves(value)]
    if isinstance(data, (list, tuple)):
        return [leaf for value in data for leaf in leaves(value)]
    return [data]


def num_samples(*data: Any) -> int:
    """The common sample count of arrays, dicts or lists of arrays; ValueError if they differ
    (a bug in the caller, not something a person can fix)."""
    lengths = {len(leaf) for item in data for leaf in leaves(item)}
    if len(lengths) != 1:
        raise ValueError(
            f"inputs and labels must have the same number of samples, got {sorted(lengths)}"
        )
    return lengths.pop()


def map_leaves(fn, data: Any) -> Any:
    """``fn(array)`` for an array, or for every array of a dict or list (same structure)."""
    if isinstance(data, dict):
        return {key: map_leaves(fn, value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(map_leaves(fn, value) for value in data)
    return fn(data)


def subset(data: Any, index: Any) -> Any:
    """``data[index]`` for an array, or for every array of a dict or list (same structure)."""
    return map_leaves(lambda array: array[index], data)


def split_point(n: int, fraction: float) -> int:
    """Where Keras' ``validation_split`` cuts ``n`` samples: the first ``split_point``
    train, the rest validate (Keras refuses a cut at 0 or ``n``: one side empty)."""
    return math.floor(n * (1.0 - fraction))


def holdout(
    x: Any, y: Any, count: int | None = None, fraction: float | None = None
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """``((x_fit, y_fit), (x_val, y_val))``: the first ``count`` samples (or ``fraction`` of
    them) become the validation set, as the book holds out IMDB's first 10,000 reviews.

    Exactly one of ``count`` and ``fraction`` is given; both sides keep at least one sample.
    Raises DataError naming ``fit.validation.count`` / ``fraction`` when they do not fit.
    """
    n = num_samples(x, y)
    if (count is None) == (fraction is None):
        raise DataError(
            "fit.validation: a holdout needs either count (how many samples) or "
            "fraction (which share of them) to hold out, not both or neither."
        )
    if fraction is not None:
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, (int, float))
            or not 0 < fraction < 1
        ):
            raise DataError(
                f"fit.validation.fraction: must be between 0 and 1, got "
                f"{fraction!r}; 0.2 holds out a fifth of the training samples."
            )
        count = min(max(round(n * fraction), 1), n - 1)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 0 < count < n:
        raise DataError(
            f"fit.validation.count: the training split has {n:,} samples, so "
            f"between 1 and {n - 1:,} can be held out, got {count!r}; lower it "
            "or use a fraction such as 0.2."
        )
    val, fit = slice(None, count), slice(count, None)
    return (subset(x, fit), subset(y, fit)), (subset(x, val), subset(y, val))


def kfold_splits(n: int, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``k`` pairs ``(train_idx, val_idx)`` of int64 indices into ``n`` samples.

    Fold i validates on the contiguous block ``[i * (n // k), (i + 1) * (n // k))`` and
    trains on the rest, exactly as the book's K-fold loop for Boston housing (section 3.6):
    the last ``n % k`` samples are always in training.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise DataError(
            f"fit.validation.k: K-fold needs a whole number of folds from 2 to "
            f"{n:,} (the training samples), got {k!r}; the book uses 4."
        )
    size = n // k
    everything = np.arange(n, dtype=np.int64)
    for i in range(k):
        val = everything[i * size : (i + 1) * size]
        train = np.concatenate([everything[: i * size], everything[(i + 1) * size :]])
        yield train, val
