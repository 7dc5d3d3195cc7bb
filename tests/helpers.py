"""Small builders of project dicts shared by the core tests."""
from __future__ import annotations

import copy


def project(layers, shape=(784,), outputs=None, inputs=None, loss="categorical_crossentropy",
            metrics=("accuracy",), dataset="digits", options=None, dtype="float32"):
    """A project dict around ``layers`` (tuples of (name, class_name, config[, inbound]))."""
    lays = []
    for spec in layers:
        name, cls, cfg = spec[:3]
        lay = {"name": name, "class_name": cls, "config": copy.deepcopy(cfg)}
        if len(spec) > 3 and spec[3] is not None:
            lay["inbound"] = list(spec[3])
        lays.append(lay)
    return {
        "format": "netbuilder.project", "version": 1, "name": "test",
        "model": {"inputs": inputs or [{"name": "x", "shape": list(shape), "dtype": dtype}],
                  "layers": lays,
                  "outputs": list(outputs) if outputs else ([lays[-1]["name"]] if lays else [])},
        "compile": {"optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 0.001}},
                    "loss": loss, "loss_weights": None, "metrics": list(metrics)},
        "data": {"dataset": dataset, "options": dict(options or {})},
        "fit": {"epochs": 1, "batch_size": 32, "validation": {"method": "none"},
                "shuffle": True, "seed": 0, "callbacks": []},
    }
