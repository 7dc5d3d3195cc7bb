import pytest

from builder import edit
from builder.checker import check
from builder.fixes import apply_fix
from builder.project import ProjectError, validate
from tests.helpers import project

STACK = [("d1", "Dense", {"units": 16}), ("d2", "Dense", {"units": 10})]


def names(p):
    return [lay["name"] for lay in p["model"]["layers"]]


def test_add_move_duplicate_delete_keep_a_valid_stack():
    p = project(STACK)
    p, new = edit.add_layer(p, "Dropout", 1)
    assert names(p) == ["d1", new, "d2"] and new == "dropout_1"
    p = edit.move_layer(p, "d2", 0)
    assert names(p) == ["d2", "d1", new] and p["model"]["outputs"] == [new]
    p, dup = edit.duplicate_layer(p, "d1")
    assert names(p) == ["d2", "d1", dup, new]
    p = edit.delete_layer(p, new)
    assert p["model"]["outputs"] == [dup]
    validate(p)
    assert all("inbound" not in lay for lay in p["model"]["layers"])


def test_edits_do_not_mutate_their_input():
    p = project(STACK)
    before = repr(p)
    edit.add_layer(p, "Dense", 0)
    edit.delete_layer(p, "d1")
    assert repr(p) == before


def test_bad_setting_is_refused_and_project_kept():
    p = project(STACK)
    with pytest.raises(ProjectError, match="units"):
        edit.set_param(p, "d1", "units", -3)


def test_graph_delete_rewires_readers():
    p = project(
        [
            ("a", "Dense", {"units": 4}, ["x"]),
            ("b", "Dense", {"units": 4}, ["a"]),
            ("c", "Dense", {"units": 4}, ["b"]),
        ],
        outputs=["c"],
    )
    p = edit.delete_layer(p, "b")
    assert p["model"]["layers"][1]["inbound"] == ["a"]
    validate(p)


def test_insert_before_in_graph_splices_the_edge():
    p = project(
        [
            ("a", "Dense", {"units": 4}, ["x"]),
            ("b", "Dense", {"units": 8}, ["x"]),
            ("m", "Concatenate", {}, ["a", "b"]),
        ],
        outputs=["m"],
    )
    p, new = edit.insert_before(p, "m", "Dropout", {"rate": 0.5})
    m = next(lay for lay in p["model"]["layers"] if lay["name"] == "m")
    assert m["inbound"] == [new, "b"]
    assert check(p).valid


def test_rename_updates_links_and_outputs():
    p = edit.rename_layer(project(STACK), "d2", "digit")
    assert p["model"]["outputs"] == ["digit"]
    with pytest.raises(ProjectError, match="already used"):
        edit.rename_layer(p, "d1", "digit")


def test_fix_insert_reshape_makes_conv_valid():
    p = project(
        [
            ("c1", "Conv2D", {"filters": 8, "kernel_size": 3}),
            ("f", "Flatten", {}),
            ("o", "Dense", {"units": 10, "activation": "softmax"}),
        ]
    )
    result = check(p)
    fixed = check(apply_fix(p, result.layer("c1").fixes[0]))
    assert fixed.valid and fixed.layer("c1").output_shape == [None, 26, 26, 8]
