"""Defaults for the parts a project file leaves out, chosen to agree with what it has.

A file without ``compile`` (or with a compile section without ``loss`` or ``metrics``)
gets the loss and metrics its data needs (``registry.recommend_for``, the Data page's
recommendation): Digits' class numbers get sparse_categorical_crossentropy and accuracy,
Boston's prices mse and mae. A file without ``data`` (its data is then the app's default,
Digits) or with a CSV (whose file is never read to open a project) gets the loss its
model's last layer implies: one sigmoid unit binary_crossentropy, softmax
categorical_crossentropy (or sparse for integer labels), anything else mse.

Pure: no file read, no TensorFlow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compile_for"]


def _last_layer(model: Any) -> dict | None:
    """The layer of the model's first output (None when the model names none)."""
    if not isinstance(model, dict):
        return None
    outputs = model.get("outputs")
    layers = model.get("layers")
    if not isinstance(outputs, list) or not outputs or not isinstance(layers, list):
        return None
    return next(
        (lay for lay in layers if isinstance(lay, dict) and lay.get("name") == outputs[0]), None
    )


def _from_last_layer(model: Any, label_encoding: str) -> dict | None:
    """{"loss", "metrics"} that the model's last layer implies, None when it says nothing."""
    layer = _last_layer(model)
    config = layer.get("config") if layer else None
    if not isinstance(config, dict):
        return None
    activation, units = config.get("activation"), config.get("units")
    if activation == "sigmoid" and units == 1:
        return {"loss": "binary_crossentropy", "metrics": ["accuracy"]}
    if activation == "softmax":
        sparse = label_encoding == "integer"
        loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
        return {"loss": loss, "metrics": ["accuracy"]}
    if activation in (None, "linear") and units == 1:
        return {"loss": "mse", "metrics": ["mae"]}
    return None


def compile_for(doc: dict, data_given: bool) -> dict | None:
    """{"loss": name, "metrics": [names]} for a project ``doc`` whose compile section lacks
    them; None to keep the schema's defaults (nothing to go by). ``data_given``: the file
    had a data section (not the app's default filled in)."""
    from builder.data import registry

    data = doc.get("data")
    if not isinstance(data, dict) or registry.validate_data_settings(data):
        return _from_last_layer(doc.get("model"), "one_hot")
    spec = registry.DATASETS[data["dataset"]]
    options = registry.resolved_options(data)
    encoding = options.get("label_encoding", "one_hot")
    if not data_given or spec.source == "csv":
        return _from_last_layer(doc.get("model"), encoding)
    info = registry.describe(data)  # no file read for the built-in datasets
    rec = registry.recommend_for(info)
    return {"loss": rec["loss"], "metrics": list(rec["metrics"])}
