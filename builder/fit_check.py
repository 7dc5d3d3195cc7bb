"""Does the model fit its data? The checks that make "valid" mean "will train".

``checker.check`` answers "does Keras build it" (shapes only, whatever the data);
``fit_check.check`` adds these checks and is what the app and the CLI's ``check`` call.

The checker knows every layer's output shape; the data settings say what one sample and
its label look like (``builder.data.describe``) and the loss decides how the labels are
encoded (``builder.data.preprocess.labels_for_loss``). A model whose input does not take the
samples, or whose output cannot be compared with the labels, builds but fails seconds into
training: these are errors, on the layer concerned, with the mechanical fix. Validation
settings that cannot split the training set (a hold-out of every sample, more folds than
samples) are model-level errors, said before Train is pressed instead of by the worker.

Pure and quick: no TensorFlow, no data loaded (a CSV's header and targets are read by
``describe``, cached).
"""

from __future__ import annotations

from typing import Any

from builder.data.preprocess import loss_family
from builder.project import shape_ok
from builder.results import CheckResult, Fix, fmt_shape, insert_flatten

# Advice that an error of this module already says, on the same layer.
_SAID_BY_ERRORS = {"units-vs-classes", "missing-flatten", "input-vs-data"}
# The training split of the Keras datasets (their loaders split the files this way).
_KERAS_TRAIN_SAMPLES = {
    "imdb": 25_000,
    "reuters": 8_982,
    "boston_housing": 404,
    "mnist": 60_000,
    "fashion_mnist": 60_000,
    "cifar10": 50_000,
}


def label_form(
    loss: Any, task: str, num_classes: int | None, label_encoding: str
) -> tuple[str, int | None]:
    """(encoding, width): how the labels reach Keras for this loss, as in
    ``labels_for_loss``. Encoding "one_hot" has ``width`` floats per sample; "integer"
    (class numbers below ``width``), "binary" and "value" are one number per sample."""
    family = loss_family(loss)
    if task == "regression":
        return "value", None
    if family is None:
        family = {"binary": "binary", "one_hot": "categorical", "integer": "sparse"}.get(
            label_encoding, "categorical"
        )
    if task == "binary":
        return {"categorical": ("one_hot", 2), "sparse": ("integer", 2)}.get(
            family, ("binary", None)
        )
    if family == "sparse":
        return "integer", num_classes
    return "one_hot", num_classes


def _loss_of(project: dict, output: str):
    loss = (project.get("compile") or {}).get("loss")
    return loss.get(output) if isinstance(loss, dict) else loss


def _flatten_fix(output: str, shape: list) -> tuple[str, Fix]:
    if len(shape) == 4:  # (batch, h, w, c): pool the image
        return (
            f"add Flatten or GlobalAveragePooling2D before '{output}'",
            Fix(
                f"Insert GlobalAveragePooling2D before {output}",
                {
                    "op": "insert_before",
                    "target": output,
                    "layer": {"class_name": "GlobalAveragePooling2D", "config": {}},
                },
            ),
        )
    return f"add Flatten before '{output}'", insert_flatten(output)


def _output_problem(project: dict, rep, info) -> tuple[str, list[Fix]] | None:
    shape = rep.output_shape
    if not shape or isinstance(shape[0], list):
        return None
    target = info.target_of(rep.name)
    if info.targets and target is None:
        return None  # an output without a column: the mapping error says so
    info = info.for_output(rep.name)
    loss = _loss_of(project, rep.name)
    who = f"output '{rep.name}'"
    if target is not None:
        who += f" (trained on column '{target.column}', {target.task})"
        family = loss_family(loss)
        if target.task == "regression" and family not in (None, "regression"):
            return (
                f"{who} has loss {loss!r}, which is for classes, but column "
                f"'{target.column}' holds numbers to predict: use loss 'mse' (metric 'mae') "
                f"and a last Dense layer of 1 unit without activation.",
                [_loss_fix(project, rep.name, "mse")],
            )
    encoding, width = label_form(loss, info.task, info.num_classes, info.label_encoding)
    if info.task == "multiclass" and loss_family(loss) == "regression":
        wrong = _regression_loss_on_classes(project, rep, info, loss, who)
        if wrong:
            return wrong
    one_hot = f"one-hot labels of {width} classes ({width} numbers per sample)"
    if encoding == "one_hot" and info.label_encoding == "integer":
        one_hot += f", because {loss} needs them one-hot (label_encoding is 'integer')"
    labels = {
        "one_hot": one_hot,
        "integer": f"one class number per sample ({width} classes)",
        "binary": "one 0/1 label per sample",
        "value": "one number to predict per sample",
    }[encoding]
    dense = _is_dense(project, rep.name)
    if len(shape) > 2:
        grid = (
            f"{who} gives {fmt_shape(shape)} per batch, several values for each sample, "
            f"but the data has {labels}"
        )
        if not dense:
            pool = "GlobalAveragePooling2D" if len(shape) == 4 else "GlobalAveragePooling1D"
            last = f"Dense({width or 1})"
            return (
                f"{grid}: add {pool} (or Flatten) and a {last} after '{rep.name}' so the "
                "model predicts once per sample.",
                [],
            )
        tip, fix = _flatten_fix(rep.name, shape)
        fixes = [fix] + ([insert_flatten(rep.name)] if len(shape) == 4 else [])
        return f"{grid}: {tip} so it predicts once per sample.", fixes
    units = shape[-1]
    if not isinstance(units, int) or width is None:
        return None
    set_units = (
        [
            Fix(
                f"Set units to {width}",
                {"op": "set_config", "target": rep.name, "key": "units", "value": width},
            )
        ]
        if dense
        else []
    )
    if encoding == "one_hot" and units != width:
        return (
            f"{who} gives {units} number{'s' if units != 1 else ''} per sample but the "
            f"data has {labels}: the last layer needs {width} units.",
            set_units,
        )
    if encoding == "integer" and units < width:
        return (
            f"{who} gives {units} score{'s' if units != 1 else ''} per sample but the "
            f"labels are class numbers up to {width - 1}: the last layer needs {width} "
            "units, one per class.",
            set_units,
        )
    return None


def _regression_loss_on_classes(project: dict, rep, info, loss, who: str):
    """A regression loss (mse...) on several classes whose output does not give one score
    per class: the loss is the mistake (what the Boston template keeps after switching to
    Digits). The message names the loss that suits these labels, ``advice.recommended_loss``,
    the same one the Data and Build pages recommend."""
    from builder import advice

    units = rep.output_shape[-1] if len(rep.output_shape) == 2 else None
    classes = info.num_classes
    if not isinstance(units, int) or not classes or units == classes:
        return None
    want = advice.recommended_loss(project, info)
    form = (
        "class numbers (label_encoding 'integer')"
        if info.label_encoding == "integer"
        else "one-hot vectors (label_encoding 'one_hot')"
    )
    fixes = [_loss_fix(project, rep.name, want)] if want else []
    if _is_dense(project, rep.name):
        fixes.append(
            Fix(
                f"Set units to {classes}",
                {"op": "set_config", "target": rep.name, "key": "units", "value": classes},
            )
        )
    return (
        f"{who} gives {units} number{'s' if units != 1 else ''} per sample with loss "
        f"{loss!r}, a regression loss, but the data has {classes} classes given as {form}: "
        f"use loss {want} and a last Dense layer of {classes} units with softmax.",
        fixes,
    )


def _loss_fix(project: dict, output: str, value: str) -> Fix:
    multi = len((project.get("model") or {}).get("outputs") or []) > 1
    return Fix(
        f"Use loss {value}",
        {"op": "set_compile", "key": "loss", "output": output if multi else None, "value": value},
    )


def _mapping_problems(outputs: list, info) -> list[str]:
    """Several target columns: every output needs one, every one needs an output."""
    if not info.targets:
        return []
    problems = [
        f"target column '{t.column}' is mapped to output '{t.output}', which the model "
        f"does not have (its outputs: {', '.join(outputs)}): map it to one of them on "
        "the Data page."
        for t in info.targets
        if t.output not in outputs
    ]
    problems += [
        f"output '{out}' has no target column: map a column to it on the Data page (each "
        "output learns its own column), or remove the output."
        for out in outputs
        if info.target_of(out) is None
    ]
    return problems


def _is_dense(project: dict, name: str) -> bool:
    layers = (project.get("model") or {}).get("layers")
    return isinstance(layers, list) and any(
        isinstance(lay, dict) and lay.get("name") == name and lay.get("class_name") == "Dense"
        for lay in layers
    )


def _input_problem(project: dict, result: CheckResult, info) -> tuple[str, str, Fix] | None:
    inputs = (project.get("model") or {}).get("inputs") or []
    spec = info.input_spec or {}
    if len(inputs) != 1 or not spec.get("shape"):
        return None
    have, want = inputs[0].get("shape"), list(spec["shape"])
    if have == want or not shape_ok(have):  # a malformed shape is validate's to report
        return None
    name = inputs[0].get("name")
    return (
        name,
        (
            f"input '{name}' takes samples of shape {tuple(have)} but the chosen data "
            f"gives {tuple(want)}: set the input shape to {tuple(want)}."
        ),
        Fix(
            f"Set the input shape to {tuple(want)}",
            {
                "op": "set_input",
                "target": name,
                "shape": want,
                "dtype": spec.get("dtype", "float32"),
            },
        ),
    )


def train_samples(project: dict) -> int | None:
    """How many samples the project trains on (its training split), or None when that is
    not known without loading the data (a CSV that cannot be read: describe says why)."""
    import math

    from builder.data.registry import DATASETS, resolved_options

    data = project.get("data")
    try:
        options = resolved_options(data)
        spec = DATASETS[data["dataset"]]
        if spec.source == "keras":
            return _KERAS_TRAIN_SAMPLES.get(spec.name)
        if spec.source == "csv":
            from builder.data import csv_data

            return len(csv_data.load_table_cached(options).x_train)
        # scikit-learn's train_test_split keeps ceil(n * test_fraction) for testing.
        total = spec.num_examples
        return total - math.ceil(total * float(options["test_fraction"])) if total else None
    except Exception:  # invalid settings or an unreadable file: said elsewhere, once
        return None


def _validation_fix(label: str, validation: dict) -> Fix:
    return Fix(label, {"op": "set_fit", "key": "validation", "value": validation})


_NO_VALIDATION = ("Train without validation", {"method": "none"})


def validation_problem(project: dict, n: int | None) -> tuple[str, list[Fix]] | None:
    """Why the validation settings cannot split ``n`` training samples, with the fix in
    words and as one-click fixes (``set_fit`` of ``fit.validation``), or None. What Keras
    or the training worker would refuse only once training starts: a hold-out of as many
    samples as there are, a validation_split that leaves no sample on one side, more folds
    than samples. A batch larger than the set is fine (Keras takes what there is).
    Each fix leaves settings this function accepts for the same ``n``."""
    fit = project.get("fit")
    val = fit.get("validation") if isinstance(fit, dict) else None
    if not n or not isinstance(val, dict):
        return None
    method = val.get("method")
    where = "fit.validation"
    # One sample cannot be split at all: training on it without validation is the fix.
    alone = [] if n >= 2 else [_validation_fix(*_NO_VALIDATION)]
    if method == "holdout":
        count, fraction = val.get("count"), val.get("fraction")
        if isinstance(count, int) and not isinstance(count, bool) and count >= n:
            fewer = max(1, n // 5)  # the book's fifth, at least one
            fixes = alone or [
                _validation_fix("Hold out 20 % instead", {"method": "holdout", "fraction": 0.2}),
                _validation_fix(
                    f"Hold out {fewer:,} sample{'s' if fewer != 1 else ''}",
                    {"method": "holdout", "count": fewer},
                ),
            ]
            return (
                f"{where}.count: {count:,} samples are held out for validation, but the "
                f"training split has only {n:,}, so none would be left to train on: hold "
                f"out at most {n - 1:,} (Train page, Validation), or hold out a fraction "
                "such as 0.2.",
                fixes,
            )
        if fraction is not None and n < 2:
            return (
                f"{where}: the training split has {n} sample: nothing can be held out.",
                alone,
            )
    if method == "split":
        fraction = val.get("fraction")
        if isinstance(fraction, (int, float)) and not isinstance(fraction, bool):
            from builder.data.splits import split_point

            split_at = split_point(n, fraction)
            if split_at in (0, n):
                side = "training" if split_at == 0 else "validation"
                # The book's 0.2 leaves a sample on both sides of every n >= 2 (floor(0.8 n)
                # is then between 1 and n - 1).
                split = {"method": "split", "fraction": 0.2}
                fixes = alone or [_validation_fix("Use validation_split 0.2", split)]
                return (
                    f"{where}.fraction: validation_split {fraction:g} of {n:,} training "
                    f"samples leaves no {side} sample (Keras refuses it): use a fraction "
                    "such as 0.2.",
                    fixes,
                )
    if method == "kfold":
        k = val.get("k")
        if isinstance(k, int) and not isinstance(k, bool) and k > n:
            return (
                f"{where}.k: {k} folds need at least {k} training samples, but the "
                f"training split has {n:,}: use at most {n} folds (the book uses 4).",
                alone or [_validation_fix(f"Use {n} folds", {"method": "kfold", "k": n})],
            )
    return None


def attach(project: dict, result: CheckResult, info: Any) -> bool:
    """Add "does not fit the data" errors to ``result`` (and make it not valid); True when
    there were none.

    The output's problem goes on the output layer (unless it already has an error); the
    input's on every layer the input feeds. Advice that repeats one of these is dropped.
    """
    if info is None or not result.layers:
        return True
    split = validation_problem(project, train_samples(project))
    if split:
        result.add_error(*split)
    touched: set[str] = set()
    found = _input_problem(project, result, info)
    if found:
        source, message, fix = found
        for rep in result.layers:
            if source in rep.inbound and rep.ok:
                rep.error, rep.fixes = message, [fix]
                touched.add(rep.name)
    outputs = (project.get("model") or {}).get("outputs")
    outputs = outputs if isinstance(outputs, list) else []
    mapping = _mapping_problems(outputs, info)
    for message in mapping:
        result.add_error(message)
    for output in outputs:
        rep = result.layer(output)
        if rep is None or not rep.ok or rep.tentative:
            continue
        problem = _output_problem(project, rep, info)
        if problem:
            rep.error, rep.fixes = problem
            touched.add(rep.name)
    if not touched:
        return not (split or mapping)
    result.valid = False
    for rep in result.layers:
        if rep.name in touched:
            said = set(_SAID_BY_ERRORS)
            if "a regression loss" in (rep.error or ""):
                said.add("regression-loss-on-classifier")
            rep.warnings = [w for w in rep.warnings if w.code not in said]
    result.warnings = [w for w in result.warnings if not (w.code == "input-vs-data" and found)]
    return False


def check(project: dict) -> CheckResult:
    """``checker.check`` and then these checks: valid means the model builds and fits the
    project's data. What the pages, Train and ``python -m builder check`` use.

    Sets ``builds`` (Keras builds it) and ``fits_data``: True or False, or None with
    ``data_reason`` when it cannot be known. A model with no data chosen is checked for
    what it is: valid when it builds, with the bundled dataset that fits its input offered
    (advice ``no-data`` with a ``set_data`` fix), never a fix that changes its input. Data
    chosen but unreadable (a CSV over a cap, a missing file) makes it not valid: nothing
    about the fit is known, and training would fail.
    """
    from builder import advice, checker
    from builder.project import data_chosen

    data = project.get("data") if isinstance(project, dict) else None
    if not data_chosen(data):
        result = checker.check(project, None)
        result.builds = result.valid
        result.fits_data = None
        _offer_data(project, result)
        return result
    info = advice.data_info_for(project)
    result = checker.check(project, info)
    result.builds = result.valid
    if info is None:
        reason = _unreadable(data)
        if reason:
            result.warnings = [w for w in result.warnings if w.code != "data-unavailable"]
            result.add_error(f"the data cannot be read: {reason}")
            result.fits_data, result.data_reason = None, f"the data cannot be read: {reason}"
            return result
    fits = attach(project, result, info)
    if info is None:
        result.fits_data, result.data_reason = None, "the data is not known"
    elif fits or result.builds:
        result.fits_data = fits
    else:  # nothing found, but the layers that do not build were not compared with it
        result.fits_data, result.data_reason = None, "checked once the model builds"
    return result


def _unreadable(data: Any) -> str | None:
    """Why the chosen data cannot be described (DataError's message), else None."""
    from builder.data import DataError, registry

    try:
        registry.describe(data if isinstance(data, dict) else {})
    except DataError as err:
        return str(err)
    except Exception:  # invalid settings: validate reports them, with their field
        return None
    return None


def _offer_data(project: dict, result: CheckResult) -> None:
    """Say that no data is chosen, offering the bundled dataset whose samples fit the
    model's single input (``registry.matching_data``) as a one-click fix."""
    from builder.data.registry import DATASETS, matching_data
    from builder.results import Advice

    inputs = (project.get("model") or {}).get("inputs")
    try:
        match = matching_data(inputs) if isinstance(inputs, list) and inputs else None
    except Exception:  # a malformed input: the checker reports it
        match = None
    if match is None:
        result.data_reason = (
            "no data chosen: no bundled dataset has samples of the model's input shape; "
            "choose a dataset or your own CSV on the Data page"
        )
        result.warnings.append(
            Advice(
                "no-data",
                "No data is chosen, so the model is checked on its own (no bundled dataset "
                "has samples of its input shape): choose data on the Data page to train it.",
                None,
            )
        )
        return
    label = DATASETS[match["dataset"]].label
    shape = tuple(inputs[0]["shape"])
    result.data_suggestion = {**match, "label": label}
    result.data_reason = (
        f"no data chosen: {label} fits the input {shape}; choose it (or another dataset) "
        "on the Data page"
    )
    result.warnings.append(
        Advice(
            "no-data",
            f"No data is chosen, so the model is checked on its own. {label} has samples "
            f"that fit its input {shape}: use it, or choose other data on the Data page.",
            None,
            Fix(f"Use {label}", {"op": "set_data", "value": match}),
        )
    )


def problems(result: CheckResult) -> list[tuple[str | None, str]]:
    """Every error of a check, as (layer name or None, message): what Train lists and the
    sidebar counts."""
    return [(None, m) for m in result.errors] + [
        (r.name, r.error) for r in result.layers if r.error
    ]
