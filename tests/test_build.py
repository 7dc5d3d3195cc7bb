import pytest

from builder import templates
from builder.build import BuildError, build
from builder.checker import check
from tests.helpers import project


@pytest.mark.parametrize("name", templates.names())
def test_templates_build_with_checker_shapes(name):
    p = templates.load(name)
    result = check(p)
    assert result.valid, [r.error for r in result.layers]
    model = build(p)
    assert model.count_params() == result.total_params
    assert list(model.outputs[0].shape) == result.layers[-1].output_shape
    assert model.optimizer.__class__.__name__ == p["compile"]["optimizer"]["class_name"]


def test_stack_is_sequential_graph_is_functional():
    import keras

    stack = build(project([("d", "Dense", {"units": 3})]))
    assert isinstance(stack, keras.Sequential)
    graph = build(project([("a", "Dense", {"units": 4}, ["x"]), ("b", "Dense", {"units": 4}, ["x"]),
                           ("m", "Add", {}, ["a", "b"])], outputs=["m"]))
    assert not isinstance(graph, keras.Sequential) and graph.count_params() == 2 * (784 * 4 + 4)


def test_multi_output_compiles_with_losses_per_output():
    p = project([("h", "Dense", {"units": 8}, ["x"]),
                 ("kind", "Dense", {"units": 3, "activation": "softmax"}, ["h"]),
                 ("price", "Dense", {"units": 1}, ["h"])], outputs=["kind", "price"])
    p["compile"].update(loss={"kind": "categorical_crossentropy", "price": "mse"},
                        loss_weights={"kind": 1.0, "price": 0.5},
                        metrics={"kind": ["accuracy"], "price": ["mae"]})
    model = build(p)
    assert len(model.outputs) == 2


def test_invalid_model_raises_plain_message():
    with pytest.raises(BuildError, match="needs images"):
        build(project([("c", "Conv2D", {"filters": 2, "kernel_size": 3})]))
