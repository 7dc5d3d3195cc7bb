"""Compile and fit settings as data: ``settings.json`` (next to this module).

The schema lists every optimizer (its settings with Keras' defaults, ranges, label and
help), loss, metric and callback a project may name, and the fit settings (epochs, batch
size, seed, shuffle, validation methods). ``compile_section`` and ``fit_section`` check a
project's sections against it and return them in their one normal spelling, every default
filled in, so code downstream reads ``project["fit"]["batch_size"]`` and
``project["compile"]["optimizer"]["class_name"]`` directly:

- ``optimizer`` is ``{"class_name": ..., "config": {every setting}}`` (a bare name such as
  ``"rmsprop"`` becomes the Keras class with its defaults);
- ``loss`` and ``metrics`` are a name / a list for a model with one output, and objects
  keyed by every output name for a model with several (a single loss or list applies to
  each output, as in Keras);
- ``loss_weights`` is ``null`` when every weight is 1, else an object with every output;
- ``fit.validation`` holds exactly the settings of its method; each callback's ``config``
  holds every setting of that callback.

Forms (``ui.compile_form``, the Train page) are drawn from the same specs, which use the
layer catalogue's format (``name, type, default, min, max, choices, label, help``). Nothing
here imports TensorFlow.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from builder import fields
from builder.values import is_number

SETTINGS_PATH = Path(__file__).with_name("settings.json")
SCHEMA: dict = json.loads(SETTINGS_PATH.read_text(encoding="utf-8"))

OPTIMIZERS: dict[str, dict] = SCHEMA["optimizers"]
LOSSES: dict[str, dict] = SCHEMA["losses"]
METRICS: dict[str, dict] = SCHEMA["metrics"]
CALLBACKS: dict[str, dict] = SCHEMA["callbacks"]
COMPILE: dict[str, dict] = SCHEMA["compile"]
FIT_PARAMS: list[dict] = SCHEMA["fit"]["params"]
VALIDATION: dict = SCHEMA["fit"]["validation"]
VALIDATION_METHODS: dict[str, dict] = VALIDATION["methods"]

METRIC_ALIASES = {
    alias: name for name, entry in METRICS.items() for alias in entry.get("aliases", [])
}
# Whether a larger ("max") or smaller ("min") value of a metric is better: the offered
# metrics' own "mode", their older names, then the metrics Keras may report that no project
# here chooses (an imported model's).
METRIC_MODES: dict[str, str] = {
    **SCHEMA["metric_modes"],
    **{name: entry["mode"] for name, entry in METRICS.items()},
    **{alias: METRICS[name]["mode"] for alias, name in METRIC_ALIASES.items()},
}
COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics")
FIT_KEYS = ("epochs", "batch_size", "validation", "shuffle", "seed", "callbacks")

Problems = list[tuple[str, str]]


# --------------------------------------------------------------------------- lookups


def metric_mode(metric: str) -> str:
    """``"max"`` when a larger value of the logged ``metric`` is better, else ``"min"``.

    Reads the names Keras logs: ``val_`` for validation, an output's name before the metric
    in a model with several (``kind_accuracy``), a loss (``loss``, ``kind_loss``).

    >>> metric_mode("val_r2_score"), metric_mode("kind_accuracy"), metric_mode("val_loss")
    ('max', 'max', 'min')
    """
    base = metric[4:] if metric.startswith("val_") else metric
    if base in METRIC_MODES:
        return METRIC_MODES[base]
    ends = [name for name in METRIC_MODES if base.endswith("_" + name)]
    return METRIC_MODES[max(ends, key=len)] if ends else "min"


def defaults(params: list[dict]) -> dict:
    """``{name: default}`` of a list of specs."""
    return {p["name"]: copy.deepcopy(p["default"]) for p in params}


def changed(params: list[dict], config: dict, keep: tuple[str, ...] = ()) -> dict:
    """The settings of ``config`` that differ from their defaults (and those in ``keep``):
    what a person would write in code."""
    return {
        p["name"]: config[p["name"]]
        for p in params
        if p["name"] in config and (p["name"] in keep or config[p["name"]] != p["default"])
    }


def optimizer_defaults(name: str) -> dict:
    """Every setting of optimizer ``name`` at Keras' default."""
    return defaults(OPTIMIZERS[name]["params"])


def optimizer(name: str, config: dict | None = None) -> dict:
    """The normal spelling of an optimizer: its class and every setting."""
    return {"class_name": name, "config": {**optimizer_defaults(name), **(config or {})}}


def callback(name: str, config: dict | None = None) -> dict:
    """The normal spelling of a callback: its class and every setting."""
    return {"class_name": name, "config": {**defaults(CALLBACKS[name]["params"]), **(config or {})}}


def default_compile() -> dict:
    return {
        "optimizer": optimizer(COMPILE["optimizer"]["default"]),
        "loss": COMPILE["loss"]["default"],
        "loss_weights": None,
        "metrics": list(COMPILE["metrics"]["default"]),
    }


def default_fit() -> dict:
    fit = defaults(FIT_PARAMS)
    return {
        "epochs": fit["epochs"],
        "batch_size": fit["batch_size"],
        "validation": copy.deepcopy(VALIDATION["default"]),
        "shuffle": fit["shuffle"],
        "seed": fit["seed"],
        "callbacks": [],
    }


def fit_param(name: str) -> dict:
    return next(p for p in FIT_PARAMS if p["name"] == name)


def validation_param(method: str, name: str) -> dict:
    return next(p for p in VALIDATION_METHODS[method]["params"] if p["name"] == name)


def per_output(compile_: dict, key: str, outputs: list[str]) -> dict:
    """``{output: value}`` of a normalised compile setting (loss, metrics, loss_weights)."""
    value = compile_.get(key)
    if key == "loss_weights":
        value = value or {}
        return {o: value.get(o, COMPILE["loss_weights"]["default"]) for o in outputs}
    if isinstance(value, dict):
        return {o: value.get(o) for o in outputs}
    return {o: copy.deepcopy(value) for o in outputs}


def _normal(project: dict) -> tuple[dict | None, dict | None]:
    model = project.get("model")
    outputs = model.get("outputs") if isinstance(model, dict) else None
    outputs = [o for o in outputs if isinstance(o, str)] if isinstance(outputs, list) else []
    problems: Problems = []
    compile_ = compile_section(project.get("compile", default_compile()), outputs, problems)
    fit_problems: Problems = []
    fit = fit_section(project.get("fit", default_fit()), fit_problems)
    return (None if problems else compile_), (None if fit_problems else fit)


def sections(project: Any) -> tuple[dict, dict]:
    """The compile and fit sections of ``project`` in their normal spelling; a section that
    does not validate (a project still being fixed) reads as the defaults."""
    if not isinstance(project, dict):
        return default_compile(), default_fit()
    compile_, fit = _normal(project)
    return compile_ or default_compile(), fit or default_fit()


def normalise(project: Any) -> Any:
    """``project`` with its compile and fit sections in their normal spelling where they
    validate; anything else is left as it is (``builder.project.validate`` reports it)."""
    if not isinstance(project, dict):
        return project
    compile_, fit = _normal(project)
    return {
        **project,
        **({"compile": compile_} if compile_ is not None else {}),
        **({"fit": fit} if fit is not None else {}),
    }


def tasks_of_losses(task: str) -> set[str]:
    """Loss names for ``classification`` or ``regression``."""
    return {name for name, entry in LOSSES.items() if entry["task"] == task}


# --------------------------------------------------------------------------- checks


def _known(value: Any, table) -> bool:
    """``value in table`` for a name read from a file (a list or object is never a name)."""
    return isinstance(value, str) and value in table


_short = fields.short
_close = fields.did_you_mean
check_value = fields.check_value  # one wording for every setting's value (builder.fields)


def _config(params: list[dict], config: Any, owner: str, where: str, problems: Problems) -> dict:
    """A config object checked against ``params``, every default filled in."""
    if not isinstance(config, dict):
        problems.append((where, f"must be a JSON object, got {type(config).__name__}."))
        return defaults(params)
    specs = {p["name"]: p for p in params}
    for key, value in config.items():
        if key not in specs:
            problems.append(
                (
                    f"{where}.{key}",
                    f"{owner} has no setting '{key}'."
                    f"{_close(key, specs)} Known: {', '.join(specs) or 'none'}.",
                )
            )
            continue
        message = check_value(specs[key], value)
        if message:
            problems.append((f"{where}.{key}", message))
    return {**defaults(params), **{k: v for k, v in config.items() if k in specs}}


def _unknown_keys(obj: dict, allowed, where: str, problems: Problems) -> None:
    for key in obj:
        if key not in allowed:
            problems.append(
                (
                    f"{where}.{key}",
                    f"unknown field '{key}'.{_close(key, allowed)} "
                    f"Remove it; allowed fields here are: "
                    f"{', '.join(sorted(allowed))}.",
                )
            )


def _named(value: Any, where: str, problems: Problems) -> tuple[str | None, Any]:
    """``(class_name, config)`` of ``"Name"`` or ``{"class_name", "config"}``."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict):
        problems.append((where, f"must be a JSON object, got {type(value).__name__}."))
        return None, {}
    _unknown_keys(value, {"class_name", "config"}, where, problems)
    return value.get("class_name"), value.get("config", {})


def _optimizer(value: Any, problems: Problems) -> Any:
    where = "compile.optimizer"
    name, config = _named(value, where, problems)
    if name is None and not isinstance(value, dict):
        return value
    if isinstance(name, str) and name not in OPTIMIZERS:
        # Keras' string identifiers: "rmsprop", "adam", "sgd" ...
        name = next((n for n in OPTIMIZERS if n.lower() == name.lower()), name)
    if not _known(name, OPTIMIZERS):
        problems.append(
            (
                f"{where}.class_name",
                f"unknown optimizer {_short(name)}."
                f"{_close(name, OPTIMIZERS)} Choose one of {', '.join(OPTIMIZERS)}.",
            )
        )
        return value
    return {
        "class_name": name,
        "config": _config(OPTIMIZERS[name]["params"], config, name, f"{where}.config", problems),
    }


def compile_section(comp: Any, outputs: list[str], problems: Problems) -> Any:  # noqa: C901
    """``comp`` checked and in its normal spelling (see the module's docstring); problems
    are appended as ``(field, message)``. ``outputs`` are the model's output names."""
    if not isinstance(comp, dict):
        problems.append(("compile", f"must be a JSON object, got {type(comp).__name__}."))
        return comp
    _unknown_keys(comp, COMPILE_KEYS, "compile", problems)
    out = {key: comp[key] for key in comp if key not in COMPILE_KEYS}
    out["optimizer"] = _optimizer(comp.get("optimizer", COMPILE["optimizer"]["default"]), problems)

    def by_output(value: Any, where: str, check_one) -> dict | None:
        """A per-output object checked: names are outputs; None if ``value`` is not one."""
        if not isinstance(value, dict):
            return None
        for key, v in value.items():
            if outputs and key not in outputs:
                problems.append(
                    (
                        f"{where}.{key}",
                        f"'{key}' is not an output of the model."
                        f"{_close(key, outputs)} Outputs: {', '.join(outputs)}.",
                    )
                )
            check_one(v, f"{where}.{key}")
        return value

    def check_loss(v: Any, where: str) -> None:
        if not _known(v, LOSSES):
            problems.append(
                (
                    where,
                    f"unknown loss {_short(v)}.{_close(v, LOSSES)} Choose "
                    f"one of {', '.join(LOSSES)}.",
                )
            )

    def check_metrics(v: Any, where: str) -> None:
        if not isinstance(v, list):
            problems.append((where, 'must be a list of metric names, e.g. ["accuracy"].'))
            return
        for k, m in enumerate(v):
            if not _known(m, METRICS):
                problems.append(
                    (
                        f"{where}[{k}]",
                        f"unknown metric {_short(m)}."
                        f"{_close(m, METRICS)} Choose from {', '.join(METRICS)}.",
                    )
                )

    def check_weight(v: Any, where: str) -> None:
        if not is_number(v) or v < 0:
            problems.append((where, f"a loss weight must be a finite number ≥ 0, got {_short(v)}."))

    def spelled(value: Any, missing: Any) -> Any:
        """One value for one output, an object with every output for several; an output
        the object leaves out gets ``missing`` (None: the object's first value)."""
        if isinstance(value, dict):
            fill = next(iter(value.values()), None) if missing is None else missing
            if len(outputs) == 1:
                return copy.deepcopy(value.get(outputs[0], fill))
            if len(outputs) > 1:
                return {o: copy.deepcopy(value.get(o, fill)) for o in outputs}
            return value
        if len(outputs) > 1:
            return {o: copy.deepcopy(value) for o in outputs}
        return value

    loss = comp.get("loss", COMPILE["loss"]["default"])
    if by_output(loss, "compile.loss", check_loss) is None:
        check_loss(loss, "compile.loss")
    out["loss"] = spelled(loss, None)

    weights = comp.get("loss_weights")
    if weights is not None and not isinstance(weights, dict):
        problems.append(
            (
                "compile.loss_weights",
                "must be null or an object mapping output "
                'names to numbers, e.g. {"price": 1.0, "kind": 0.2}.',
            )
        )
    elif isinstance(weights, dict):
        by_output(weights, "compile.loss_weights", check_weight)
        filled = {o: weights.get(o, 1.0) for o in outputs} if outputs else weights
        weights = None if all(w == 1 for w in filled.values()) else filled
    out["loss_weights"] = weights

    metrics = comp.get("metrics", COMPILE["metrics"]["default"])

    def keras_names(v: Any) -> Any:
        return (
            [METRIC_ALIASES.get(m, m) if isinstance(m, str) else m for m in v]
            if isinstance(v, list)
            else v
        )

    metrics = (
        {k: keras_names(v) for k, v in metrics.items()}
        if isinstance(metrics, dict)
        else keras_names(metrics)
    )
    if by_output(metrics, "compile.metrics", check_metrics) is None:
        check_metrics(metrics, "compile.metrics")
    out["metrics"] = spelled(metrics, [])
    return {key: out[key] for key in (*COMPILE_KEYS, *(k for k in out if k not in COMPILE_KEYS))}


def _validation(val: Any, problems: Problems) -> Any:
    where = "fit.validation"
    if not isinstance(val, dict):
        problems.append((where, f"must be a JSON object, got {type(val).__name__}."))
        return val
    method = val.get("method")
    if not _known(method, VALIDATION_METHODS):
        problems.append(
            (
                f"{where}.method",
                f"unknown method {_short(method)}: use one of {', '.join(VALIDATION_METHODS)}.",
            )
        )
        return val
    entry = VALIDATION_METHODS[method]
    params = {p["name"]: p for p in entry["params"]}
    _unknown_keys(val, {"method", *params}, where, problems)
    out: dict = {"method": method}
    one_of = entry.get("one_of")
    if one_of:
        given = [name for name in one_of if val.get(name) is not None]
        if len(given) != 1:
            problems.append(
                (
                    where,
                    "hold-out needs either 'count' (e.g. 10000, the book's "
                    "IMDB split) or 'fraction' (e.g. 0.2).",
                )
            )
            return val
        names = given
    else:
        names = list(params)
    for name in names:
        value = val.get(name)
        if value is None:
            value = params[name]["default"]
        message = check_value(params[name], value)
        if message:
            problems.append((f"{where}.{name}", message))
        out[name] = value
    return out


def fit_section(fit: Any, problems: Problems) -> Any:
    """``fit`` checked and in its normal spelling, every default filled in."""
    if not isinstance(fit, dict):
        problems.append(("fit", f"must be a JSON object, got {type(fit).__name__}."))
        return fit
    _unknown_keys(fit, FIT_KEYS, "fit", problems)
    out = {key: fit[key] for key in fit if key not in FIT_KEYS}
    for spec in FIT_PARAMS:
        value = fit.get(spec["name"], spec["default"])
        message = check_value(spec, value)
        if message:
            problems.append((f"fit.{spec['name']}", message))
        out[spec["name"]] = value
    out["validation"] = _validation(fit.get("validation", VALIDATION["default"]), problems)
    callbacks = fit.get("callbacks", [])
    if not isinstance(callbacks, list):
        problems.append(("fit.callbacks", "must be a list of callbacks."))
        out["callbacks"] = callbacks
    else:
        out["callbacks"] = []
        for i, cb in enumerate(callbacks):
            where = f"fit.callbacks[{i}]"
            name, config = _named(cb, where, problems)
            if not _known(name, CALLBACKS):
                if isinstance(cb, dict):
                    problems.append(
                        (
                            f"{where}.class_name",
                            f"unknown callback "
                            f"{_short(name)}.{_close(name, CALLBACKS)} Use one of "
                            f"{', '.join(CALLBACKS)}.",
                        )
                    )
                out["callbacks"].append(cb)
                continue
            out["callbacks"].append(
                {
                    "class_name": name,
                    "config": _config(
                        CALLBACKS[name]["params"], config, name, f"{where}.config", problems
                    ),
                }
            )
    return {key: out[key] for key in (*FIT_KEYS, *(k for k in out if k not in FIT_KEYS))}
