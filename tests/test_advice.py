import pytest

from builder.checker import check
from builder.fixes import apply_fix
from tests.helpers import project


def codes(result):
    return {w.code for w in result.all_warnings()}


@pytest.mark.parametrize(
    "layers, loss, dataset, options, code",
    [
        (
            [("o", "Dense", {"units": 1, "activation": "softmax"})],
            "binary_crossentropy",
            "breast_cancer",
            {},
            "softmax-binary",
        ),
        (
            [("o", "Dense", {"units": 46, "activation": "sigmoid"})],
            "categorical_crossentropy",
            "digits",
            {},
            "sigmoid-multiclass",
        ),
        (
            [("o", "Dense", {"units": 10, "activation": "softmax"})],
            "mse",
            "digits",
            {},
            "regression-loss-on-classifier",
        ),
        (
            [("o", "Dense", {"units": 1, "activation": "relu"})],
            "mse",
            "diabetes",
            {},
            "activation-on-regression",
        ),
        (
            [("o", "Dense", {"units": 9, "activation": "softmax"})],
            "categorical_crossentropy",
            "digits",
            {},
            "units-vs-classes",
        ),
        (
            [
                ("h", "Dense", {"units": 4, "activation": "relu"}),
                ("o", "Dense", {"units": 10, "activation": "softmax"}),
            ],
            "categorical_crossentropy",
            "digits",
            {},
            "bottleneck",
        ),
        (
            [("o", "Dense", {"units": 10})],
            "categorical_crossentropy",
            "digits",
            {},
            "logits-crossentropy",
        ),
    ],
)
def test_advice_rules_fire_and_their_fix_silences_them(layers, loss, dataset, options, code):
    from builder.data import registry

    shape = registry.input_spec({"dataset": dataset, "options": options})["shape"]
    p = project(layers, shape=shape, loss=loss, dataset=dataset, options=options)
    result = check(p)
    assert result.valid
    found = [w for w in result.all_warnings() if w.code == code]
    assert found, codes(result)
    assert found[0].message
    if found[0].fix is not None:
        fixed = check(apply_fix(p, found[0].fix))
        assert code not in codes(fixed)


def test_missing_flatten_before_dense_on_images():
    p = project(
        [
            ("c", "Conv2D", {"filters": 4, "kernel_size": 3}),
            ("o", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(8, 8, 1),
        options={"image_layout": "image"},
    )
    result = check(p)
    warn = next(w for w in result.all_warnings() if w.code == "missing-flatten")
    fixed = check(apply_fix(p, warn.fix))
    assert fixed.layer("o").output_shape == [None, 10]
    assert "missing-flatten" not in codes(fixed)


def test_huge_model_warns_with_memory():
    p = project(
        [("d", "Dense", {"units": 30000}), ("o", "Dense", {"units": 10, "activation": "softmax"})],
        shape=(1000,),
    )
    result = check(p)
    assert "huge" in codes(result)
    assert result.memory_bytes > result.total_params * 4 * 3


def test_good_book_network_has_no_advice():
    p = project(
        [
            ("d1", "Dense", {"units": 64, "activation": "relu"}),
            ("o", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        options={"image_layout": "flat"},
    )
    assert check(p).all_warnings() == []


def test_one_unit_is_said_in_the_singular():
    p = project(
        [
            ("hidden", "Dense", {"units": 1, "activation": "relu"}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        dataset="digits",
    )
    result = check(p)
    bottleneck = [w.message for w in result.all_warnings() if w.code == "bottleneck"]
    assert bottleneck and "'hidden' has 1 unit," in bottleneck[0]
    assert result.layer("hidden").summary == "1 unit, relu"


@pytest.mark.parametrize(
    "options, want, words",
    [
        ({}, "sparse_categorical_crossentropy", "class numbers"),  # Digits: integer labels
        ({"label_encoding": "one_hot"}, "categorical_crossentropy", "one-hot labels"),
    ],
)
def test_regression_loss_advice_names_the_loss_the_data_page_recommends(options, want, words):
    from builder import advice
    from builder.data import registry

    data = {"dataset": "digits", "options": options}
    p = project(
        [("o", "Dense", {"units": 10, "activation": "softmax"})],
        shape=(64,),
        loss="mse",
        dataset="digits",
        options=options,
    )
    assert registry.recommend(data)["loss"] == want == advice.recommended_loss(p)
    found = next(w for w in check(p).all_warnings() if w.code == "regression-loss-on-classifier")
    assert f"use {want}." in found.message and words in found.message
    assert found.fix.label == f"Use loss {want}"
    assert apply_fix(p, found.fix)["compile"]["loss"] == want
