"""Small builders of project dicts shared by the core tests, and the command line run in
the test's own process."""

from __future__ import annotations

import contextlib
import copy
import subprocess
from pathlib import Path


def project(
    layers,
    shape=(784,),
    outputs=None,
    inputs=None,
    loss="categorical_crossentropy",
    metrics=("accuracy",),
    dataset="digits",
    options=None,
    dtype="float32",
):
    """A project dict around ``layers`` (tuples of (name, class_name, config[, inbound]))."""
    lays = []
    for spec in layers:
        name, cls, cfg = spec[:3]
        lay = {"name": name, "class_name": cls, "config": copy.deepcopy(cfg)}
        if len(spec) > 3 and spec[3] is not None:
            lay["inbound"] = list(spec[3])
        lays.append(lay)
    return {
        "format": "netbuilder.project",
        "version": 1,
        "name": "test",
        "model": {
            "inputs": inputs or [{"name": "x", "shape": list(shape), "dtype": dtype}],
            "layers": lays,
            "outputs": list(outputs) if outputs else ([lays[-1]["name"]] if lays else []),
        },
        "compile": {
            "optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 0.001}},
            "loss": loss,
            "loss_weights": None,
            "metrics": list(metrics),
        },
        "data": {"dataset": dataset, "options": dict(options or {})},
        "fit": {
            "epochs": 1,
            "batch_size": 32,
            "validation": {"method": "none"},
            "shuffle": True,
            "seed": 0,
            "callbacks": [],
        },
    }


# Keras call arguments that a project holds as layer settings.
CALL_ARGUMENTS = ("use_causal_mask", "return_attention_scores", "training")


def keras_layer(class_name: str, config: dict, name: str | None = None):
    """``keras.layers.<class_name>(**config)``, the JSON config passed as it is: the tests'
    oracle, independent of ``builder.checker.make_layer``."""
    import keras

    kwargs = copy.deepcopy(config)
    if name is not None:
        kwargs["name"] = name
    if isinstance(kwargs.get("layer"), dict):  # Bidirectional's wrapped layer
        inner = kwargs["layer"]
        kwargs["layer"] = keras_layer(inner["class_name"], inner.get("config", {}))
    return getattr(keras.layers, class_name)(**kwargs)


def keras_model(project: dict):
    """The project's model built with plain Keras calls (``keras_layer``, the functional
    API, a naive repeated scan for the order), or the exception Keras raised."""
    import keras

    model = project["model"]
    tensors = {}
    for inp in model["inputs"]:
        tensors[inp["name"]] = keras.Input(
            shape=tuple(inp["shape"]), name=inp["name"], dtype=inp.get("dtype", "float32")
        )
    previous = model["inputs"][0]["name"]
    links = {}
    for lay in model["layers"]:
        links[lay["name"]] = lay.get("inbound") or [previous]
        previous = lay["name"]
    pending = list(model["layers"])
    made = {}  # shared layers: one Keras layer per "shares" owner

    def tensor(ref):  # "enc:1" is output 1 of enc
        name, _, index = ref.partition(":")
        out = tensors[name]
        return out[int(index or 0)] if isinstance(out, (list, tuple)) else out

    def keyword_refs(lay):
        return [
            r
            for v in (lay.get("inbound_args") or {}).values()
            for r in ([v] if isinstance(v, str) else v)
        ]

    try:
        while pending:
            lay = next(
                lay
                for lay in pending
                if all(
                    s.partition(":")[0] in tensors for s in links[lay["name"]] + keyword_refs(lay)
                )
            )
            pending.remove(lay)
            args = [tensor(s) for s in links[lay["name"]]]
            config = dict(lay.get("config", {}))
            calls = {k: config.pop(k) for k in CALL_ARGUMENTS if k in config}
            for key, refs in (lay.get("inbound_args") or {}).items():
                calls[key] = tensor(refs) if isinstance(refs, str) else [tensor(r) for r in refs]
            owner = lay.get("shares") or lay["name"]
            if owner not in made:
                made[owner] = keras_layer(lay["class_name"], config, owner)
            layer = made[owner]
            if lay["class_name"] in ("MultiHeadAttention", "GroupQueryAttention"):
                out = layer(*args, **calls)  # (query, value, key), as Keras documents
            else:
                out = layer(args if len(args) > 1 else args[0], **calls)
            tensors[lay["name"]] = out
        return keras.Model(
            [tensors[i["name"]] for i in model["inputs"]], [tensors[o] for o in model["outputs"]]
        )
    except Exception as exc:  # the verdict: Keras refused this model
        return exc


class LazyModule:
    """A module imported on first use: ``keras = LazyModule("keras")`` at the top of a test
    file keeps Keras' ~5 s import out of test collection (and out of the fast tier's files
    that never touch it) while the tests read ``keras.layers...`` as usual."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        import importlib

        return getattr(importlib.import_module(self._name), attr)


def cli_in_process(capfd, *args, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """``python -m builder ARGS`` (in ``cwd``) run by ``builder.__main__.main`` in this
    process, as a ``CompletedProcess``: the same exit code and output, without a TensorFlow
    import per call. ``capfd`` (the test's fixture) collects what it writes, from Python or
    from native code. Each command keeps a real ``python -m builder`` test, the README's
    contract: check in test_cli, new in test_starter, export and train in test_hostile,
    sweep in test_experiments.
    """
    from builder.__main__ import main

    argv = [str(arg) for arg in args]
    capfd.readouterr()  # only this command's output
    with contextlib.chdir(cwd or Path.cwd()):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: --help, or arguments it refuses
            code = 0 if exit_.code is None else exit_.code if isinstance(exit_.code, int) else 1
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(["python", "-m", "builder", *argv], code, out, err)
