import json
import pickle
import re
from pathlib import Path

import pytest

from builder import project as P
from builder.project import ProjectError, graph_order, is_sequential, loads, validate
from tests.helpers import project

DENSE = ("d1", "Dense", {"units": 16, "activation": "relu"})
OUT = ("d2", "Dense", {"units": 1, "activation": "sigmoid"})


def test_issue_example_loads():
    doc = {
        "format": "netbuilder.project",
        "version": 1,
        "model": {
            "inputs": [{"name": "reviews", "shape": [10000]}],
            "layers": [
                {
                    "name": "d1",
                    "class_name": "Dense",
                    "config": {"units": 16, "activation": "relu"},
                },
                {
                    "name": "d2",
                    "class_name": "Dense",
                    "config": {"units": 1, "activation": "sigmoid"},
                    "inbound": ["d1"],
                },
            ],
            "outputs": ["d2"],
        },
    }
    p = loads(json.dumps(doc))
    assert [lay["name"] for lay in graph_order(p)] == ["d1", "d2"]
    assert is_sequential(p)
    assert p["compile"]["loss"]  # defaults filled in


@pytest.mark.parametrize(
    "mutate, field, words",
    [
        (lambda d: d.update(extra=1), "extra", "unknown field 'extra'"),
        (
            lambda d: d["model"]["layers"][0].update(class_name="Dence"),
            "model.layers[0].class_name",
            "Did you mean 'Dense'",
        ),
        (
            lambda d: d["model"]["layers"][0]["config"].update(units=0),
            "model.layers[0].config.units",
            "units=0 is not allowed",
        ),
        (
            lambda d: d["model"]["layers"][0]["config"].update(unitz=3),
            "model.layers[0].config.unitz",
            "no parameter 'unitz'; did you mean 'units'",
        ),
        (
            lambda d: d["model"]["layers"][1].update(name="d1"),
            "model.layers[1].name",
            "already used",
        ),
        (
            lambda d: d["model"]["layers"][1].update(inbound=["nope"]),
            "model.layers[1].inbound",
            "'nope', which does not exist",
        ),
        (lambda d: d["model"].update(outputs=["zz"]), "model.outputs[0]", "not a layer"),
        (lambda d: d.update(version=99), "version", "newer than this netbuilder"),
        (lambda d: d.update(format="other"), "format", "not a netbuilder project"),
        (
            lambda d: d["model"]["inputs"][0].update(shape=[-1]),
            "model.inputs[0].shape",
            "positive integers",
        ),
        (
            lambda d: d["model"]["layers"][0].update(name="bad name"),
            "model.layers[0].name",
            "not a valid name",
        ),
        (lambda d: d["compile"].update(loss="mse2"), "compile.loss", "unknown loss"),
        (
            lambda d: d["compile"]["optimizer"]["config"].update(learning_rate=-1),
            "compile.optimizer.config.learning_rate",
            "must be above 0 and at most 10, got -1",
        ),
        (
            lambda d: d["compile"]["optimizer"]["config"].update(lr=0.1),
            "compile.optimizer.config.lr",
            "no setting 'lr'",
        ),
        (lambda d: d["fit"].update(epochs=0), "fit.epochs", "must be from 1 to"),
        (
            lambda d: d["fit"].update(validation={"method": "kfold", "k": 1}),
            "fit.validation.k",
            "2 to 20",
        ),
        (
            lambda d: d["fit"].update(callbacks=[{"class_name": "Lambda"}]),
            "fit.callbacks[0].class_name",
            "unknown callback",
        ),
    ],
)
def test_bad_fields_are_refused_with_field_and_fix(mutate, field, words):
    doc = project([DENSE, OUT])
    mutate(doc)
    with pytest.raises(ProjectError) as info:
        validate(doc)
    messages = [message for f, message in info.value.problems if f == field]
    assert messages, info.value.problems
    assert any(re.search(words, message) for message in messages), messages


def test_cycle_is_refused():
    doc = project(
        [("a", "Dense", {"units": 4}, ["b"]), ("b", "Dense", {"units": 4}, ["a"])], outputs=["b"]
    )
    with pytest.raises(ProjectError, match="cycle"):
        validate(doc)


def test_unconnected_layer_is_refused():
    doc = project(
        [("a", "Dense", {"units": 4}, ["x"]), ("b", "Dense", {"units": 4}, ["x"])], outputs=["a"]
    )
    with pytest.raises(ProjectError, match="no output depends on 'b'"):
        validate(doc)


@pytest.mark.parametrize(
    "text, words",
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        ("[" * 100000, "not valid JSON|nests too deeply"),
    ],
)
def test_broken_files_give_messages(text, words):
    with pytest.raises(ProjectError, match=words):
        loads(text)


class _TouchOnUnpickle:
    """Unpickling this creates a file: the payload a pickle-based loader would run."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_loading_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    # A valid project whose free text is code: it loads as text, verbatim.
    doc = project([DENSE, OUT])
    doc["name"], doc["description"] = code, code
    loaded = loads(json.dumps(doc))
    assert loaded["name"] == code and loaded["description"] == code
    # The same project as a Python literal or a pickle is refused, not evaluated.
    with pytest.raises(ProjectError, match="not valid JSON"):
        loads(repr(doc))
    payload = pickle.dumps({"format": "netbuilder.project", "hook": _TouchOnUnpickle(marker)})
    with pytest.raises(ProjectError, match=r"not UTF-8|not valid JSON"):
        loads(payload)
    path = tmp_path / "p.json"
    path.write_bytes(payload)
    with pytest.raises(ProjectError):
        P.load_project_file(path)
    assert not marker.exists()


def test_save_is_atomic_and_round_trips(tmp_path):
    doc = validate(project([DENSE, OUT]))
    path = tmp_path / "p.json"
    P.save_project_file(doc, path)
    assert P.load_project_file(path) == doc
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_implicit_inbound_is_previous_layer():
    doc = project([DENSE, OUT])
    assert P.inbound_of(doc["model"]) == {"d1": ["x"], "d2": ["d1"]}


def test_graph_order_sorts_branches():
    doc = project(
        [
            ("m", "Concatenate", {}, ["a", "b"]),
            ("a", "Dense", {"units": 4}, ["x"]),
            ("b", "Dense", {"units": 4}, ["x"]),
        ],
        outputs=["m"],
    )
    names = [lay["name"] for lay in graph_order(validate(doc))]
    assert names.index("m") == 2 and not is_sequential(doc)


def test_graph_in_progress_loads_when_graph_checks_are_off():
    doc = project(
        [("a", "Dense", {"units": 4}, ["x"]), ("b", "Dense", {"units": 4}, ["x"])], outputs=["a"]
    )
    with pytest.raises(ProjectError):
        loads(json.dumps(doc))
    assert loads(json.dumps(doc), check_graph=False)["model"]["layers"][1]["name"] == "b"


def test_a_project_opens_without_its_csv_file_and_loading_the_data_says_why(tmp_path):
    from builder.data import DataError, prepare

    missing = tmp_path / "gone.csv"
    doc = project(
        [DENSE, OUT], shape=(3,), dataset="csv", options={"path": str(missing), "target": "price"}
    )
    loaded = loads(json.dumps(doc))  # opening reads nothing from disk
    assert loaded["data"]["options"]["path"] == str(missing)
    with pytest.raises(DataError, match=re.escape("gone.csv")):
        prepare(loaded)
