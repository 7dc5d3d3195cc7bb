"""Worst inputs within each cap (builder/limits.py): time and peak memory to open and check.

    python bench/bench_caps.py [--only NAME ...]
    python bench/bench_caps.py --costs [LAYER ...]

Each case runs in a fresh Python process (so peak memory is its own: ``ru_maxrss``), which
writes its input, then times what the app and ``python -m builder check`` do with it:
``open`` (read, parse and validate the file, as Open and the CLI do) and ``check``
(``fit_check.check``: every layer built symbolically by Keras). Where a model is built, the
same process also times plain Keras building that model with the functional API (the
baseline) and prints the ratio. Goal (issue 21): nothing within the caps takes more than
10 s to open or check, or more than 1 GB, on the development machine (2 cores).

``--costs`` measures what one build of each catalogue layer costs a check (its example
config on its example input, median of 10 builds after 2), as a multiple of Dense's, next
to the ``check_cost`` the catalogue gives it (``limits.MAX_CHECK_BUILDS`` is counted in
those): a layer whose measured cost is more than 1.25 times its catalogue cost is marked,
as the catalogue then lets a check run longer than the cap intends.

The README's "Limits and safety" table quotes these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _project(layers: list[dict], inputs=None, outputs=None, experiment=None) -> dict:
    doc = {
        "format": "netbuilder.project",
        "version": 2,
        "name": "caps",
        "model": {
            "inputs": inputs or [{"name": "x", "shape": [64]}],
            "layers": layers,
            "outputs": outputs or [layers[-1]["name"]],
        },
        "compile": {"optimizer": "rmsprop", "loss": "mse", "metrics": ["mae"]},
        "data": {"dataset": "digits"},
    }
    if experiment:
        doc["experiment"] = experiment
    return doc


def chain(n: int) -> dict:
    """``MAX_LAYERS`` Dense layers, no two alike (each its own bias initializer, so the
    checker's cache never hits and Keras builds every one), small enough for the plain
    Keras baseline to allocate."""
    from builder import limits

    n = n or limits.MAX_LAYERS
    bias = [{"class_name": "Constant", "config": {"value": i}} for i in range(n)]
    return _project(
        [
            {"name": f"d{i}", "class_name": "Dense", "config": {"units": 8, "bias_initializer": b}}
            for i, b in enumerate(bias)
        ]
    )


def attention_chain(n: int) -> dict:
    """``MAX_LAYERS`` MultiHeadAttention layers, no two alike, each attending over the one
    before: a layer type that costs a check five times a Dense layer."""
    from builder import limits

    n = n or limits.MAX_LAYERS
    layers, previous = [], "x"
    for i in range(n):
        bias = {"class_name": "Constant", "config": {"value": i}}
        config = {"num_heads": 2, "key_dim": 4, "bias_initializer": bias}
        name = f"a{i}"
        layers.append(
            {
                "name": name,
                "class_name": "MultiHeadAttention",
                "config": config,
                "inbound": [previous, previous],
            }
        )
        previous = name
    return _project(layers, inputs=[{"name": "x", "shape": [8, 4]}])


def vocabulary(n: int) -> dict:
    """A StringLookup whose vocabulary fills the project file's 5 MB (a lookup table of
    560,000 entries, built by the check), feeding an Embedding of that size."""
    n = n or 560_000
    layers = [
        {
            "name": "lookup",
            "class_name": "StringLookup",
            "config": {"vocabulary": [f"{i:x}" for i in range(n)]},
        },
        {
            "name": "embed",
            "class_name": "Embedding",
            "config": {"input_dim": n + 2, "output_dim": 4},
            "inbound": ["lookup"],
        },
    ]
    return _project(layers, inputs=[{"name": "x", "shape": [5], "dtype": "string"}])


def fan_in(n: int) -> dict:
    """Concatenate layers each reading ``MAX_INBOUND`` layers (the previous Concatenate
    and the same 255 Dense layers, so every one has a new input shape and Keras builds
    each), up to ``MAX_CONNECTIONS`` connections in all: the issue's 850 Add layers each
    reading every earlier one, within the caps."""
    from builder import limits

    width = limits.MAX_INBOUND
    base = [
        {"name": f"d{i}", "class_name": "Dense", "config": {"units": 8}, "inbound": ["x"]}
        for i in range(width)
    ]
    layers = list(base)
    connections = width
    k = 0
    previous = base[-1]["name"]
    while connections + width <= (n or limits.MAX_CONNECTIONS):
        reads = [lay["name"] for lay in base[:-1]] + [previous]
        previous = f"c{k}"
        layers.append({"name": previous, "class_name": "Concatenate", "inbound": reads})
        connections += width
        k += 1
    return _project(layers)


def experiment(n: int) -> dict:
    """``MAX_EXPERIMENT_VALUES`` listed values on a ``MAX_LAYERS``-layer model, each
    checked against its setting (the issue: 200,000 seed values ran for hours)."""
    from builder import limits

    doc = chain(0)
    values = n or limits.MAX_EXPERIMENT_VALUES
    half = values // 2
    doc["experiment"] = {
        "parameters": [
            {"setting": "layers.d5000.units", "values": list(range(1, half + 1))},
            {"setting": "fit.seed", "values": list(range(values - half))},
        ],
        "search": "random",
        "metric": "loss",
    }
    return doc


def deep_autosave(n: int) -> str:
    """An autosave nested 200,000 deep, as Recent projects reads it."""
    depth = n or 200_000
    return '{"format": "netbuilder.project", "name": ' + "[" * depth + "]" * depth + "}"


CASES = {
    "chain": (chain, "10,000 Dense layers, no two alike", True),
    "attention": (attention_chain, "10,000 MultiHeadAttention layers, no two alike", True),
    "vocabulary": (vocabulary, "a 560,000-word vocabulary (the 5 MB file cap)", True),
    "fan_in": (fan_in, "layers reading 256 each, 20,000 connections", True),
    "experiment": (experiment, "1,000 listed values on 10,000 layers", False),
    "deep_autosave": (deep_autosave, "autosave nested 200,000 deep (Recent projects)", False),
}


def _keras_baseline(doc: dict) -> float:
    """Seconds for plain Keras to build the model (functional API, weights created)."""
    import keras

    start = time.perf_counter()
    tensors = {
        i["name"]: keras.Input(shape=tuple(i["shape"]), dtype=i.get("dtype", "float32"))
        for i in doc["model"]["inputs"]
    }
    previous = doc["model"]["inputs"][0]["name"]
    for lay in doc["model"]["layers"]:
        cls = getattr(keras.layers, lay["class_name"])
        reads = [tensors[s] for s in lay.get("inbound", [previous])]
        layer = cls(**lay.get("config", {}))
        if lay["class_name"] == "MultiHeadAttention":  # (query, value), positionally
            tensors[lay["name"]] = layer(*reads)
        else:
            tensors[lay["name"]] = layer(reads if len(reads) > 1 else reads[0])
        previous = lay["name"]
    keras.Model(
        list(tensors[i["name"]] for i in doc["model"]["inputs"]),
        tensors[doc["model"]["outputs"][0]],
    )
    return time.perf_counter() - start


def _child(name: str) -> None:
    make, _, builds = CASES[name]
    folder = Path(tempfile.mkdtemp(prefix="bench_caps_"))
    made = make(0)
    result: dict = {}
    if name == "deep_autosave":
        autosave = folder / "autosave"
        autosave.mkdir()
        (autosave / "0123456789abcdef.json").write_text(made, encoding="utf-8")
        from builder import recent

        start = time.perf_counter()
        (summary,) = recent.list_projects(autosave, folder / "runs")
        result["open_s"] = time.perf_counter() - start
        result["bytes"] = len(made)
        result["outcome"] = summary.problem or "read"
    else:
        path = folder / "project.json"
        text = json.dumps(made)
        path.write_text(text, encoding="utf-8")
        result["bytes"] = len(text)
        from builder.project import ProjectError, load_project_file

        start = time.perf_counter()
        try:
            doc = load_project_file(path)
            result["outcome"] = "valid file"
        except ProjectError as err:
            doc = made
            result["outcome"] = str(err).splitlines()[0][:120]
        result["open_s"] = time.perf_counter() - start
        if builds:
            import keras  # noqa: F401  (imported before timing, as the app has it loaded)

            from builder.fit_check import check

            start = time.perf_counter()
            report = check(doc)
            result["check_s"] = time.perf_counter() - start
            problems = report.errors + [lay.error for lay in report.layers if lay.error]
            result["verdict"] = (
                "check: valid" if report.valid else f"check: NOT valid: {problems[:1]}"
            )[:160]
    # Peak memory of opening and checking (the baseline below may need more).
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if builds:
        try:
            result["keras_s"] = _keras_baseline(doc)
        except RecursionError:  # Keras' own graph walk is recursive: a 10,000 chain is past it
            result["keras_error"] = "plain Keras: RecursionError (it cannot build this model)"
    print(json.dumps(result))


def _costs(names: list[str]) -> None:
    """Measured build cost of each catalogue layer against its catalogue ``check_cost``."""
    import statistics

    import keras  # noqa: F401  (imported before timing)

    from builder import catalogue, checker

    def measure(cls: str) -> float:
        entry = catalogue.get(cls)
        config = catalogue.default_config(cls)
        dtype = entry.get("input_dtype") or "float32"
        specs = [(tuple(shape), dtype, None) for shape in entry["example_input"]]
        seconds = []
        for _ in range(12):
            start = time.perf_counter()
            checker._run_layer_uncached(cls, config, specs, {}, None)
            seconds.append(time.perf_counter() - start)
        return statistics.median(seconds[2:]) * 1000

    dense = measure("Dense")
    print(f"Dense: {dense:.2f} ms a build (the unit)")
    print(f"{'layer':<46}{'ms':>7}{'measured':>10}{'catalogue':>10}")
    rows = [(cls, measure(cls)) for cls in names or list(catalogue.LAYERS)]
    for cls, ms in sorted(rows, key=lambda r: -r[1]):
        stored = catalogue.check_cost(cls, catalogue.default_config(cls))
        mark = "  <- above its catalogue cost" if ms / dense > 1.25 * stored else ""
        print(f"{cls:<46}{ms:>7.2f}{ms / dense:>10.2f}{stored:>10.2f}{mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(CASES))
    parser.add_argument("--costs", nargs="*", metavar="LAYER")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    if args.costs is not None:
        _costs(args.costs)
        return
    print(
        f"{'case':<15}{'input':<52}{'open s':>8}{'check s':>9}{'keras s':>9}{'ratio':>7}"
        f"{'peak MB':>9}"
    )
    for name in args.only or CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--child", name],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if done.returncode != 0:
            print(f"{name:<15}failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        check_s, keras_s = r.get("check_s"), r.get("keras_s")
        ratio = f"{check_s / keras_s:6.1f}x" if check_s and keras_s else "-"
        print(
            f"{name:<15}{CASES[name][1]:<52}{r['open_s']:>8.2f}"
            f"{check_s if check_s is not None else float('nan'):>9.2f}"
            f"{keras_s if keras_s is not None else float('nan'):>9.2f}{ratio:>7}"
            f"{r['peak_mb']:>9.0f}"
        )
        print(f"{'':<15}{r['bytes'] / 1024**2:.1f} MB file: {r['outcome']}")
        for extra in ("verdict", "keras_error"):
            if extra in r:
                print(f"{'':<15}{r[extra]}")


if __name__ == "__main__":
    main()
