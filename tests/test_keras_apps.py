"""keras.applications (weights=None, nothing downloaded) imported, checked and exported back.

Each model is built once by Keras on a small input, its ``to_json()`` imported into a
project, checked (Keras' own parameter count), exported to Keras JSON and imported again:
the two projects must be the same (same layers, settings, connections). The models with
custom layers of their own are refused, naming the layer and its class.
"""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from builder import export, keras_import
from builder.checker import check
from builder.project import ProjectError

ROUND_TRIP = {
    "VGG16": (32, 32, 3),
    "ResNet50": (32, 32, 3),
    "ResNet50V2": (32, 32, 3),
    "DenseNet121": (32, 32, 3),
    "InceptionV3": (75, 75, 3),
    "Xception": (71, 71, 3),
    "NASNetMobile": (224, 224, 3),
    "MobileNet": (32, 32, 3),
    "MobileNetV2": (32, 32, 3),
    "MobileNetV3Small": (32, 32, 3),
    "EfficientNetB0": (32, 32, 3),
    "EfficientNetV2B0": (32, 32, 3),
}
REFUSED = {
    "InceptionResNetV2": ((75, 75, 3), "custom_scale_layer", "CustomScaleLayer"),
    "ConvNeXtTiny": ((32, 32, 3), "layer_scale", "LayerScale"),
}


def _app(name, shape):
    import keras

    return getattr(keras.applications, name)(weights=None, input_shape=shape)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_application_round_trips(name):
    model = _app(name, ROUND_TRIP[name])
    project, notes = keras_import.from_keras_json(model.to_json())
    assert not any("left out" in n for n in notes), notes
    result = check(project)
    assert result.valid, [r.error for r in result.layers if r.error][:3]
    assert result.total_params == model.count_params()
    again, _ = keras_import.from_keras_json(export.to_keras_json(project))
    assert again["model"] == project["model"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(REFUSED))
def test_application_with_custom_layers_is_refused_by_name(name):
    shape, layer_part, cls = REFUSED[name]
    model = _app(name, shape)
    with pytest.raises(ProjectError) as err:
        keras_import.from_keras_json(model.to_json())
    text = str(err.value)
    assert layer_part in text and repr(cls) in text and "custom layer" in text


def test_nested_sequential_is_flattened_and_ops_become_layers():
    import keras

    inner = keras.Sequential(
        [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4)], name="block"
    )
    x = keras.Input((6,), name="x")
    y = inner(x)
    y = keras.layers.Dense(4, name="head")(y * 0.5 + 1.0)
    model = keras.Model(x, y)
    project, notes = keras_import.from_keras_json(model.to_json())
    classes = [lay["class_name"] for lay in project["model"]["layers"]]
    assert classes == ["Dense", "Dense", "Rescaling", "Rescaling", "Dense"]
    assert check(project).total_params == model.count_params()
    assert any("flattened" in n for n in notes)


def test_attention_call_settings_and_key_are_imported():
    import keras

    q = keras.Input((6, 8), name="q")
    v = keras.Input((5, 8), name="v")
    k = keras.Input((5, 8), name="k")
    out = keras.layers.MultiHeadAttention(2, 4, name="mha")(q, v, k, use_causal_mask=False)
    out2 = keras.layers.MultiHeadAttention(2, 4, name="self")(out, out, use_causal_mask=True)
    model = keras.Model([q, v, k], out2)
    project, _ = keras_import.from_keras_json(model.to_json())
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    assert layers["mha"]["inbound"] == ["q", "v", "k"]
    assert layers["self"]["config"]["use_causal_mask"] is True
    assert layers["self"]["inbound"] == ["mha", "mha"]
    assert check(project).total_params == model.count_params()
    again, _ = keras_import.from_keras_json(export.to_keras_json(project))
    assert again["model"] == project["model"]


def test_initializer_and_regularizer_objects_survive():
    import keras

    x = keras.Input((4,), name="x")
    y = keras.layers.Dense(
        3,
        kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out"),
        kernel_regularizer=keras.regularizers.L2(0.1),
        bias_constraint=keras.constraints.MaxNorm(3.0),
        name="d",
    )(x)
    project, notes = keras_import.from_keras_json(keras.Model(x, y).to_json())
    config = project["model"]["layers"][0]["config"]
    assert config["kernel_initializer"]["class_name"] == "VarianceScaling"
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.1}}
    assert config["bias_constraint"]["class_name"] == "MaxNorm"
    assert not any("left out" in n for n in notes), notes
    again, _ = keras_import.from_keras_json(export.to_keras_json(project))
    assert json.dumps(again["model"], sort_keys=True) == json.dumps(
        project["model"], sort_keys=True
    )


def test_nested_functional_model_is_flattened():
    import keras

    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    merged = keras.layers.Concatenate(name="join")(
        [keras.layers.Dense(4, name="da")(a), keras.layers.Dense(4, name="db")(b)]
    )
    inner = keras.Model([a, b], keras.layers.Dense(3, name="inner_out")(merged), name="pair")
    x = keras.Input((6,), name="x")
    y = keras.Input((6,), name="y")
    out = keras.layers.Dense(2, name="head")(inner([x, y]))
    model = keras.Model([x, y], out)
    project, notes = keras_import.from_keras_json(model.to_json())
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    assert set(layers) == {"da", "db", "join", "inner_out", "head"}
    assert layers["da"].get("inbound", ["x"]) == ["x"] and layers["db"]["inbound"] == ["y"]
    assert layers["head"].get("inbound", ["inner_out"]) == ["inner_out"]
    assert check(project).total_params == model.count_params()
    assert any("flattened" in n for n in notes)


def test_nested_model_with_several_outputs_is_flattened_output_by_output():
    """Each output of a nested model (history tensor index k) stands for its own inner
    layer, inside the outer graph and among the outer model's outputs."""
    import keras

    i = keras.Input((8,), name="i")
    inner = keras.Model(
        i, [keras.layers.Dense(4, name="a")(i), keras.layers.Dense(3, name="b")(i)], name="two"
    )
    x = keras.Input((8,), name="x")
    first, second = inner(x)
    joined = keras.layers.Concatenate(name="cat")([second, first])
    model = keras.Model(x, [keras.layers.Dense(1, name="d")(joined), second])
    project, _ = keras_import.from_keras_json(model.to_json())
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    assert layers["cat"]["inbound"] == ["b", "a"]
    assert project["model"]["outputs"] == ["d", "b"]
    assert check(project).total_params == model.count_params()


def test_a_second_output_of_an_ordinary_layer_is_read_as_name_k():
    import keras

    x = keras.Input((5, 3), name="x")
    seq, state_h, _ = keras.layers.LSTM(4, return_state=True, name="rnn")(x)
    model = keras.Model(x, keras.layers.Concatenate(name="cat")([seq, state_h]))
    project, _ = keras_import.from_keras_json(model.to_json())
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    assert layers["cat"]["inbound"] == ["rnn", "rnn:1"]
    assert check(project).total_params == model.count_params()
