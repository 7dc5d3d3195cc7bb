"""Preprocessing layers that learn from the training data (Keras' ``adapt``).

A Normalization layer given no mean, a TextVectorization, StringLookup or IntegerLookup
given no vocabulary and a Discretization given no bin_boundaries learn them when a run
starts, from the training split only (after the hold-out is taken off), before the first
epoch. ``adapt_layers`` does it; the exported script carries its source (one
implementation for the app and the script), and the adapted state is saved with the
model (``model.keras``) and written beside it in the run folder (``adapted.json``).
No TensorFlow at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ADAPT_SAMPLES",
    "STATE_KEYS",
    "adapt_layers",
    "adapted_state",
    "pending",
    "training_part",
]

# At most this many training samples are read to adapt a layer (the first ones).
ADAPT_SAMPLES = 20000
# Layer class -> the setting that, left unset, its adapt() learns.
STATE_KEYS = {
    "Normalization": "mean",
    "Discretization": "bin_boundaries",
    "TextVectorization": "vocabulary",
    "StringLookup": "vocabulary",
    "IntegerLookup": "vocabulary",
}


def pending(project: dict) -> list[str]:
    """Names of the project's layers that learn their state by adapting to the data."""
    return [
        lay["name"]
        for lay in project["model"]["layers"]
        if lay.get("class_name") in STATE_KEYS
        and (lay.get("config") or {}).get(STATE_KEYS[lay["class_name"]]) is None
    ]


def training_part(project: dict, x: Any, y: Any) -> Any:
    """The part of the training split ``x`` that the model trains on, which its layers
    adapt to: without the first samples held out (holdout), without the last share Keras
    keeps for validation (validation_split); all of it otherwise (K-fold adapts per fold)."""
    from builder.data.splits import holdout, num_samples, split_point, subset

    spec = project["fit"]["validation"]
    if spec["method"] == "holdout":
        (x_fit, _), _ = holdout(x, y, count=spec.get("count"), fraction=spec.get("fraction"))
        return x_fit
    if spec["method"] == "split":
        return subset(x, slice(None, split_point(num_samples(x), spec["fraction"])))
    return x


def adapt_layers(model, x, max_samples=ADAPT_SAMPLES):
    """Adapt every layer of ``model`` given no state (Normalization without a mean,
    TextVectorization/StringLookup/IntegerLookup without a vocabulary, Discretization
    without bin_boundaries) to the first ``max_samples`` samples of ``x``, the training
    data: an array (text as an array of strings), a list of arrays or a dict keyed by
    input name. A layer deeper in the model adapts to what reaches it. Returns the names
    of the layers adapted."""
    import keras
    import numpy as np
    import tensorflow as tf

    layers = [
        layer
        for layer in model.layers
        if type(layer).__name__ in STATE_KEYS
        and layer.get_config().get(STATE_KEYS[type(layer).__name__]) is None
    ]

    def first(values):
        if tf.is_tensor(values):
            return values[:max_samples]
        values = np.asarray(values)[:max_samples]
        # Keras takes text as TensorFlow strings, not as NumPy arrays of str.
        return tf.constant(values.astype(str)) if values.dtype.kind in "OUS" else values

    if isinstance(x, dict):
        sample = [first(x[t.name]) for t in model.inputs]
    elif isinstance(x, (list, tuple)):
        sample = [first(v) for v in x]
    elif isinstance(x, np.ndarray) or tf.is_tensor(x):
        sample = [first(x)]
    else:  # per-batch encoded multi-hot text: no layer here adapts to it
        return []
    done = []
    for layer in layers:
        direct = [i for i, t in enumerate(model.inputs) if t is layer.input]
        if direct:
            values = sample[direct[0]]
        else:
            source = keras.Model(model.inputs, layer.input)
            values = source.predict(sample if len(sample) > 1 else sample[0], verbose=0)
        layer.adapt(values)
        done.append(layer.name)
    return done


def adapted_state(model, names: list[str]) -> dict[str, Any]:
    """What each adapted layer learnt, as plain JSON values: a vocabulary (in index order),
    a mean and variance, or bin boundaries, keyed by layer name."""
    import keras
    import numpy as np

    out: dict[str, Any] = {}
    for name in names:
        layer = model.get_layer(name)
        kind = type(layer).__name__
        state: dict[str, Any] = {"class_name": kind}
        if kind == "Normalization":
            state["mean"] = np.asarray(keras.ops.convert_to_numpy(layer.mean)).ravel().tolist()
            state["variance"] = (
                np.asarray(keras.ops.convert_to_numpy(layer.variance)).ravel().tolist()
            )
        elif kind == "Discretization":
            state["bin_boundaries"] = [float(b) for b in layer.bin_boundaries]
        else:
            vocabulary = layer.get_vocabulary()
            state["vocabulary"] = [v if isinstance(v, str) else int(v) for v in vocabulary]
        out[name] = state
    return out
