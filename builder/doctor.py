"""The doctor: reads a run's curves and predictions and says what to do next, as a teacher
would, each finding with a one-click fix.

``diagnose(history, project, predictions, run=...)`` returns findings, plain data::

    [{"kind": "overfitting",
      "message": "Validation loss was lowest at epoch 4 and rose for the 6 epochs after ...",
      "fix": {"label": "Retrain for 4 epochs", "action": {"op": "retrain", "epochs": 4}}}]

``fix`` is ``None`` only where no edit can help (every label is the same class). An action
is applied by ``builder.fixes.apply_fix`` to the run's project, except ``{"op": "resume",
"run": id, "epochs": total, "more": n}``, which continues the run itself from its last
checkpoint (``python -m builder train --resume RUN --epochs TOTAL``; Resume in the app).

``history`` is Keras' per-epoch logs (``loss``, ``val_loss``, ...; a NaN loss may be
``nan`` or ``None``). ``predictions`` is the small summary the training worker writes to
the run folder as ``predictions.json`` (``summarise`` makes it from a bounded sample of the
validation split), so pages and the CLI never load a model to diagnose a run.

Every threshold is in ``THRESHOLDS``, each read in one place. No TensorFlow, no Streamlit:
numpy only, so the pages, the CLI and the worker share it.
"""

from __future__ import annotations

import copy
import math
from typing import Any, TypedDict

import numpy as np

Finding = dict  # {"kind": str, "message": str, "fix": {"label": str, "action": dict} | None}

# What each rule looks for. Relative changes are fractions of the value compared with.
THRESHOLDS: dict[str, float] = {
    # Curves
    "min_epochs": 3,  # fewer epochs than this: too short to read a curve (NaN still is)
    "overfit_epochs_after_best": 2,  # validation loss above its best for this many epochs...
    "overfit_rise": 0.05,  # ...and its last value this much above the best: overfitting
    "improving_window": 3,  # still improving: the loss fell over these last epochs...
    "improving_drop": 0.01,  # ...by at least this much (relative) and is at its best
    "more_epochs_share": 0.5,  # Resume for this share of the epochs done more...
    "more_epochs_min": 5,  # ...and never fewer than this many
    "diverge_ratio": 2.0,  # the training loss ends this many times above its best: diverging
    "no_progress_drop": 0.02,  # the training loss fell less than this from its first epoch
    "lr_step": 10.0,  # the learning-rate fix divides (or multiplies) by this
    "lr_high": 0.01,  # no progress at this learning rate or above: lower it; below: raise it
    # Predictions (on a sample of the validation split)
    "unscaled_input": 20.0,  # an input feature reaching this size (absolute) is unscaled
    "dead_relu_share": 0.5,  # a ReLU layer with this share of units never active is dying
    "collapse_spread": 0.05,  # predictions' spread below this share of the labels': collapsed
    "collapse_class_share": 0.95,  # one class predicted for this share of samples: collapsed
    "range_overlap": 0.25,  # predictions cover less than this share of the labels' range...
    "range_offset": 1.0,  # ...and their mean is this many label deviations off: far off
    "imbalance_ratio": 4.0,  # the commonest class this many times the rarest: imbalanced
}

LOSS = "loss"
VAL_LOSS = "val_loss"


class PredictionSummary(TypedDict, total=False):
    """``predictions.json``: what the model predicted on a bounded sample (see ``summarise``)."""

    split: str  # "validation" or "training": where the sample comes from
    samples: int
    task: str  # "regression", "binary" or "multiclass"
    labels: dict  # regression: {"min", "max", "mean", "std", "median"} of the true values
    predicted: dict  # regression: {"min", "max", "mean", "std"} of the predictions
    mae: float  # regression: mean absolute error of the predictions
    median_mae: float  # regression: the same for always predicting the labels' median
    label_counts: list  # classification: samples per true class
    predicted_counts: list  # classification: samples per predicted class
    class_names: list | None
    input_abs_max: float | None  # the largest input value (tables and vectors), if numeric
    dead_relu: dict  # ReLU layer name -> share of its units that never fired on the sample


# --------------------------------------------------------------------------- summary


def class_indices(values: Any) -> np.ndarray:
    """Class numbers from model outputs or labels: argmax of (n, classes), 0.5 cut of (n,)
    or (n, 1) floats, integers as they are."""
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] > 1:
        return arr.argmax(axis=1)
    flat = arr.reshape(len(arr), -1)[:, 0] if arr.ndim > 1 else arr
    if np.issubdtype(flat.dtype, np.integer):
        return flat.astype(np.int64)
    return (flat >= 0.5).astype(np.int64)


def _stats(values: np.ndarray) -> dict:
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std()),
    }


def summarise(
    task: str,
    y_true: Any,
    y_pred: Any,
    *,
    split: str = "validation",
    num_classes: int | None = None,
    class_names: list | None = None,
    input_abs_max: float | None = None,
    dead_relu: dict | None = None,
) -> PredictionSummary:
    """The summary of predictions ``y_pred`` against labels ``y_true`` (same samples, in
    the form the model trains on: values, 0/1, class numbers or one-hot)."""
    true = np.asarray(y_true)
    pred = np.asarray(y_pred, dtype=np.float64)
    out: PredictionSummary = {"split": split, "samples": len(true), "task": task}
    if task == "regression":
        t = true.astype(np.float64).reshape(len(true), -1)[:, 0]
        p = pred.reshape(len(pred), -1)[:, 0]
        median = float(np.median(t))
        out["labels"] = {**_stats(t), "median": median}
        out["predicted"] = _stats(p)
        out["mae"] = float(np.abs(p - t).mean())
        out["median_mae"] = float(np.abs(median - t).mean())
    else:
        t_cls, p_cls = class_indices(true), class_indices(pred)
        k = max(
            int(num_classes or 0), 2, int(t_cls.max(initial=0)) + 1, int(p_cls.max(initial=0)) + 1
        )
        out["label_counts"] = np.bincount(t_cls, minlength=k).tolist()
        out["predicted_counts"] = np.bincount(p_cls, minlength=k).tolist()
        out["class_names"] = list(class_names) if class_names else None
    out["input_abs_max"] = input_abs_max
    out["dead_relu"] = dict(dead_relu or {})
    return out


# --------------------------------------------------------------------------- curves


def _curve(history: dict, key: str) -> list[float]:
    """The values of ``key``, NaN for a missing or non-finite one."""
    out = []
    for v in history.get(key) or []:
        out.append(float(v) if v is not None and math.isfinite(float(v)) else math.nan)
    return out


def _best(values: list[float]) -> int:
    """0-based index of the lowest finite value (the first on a tie)."""
    finite = [(v, i) for i, v in enumerate(values) if not math.isnan(v)]
    return min(finite)[1] if finite else 0


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def still_improving(history: dict) -> bool:
    """Whether the monitored loss (validation when there is one) is at its best on the last
    epoch and fell noticeably over the last few: more epochs would help. The worker keeps
    a finished run's last checkpoint when this holds, so Resume can continue it."""
    key = VAL_LOSS if any(not math.isnan(v) for v in _curve(history, VAL_LOSS)) else LOSS
    values = _curve(history, key)
    window = int(THRESHOLDS["improving_window"])
    if len(values) < max(window + 1, int(THRESHOLDS["min_epochs"])):
        return False
    if any(math.isnan(v) for v in values) or _best(values) != len(values) - 1:
        return False
    before, last = values[-1 - window], values[-1]
    return before > 0 and (before - last) / before >= THRESHOLDS["improving_drop"]


def _nan_finding(history: dict, project: dict | None) -> Finding | None:
    values = _curve(history, LOSS)
    if not values or not any(math.isnan(v) for v in values):
        return None
    epoch = next(i for i, v in enumerate(values) if math.isnan(v)) + 1
    return {
        "kind": "nan",
        "message": f"The training loss became NaN (not a number) in epoch {epoch}: the "
        "weights blew up. The usual cause is a learning rate too high for these data.",
        "fix": _lr_fix(project, lower=True),
    }


def _diverging(history: dict, project: dict | None) -> Finding | None:
    values = _curve(history, LOSS)
    if len(values) < THRESHOLDS["min_epochs"] or any(math.isnan(v) for v in values):
        return None
    best = min(values)
    if best <= 0 or values[-1] < THRESHOLDS["diverge_ratio"] * best:
        return None
    return {
        "kind": "diverging",
        "message": f"The training loss climbed from {best:.4g} (epoch {_best(values) + 1}) to "
        f"{values[-1]:.4g} by the last epoch: training is diverging, which a learning rate "
        "that is too high does.",
        "fix": _lr_fix(project, lower=True),
    }


def _overfitting(history: dict, project: dict | None) -> Finding | None:
    val, train = _curve(history, VAL_LOSS), _curve(history, LOSS)
    if len(val) < THRESHOLDS["min_epochs"] or any(math.isnan(v) for v in val):
        return None
    k = _best(val)  # 0-based
    after = len(val) - 1 - k
    if after < THRESHOLDS["overfit_epochs_after_best"]:
        return None
    if val[-1] < val[k] * (1 + THRESHOLDS["overfit_rise"]):
        return None
    still_learning = len(train) == len(val) and train[-1] < train[k]
    epochs = k + 1
    fix = {"label": f"Retrain for {_epochs(epochs)}", "action": {"op": "retrain", "epochs": epochs}}
    return {
        "kind": "overfitting",
        "message": f"Validation loss was lowest at epoch {epochs} ({val[k]:.4g}) and rose to "
        f"{val[-1]:.4g} over the {after} epochs after"
        + (", while the training loss kept falling" if still_learning else "")
        + ": the model is overfitting, learning the training samples rather than the task. "
        f"Train a fresh model on all the training data for {epochs} epochs (the book's "
        "last step), or add Dropout or make the model smaller.",
        "fix": fix if project is not None else None,
    }


def _underfitting(history: dict, project: dict | None, run: dict) -> Finding | None:
    if run.get("state") not in ("finished", "stopped", "interrupted") or not still_improving(
        history
    ):
        return None
    done = len(_curve(history, LOSS))
    asked = ((project or {}).get("fit") or {}).get("epochs")
    if run.get("state") == "finished" and isinstance(asked, int) and done < asked:
        return None  # EarlyStopping ended it: the run decided it was done
    more = max(
        int(THRESHOLDS["more_epochs_min"]), math.ceil(done * THRESHOLDS["more_epochs_share"])
    )
    watched = "validation" if _curve(history, VAL_LOSS) else "training"
    message = (
        f"The {watched} loss was still falling at the last epoch ({done}): the model has more "
        f"to learn. Train it for {more} more epochs."
    )
    if run.get("resumable") and run.get("id"):
        action = {"op": "resume", "run": run["id"], "epochs": done + more, "more": more}
        fix = {"label": f"Resume for {more} more epochs", "action": action}
    elif project is not None:
        fix = {
            "label": f"Train again for {done + more} epochs",
            "action": {"op": "set_fit", "key": "epochs", "value": done + more},
        }
    else:
        fix = None
    return {"kind": "underfitting", "message": message, "fix": fix}


def _no_progress(history: dict, project: dict | None, predictions: dict | None) -> Finding | None:
    values = _curve(history, LOSS)
    if len(values) < THRESHOLDS["min_epochs"] or any(math.isnan(v) for v in values):
        return None
    first = values[0]
    if first <= 0 or (first - min(values)) / first >= THRESHOLDS["no_progress_drop"]:
        return None
    cause, fix = _cause(project, predictions)
    return {
        "kind": "no_progress",
        "message": f"The training loss hardly moved from its first epoch ({first:.4g} → "
        f"{values[-1]:.4g}): the model is not learning. {cause}",
        "fix": fix,
    }


# --------------------------------------------------------------------------- fixes


def _optimizer(project: dict | None) -> tuple[dict | None, float | None]:
    optimizer = ((project or {}).get("compile") or {}).get("optimizer")
    if not isinstance(optimizer, dict):
        return None, None
    lr = (optimizer.get("config") or {}).get("learning_rate")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        return optimizer, None
    return optimizer, float(lr)


def _lr_fix(project: dict | None, lower: bool) -> dict | None:
    """Set the optimizer's learning rate ÷ (or ×) ``lr_step``; None when it has none."""
    optimizer, lr = _optimizer(project)
    if optimizer is None or lr is None:
        return None
    new = float(f"{lr / THRESHOLDS['lr_step'] if lower else lr * THRESHOLDS['lr_step']:.3g}")
    value = copy.deepcopy(optimizer)
    value["config"]["learning_rate"] = new
    verb = "Lower" if lower else "Raise"
    return {
        "label": f"{verb} the learning rate to {new:g}",
        "action": {"op": "set_compile", "key": "optimizer", "value": value},
    }


def _cause(project: dict | None, predictions: dict | None) -> tuple[str, dict | None]:
    """Why a model learns nothing, and the fix: unscaled inputs first, then dying ReLUs,
    then the learning rate."""
    summary = predictions or {}
    largest = summary.get("input_abs_max")
    options = ((project or {}).get("data") or {}).get("options") or {}
    if (
        largest is not None
        and largest >= THRESHOLDS["unscaled_input"]
        and options.get("normalize") is False
    ):
        return (
            f"Its inputs reach {largest:.4g}: unscaled features this large swamp the "
            "small weights a network starts with. Normalise them (mean 0, deviation 1).",
            {
                "label": "Normalise the input features",
                "action": {"op": "set_data_option", "key": "normalize", "value": True},
            },
        )
    dead = {
        name: share
        for name, share in (summary.get("dead_relu") or {}).items()
        if share >= THRESHOLDS["dead_relu_share"]
    }
    if dead and project is not None:
        name = max(dead, key=lambda n: dead[n])
        return (
            f"{dead[name]:.0%} of the units of '{name}' never fire (dead ReLUs: their "
            "output is 0 for every sample, so no gradient flows through them). "
            "leaky_relu keeps a small slope below 0.",
            {
                "label": f"Use leaky_relu in '{name}'",
                "action": {
                    "op": "set_config",
                    "target": name,
                    "key": "activation",
                    "value": "leaky_relu",
                },
            },
        )
    _, lr = _optimizer(project)
    if lr is None:
        return "Check the learning rate and that the inputs are scaled.", None
    if lr >= THRESHOLDS["lr_high"]:
        return (
            f"A learning rate of {lr:g} is high: the steps overshoot.",
            _lr_fix(project, lower=True),
        )
    return (
        f"A learning rate of {lr:g} may be too small for the weights to move.",
        _lr_fix(project, lower=False),
    )


# --------------------------------------------------------------------------- predictions


def _regression(summary: dict, project: dict | None) -> list[Finding]:
    labels, predicted = summary.get("labels"), summary.get("predicted")
    if not labels or not predicted:
        return []
    findings = []
    spread, guess = labels["std"], predicted["mean"]
    if spread > 0 and predicted["std"] < THRESHOLDS["collapse_spread"] * spread:
        cause, fix = _cause(project, summary)
        findings.append(
            {
                "kind": "collapsed",
                "message": f"Every prediction is about {guess:.4g} (spread "
                f"{predicted['std']:.3g}) while the labels spread {spread:.3g}: the model "
                f"predicts one value for everything. {cause}",
                "fix": fix,
            }
        )
    width = labels["max"] - labels["min"]
    overlap = max(0.0, min(labels["max"], predicted["max"]) - max(labels["min"], predicted["min"]))
    offset = abs(guess - labels["mean"])
    if (
        spread > 0
        and width > 0
        and overlap / width < THRESHOLDS["range_overlap"]
        and offset >= THRESHOLDS["range_offset"] * spread
    ):
        mae, baseline = summary.get("mae"), summary.get("median_mae")
        worse = (
            f" Its mean absolute error, {mae:.4g}, is worse than always predicting the median "
            f"({baseline:.4g})."
            if mae is not None and baseline is not None and mae > baseline
            else ""
        )
        findings.append(
            {
                "kind": "range",
                "message": f"The predictions run {predicted['min']:.4g} to "
                f"{predicted['max']:.4g} but the labels run {labels['min']:.4g} to "
                f"{labels['max']:.4g}: the output is on the wrong scale.{worse} A network "
                "starts near 0 with a spread near 1; a Rescaling layer after the output "
                f"(× {spread:.4g} + {labels['mean']:.4g}) puts its answers in the labels' units.",
                "fix": _rescale_fix(project, spread, labels["mean"]),
            }
        )
    return findings


def _rescale_fix(project: dict | None, scale: float, offset: float) -> dict | None:
    outputs = ((project or {}).get("model") or {}).get("outputs") or []
    if len(outputs) != 1:
        return None
    config = {"scale": float(f"{scale:.4g}"), "offset": float(f"{offset:.4g}")}
    return {
        "label": f"Add Rescaling(scale={config['scale']:g}, offset={config['offset']:g}) "
        "after the output",
        "action": {
            "op": "add_after",
            "target": outputs[0],
            "layer": {"class_name": "Rescaling", "config": config},
        },
    }


def _classification(summary: dict, project: dict | None) -> list[Finding]:
    labels, predicted = summary.get("label_counts"), summary.get("predicted_counts")
    if not labels or not predicted or not sum(labels):
        return []
    names = summary.get("class_names") or []

    def name(i: int) -> str:
        return f"'{names[i]}'" if i < len(names) else f"class {i}"

    findings: list[Finding] = []
    total = sum(labels)
    present = [c for c in labels if c > 0]
    top = int(np.argmax(labels))
    if len(present) == 1:
        return [
            {
                "kind": "constant_labels",
                "message": f"Every label in the {summary.get('split', 'validation')} sample is "
                f"{name(top)}: there is nothing to learn. Pick a target column whose "
                "values differ (Data page).",
                "fix": None,
            }
        ]
    share = labels[top] / total
    if max(present) >= THRESHOLDS["imbalance_ratio"] * min(present):
        findings.append(
            {
                "kind": "imbalance",
                "message": f"The classes are imbalanced: {name(top)} is {share:.0%} of the "
                f"labels, the rarest {min(present) / total:.1%}. A model that always answers "
                f"{name(top)} scores {share:.0%} accuracy: judge it by precision and recall.",
                "fix": _metrics_fix(project, summary.get("task")),
            }
        )
    p_top = int(np.argmax(predicted))
    p_share = predicted[p_top] / max(sum(predicted), 1)
    if p_share >= THRESHOLDS["collapse_class_share"] and share < THRESHOLDS["collapse_class_share"]:
        which = "the majority class" if p_top == top else "one class"
        cause, fix = _cause(project, summary)
        findings.append(
            {
                "kind": "majority_class",
                "message": f"The model answers {name(p_top)} for {p_share:.0%} of the samples "
                f"({which}) although only {labels[p_top] / total:.0%} of the labels are "
                f"{name(p_top)}: it has collapsed to one answer. {cause}",
                "fix": fix,
            }
        )
    return findings


def _metrics_fix(project: dict | None, task: str | None) -> dict | None:
    metrics = ((project or {}).get("compile") or {}).get("metrics")
    if task != "binary" or not isinstance(metrics, list):
        return None
    added = [m for m in ("precision", "recall") if m not in metrics]
    if not added:
        return None
    return {
        "label": "Add precision and recall to the metrics",
        "action": {"op": "set_compile", "key": "metrics", "value": metrics + added},
    }


# --------------------------------------------------------------------------- entry points


def diagnose(
    history: dict,
    project: dict | None = None,
    predictions: dict | None = None,
    *,
    run: dict | None = None,
    final: bool = True,
) -> list[Finding]:
    """What a teacher would say about this run, most urgent first.

    ``run`` is the run's record (``id``, ``state``, and ``resumable``: whether it has a
    checkpoint to resume from). ``final=False`` reads a run still training: only what is
    already clear (NaN, divergence, validation loss turned) is said.
    """
    run = run or {}
    history = history or {}
    nan = _nan_finding(history, project)
    if nan is not None:
        return [nan]
    findings = [f for f in (_diverging(history, project), _overfitting(history, project)) if f]
    if not final:
        return findings
    found = []
    if predictions:
        found = (
            _regression(predictions, project)
            if predictions.get("task") == "regression"
            else _classification(predictions, project)
        )
    kinds = {f["kind"] for f in found}
    if "constant_labels" in kinds:
        return found  # nothing else matters until the target changes
    stalled = None if findings else _no_progress(history, project, predictions)
    if stalled is not None or "range" in kinds:
        # One cause, one fix: the collapse is what no progress or a wrong scale looks like.
        found = [f for f in found if f["kind"] not in ("collapsed", "majority_class")]
    findings += [stalled] if stalled else []
    findings += found
    if not findings or all(f["kind"] == "imbalance" for f in findings):
        underfit = _underfitting(history, project, run)
        findings += [underfit] if underfit else []
    return findings


def diagnose_run(run: dict) -> list[Finding]:
    """``diagnose`` for a run as ``builder.training.runs.load_run`` returns it."""
    info = run.get("info") or {}
    project = run.get("project")
    kfold = (((project or {}).get("fit") or {}).get("validation") or {}).get("method") == "kfold"
    record = {
        "id": info.get("id"),
        "state": info.get("state"),
        "resumable": bool(run.get("checkpoint")) and not kfold,
    }
    final = info.get("state") not in ("starting", "running")
    return diagnose(
        run.get("history") or {}, project, run.get("predictions"), run=record, final=final
    )
