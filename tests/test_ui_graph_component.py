"""The graph editor's view (ui.graph_component.build_view) of big graphs, without a browser
or TensorFlow: folded groups as nodes, one edge per pair of drawn nodes, search hits."""

from __future__ import annotations

from builder import graph, layout
from tests.test_layout import dense_like
from ui.graph_component import ACTION_FIELDS, build_view, parse_action


def _node(view: dict, name: str) -> dict:
    return next(n for n in view["nodes"] if n["name"] == name)


def test_a_folded_group_is_one_node_without_ports_and_its_edges_are_not_editable():
    p = dense_like()
    view = build_view(p)
    stage = _node(view, "group:conv2")
    assert stage["kind"] == "group" and stage["label"] == "conv2"
    assert stage["class_name"] == "Stage" and stage["summary"] == "6 blocks · 24 layers"
    assert stage["status"] == "tentative" and stage["params"] is None  # no check yet
    edges = {(e["source"], e["target"]): e for e in view["edges"]}
    assert edges[("conv1_conv", "group:conv2")]["folded"] is True
    assert edges[("group:conv2", "pool2_conv")]["folded"] is True
    assert edges[("x", "conv1_conv")]["folded"] is False
    # conv1_conv feeds two layers of conv2_block1: one edge stands for both.
    assert [e["slot"] for e in view["edges"] if e["target"] == "group:conv2"] == [0]
    assert view["frames"] == []


def test_errors_inside_a_folded_group_show_on_it():
    p = dense_like()
    faults = [
        graph.Fault("unused", "Layer 'conv3_block4_0_relu' feeds nothing.", ["conv3_block4_0_relu"])
    ]
    view = build_view(p, faults=faults)
    stage = _node(view, "group:conv3")
    assert stage["status"] == "error"
    assert stage["error"] == "1 layer inside with errors: conv3_block4_0_relu."
    assert _node(view, "group:conv2")["status"] != "error"
    edge = next(e for e in view["edges"] if e["target"] == "group:conv3")
    assert edge["status"] == "error"


def test_search_hits_are_counted_on_folded_groups_and_unfolded_layers_keep_their_block_name():
    p = dense_like()
    hits = layout.search(p, "block3_0")
    drawing = layout.view(p, {"group:conv3", "group:conv3_block3"})
    view = build_view(
        p, drawing=drawing, matches=hits, focus={"name": "conv3_block3_0_bn", "seq": 4}
    )
    assert _node(view, "group:conv2")["match_count"] == 2
    assert _node(view, "conv3_block3_0_bn")["match_count"] == 1
    assert _node(view, "conv3_block3_0_bn")["prefix"] == "conv3_block3"
    assert "prefix" not in _node(view, "pool2_conv")
    assert view["focus"] == {"name": "conv3_block3_0_bn", "seq": 4}
    assert [f["id"] for f in view["frames"]] == ["group:conv3", "group:conv3_block3"]
    # A focus on a node that is not drawn (folded away) is dropped.
    assert build_view(p, focus={"name": "conv3_block3_0_bn", "seq": 5})["focus"] is None


def test_fold_actions_are_parsed_like_the_others():
    assert set(ACTION_FIELDS) >= {"expand", "collapse"}
    assert parse_action({"type": "expand", "name": "group:conv2", "seq": 9}) == {
        "type": "expand",
        "name": "group:conv2",
        "seq": 9,
    }
    assert parse_action({"type": "collapse", "name": "", "seq": 9}) is None
