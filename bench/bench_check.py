"""Shape-check latency vs building the same model in plain Keras, measured in one run.

    python bench/bench_check.py [--repeats 15]

For stacks of 10, 50 and 200 layers (Dense, and a conv/pool mix) it prints the median time
of ``check(project)`` cold (per-layer cache cleared: every layer built by Keras), warm
(after editing one layer in the middle: the usual live-edit case) and the median time of
building the same model with plain ``keras.Sequential`` (weights created, as Keras does),
with the ratios. Goal (issue 2): a 50-layer check ≤ 100 ms median once TensorFlow is loaded.

Then, for keras.applications ResNet50 and DenseNet121 (weights=None, 224×224×3) imported
through ``builder.keras_import``: the cold check and the check after a one-layer edit in
the middle of the graph (a BatchNormalization's epsilon; shapes unchanged downstream).
Goal (issue 14): ≤ 300 ms after an edit.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder import checker
from builder.checker import check, make_layer


def dense_stack(n: int) -> dict:
    layers = [
        {"name": f"d{i}", "class_name": "Dense", "config": {"units": 32 + i, "activation": "relu"}}
        for i in range(n)
    ]
    return _project(layers, [100])


def conv_stack(n: int) -> dict:
    layers = []
    for i in range(n - 3):
        layers.append(
            {
                "name": f"c{i}",
                "class_name": "Conv2D",
                "config": {
                    "filters": 8 + i % 16,
                    "kernel_size": [3, 3],
                    "padding": "same",
                    "activation": "relu",
                },
            }
        )
    layers += [
        {"name": "pool", "class_name": "MaxPooling2D", "config": {"pool_size": [2, 2]}},
        {"name": "flat", "class_name": "Flatten", "config": {}},
        {"name": "out", "class_name": "Dense", "config": {"units": 10, "activation": "softmax"}},
    ]
    return _project(layers, [28, 28, 1])


def _project(layers, shape):
    return {
        "format": "netbuilder.project",
        "version": 1,
        "name": "bench",
        "model": {
            "inputs": [{"name": "x", "shape": shape}],
            "layers": layers,
            "outputs": [layers[-1]["name"]],
        },
        "compile": {
            "optimizer": {"class_name": "RMSprop", "config": {}},
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "data": {"dataset": "digits", "options": {}},
    }


def plain_keras(project):
    import keras

    inp = project["model"]["inputs"][0]
    model = keras.Sequential(
        [keras.Input(shape=tuple(inp["shape"]))]
        + [
            make_layer(lay["class_name"], lay["config"], lay["name"])
            for lay in project["model"]["layers"]
        ]
    )
    return model.count_params()


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import keras  # noqa: F401  (load TensorFlow before timing)

    check(dense_stack(3))
    print(
        f"{'model':<16}{'check cold':>12}{'check warm':>12}{'plain Keras':>13}"
        f"{'cold/Keras':>12}{'warm/Keras':>12}"
    )
    for label, make in (("dense", dense_stack), ("conv", conv_stack)):
        for n in (10, 50, 200):
            project = make(n)
            edited = copy.deepcopy(project)
            middle = edited["model"]["layers"][n // 2]
            middle["name"] = middle["name"]  # same graph, one changed setting below

            def cold(project=project):
                checker._CACHE.clear()
                check(project)

            def warm(middle=middle, edited=edited):
                # one edit in the middle of an already-checked model
                cfg = middle["config"]
                key = "units" if "units" in cfg else "filters"
                cfg[key] = cfg[key] + 1
                check(edited)

            assert check(project).valid
            t_cold = median_time(cold, args.repeats)
            check(edited)
            t_warm = median_time(warm, args.repeats)
            t_keras = median_time(
                lambda project=project: plain_keras(project), max(3, args.repeats // 3)
            )
            print(
                f"{label + ' ' + str(n):<16}{t_cold * 1e3:>10.1f}ms{t_warm * 1e3:>10.1f}ms"
                f"{t_keras * 1e3:>11.1f}ms{t_cold / t_keras:>12.2f}{t_warm / t_keras:>12.2f}"
            )


def applications(repeats: int) -> None:
    import keras

    from builder import keras_import

    print(f"\n{'application':<16}{'layers':>8}{'check cold':>12}{'after 1 edit':>14}")
    for name in ("ResNet50", "DenseNet121"):
        model = getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3))
        project, _ = keras_import.from_keras_json(model.to_json())
        layers = project["model"]["layers"]
        norms = [lay for lay in layers if lay["class_name"] == "BatchNormalization"]
        target = norms[len(norms) // 2]
        edits = iter(range(10**6))

        def cold(project=project):
            checker._CACHE.clear()
            check(project)

        def edit(project=project, target=target, edits=edits):
            target["config"]["epsilon"] = 1e-3 + next(edits) * 1e-6
            result = check(project)
            assert result.valid

        assert check(project).total_params == model.count_params()
        t_cold = median_time(cold, max(3, repeats // 5))
        check(project)
        t_edit = median_time(edit, repeats)
        print(f"{name:<16}{len(layers):>8}{t_cold * 1e3:>10.0f}ms{t_edit * 1e3:>12.0f}ms")


if __name__ == "__main__":
    main()
    applications(int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 15)
