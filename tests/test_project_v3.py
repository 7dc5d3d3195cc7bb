"""Project format 3: a layer's output k ("enc:1"), tensor call arguments (inbound_args),
shared layers (shares), scalar inputs; older files migrate; the checker, build and the
exported script agree with plain Keras on them."""

from __future__ import annotations

import copy
import json

import pytest

from builder import export, templates
from builder.build import build
from builder.checker import check, output_names
from builder.project import VERSION, ProjectError, is_sequential, loads, migrate, validate
from builder.topology import analyse, edges_of, split_ref
from tests.helpers import keras_model


def _model_section(p: dict) -> str:
    """The exported script's model section: these models are checked on their own (the
    digits placeholder does not fit them, and export of a whole script refuses that)."""
    return export._model_code(p, export._Data(p))[1]


def _doc(layers, inputs=None, outputs=None, version=3) -> dict:
    return {
        "format": "netbuilder.project",
        "version": version,
        "model": {
            "inputs": inputs or [{"name": "x", "shape": [5, 3]}],
            "layers": layers,
            "outputs": outputs or [layers[-1]["name"]],
        },
        "data": {"dataset": "digits", "options": {}},
    }


SEQ2SEQ = [
    {"name": "enc", "class_name": "LSTM", "config": {"units": 4, "return_state": True}},
    {
        "name": "dec",
        "class_name": "LSTM",
        "config": {"units": 4},
        "inbound": ["x"],
        "inbound_args": {"initial_state": ["enc:1", "enc:2"]},
    },
    {"name": "out", "class_name": "Dense", "config": {"units": 2}},
]

SHARED = [
    {"name": "flat", "class_name": "Flatten", "config": {}},
    {"name": "tower", "class_name": "Dense", "config": {"units": 3}},
    {"name": "flat_b", "shares": "flat", "inbound": ["y"]},
    {"name": "tower_b", "shares": "tower", "config": {"units": 99}},
    {"name": "both", "class_name": "Concatenate", "config": {}, "inbound": ["tower", "tower_b"]},
]
TWO_INPUTS = [{"name": "x", "shape": [5, 3]}, {"name": "y", "shape": [15]}]


# --------------------------------------------------------------------------- the file


def test_version_is_3_and_old_files_migrate():
    assert VERSION == 3
    for version in (1, 2):
        doc = _doc([{"name": "d", "class_name": "Dense", "config": {"units": 2}}], version=version)
        assert validate(doc)["version"] == 3
    doc = {"version": 2, "model": {"layers": [{"name": "d"}]}}
    assert migrate(doc)["version"] == 3


@pytest.mark.parametrize("key", ["shares", "inbound_args"])
def test_a_version_2_file_with_version_3_fields_is_refused(key):
    layers = copy.deepcopy(SEQ2SEQ) if key == "inbound_args" else copy.deepcopy(SHARED)
    inputs = None if key == "inbound_args" else TWO_INPUTS
    with pytest.raises(ProjectError, match=f'"{key}" needs format version 3'):
        validate(_doc(layers, inputs, version=2))


def test_templates_from_version_1_still_open():
    assert templates.load("mnist_dense")["version"] == 3


def test_shared_call_takes_the_owners_class_and_settings():
    p = validate(_doc(copy.deepcopy(SHARED), TWO_INPUTS))
    layers = {lay["name"]: lay for lay in p["model"]["layers"]}
    assert layers["tower_b"]["class_name"] == "Dense"
    assert layers["tower_b"]["config"] == {"units": 3}  # the file's 99 is replaced
    assert not is_sequential(p)


@pytest.mark.parametrize(
    "change, field, words",
    [
        (lambda ls: ls[3].update(shares="nope"), "model.layers[3].shares", "names no layer"),
        (lambda ls: ls[3].update(shares="tower_b"), "model.layers[3].shares", "itself"),
        (
            lambda ls: ls[3].update(shares="flat_b"),
            "model.layers[3].shares",
            "itself shares 'flat'",
        ),
        (lambda ls: ls[4].update(inbound=["tower:x"]), "model.layers[4].inbound", '"name:k"'),
        (
            lambda ls: ls[4].update(inbound_args={"initial_stat": "x"}),
            "model.layers[4].inbound_args.initial_stat",
            "not a call argument that takes tensors",
        ),
        (
            lambda ls: ls[4].update(inbound_args={"mask": []}),
            "model.layers[4].inbound_args.mask",
            "non-empty list",
        ),
        (
            lambda ls: ls[4].update(inbound_args={"mask": "ghost"}),
            "model.layers[4].inbound",
            "'ghost', which does not exist",
        ),
    ],
)
def test_bad_version_3_fields_are_refused_with_the_field(change, field, words):
    layers = copy.deepcopy(SHARED)
    change(layers)
    with pytest.raises(ProjectError) as err:
        validate(_doc(layers, TWO_INPUTS))
    assert any(f == field and words in m for f, m in err.value.problems), err.value.problems


def test_topology_follows_output_references_and_call_arguments():
    model = _doc(copy.deepcopy(SEQ2SEQ))["model"]
    assert split_ref("enc:2") == ("enc", 2) and split_ref("a:b") == ("a:b", 0)
    assert edges_of(model)["dec"] == ["x", "enc", "enc"]
    topo = analyse(model)
    assert topo.order == ["enc", "dec", "out"] and "enc" in topo.needed


# --------------------------------------------------------------------------- Keras agrees


@pytest.mark.parametrize(
    "layers, inputs",
    [(SEQ2SEQ, None), (SHARED, TWO_INPUTS)],
    ids=["seq2seq", "shared"],
)
def test_checker_build_and_script_agree_with_keras(layers, inputs):
    p = validate(_doc(copy.deepcopy(layers), inputs))
    result = check(p)
    assert result.valid, [(r.name, r.error) for r in result.layers]
    plain = keras_model(p)
    model = build(p)
    assert model.count_params() == plain.count_params() == result.total_params
    assert list(model.outputs[0].shape) == list(plain.outputs[0].shape)
    assert list(plain.outputs[0].shape) == result.layer(p["model"]["outputs"][0]).output_shape
    code = _model_section(p)
    scope: dict = {}
    start = code.index("def build_model():")
    end = code.index("model = build_model()") if "model = build_model()" in code else len(code)
    exec("import keras\n" + code[start:end], scope)
    assert scope["build_model"]().count_params() == plain.count_params()


def test_seq2seq_script_names_the_states():
    code = _model_section(validate(_doc(copy.deepcopy(SEQ2SEQ))))
    assert "enc, enc_state_h, enc_state_c = keras.layers.LSTM(" in code
    assert "initial_state=[enc_state_h, enc_state_c]" in code


def test_shared_script_makes_the_layer_once():
    code = _model_section(validate(_doc(copy.deepcopy(SHARED), TWO_INPUTS)))
    assert code.count("keras.layers.Dense(units=3") == 1
    assert "tower_b = tower_layer(flat_b)" in code


def test_reading_an_output_a_layer_does_not_have_says_how():
    layers = copy.deepcopy(SEQ2SEQ)
    layers[0]["config"] = {"units": 4}
    result = check(_doc(layers))
    assert not result.valid
    assert result.layer("dec").error == (
        "LSTM 'dec' reads output 1 of 'enc' ('enc:1'), which has 1 output (output): set "
        "return_state=True on 'enc' to get its states."
    )


def test_shared_layer_called_on_another_width_is_refused_by_keras():
    layers = copy.deepcopy(SHARED)
    inputs = [{"name": "x", "shape": [5, 3]}, {"name": "y", "shape": [7]}]
    result = check(_doc(layers, inputs))
    assert not result.valid
    assert plain_refuses(_doc(layers, inputs))
    assert result.layer("tower_b").error and "tower_b" in result.layer("tower_b").error


def plain_refuses(doc) -> bool:
    return isinstance(keras_model(validate(doc)), Exception)


def test_scalar_input_into_embedding():
    doc = _doc(
        [
            {
                "name": "emb",
                "class_name": "Embedding",
                "config": {"input_dim": 10, "output_dim": 4},
            },
            {"name": "emb_b", "shares": "emb", "inbound": ["context"]},
            {
                "name": "dot",
                "class_name": "Dot",
                "config": {"axes": 1},
                "inbound": ["emb", "emb_b"],
            },
        ],
        [
            {"name": "target", "shape": [], "dtype": "int32"},
            {"name": "context", "shape": [], "dtype": "int32"},
        ],
    )
    result = check(loads(json.dumps(doc)))
    assert result.valid and result.layer("dot").output_shape == [None, 1]
    assert result.total_params == 40


def test_output_names_follow_keras():
    assert output_names("LSTM", {"return_state": True}, 3) == ["output", "state_h", "state_c"]
    assert output_names("GRU", {"return_state": True}, 2) == ["output", "state"]
    assert output_names("MultiHeadAttention", {"return_attention_scores": True}, 2) == [
        "output",
        "attention_scores",
    ]
    bi = {"layer": {"class_name": "LSTM", "config": {}}, "return_state": True}
    assert output_names("Bidirectional", bi, 5)[1:] == [
        "forward_state_h",
        "forward_state_c",
        "backward_state_h",
        "backward_state_c",
    ]
