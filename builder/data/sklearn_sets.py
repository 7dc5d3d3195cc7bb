"""The small datasets that ship inside scikit-learn: no download, ever.

Each is split once with a fixed seed (stratified by class for classification), so a
project sees the same training and test rows every time.
"""

from __future__ import annotations

import functools

import numpy as np

from builder.data.registry import DATASETS
from builder.data.splits import SPLIT_SEED

__all__ = ["load_split"]


def _load(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(x, y, feature names) of the whole dataset; digits x is (1797, 8, 8) in 0..16."""
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits()
        return bunch.images, bunch.target, tuple(bunch.feature_names)
    if name == "diabetes":
        # Unscaled, so a sample shows a real age and blood pressure; the normalize option
        # standardises them with training statistics like any other table.
        bunch = datasets.load_diabetes(scaled=False)
    else:
        bunch = getattr(datasets, f"load_{name}")()
    return bunch.data, bunch.target, tuple(str(f) for f in bunch.feature_names)


@functools.lru_cache(maxsize=8)
def load_split(name: str, test_fraction: float):
    """(x_train, y_train, x_test, y_test, feature_names), float64 x; arrays are read-only."""
    from sklearn.model_selection import train_test_split

    x, y, features = _load(name)
    classify = DATASETS[name].task != "regression"
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=SPLIT_SEED, stratify=y if classify else None
    )
    for array in (x_train, y_train, x_test, y_test):
        array.flags.writeable = False
    return x_train, y_train, x_test, y_test, features
