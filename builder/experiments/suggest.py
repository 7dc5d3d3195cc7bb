"""Marking settings to vary: the addresses of settings, and values worth trying.

``suggest`` proposes a parameter entry around a setting's current value (half, the same
and double; a log range for a learning rate; another activation or loss), and
``mark_varied`` / ``unmark_varied`` add it to or drop it from a copy of the project's
experiment section (the forms' "vary" boxes). Imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import copy
import json

from builder import fields
from builder.experiments.section import default_mode
from builder.experiments.validate import metric_names
from builder.values import is_int, is_number


def layer_setting(layer: str, argument: str) -> str:
    """The address of a layer's Keras argument: ``layers.<layer>.<argument>``."""
    return f"layers.{layer}.{argument}"


def compile_setting(argument: str | None = None) -> str:
    """``compile.optimizer`` (the class), ``compile.optimizer.<argument>`` or, for
    ``"loss"``, ``compile.loss``."""
    if argument == "loss":
        return "compile.loss"
    return "compile.optimizer" + (f".{argument}" if argument else "")


def fit_setting(name: str) -> str:
    """``fit.batch_size`` / ``fit.seed`` (the fit settings an experiment can vary)."""
    return f"fit.{name}"


def describe(entry: dict) -> str:
    """A parameter entry in words: ``8, 16, 32`` or ``0.0001 to 0.01 (log scale)``."""
    if "values" in entry:
        return ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in entry["values"])
    return f"{entry.get('low')} to {entry.get('high')}" + (
        " (log scale)" if entry.get("log") else ""
    )


def varied(project: dict) -> dict[str, dict]:
    """The project's varied settings: {setting: its parameter entry}."""
    params = (project.get("experiment") or {}).get("parameters") or []
    return {p["setting"]: p for p in params if isinstance(p, dict) and "setting" in p}


# Another value worth trying first for a setting of this value (the book's experiments).
_ALTERNATIVE = {
    "relu": "tanh",
    "tanh": "relu",
    "binary_crossentropy": "mse",
    "categorical_crossentropy": "mse",
    "mse": "mae",
    "RMSprop": "Adam",
    "Adam": "RMSprop",
}


def suggest(setting: str, current, hint: dict | None = None) -> dict:
    """A parameter entry that varies ``setting`` around its ``current`` value.

    ``hint`` is the setting's schema (``type``, ``min``, ``max``, ``choices``), when known.
    Whole numbers: half, the same and double (``units`` 16 -> 8, 16, 32; a seed: the next
    two); a learning rate: a log-scale range from a tenth to ten times the current one;
    other numbers: half, the same and double within their bounds; true/false: both; a
    choice: the current one and another (relu and tanh, binary_crossentropy and mse, ...).

        >>> suggest("layers.hidden.units", 16)["values"]
        [8, 16, 32]
    """
    hint = hint or {}
    name = setting.rsplit(".", 1)[-1]
    entry: dict = {"setting": setting}
    hi = hint.get("max")

    def clip(values):
        kept = []
        for v in values:
            if fields.in_bounds(hint, v) and v not in kept:
                kept.append(v)
        return kept

    if name == "repeat":
        entry["values"] = [1, 2, 3]
    elif name == "include" or isinstance(current, bool) or hint.get("type") == "bool":
        entry["values"] = [bool(current), not bool(current)]
    elif is_int(current) and hint.get("type") != "float":
        c = int(current)
        values = [c, c + 1, c + 2] if name == "seed" or c < 2 else [c // 2, c, c * 2]
        entry["values"] = sorted(clip(values)) or [c]
    elif is_number(current) and current > 0 and "learning_rate" in name:
        low, high = current / 10, current * 10
        if hi is not None and high > hi:
            high = hi
        entry.update(low=float(f"{low:.3g}"), high=float(f"{high:.3g}"), log=True)
        if not entry["low"] < entry["high"]:
            entry = {"setting": setting, "values": [current]}
    elif is_number(current):
        c = float(current)
        # A fraction (a dropout rate, at most 1): halfway to the bound instead of double.
        up = (c + hi) / 2 if hi is not None and c * 2 >= hi else c * 2
        values = [c / 2, c, up] if c else [0.0, 0.25, 0.5]
        entry["values"] = sorted(clip([float(f"{v:.3g}") for v in values])) or [c]
    else:
        choices = [c for c in hint.get("choices") or [] if c is not None and c != current]
        other = _ALTERNATIVE.get(current)
        if choices and other not in choices:
            other = choices[0]
        entry["values"] = [current] + ([other] if other is not None and other != current else [])
    return entry


def mark_varied(project: dict, setting: str, current, hint: dict | None = None) -> dict:
    """A copy of ``project`` whose experiment varies ``setting`` (``suggest``'s values).

    Without an experiment section one is made: a grid (random search when the setting is
    a range), 2 trials at a time, compared on val_loss (loss without validation). A range
    turns a grid into a random search, as a grid cannot take one. Check the result with
    ``project.validate``: it applies every value.
    """
    doc = copy.deepcopy(project)
    entry = suggest(setting, current, hint)
    section = doc.get("experiment")
    if not isinstance(section, dict):
        names = metric_names(doc)
        metric = "val_loss" if "val_loss" in names else "loss"
        section = {"parameters": [], "search": "grid", "concurrency": 2, "metric": metric}
        section["mode"] = default_mode(metric)
    params = [p for p in section.get("parameters") or [] if p.get("setting") != setting]
    section["parameters"] = params + [entry]
    if "values" not in entry and section.get("search", "grid") == "grid":
        section["search"] = "random"
    doc["experiment"] = section
    return doc


def unmark_varied(project: dict, setting: str) -> dict:
    """A copy of ``project`` that no longer varies ``setting`` (without an experiment
    section once nothing varies)."""
    doc = copy.deepcopy(project)
    section = doc.get("experiment")
    if not isinstance(section, dict):
        return doc
    params = [p for p in section.get("parameters") or [] if p.get("setting") != setting]
    if params:
        section["parameters"] = params
    else:
        doc.pop("experiment")
    return doc
