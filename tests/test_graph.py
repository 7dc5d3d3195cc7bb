"""Graph-mode edits (builder.graph): connections, inputs, outputs, positions, faults, and
the switch between a stack and a graph."""

from __future__ import annotations

import copy

import pytest

from builder import graph, templates
from builder.checker import check
from builder.project import ProjectError, inbound_of, validate
from tests.helpers import keras_model
from tests.helpers import project as make

DENSE = {"units": 8, "activation": "relu"}


def stack():
    return make(
        [
            ("d1", "Dense", DENSE),
            ("d2", "Dense", {"units": 4}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
    )


def two_branch():
    """x -> a -> add <- b <- x, add -> out."""
    return make(
        [
            ("a", "Dense", DENSE, ["x"]),
            ("b", "Dense", DENSE, ["x"]),
            ("add", "Add", {}, ["a", "b"]),
            ("out", "Dense", {"units": 10}, ["add"]),
        ],
        shape=(64,),
    )


def links(project):
    return inbound_of(project["model"])


# --------------------------------------------------------------------------- mode switch


def test_stack_to_graph_and_back_loses_nothing():
    p = stack()
    g = graph.to_graph(p)
    assert all(lay["inbound"] for lay in g["model"]["layers"])
    assert links(g) == links(p)
    assert graph.to_stack(g) == p


@pytest.mark.parametrize(
    "name", ["offline_default", "mnist_dense", "mnist_convnet", "boston_regression", "imdb_dense"]
)
def test_every_stack_template_round_trips(name):
    p = templates.load(name)
    assert graph.to_stack(graph.to_graph(p)) == p


def test_moved_nodes_survive_the_round_trip():
    p = graph.move_node(graph.to_graph(stack()), "d2", 300, 120)
    back = graph.to_stack(p)
    assert next(lay for lay in back["model"]["layers"] if lay["name"] == "d2")["position"] == [
        300.0,
        120.0,
    ]
    assert graph.to_graph(back) == p


def test_to_stack_puts_a_shuffled_chain_back_in_order():
    p = graph.to_graph(stack())
    p["model"]["layers"].reverse()
    back = graph.to_stack(p)
    assert [lay["name"] for lay in back["model"]["layers"]] == ["d1", "d2", "out"]
    assert back == stack()


@pytest.mark.parametrize(
    "edit, why",
    [
        (lambda p: two_branch(), "'add' reads 2 layers"),
        (lambda p: two_branch(), "'x' feeds 2 layers"),
        (lambda p: graph.add_input(p, [3])[0], "it has 2 inputs"),
        (lambda p: graph.set_outputs(p, ["d2", "out"]), "it has 2 outputs"),
        (
            lambda p: graph.add_node(p, "Dense", "out")[0],
            "not the last layer of the chain 'dense_1'",
        ),
        (lambda p: graph.add_node(p, "Dense", "x")[0], "'x' feeds 2 layers \\(d1, dense_1\\)"),
    ],
)
def test_to_stack_refuses_a_graph_and_says_why(edit, why):
    with pytest.raises(ProjectError, match=why):
        graph.to_stack(edit(stack()))


def test_to_stack_collapses_single_output_compile_dicts():
    p = graph.to_graph(stack())
    p["compile"]["loss"] = {"out": "mse"}
    p["compile"]["metrics"] = {"out": ["mae"]}
    p["compile"]["loss_weights"] = {"out": 2.0}
    back = graph.to_stack(p)
    assert back["compile"]["loss"] == "mse"
    assert back["compile"]["metrics"] == ["mae"]
    assert back["compile"]["loss_weights"] is None


# --------------------------------------------------------------------------- connections


def test_draw_a_two_branch_model_from_a_stack():
    p = stack()
    p, side = graph.add_node(p, "Dense", "x", config={"units": 4})
    p, merge = graph.add_node(p, "Concatenate", "d2")
    p = graph.connect(p, side, merge)
    p = graph.connect(p, merge, "out")
    assert links(p)[merge] == ["d2", side]
    assert links(p)["out"] == [merge]
    result = check(p)
    assert result.valid, [r.error for r in result.layers]
    assert result.layer(merge).output_shape == [None, 8]
    assert graph.faults(p) == []


def test_connect_replaces_the_input_of_a_one_input_layer():
    p = graph.connect(stack(), "x", "d2")
    assert links(p)["d2"] == ["x"]


def test_connect_appends_to_a_merge_and_fills_a_slot():
    p = graph.connect(two_branch(), "x", "add")
    assert links(p)["add"] == ["a", "b", "x"]
    p = graph.connect(two_branch(), "x", "add", slot=0)
    assert links(p)["add"] == ["x", "b"]


@pytest.mark.parametrize(
    "src, dst, message",
    [
        ("out", "a", "would make a cycle \\(a -> add -> out -> a\\)"),
        ("a", "a", "its own output"),
        ("a", "x", "'x' is an input"),
        ("a", "add", "'a' already feeds 'add'"),
        ("a", "nope", "no node named 'nope'"),
        ("ghost", "out", "no node named 'ghost'"),
    ],
)
def test_connect_refusals(src, dst, message):
    with pytest.raises(ProjectError, match=message):
        graph.connect(two_branch(), src, dst)


def test_connect_refuses_a_third_input_to_subtract():
    p = make(
        [("a", "Dense", DENSE), ("b", "Dense", DENSE, ["x"]), ("s", "Subtract", {}, ["a", "b"])],
        shape=(4,),
    )
    with pytest.raises(ProjectError, match="at most 2 inputs and has 2"):
        graph.connect(p, "x", "s")


def test_disconnect_leaves_a_merge_with_one_input_reported_as_a_fault():
    p = graph.disconnect(two_branch(), "b", "add")
    assert links(p)["add"] == ["a"]
    kinds = {(f.kind, tuple(f.nodes)) for f in graph.faults(p)}
    assert ("too_few_inputs", ("add",)) in kinds
    assert ("unused", ("b",)) in kinds
    report = check(p).layer("add")
    assert "merges at least 2 inputs but receives 1" in report.error


def test_disconnect_refusals():
    with pytest.raises(ProjectError, match="only input of 'out'"):
        graph.disconnect(two_branch(), "add", "out")
    with pytest.raises(ProjectError, match="does not feed"):
        graph.disconnect(two_branch(), "x", "out")


def test_edits_do_not_change_their_argument():
    p = two_branch()
    before = copy.deepcopy(p)
    graph.connect(p, "x", "add")
    graph.disconnect(p, "b", "add")
    graph.move_node(p, "a", 1, 2)
    graph.add_input(p, [3])
    graph.set_outputs(p, ["a", "out"])
    assert p == before


# --------------------------------------------------------------------------- nodes


def test_add_node_takes_its_source_and_position():
    p, name = graph.add_node(stack(), "Dropout", "d1", position=(40, 300))
    lay = p["model"]["layers"][-1]
    assert (lay["name"], lay["inbound"], lay["position"]) == (name, ["d1"], [40.0, 300.0])
    assert lay["config"] == {"rate": 0.5}
    assert [f.kind for f in graph.faults(p)] == ["unused"]


def test_add_node_defaults_to_the_first_input():
    p, name = graph.add_node(stack(), "Dense")
    assert links(p)[name] == ["x"]


def test_delete_node_rewires_and_syncs_compile():
    p = graph.set_outputs(two_branch(), ["a", "out"])
    p["compile"]["loss"] = {"a": "mse", "out": "categorical_crossentropy"}
    p = graph.delete_node(p, "a")
    assert links(p)["add"] == ["x", "b"]
    assert p["model"]["outputs"] == ["out"]
    assert p["compile"]["loss"] == "categorical_crossentropy"
    validate(p)


def test_add_and_delete_inputs():
    p, second = graph.add_input(two_branch(), [3], "float32")
    assert second == "input_1"
    assert p["model"]["inputs"][1] == {"name": "input_1", "shape": [3], "dtype": "float32"}
    assert [f.kind for f in graph.faults(p)] == ["unused_input"]
    p = graph.connect(p, second, "b")
    with pytest.raises(ProjectError, match="'b' reads only 'input_1'"):
        graph.delete_node(p, second)
    p = graph.connect(p, "x", "b")
    assert links(graph.delete_node(p, second))["b"] == ["x"]
    with pytest.raises(ProjectError, match="only input"):
        graph.delete_input(two_branch(), "x")


@pytest.mark.parametrize(
    "shape, dtype, name, message",
    [
        ([], "float32", None, "positive whole numbers"),
        ([0], "float32", None, "positive whole numbers"),
        ([3], "complex64", None, "complex64"),
        ([3], "float32", "9x", "not a valid name"),
        ([3], "float32", "a", "already used"),
    ],
)
def test_add_input_refusals(shape, dtype, name, message):
    with pytest.raises(ProjectError, match=message):
        graph.add_input(two_branch(), shape, dtype, name)


def test_move_node_stores_positions_for_layers_and_inputs():
    p = graph.move_node(graph.move_node(stack(), "x", 10, 20.26), "d1", 5, 6)
    assert p["model"]["inputs"][0]["position"] == [10.0, 20.3]
    assert p["model"]["layers"][0]["position"] == [5.0, 6.0]
    validate(p)
    with pytest.raises(ProjectError, match="finite"):
        graph.move_node(p, "d1", float("nan"), 0)
    with pytest.raises(ProjectError, match="no node named"):
        graph.move_node(p, "zz", 0, 0)
    assert "position" not in graph.clear_positions(p)["model"]["layers"][0]


# --------------------------------------------------------------------------- outputs


def test_set_outputs_makes_per_output_compile_settings_follow():
    p = graph.to_graph(stack())
    p["compile"]["loss"] = {"out": "categorical_crossentropy"}
    p["compile"]["metrics"] = {"out": ["accuracy"]}
    p["compile"]["loss_weights"] = {"out": 1.0}
    p = graph.set_outputs(p, ["out", "d2"])
    assert p["model"]["outputs"] == ["out", "d2"]
    assert p["compile"]["loss"] == {
        "out": "categorical_crossentropy",
        "d2": "categorical_crossentropy",
    }
    assert p["compile"]["metrics"] == {"out": ["accuracy"], "d2": []}
    assert p["compile"]["loss_weights"] == {"out": 1.0, "d2": 1.0}
    validate(p)
    p = graph.set_outputs(p, ["d2"])
    assert p["compile"]["loss"] == "categorical_crossentropy"
    assert p["compile"]["loss_weights"] is None


@pytest.mark.parametrize(
    "names, message",
    [
        ([], "at least one output"),
        (["out", "out"], "twice"),
        (["x"], "an input cannot be an output"),
        (["nope"], "not a layer"),
    ],
)
def test_set_outputs_refusals(names, message):
    with pytest.raises(ProjectError, match=message):
        graph.set_outputs(stack(), names)


# --------------------------------------------------------------------------- faults


def test_faults_of_a_valid_graph_are_empty():
    assert graph.faults(two_branch()) == []
    assert graph.faults(stack()) == []


def test_cycle_is_reported_with_its_nodes():
    p = two_branch()
    p["model"]["layers"][0]["inbound"] = ["add"]
    (cycle,) = [f for f in graph.faults(p) if f.kind == "cycle"]
    assert cycle.nodes == ["a", "add"]
    assert "form a cycle" in cycle.message


def test_missing_source_and_too_many_inputs():
    p = two_branch()
    p["model"]["layers"][3]["inbound"] = ["add", "ghost"]
    kinds = {f.kind: f for f in graph.faults(p)}
    assert kinds["missing_source"].nodes == ["out"]
    assert "'ghost', which does not exist" in kinds["missing_source"].message
    assert kinds["too_many_inputs"].nodes == ["out"]


def test_checkable_gives_a_branch_being_drawn_its_shapes():
    p, side = graph.add_node(two_branch(), "Dense", "a", config={"units": 3})
    assert "no output depends on" in check(p).layer(side).error
    shown = check(graph.checkable(p))
    assert shown.layer(side).error is None
    assert shown.layer(side).output_shape == [None, 3]
    assert graph.checkable(two_branch()) == two_branch()
    assert [f.kind for f in graph.faults(p)] == ["unused"]


def test_no_output():
    p = two_branch()
    p["model"]["outputs"] = []
    assert [f.kind for f in graph.faults(p)] == ["no_output"]


# --------------------------------------------------------------------------- templates

GRAPH_TEMPLATES = ["two_branch", "multi_head", "inception_block", "residual_block"]


@pytest.mark.parametrize("name", GRAPH_TEMPLATES)
def test_graph_templates_are_valid_graphs_that_build(name):
    from builder.build import build_model

    p = templates.load(name)
    assert not graph.is_chain(p)
    assert graph.faults(p) == []
    result = check(p)
    assert result.valid, result.errors + [r.error for r in result.layers if r.error]
    model = build_model(p)
    assert len(model.outputs) == len(p["model"]["outputs"])
    plain = keras_model(p)  # the oracle: plain Keras calls, not the builder
    assert model.count_params() == result.total_params == plain.count_params()
    assert [list(o.shape) for o in model.outputs] == [list(o.shape) for o in plain.outputs]


@pytest.mark.parametrize("name", GRAPH_TEMPLATES)
def test_graph_templates_train_one_epoch_on_their_offline_data(name):
    from builder.build import build
    from builder.data.loader import prepare

    p = templates.load(name)
    data = prepare(p)
    outputs = p["model"]["outputs"]
    if len(outputs) > 1:
        assert sorted(data.y_train) == sorted(outputs)  # one target per output
        y = {k: v[:64] for k, v in data.y_train.items()}
    else:
        y = data.y_train[:64]
    history = build(p).fit(data.x_train[:64], y, epochs=1, batch_size=32, verbose=0).history
    if len(outputs) > 1:
        assert {f"{o}_loss" for o in outputs} <= set(history)
    assert all(v[0] == v[0] for v in history.values())  # no NaN


def test_attention_added_in_the_graph_attends_to_its_source_and_takes_a_key():
    from builder import graph as graphlib
    from builder.checker import check
    from tests.helpers import project as make

    p = make([("emb", "Dense", {"units": 8})], shape=(6, 4))
    p, name = graphlib.add_node(p, "MultiHeadAttention", source="emb")
    lay = next(lay for lay in p["model"]["layers"] if lay["name"] == name)
    assert lay["inbound"] == ["emb", "emb"]
    p = graphlib.connect(p, "emb", name)  # the key: the same source a third time
    lay = next(lay for lay in p["model"]["layers"] if lay["name"] == name)
    assert lay["inbound"] == ["emb", "emb", "emb"]
    p["model"]["outputs"] = [name]
    assert check(p).layer(name).output_shape == [None, 6, 8]


# --------------------------------------------------------------------------- format 3


def _seq2seq():
    return templates.load("digits_seq2seq")


def test_connect_from_a_layers_second_output_and_as_initial_state():
    p = _seq2seq()
    p = graph.disconnect(p, "encoder:2", "decoder")
    assert p["model"]["layers"][2]["inbound_args"] == {"initial_state": ["encoder:1"]}
    p = graph.connect_arg(p, "encoder:2", "decoder", "initial_state")
    assert p["model"]["layers"][2]["inbound_args"] == {"initial_state": ["encoder:1", "encoder:2"]}
    with pytest.raises(ProjectError, match="already feeds initial_state"):
        graph.connect_arg(p, "encoder:2", "decoder", "initial_state")
    with pytest.raises(ProjectError, match="not a call argument"):
        graph.connect_arg(p, "encoder:2", "decoder", "state")
    with pytest.raises(ProjectError, match="cycle"):
        graph.connect_arg(p, "digit", "encoder", "mask")
    p = graph.connect(p, "encoder:1", "digit")  # a one-input layer: its input is replaced
    assert p["model"]["layers"][3]["inbound"] == ["encoder:1"]
    assert check(p).layer("digit").input_shapes == [[None, 32]]


def test_reuse_adds_a_call_sharing_the_weights_and_delete_hands_them_over():
    from builder import edit

    p = graph.connect(_seq2seq(), "rows", "digit")
    p, call = graph.reuse(p, "digit")
    assert call == "digit_2"
    lay = p["model"]["layers"][-1]
    assert lay["shares"] == "digit" and lay["inbound"] == ["rows"]
    p = graph.connect(p, "decoder", "digit_2")
    p = graph.set_outputs(p, ["digit", "digit_2"])
    result = check(p)
    assert result.layer("digit_2").params == 0
    p = graph.delete_node(p, "digit")
    heir = next(x for x in p["model"]["layers"] if x["name"] == "digit_2")
    assert "shares" not in heir and heir["class_name"] == "Dense"
    p = edit.rename_layer(p, "encoder", "enc")
    assert p["model"]["layers"][2]["inbound_args"] == {"initial_state": ["enc:1", "enc:2"]}
