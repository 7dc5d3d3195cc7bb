"""build(project) -> a compiled keras.Model, its layers in ``builder.topology`` order.

A plain stack becomes ``keras.Sequential`` (what the book writes); anything else becomes a
functional ``keras.Model``. Only a valid project is built: call ``check`` first to show the
user why one is not.
"""
from __future__ import annotations

from builder.checker import check, make_layer
from builder.project import ProjectError, graph_order, is_sequential, validate
from builder.topology import inbound_of


class BuildError(ProjectError):
    """The project does not describe a model Keras can build; the message says why."""


def _invalid(project: dict) -> BuildError:
    result = check(project)
    lines = result.errors + [r.error for r in result.layers if r.error and not r.tentative]
    lines = lines or [r.error for r in result.layers if r.error]
    return BuildError("the model cannot be built yet:\n" + "\n".join(f"- {m}" for m in lines))


def build_model(project: dict):
    """The uncompiled Keras model (Sequential for a stack, functional otherwise)."""
    import keras

    try:
        project = validate(project)
    except ProjectError:
        raise _invalid(project) from None
    model = project["model"]
    name = _model_name(project)
    try:
        if is_sequential(project):
            inp = model["inputs"][0]
            layers = [keras.Input(shape=tuple(inp["shape"]), dtype=inp.get("dtype", "float32"),
                                  name=inp["name"])]
            layers += [make_layer(lay["class_name"], lay.get("config", {}), lay["name"])
                       for lay in model["layers"]]
            return keras.Sequential(layers, name=name)
        tensors = {}
        for inp in model["inputs"]:
            tensors[inp["name"]] = keras.Input(shape=tuple(inp["shape"]),
                                               dtype=inp.get("dtype", "float32"),
                                               name=inp["name"])
        links = inbound_of(model)
        for lay in graph_order(project):
            args = [tensors[s] for s in links[lay["name"]]]
            layer = make_layer(lay["class_name"], lay.get("config", {}), lay["name"])
            tensors[lay["name"]] = layer(args if len(args) > 1 else args[0])
        inputs = [tensors[i["name"]] for i in model["inputs"]]
        outputs = [tensors[o] for o in model["outputs"]]
        return keras.Model(inputs=inputs if len(inputs) > 1 else inputs[0],
                           outputs=outputs if len(outputs) > 1 else outputs[0], name=name)
    except (ValueError, TypeError, KeyError):
        raise _invalid(project) from None


def _model_name(project: dict) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9_]+", "_", project.get("name", "model")).strip("_").lower()
    return slug[:60] or "model"


def optimizer(project: dict):
    import keras

    opt = project["compile"].get("optimizer", {"class_name": "RMSprop", "config": {}})
    if isinstance(opt, str):
        opt = {"class_name": opt, "config": {}}
    return getattr(keras.optimizers, opt["class_name"])(**opt.get("config", {}))


def compile_args(project: dict) -> dict:
    """Keyword arguments for ``model.compile`` (by keyword: Keras 3's third positional
    argument is loss_weights)."""
    comp = project["compile"]
    args = {"optimizer": optimizer(project), "loss": comp.get("loss", "mse"),
            "metrics": comp.get("metrics", [])}
    if comp.get("loss_weights"):
        args["loss_weights"] = comp["loss_weights"]
    return args


def build(project: dict, compile: bool = True):
    """A keras.Model built and compiled as the project says. Raises BuildError (with the
    checker's plain messages) when the model is not valid."""
    model = build_model(project)
    if compile:
        model.compile(**compile_args(validate(project)))
    return model
