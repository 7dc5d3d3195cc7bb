"""Automatic layered layout (builder.layout): rows by longest path, crossing reduction,
stored positions kept."""

from __future__ import annotations

import random

import pytest

from builder import graph, layout, templates
from tests.helpers import project as make

D = {"units": 4}


def two_branch():
    return make(
        [
            ("a", "Dense", D, ["x"]),
            ("b", "Dense", D, ["x"]),
            ("a2", "Dense", D, ["a"]),
            ("add", "Add", {}, ["a2", "b"]),
            ("out", "Dense", D, ["add"]),
        ],
        shape=(4,),
    )


def test_rows_follow_the_longest_path():
    assert layout.ranks(two_branch()) == {"x": 0, "a": 1, "b": 1, "a2": 2, "add": 3, "out": 4}


def test_a_stack_is_one_column():
    p = templates.load("mnist_convnet")
    pos = layout.layout(p)
    assert len({x for x, _ in pos.values()}) == 1
    ys = [y for _, y in pos.values()]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_nodes_of_a_row_do_not_overlap():
    pos = layout.layout(two_branch())
    assert pos["a"][1] == pos["b"][1]
    assert abs(pos["a"][0] - pos["b"][0]) >= layout.NODE_W + layout.GAP_X
    assert pos["x"][1] < pos["a"][1] < pos["a2"][1] < pos["add"][1] < pos["out"][1]


def crossing_prone():
    """Two inputs whose readers are listed crosswise: file order gives 1 crossing."""
    return make(
        [("p", "Dense", D, ["y"]), ("q", "Dense", D, ["x"])],
        shape=(4,),
        inputs=[{"name": "x", "shape": [4]}, {"name": "y", "shape": [4]}],
        outputs=["p", "q"],
    )


def test_barycentric_ordering_removes_crossings():
    p = crossing_prone()
    assert layout.crossings([["x", "y"], ["p", "q"]], [("y", "p"), ("x", "q")]) == 1
    ordered = layout.rows(p)
    assert ordered[0] == ["x", "y"]
    assert ordered[1] == ["q", "p"]
    assert layout.crossings(ordered, [("y", "p"), ("x", "q")]) == 0


def test_long_edges_take_part_in_ordering():
    # x feeds 'late' (3 rows down) directly; the waypoints keep 'late' beside its source.
    p = make(
        [
            ("a", "Dense", D, ["x"]),
            ("b", "Dense", D, ["a"]),
            ("c", "Dense", D, ["b"]),
            ("late", "Dense", D, ["x"]),
            ("m", "Concatenate", {}, ["c", "late"]),
        ],
        shape=(4,),
    )
    assert layout.ranks(p)["late"] == 1
    assert all(not name.startswith("\0") for row in layout.rows(p) for name in row)
    pos = layout.layout(p)
    assert pos["m"][1] > pos["c"][1]


def test_long_edges_bend_between_the_nodes_they_pass():
    p = make(
        [
            ("a", "Dense", D, ["x"]),
            ("b", "Dense", D, ["a"]),
            ("c", "Dense", D, ["b"]),
            ("m", "Concatenate", {}, ["c", "x"]),
        ],
        shape=(4,),
    )
    pos = layout.layout(p)
    routes = layout.edge_routes(p)
    assert list(routes) == [("x", "m")]
    bends = routes[("x", "m")]
    assert len(bends) == 3  # rows 1, 2 and 3 lie between x (row 0) and m (row 4)
    for (bx, by), row_node in zip(bends, ("a", "b", "c")):
        assert by == pos[row_node][1] + layout.NODE_H / 2
        assert abs(bx - (pos[row_node][0] + layout.NODE_W / 2)) >= layout.NODE_W
    assert layout.edge_routes(graph.move_node(p, "m", 0, 900)) == {}


def test_stored_positions_are_kept_and_avoided():
    p = graph.move_node(two_branch(), "b", 500, 400)
    auto = layout.layout(two_branch())
    pos = layout.layout(p)
    assert pos["b"] == (500.0, 400.0)
    assert pos["x"] == auto["x"]
    blocker = graph.move_node(two_branch(), "b", *auto["x"])
    pos = layout.layout(blocker)
    assert pos["b"] == auto["x"]
    assert abs(pos["x"][0] - auto["x"][0]) >= layout.NODE_W
    assert layout.layout(p, keep=False) == auto


def test_a_cycle_does_not_hang_the_layout():
    p = two_branch()
    p["model"]["layers"][0]["inbound"] = ["x", "add"]
    pos = layout.layout(p)
    assert set(pos) == {"x", "a", "b", "a2", "add", "out"}


@pytest.mark.parametrize("seed", range(5))
def test_random_graphs_get_distinct_positions(seed):
    rng = random.Random(seed)
    layers = []
    for k in range(25):
        names = ["x"] + [lay[0] for lay in layers]
        srcs = rng.sample(names, min(len(names), rng.choice([1, 1, 2])))
        cls = "Concatenate" if len(srcs) > 1 else "Dense"
        layers.append((f"n{k}", cls, {} if cls == "Concatenate" else D, srcs))
    p = make(layers, shape=(4,))
    pos = layout.layout(p)
    assert len(pos) == 26
    assert len(set(pos.values())) == 26
    rank = layout.ranks(p)
    for name, srcs in ((lay[0], lay[3]) for lay in layers):
        assert all(pos[s][1] < pos[name][1] for s in srcs)
        assert rank[name] == 1 + max(rank[s] for s in srcs)


def test_free_spot_avoids_existing_nodes():
    pos = layout.layout(two_branch())
    x, y = pos["a"]
    fx, fy = layout.free_spot(pos, x + 10, y + 10)
    assert fy == y + 10 and fx >= x + layout.NODE_W
    assert layout.free_spot(pos, 5000, 5000) == (5000.0, 5000.0)
    assert layout.free_spot({}, -20, -5) == (0.0, 0.0)


def test_a_merge_listed_first_gets_the_row_below_its_sources():
    p = make(
        [
            ("both", "Concatenate", {}, ["wide", "deep2"]),
            ("wide", "Dense", D, ["x"]),
            ("deep2", "Dense", D, ["deep1"]),
            ("deep1", "Dense", D, ["x"]),
        ],
        shape=(4,),
        outputs=["both"],
    )
    assert layout.ranks(p) == {"x": 0, "both": 3, "wide": 1, "deep2": 2, "deep1": 1}
    assert layout.rows(p) == [["x"], ["wide", "deep1"], ["deep2"], ["both"]]
