"""Training engine overhead: a spawned run with live progress against a plain ``model.fit``.

Run by hand: ``python bench/bench_engine.py [--repeat N] [--convnet-samples N] [--only K]``.

Same project, same data, three networks:

- ``dense``: the book's 512-10 on real MNIST (../shared/datasets/mnist.npz through a
  temporary KERAS_HOME; without the file this case is skipped and says so), 5 epochs,
  batch 128, the first 10,000 samples held out;
- ``convnet``: Conv2D 32 - MaxPool - Conv2D 64 - MaxPool - Flatten - Dense 10 on the first
  ``--convnet-samples`` MNIST images, 2 epochs, batch 64;
- ``imdb``: the book's IMDB 16-16-1 template, 4 epochs, batch 512, 10,000 held out, on
  25,000 synthetic IMDB-like reviews (bench_multihot's generator: imdb.npz cannot be had
  offline), multi-hot over 10,000 words.

Both sides are fresh processes, so both pay a first ``fit`` in a new process:

- plain: a spawned process that runs ``model.fit(..., verbose=0)`` the way a script does
  and times the call. For ``imdb`` twice: on the whole float32 multi-hot matrix (the book's
  way, vectorised) and on the same per-batch encoded ``tf.data`` input the engine uses
  (``builder.training.feed``), which isolates the engine's own cost;
- engine: ``start_run`` in a spawned worker, polled every 0.5 s as the app does; its
  training time runs from the worker's "training" status to its "testing" status, so the
  per-batch callbacks, throttled events and per-epoch history writes are all inside it.

Plain and engine alternate ``--repeat`` times. The ratio engine/plain of the wall-time
medians is the overhead (goal: <= 1.05). Also printed: the ratio of the fastest runs, the
median of the per-pair ratios, and the ratio of CPU seconds (the plain process's own
``process_time``; the worker's from /proc, read when its events arrive). On this 2-core VM
the same ``fit`` has taken anywhere from 14 to 24 s from one run to the next, and CPU time
drifts by several per cent too: use a quiet machine and ``--repeat 8``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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

from shared_data import SHARED, keras_home_with


def _keras_home() -> Path | None:
    return keras_home_with("mnist.npz")


def _project(kind: str, samples: int | None):
    from tests.helpers import project

    if kind == "imdb":
        from builder import templates

        p = templates.load("imdb_dense")
        p["fit"].update(epochs=4, batch_size=512, validation={"method": "holdout", "count": 10_000})
        return p
    if kind == "dense":
        p = project(
            [
                ("d1", "Dense", {"units": 512, "activation": "relu"}),
                ("out", "Dense", {"units": 10, "activation": "softmax"}),
            ],
            shape=(784,),
            loss="sparse_categorical_crossentropy",
            dataset="mnist",
            options={"image_layout": "flat", "label_encoding": "integer"},
        )
        p["fit"].update(epochs=5, batch_size=128, validation={"method": "holdout", "count": 10_000})
    else:
        p = project(
            [
                ("c1", "Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
                ("p1", "MaxPooling2D", {"pool_size": [2, 2]}),
                ("c2", "Conv2D", {"filters": 64, "kernel_size": [3, 3], "activation": "relu"}),
                ("p2", "MaxPooling2D", {"pool_size": [2, 2]}),
                ("f", "Flatten", {}),
                ("out", "Dense", {"units": 10, "activation": "softmax"}),
            ],
            shape=(28, 28, 1),
            loss="sparse_categorical_crossentropy",
            dataset="mnist",
            options={"image_layout": "image", "label_encoding": "integer"},
        )
        p["fit"].update(
            epochs=2, batch_size=64, validation={"method": "holdout", "count": max(samples // 6, 1)}
        )
    return p


def _subset(prepared, n: int | None):
    """The prepared MNIST data cut to the first ``n`` training samples (the convnet's)."""
    return types.SimpleNamespace(
        x_train=prepared.x_train[:n],
        y_train=prepared.y_train[:n],
        x_test=prepared.x_test,
        y_test=prepared.y_test,
    )


def _imdb_like():
    """25,000 synthetic IMDB-like training reviews (+ 2,500 for testing) as MultiHotRows."""
    import numpy as np
    from bench_multihot import imdb_like

    from builder.data.preprocess import MultiHotRows, Ragged

    seqs, _ = imdb_like()
    ragged = Ragged.from_sequences(seqs)
    labels = (np.random.default_rng(1).random(len(ragged)) < 0.5).astype(np.float32)
    test = ragged.take(np.arange(2_500))
    return types.SimpleNamespace(
        x_train=MultiHotRows(ragged, 10_000),
        y_train=labels,
        x_test=MultiHotRows(test, 10_000),
        y_test=labels[:2_500],
    )


def _plain_process(p, data, samples, way, answer) -> None:
    """A plain script in a fresh process: load, build, time ``model.fit``; send seconds."""
    import keras

    from builder.build import build
    from builder.data.loader import prepare
    from builder.data.splits import holdout
    from builder.training import feed

    if data is None:
        data = prepare(p)
        if samples:
            data = _subset(data, samples)
    keras.utils.set_random_seed(p["fit"]["seed"])
    model = build(p)
    (x, y), val = holdout(data.x_train, data.y_train, count=p["fit"]["validation"]["count"])
    fit = p["fit"]
    if way == "matrix":  # the whole multi-hot matrix in memory, as the book has it
        x, val = feed.materialise(x), (feed.materialise(val[0]), val[1])
    start, cpu = time.perf_counter(), time.process_time()
    if way == "dataset":  # the engine's per-batch input, without the engine
        model.fit(
            feed.dataset(x, y, batch_size=fit["batch_size"], shuffle=True),
            validation_data=feed.dataset(*val, batch_size=fit["batch_size"]),
            epochs=fit["epochs"],
            shuffle=False,
            verbose=0,
        )
    else:
        model.fit(
            x, y, epochs=fit["epochs"], batch_size=fit["batch_size"], validation_data=val, verbose=0
        )
    answer.put((time.perf_counter() - start, time.process_time() - cpu))


def _plain(p, data, samples, way="arrays") -> tuple[float, float]:
    """(seconds, CPU seconds) of ``model.fit`` in a plain script (a spawned process,
    hold-out as the book).

    ``data`` None: the process loads MNIST itself, as the engine's worker does."""
    ctx = multiprocessing.get_context("spawn")
    answer = ctx.Queue()
    process = ctx.Process(target=_plain_process, args=(p, data, samples, way, answer))
    process.start()
    timing = answer.get()
    process.join()
    return timing


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, every thread) process ``pid`` has used; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _engine(p, data, runs_root: Path) -> tuple[float, float | None, float, int]:
    """(training seconds, its CPU seconds, end-to-end seconds, batch events) of a spawned run.

    The worker's CPU time is read from /proc when its "training" and "testing" events
    arrive; the bench polls every 20 ms for that (the app polls every 0.5 s, which changes
    nothing in the worker). ``data`` None: the worker prepares the dataset itself."""
    from builder.training import start_run

    begin = time.time()
    handle = start_run(p, runs_root, "bench", device="cpu", prepared=data)
    marks, cpu, batches = {}, {}, 0
    while handle.active:
        time.sleep(0.02)
        for event in handle.poll():
            if event["type"] == "status" and event["message"] in ("training", "testing"):
                marks[event["message"]] = event["time"]
                cpu[event["message"]] = _cpu_seconds(handle.pid)
            batches += event["type"] == "batch"
    if handle.state != "finished":
        raise SystemExit(f"engine run {handle.state}: {handle.message}")
    fit_cpu = (
        cpu["testing"] - cpu["training"]
        if None not in (cpu.get("training"), cpu.get("testing"))
        else None
    )
    return marks["testing"] - marks["training"], fit_cpu, time.time() - begin, batches


def _seconds(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _case(kind: str, args, runs_root: Path) -> None:
    samples = args.convnet_samples if kind == "convnet" else None
    p = _project(kind, samples)
    if kind == "imdb":
        data = engine_data = _imdb_like()
        ways = [
            ("matrix", "plain fit on the float32 matrix (the book's way)"),
            ("dataset", "plain fit on the engine's per-batch input"),
        ]
    else:
        from builder.data.loader import prepare

        data = prepare(p)
        if samples:
            data = _subset(data, samples)
        engine_data = data if samples else None  # dense: the worker loads MNIST itself
        ways = [("arrays", "plain fit")]
    plain = {way: [] for way, _ in ways}
    plain_cpu = {way: [] for way, _ in ways}
    engine, engine_cpu, wall = [], [], []
    batches = 0
    for _ in range(args.repeat):
        for way, _ in ways:
            seconds, cpu = _plain(p, data if kind != "dense" else None, samples, way)
            plain[way].append(seconds)
            plain_cpu[way].append(cpu)
        fit_s, fit_cpu, wall_s, batches = _engine(p, engine_data, runs_root)
        engine.append(fit_s)
        engine_cpu.append(fit_cpu)
        wall.append(wall_s)
    median = statistics.median
    has_cpu = None not in engine_cpu
    print(
        f"{kind}: {len(data.x_train):,} samples before hold-out, {args.repeat} run(s) each; "
        f"engine end-to-end {median(wall):.1f} s, {batches} batch events in its last run",
        flush=True,
    )
    print(
        f"  {'engine fit':48} wall median {median(engine):6.2f} s  fastest {min(engine):6.2f} s"
        + (f"  CPU median {median(engine_cpu):6.2f} s" if has_cpu else "")
        + f"   wall runs {_seconds(engine)}",
        flush=True,
    )
    for way, label in ways:
        cpu_ratio = median(engine_cpu) / median(plain_cpu[way]) if has_cpu else None
        print(
            f"  {label:48} wall median {median(plain[way]):6.2f} s  fastest "
            f"{min(plain[way]):6.2f} s"
            + (f"  CPU median {median(plain_cpu[way]):6.2f} s" if has_cpu else "")
            + f"   wall runs {_seconds(plain[way])}",
            flush=True,
        )
        print(
            f"  {'':48} engine/plain: wall median {median(engine) / median(plain[way]):.3f}"
            f", fastest {min(engine) / min(plain[way]):.3f}, median of run pairs "
            f"{median(e / q for e, q in zip(engine, plain[way])):.3f}"
            + (f"; CPU median {cpu_ratio:.3f}" if has_cpu else ""),
            flush=True,
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--convnet-samples", type=int, default=12_000)
    parser.add_argument("--only", choices=("dense", "convnet", "imdb"))
    args = parser.parse_args(argv)
    home = _keras_home()
    kinds = [k for k in ("dense", "convnet", "imdb") if not args.only or k == args.only]
    if home is None:
        print(f"MNIST is absent: {SHARED / 'mnist.npz'} not found; dense and convnet skipped.")
        kinds = [k for k in kinds if k == "imdb"]
    runs_root = Path(tempfile.mkdtemp(prefix="bench-engine-runs-"))
    try:
        for kind in kinds:
            _case(kind, args, runs_root)
    finally:
        shutil.rmtree(runs_root, ignore_errors=True)
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
