"""The experiment section's keys, defaults and caps, and the grid a grid search walks.

The keys, their types, defaults, bounds and choices are data: ``section.json`` beside this
module (``SCHEMA``), in ``builder.fields``' vocabulary; a cap named by ``max_limit`` is
the one in ``builder.limits``. ``defaults`` fills every optional key of the section
(``spec``'s docstring shows it whole), the derived ones (search, trials, mode) in code;
``asha_settings`` fills ASHA's. Imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

from builder import limits, settings

SCHEMA_PATH = Path(__file__).with_name("section.json")
SCHEMA: dict = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
FIELDS: dict[str, dict] = SCHEMA["fields"]
SEARCHES = tuple(FIELDS["search"]["choices"])
MODES = tuple(FIELDS["mode"]["choices"])
_KEYS = set(FIELDS)
_PARAM_KEYS = set(SCHEMA["parameter_keys"])
_ASHA_KEYS = set(SCHEMA["early_stopping"])


def upper_bound(spec: dict) -> float | None:
    """A field's largest value: its ``max``, or the ``builder.limits`` cap it names."""
    if "max_limit" in spec:
        return float(getattr(limits, spec["max_limit"]))
    return spec.get("max")


# (key, lowest, highest) of the whole-number keys, in the schema's order.
WHOLE_NUMBERS: tuple[tuple[str, int, int], ...] = tuple(
    (name, spec["min"], int(upper_bound(spec) or 0))
    for name, spec in FIELDS.items()
    if spec["type"] == "int"
)
FIT_SETTINGS = ("batch_size", "seed")
# Each optimizer's settings at their defaults (from builder.settings); a plain table, as
# the exported Ray Tune script holds it beside its copy of ``apply``.
OPTIMIZERS = {name: settings.optimizer_defaults(name) for name in settings.OPTIMIZERS}
MAX_TRIALS = limits.MAX_TRIALS
MAX_GRID = limits.MAX_GRID
MAX_REPEAT = 10
default_mode = settings.metric_mode  # the one table of metric directions (settings.json)


def defaults(section: dict) -> dict:
    """The section with every optional key filled in (a copy)."""
    out = copy.deepcopy(section)
    params = out.get("parameters", [])
    ranged = any("values" not in p for p in params if isinstance(p, dict))
    for name, spec in FIELDS.items():
        if name == "search":
            out.setdefault(name, "random" if ranged else "grid")
        elif name == "mode":
            metric = out["metric"]
            out.setdefault(name, default_mode(metric) if isinstance(metric, str) else "min")
        elif "default" in spec:
            out.setdefault(name, spec["default"])
    if out["trials"] is None:
        out["trials"] = grid_size(params) if out["search"] == "grid" else 10
    return out


def grid_size(params: list[dict]) -> int:
    size = 1
    for p in params:
        size *= len(p.get("values") or [None])
    return size


def grid(section: dict) -> list[dict]:
    """Every combination of a grid search, in order (the last parameter varies fastest),
    cut to ``trials``."""
    params = section["parameters"]
    names = [p["setting"] for p in params]
    combos = itertools.product(*[p["values"] for p in params])
    return [dict(zip(names, combo)) for combo in itertools.islice(combos, section["trials"])]


def asha_settings(early_stopping: dict, epochs: int) -> dict:
    """ASHA's rungs for trials of ``epochs`` epochs: the grace period (the epochs every
    trial gets before it can be stopped; by default a tenth of the epochs, at least 1,
    since the first epochs rank learning rates by speed rather than by where they end) and
    the reduction factor (2: a trial continues at a rung if it is in the better half)."""
    grace = early_stopping.get("grace_period") or max(1, epochs // 10)
    return {
        "grace_period": max(1, min(int(grace), epochs)),
        "reduction_factor": early_stopping.get("reduction_factor", 2),
    }
