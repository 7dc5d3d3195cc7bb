"""Edits of a project's model, as pure functions: each returns a new project dict.

The builder page, the one-click fixes and the tests all change models through these, so a
stack stays a stack (no ``inbound`` written) and graph links are rewired the same way
everywhere. Invalid requests raise ProjectError with a message for the user.
"""

from __future__ import annotations

import copy
import re

from builder import catalogue, settings
from builder.project import NAME_RE, ProjectError
from builder.topology import inbound_of, split_ref


def _model(project: dict) -> dict:
    return project["model"]


def is_stack(project: dict) -> bool:
    """No layer names its inputs: every layer reads the one before (Sequential)."""
    return all(not lay.get("inbound") for lay in _model(project)["layers"])


def _sync_stack_outputs(project: dict) -> None:
    model = _model(project)
    if is_stack(project) and len(model["inputs"]) == 1:
        model["outputs"] = [model["layers"][-1]["name"]] if model["layers"] else []


def _index(project: dict, name: str) -> int:
    for i, lay in enumerate(_model(project)["layers"]):
        if lay["name"] == name:
            return i
    raise ProjectError(f"there is no layer named '{name}'.", "model.layers")


def unique_name(project: dict, class_name: str) -> str:
    """Keras-style snake_case name (conv2d_3) not used by any layer or input."""
    # Keras' own to_snake_case: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d.
    base = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    base = re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower()
    used = {lay["name"] for lay in _model(project)["layers"]} | {
        i["name"] for i in _model(project)["inputs"]
    }
    k = 1
    while f"{base}_{k}" in used:
        k += 1
    return f"{base}_{k}"


def _materialise(project: dict) -> None:
    """Write every implicit link as ``inbound`` so list positions stop carrying meaning."""
    links = inbound_of(_model(project))
    for lay in _model(project)["layers"]:
        lay["inbound"] = links[lay["name"]]


def add_layer(
    project: dict,
    class_name: str,
    index: int | None = None,
    config: dict | None = None,
    inbound: list[str] | None = None,
) -> tuple[dict, str]:
    """Insert a new layer (catalogue defaults unless ``config``) at ``index`` (end if None).

    In a stack the new layer simply takes its place in the chain. In a graph it is linked
    after ``inbound`` (default: the layer before it) and the layers that read that one are
    not rewired; use ``insert_before`` to splice into an edge.
    """
    catalogue.get(class_name)
    p = copy.deepcopy(project)
    layers = _model(p)["layers"]
    index = len(layers) if index is None else max(0, min(index, len(layers)))
    name = unique_name(p, class_name)
    new = {
        "name": name,
        "class_name": class_name,
        "config": copy.deepcopy(config)
        if config is not None
        else catalogue.default_config(class_name),
    }
    if is_stack(p) and inbound is None:
        layers.insert(index, new)
        _sync_stack_outputs(p)
        return p, name
    _materialise(p)
    if inbound is None:
        prev = layers[index - 1]["name"] if index > 0 else _model(p)["inputs"][0]["name"]
        inbound = [prev]
    new["inbound"] = list(inbound)
    layers.insert(index, new)
    return p, name


def insert_before(project: dict, target: str, class_name: str, config: dict) -> tuple[dict, str]:
    """Splice a new single-input layer into the edge(s) feeding ``target``."""
    idx = _index(project, target)
    if is_stack(project):
        return add_layer(project, class_name, idx, config)
    p = copy.deepcopy(project)
    _materialise(p)
    layers = _model(p)["layers"]
    name = unique_name(p, class_name)
    src = layers[idx]["inbound"]
    layers.insert(
        idx,
        {
            "name": name,
            "class_name": class_name,
            "config": copy.deepcopy(config),
            "inbound": [src[0]],
        },
    )
    layers[idx + 1]["inbound"] = [name] + src[1:]
    return p, name


def move_layer(project: dict, name: str, index: int) -> dict:
    """Move a layer of a stack to position ``index`` (its final position)."""
    if not is_stack(project):
        raise ProjectError(
            "layers of a graph are ordered by their connections: drag the "
            "connections instead of the layer.",
            "model.layers",
        )
    p = copy.deepcopy(project)
    layers = _model(p)["layers"]
    lay = layers.pop(_index(p, name))
    layers.insert(max(0, min(index, len(layers))), lay)
    _sync_stack_outputs(p)
    return p


def delete_layer(project: dict, name: str) -> dict:
    """Remove a layer; in a graph, its readers take its (first) input instead."""
    p = copy.deepcopy(project)
    idx = _index(p, name)
    model = _model(p)
    if is_stack(p):
        del model["layers"][idx]
        _sync_stack_outputs(p)
        return p
    _materialise(p)
    removed = model["layers"].pop(idx)
    replacement = removed["inbound"][0] if removed["inbound"] else None
    _hand_over_sharing(model, removed)
    for lay in model["layers"]:
        lay["inbound"] = [
            replacement if split_ref(s)[0] == name else s
            for s in lay["inbound"]
            if replacement or split_ref(s)[0] != name
        ]
        _drop_call_refs(lay, name)
    model["outputs"] = [o for o in model["outputs"] if o != name]
    if not model["outputs"] and replacement in {lay["name"] for lay in model["layers"]}:
        model["outputs"] = [replacement]
    return p


def _hand_over_sharing(model: dict, removed: dict) -> None:
    """A deleted shared layer's first further call becomes the layer (its class and
    settings), and the other calls share that one."""
    calls = [lay for lay in model["layers"] if lay.get("shares") == removed["name"]]
    if not calls:
        return
    heir = calls[0]
    del heir["shares"]
    heir["class_name"] = removed["class_name"]
    heir["config"] = copy.deepcopy(removed.get("config", {}))
    for lay in calls[1:]:
        lay["shares"] = heir["name"]


def _drop_call_refs(layer: dict, name: str) -> None:
    """Remove the tensor call arguments of ``layer`` that read ``name``."""
    args = layer.get("inbound_args")
    if not isinstance(args, dict):
        return
    for key, refs in list(args.items()):
        if isinstance(refs, list):
            kept = [r for r in refs if split_ref(r)[0] != name]
            if kept:
                args[key] = kept
            else:
                del args[key]
        elif split_ref(refs)[0] == name:
            del args[key]
    if not args:
        del layer["inbound_args"]


def _renamed(ref: str, name: str, new_name: str) -> str:
    node, index = split_ref(ref)
    return ref if node != name else new_name + (f":{index}" if ":" in ref else "")


def duplicate_layer(project: dict, name: str) -> tuple[dict, str]:
    """A copy right after the original, with the same settings."""
    idx = _index(project, name)
    original = _model(project)["layers"][idx]
    if is_stack(project):
        return add_layer(project, original["class_name"], idx + 1, original.get("config", {}))
    return add_layer(
        project,
        original["class_name"],
        idx + 1,
        original.get("config", {}),
        inbound=list(inbound_of(_model(project))[name]),
    )


def set_layer_config(project: dict, name: str, config: dict) -> dict:
    """Replace a layer's settings after checking them against the catalogue."""
    p = copy.deepcopy(project)
    idx = _index(p, name)
    lay = _model(p)["layers"][idx]
    problems = catalogue.validate_config(lay["class_name"], config, f"model.layers[{idx}]")
    if problems:
        raise ProjectError("\n".join(problems))
    lay["config"] = copy.deepcopy(config)
    return p


def set_param(project: dict, name: str, key: str, value) -> dict:
    """Set one setting; ``None`` removes it (back to Keras' default)."""
    idx = _index(project, name)
    config = dict(_model(project)["layers"][idx].get("config", {}))
    if (
        value is None
        and catalogue.param(_model(project)["layers"][idx]["class_name"], key).get("default")
        is None
    ):
        config.pop(key, None)
    else:
        config[key] = value
    return set_layer_config(project, name, config)


def replace_class(project: dict, name: str, class_name: str, config: dict | None = None) -> dict:
    """Swap a layer's type, keeping the settings the new type also has."""
    entry = catalogue.get(class_name)
    p = copy.deepcopy(project)
    lay = _model(p)["layers"][_index(p, name)]
    known = {prm["name"] for prm in entry["params"]}
    kept = {k: v for k, v in lay.get("config", {}).items() if k in known}
    new_config = catalogue.default_config(class_name)
    new_config.update(kept)
    new_config.update(config or {})
    lay["class_name"], lay["config"] = class_name, new_config
    return p


def rename_layer(project: dict, name: str, new_name: str) -> dict:
    if not NAME_RE.fullmatch(new_name or ""):
        raise ProjectError(
            f"'{new_name}' is not a valid name: use letters, digits and "
            "underscores, starting with a letter.",
            "name",
        )
    model = _model(project)
    if new_name in {lay["name"] for lay in model["layers"]} | {i["name"] for i in model["inputs"]}:
        raise ProjectError(f"'{new_name}' is already used: pick another name.", "name")
    p = copy.deepcopy(project)
    model = _model(p)
    model["layers"][_index(p, name)]["name"] = new_name
    for lay in model["layers"]:
        if lay.get("inbound"):
            lay["inbound"] = [_renamed(s, name, new_name) for s in lay["inbound"]]
        if lay.get("shares") == name:
            lay["shares"] = new_name
        for key, refs in (lay.get("inbound_args") or {}).items():
            lay["inbound_args"][key] = (
                [_renamed(r, name, new_name) for r in refs]
                if isinstance(refs, list)
                else _renamed(refs, name, new_name)
            )
    model["outputs"] = [new_name if o == name else o for o in model["outputs"]]
    for section in ("loss", "metrics", "loss_weights"):
        value = p["compile"].get(section)
        if isinstance(value, dict) and name in value:
            value[new_name] = value.pop(name)
    options = (p.get("data") or {}).get("options")
    targets = options.get("targets") if isinstance(options, dict) else None
    for target in targets if isinstance(targets, list) else []:
        # A CSV column trained by this output keeps training it under its new name.
        if isinstance(target, dict) and target.get("output") == name:
            target["output"] = new_name
    return p


def rename_input(project: dict, name: str, new_name: str) -> dict:
    """The model input ``name`` renamed, with every layer (and output) that reads it."""
    model = _model(project)
    if name not in {i["name"] for i in model["inputs"]}:
        raise ProjectError(f"there is no input named '{name}'.", "model.inputs")
    if not NAME_RE.fullmatch(new_name or ""):
        raise ProjectError(
            f"'{new_name}' is not a valid name: use letters, digits and "
            "underscores, starting with a letter.",
            "name",
        )
    if new_name in {lay["name"] for lay in model["layers"]} | {i["name"] for i in model["inputs"]}:
        raise ProjectError(f"'{new_name}' is already used: pick another name.", "name")
    p = copy.deepcopy(project)
    model = _model(p)
    for inp in model["inputs"]:
        if inp["name"] == name:
            inp["name"] = new_name
    for lay in model["layers"]:
        if lay.get("inbound"):
            lay["inbound"] = [new_name if s == name else s for s in lay["inbound"]]
    model["outputs"] = [new_name if o == name else o for o in model["outputs"]]
    return p


def set_input(project: dict, name: str, shape: list, dtype: str = "float32") -> dict:
    p = copy.deepcopy(project)
    for inp in _model(p)["inputs"]:
        if inp["name"] == name:
            inp["shape"], inp["dtype"] = list(shape), dtype
            return p
    raise ProjectError(f"there is no input named '{name}'.", "model.inputs")


def set_fit(project: dict, key: str, value) -> dict:
    """Set one fit setting (``validation``: the whole method dict, e.g. ``{"method":
    "holdout", "fraction": 0.2}``), checked and normalised like a project file's."""
    if key not in settings.FIT_KEYS:
        raise ProjectError(
            f"there is no fit setting {key!r}: use one of {', '.join(settings.FIT_KEYS)}.",
            "fit",
        )
    p = copy.deepcopy(project)
    fit = dict(p.get("fit") or {})
    fit[key] = copy.deepcopy(value)
    problems: list = []
    fit = settings.fit_section(fit, problems)
    if problems:
        raise ProjectError(problems)
    p["fit"] = fit
    return p


def follow_data(project: dict) -> tuple[dict, str | None]:
    """The single model input set to what the project's data gives, and a sentence saying
    what changed (None, and the project unchanged, when nothing did or the model has
    several inputs or the data cannot be described)."""
    from builder.data import DataError, describe

    try:
        spec = describe(project["data"]).input_spec
    except DataError:
        return project, None
    inputs = _model(project)["inputs"]
    if len(inputs) != 1:
        return project, None
    have = (inputs[0]["shape"], inputs[0].get("dtype", "float32"))
    if have == (spec["shape"], spec["dtype"]):
        return project, None
    project = set_input(project, inputs[0]["name"], spec["shape"], spec["dtype"])
    return project, (
        f"Model input '{inputs[0]['name']}' now takes {tuple(spec['shape'])} "
        f"({spec['dtype']}) to match the data."
    )


def retrain(project: dict, epochs: int) -> dict:
    """The book's last step: train a fresh model on all the training data (no validation)
    for ``epochs``; callbacks that watch a validation metric are dropped with it."""
    callbacks = [
        cb
        for cb in settings.sections(project)[1]["callbacks"]
        if not str(cb.get("config", {}).get("monitor", "")).startswith("val_")
    ]
    p = set_fit(project, "epochs", epochs)
    p = set_fit(p, "validation", {"method": "none"})
    return set_fit(p, "callbacks", callbacks)


def set_data_option(project: dict, key: str, value) -> dict:
    """Set one option of the project's dataset, checked as a project file's data section."""
    from builder.data import registry

    p = copy.deepcopy(project)
    data = p.setdefault("data", {})
    data["options"] = {**(data.get("options") or {}), key: copy.deepcopy(value)}
    problems = registry.validate_data_settings(data)
    if problems:  # each message starts with the field it is about
        raise ProjectError([("", message) for message in problems])
    return p


def add_after(project: dict, target: str, class_name: str, config: dict) -> tuple[dict, str]:
    """A new single-input layer reading ``target``, taking its place as a model output
    (compile settings keyed by output name follow); layers that read ``target`` still do."""
    catalogue.get(class_name)
    idx = _index(project, target)
    layers = _model(project)["layers"]
    if is_stack(project) and idx == len(layers) - 1:
        return add_layer(project, class_name, None, config)
    p = copy.deepcopy(project)
    _materialise(p)
    name = unique_name(p, class_name)
    model = _model(p)
    model["layers"].insert(
        idx + 1,
        {
            "name": name,
            "class_name": class_name,
            "config": copy.deepcopy(config),
            "inbound": [target],
        },
    )
    model["outputs"] = [name if out == target else out for out in model["outputs"]]
    for key in ("loss", "metrics", "loss_weights"):
        value = (p.get("compile") or {}).get(key)
        if isinstance(value, dict) and target in value:
            p["compile"][key] = {name if k == target else k: v for k, v in value.items()}
    return p, name
