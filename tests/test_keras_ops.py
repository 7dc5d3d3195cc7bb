"""keras.ops nodes as layers (``builder.keras_ops.layers_for``), each held against Keras:
the op and the layers it maps to give the same values on the same input."""

from __future__ import annotations

import numpy as np
import pytest

from builder.checker import make_layer
from builder.keras_ops import layers_for
from builder.project import ProjectError


def _op(fn):
    """The recorded (class, config, args) of ``fn`` applied to a (None, 4, 6) tensor."""
    import json

    import keras

    x = keras.Input((4, 6))
    entry = json.loads(keras.Model(x, fn(x)).to_json())["config"]["layers"][1]
    return entry["class_name"], entry["config"], entry["inbound_nodes"][0]["args"]


CASES = {
    "relu": lambda ops: lambda x: ops.nn.relu(x),
    "sigmoid": lambda ops: lambda x: ops.sigmoid(x),
    "tanh": lambda ops: lambda x: ops.tanh(x),
    "softmax": lambda ops: lambda x: ops.nn.softmax(x),
    "softmax_axis1": lambda ops: lambda x: ops.nn.softmax(x, axis=1),
    "leaky_relu": lambda ops: lambda x: ops.nn.leaky_relu(x, negative_slope=0.1),
    "exp": lambda ops: lambda x: ops.exp(x),
    "expand_dims": lambda ops: lambda x: ops.expand_dims(x, 2),
    "reshape": lambda ops: lambda x: ops.reshape(x, (-1, 24)),
    "transpose": lambda ops: lambda x: ops.transpose(x, (0, 2, 1)),
    "mean_steps": lambda ops: lambda x: ops.mean(x, axis=1),
    "max_steps_keepdims": lambda ops: lambda x: ops.max(x, axis=1, keepdims=True),
    "crop": lambda ops: lambda x: x[:, 1:3],
    "crop_negative": lambda ops: lambda x: x[:, -3:],
    "class_token": lambda ops: lambda x: x[:, 0],
    "last_step": lambda ops: lambda x: x[:, -1, :],
}


@pytest.mark.parametrize("case", list(CASES))
def test_op_maps_to_layers_that_compute_the_same(case):
    import keras

    fn = CASES[case](keras.ops)
    cls, config, args = _op(fn)
    mapped = layers_for(cls, config, [[None, 4, 6]], args)
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    y = x
    for layer_cls, layer_config in mapped:
        y = make_layer(layer_cls, layer_config)(y)
    np.testing.assert_allclose(np.asarray(y), np.asarray(fn(x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda ops: lambda x: ops.sum(x, axis=1), "keras.ops.sum, which no built-in layer"),
        (lambda ops: lambda x: ops.nn.gelu(x), "keras.ops.gelu"),
        (lambda ops: lambda x: x[:, ::2], "keras.ops.get_item (a slice other than a crop"),
        (lambda ops: lambda x: ops.cast(x, "float16"), "keras.ops.cast to float16"),
        (lambda ops: lambda x: ops.mean(x, axis=2), "keras.ops.mean"),
    ],
)
def test_op_without_a_layer_is_refused_in_one_sentence(fn, words):
    import keras

    cls, config, args = _op(fn(keras.ops))
    with pytest.raises(ProjectError) as err:
        layers_for(cls, config, [[None, 4, 6]], args, name="op_1")
    message = str(err.value)
    assert words in message and message.startswith("layer 'op_1' is the operation")
    assert "{" not in message and message.count(".") <= 4
