"""builder.defaults: a project file's missing sections get defaults that agree with its
data and its model."""

from __future__ import annotations

import pytest

from builder import fit_check, templates
from builder import project as project_file


def _without(name: str, *sections: str) -> dict:
    doc = templates.load(name)
    for section in sections:
        doc.pop(section)
    return doc


@pytest.mark.parametrize(
    "name, sections, loss, metrics",
    [
        # no compile, no data: the default data (Digits' class numbers) and the softmax agree
        ("offline_default", ("compile", "data"), "sparse_categorical_crossentropy", ["accuracy"]),
        # its data asks for one-hot labels
        ("offline_default", ("compile",), "categorical_crossentropy", ["accuracy"]),
        ("boston_regression", ("compile",), "mse", ["mae"]),
        ("reuters_dense", ("compile",), "categorical_crossentropy", ["accuracy"]),
        # no data: what the last layer implies (one sigmoid unit: two classes)
        ("imdb_dense", ("compile", "data"), "binary_crossentropy", ["accuracy"]),
    ],
)
def test_missing_compile_follows_the_data_or_the_last_layer(name, sections, loss, metrics):
    doc = project_file.validate(_without(name, *sections))
    assert doc["compile"]["loss"] == loss and doc["compile"]["metrics"] == metrics


def test_a_compile_section_without_loss_or_metrics_gets_the_datas():
    doc = templates.load("boston_regression")
    doc["compile"] = {"optimizer": "rmsprop"}
    doc = project_file.validate(doc)
    assert doc["compile"]["loss"] == "mse" and doc["compile"]["metrics"] == ["mae"]
    doc = templates.load("boston_regression")
    doc["compile"] = {"optimizer": "rmsprop", "loss": "mae"}
    assert project_file.validate(doc)["compile"]["metrics"] == ["mae"]  # its loss is kept
    assert project_file.validate(doc)["compile"]["loss"] == "mae"


def test_the_offline_default_without_compile_and_data_is_valid_and_says_nothing_odd():
    result = fit_check.check(project_file.validate(_without("offline_default", "compile", "data")))
    assert result.valid, result.errors
    # The one word it has: no data is chosen, and Digits fits the input (with its button).
    assert [w.code for w in result.warnings] == ["no-data"]
    assert not any(r.warnings for r in result.layers)


def test_binary_crossentropy_on_classes_says_why_the_labels_are_one_hot():
    doc = templates.load("offline_default")
    doc["compile"]["loss"] = "binary_crossentropy"
    doc["data"]["options"]["label_encoding"] = "integer"
    doc["model"]["layers"][-1]["config"]["units"] = 3
    out = fit_check.check(project_file.validate(doc)).layer("digit")
    assert "own yes/no question" in out.error
    assert "needs them one-hot" not in out.error
