import pytest

from builder import catalogue
from builder.checker import check, fmt_shape
from tests.helpers import keras_layer, project


def _keras_reference(class_name, config, input_shapes):
    """Output shape and params from plain Keras: Keras deserialises the config itself."""
    import keras

    dtype = catalogue.get(class_name).get("input_dtype", "float32")
    inputs = [keras.Input(shape=tuple(s), dtype=dtype) for s in input_shapes]
    layer = keras_layer(class_name, config)
    if class_name in ("MultiHeadAttention", "GroupQueryAttention"):  # (query, value, key)
        out = layer(*inputs)
    else:
        out = layer(inputs if len(inputs) > 1 else inputs[0])
    if any(out is t for t in inputs):  # Keras refuses a model whose output is its input
        return None, None
    return list(out.shape), layer.count_params()


@pytest.mark.parametrize("class_name", sorted(catalogue.LAYERS))
def test_every_catalogue_layer_agrees_with_keras(class_name):
    entry = catalogue.get(class_name)
    shapes = entry["example_input"]
    config = catalogue.default_config(class_name)
    inputs = [
        {"name": f"in_{i}", "shape": list(s), "dtype": entry.get("input_dtype", "float32")}
        for i, s in enumerate(shapes)
    ]
    p = project(
        [("layer", class_name, config, [i["name"] for i in inputs])],
        inputs=inputs,
        outputs=["layer"],
    )
    result = check(p)
    report = result.layer("layer")
    shape, params = _keras_reference(class_name, config, shapes)
    if shape is None:  # e.g. Equalization built symbolically: keras.Model reports a cycle
        assert "returns its input tensor itself" in report.error and not result.valid
        return
    assert report.error is None, report.error
    assert report.output_shape == shape
    assert report.params == params
    assert result.valid


@pytest.mark.parametrize(
    "layers, shape, words, fix",
    [
        (
            [("c1", "Conv2D", {"filters": 8, "kernel_size": [3, 3]})],
            (784,),
            "Conv2D 'c1' needs images (height, width, channels) but receives vectors of 784 values: "
            "add Reshape to (28, 28, 1) before it, or use Dense",
            "Insert Reshape to (28, 28, 1)",
        ),
        (
            [("l1", "LSTM", {"units": 8})],
            (20,),
            "LSTM 'l1' needs sequences",
            "Insert Reshape to (20, 1)",
        ),
        (
            [("c1", "Conv2D", {"filters": 8, "kernel_size": [30, 30]})],
            (28, 28, 1),
            "input is smaller than the window",
            "padding='same'",
        ),
        (
            [("r1", "Reshape", {"target_shape": [28, 27, 1]})],
            (784,),
            "product of target_shape must be 784",
            "Set target_shape to (28, 28, 1)",
        ),
        (
            [("g1", "GlobalAveragePooling2D", {})],
            (5, 4),
            "needs images",
            "Replace with GlobalAveragePooling1D",
        ),
        ([("rv", "RepeatVector", {"n": 3})], (5, 4), "needs vectors", "Insert Flatten"),
        (
            [("p1", "MaxPooling2D", {"pool_size": [2, 2]})],
            (10, 8),
            "needs images",
            "Replace with MaxPooling1D",
        ),
    ],
)
def test_errors_are_plain_with_fixes(layers, shape, words, fix):
    result = check(project(layers, shape=shape))
    report = result.layers[0]
    assert not result.valid
    assert words in report.error
    assert "ndim" not in report.error  # Keras' raw wording never reaches the user alone
    assert any(fix in f.label for f in report.fixes), [f.label for f in report.fixes]


def test_merge_mismatch_names_both_shapes_and_the_fix():
    p = project(
        [
            ("a", "Dense", {"units": 32}, ["x"]),
            ("b", "Dense", {"units": 64}, ["x"]),
            ("a1", "Add", {}, ["a", "b"]),
        ],
        outputs=["a1"],
    )
    report = check(p).layer("a1")
    assert report.error == (
        "Add 'a1' needs inputs of the same shape but gets (None, 32) and "
        "(None, 64): make 'a' 64 units, or use Concatenate, which joins "
        "inputs of different widths."
    )
    labels = [f.label for f in report.fixes]
    assert labels == ["Set a.units to 64", "Use Concatenate instead"]


def test_merge_with_one_input_is_refused():
    p = project([("a", "Dense", {"units": 4}), ("m", "Add", {})])
    assert "merges at least 2 inputs but receives 1" in check(p).layer("m").error


def test_layers_after_an_error_are_still_reported():
    p = project(
        [
            ("c1", "Conv2D", {"filters": 8, "kernel_size": 3}),
            ("d1", "Dense", {"units": 10, "activation": "softmax"}),
        ]
    )
    result = check(p)
    after = result.layer("d1")
    assert after.output_shape == [None, 10] and after.tentative and after.error is None


def test_bad_config_is_attached_to_its_layer():
    p = project([("d0", "Dense", {"units": 8}), ("d1", "Dense", {"units": 0})])
    result = check(p)
    assert result.layer("d0").error is None
    assert "units" in result.layer("d1").error and not result.valid


def test_shapes_and_params_of_the_book_networks():
    p = project(
        [
            ("d1", "Dense", {"units": 16, "activation": "relu"}),
            ("d2", "Dense", {"units": 16, "activation": "relu"}),
            ("d3", "Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        shape=(10000,),
        loss="binary_crossentropy",
        dataset="imdb",
    )
    result = check(p)
    assert [r.params for r in result.layers] == [160016, 272, 17]
    assert result.total_params == 160305 and result.valid
    assert fmt_shape(result.layers[0].output_shape) == "(None, 16)"


def test_empty_model_is_not_valid_and_says_what_to_do():
    result = check(project([]))
    assert not result.valid and "drag a layer" in result.errors[0]


def test_unreadable_structure_never_raises():
    assert not check({"format": "netbuilder.project", "version": 1, "model": 3}).valid


def test_batchnorm_non_trainable_params():
    result = check(project([("bn", "BatchNormalization", {})], shape=(10,)))
    r = result.layers[0]
    assert (r.params, r.trainable_params, r.non_trainable_params) == (40, 20, 20)
