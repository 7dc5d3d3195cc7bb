"""Automatic layered layout (builder.layout): rows by longest path, crossing reduction,
stored positions kept."""

from __future__ import annotations

import gc
import json
import random
import time

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


# --------------------------------------------------------------------------- big graphs


def dense_like(blocks=(6, 12), chain_tail=0):
    """A DenseNet-shaped project named the keras.applications way: a stem, then stages
    ``conv2``, ``conv3``... of dense blocks (bn, relu, conv, concat with the block's input)
    joined by a transition layer, then ``chain_tail`` Dense layers in a row."""
    layers = [("conv1_conv", "Conv2D", {"filters": 4, "kernel_size": 3}, ["x"])]
    prev = "conv1_conv"
    for s, count in enumerate(blocks, start=2):
        for b in range(1, count + 1):
            p = f"conv{s}_block{b}"
            layers += [
                (f"{p}_0_bn", "BatchNormalization", {}, [prev]),
                (f"{p}_0_relu", "ReLU", {}, [f"{p}_0_bn"]),
                (f"{p}_1_conv", "Conv2D", {"filters": 4, "kernel_size": 1}, [f"{p}_0_relu"]),
                (f"{p}_concat", "Concatenate", {}, [prev, f"{p}_1_conv"]),
            ]
            prev = f"{p}_concat"
        layers.append((f"pool{s}_conv", "Conv2D", {"filters": 4, "kernel_size": 1}, [prev]))
        prev = f"pool{s}_conv"
    for k in range(chain_tail):
        layers.append((f"fc{k}", "Dense", D, [prev]))
        prev = f"fc{k}"
    return make(layers, shape=(8, 8, 3))


def chain(n):
    return make([(f"d{k}", "Dense", D, None) for k in range(n)], shape=(4,))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("conv2_block1_0_bn", ("conv2", "conv2_block1")),
        ("conv5_block16_concat", ("conv5", "conv5_block16")),
        ("block1_conv1", ("", "block1")),  # VGG16
        ("block_3_expand", ("", "block_3")),  # MobileNetV2
        ("block2a_dwconv", ("", "block2a")),  # EfficientNetB0
        ("dense_3", None),
        ("my_block_layer", None),
        ("blockade_1", None),
    ],
)
def test_block_of_reads_keras_applications_names(name, expected):
    assert layout.block_of(name) == expected


def test_a_dense_net_folds_into_stages_of_blocks():
    p = dense_like()
    found = layout.groups(p)
    by_id = {g.id: g for g in found}
    top = [g.id for g in found if g.parent is None]
    assert top == ["group:conv2", "group:conv3"]
    assert by_id["group:conv2"].children == tuple(f"group:conv2_block{b}" for b in range(1, 7))
    assert len(by_id["group:conv3"].members) == 12 * 4
    assert by_id["group:conv3"].summary(by_id) == "12 blocks · 48 layers"
    block = by_id["group:conv3_block5"]
    assert block.parent == "group:conv3" and block.members[-1] == "conv3_block5_concat"
    drawing = layout.view(p)
    assert drawing.items == [
        "x", "conv1_conv", "group:conv2", "pool2_conv", "group:conv3", "pool3_conv",
    ]  # fmt: skip
    assert drawing.edges[("group:conv2", "pool2_conv")] == [("conv2_block6_concat", "pool2_conv")]
    assert drawing.frames == {}


def test_unfolding_shows_a_blocks_layers_inside_frames_and_leaves_the_project_alone():
    p = dense_like()
    before = json.dumps(p, sort_keys=True)
    drawing = layout.view(p, {"group:conv3", "group:conv3_block12"})
    assert "conv3_block12_0_bn" in drawing.items and "group:conv3_block11" in drawing.items
    assert "group:conv2" in drawing.items and "group:conv3" not in drawing.items
    assert drawing.item_of["conv3_block3_1_conv"] == "group:conv3_block3"
    # The block's frame holds its layers; the stage's frame holds the block's frame.
    fx, fy, fw, fh = drawing.frames["group:conv3_block12"]
    for m in drawing.groups["group:conv3_block12"].members:
        x, y = drawing.positions[m]
        assert fx < x and x + layout.NODE_W < fx + fw and fy < y and y + layout.NODE_H < fy + fh
    sx, sy, sw, sh = drawing.frames["group:conv3"]
    assert sx < fx and fx + fw < sx + sw and sy < fy and fy + fh < sy + sh
    assert fx >= 0 and sx >= 0
    # A block inside a folded stage stays hidden, whatever was unfolded inside it.
    assert "conv3_block12_0_bn" not in layout.view(p, {"group:conv3_block12"}).items
    # Rows still run downwards along every drawn edge.
    for src, dst in drawing.edges:
        assert drawing.positions[src][1] < drawing.positions[dst][1]
    assert json.dumps(p, sort_keys=True) == before


def test_everything_unfolded_draws_every_node_once():
    p = dense_like()
    drawing = layout.view(p, {g.id for g in layout.groups(p)})
    names = graph.node_names(p)
    assert sorted(drawing.items) == sorted(names)
    assert len(set(drawing.positions.values())) == len(names)


def test_a_small_graph_or_a_plain_stack_has_no_groups():
    assert layout.groups(templates.load("mnist_convnet")) == []
    assert layout.groups(dense_like(blocks=(3,))) == []  # 14 nodes: drawn whole
    vgg_like = make([(f"block{b}_conv{k}", "Dense", D, None) for b in (1, 2) for k in (1, 2)])
    assert layout.groups(vgg_like) == []
    p = two_branch()
    drawing = layout.view(p)
    assert drawing.positions == layout.layout(p) and drawing.routes == layout.edge_routes(p)
    assert drawing.items == graph.node_names(p)


def test_a_long_plain_stack_folds_into_one_chain_but_short_runs_stay():
    p = chain(100)
    (group,) = layout.groups(p)
    assert group.kind == "chain" and group.id == "chain:d0" and len(group.members) == 100
    assert group.label == "d0 … d99"
    assert layout.view(p).items == ["x", "chain:d0"]
    # After the last stage, a run (pool3_conv, fc0, ...) shorter than CHAIN_MIN stays.
    tail = dense_like(chain_tail=layout.CHAIN_MIN - 2)
    assert not any(g.kind == "chain" for g in layout.groups(tail))
    tail = dense_like(chain_tail=layout.CHAIN_MIN - 1)
    chains = [g for g in layout.groups(tail) if g.kind == "chain"]
    assert [g.members for g in chains] == [("pool3_conv",) + tuple(f"fc{k}" for k in range(7))]


def test_a_model_output_ends_a_chain():
    p = chain(80)
    p["model"]["outputs"] = ["d39", "d79"]
    assert [len(g.members) for g in layout.groups(p)] == [40, 40]


def test_a_block_whose_layers_are_not_consecutive_is_not_folded():
    p = dense_like()
    # A side branch named as if it were in conv2_block1, read only at the very end.
    p["model"]["layers"].append(
        {"name": "conv2_block1_side", "class_name": "Dense", "config": D,
         "inbound": ["conv1_conv"]}
    )  # fmt: skip
    ids = {g.id for g in layout.groups(p)}
    assert "group:conv2_block1" not in ids and "group:conv2_block2" in ids
    drawing = layout.view(p)
    for src, dst in drawing.edges:
        assert drawing.positions[src][1] < drawing.positions[dst][1]


def test_a_graph_with_a_cycle_is_not_grouped():
    p = dense_like()
    p["model"]["layers"][1]["inbound"] = ["x", "conv2_block2_concat"]
    assert layout.groups(p) == []


def test_search_finds_names_containing_the_text_in_any_case():
    p = dense_like()
    assert layout.search(p, "CONV3_block12_") == [
        "conv3_block12_0_bn", "conv3_block12_0_relu", "conv3_block12_1_conv",
        "conv3_block12_concat",
    ]  # fmt: skip
    assert layout.search(p, "  ") == [] and layout.search(p, "nothing") == []
    found = layout.groups(p)
    assert layout.ancestors(found, "conv3_block12_0_bn") == ["group:conv3", "group:conv3_block12"]
    assert layout.ancestors(found, "pool2_conv") == []


def _best_time(fn, *args, repeat=5):
    """The least CPU time of ``repeat`` calls, garbage collection off: this process' own
    work, steadier than wall time on a machine shared with other jobs."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.process_time()
            fn(*args)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


@pytest.mark.timing
def test_grouping_a_chain_takes_linear_time():
    small, big = chain(5_000), chain(40_000)
    (group,) = layout.groups(chain(10_000))
    assert len(group.members) == 10_000
    t_small = _best_time(layout.groups, small)
    t_big = _best_time(layout.groups, big)
    assert t_small < 1.0, t_small
    # Eight times the layers: about eight times the time (measured 11-13: the order's heap
    # and memory caches; quadratic would be 64).
    assert t_big < 24 * t_small, (t_small, t_big)
    start = time.perf_counter()
    assert layout.view(small).items == ["x", "chain:d0"]
    assert time.perf_counter() - start < 2.0


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "name, stages",
    [("DenseNet121", {"conv2": 6, "conv3": 12, "conv4": 24, "conv5": 16}),
     ("ResNet50", {"conv2": 3, "conv3": 4, "conv4": 6, "conv5": 3}),
     ("ResNet50V2", {"conv2": 3, "conv3": 4, "conv4": 6, "conv5": 3})],
)  # fmt: skip
def test_keras_applications_fold_into_their_stages(name, stages):
    keras = pytest.importorskip("keras")
    from builder import keras_import

    model = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3))
    p, _ = keras_import.from_keras_json(model.to_json())
    found = layout.groups(p)
    by_id = {g.id: g for g in found}
    assert [g.id for g in found if g.parent is None] == [f"group:{s}" for s in stages]
    for stage, count in stages.items():
        assert by_id[f"group:{stage}"].children == tuple(
            f"group:{stage}_block{b}" for b in range(1, count + 1)
        )
    # Every layer named as a block's is folded into it; so is ResNet50V2's shortcut pooling
    # ("max_pooling2d"), which sits among a block's layers.
    blocked = {m for g in found if g.kind == "block" for m in g.members}
    named = {n for n in graph.node_names(p) if layout.block_of(n)}
    assert blocked >= named
    assert all(n.startswith("max_pooling2d") for n in blocked - named)
    drawing = layout.view(p)
    assert len(drawing.items) < 30
    # The search's way to a layer deep inside: unfold its groups, and it is drawn.
    target = f"conv5_block{stages['conv5']}_1_conv"
    shown = layout.view(p, layout.ancestors(found, target))
    assert target in shown.items
    assert len(shown.items) < 60


def inception_like(modules=16):
    """Unnamed-style layers: modules of three branches (1, 2 and 3 layers deep) joined by
    a Concatenate, one after another."""
    layers, prev = [], "x"
    for m in range(modules):
        a = (f"dense_{m}_a", "Dense", D, [prev])
        b1 = (f"dense_{m}_b1", "Dense", D, [prev])
        b2 = (f"dense_{m}_b2", "Dense", D, [b1[0]])
        c1 = (f"dense_{m}_c1", "Dense", D, [prev])
        c2 = (f"dense_{m}_c2", "Dense", D, [c1[0]])
        c3 = (f"dense_{m}_c3", "Dense", D, [c2[0]])
        layers += [a, b1, b2, c1, c2, c3, (f"mixed{m}", "Concatenate", {}, [a[0], b2[0], c3[0]])]
        prev = f"mixed{m}"
    layers.append(("head", "Dense", D, [prev]))
    return make(layers, shape=(4,))


def test_branching_regions_between_cut_layers_fold_into_modules():
    p = inception_like()
    found = layout.groups(p)
    assert [g.id for g in found] == [f"module:mixed{m}" for m in range(16)]
    assert found[3].members[-1] == "mixed3" and len(found[3].members) == 7
    assert found[3].summary({g.id: g for g in found}) == "7 layers"
    assert layout.view(p).items == ["x"] + [f"module:mixed{m}" for m in range(16)] + ["head"]
    # A connection around a cut layer (mixed5 also read by mixed9's branch) merges the
    # regions it spans into one, folded only while it stays small enough.
    p["model"]["layers"][9 * 7]["inbound"] = ["mixed5"]
    ids = [g.id for g in layout.groups(p)]
    assert "module:mixed9" in ids and "module:mixed6" not in ids
    assert len(layout.view(p).groups["module:mixed9"].members) == 4 * 7


@pytest.mark.timeout(300)
def test_inception_v3_folds_into_its_modules():
    keras = pytest.importorskip("keras")
    from builder import keras_import

    model = keras.applications.InceptionV3(weights=None, input_shape=(75, 75, 3))
    p, _ = keras_import.from_keras_json(model.to_json())
    items = layout.view(p).items
    assert [i for i in items if i.startswith("module:")] == [f"module:mixed{m}" for m in range(11)]
    assert len(items) < 20  # 312 layers


def cells(count=20):
    """NASNet-shaped: each cell of 8 layers reads the outputs of the two cells before it,
    so no layer lies on every path and there is nothing to fold as a module."""
    layers, before, prev = [], "x", "x"
    for c in range(count):
        a = (f"c{c}_a", "Dense", D, [prev])
        b = (f"c{c}_b", "Dense", D, [before])
        inner = [a, b]
        for k in range(5):
            inner.append((f"c{c}_n{k}", "Dense", D, [inner[-1][0] if k % 2 else a[0]]))
        inner.append((f"c{c}_out", "Concatenate", {}, [inner[-1][0], b[0], inner[-2][0]]))
        layers += inner
        before, prev = prev, f"c{c}_out"
    return make(layers, shape=(4,))


def test_a_long_run_without_blocks_or_modules_is_cut_into_sections():
    p = cells()
    found = layout.groups(p)
    assert found and all(g.kind == "section" for g in found)
    sizes = [len(g.members) for g in found]
    assert all(layout.SECTION_MIN <= s <= layout.SECTION_MAX for s in sizes[:-1]), sizes
    assert sum(sizes) == 160  # every layer is in one section
    assert found[0].label == f"c0_a … {found[0].members[-1]}"
    drawing = layout.view(p)
    assert len(drawing.items) == 1 + len(found)
    for src, dst in drawing.edges:
        assert drawing.positions[src][1] < drawing.positions[dst][1]


def test_a_moved_layer_keeps_its_place_in_the_folded_drawing():
    p = graph.move_node(dense_like(), "pool2_conv", 900, 40)
    drawing = layout.view(p)
    assert drawing.positions["pool2_conv"] == (900.0, 40.0)
    # Nothing automatic lands on it, and its edges are drawn straight (no bends).
    others = [xy for item, xy in drawing.positions.items() if item != "pool2_conv"]
    assert all(abs(x - 900) >= layout.NODE_W or abs(y - 40) >= layout.NODE_H for x, y in others)
    assert not any("pool2_conv" in pair for pair in drawing.routes)
    # A moved layer inside a folded group is drawn as the group, where the layout puts it.
    q = graph.move_node(dense_like(), "conv2_block3_0_bn", 900, 40)
    assert "conv2_block3_0_bn" not in layout.view(q).positions
    assert layout.view(q).positions == layout.view(dense_like()).positions
