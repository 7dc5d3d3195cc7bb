import numpy as np
import pytest

from builder import templates
from builder.build import BuildError, build
from builder.checker import check
from tests.helpers import LazyModule, keras_model, project

keras = LazyModule("keras")  # imported on first use, not at collection


@pytest.mark.parametrize("name", templates.names())
def test_templates_build_with_checker_shapes(name):
    p = templates.load(name)
    result = check(p)
    assert result.valid, [r.error for r in result.layers]
    model = build(p)
    plain = keras_model(p)  # the oracle: plain Keras calls, not the builder
    assert model.count_params() == result.total_params == plain.count_params()
    assert list(model.outputs[0].shape) == list(plain.outputs[0].shape)
    assert list(model.outputs[0].shape) == result.layer(p["model"]["outputs"][0]).output_shape
    assert model.optimizer.__class__.__name__ == p["compile"]["optimizer"]["class_name"]


def test_stack_is_sequential_graph_is_functional():
    stack = build(project([("d", "Dense", {"units": 3})]))
    assert isinstance(stack, keras.Sequential)
    graph = build(
        project(
            [
                ("a", "Dense", {"units": 4}, ["x"]),
                ("b", "Dense", {"units": 4}, ["x"]),
                ("m", "Add", {}, ["a", "b"]),
            ],
            outputs=["m"],
        )
    )
    assert not isinstance(graph, keras.Sequential) and graph.count_params() == 2 * (784 * 4 + 4)


def test_multi_output_compiles_with_losses_per_output():
    p = project(
        [
            ("h", "Dense", {"units": 8}, ["x"]),
            ("kind", "Dense", {"units": 3, "activation": "softmax"}, ["h"]),
            ("price", "Dense", {"units": 1}, ["h"]),
        ],
        outputs=["kind", "price"],
    )
    p["compile"].update(
        loss={"kind": "categorical_crossentropy", "price": "mse"},
        loss_weights={"kind": 1.0, "price": 0.5},
        metrics={"kind": ["accuracy"], "price": ["mae"]},
    )
    model = build(p)
    assert model.output_names == ["kind", "price"]
    assert [list(o.shape) for o in model.outputs] == [[None, 3], [None, 1]]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 784)).astype("float32")
    y = {
        "kind": np.eye(3, dtype="float32")[rng.integers(0, 3, 16)],
        "price": rng.normal(size=(16, 1)).astype("float32"),
    }
    got = model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0)
    kind, price = model.predict(x, verbose=0)
    # The oracle is Keras' own loss functions on the model's predictions.
    want_kind = float(np.mean(keras.losses.categorical_crossentropy(y["kind"], kind)))
    want_price = float(np.mean(keras.losses.mean_squared_error(y["price"], price)))
    assert got["kind_loss"] == pytest.approx(want_kind, rel=1e-4)
    assert got["price_loss"] == pytest.approx(want_price, rel=1e-4)
    assert got["loss"] == pytest.approx(want_kind + 0.5 * want_price, rel=1e-4)
    assert {"kind_accuracy", "price_mae"} <= set(got)


def test_graph_listed_out_of_order_builds_in_dependency_order():
    p = project(
        [
            ("both", "Concatenate", {}, ["wide", "deep"]),
            ("wide", "Dense", {"units": 2}, ["x"]),
            ("deep", "Dense", {"units": 3}, ["x"]),
        ],
        outputs=["both"],
    )
    model = build(p)
    assert list(model.outputs[0].shape) == [None, 5]
    assert model.count_params() == 784 * 2 + 2 + 784 * 3 + 3


def test_invalid_model_raises_plain_message():
    with pytest.raises(BuildError, match="needs images"):
        build(project([("c", "Conv2D", {"filters": 2, "kernel_size": 3})]))
