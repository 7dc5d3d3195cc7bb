"""builder.catalogue: the data agrees with Keras, and validation names every bad field.

The Keras side (parameter names, defaults, builds, choices, input ranks) is checked with
the same functions `python -m tools.refresh_catalogue` prints, so the test and the
maintenance script cannot disagree. Layers are built on symbolic inputs only.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import catalogue
from tools import refresh_catalogue as refresh

keras = refresh.load_keras()  # once, up front: Keras changes the recursion limit on import

LAYER_NAMES = list(catalogue.LAYERS)
WHERE = "model.layers[2]"

# The layer types the builder promises (the shape checker and the palette rely on them).
PROMISED = """Dense Activation Dropout Flatten Reshape Permute RepeatVector BatchNormalization
LayerNormalization Embedding Conv1D Conv2D Conv2DTranspose SeparableConv2D MaxPooling1D
MaxPooling2D AveragePooling1D AveragePooling2D GlobalAveragePooling1D GlobalAveragePooling2D
GlobalMaxPooling1D GlobalMaxPooling2D UpSampling2D ZeroPadding2D Cropping2D SimpleRNN LSTM GRU
Bidirectional Rescaling GaussianNoise SpatialDropout1D SpatialDropout2D Add Subtract Multiply
Average Maximum Concatenate Dot""".split()


def test_catalogue_offers_every_promised_layer():
    assert sorted(set(PROMISED) - set(catalogue.LAYERS)) == []


# ----------------------------------------------------------------------- the data vs Keras


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_params_are_keras_keywords(class_name):
    assert refresh.check_class(class_name) == []
    assert refresh.check_names(class_name) == []


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_defaults_are_keras_defaults(class_name):
    assert refresh.check_defaults(class_name) == []


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_default_config_builds_on_example_input(class_name):
    out = refresh.build(class_name, catalogue.default_config(class_name))
    assert isinstance(out.shape, tuple)
    assert out.shape[0] is None  # the batch axis stays unknown


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_every_choice_is_accepted_by_keras(class_name):
    assert refresh.check_choices(class_name) == []


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_every_accepted_value_form_builds(class_name):
    assert refresh.check_value_forms(class_name) == []


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_input_rank_matches_keras(class_name):
    assert refresh.check_input_rank(class_name) == []


def test_refresh_tool_reports_data_that_disagrees_with_keras(monkeypatch):
    wrong = copy.deepcopy(catalogue.get("Dense"))
    wrong["input_rank"] = {"min": 3, "max": 3}
    activation, use_bias, initializer = wrong["params"][1:4]
    activation["choices"].append("relu7")
    use_bias["name"] = "bias"
    initializer["default"] = "he_normal"
    monkeypatch.setitem(catalogue.LAYERS, "Dense", wrong)
    report = "\n".join(refresh.compare("Dense"))
    assert "Dense.bias: not a keyword of keras.layers.Dense" in report
    assert (
        "Dense.kernel_initializer: catalogue default 'he_normal', Keras default 'glorot_uniform'"
        in report
    )
    assert "Dense.activation='relu7': Keras refuses it" in report
    assert "input_rank.min is 3 but Keras also builds on rank 2" in report


@pytest.mark.parametrize(
    "class_name, config, inputs, shape",
    [
        ("Dense", {"units": 16, "activation": "relu"}, [[10000]], (None, 16)),
        (
            "Conv2D",
            {"filters": 32, "kernel_size": 3, "padding": "same"},
            [[28, 28, 1]],
            (None, 28, 28, 32),
        ),
        (
            "Conv2D",
            {"filters": 8, "kernel_size": [3, 3], "strides": [2, 2]},
            [[28, 28, 1]],
            (None, 13, 13, 8),
        ),
        ("MaxPooling2D", {}, [[26, 26, 32]], (None, 13, 13, 32)),
        ("Flatten", {}, [[5, 5, 64]], (None, 1600)),
        ("Reshape", {"target_shape": [-1, 1]}, [[784]], (None, 784, 1)),
        ("Embedding", {"input_dim": 10000, "output_dim": 16}, [[200]], (None, 200, 16)),
        ("LSTM", {"units": 32, "return_sequences": True}, [[200, 16]], (None, 200, 32)),
        (
            "Bidirectional",
            {"layer": {"class_name": "GRU", "config": {"units": 8}}, "merge_mode": "sum"},
            [[20, 4]],
            (None, 8),
        ),
        ("ZeroPadding2D", {"padding": [[1, 2], [3, 4]]}, [[28, 28, 3]], (None, 31, 35, 3)),
        ("Cropping1D", {"cropping": 2}, [[10, 4]], (None, 6, 4)),
        ("LayerNormalization", {"axis": [1, 2]}, [[20, 8]], (None, 20, 8)),
        ("Concatenate", {}, [[16], [8]], (None, 24)),
        ("Subtract", {}, [[16], [16]], (None, 16)),
        ("Dot", {"axes": [1, 1], "normalize": True}, [[16], [16]], (None, 1)),
    ],
)
def test_valid_config_builds_with_expected_shape(class_name, config, inputs, shape):
    assert catalogue.validate_config(class_name, config, WHERE) == []
    assert refresh.build(class_name, config, inputs).shape == shape


# ----------------------------------------------------------------------- the data itself


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_entry_is_consistent(class_name):
    entry = catalogue.get(class_name)
    n_in, rank = entry["inputs"], entry["input_rank"]
    assert n_in["min"] <= len(entry["example_input"]) <= (n_in["max"] or 99)
    for shape in entry["example_input"]:
        assert rank["min"] <= len(shape) + 1 <= (rank["max"] or 99)
    names = [p["name"] for p in entry["params"]]
    fields = {f for _, f, _, _ in string.Formatter().parse(entry["summary"]) if f}
    assert fields <= set(names), "summary placeholders must be parameter names"
    for p in entry["params"]:
        assert p["label"].strip() and p["help"].strip() and "\n" not in p["help"]
        if p["type"] == "choice":
            assert p.get("default", p.get("example")) in p["choices"]


@pytest.mark.parametrize("class_name", LAYER_NAMES)
def test_every_default_and_example_passes_validation(class_name):
    config = catalogue.default_config(class_name)
    assert catalogue.validate_config(class_name, config, WHERE) == []
    spelled_out = {
        **config,
        **{p["name"]: p["default"] for p in catalogue.get(class_name)["params"] if "default" in p},
    }
    assert catalogue.validate_config(class_name, spelled_out, WHERE) == []


def test_palette_follows_category_order_and_lists_each_layer_once():
    order = [c["id"] for c in catalogue.categories()]
    pal = catalogue.palette()
    assert sorted(item["class_name"] for item in pal) == sorted(catalogue.LAYERS)
    positions = [order.index(item["category"]) for item in pal]
    assert positions == sorted(positions)
    assert set(pal[0]) == {"class_name", "label", "category", "help"}


# ----------------------------------------------------------------------- validate_config


@pytest.mark.parametrize(
    "class_name, config, field, fragments",
    [
        ("Dense", {"units": 0}, "units", ["units=0", "must be an integer ≥ 1", "e.g. 64"]),
        ("Dense", {"units": True}, "units", ["units=true", "true/false is not a number"]),
        ("Dense", {"units": 64.0}, "units", ["write 64 without the decimal point"]),
        (
            "Dense",
            {"units": "__import__('os').getcwd()"},
            "units",
            ["(a text)", "must be an integer"],
        ),
        (
            "Dense",
            {"unit": 3},
            "unit",
            [
                "has no parameter 'unit'",
                "did you mean 'units'?",
                "Known parameters: units, activation, use_bias",
            ],
        ),
        ("Dense", {}, "units", ["missing", "e.g. units=64"]),
        (
            "Dense",
            {"units": 8, "activation": "relux"},
            "activation",
            ['"softmax"', 'did you mean "relu"?'],
        ),
        ("Dense", {"units": 8, "use_bias": "yes"}, "use_bias", ["must be true or false"]),
        (
            "Dense",
            {"units": 8, "kernel_regularizer": "l3"},
            "kernel_regularizer",
            ["the name of a Keras regularizer"],
        ),
        (
            "Dense",
            {"units": 8, "kernel_initializer": {"class_name": "os.system", "config": {}}},
            "kernel_initializer",
            ["keras.initializers class name"],
        ),
        (
            "Dense",
            {
                "units": 8,
                "kernel_initializer": {"class_name": "HeNormal", "module": "os", "config": {}},
            },
            "kernel_initializer",
            ["kernel_initializer="],
        ),
        (
            "Activation",
            {"activation": "relu7"},
            "activation",
            ['activation="relu7"', 'did you mean "relu"?'],
        ),
        (
            "Conv2D",
            {"filters": 8, "kernel_size": [3, 3, 3]},
            "kernel_size",
            ["a list of 2 integers ≥ 1"],
        ),
        ("Conv2D", {"filters": 8, "kernel_size": [3, 0]}, "kernel_size", ["kernel_size=[3, 0]"]),
        (
            "Conv2D",
            {"filters": 8, "kernel_size": 3, "padding": "full"},
            "padding",
            ['one of "valid", "same"'],
        ),
        ("Conv1D", {"filters": 8, "kernel_size": [3, 3]}, "kernel_size", ["a list of 1 integers"]),
        ("MaxPooling2D", {"strides": 0}, "strides", ["strides=0", "or null"]),
        ("Dropout", {"rate": 1.5}, "rate", ["rate=1.5", "a number from 0 to 1"]),
        ("Dropout", {"rate": -0.1}, "rate", ["rate=-0.1"]),
        ("Rescaling", {"scale": float("nan")}, "scale", ["must be a number"]),
        ("Reshape", {"target_shape": [-1, -1]}, "target_shape", ["only one entry may be -1"]),
        ("Reshape", {"target_shape": [0, 28]}, "target_shape", ["positive integers"]),
        ("Permute", {"dims": [1, 1]}, "dims", ["exactly once", "e.g. [2, 1]"]),
        (
            "ZeroPadding2D",
            {"padding": [[1], [2, 3]]},
            "padding",
            ["[[top, bottom], [left, right]]"],
        ),
        ("Cropping2D", {"cropping": -1}, "cropping", ["cropping=-1", "≥ 0"]),
        ("Concatenate", {"axis": 0}, "axis", ["axis 0 is the batch axis"]),
        ("Dot", {"axes": [1, 1, 1]}, "axes", ["a list of 2 such axes"]),
        ("Embedding", {"input_dim": 100}, "output_dim", ["missing", "e.g. output_dim=32"]),
        ("Flatten", {"units": 3}, "units", ["Known parameters: data_format"]),
        ("Bidirectional", {"layer": "LSTM"}, "layer", ['{"class_name": ..., "config": {...}}']),
        (
            "Bidirectional",
            {"layer": {"class_name": "Dense", "config": {"units": 3}}},
            "layer.class_name",
            ["SimpleRNN, LSTM, GRU", 'got "Dense"'],
        ),
        (
            "Bidirectional",
            {"layer": {"class_name": "LSTM", "config": {"units": 0}}},
            "layer.config.units",
            ["units=0", "LSTM units must be an integer ≥ 1"],
        ),
        (
            "Bidirectional",
            {"layer": {"class_name": "LSTM", "config": {"units": 4}, "units": 4}},
            "layer",
            ["unexpected key(s) units"],
        ),
        (
            "Bidirectional",
            {"layer": {"class_name": "GRU", "config": {}}, "merge_mode": None},
            "merge_mode",
            ['one of "concat", "sum", "mul", "ave"'],
        ),
    ],
)
def test_validate_config_names_the_field_and_the_fix(class_name, config, field, fragments):
    errors = catalogue.validate_config(class_name, config, WHERE)
    path = f"{WHERE}.config.{field}: "
    matching = [e for e in errors if e.startswith(path)]
    assert matching, f"no error for {path}; got {errors}"
    for fragment in fragments:
        assert any(fragment in e for e in matching), f"{fragment!r} not in {matching}"
    assert all("\n" not in e and e.rstrip().endswith((".", "?")) for e in errors)


@pytest.mark.parametrize(
    "class_name, config, path, fragment",
    [
        ("Dence", {}, f"{WHERE}.class_name: ", "did you mean 'Dense'?"),
        ("Dense", [64], f"{WHERE}.config: ", 'e.g. {"units": 64}'),
    ],
)
def test_validate_config_rejects_unknown_type_and_non_object(class_name, config, path, fragment):
    (error,) = catalogue.validate_config(class_name, config, WHERE)
    assert error.startswith(path) and fragment in error


@pytest.mark.parametrize(
    "class_name, config",
    [
        ("Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("Conv1D", {"filters": 8, "kernel_size": 5, "padding": "causal", "dilation_rate": 2}),
        ("MaxPooling2D", {"pool_size": 3, "strides": None}),
        ("ReLU", {"max_value": 6}),
        ("Dot", {"axes": [1, 2]}),
        ("ZeroPadding2D", {"padding": 2}),
        ("ZeroPadding2D", {"padding": [[1, 2], [3, 4]]}),
        ("Reshape", {"target_shape": [-1, 4]}),
        (
            "Bidirectional",
            {"layer": {"class_name": "GRU", "config": {"units": 4, "return_sequences": True}}},
        ),
    ],
)
def test_validate_config_accepts_keras_forms(class_name, config):
    assert catalogue.validate_config(class_name, config, WHERE) == []


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 70000)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, database=None)
@given(
    class_name=st.sampled_from(LAYER_NAMES),
    overrides=st.dictionaries(
        st.sampled_from(
            [
                "units",
                "kernel_size",
                "padding",
                "axis",
                "axes",
                "layer",
                "rate",
                "activation",
                "target_shape",
                "dims",
                "cropping",
                "strides",
                "pool_size",
                "unknown",
            ]
        ),
        JSON_VALUES,
        max_size=3,
    ),
)
def test_any_json_gets_sentences_or_a_layer_keras_accepts(class_name, overrides):
    config = {**catalogue.default_config(class_name), **overrides}
    errors = catalogue.validate_config(class_name, config, WHERE)
    assert all(e.startswith(f"{WHERE}.") and "\n" not in e for e in errors)
    assert isinstance(catalogue.summary(class_name, config), str)
    if not errors:
        refresh.make_layer(class_name, config)  # Keras' constructor accepts what we accept


# ----------------------------------------------------------------------- lookup and display


def test_get_unknown_layer_suggests_close_match():
    with pytest.raises(
        KeyError, match=re.escape("Unknown layer type 'Dence': did you mean 'Dense'?")
    ):
        catalogue.get("Dence")


def test_param_unknown_lists_known_parameters():
    with pytest.raises(KeyError, match=r"did you mean 'units'.*Known parameters: units"):
        catalogue.param("Dense", "unit")
    assert catalogue.param("Dense", "units")["example"] == 64


def test_default_config_is_small_and_fresh():
    assert catalogue.default_config("Dense") == {"units": 64}
    assert catalogue.default_config("Flatten") == {}
    catalogue.default_config("Bidirectional")["layer"]["config"]["units"] = 1
    assert catalogue.default_config("Bidirectional")["layer"]["config"]["units"] == 32


@pytest.mark.parametrize(
    "class_name, config, text",
    [
        ("Dense", {"units": 64, "activation": "relu"}, "64 units, relu"),
        ("Dense", {"units": 10}, "10 units, linear"),
        ("Dense", {}, "? units, linear"),
        (
            "Conv2D",
            {"filters": 32, "kernel_size": [3, 3], "activation": "relu"},
            "32 filters 3×3, relu",
        ),
        ("Conv2D", {"filters": 32, "kernel_size": 5}, "32 filters 5×5, linear"),
        ("MaxPooling2D", {}, "2×2"),
        ("Reshape", {"target_shape": [28, 28, 1]}, "to 28×28×1"),
        ("Permute", {"dims": [2, 1]}, "axes (2, 1)"),
        ("ZeroPadding2D", {"padding": [[1, 2], [3, 4]]}, "pad 1/2×3/4"),
        ("LSTM", {"units": 32, "return_sequences": True}, "32 units, sequences out: yes"),
        (
            "Bidirectional",
            {"layer": {"class_name": "LSTM", "config": {"units": 32}}},
            "LSTM (32 units, sequences out: no), concat",
        ),
        ("Rescaling", {"scale": 1 / 255}, "× 0.00392157 + 0"),
    ],
)
def test_summary(class_name, config, text):
    assert catalogue.summary(class_name, config) == text


@pytest.mark.parametrize(
    "rank, words",
    [
        (2, "vectors (features)"),
        (3, "sequences (steps, features)"),
        (4, "images (height, width, channels)"),
        (5, "volumes (depth, height, width, channels)"),
        (7, "rank-7 tensors"),
    ],
)
def test_input_description(rank, words):
    assert catalogue.input_description(rank) == words


# ----------------------------------------------------------------------- loading is inert


def test_import_pulls_in_no_framework():
    code = (
        "import sys, builder.catalogue; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'streamlit') if m in sys.modules))"
    )
    root = Path(catalogue.__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_module_never_evaluates_what_it_reads():
    tree = ast.parse(Path(catalogue.__file__).read_text(encoding="utf-8"))
    called = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    imported = {
        a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    } | {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert not called & {"eval", "exec", "compile", "__import__"}
    assert not imported & {"pickle", "yaml", "importlib", "keras", "tensorflow", "streamlit"}


def test_malformed_catalogue_is_reported_not_run(tmp_path):
    data = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    data["layers"]["Dense"]["params"][0]["help"] = ""
    data["layers"]["Dense"]["params"][0]["type"] = "__import__('os').system('false')"
    bad = tmp_path / "catalogue.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        catalogue.CatalogueError,
        match=r"Dense\.units: type .* is not one of.*"
        r"Dense\.units: label and help must not be empty",
    ):
        catalogue._load(bad)


# ----------------------------------------------------------------------- all of Keras


def test_catalogue_covers_every_config_only_keras_layer():
    assert refresh.missing_classes() == []


def test_keras_aliases_resolve_to_their_entry():
    assert catalogue.get("MaxPool2D") is catalogue.get("MaxPooling2D")
    assert catalogue.get("GroupedQueryAttention") is catalogue.get("GroupQueryAttention")
    assert "Convolution2D" in catalogue.LAYERS and "Convolution2D" not in list(catalogue.LAYERS)


@pytest.mark.parametrize(
    "class_name",
    [n for n in LAYER_NAMES if any(p["name"] == "trainable" for p in catalogue.get(n)["params"])],
)
def test_layer_builds_with_the_base_layer_settings(class_name):
    listed = {p["name"] for p in catalogue.get(class_name)["params"]}
    extreme = {
        "trainable": False,
        "dtype": None,
        "autocast": False,
        "activity_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
    }
    config = {
        **catalogue.default_config(class_name),
        **{k: v for k, v in extreme.items() if k in listed},
    }
    assert catalogue.validate_config(class_name, config, WHERE) == []
    assert refresh.build(class_name, config).shape[0] is None


def test_common_settings_up_front_the_rest_advanced():
    dense = {p["name"]: p for p in catalogue.get("Dense")["params"]}
    assert not dense["units"].get("advanced") and not dense["activation"].get("advanced")
    assert dense["bias_constraint"]["advanced"] and dense["lora_rank"]["advanced"]
    mha = {p["name"]: p for p in catalogue.get("MultiHeadAttention")["params"]}
    assert not mha["num_heads"].get("advanced") and mha["use_causal_mask"]["call"]
    for name in LAYER_NAMES:
        for p in catalogue.get(name)["params"]:
            assert not (p.get("required") and p.get("advanced")), f"{name}.{p['name']}"
