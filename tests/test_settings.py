"""The settings schema (builder/settings.json): it agrees with Keras, and validate() gives
each compile and fit setting one spelling with every default filled in."""

import copy
import inspect
import json
import math
from pathlib import Path

import pytest

from builder import settings, templates
from builder.project import ProjectError, validate
from tests.helpers import project

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DENSE = ("d1", "Dense", {"units": 4, "activation": "relu"})


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
    return a == b


def _signature(cls) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }


# --------------------------------------------------------------------------- drift


@pytest.mark.parametrize("name", list(settings.OPTIMIZERS))
def test_optimizer_names_and_defaults_are_keras(name):
    import keras

    signature = _signature(getattr(keras.optimizers, name))
    for spec in settings.OPTIMIZERS[name]["params"]:
        assert spec["name"] in signature, f"{name} has no argument {spec['name']}"
        assert _same(spec["default"], signature[spec["name"]]), (
            f"{name}.{spec['name']}: schema {spec['default']}, Keras {signature[spec['name']]}"
        )
    made = getattr(keras.optimizers, name)(**settings.optimizer_defaults(name))
    assert type(made).__name__ == name


@pytest.mark.parametrize("name", list(settings.CALLBACKS))
def test_callback_names_and_defaults_are_keras(name):
    import keras

    signature = _signature(getattr(keras.callbacks, name))
    for spec in settings.CALLBACKS[name]["params"]:
        assert spec["name"] in signature, f"{name} has no argument {spec['name']}"
        assert _same(spec["default"], signature[spec["name"]]), (
            f"{name}.{spec['name']}: schema {spec['default']}, Keras {signature[spec['name']]}"
        )


def test_loss_and_metric_names_are_keras_identifiers():
    import keras

    for name in settings.LOSSES:
        assert callable(keras.losses.get(name)), name
    for name in settings.METRICS:
        assert keras.metrics.get(name) is not None, name
    assert settings.METRIC_ALIASES == {"rmse": "root_mean_squared_error"}


def test_fit_settings_are_arguments_of_model_fit():
    import keras

    fit = inspect.signature(inspect.unwrap(keras.Model.fit)).parameters
    for name in ("epochs", "batch_size", "shuffle", "validation_split", "callbacks"):
        assert name in fit
    assert "seed" not in fit  # keras.utils.set_random_seed, documented in the schema's help


def test_every_metric_compiles_and_trains_one_step():
    """Each metric name works in model.compile (validate accepting it is not enough)."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    names = [m for m, e in settings.METRICS.items() if e["task"] == "regression"]
    model.compile(optimizer="rmsprop", loss="mse", metrics=names)
    logs = model.train_on_batch(np.ones((4, 3)), np.ones((4, 2)), return_dict=True)
    assert len(logs) == len(names) + 1


# --------------------------------------------------------------------------- one spelling


def test_bare_optimizer_name_becomes_the_class_with_every_default():
    p = project([DENSE])
    p["compile"]["optimizer"] = "rmsprop"
    opt = validate(p)["compile"]["optimizer"]
    assert opt == {"class_name": "RMSprop", "config": settings.optimizer_defaults("RMSprop")}
    assert opt["config"] == {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-07,
        "centered": False,
    }


def test_missing_fit_settings_are_filled_from_the_schema():
    p = project([DENSE])
    p["version"] = 2  # version 1 files keep their own meaning of a missing validation
    p["fit"] = {"callbacks": [{"class_name": "EarlyStopping", "config": {"patience": 2}}]}
    fit = validate(p)["fit"]
    assert fit["batch_size"] == 32 and fit["epochs"] == 10 and fit["shuffle"] is True
    assert fit["validation"] == {"method": "split", "fraction": 0.2}
    cb = fit["callbacks"][0]
    assert cb["config"]["patience"] == 2 and cb["config"]["monitor"] == "val_loss"
    assert set(cb["config"]) == {s["name"] for s in settings.CALLBACKS["EarlyStopping"]["params"]}


def test_validation_defaults_per_method():
    p = project([DENSE])
    p["fit"]["validation"] = {"method": "kfold"}
    assert validate(p)["fit"]["validation"] == {"method": "kfold", "k": 4}
    p["fit"]["validation"] = {"method": "holdout"}
    with pytest.raises(ProjectError, match="either 'count'"):
        validate(p)


def _two_outputs(loss, metrics, weights=None):
    p = project(
        [("a", "Dense", {"units": 1}, ["x"]), ("b", "Dense", {"units": 1}, ["x"])],
        outputs=["a", "b"],
        loss=loss,
    )
    p["compile"]["metrics"] = metrics
    p["compile"]["loss_weights"] = weights
    return p


def test_several_outputs_get_one_setting_each():
    comp = validate(_two_outputs("mse", ["mae"]))["compile"]
    assert comp["loss"] == {"a": "mse", "b": "mse"}
    assert comp["metrics"] == {"a": ["mae"], "b": ["mae"]}
    assert comp["loss_weights"] is None
    comp = validate(_two_outputs({"a": "mae"}, {"b": ["mse"]}, {"b": 0.5}))["compile"]
    assert comp["loss"] == {"a": "mae", "b": "mae"}
    assert comp["metrics"] == {"a": [], "b": ["mse"]}
    assert comp["loss_weights"] == {"a": 1.0, "b": 0.5}
    assert validate(_two_outputs("mse", [], {"a": 1, "b": 1.0}))["compile"]["loss_weights"] is None


def test_one_output_reads_a_name_and_a_list():
    p = project([DENSE], loss="mse")
    p["compile"]["loss"] = {"d1": "mae"}
    p["compile"]["metrics"] = {"d1": ["rmse"]}
    comp = validate(p)["compile"]
    assert comp["loss"] == "mae"
    assert comp["metrics"] == ["root_mean_squared_error"]


def test_normalising_twice_changes_nothing():
    for name in templates.names():
        once = validate(templates.load(name))
        assert validate(once) == once


@pytest.mark.parametrize("name", sorted(p.stem for p in TEMPLATES.glob("*.json")))
def test_templates_keep_their_meaning(name):
    """Every setting a template writes is kept; the optimizer Keras builds is the same."""
    import keras

    raw = json.loads((TEMPLATES / f"{name}.json").read_text())
    normal = validate(copy.deepcopy(raw))
    for key, value in raw["fit"].items():
        assert normal["fit"][key] == value, key
    for key in ("loss", "metrics", "loss_weights"):
        assert normal["compile"][key] == raw["compile"][key], key
    before = getattr(keras.optimizers, raw["compile"]["optimizer"]["class_name"])(
        **raw["compile"]["optimizer"]["config"]
    ).get_config()
    opt = normal["compile"]["optimizer"]
    after = getattr(keras.optimizers, opt["class_name"])(**opt["config"]).get_config()
    before.pop("name"), after.pop("name")
    assert before == after


def test_bad_settings_name_the_field():
    p = project([DENSE])
    p["compile"]["optimizer"] = {"class_name": "Adam", "config": {"beta_1": 1.5}}
    p["fit"]["callbacks"] = [{"class_name": "ReduceLROnPlateau", "config": {"factor": 1.0}}]
    with pytest.raises(ProjectError) as err:
        validate(p)
    fields = [f for f, _ in err.value.problems]
    assert fields == ["compile.optimizer.config.beta_1", "fit.callbacks[0].config.factor"]
    assert "must be from 0 to 1, got 1.5" in str(err.value)
    assert "must be above 0 and below 1, got 1.0" in str(err.value)


def test_sections_of_a_project_being_fixed_read_as_defaults():
    p = project([DENSE])
    p["fit"]["batch_size"] = "many"
    compile_, fit = settings.sections(p)
    assert fit == settings.default_fit()
    assert compile_["optimizer"]["config"]["rho"] == 0.9
    assert settings.normalise(p)["fit"]["batch_size"] == "many"
