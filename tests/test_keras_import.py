"""Importing Keras models: project -> build -> Keras JSON / .keras -> import gives back the
same layers, settings, connections, shapes and parameters; what a project cannot hold is
noted; code-carrying or unknown layers and garbage are refused with ProjectError."""

from __future__ import annotations

import copy
import json
import re

import pytest

from builder import export, settings
from builder.build import build
from builder.checker import check
from builder.keras_import import from_keras_config, from_keras_file, from_keras_json
from builder.project import ProjectError
from tests.helpers import project

DATA_NOTE = "No data is chosen yet"

STACKS = {
    "dense": (
        [
            (
                "d1",
                "Dense",
                {
                    "units": 16,
                    "activation": "relu",
                    "kernel_initializer": "he_normal",
                    "kernel_regularizer": "l2",
                },
            ),
            ("drop", "Dropout", {"rate": 0.5}),
            ("d2", "Dense", {"units": 10, "activation": "softmax", "use_bias": False}),
        ],
        (784,),
        "float32",
    ),
    "convnet": (
        [
            (
                "c1",
                "Conv2D",
                {
                    "filters": 4,
                    "kernel_size": [3, 3],
                    "padding": "same",
                    "strides": [2, 2],
                    "activation": "relu",
                },
            ),
            ("bn", "BatchNormalization", {"momentum": 0.9}),
            ("pad", "ZeroPadding2D", {"padding": [1, 2]}),
            ("crop", "Cropping2D", {"cropping": [[1, 0], [0, 1]]}),
            ("pool", "MaxPooling2D", {"pool_size": [3, 3], "strides": [1, 1]}),
            ("gap", "GlobalAveragePooling2D", {}),
            ("out", "Dense", {"units": 3, "activation": "softmax"}),
        ],
        (28, 28, 1),
        "float32",
    ),
    "sequence": (
        [
            ("emb", "Embedding", {"input_dim": 50, "output_dim": 8, "mask_zero": True}),
            (
                "bi",
                "Bidirectional",
                {
                    "layer": {
                        "class_name": "LSTM",
                        "config": {"units": 4, "return_sequences": True},
                    },
                    "merge_mode": "sum",
                },
            ),
            ("gru", "GRU", {"units": 3, "dropout": 0.25}),
            ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        (30,),
        "int32",
    ),
    "shapes": (
        [
            ("resh", "Reshape", {"target_shape": [4, 4]}),
            ("perm", "Permute", {"dims": [2, 1]}),
            ("conv", "Conv1D", {"filters": 4, "kernel_size": 2, "dilation_rate": 2}),
            ("pool", "MaxPooling1D", {}),
            ("norm", "LayerNormalization", {"epsilon": 0.01}),
            ("flat", "Flatten", {}),
            ("rep", "RepeatVector", {"n": 2}),
            ("lrelu", "LeakyReLU", {"negative_slope": 0.1}),
            ("scale", "Rescaling", {"scale": 0.5, "offset": 1.0}),
        ],
        (16,),
        "float32",
    ),
}


def _stack(key):
    layers, shape, dtype = STACKS[key]
    return project(layers, shape=shape, dtype=dtype)


def _graph():
    p = project(
        [
            ("a1", "Dense", {"units": 8, "activation": "relu"}, ["left"]),
            ("b1", "Dense", {"units": 8, "activation": "tanh"}, ["right"]),
            ("sum", "Add", {}, ["a1", "b1"]),
            ("both", "Concatenate", {"axis": -1}, ["a1", "sum"]),
            ("kind", "Dense", {"units": 3, "activation": "softmax"}, ["both"]),
            ("price", "Dense", {"units": 1}, ["sum"]),
        ],
        inputs=[
            {"name": "left", "shape": [5], "dtype": "float32"},
            {"name": "right", "shape": [7], "dtype": "float32"},
        ],
        outputs=["price", "kind"],
    )
    p["compile"].update(
        loss={"kind": "categorical_crossentropy", "price": "mse"},
        metrics={"kind": ["accuracy"], "price": ["mae"]},
    )
    return p


def _shapes(p):
    result = check(p)
    assert result.valid, result.errors
    return sorted((r.name, r.class_name, r.output_shape, r.params) for r in result.layers)


def _keras_json(model) -> str:
    return model.to_json()


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("key", list(STACKS))
def test_stack_round_trip_keeps_layers_settings_and_shapes(key):
    p = _stack(key)
    imported, notes = from_keras_json(export.to_keras_json(p))
    assert [lay["config"] for lay in imported["model"]["layers"]] == [
        lay["config"] for lay in p["model"]["layers"]
    ]
    assert imported["model"]["inputs"] == [
        {"name": "x", "shape": list(STACKS[key][1]), "dtype": STACKS[key][2]}
    ]
    assert _shapes(imported) == _shapes(p)
    assert build(imported).count_params() == build(p).count_params()
    assert len(notes) == 1 and notes[0].startswith(DATA_NOTE)


def test_graph_round_trip_keeps_connections_and_outputs():
    p = _graph()
    imported, notes = from_keras_json(export.to_keras_json(p))
    model = imported["model"]
    assert [i["name"] for i in model["inputs"]] == ["left", "right"]
    assert model["outputs"] == ["price", "kind"]
    links = {lay["name"]: lay.get("inbound") for lay in model["layers"]}
    assert links["sum"] == ["a1", "b1"] and links["both"] == ["a1", "sum"]
    assert links["b1"] == ["right"] and links["price"] == ["sum"]
    assert _shapes(imported) == _shapes(p)
    assert imported["compile"]["loss"] == {"kind": "categorical_crossentropy", "price": "mse"}
    assert len(notes) == 1


def test_keras_file_round_trip_with_compile_settings(tmp_path):
    p = _stack("convnet")
    p["compile"].update(
        optimizer={"class_name": "Adam", "config": {"learning_rate": 0.01}},
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    path = export.save_keras(p, tmp_path / "convnet.keras")
    imported, _notes = from_keras_file(path)
    assert _shapes(imported) == _shapes(p)
    assert imported["compile"]["optimizer"] == settings.optimizer("Adam", {"learning_rate": 0.01})
    assert imported["compile"]["loss"] == "sparse_categorical_crossentropy"
    assert imported["compile"]["metrics"] == ["accuracy"]


# --------------------------------------------------------------------------- notes


def test_initializers_regularizers_and_constraints_are_kept():
    import keras

    model = keras.Sequential(
        [
            keras.Input((4,), name="features"),
            keras.layers.Dense(
                3,
                kernel_regularizer=keras.regularizers.L2(0.05),
                bias_initializer="ones",
                kernel_constraint="non_neg",
                name="d",
            ),
        ]
    )
    imported, notes = from_keras_json(model.to_json())
    assert imported["model"]["layers"][0]["config"] == {
        "units": 3,
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.05}},
        "bias_initializer": "ones",
        "kernel_constraint": "non_neg",
    }
    assert not any("left out" in n for n in notes)


@pytest.mark.parametrize(
    "shape,dtype,data,loss",
    [
        ([784], "float32", {"dataset": "mnist", "options": {}}, "sparse_categorical_crossentropy"),
        (
            [28, 28, 1],
            "float32",
            {"dataset": "mnist", "options": {"image_layout": "image"}},
            "sparse_categorical_crossentropy",
        ),
        (
            [120],
            "int32",
            {"dataset": "imdb", "options": {"encoding": "sequence", "maxlen": 120}},
            "binary_crossentropy",
        ),
        ([13], "float32", {"dataset": "boston_housing", "options": {}}, "mse"),
    ],
)
def test_a_dataset_that_fits_the_input_is_offered_not_chosen(shape, dtype, data, loss):
    import keras

    model = keras.Sequential([keras.Input(tuple(shape), dtype=dtype), keras.layers.Flatten()])
    imported, notes = from_keras_json(model.to_json())
    assert imported["data"] == {**data, "chosen": False}
    assert imported["compile"]["loss"] == loss  # the dataset's usual loss: no compile_config
    assert f"No data is chosen yet: {data['dataset']} has samples" in notes[-1]


def test_odd_keras_names_are_renamed_with_a_note():
    doc = json.loads(export.to_keras_json(_stack("dense")))
    doc["config"]["layers"][1]["config"]["name"] = "dense-1/x"
    imported, notes = from_keras_config(doc)
    assert imported["model"]["layers"][0]["name"] == "dense_1_x"
    assert any("'dense-1/x' is named 'dense_1_x'" in n for n in notes)


# --------------------------------------------------------------------------- refusals


def _lambda_model():
    import keras

    inp = keras.Input((4,), name="x")
    out = keras.layers.Lambda(lambda t: t * 2, name="double")(inp)
    return keras.Model(inp, keras.layers.Dense(1, name="d")(out))


def test_lambda_json_is_refused():
    with pytest.raises(ProjectError, match=r"'double' is a Lambda layer.*never executes"):
        from_keras_json(_lambda_model().to_json())


def test_lambda_keras_file_is_refused_and_keras_never_opens_it(tmp_path, monkeypatch):
    import keras

    path = tmp_path / "lambda.keras"
    _lambda_model().save(path)
    monkeypatch.setattr(
        keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras opened an uploaded file")
    )
    with pytest.raises(ProjectError, match="Lambda"):
        from_keras_file(path)


def test_unknown_layer_type_names_it_and_the_catalogue():
    import keras

    model = keras.Sequential(
        [keras.Input((4, 3)), keras.layers.GroupNormalization(groups=1, name="gn")]
    )
    doc = json.loads(model.to_json())
    doc["config"]["layers"][-1].update(class_name="FancyNorm", module="my_package.layers")
    with pytest.raises(ProjectError, match=r"'gn'.*FancyNorm"):
        from_keras_json(json.dumps(doc))


def test_shared_layer_becomes_one_layer_and_its_further_calls():
    import keras

    dense = keras.layers.Dense(2, name="shared")
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    model = keras.Model([a, b], keras.layers.Add(name="add")([dense(a), dense(b)]))
    p, notes = from_keras_json(model.to_json())
    layers = {lay["name"]: lay for lay in p["model"]["layers"]}
    assert layers["shared_2"]["shares"] == "shared" and layers["shared_2"]["inbound"] == ["b"]
    assert layers["add"]["inbound"] == ["shared", "shared_2"]
    assert any("called 2 times" in n for n in notes)
    result = check(p)
    assert result.valid and result.total_params == model.count_params() == 8
    assert result.layer("shared_2").params == 0  # the weights are counted once
    again, _ = from_keras_json(export.to_keras_json(p))  # and back through Keras
    assert {lay["name"]: lay.get("shares") for lay in again["model"]["layers"]} == {
        "shared": None,
        "shared_2": "shared",
        "add": None,
    }


def test_tensor_argument_the_project_cannot_connect_is_refused_by_name():
    import keras

    x = keras.Input((4, 3), name="x")
    doc = json.loads(keras.Model(x, keras.layers.LSTM(2, name="rnn")(x)).to_json())
    rnn = doc["config"]["layers"][1]
    rnn["inbound_nodes"][0]["kwargs"]["weird"] = rnn["inbound_nodes"][0]["args"][0]
    with pytest.raises(ProjectError, match="'rnn' \\(LSTM\\) is called with a tensor as 'weird'"):
        from_keras_config(doc)


@pytest.mark.parametrize(
    "text,message",
    [
        ("not json at all", "not valid JSON"),
        ("[1, 2, 3]", "not a Keras model description"),
        ('{"class_name": "Dense", "config": {"units": 3}}', "describes a 'Dense', not a model"),
        ('{"class_name": "Sequential", "config": {}}', 'no "layers" list'),
        (
            '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", '
            '"config": {"units": 3}}]}}',
            "no input shape",
        ),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_garbage_is_refused(text, message):
    with pytest.raises(ProjectError, match=message):
        from_keras_json(text)


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("hello")
    with pytest.raises(ProjectError, match=re.escape("not a Keras 3 .keras file")):
        from_keras_file(path)
    with pytest.raises(ProjectError, match="no such file"):
        from_keras_file(tmp_path / "missing.keras")


def test_import_does_not_change_its_input():
    doc = json.loads(export.to_keras_json(_graph()))
    before = copy.deepcopy(doc)
    from_keras_config(doc)
    assert doc == before
