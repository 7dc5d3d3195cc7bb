"""Training engine overhead: a spawned run with live progress against a plain ``model.fit``.

Run by hand: ``python bench/bench_engine.py [--repeat N] [--convnet-samples N]``.

Same project, same data (real MNIST from ../shared/datasets/mnist.npz through a temporary
KERAS_HOME; the bench says so and stops when the file is absent), two networks: the book's
dense 512-10 (5 epochs, batch 128, first 10,000 samples held out) and a small convnet
(Conv2D 32 - MaxPool - Conv2D 64 - MaxPool - Flatten - Dense 10, 2 epochs on a subset).

- plain: ``model.fit(..., verbose=0)`` in this process, timed around the call;
- engine: ``start_run`` in a spawned worker, polled every 0.5 s as the app does; its
  training time runs from the worker's "training" status to its "testing" status, so the
  per-batch callbacks, throttled events and per-epoch history writes are all inside it.

The ratio engine/plain of the training times is the overhead (goal: <= 1.05). End-to-end
wall times (the worker's TensorFlow import and data loading included) are printed too.
Plain and engine alternate ``--repeat`` times; the medians are compared. On a machine
shared with other work the same code has measured anywhere from 0.8 to 1.7 here: use a
quiet machine and ``--repeat 3`` or more before reading a few per cent into the ratio.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shared_data import SHARED, keras_home_with  # noqa: E402


def _keras_home() -> Path | None:
    return keras_home_with('mnist.npz')


def _project(kind: str, samples: int | None):
    from tests.helpers import project

    if kind == "dense":
        p = project([("d1", "Dense", {"units": 512, "activation": "relu"}),
                     ("out", "Dense", {"units": 10, "activation": "softmax"})], shape=(784,),
                    loss="sparse_categorical_crossentropy", dataset="mnist",
                    options={"image_layout": "flat", "label_encoding": "integer"})
        p["fit"].update(epochs=5, batch_size=128,
                        validation={"method": "holdout", "count": 10_000})
    else:
        p = project([("c1", "Conv2D", {"filters": 32, "kernel_size": [3, 3],
                                       "activation": "relu"}),
                     ("p1", "MaxPooling2D", {"pool_size": [2, 2]}),
                     ("c2", "Conv2D", {"filters": 64, "kernel_size": [3, 3],
                                       "activation": "relu"}),
                     ("p2", "MaxPooling2D", {"pool_size": [2, 2]}),
                     ("f", "Flatten", {}),
                     ("out", "Dense", {"units": 10, "activation": "softmax"})],
                    shape=(28, 28, 1), loss="sparse_categorical_crossentropy", dataset="mnist",
                    options={"image_layout": "image", "label_encoding": "integer"})
        p["fit"].update(epochs=2, batch_size=64,
                        validation={"method": "holdout", "count": max(samples // 6, 1)})
    return p


def _subset(prepared, n: int | None):
    """The prepared MNIST data cut to the first ``n`` training samples (the convnet's)."""
    return types.SimpleNamespace(x_train=prepared.x_train[:n], y_train=prepared.y_train[:n],
                                 x_test=prepared.x_test, y_test=prepared.y_test)


def _plain(p, data) -> float:
    """Seconds of ``model.fit`` the way a plain script trains (hold-out as the book)."""
    import keras

    from builder.build import build
    from builder.data.splits import holdout

    keras.utils.set_random_seed(p["fit"]["seed"])
    model = build(p)
    (x, y), val = holdout(data.x_train, data.y_train, count=p["fit"]["validation"]["count"])
    start = time.perf_counter()
    model.fit(x, y, epochs=p["fit"]["epochs"], batch_size=p["fit"]["batch_size"],
              validation_data=val, verbose=0)
    return time.perf_counter() - start


def _engine(p, data, runs_root: Path) -> tuple[float, float, int]:
    """(training seconds, end-to-end seconds, batch events seen) of a spawned run.

    ``data`` None: the worker prepares the dataset itself, as in the app."""
    from builder.training import start_run

    begin = time.time()
    handle = start_run(p, runs_root, "bench", device="cpu", prepared=data)
    marks, batches = {}, 0
    while handle.active:
        time.sleep(0.5)
        for event in handle.poll():
            if event["type"] == "status" and event["message"] in ("training", "testing"):
                marks[event["message"]] = event["time"]
            batches += event["type"] == "batch"
    if handle.state != "finished":
        raise SystemExit(f"engine run {handle.state}: {handle.message}")
    return marks["testing"] - marks["training"], time.time() - begin, batches


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--convnet-samples", type=int, default=12_000)
    parser.add_argument("--only", choices=("dense", "convnet"))
    args = parser.parse_args(argv)
    home = _keras_home()
    if home is None:
        print(f"MNIST is absent: {SHARED / 'mnist.npz'} not found; nothing measured.")
        return 1
    runs_root = Path(tempfile.mkdtemp(prefix="bench-engine-runs-"))
    try:
        from builder.data.loader import prepare

        for kind in ("dense", "convnet"):
            if args.only and kind != args.only:
                continue
            samples = None if kind == "dense" else args.convnet_samples
            p = _project(kind, samples)
            data = prepare(p)
            if samples:
                data = _subset(data, samples)
            plain, engine, wall = [], [], []
            for _ in range(args.repeat):
                plain.append(_plain(p, data))
                fit_s, wall_s, batches = _engine(p, data if samples else None, runs_root)
                engine.append(fit_s)
                wall.append(wall_s)
            ratio = statistics.median(engine) / statistics.median(plain)
            print(f"{kind:8s} {len(data.x_train):6d} samples before hold-out  plain fit "
                  f"{statistics.median(plain):7.2f} s  engine fit {statistics.median(engine):7.2f}"
                  f" s  ratio {ratio:.3f}  (engine end-to-end {statistics.median(wall):.1f} s, "
                  f"{batches} batch events in the last run)", flush=True)
    finally:
        shutil.rmtree(runs_root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
