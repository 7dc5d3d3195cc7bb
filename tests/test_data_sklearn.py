"""scikit-learn's bundled datasets through prepare(): shapes, splits, options, samples."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_data import text_project

from builder.data import DataError, prepare


@pytest.mark.parametrize(
    "name, loss, options, x_shape, y_shape, y_dtype",
    [
        ("digits", "sparse_categorical_crossentropy", {}, (1437, 64), (1437,), np.int32),
        (
            "digits",
            "categorical_crossentropy",
            {"image_layout": "image", "label_encoding": "one_hot"},
            (1437, 8, 8, 1),
            (1437, 10),
            np.float32,
        ),
        ("breast_cancer", "binary_crossentropy", {}, (455, 30), (455,), np.float32),
        ("wine", "categorical_crossentropy", {}, (142, 13), (142, 3), np.float32),
        (
            "wine",
            "sparse_categorical_crossentropy",
            {"label_encoding": "integer"},
            (142, 13),
            (142,),
            np.int32,
        ),
        ("diabetes", "mse", {}, (353, 10), (353,), np.float32),
        ("diabetes", "mae", {"test_fraction": 0.5}, (221, 10), (221,), np.float32),
    ],
)
def test_shapes_and_label_forms(name, loss, options, x_shape, y_shape, y_dtype):
    prepared = prepare(text_project(name, loss, **options))
    assert prepared.x_train.shape == x_shape and prepared.x_train.dtype == np.float32
    assert prepared.y_train.shape == y_shape and prepared.y_train.dtype == y_dtype
    assert (
        len(prepared.x_train) + len(prepared.x_test)
        == {"digits": 1797, "breast_cancer": 569, "wine": 178, "diabetes": 442}[name]
    )
    assert prepared.notes == []


def test_digits_pixels_scaled_to_one():
    prepared = prepare(text_project("digits", "sparse_categorical_crossentropy"))
    assert prepared.x_train.min() == 0.0 and prepared.x_train.max() == 1.0
    sample = prepared.sample("train", 3)
    assert sample["pixels"].shape == (8, 8) and sample["pixels"].dtype == np.uint8
    assert sample["label"] in [str(d) for d in range(10)]


def test_split_is_fixed_and_stratified():
    a = prepare(text_project("wine", "categorical_crossentropy"))
    b = prepare(text_project("wine", "sparse_categorical_crossentropy"))
    np.testing.assert_array_equal(a.x_test, b.x_test)
    counts = np.bincount(a.test_targets) / len(a.test_targets)
    overall = np.bincount(np.concatenate([a.train_targets, a.test_targets])) / 178
    np.testing.assert_allclose(counts, overall, atol=0.03)


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes"])
def test_normalised_with_training_statistics_only(name):
    norm = prepare(text_project(name, None))
    raw = prepare(text_project(name, None, normalize=False))
    assert raw.mean is None
    mean, std = raw.x_train.mean(axis=0), raw.x_train.std(axis=0)
    np.testing.assert_allclose(norm.mean, mean, rtol=1e-4)
    np.testing.assert_allclose(norm.x_test, (raw.x_test - mean) / std, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(norm.x_train.mean(axis=0), 0, atol=1e-4)


def test_table_sample_shows_file_units_and_encode_row_matches():
    prepared = prepare(text_project("diabetes", "mse"))
    sample = prepared.sample("test", 2)
    assert set(sample["row"]) == {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"}
    assert 18 <= sample["row"]["age"] <= 90  # a real age, not a z-score
    assert float(sample["label"]) == pytest.approx(prepared.test_targets[2], rel=1e-3)
    np.testing.assert_allclose(prepared.encode_row(sample["row"]), prepared.x_test[2:3], atol=1e-5)


@pytest.mark.parametrize(
    "row, match",
    [
        ({"age": 50}, r"no value for 'sex', 'bmi'"),
        (
            {
                name: "tall"
                for name in ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
            },
            "must be a number",
        ),
    ],
)
def test_encode_row_says_what_is_wrong(row, match):
    prepared = prepare(text_project("diabetes", "mse"))
    with pytest.raises(DataError, match=match):
        prepared.encode_row(row)
