"""The experiment section's keys, defaults and caps, and the grid a grid search walks.

``defaults`` fills every optional key of the section (``spec``'s docstring shows it
whole); ``asha_settings`` fills ASHA's. Imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import copy
import itertools

from builder import limits, settings

SEARCHES = ("grid", "random", "tpe")
MODES = ("min", "max")
_KEYS = {
    "parameters",
    "search",
    "trials",
    "max_minutes",
    "concurrency",
    "metric",
    "mode",
    "early_stopping",
    "cpus_per_trial",
    "gpus_per_trial",
}
_PARAM_KEYS = {"setting", "values", "low", "high", "type", "log"}
_ASHA_KEYS = {"method", "grace_period", "reduction_factor"}
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
    out.setdefault("search", "random" if ranged else "grid")
    out.setdefault("trials", None)
    out.setdefault("max_minutes", None)
    out.setdefault("concurrency", 2)
    out.setdefault("metric", "val_loss")
    out.setdefault("mode", default_mode(out["metric"]) if isinstance(out["metric"], str) else "min")
    out.setdefault("early_stopping", None)
    out.setdefault("cpus_per_trial", None)
    out.setdefault("gpus_per_trial", 0)
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
