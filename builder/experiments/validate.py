"""Validation of the experiment section: ``validate_section(project, section)``.

Every value is checked by applying it to the project (``apply``) and validating the result
exactly as a single run is validated, so a sweep never starts a trial the project file
would refuse; problems are ``(field, message)`` pairs that name the parameter and value.
Imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import json
import math

from builder import limits, settings
from builder.experiments.apply import _readers, _split_setting, apply
from builder.experiments.section import (
    _ASHA_KEYS,
    _KEYS,
    _PARAM_KEYS,
    FIT_SETTINGS,
    MAX_GRID,
    MAX_REPEAT,
    MODES,
    OPTIMIZERS,
    SEARCHES,
    WHOLE_NUMBERS,
    grid_size,
)
from builder.project import _close
from builder.topology import inbound_of
from builder.values import is_int, is_number


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


def _value_checker(project: dict, setting: str):
    """A function ``value -> [(field, message)]`` checking ``setting = value`` alone, in
    time independent of the model's size: a layer setting against that layer's config
    (the catalogue's types and ranges), a compile, fit or data setting against its own
    section, a repeat against the names it would take. No project is copied per value."""
    from builder import catalogue
    from builder.data import registry

    parts = _split_setting(setting)
    model = project["model"]
    if parts[0] == "layers" and parts[2] in ("include", "repeat"):
        count = len(model["layers"])

        def structural(value) -> list:
            # Types and ranges are checked with the values; _repeat skips taken names, so
            # copies never clash. What is left is the cap on layers.
            if parts[2] == "repeat" and count + value - 1 > limits.MAX_LAYERS:
                return [("model.layers", f"would be more than {limits.MAX_LAYERS:,} layers.")]
            return []

        return structural
    if parts[0] == "layers":
        index = {lay["name"]: i for i, lay in enumerate(model["layers"])}
        key = ".".join(parts[2:])
        targets = [index[name] for name in parts[1].split("+") if name in index]

        def layer(value) -> list:
            found = []
            for i in targets:
                lay = model["layers"][i]
                where = f"model.layers[{i}]"
                config = {**lay.get("config", {}), key: value}
                found += [
                    _split_message(m)
                    for m in catalogue.validate_config(lay["class_name"], config, where)
                ]
            return found

        return layer
    # compile, fit and data settings: ``apply`` on a project holding only those sections
    slim = {k: project[k] for k in ("compile", "fit", "data") if k in project}
    slim["model"] = {"inputs": [], "layers": [], "outputs": []}
    outputs = list(model.get("outputs", []))

    def section(value) -> list:
        variant = apply(slim, {setting: value})
        found: list = []
        if parts[0] == "compile":
            settings.compile_section(variant["compile"], outputs, found)
        elif parts[0] == "fit":
            settings.fit_section(variant["fit"], found)
        else:
            found += [_split_message(m) for m in registry.validate_data_settings(variant["data"])]
        return found

    return section


def _split_message(message: str) -> tuple[str, str]:
    head, sep, tail = message.partition(": ")
    return (head, tail) if sep and (head.startswith(("model.", "data"))) else ("", message)


def _check_value(check, setting: str, value, where: str, problems: list) -> None:
    """Problems of ``setting = value`` (``check`` from ``_value_checker``), worded as the
    trial's project would be."""
    try:
        found = check(value)
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        problems.append((where, f"{setting}={json.dumps(value)} cannot be applied ({err})."))
        return
    for field, message in found:
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
        check = _value_checker(project, setting)
        for j, value in enumerate(values):
            _check_value(check, setting, value, _where(i, f"values[{j}]"), problems)
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
    check = _value_checker(project, setting)
    for bound, key in ((low, "low"), (high, "high")):
        _check_value(check, setting, bound, _where(i, key), problems)


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
    if len(params) > limits.MAX_EXPERIMENT_PARAMETERS:
        return problems + [
            (
                "experiment.parameters",
                f"lists {len(params):,} settings; at most "
                f"{limits.MAX_EXPERIMENT_PARAMETERS} can vary in one experiment.",
            )
        ]
    lists = [p.get("values") for p in params if isinstance(p, dict)]
    listed = sum(len(v) for v in lists if isinstance(v, list))
    if listed > limits.MAX_EXPERIMENT_VALUES:
        return problems + [
            (
                "experiment.parameters",
                f"lists {listed:,} values in all; at most {limits.MAX_EXPERIMENT_VALUES:,} "
                'are tried: list fewer, or give a range (low/high) with search "random".',
            )
        ]
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
    for key, lo, hi in WHOLE_NUMBERS:
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
