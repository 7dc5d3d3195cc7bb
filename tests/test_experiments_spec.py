"""The project file's experiment section: migration to version 2, validation, applying values.

No Ray and no training here (the structural test builds models without fitting them).
"""

import copy
import json
import re

import pytest

from builder import templates
from builder.experiments import runner, spec
from builder.project import VERSION, ProjectError, dumps, loads, migrate, validate
from tests.helpers import project

ROOT_TEMPLATES = [n for n in templates.names()]


def _digits(**experiment):
    p = project(
        [
            ("hidden", "Dense", {"units": 16, "activation": "relu"}),
            ("drop", "Dropout", {"rate": 0.2}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        loss="categorical_crossentropy",
        dataset="digits",
        options={"image_layout": "flat", "label_encoding": "one_hot"},
    )
    p["version"] = 2
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    p["experiment"] = {"parameters": [{"setting": "layers.hidden.units", "values": [8, 16]}]}
    p["experiment"].update(experiment)
    return p


# --------------------------------------------------------------------------- migration


def test_version_2_and_later_have_experiments():
    assert VERSION >= 2


@pytest.mark.parametrize("name", ROOT_TEMPLATES)
def test_every_template_migrates_from_version_1(name):
    doc = json.loads((templates.TEMPLATE_DIR / f"{name}.json").read_text())
    doc.pop("experiment", None)
    doc["version"] = 1
    version_3 = [
        k for lay in doc["model"]["layers"] for k in ("shares", "inbound_args") if k in lay
    ]
    if version_3:  # shared layers and call arguments came with version 3
        with pytest.raises(ProjectError, match=f'"{version_3[0]}" needs format version 3'):
            loads(json.dumps(doc))
        return
    loaded = loads(json.dumps(doc))
    assert loaded["version"] == VERSION
    assert loaded["model"] == doc["model"]
    assert "experiment" not in loaded


def test_version_1_file_with_an_experiment_is_refused():
    doc = _digits()
    doc["version"] = 1
    with pytest.raises(ProjectError, match="needs format version 2"):
        validate(doc)


def test_version_1_keeps_the_meaning_of_missing_loss_and_validation():
    """Version 1 read no compile.loss as mse and no fit.validation as none; version 2 fills
    missing settings from the schema (binary_crossentropy, split 0.2), so the migration
    writes the old meaning down."""
    doc = templates.load("offline_default")
    doc["version"] = 1
    del doc["compile"]["loss"], doc["fit"]["validation"]
    migrated = validate(loads(dumps(doc)))
    assert migrated["compile"]["loss"] == "mse"
    assert migrated["fit"]["validation"]["method"] == "none"
    doc["version"] = 2
    fresh = validate(loads(dumps(doc)))
    assert fresh["compile"]["loss"] != "mse" or fresh["fit"]["validation"]["method"] != "none"


def test_migrate_keeps_a_version_2_experiment_and_refuses_newer():
    doc = _digits()
    assert migrate(copy.deepcopy(doc)) == {**doc, "version": VERSION}
    with pytest.raises(ProjectError, match="newer than this netbuilder"):
        migrate({**doc, "version": VERSION + 1})


def test_saved_experiment_reloads(tmp_path):
    p = validate(
        _digits(
            search="random",
            trials=3,
            metric="val_accuracy",
            mode="max",
            early_stopping={"method": "asha", "grace_period": 1},
        )
    )
    assert loads(dumps(p)) == p


def test_experiment_templates_are_valid():
    for name in ("experiment_digits", "experiment_imdb"):
        p = templates.load(name)
        assert p["version"] == VERSION and p["experiment"]["parameters"]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"parameters": []}, "experiment.parameters", "at least one setting"),
        (
            {"parameters": [{"setting": "layers.nope.units", "values": [1]}]},
            "experiment.parameters[0].setting",
            "no layer 'nope'",
        ),
        (
            {"parameters": [{"setting": "layers.hidden.units", "values": [8, 0]}]},
            "experiment.parameters[0].values[1]",
            "units=0",
        ),
        (
            {"parameters": [{"setting": "layers.hidden.unitz", "values": [8]}]},
            "experiment.parameters[0].values[0]",
            "no parameter 'unitz'",
        ),
        (
            {"parameters": [{"setting": "layers.out.repeat", "values": [1, 2]}]},
            "experiment.parameters[0].setting",
            "is an output",
        ),
        (
            {"parameters": [{"setting": "layers.hidden.repeat", "values": [-1, 2]}]},
            "experiment.parameters[0].values",
            "from 0",
        ),
        (
            {"parameters": [{"setting": "layers.hidden+drop.repeat", "values": [1, 2]}]},
            "experiment.parameters[0].setting",
            "one layer at a time",
        ),
        (
            {"parameters": [{"setting": "layers.drop.include", "values": ["yes"]}]},
            "experiment.parameters[0].values",
            "true and/or false",
        ),
        (
            {"parameters": [{"setting": "compile.loss", "values": ["mse", "msee"]}]},
            "experiment.parameters[0].values[1]",
            "unknown loss",
        ),
        (
            {
                "parameters": [
                    {"setting": "compile.optimizer.learning_rate", "low": 0.1, "high": 0.01}
                ]
            },
            "experiment.parameters[0]",
            'low" < "high',
        ),
        (
            {
                "parameters": [
                    {
                        "setting": "compile.optimizer.learning_rate",
                        "low": 0,
                        "high": 0.1,
                        "log": True,
                    }
                ]
            },
            "experiment.parameters[0].low",
            "above 0",
        ),
        (
            {
                "parameters": [
                    {"setting": "compile.optimizer.learning_rate", "low": 0.001, "high": 0.1}
                ],
                "search": "grid",
            },
            "experiment.search",
            "a grid needs",
        ),
        (
            {"parameters": [{"setting": "fit.epochs", "values": [1, 2]}]},
            "experiment.parameters[0].setting",
            "cannot vary",
        ),
        (
            {
                "parameters": [
                    {"setting": "layers.hidden.units", "values": [8], "low": 1, "high": 2}
                ]
            },
            "experiment.parameters[0]",
            "not both",
        ),
        ({"search": "bayes"}, "experiment.search", "unknown search"),
        ({"metric": "val_acc"}, "experiment.metric", "Did you mean 'val_accuracy'"),
        ({"mode": "up"}, "experiment.mode", '"min" or "max"'),
        ({"trials": 0}, "experiment.trials", "whole number"),
        ({"concurrency": 1.5}, "experiment.concurrency", "whole number"),
        ({"max_minutes": -1}, "experiment.max_minutes", "above 0"),
        ({"early_stopping": {"method": "hyperband"}}, "experiment.early_stopping.method", "asha"),
        (
            {"early_stopping": {"reduction_factor": 1}},
            "experiment.early_stopping.reduction_factor",
            "from 2",
        ),
        ({"budget": 3}, "experiment.budget", "unknown field"),
    ],
)
def test_bad_sections_are_refused_with_field_and_fix(change, field, words):
    with pytest.raises(ProjectError) as err:
        validate(_digits(**change))
    fields = [f for f, _ in err.value.problems]
    assert field in fields, err.value.problems
    assert words in str(err.value)


def test_validation_metric_needs_validation():
    p = _digits()
    p["fit"]["validation"] = {"method": "none"}
    with pytest.raises(ProjectError, match=re.escape("set fit.validation to holdout or split")):
        validate(p)
    p["fit"]["validation"] = {"method": "kfold", "k": 2}
    with pytest.raises(ProjectError, match="K-fold trains k models per trial"):
        validate(p)


def test_defaults_fill_the_section():
    section = spec.defaults(validate(_digits(metric="val_accuracy"))["experiment"])
    assert section["search"] == "grid" and section["trials"] == 2
    assert section["mode"] == "max" and section["concurrency"] == 2
    ranged = spec.defaults({"parameters": [{"setting": "fit.batch_size", "low": 16, "high": 64}]})
    assert ranged["search"] == "random" and ranged["trials"] == 10 and ranged["mode"] == "min"


def test_grid_lists_combinations_cut_to_trials():
    section = spec.defaults(
        {
            "parameters": [
                {"setting": "a", "values": [1, 2]},
                {"setting": "b", "values": ["x", "y", "z"]},
            ],
            "trials": 4,
        }
    )
    assert spec.grid(section) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]


# --------------------------------------------------------------------------- applying values


def test_apply_sets_every_kind_of_setting():
    p = validate(_digits())
    v = spec.apply(
        p,
        {
            "layers.hidden+out.activation": "tanh",
            "compile.loss": "mse",
            "compile.optimizer": "Adam",
            "compile.optimizer.learning_rate": 0.01,
            "fit.batch_size": 64,
            "data.options.label_encoding": "integer",
        },
    )
    assert "experiment" not in v and "experiment" in p
    assert v["model"]["layers"][0]["config"]["activation"] == "tanh"
    assert v["model"]["layers"][2]["config"]["activation"] == "tanh"
    assert v["compile"]["optimizer"] == {"class_name": "Adam", "config": {"learning_rate": 0.01}}
    assert v["compile"]["loss"] == "mse" and v["fit"]["batch_size"] == 64
    assert v["data"]["options"]["label_encoding"] == "integer"


@pytest.mark.parametrize(
    "params, names",
    [
        ({"layers.hidden.repeat": 1}, ["hidden", "drop", "out"]),
        ({"layers.hidden.repeat": 2}, ["hidden", "hidden_2", "drop", "out"]),
        (
            {"layers.hidden.repeat": 3, "layers.hidden.units": 32},
            ["hidden", "hidden_2", "hidden_3", "drop", "out"],
        ),
        ({"layers.drop.include": False}, ["hidden", "out"]),
        ({"layers.drop.repeat": 0, "layers.hidden.repeat": 2}, ["hidden", "hidden_2", "out"]),
        (
            {"layers.drop.include": True, "layers.hidden.repeat": 2},
            ["hidden", "hidden_2", "drop", "out"],
        ),
    ],
)
def test_structural_variation_builds_the_right_models(params, names):
    from builder.build import build_model

    variant = validate(spec.apply(validate(_digits()), params))
    model = build_model(variant)
    assert [layer.name for layer in model.layers] == names
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden")]
    units = params.get("layers.hidden.units", 16)
    assert all(layer.units == units for layer in hidden)
    assert model.output_shape == (None, 10)


def test_repeat_in_a_graph_rewires_readers():
    p = project(
        [
            ("a", "Dense", {"units": 4}),
            ("b", "Dense", {"units": 4}, ["a"]),
            ("c", "Dense", {"units": 4}, ["a"]),
            ("m", "Concatenate", {}, ["b", "c"]),
        ],
        shape=(8,),
    )
    p["version"] = 2
    v = validate(spec.apply(validate(p), {"layers.b.repeat": 2}))
    links = {lay["name"]: lay.get("inbound") for lay in v["model"]["layers"]}
    assert links["b_2"] in (None, ["b"]) and links["m"] == ["b_2", "c"]
    p["experiment"] = {
        "parameters": [{"setting": "layers.a.repeat", "values": [1, 2]}],
        "metric": "loss",
    }
    with pytest.raises(ProjectError, match="only a layer in a chain can be repeated"):
        validate(p)


# --------------------------------------------------------------------------- records


def test_best_and_summary_follow_the_mode():
    record = {
        "id": "e",
        "path": "/x",
        "executor": "local",
        "metric": "val_loss",
        "mode": "min",
        "trials": [
            {
                "id": "t1",
                "params": {"a": 1},
                "state": "finished",
                "metric": 0.5,
                "epochs": 2,
                "run": "/r1",
                "curve": [0.6, 0.5],
                "message": "",
            },
            {
                "id": "t2",
                "params": {"a": 2},
                "state": "failed",
                "metric": 0.1,
                "epochs": 1,
                "run": "/r2",
                "curve": [0.1],
                "message": "NaN",
            },
            {
                "id": "t3",
                "params": {"a": 3},
                "state": "stopped",
                "metric": 0.4,
                "epochs": 1,
                "run": "/r3",
                "curve": [0.4],
                "message": "",
            },
        ],
    }
    assert runner.best(record) == {"id": "t3", "params": {"a": 3}, "metric": 0.4}
    record["mode"] = "max"
    record["best"] = runner.best(record)
    assert record["best"]["id"] == "t1"
    doc = runner.summary(record)
    assert set(doc) == {"experiment", "executor", "metric", "mode", "trials", "best"}
    assert all(
        set(t) == {"id", "params", "state", "metric", "epochs", "run"} for t in doc["trials"]
    )


# --------------------------------------------------------------------------- marking settings


@pytest.mark.parametrize(
    "setting, current, hint, expected",
    [
        ("layers.hidden.units", 16, None, {"values": [8, 16, 32]}),
        ("layers.hidden.units", 1, {"type": "int", "min": 1}, {"values": [1, 2, 3]}),
        ("fit.seed", 0, None, {"values": [0, 1, 2]}),
        ("fit.batch_size", 512, {"type": "int", "min": 1}, {"values": [256, 512, 1024]}),
        (
            "compile.optimizer.learning_rate",
            0.001,
            None,
            {"low": 0.0001, "high": 0.01, "log": True},
        ),
        (
            "layers.drop.rate",
            0.5,
            {"type": "float", "min": 0, "max": 1},
            {"values": [0.25, 0.5, 0.75]},
        ),
        (
            "layers.drop.rate",
            0.2,
            {"type": "float", "min": 0, "max": 1},
            {"values": [0.1, 0.2, 0.4]},
        ),
        ("layers.hidden.use_bias", True, {"type": "bool"}, {"values": [True, False]}),
        (
            "layers.hidden.activation",
            "relu",
            {"choices": ["relu", "sigmoid", "tanh"]},
            {"values": ["relu", "tanh"]},
        ),
        (
            "layers.hidden.activation",
            "selu",
            {"choices": ["relu", "selu"]},
            {"values": ["selu", "relu"]},
        ),
        (
            "compile.optimizer",
            "RMSprop",
            {"choices": ["SGD", "RMSprop", "Adam"]},
            {"values": ["RMSprop", "Adam"]},
        ),
        (
            "compile.loss",
            "binary_crossentropy",
            {"choices": ["binary_crossentropy", "mse"]},
            {"values": ["binary_crossentropy", "mse"]},
        ),
        ("layers.hidden.repeat", 1, None, {"values": [1, 2, 3]}),
    ],
)
def test_suggest_varies_around_the_current_value(setting, current, hint, expected):
    assert spec.suggest(setting, current, hint) == {"setting": setting, **expected}


def test_addresses_are_the_ones_the_section_uses():
    assert spec.layer_setting("hidden", "units") == "layers.hidden.units"
    assert spec.compile_setting() == "compile.optimizer"
    assert spec.compile_setting("learning_rate") == "compile.optimizer.learning_rate"
    assert spec.compile_setting("loss") == "compile.loss"
    assert spec.fit_setting("batch_size") == "fit.batch_size"


def test_mark_and_unmark_varied_settings():
    p = _digits()
    p.pop("experiment")
    marked = spec.mark_varied(p, "layers.hidden.units", 16)
    assert "experiment" not in p  # a copy
    section = validate(marked)["experiment"]
    assert section["parameters"] == [{"setting": "layers.hidden.units", "values": [8, 16, 32]}]
    assert (section["search"], section["metric"], section["mode"]) == ("grid", "val_loss", "min")
    # A range turns the grid into a random search; marking again replaces the entry.
    marked = spec.mark_varied(marked, "compile.optimizer.learning_rate", 0.01)
    marked = spec.mark_varied(marked, "layers.hidden.units", 32)
    section = validate(marked)["experiment"]
    assert section["search"] == "random"
    assert list(spec.varied(marked)) == ["compile.optimizer.learning_rate", "layers.hidden.units"]
    assert spec.varied(marked)["layers.hidden.units"]["values"] == [16, 32, 64]
    assert spec.describe(spec.varied(marked)["compile.optimizer.learning_rate"]) == (
        "0.001 to 0.1 (log scale)"
    )
    one = spec.unmark_varied(marked, "layers.hidden.units")
    assert list(spec.varied(one)) == ["compile.optimizer.learning_rate"]
    assert "experiment" not in spec.unmark_varied(one, "compile.optimizer.learning_rate")


def test_marking_without_validation_compares_on_the_training_loss():
    p = _digits()
    p.pop("experiment")
    p["fit"]["validation"] = {"method": "none"}
    section = validate(spec.mark_varied(p, "fit.seed", 0))["experiment"]
    assert (section["metric"], section["mode"]) == ("loss", "min")


@pytest.mark.parametrize(
    "early, epochs, expected",
    [
        ({"method": "asha"}, 30, (3, 2)),
        ({"method": "asha"}, 8, (1, 2)),
        ({"method": "asha", "grace_period": 5, "reduction_factor": 3}, 30, (5, 3)),
        ({"method": "asha", "grace_period": 50}, 20, (20, 2)),
    ],
)
def test_asha_rungs_default_to_a_tenth_of_the_epochs(early, epochs, expected):
    asha = spec.asha_settings(early, epochs)
    assert (asha["grace_period"], asha["reduction_factor"]) == expected
