"""builder.topology: order, depths, cycles, dangling names and reachability of the wiring,
and the one wording every consumer uses for a wiring fault."""

from __future__ import annotations

import itertools

import pytest

from builder import graph, layout, topology
from builder.project import ProjectError, graph_order, validate
from tests.helpers import project as make

D = {"units": 4}


def _model(links: list[tuple[str, list[str] | None]], outputs=None, inputs=("x",)) -> dict:
    """A bare model dict: (name, inbound) per layer, file order."""
    layers = [{"name": n, **({"inbound": srcs} if srcs is not None else {})} for n, srcs in links]
    return {
        "inputs": [{"name": i} for i in inputs],
        "layers": layers,
        "outputs": list(outputs) if outputs is not None else [links[-1][0]],
    }


@pytest.mark.parametrize(
    "links, order, depth",
    [
        # a plain stack: implicit links, file order kept
        (
            [("a", None), ("b", None), ("c", None)],
            ["a", "b", "c"],
            {"x": 0, "a": 1, "b": 2, "c": 3},
        ),
        # a merge listed before the layers it reads
        (
            [("cat", ["a", "b"]), ("a", ["x"]), ("b", ["x"])],
            ["a", "b", "cat"],
            {"x": 0, "a": 1, "b": 1, "cat": 2},
        ),
        # depth is the longest path, not the shortest
        (
            [("a", ["x"]), ("b", ["a"]), ("m", ["x", "b"])],
            ["a", "b", "m"],
            {"x": 0, "a": 1, "b": 2, "m": 3},
        ),
        # ties among ready layers keep file order
        (
            [("p", ["x"]), ("q", ["x"]), ("r", ["x"]), ("m", ["r", "q", "p"])],
            ["p", "q", "r", "m"],
            {"x": 0, "p": 1, "q": 1, "r": 1, "m": 2},
        ),
        # a chain listed backwards
        (
            [("c", ["b"]), ("b", ["a"]), ("a", ["x"])],
            ["a", "b", "c"],
            {"x": 0, "a": 1, "b": 2, "c": 3},
        ),
    ],
)
def test_order_and_depth(links, order, depth):
    topo = topology.analyse(_model(links, outputs=[order[-1]]))
    assert topo.order == order
    assert topo.depth == depth
    assert topo.acyclic and not topo.missing and topo.unused_layers() == []


def test_two_inputs_start_at_depth_zero():
    topo = topology.analyse(_model([("a", ["y"]), ("m", ["x", "a"])], inputs=("x", "y")))
    assert topo.depth == {"x": 0, "y": 0, "a": 1, "m": 2}


@pytest.mark.parametrize(
    "links, cycles, order_tail",
    [
        # a <-> b; c only reads the cycle and is not part of it
        ([("a", ["x", "b"]), ("b", ["a"]), ("c", ["b"])], [["a", "b"]], ["a", "b", "c"]),
        # two separate cycles, each named by its own layers
        (
            [("a", ["x", "b"]), ("b", ["a"]), ("p", ["x", "q"]), ("q", ["p"]), ("m", ["b", "q"])],
            [["a", "b"], ["p", "q"]],
            ["a", "b", "p", "q", "m"],
        ),
        # a layer reading itself
        ([("a", ["x", "a"]), ("b", ["a"])], [["a"]], ["a", "b"]),
    ],
)
def test_cycles_are_named_and_every_layer_is_still_visited_once(links, cycles, order_tail):
    topo = topology.analyse(_model(links))
    assert topo.cycles == cycles
    assert not topo.acyclic
    assert topo.order == order_tail
    for name, srcs in links:
        for src in srcs:
            if (src, name) not in topo.back_edges and src != name:
                assert topo.depth[src] < topo.depth[name]


def test_missing_sources_and_reachability():
    topo = topology.analyse(
        _model(
            [("a", ["x", "ghost"]), ("side", ["x"]), ("out", ["a"])],
            outputs=["out"],
            inputs=("x", "y"),
        )
    )
    assert topo.missing == [("a", "ghost")]
    assert topo.unused_layers() == ["side"]
    assert topo.unused_inputs() == ["y"]
    assert topo.needed == {"out", "a", "x"}


def test_without_outputs_nothing_is_unused_yet():
    topo = topology.analyse(_model([("a", ["x"])], outputs=[]))
    assert topo.unused_layers() == [] and topo.unused_inputs() == []


@pytest.mark.parametrize(
    "start, target, path",
    [
        ("out", "x", ["out", "add", "a", "x"]),
        ("add", "b", ["add", "b"]),
        ("a", "b", None),
        ("b", "b", ["b"]),
    ],
)
def test_depends_on_gives_a_real_path(start, target, path):
    links = {"a": ["x"], "b": ["x"], "add": ["a", "b"], "out": ["add"]}
    found = topology.depends_on(links, start, target)
    if path is None:
        assert found is None
    else:
        assert found[0] == start and found[-1] == target
        assert all(nxt in links.get(cur, []) for cur, nxt in itertools.pairwise(found))
        assert len(found) == len(path)


# --------------------------------------------------------------------------- one wording


def _problems(doc) -> list[str]:
    with pytest.raises(ProjectError) as info:
        validate(doc)
    return [message for _, message in info.value.problems]


@pytest.mark.parametrize(
    "layers, outputs, kind",
    [
        ([("a", "Dense", D, ["x"]), ("b", "Dense", D, ["ghost"])], ["b"], "missing_source"),
        ([("a", "Dense", D, ["x", "b"]), ("b", "Dense", D, ["a"])], ["b"], "cycle"),
        ([("a", "Dense", D, ["x"]), ("b", "Dense", D, ["x"])], ["a"], "unused"),
    ],
)
def test_the_project_file_and_the_graph_editor_word_a_fault_alike(layers, outputs, kind):
    if kind == "cycle":
        layers[0] = ("a", "Concatenate", {}, ["x", "b"])
    doc = make(layers, shape=(4,), outputs=outputs)
    faults = [f.message for f in graph.faults(doc) if f.kind == kind]
    assert faults
    assert set(faults) <= set(_problems(doc))


def test_a_refused_connection_names_the_loop():
    doc = make([("a", "Dense", D, ["x"]), ("b", "Dense", D, ["a"])], shape=(4,))
    with pytest.raises(ProjectError) as info:
        graph.connect(doc, "b", "a")
    assert str(info.value).endswith(topology.would_cycle_message("b", "a", ["a", "b"]))


# --------------------------------------------------------------------------- linear time


def _reversed_chain(n: int) -> dict:
    """n Dense layers, listed last first: each reads the one listed after it."""
    layers = [(f"d{k}", "Dense", D, [f"d{k - 1}" if k else "x"]) for k in range(n)]
    return make(layers[::-1], shape=(4,), outputs=[f"d{n - 1}"])


@pytest.mark.timeout(20)
def test_a_long_chain_listed_backwards_is_ordered_in_linear_time():
    # Placing one layer per scan of the pending list (quadratic) takes minutes here.
    doc = _reversed_chain(10_000)
    topo = topology.analyse(doc["model"])
    assert topo.order == [f"d{k}" for k in range(10_000)]
    assert topo.depth["d9999"] == 10_000
    assert [lay["name"] for lay in graph_order(doc)] == topo.order
    assert graph.faults(doc) == []
    assert layout.ranks(doc)["d9999"] == 10_000


@pytest.mark.timeout(20)
def test_a_long_cycle_is_named_in_linear_time():
    doc = _reversed_chain(10_000)
    doc["model"]["layers"][-1]["inbound"] = ["x", "d9999"]  # d0 also reads the last layer
    topo = topology.analyse(doc["model"])
    assert topo.cycles == [[f"d{k}" for k in range(9_999, -1, -1)]]
    assert len(topo.order) == 10_000


def test_the_checker_and_the_graph_editor_word_a_merge_with_one_input_alike():
    from builder.checker import check

    doc = make([("a", "Dense", D, ["x"]), ("m", "Concatenate", {}, ["a"])], shape=(4,))
    (fault,) = [f for f in graph.faults(doc) if f.kind == "too_few_inputs"]
    assert fault.message == check(doc).layer("m").error
    assert fault.message.startswith("Concatenate 'm' merges at least 2 inputs but receives 1")


@pytest.mark.timeout(20)
def test_a_long_chain_switches_between_graph_and_stack_in_linear_time():
    doc = graph.to_graph(_reversed_chain(10_000))
    assert graph.is_chain(doc)
    stack = graph.to_stack(doc)
    assert [lay["name"] for lay in stack["model"]["layers"]] == [f"d{k}" for k in range(10_000)]
