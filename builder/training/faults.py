"""Plain-words messages for what goes wrong while training.

``explain_error(exc, project)`` turns an exception raised by data preparation, model
building, ``fit`` or ``evaluate`` into one message that says what happened and what to
change. Keras' own text is kept at the end (shortened) so nothing is hidden. This module
never imports TensorFlow: exception types are recognised by name.
"""

from __future__ import annotations

import errno
import re

from builder import fields

_OOM_NAMES = {"ResourceExhaustedError", "MemoryError", "OutOfMemoryError"}


def nan_message(epoch: int, batch: int, project: dict) -> str:
    """Message for a loss that became NaN/inf at 1-based ``epoch`` and ``batch``."""
    lr = _learning_rate(project)
    now = f" (now {lr:g})" if lr is not None else ""
    return (
        f"loss became NaN at epoch {epoch} batch {batch}: lower the learning rate{now}, "
        "e.g. by 10x, and check that the data has no missing or infinite values and is "
        "scaled to small numbers (e.g. 0-1 or mean 0, std 1). Training was stopped; the "
        "model from this run is not saved because its weights are no longer numbers."
    )


def died_message(exitcode: int | None) -> str:
    """Message for a worker process that ended without reporting how the run ended."""
    if exitcode is not None and exitcode < 0:
        how = f"it was killed by signal {-exitcode}"
        if -exitcode == 9:
            how += ", often because the machine ran out of memory"
        return (
            f"the training process ended unexpectedly (exit code {exitcode}: {how}). "
            "The epochs recorded so far are kept; if memory is the cause, lower the batch "
            "size or use fewer units."
        )
    return (
        f"the training process ended unexpectedly (exit code {exitcode}). The epochs "
        "recorded so far are kept; see the app's console for the error."
    )


def _learning_rate(project: dict):
    try:
        return float(project["compile"]["optimizer"]["config"]["learning_rate"])
    except (KeyError, TypeError, ValueError):
        return None


def _batch_size(project: dict):
    try:
        return int(project["fit"]["batch_size"])
    except (KeyError, TypeError, ValueError):
        return None


def _loss(project: dict) -> str:
    loss = (project.get("compile") or {}).get("loss")
    return str(loss)


def _shape(text: str) -> tuple:
    """'(None, 10)' -> (None, 10)."""
    parts = [p.strip() for p in text.strip("()[] ").split(",") if p.strip()]
    return tuple(None if p == "None" else int(p) for p in parts if p == "None" or p.isdigit())


def _short(text: str, limit: int = 300) -> str:
    """Keras' text on one line, without terminal colours or TF graph tracebacks."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))
    if text.startswith("Graph execution error"):
        lines = [
            line.strip()
            for line in text.splitlines()
            if line.strip()
            and not line[:1].isspace()
            and not line.startswith(("Graph execution error", "Detected at node", "[["))
        ]
        text = lines[-1] if lines else text
    return fields.cut(" ".join(text.split()), limit)


def _labels_vs_output(target: tuple, output: tuple, loss: str) -> str:
    t, o = target[1:], output[1:]
    if loss == "categorical_crossentropy" and t in ((), (1,)):
        fix = (
            "the labels are class numbers (one per sample) but loss "
            "'categorical_crossentropy' needs one-hot labels: use loss "
            "'sparse_categorical_crossentropy', or one-hot encode the labels in the data "
            "settings"
        )
    elif loss == "sparse_categorical_crossentropy" and len(t) >= 1 and t[-1] not in (1, None):
        fix = (
            "the labels are one-hot vectors but loss 'sparse_categorical_crossentropy' "
            "needs class numbers: use loss 'categorical_crossentropy', or turn off one-hot "
            "encoding in the data settings"
        )
    elif o and (t[-1:] or (1,))[0] != o[-1]:
        want = (t[-1:] or (1,))[0]
        fix = (
            f"the last layer gives {o[-1]} values per sample but each label has {want}: "
            f"set the last layer's units to {want} (one per class for one-hot labels, 1 "
            "for a yes/no or a single number)"
        )
    else:
        fix = "make the last layer's output match the labels, or pick a loss that fits them"
    return (
        f"the labels do not fit the model's output: each label is {_fmt(t)}, the model "
        f"outputs {_fmt(o)} per sample with loss '{loss}'; {fix}."
    )


def _fmt(shape: tuple) -> str:
    """(10,) -> '10 values'; () -> 'a single number'; (28, 28) -> 'shape (28, 28)'."""
    if not shape or shape == (1,):
        return "a single number"
    if len(shape) == 1:
        return f"{'any number of' if shape[0] is None else shape[0]} values"
    return "shape (" + ", ".join("any" if d is None else str(d) for d in shape) + ")"


# (pattern, builder(match, project) -> message), tried in order on the exception text.
def _rules():
    return [
        (
            re.compile(r"target\.shape=(\([^)]*\)), output\.shape=(\([^)]*\))"),
            lambda m, p: _labels_vs_output(_shape(m[1]), _shape(m[2]), _loss(p)),
        ),
        (
            re.compile(
                r"(?:logits|labels) and (?:labels|logits) must (?:have the same shape|be "
                r"broadcastable)[^(]*(\([^)]*\))[^(]*(\([^)]*\))"
            ),
            lambda m, p: _labels_vs_output(_shape(m[2]), _shape(m[1]), _loss(p)),
        ),
        (
            re.compile(
                r"Received a label value of (-?\d+) which is outside the valid range of "
                r"\[0, (\d+)\)"
            ),
            lambda m, p: (
                f"a label is {m[1]} but the last layer has only {m[2]} units (classes "
                f"0-{int(m[2]) - 1}): set the last layer's units to the number of "
                "classes."
            ),
        ),
        (
            re.compile(
                r"expected axis -1 of input shape to have value (\d+), but received input "
                r"with shape (\([^)]*\))"
            ),
            lambda m, p: (
                f"the data has {_shape(m[2])[-1]} values per sample where the model "
                f"expects {m[1]}: set the input's shape to match the data, or change "
                "the data settings."
            ),
        ),
        (
            re.compile(
                r"expected (?:min_)?ndim=(\d+), found ndim=(\d+)\. Full shape received: "
                r"(\([^)]*\))"
            ),
            lambda m, p: (
                f"a layer needs inputs with {int(m[1]) - 1} axes per sample but gets "
                f"{int(m[2]) - 1} ({_fmt(_shape(m[3])[1:])}): add a Reshape or "
                "Flatten layer before it, or change the input shape."
            ),
        ),
        (
            re.compile(
                r"Cannot convert .* to (?:EagerTensor of )?dtype (\w+)|Could not convert "
                r"string to float"
            ),
            lambda m, p: (
                "the data contains text or mixed values where numbers are needed: "
                "encode text columns as numbers in the data settings."
            ),
        ),
    ]


def explain_error(exc: BaseException, project: dict) -> str:
    """One plain message (what went wrong + what to change) for a training-time error."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            "the disk where runs are written is full (no space left on device), so "
            "training could not save its progress: free some space (delete old runs on the "
            "Results page), then resume the run."
        )
    if name in _OOM_NAMES or "OOM when allocating" in text or "out of memory" in text.lower():
        batch = _batch_size(project)
        now = f" (now {batch})" if batch else ""
        return (
            "ran out of memory while training: use a smaller batch size"
            + now
            + ", fewer units or filters, or a smaller input; on a GPU, try the CPU or mixed "
            f"precision. ({name})"
        )
    if {"ProjectError", "DataError", "DeviceError"} & {t.__name__ for t in type(exc).__mro__}:
        return text  # already written for people by the project, data or device layer
    for pattern, make in _rules():
        m = pattern.search(text)
        if m:
            return make(m, project) + f" (Keras said: {_short(text, 200)})"
    return f"training failed: {name}: {_short(text)}"
