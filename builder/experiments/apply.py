"""Applying a trial's values to a project: ``apply(project, {setting: value})``.

A copy of the project with each setting (``spec``'s docstring lists how they are
addressed) set, layers omitted or repeated, and the optimizer's arguments kept to those the
chosen optimizer takes. The exported Ray Tune script carries these functions verbatim
(``experiments.export``), so they use only plain Python and ``topology.inbound_of``.
"""

from __future__ import annotations

import copy
import itertools

from builder.experiments.section import OPTIMIZERS
from builder.topology import inbound_of


def _layer_index(project: dict, name: str) -> int:
    for i, layer in enumerate(project["model"]["layers"]):
        if layer.get("name") == name:
            return i
    raise KeyError(name)


def _split_setting(setting: str) -> tuple[str, ...]:
    return tuple(setting.split("."))


def apply(project: dict, params: dict) -> dict:
    """A copy of ``project`` with ``params`` ({setting: value}) applied, without its
    experiment section: what one trial trains.

    Structural settings apply first (``include`` false removes a layer, ``repeat`` n puts
    n copies in a row, named ``<name>``, ``<name>_2``, ...); a layer setting then applies to
    every copy of its layer.
    """
    doc = copy.deepcopy(project)
    doc.pop("experiment", None)
    model = doc["model"]
    structural = [
        (s, v)
        for s, v in params.items()
        if s.startswith("layers.")
        and _split_setting(s)[-1] in ("include", "repeat")
        and len(_split_setting(s)) == 3
    ]
    copies: dict[str, list[str]] = {}
    for setting, value in structural:
        _, name, what = _split_setting(setting)
        if what == "include" and value is False:
            _omit(model, name)
        elif what == "repeat" and int(value) == 0:
            _omit(model, name)
        elif what == "repeat":
            copies[name] = _repeat(model, name, int(value))
    for setting, value in params.items():
        parts = _split_setting(setting)
        if parts[0] == "layers":
            if parts[2] in ("include", "repeat"):
                continue
            key = ".".join(parts[2:])
            for copy_name in [c for name in parts[1].split("+") for c in copies.get(name, [name])]:
                try:
                    layer = model["layers"][_layer_index(doc, copy_name)]
                except KeyError:
                    continue  # the layer was omitted in this trial
                layer.setdefault("config", {})[key] = value
        elif parts[:2] == ("compile", "optimizer"):
            opt = doc["compile"].get("optimizer", {"class_name": "RMSprop", "config": {}})
            if isinstance(opt, str):
                opt = {"class_name": opt, "config": {}}
            if len(parts) == 2:
                # A new optimizer keeps the learning rate, and the settings it understands
                # that were set away from the old optimizer's defaults; the rest are its own.
                old = OPTIMIZERS.get(opt.get("class_name"), {})
                allowed = OPTIMIZERS.get(value, {})
                opt = {
                    "class_name": value,
                    "config": {
                        k: v
                        for k, v in opt.get("config", {}).items()
                        if k in allowed and (k == "learning_rate" or k not in old or v != old[k])
                    },
                }
            else:
                opt.setdefault("config", {})[parts[2]] = value
            doc["compile"]["optimizer"] = opt
        elif parts == ("compile", "loss"):
            doc["compile"]["loss"] = value
        elif parts[0] == "fit":
            doc["fit"][parts[1]] = value
        elif parts[:2] == ("data", "options"):
            doc["data"].setdefault("options", {})[parts[2]] = value
    return doc


def _readers(model: dict, name: str) -> list[dict]:
    """Layers that take ``name``'s output, made explicit (``inbound`` absent = previous)."""
    links = inbound_of(model)
    return [lay for lay in model["layers"] if name in links[lay["name"]]]


def _make_inbound_explicit(model: dict) -> None:
    links = inbound_of(model)
    for lay in model["layers"]:
        lay["inbound"] = links[lay["name"]]


def _omit(model: dict, name: str) -> None:
    sources = inbound_of(model)[name]
    _make_inbound_explicit(model)
    for lay in model["layers"]:
        lay["inbound"] = [s for src in lay["inbound"] for s in (sources if src == name else [src])]
    model["layers"] = [lay for lay in model["layers"] if lay["name"] != name]
    _drop_implicit_inbound(model)


def _repeat(model: dict, name: str, times: int) -> list[str]:
    """Put ``times`` copies of layer ``name`` in a row; return the copies' names."""
    taken = {lay["name"] for lay in model["layers"]} | {i["name"] for i in model["inputs"]}
    names = [name]
    for k in range(2, times + 1):
        candidate, n = f"{name}_{k}", k
        while candidate in taken:
            n += 100
            candidate = f"{name}_{n}"
        taken.add(candidate)
        names.append(candidate)
    _make_inbound_explicit(model)
    index = next(i for i, lay in enumerate(model["layers"]) if lay["name"] == name)
    original = model["layers"][index]
    new = []
    for previous, copy_name in itertools.pairwise(names):
        lay = copy.deepcopy(original)
        lay["name"], lay["inbound"] = copy_name, [previous]
        lay.pop("position", None)
        new.append(lay)
    last = names[-1]
    for lay in model["layers"]:
        if lay is not original:
            lay["inbound"] = [last if src == name else src for src in lay["inbound"]]
    model["layers"][index + 1 : index + 1] = new
    _drop_implicit_inbound(model)
    return names


def _drop_implicit_inbound(model: dict) -> None:
    """Remove ``inbound`` where it only names the previous entry (keeps stacks plain)."""
    previous = model["inputs"][0]["name"] if model["inputs"] else None
    for lay in model["layers"]:
        if lay.get("inbound") == [previous]:
            lay.pop("inbound")
        previous = lay["name"]
