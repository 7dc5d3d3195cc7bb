"""Start -> first batch: the app's Start with a warm worker, without one, and a plain script.

Run by hand: ``python bench/bench_start.py [--repeats 3]``.

The project is the app's offline default (digits). Three ways to the first trained batch,
in alternating order ``--repeats`` times:

- warm: ``RunManager.keep_warm`` (what app.py does after the first paint) has a training
  process ready, TensorFlow imported and the dataset prepared; timed from
  ``RunManager.start`` (the Start button's call) to the first ``batch`` progress event the
  page's poll reads;
- cold: the same Start with the warm worker turned off (``NETBUILDER_WARM_WORKER=0``): a
  process is spawned and imports TensorFlow;
- plain: a plain Python script (``python -c``: import Keras, load the digits with
  scikit-learn, build the same Dense network, ``fit``) from process start to the end of its
  first batch.

Prints each repeat, min/median/max per way, the ratio warm/plain (goal: warm <= 1.0 s and
<= 0.2 of plain) and the load average (the machine may be shared), then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from shared_data import spread

PLAIN = """
import time, sys
import keras
from sklearn.datasets import load_digits
x, y = load_digits(return_X_y=True)
x = (x / 16.0).astype("float32")
y = keras.utils.to_categorical(y, 10)
model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
class First(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print(time.time(), flush=True)
        self.model.stop_training = True
model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[First()])
"""


def _project() -> dict:
    from builder import templates
    from builder.project import validate

    return validate(templates.load(templates.DEFAULT))


def _first_batch(manager, project) -> float:
    start = time.perf_counter()
    handle = manager.start(project, "bench", device="cpu")
    while True:
        if any(e["type"] == "batch" for e in handle.poll()):
            took = time.perf_counter() - start
            break
        if not handle.active:
            raise RuntimeError(f"the run ended before a batch: {handle.message}")
        time.sleep(0.005)
    handle.stop()
    handle.wait(120)
    return took


def _warm(project, root: Path) -> float:
    from builder.training import RunManager

    os.environ["NETBUILDER_WARM_WORKER"] = "1"
    manager = RunManager(root, max_active=1)
    warm = manager.keep_warm(project, device="cpu")
    if not (warm.ready.wait(600) and warm.prepared.wait(600)):
        raise RuntimeError("the warm worker did not get ready")
    return _first_batch(manager, project)


def _cold(project, root: Path) -> float:
    from builder.training import RunManager

    os.environ["NETBUILDER_WARM_WORKER"] = "0"
    return _first_batch(RunManager(root, max_active=1), project)


def _plain() -> float:
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", PLAIN],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"},
    )
    return float(done.stdout.split()[0]) - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    project = _project()
    load_before = os.getloadavg()
    found: dict[str, list[float]] = {"warm": [], "cold": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        for repeat in range(args.repeats):
            found["warm"].append(_warm(project, Path(tmp) / f"w{repeat}"))
            found["cold"].append(_cold(project, Path(tmp) / f"c{repeat}"))
            found["plain"].append(_plain())
            print(
                f"repeat {repeat + 1}: warm {found['warm'][-1]:.2f} s, cold "
                f"{found['cold'][-1]:.2f} s, plain script {found['plain'][-1]:.2f} s; load "
                f"{os.getloadavg()[0]:.1f}",
                flush=True,
            )
    ratios = [w / p for w, p in zip(found["warm"], found["plain"])]
    doc = {
        "seconds": {k: spread(v) for k, v in found.items()},
        "warm_over_plain": spread(ratios),
        "load_average_before": [round(v, 1) for v in load_before],
        "load_average_after": [round(v, 1) for v in os.getloadavg()],
        "repeats": {k: [round(v, 3) for v in vs] for k, vs in found.items()},
    }
    print(
        f"Start -> first batch: warm {doc['seconds']['warm']} s (goal <= 1.0), cold "
        f"{doc['seconds']['cold']} s, plain script {doc['seconds']['plain']} s; warm/plain "
        f"{doc['warm_over_plain']} (goal <= 0.2); load average {doc['load_average_before']} "
        f"-> {doc['load_average_after']}"
    )
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
