"""What the doctor needs from a trained model, computed once at the end of a run.

``summary`` predicts a bounded, evenly spread sample of the validation split (the training
split when there is none), measures the inputs' scale and which ReLU units never fire, and
returns ``builder.doctor.summarise``'s small dict, written to the run folder as
``predictions.json``; pages and the CLI read it instead of loading the model. It never
raises: a model or data it cannot read gives None and the run goes on.
"""

from __future__ import annotations

import numpy as np

from builder import doctor
from builder.data.splits import num_samples, subset

from . import feed

SAMPLES = 1000  # at most this many samples are predicted (a fraction of a second)


def _dead_relu(model, x) -> dict[str, float]:
    """Layer name -> share of its units (last axis) whose output is 0 on every sample."""
    import keras

    layers = [
        layer
        for layer in model.layers
        if getattr(layer, "activation", None) is keras.activations.relu
        or type(layer).__name__ == "ReLU"
    ]
    if not layers:
        return {}
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    outputs = probe.predict(x, batch_size=256, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    shares = {}
    for layer, out in zip(layers, outputs):
        arr = np.asarray(out)
        if arr.ndim < 2 or not arr.shape[-1]:
            continue
        active = (arr.reshape(-1, arr.shape[-1]) > 0).any(axis=0)
        shares[layer.name] = float(1.0 - active.mean())
    return shares


def summary(model, data, x, y, split: str) -> doctor.PredictionSummary | None:
    """The doctor's summary of ``model`` on (a sample of) ``x``, ``y``; ``data`` (a
    ``Prepared``) says the task. None for several outputs, no samples, data that does not
    say its task, or anything that fails."""
    try:
        info = getattr(data, "info", None)
        if info is None or isinstance(y, (dict, list, tuple)) or len(model.outputs) != 1:
            return None
        n = num_samples(x, y)
        if n == 0:
            return None
        index = np.unique(np.linspace(0, n - 1, min(n, SAMPLES)).astype(np.int64))
        xs, ys = subset(x, index), subset(y, index)
        predicted = np.asarray(feed.predict(model, xs, batch_size=256, verbose=0))
        if not np.all(np.isfinite(predicted)):
            return None
        largest = None
        if isinstance(xs, np.ndarray) and xs.dtype.kind == "f" and xs.size:
            largest = float(np.abs(xs).max())
        try:
            dead = _dead_relu(model, xs) if isinstance(xs, np.ndarray) else {}
        except Exception:  # a model Keras cannot cut at its layers: no ReLU reading
            dead = {}
        return doctor.summarise(
            info.task,
            ys,
            predicted,
            split=split,
            num_classes=info.num_classes,
            class_names=list(info.class_names) if info.class_names else None,
            input_abs_max=largest,
            dead_relu=dead,
        )
    except Exception:  # the doctor's reading never fails a run
        return None
