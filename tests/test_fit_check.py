"""Does the model fit its data: output vs labels, input vs samples, checked like Keras.

Every case is also handed to Keras (build, then one epoch of ``fit`` on random samples with
labels in the form the loss gets): a case the check calls an error must fail in Keras, and
one it accepts must train — Keras is the oracle, not this module.
"""

from __future__ import annotations

import numpy as np
import pytest

from builder import checker, fit_check, fixes, templates
from builder.data import describe


def _digits(**change) -> dict:
    project = templates.load("offline_default")  # Digits, 64 → Dense 64 → Dense(10) softmax
    for key, value in change.items():
        if key == "units":
            project["model"]["layers"][-1]["config"]["units"] = value
        elif key == "loss":
            project["compile"]["loss"] = value
        elif key == "input":
            project["model"]["inputs"][0]["shape"] = value
        elif key == "conv_before_output":  # image layout, Conv2D, then the Dense output
            project["data"]["options"]["image_layout"] = "image"
            project["model"]["inputs"][0]["shape"] = [8, 8, 1]
            project["model"]["layers"][0] = {
                "name": "hidden",
                "class_name": "Conv2D",
                "config": {"filters": 8, "kernel_size": 3},
            }
    return project


def _other(template: str, dataset: str, units: int, activation, loss: str) -> dict:
    project = templates.load(template)
    project["data"] = {"dataset": dataset, "options": {}}
    spec = describe(project["data"]).input_spec
    project["model"]["inputs"][0]["shape"] = spec["shape"]
    project["model"]["layers"][-1]["config"].update(units=units, activation=activation)
    project["compile"].update(loss=loss, metrics=[])
    return project


CASES = [
    # (case, project, words of the error or None, fix labels)
    ("fits", _digits(), None, []),
    (
        "one-hot, too few units",
        _digits(units=7),
        "gives 7 numbers per sample but the data has one-hot labels of 10 classes",
        ["Set units to 10"],
    ),
    (
        "one-hot, too many units",
        _digits(units=12),
        "the last layer needs 10 units",
        ["Set units to 10"],
    ),
    (
        "a grid per sample",
        _digits(conv_before_output=True),
        "gives (None, 6, 6, 10) per batch",
        ["Insert GlobalAveragePooling2D before digit", "Insert Flatten before digit"],
    ),
    (
        "integer labels, too few units",
        _digits(units=7, loss="sparse_categorical_crossentropy"),
        "class numbers up to 9",
        ["Set units to 10"],
    ),
    (
        "integer labels, extra units train",
        _digits(units=12, loss="sparse_categorical_crossentropy"),
        None,
        [],
    ),
    (
        "input vs samples",
        _digits(input=[32]),
        "takes samples of shape (32,) but the chosen data gives (64,)",
        ["Set the input shape to (64,)"],
    ),
    (
        "binary",
        _other("offline_default", "breast_cancer", 1, "sigmoid", "binary_crossentropy"),
        None,
        [],
    ),
    ("regression", _other("offline_default", "diabetes", 1, None, "mse"), None, []),
]


@pytest.mark.parametrize("case, project, words, fix_labels", CASES, ids=[c[0] for c in CASES])
def test_check_says_whether_the_model_fits_its_data(case, project, words, fix_labels):
    result = fit_check.check(project)
    problems = fit_check.problems(result)
    if words is None:
        assert result.valid, problems
        return
    assert not result.valid
    assert len(problems) == 1, problems  # one error, said once
    layer, message = problems[0]
    assert words in message
    assert [f.label for f in result.layer(layer).fixes] == fix_labels
    codes = [w.code for w in result.all_warnings()]
    assert "units-vs-classes" not in codes and "input-vs-data" not in codes  # not said twice


@pytest.mark.parametrize(
    "case, project, words, fix_labels",
    [c for c in CASES if c[3]],
    ids=[c[0] for c in CASES if c[3]],
)
def test_the_first_fix_makes_the_model_fit(case, project, words, fix_labels):
    layer = fit_check.problems(fit_check.check(project))[0][0]
    fixed = fixes.apply_fix(project, fit_check.check(project).layer(layer).fixes[0])
    assert fit_check.check(fixed).valid, fit_check.problems(fit_check.check(fixed))


def _labels(project: dict, n: int):
    info = describe(project["data"])
    encoding, width = fit_check.label_form(
        project["compile"]["loss"], info.task, info.num_classes, info.label_encoding
    )
    classes = np.arange(n) % (width or 2)  # every class, the last one too
    if encoding == "one_hot":
        return np.eye(width, dtype="float32")[classes]
    if encoding == "integer":
        return classes.astype("int32")
    return classes.astype("float32")


@pytest.mark.parametrize("case, project, words, fix_labels", CASES, ids=[c[0] for c in CASES])
def test_keras_agrees(case, project, words, fix_labels):
    from builder.build import build

    model = build(project)
    n = 20
    x = np.random.default_rng(0).random(
        (n, *describe(project["data"]).input_spec["shape"]), dtype="float32"
    )
    try:
        model.fit(x, _labels(project, n), epochs=1, batch_size=10, verbose=0)
        trained = True
    except Exception:  # Keras' own refusal, whatever its type
        trained = False
    assert trained == (words is None)


def test_label_form_follows_the_loss():
    assert fit_check.label_form("sparse_categorical_crossentropy", "multiclass", 10, "one_hot") == (
        "integer",
        10,
    )
    assert fit_check.label_form("categorical_crossentropy", "binary", 2, "binary") == ("one_hot", 2)
    assert fit_check.label_form("binary_crossentropy", "binary", 2, "binary") == ("binary", None)
    assert fit_check.label_form("mse", "regression", None, "value") == ("value", None)
    assert fit_check.label_form(None, "multiclass", 46, "integer") == ("integer", 46)


def test_the_shape_checker_alone_ignores_the_data():
    project = _digits(units=7)
    assert checker.check(project).valid and not fit_check.check(project).valid


def _boston_on_digits() -> dict:
    """The Boston template (Dense(1), mse) after switching its data to Digits."""
    project = templates.load("boston_regression")
    project["data"] = {"dataset": "digits", "options": {}}
    project["model"]["inputs"][0]["shape"] = [64]
    return project


def test_a_regression_loss_on_classes_names_the_loss_the_data_page_recommends():
    from builder import advice
    from builder.data import registry

    project = _boston_on_digits()
    want = registry.recommend(project["data"])["loss"]
    assert want == "sparse_categorical_crossentropy" == advice.recommended_loss(project)
    result = fit_check.check(project)
    problems = fit_check.problems(result)
    assert not result.valid and len(problems) == 1, problems
    layer, message = problems[0]
    assert "one-hot" not in message  # Digits' labels are class numbers
    assert "class numbers (label_encoding 'integer')" in message
    assert f"use loss {want}" in message and "10 units" in message
    assert [f.label for f in result.layer(layer).fixes] == [f"Use loss {want}", "Set units to 10"]
    # The advice does not say it again, nor contradict it.
    codes = [w.code for w in result.all_warnings()]
    assert "regression-loss-on-classifier" not in codes
    assert not any(
        "categorical_crossentropy" in w.message and want not in w.message
        for w in result.all_warnings()
    )
    # Both fixes together make the model fit.
    fixed = project
    for fix in result.layer(layer).fixes:
        fixed = fixes.apply_fix(fixed, fix)
    assert fit_check.check(fixed).valid, fit_check.problems(fit_check.check(fixed))


def test_one_hot_labels_from_a_loss_say_why_when_the_data_is_integer():
    project = _digits(units=7, loss="categorical_crossentropy")
    project["data"]["options"]["label_encoding"] = "integer"
    assert describe(project["data"]).label_encoding == "integer"
    message = fit_check.problems(fit_check.check(project))[0][1]
    assert "one-hot labels of 10 classes" in message
    assert "categorical_crossentropy needs them one-hot (label_encoding is 'integer')" in message


def _validation(project: dict, **val) -> dict:
    project["fit"]["validation"] = val
    return project


def test_train_samples_are_known_before_loading():
    # Digits: 1,797 samples, 20 % kept for testing (rounded up), as scikit-learn splits.
    assert fit_check.train_samples(_digits()) == 1797 - 360
    boston = templates.load("boston_regression")
    assert fit_check.train_samples(boston) == 404


@pytest.mark.parametrize(
    "val, words",
    [
        ({"method": "holdout", "count": 1437}, "fit.validation.count: 1,437 samples"),
        ({"method": "holdout", "count": 5000}, "hold out at most 1,436"),
        ({"method": "split", "fraction": 0.9999}, "leaves no training sample"),
        ({"method": "split", "fraction": 1e-17}, "leaves no validation sample"),
        ({"method": "kfold", "k": 2000}, "at most 1437 folds"),
    ],
)
def test_validation_that_cannot_split_the_training_set_is_an_error_before_training(val, words):
    project = _validation(_digits(), **val)
    result = fit_check.check(project)
    assert not result.valid
    assert [m for layer, m in fit_check.problems(result) if layer is None and words in m]


@pytest.mark.parametrize(
    "val",
    [
        {"method": "holdout", "count": 1436},
        {"method": "holdout", "fraction": 0.99},
        {"method": "split", "fraction": 0.2},
        {"method": "kfold", "k": 20},
        {"method": "none"},
    ],
)
def test_validation_that_fits_is_no_error(val):
    result = fit_check.check(_validation(_digits(), **val))
    assert result.valid, fit_check.problems(result)


def test_the_validation_check_agrees_with_the_training_split_and_keras():
    """The counts said above are the ones the worker and Keras refuse."""
    from builder.data import DataError
    from builder.data.splits import holdout, kfold_splits

    n = fit_check.train_samples(_digits())
    x = np.zeros((n, 1), "float32")
    holdout(x, x, count=n - 1)
    with pytest.raises(DataError):
        holdout(x, x, count=n)
    with pytest.raises(DataError):
        list(kfold_splits(n, n + 1))
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    train_validation_split((x,), 0.2)
    with pytest.raises(ValueError):
        train_validation_split((x,), 0.9999)


def test_a_large_batch_is_no_error():
    project = _digits()
    project["fit"]["batch_size"] = 100_000
    assert fit_check.check(project).valid


def test_train_samples_equal_what_training_gets(tmp_path):
    from builder.data import loader
    from tests.fixtures_data import mixed_csv_project

    for project in (
        _digits(),
        templates.load("multi_head"),
        mixed_csv_project(tmp_path, "csv_binary"),
    ):
        loader.clear_cache()
        assert fit_check.train_samples(project) == len(loader.prepare(project).train_targets)
