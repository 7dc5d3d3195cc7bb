"""The project file's optional ``experiment`` section: what varies, how it is searched.

An experiment runs the project several times (trials), each with some settings changed. A
setting is addressed the way the project file addresses it::

    layers.<layer name>.<Keras argument>   e.g. layers.hidden.units, layers.hidden.activation
    layers.<name>+<name>.<Keras argument>  the same value in several layers at once
    layers.<layer name>.repeat             0, 1, 2, 3 copies of the layer (0 omits it):
                                           the book's one, two or three hidden layers
    layers.<layer name>.include            true / false: keep or omit the layer
    compile.optimizer                      the optimizer's class name (RMSprop, Adam, ...)
    compile.optimizer.<argument>           e.g. compile.optimizer.learning_rate
    compile.loss                           a loss name
    fit.batch_size, fit.seed
    data.options.<option>                  e.g. data.options.num_words

Each parameter is a list of ``values`` (a choice) or a range ``low``..``high`` (``"type"``
``"int"`` or ``"float"``, inferred from the bounds; ``"log": true`` samples on a log scale).
The section::

    "experiment": {
      "parameters": [{"setting": "layers.hidden.units", "values": [32, 64, 128]},
                     {"setting": "compile.optimizer.learning_rate",
                      "low": 0.0001, "high": 0.01, "log": true}],
      "search": "grid" | "random" | "tpe",      # tpe: Optuna's Bayesian search
      "trials": 8,              # grid: at most this many of its combinations (default all)
      "max_minutes": 30,        # wall-time budget (null: none)
      "concurrency": 2,         # trials at the same time
      "metric": "val_loss", "mode": "min",
      "early_stopping": {"method": "asha", "grace_period": 3, "reduction_factor": 2} | null,
                                # grace_period absent: a tenth of the epochs (asha_settings)
      "cpus_per_trial": 1, "gpus_per_trial": 0
    }

Every value is checked by applying it to the project and validating the result exactly as a
single run is validated, so a sweep never starts a trial the project file would refuse.
Nothing here imports TensorFlow or Ray.
"""

from __future__ import annotations

import copy
import itertools
import json
import math

from builder import fields, settings
from builder.project import ProjectError, _close, register_section
from builder.topology import inbound_of
from builder.values import is_int, is_number

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
MAX_TRIALS = 10000
MAX_GRID = 10000
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


# --------------------------------------------------------------------------- applying values


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


# --------------------------------------------------------------------------- validation


def _where(i: int, key: str = "") -> str:
    return f"experiment.parameters[{i}]" + (f".{key}" if key else "")


def _check_setting(project: dict, setting, i: int, problems: list) -> str | None:
    """The kind of value the setting takes ('structural-repeat', ...), or None if unknown."""
    if not isinstance(setting, str) or not setting:
        problems.append(
            (
                _where(i, "setting"),
                "must name a setting, e.g. "
                '"layers.hidden.units" or "compile.optimizer.learning_rate".',
            )
        )
        return None
    parts = _split_setting(setting)
    model = project.get("model") or {}
    names = [lay.get("name") for lay in model.get("layers", []) if isinstance(lay, dict)]
    if parts[0] == "layers":
        if len(parts) < 3:
            problems.append(
                (
                    _where(i, "setting"),
                    f"'{setting}' names no layer setting: write "
                    "layers.<layer name>.<setting>, e.g. layers.hidden.units.",
                )
            )
            return None
        for name in parts[1].split("+"):
            if name not in names:
                problems.append(
                    (
                        _where(i, "setting"),
                        f"'{setting}': the model has no layer "
                        f"'{name}'.{_close(name, names)} Layers: "
                        f"{', '.join(n for n in names if isinstance(n, str))}.",
                    )
                )
                return None
        if len(parts) == 3 and parts[2] in ("repeat", "include"):
            if "+" in parts[1]:
                problems.append(
                    (
                        _where(i, "setting"),
                        f"{parts[2]} applies to one layer at a "
                        "time: list a parameter for each layer.",
                    )
                )
                return None
            if parts[1] in model.get("outputs", []):
                problems.append(
                    (
                        _where(i, "setting"),
                        f"'{parts[1]}' is an output of the model; "
                        f"it cannot be {'repeated' if parts[2] == 'repeat' else 'omitted'}"
                        ". Vary a hidden layer instead.",
                    )
                )
                return None
            readers = len(_readers(model, parts[1]))
            layer = model["layers"][names.index(parts[1])]
            if parts[2] == "include" or 0 in _values_of(project, setting):
                if len(inbound_of(model)[parts[1]]) != 1:
                    problems.append(
                        (
                            _where(i, "setting"),
                            f"'{parts[1]}' merges several inputs: "
                            "omitting it would leave its readers with no single input.",
                        )
                    )
                    return None
            elif readers > 1 or (layer.get("inbound") and len(layer["inbound"]) > 1):
                problems.append(
                    (
                        _where(i, "setting"),
                        f"'{parts[1]}' has several inputs or "
                        "several readers: only a layer in a chain can be repeated.",
                    )
                )
                return None
            return parts[2]
        return "layer"
    if parts[:2] == ("compile", "optimizer") and len(parts) in (2, 3):
        if len(parts) == 3:
            known = sorted({k for cfg in OPTIMIZERS.values() for k in cfg})
            if parts[2] not in known:
                problems.append(
                    (
                        _where(i, "setting"),
                        f"'{setting}': no optimizer has a "
                        f"setting '{parts[2]}'.{_close(parts[2], known)}",
                    )
                )
                return None
        return "compile"
    if parts == ("compile", "loss"):
        outputs = model.get("outputs", [])
        if isinstance(project.get("compile", {}).get("loss"), dict) or len(outputs) > 1:
            problems.append(
                (
                    _where(i, "setting"),
                    "compile.loss can only vary for a model with one output and one loss.",
                )
            )
            return None
        return "compile"
    if parts[0] == "fit" and len(parts) == 2:
        if parts[1] not in FIT_SETTINGS:
            problems.append(
                (
                    _where(i, "setting"),
                    f"'{setting}' cannot vary: of the fit "
                    f"settings, {' and '.join(FIT_SETTINGS)} can (the epochs are the "
                    "budget each trial gets).",
                )
            )
            return None
        return "fit"
    if parts[:2] == ("data", "options") and len(parts) == 3:
        return "data"
    problems.append(
        (
            _where(i, "setting"),
            f"'{setting}' is not a setting an experiment can "
            "vary. Use layers.<layer>.<argument>, layers.<layer>.repeat, "
            "layers.<layer>.include, compile.optimizer[.<argument>], compile.loss, "
            "fit.batch_size, fit.seed or data.options.<option>.",
        )
    )
    return None


def _check_value(project: dict, setting: str, value, where: str, problems: list) -> None:
    """Apply ``setting = value`` alone and validate the project a trial would train."""
    from builder.project import validate

    try:
        variant = apply(project, {setting: value})
    except (KeyError, ValueError, TypeError) as err:
        problems.append((where, f"{setting}={json.dumps(value)} cannot be applied ({err})."))
        return
    try:
        validate(variant)
    except ProjectError as err:
        for field, message in err.problems:
            problems.append(
                (
                    where,
                    f"{setting}={json.dumps(value)} makes the project invalid: "
                    + (f"{field}: " if field else "")
                    + message,
                )
            )


def _values_of(project: dict, setting: str) -> list:
    """The values listed for ``setting`` in the project's experiment (ranges: the bounds)."""
    for p in (project.get("experiment") or {}).get("parameters") or []:
        if isinstance(p, dict) and p.get("setting") == setting:
            values = p.get("values")
            return values if isinstance(values, list) else [p.get("low"), p.get("high")]
    return []


def _check_parameter(project: dict, p, i: int, seen: set, problems: list) -> None:  # noqa: C901
    if not isinstance(p, dict):
        problems.append(
            (
                _where(i),
                'must be an object like {"setting": '
                '"layers.hidden.units", "values": [16, 32, 64]}.',
            )
        )
        return
    for key in p:
        if key not in _PARAM_KEYS:
            problems.append(
                (
                    _where(i, key),
                    f"unknown field '{key}'.{_close(key, _PARAM_KEYS)} "
                    f"Allowed: {', '.join(sorted(_PARAM_KEYS))}.",
                )
            )
    kind = _check_setting(project, p.get("setting"), i, problems)
    if kind is None:
        return
    setting = p["setting"]
    if setting in seen:
        problems.append((_where(i, "setting"), f"'{setting}' is listed twice: keep one."))
        return
    seen.add(setting)
    has_values, has_range = "values" in p, "low" in p or "high" in p
    if has_values == has_range:
        problems.append(
            (
                _where(i),
                f"'{setting}' needs either \"values\": [...] (a choice) or "
                '"low" and "high" (a range), not ' + ("both." if has_values else "neither."),
            )
        )
        return
    if has_values:
        values = p["values"]
        if not isinstance(values, list) or not values:
            problems.append((_where(i, "values"), "must be a non-empty list, e.g. [16, 32, 64]."))
            return
        if any(isinstance(v, (dict, list)) for v in values):
            problems.append(
                (_where(i, "values"), "each value must be a number, text, true/false or null.")
            )
            return
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            problems.append((_where(i, "values"), "lists the same value twice."))
        for key in ("type", "log"):
            if key in p:
                problems.append((_where(i, key), "applies to a range (low/high) only; remove it."))
        if kind == "include" and any(not isinstance(v, bool) for v in values):
            problems.append((_where(i, "values"), "include takes true and/or false."))
            return
        if kind == "repeat" and any(not is_int(v) or not 0 <= v <= MAX_REPEAT for v in values):
            problems.append(
                (
                    _where(i, "values"),
                    f"repeat takes whole numbers of copies from 0 "
                    f"(omit the layer) to {MAX_REPEAT}, e.g. [1, 2, 3]; got "
                    f"{json.dumps(values)}.",
                )
            )
            return
        for j, value in enumerate(values):
            _check_value(project, setting, value, _where(i, f"values[{j}]"), problems)
        return
    low, high = p.get("low"), p.get("high")
    if not is_number(low) or not is_number(high) or not low < high:
        problems.append(
            (
                _where(i),
                f'a range needs numbers "low" < "high", got low='
                f"{json.dumps(low)}, high={json.dumps(high)}.",
            )
        )
        return
    if kind in ("include",):
        problems.append((_where(i), 'include takes "values": [true, false], not a range.'))
        return
    kind_of = p.get("type", "int" if is_int(low) and is_int(high) else "float")
    if kind_of not in ("int", "float"):
        problems.append(
            (_where(i, "type"), f'must be "int" or "float", got {json.dumps(kind_of)}.')
        )
        return
    if kind_of == "int" and not (is_int(low) and is_int(high)):
        problems.append((_where(i), "an int range needs whole-number bounds."))
        return
    log = p.get("log", False)
    if not isinstance(log, bool):
        problems.append((_where(i, "log"), "must be true or false."))
        return
    if log and low <= 0:
        problems.append((_where(i, "low"), f"a log-scale range must start above 0, got {low}."))
        return
    if kind == "repeat" and (kind_of != "int" or low < 0 or high > MAX_REPEAT):
        problems.append((_where(i), f"repeat takes whole numbers from 0 to {MAX_REPEAT}."))
        return
    for bound, key in ((low, "low"), (high, "high")):
        _check_value(project, setting, bound, _where(i, key), problems)


def validate_section(project: dict, section) -> list[tuple[str, str]]:
    """Problems of ``project["experiment"]`` as ``(field, message)``; empty when usable.

    ``project`` must otherwise be valid (its model, compile, data and fit settings)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(section, dict):
        return [("experiment", 'must be a JSON object with "parameters": [...].')]
    for key in section:
        if key not in _KEYS:
            problems.append(
                (
                    f"experiment.{key}",
                    f"unknown field '{key}'.{_close(key, _KEYS)} "
                    f"Allowed: {', '.join(sorted(_KEYS))}.",
                )
            )
    params = section.get("parameters")
    if not isinstance(params, list) or not params:
        problems.append(
            (
                "experiment.parameters",
                "must list at least one setting to vary, "
                'e.g. [{"setting": "layers.hidden.units", "values": [32, 64]}].',
            )
        )
        return problems
    seen: set = set()
    for i, p in enumerate(params):
        _check_parameter(project, p, i, seen, problems)
    search = section.get("search", "grid")
    if search not in SEARCHES:
        problems.append(
            (
                "experiment.search",
                f"unknown search {json.dumps(search)}: use grid "
                "(every combination), random or tpe (Optuna's Bayesian search).",
            )
        )
    elif search == "grid" and any(isinstance(p, dict) and "values" not in p for p in params):
        problems.append(
            (
                "experiment.search",
                "a grid needs a list of values for every "
                'setting; a range needs search "random" or "tpe".',
            )
        )
    elif search == "grid" and grid_size([p for p in params if isinstance(p, dict)]) > MAX_GRID:
        problems.append(
            (
                "experiment.parameters",
                f"the grid has more than {MAX_GRID} "
                'combinations: use fewer values or search "random".',
            )
        )
    for key, lo, hi in (
        ("trials", 1, MAX_TRIALS),
        ("concurrency", 1, 1024),
        ("cpus_per_trial", 1, 1024),
        ("gpus_per_trial", 0, 64),
    ):
        value = section.get(key)
        if value is not None and (not is_int(value) or not lo <= value <= hi):
            problems.append(
                (
                    f"experiment.{key}",
                    f"must be a whole number from {lo} to {hi}, got {json.dumps(value)}.",
                )
            )
    minutes = section.get("max_minutes")
    if minutes is not None and (
        not is_number(minutes) or not 0 < minutes <= 10**6 or not math.isfinite(minutes)
    ):
        problems.append(
            (
                "experiment.max_minutes",
                f"must be a number of minutes above 0 (or "
                f"null for no limit), got {json.dumps(minutes)}.",
            )
        )
    _check_metric(project, section, problems)
    _check_early_stopping(section.get("early_stopping"), problems)
    return problems


def metric_names(project: dict) -> list[str]:
    """Names a trial reports each epoch: loss, compiled metrics, and val_ ones with
    validation (Keras' log names for a single-output model)."""
    comp = project.get("compile", {})
    metrics = comp.get("metrics") or []
    names = (
        ["loss"] + [m for m in metrics if isinstance(m, str)]
        if isinstance(metrics, list)
        else ["loss"]
    )
    method = project.get("fit", {}).get("validation", {}).get("method", "none")
    if method in ("holdout", "split"):
        names += [f"val_{n}" for n in names]
    return names


def _check_metric(project: dict, section: dict, problems: list) -> None:
    method = project.get("fit", {}).get("validation", {}).get("method", "none")
    if method == "kfold":
        problems.append(
            (
                "fit.validation.method",
                "an experiment needs hold-out or split "
                "validation: K-fold trains k models per trial. Choose holdout or "
                "split for the experiment.",
            )
        )
        return
    metric = section.get("metric", "val_loss")
    names = metric_names(project)
    if len(project.get("model", {}).get("outputs", [])) > 1:
        if not isinstance(metric, str) or not metric:
            problems.append(("experiment.metric", "must name a Keras log, e.g. val_loss."))
    elif metric not in names:
        hint = (
            " The project has no validation: set fit.validation to holdout or split to "
            "compare trials on data they did not train on."
            if method == "none" and isinstance(metric, str) and metric.startswith("val_")
            else ""
        )
        problems.append(
            (
                "experiment.metric",
                f"{json.dumps(metric)} is not logged by this "
                f"project's training.{_close(metric, names)} Choose one of "
                f"{', '.join(names)}.{hint}",
            )
        )
    mode = section.get("mode", "min")
    if mode not in MODES:
        problems.append(("experiment.mode", f'must be "min" or "max", got {json.dumps(mode)}.'))


def _check_early_stopping(spec, problems: list) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        problems.append(
            (
                "experiment.early_stopping",
                'must be null or {"method": "asha", "grace_period": 1, "reduction_factor": 2}.',
            )
        )
        return
    for key in spec:
        if key not in _ASHA_KEYS:
            problems.append(
                (
                    f"experiment.early_stopping.{key}",
                    f"unknown field '{key}'."
                    f"{_close(key, _ASHA_KEYS)} Allowed: "
                    f"{', '.join(sorted(_ASHA_KEYS))}.",
                )
            )
    if spec.get("method", "asha") != "asha":
        problems.append(
            (
                "experiment.early_stopping.method",
                'only "asha" (asynchronous successive halving) is available.',
            )
        )
    grace = spec.get("grace_period", 1)
    if not is_int(grace) or grace < 1:
        problems.append(
            (
                "experiment.early_stopping.grace_period",
                f"must be a whole number of epochs ≥ 1, got {json.dumps(grace)}.",
            )
        )
    factor = spec.get("reduction_factor", 2)
    if not is_number(factor) or factor < 2 or factor > 16:
        problems.append(
            (
                "experiment.early_stopping.reduction_factor",
                f"must be a number from "
                f"2 to 16 (2 keeps half the trials at each rung), got "
                f"{json.dumps(factor)}.",
            )
        )


register_section("experiment", validate_section)


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


# --------------------------------------------------------------------------- marking settings


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
