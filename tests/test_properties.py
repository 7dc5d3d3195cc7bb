"""Property-based robustness: random stacks and graphs, corrupted project files.

For any model the checker accepts, Keras builds it with the same shapes and parameter
counts; for any model it refuses, Keras refuses too — and the checker never raises.
"""

import copy
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import catalogue
from builder.checker import check
from builder.project import ProjectError, loads, validate
from tests.helpers import keras_model, project

SINGLE_INPUT = sorted(
    c for c, e in catalogue.LAYERS.items() if e["inputs"]["max"] == 1 and c != "Embedding"
)
MERGES = sorted(c for c, e in catalogue.LAYERS.items() if e["inputs"]["min"] >= 2)
SMALL = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _value(param, rnd):
    """A plausible (sometimes unusual) value for a catalogue parameter."""
    kind = param["type"]
    if kind == "int":
        lo = param.get("min", 0)
        return rnd.randint(lo, lo + 8)
    if kind == "float":
        lo = param.get("min", 0) or 0
        hi = param.get("max", 1.0) or 1.0
        return round(
            rnd.uniform(lo, min(hi, lo + 1)) * (0.99 if param.get("max_exclusive") else 1), 3
        )
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "choice":
        return rnd.choice(param["choices"])
    if kind == "ints":
        length = param.get("length", 2)
        return [rnd.randint(param.get("min", 1), 4) for _ in range(length)]
    return copy.deepcopy(param.get("example", param.get("default")))


def random_config(class_name, rnd):
    config = catalogue.default_config(class_name)
    for param in catalogue.get(class_name)["params"]:
        # Attention scores: check reports the shape Keras computes when run, which differs
        # from Keras' symbolic shape (see test_keras_cases); that case is tested there.
        if param["name"] == "return_attention_scores":
            continue
        if param["type"] in ("int", "float", "bool", "choice", "ints") and rnd.random() < 0.4:
            config[param["name"]] = _value(param, rnd)
    if catalogue.validate_config(class_name, config, "x"):
        return catalogue.default_config(class_name)
    return config


def _shapes(output):
    if isinstance(output, (list, tuple)):
        return [list(t.shape) for t in output]
    return list(output.shape)


def _keras_verdict(p):
    """Shapes and params per layer from a plain Keras build (``tests.helpers.keras_model``,
    not the builder under test), or None if Keras refuses."""
    model = keras_model(p)
    if isinstance(model, Exception):
        return None
    return {
        lay.name: (_shapes(lay.output), lay.count_params())
        for lay in model.layers
        if lay.name in {x["name"] for x in p["model"]["layers"]}
    }


def _agree(p):
    result = check(p)  # must never raise
    verdict = _keras_verdict(p)
    assert result.valid == (verdict is not None), [r.error for r in result.layers]
    if verdict is not None:
        for r in result.layers:
            assert verdict[r.name] == (r.output_shape, r.params), r.name


@SMALL
@given(
    seed=st.integers(0, 10**6),
    length=st.integers(1, 5),
    shape=st.sampled_from([(12,), (6, 5), (8, 8, 3), (16, 2)]),
)
def test_random_stacks_agree_with_keras(seed, length, shape):
    rnd = random.Random(seed)
    layers = [
        (f"l{i}", cls, random_config(cls, rnd))
        for i, cls in enumerate(rnd.choice(SINGLE_INPUT) for _ in range(length))
    ]
    _agree(project(layers, shape=shape))


@SMALL
@given(seed=st.integers(0, 10**6), widths=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_random_two_branch_graphs_agree_with_keras(seed, widths):
    rnd = random.Random(seed)
    merge = rnd.choice(MERGES)
    config = random_config(merge, rnd)
    p = project(
        [
            ("a", "Dense", {"units": widths[0]}, ["x"]),
            ("b", "Dense", {"units": widths[1]}, ["x"]),
            ("m", merge, config, ["a", "b"]),
        ],
        shape=(7,),
        outputs=["m"],
    )
    _agree(p)


VALID = json.dumps(project([("d1", "Dense", {"units": 4}), ("d2", "Dense", {"units": 2})]))


@SMALL
@given(data=st.data())
def test_corrupted_project_files_are_refused_cleanly(data):
    text = VALID
    position = data.draw(st.integers(0, len(text) - 1))
    action = data.draw(st.sampled_from(["cut", "flip", "insert"]))
    if action == "cut":
        text = text[:position]
    elif action == "flip":
        text = text[:position] + data.draw(st.characters()) + text[position + 1 :]
    else:
        text = text[:position] + data.draw(st.text(max_size=5)) + text[position:]
    try:
        loads(text)
    except ProjectError as err:
        assert str(err).strip()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
SECTIONS = st.sampled_from(["model", "compile", "data", "fit", "name", "description"])


@SMALL
@given(body=st.dictionaries(SECTIONS | st.text(max_size=6), JSON, max_size=4))
def test_random_documents_with_the_right_format_are_refused_cleanly(body):
    doc = {**body, "format": "netbuilder.project", "version": 1}
    with pytest.raises(ProjectError) as info:
        loads(json.dumps(doc))
    assert str(info.value).strip()
    check(doc)  # the checker reports rather than raising


def _random_path(doc, data):
    """A path of keys/indices from the top of ``doc`` to some value inside it."""
    path, node = [], doc
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(
            st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node)))
        )
        path.append(key)
        node = node[key]
    return path


@SMALL
@given(data=st.data())
def test_a_valid_project_with_one_value_replaced_loads_or_is_refused_cleanly(data):
    doc = json.loads(VALID)
    path = _random_path(doc, data)
    if not path or path[0] in ("format", "version"):  # those are tested on their own
        path = ["model"]
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(JSON)
    try:
        loaded = loads(json.dumps(doc))
    except ProjectError as err:
        assert str(err).strip()
    else:
        assert validate(loaded) == loaded  # what loads is a fixed point of validation
    check(doc)
