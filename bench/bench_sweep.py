"""A 12-trial sweep on Ray Tune against the same 12 trials run one after another.

Run by hand: ``python bench/bench_sweep.py [--epochs 8] [--concurrency 2] [--repeats 3]``.

The trials: the offline digits network (scikit-learn's 8x8 digits, hold-out validation of
20 %), hidden units 16/64/256 x RMSprop learning rate 0.0003/0.001/0.003/0.01, batch 64,
compared on val_accuracy.

- sweep: ``builder.experiments.runner`` on a local Ray started for it, ``--concurrency``
  trials at a time, ASHA with the app's default rungs (grace period a tenth of the epochs,
  reduction factor 2, comparing each trial's best val_accuracy so far) stopping weak
  trials;
- sequential: the same 12 trials in this process, one after another, each trained to the
  end with ``builder.training.worker.train`` (the same training code; TensorFlow's import
  is counted once, as the sweep's Ray start and worker start-ups are counted);
- spread: the sequential grid's best trial trained again ``--repeats`` times with other
  seeds, to see whether the sweep's best validation accuracy lies within run-to-run noise.

Prints wall times, their ratio (goal: sweep <= 0.6 of sequential), trial-epochs spent by
each, and the best validation accuracies with the spread, as text and one JSON line; also
how long the sweep took until its first trial's run folder existed (Ray and its first
worker starting), the median seconds of an epoch in each, the CPU seconds each used (this
process and all it started, Ray's processes included), each sweep trial's state and
epochs, and the load average before and after (the machine may be shared: compare the
ratios, measured in one run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

UNITS = [16, 64, 256]
RATES = [0.0003, 0.001, 0.003, 0.01]


def _project(epochs: int, concurrency: int) -> dict:
    from builder import templates
    from builder.project import validate

    p = templates.load("offline_default")
    p["fit"].update(epochs=epochs, batch_size=64, validation={"method": "holdout", "fraction": 0.2})
    p["experiment"] = {
        "parameters": [
            {"setting": "layers.hidden.units", "values": UNITS},
            {"setting": "compile.optimizer.learning_rate", "values": RATES},
        ],
        "search": "grid",
        "concurrency": concurrency,
        "metric": "val_accuracy",
        "mode": "max",
        "early_stopping": {"method": "asha"},  # the app's default rungs
    }
    return validate(p)


class _CpuMeter:
    """CPU seconds (user + system) used by this process and every process it starts, read
    from /proc twice a second: a measure of work that other jobs' load does not stretch the
    way it stretches wall time. Processes that live under half a second are missed."""

    def __init__(self):
        import threading

        self._seen: dict[int, float] = {}
        self._names: dict[int, str] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def _read(self) -> None:
        for pid in self._tree():
            try:
                text = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1]
            fields = fields.split()
            used = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
            self._seen[pid] = max(self._seen.get(pid, 0.0), used)
            self._names[pid] = (
                "this process"
                if pid == os.getpid()
                else "trial workers"
                if name.startswith("ray::") and "Agent" not in name
                else "Ray's services"
            )

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self._read()

    def __enter__(self):
        self._read()
        self._start = dict(self._seen)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._read()
        self.seconds = sum(v - self._start.get(pid, 0.0) for pid, v in self._seen.items())
        self.parts: dict[str, float] = {}
        for pid, v in self._seen.items():
            group = self._names.get(pid, "Ray's services")
            self.parts[group] = round(self.parts.get(group, 0.0) + v - self._start.get(pid, 0.0), 1)


def _sweep(project: dict, runs_root: Path) -> tuple[float, dict, float]:
    """(wall seconds, the experiment record, seconds until the first trial's run folder)."""
    from datetime import UTC, datetime

    from builder.experiments import runner
    from builder.training import runs

    began = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    folder = runner.create(project, runs_root, "bench")
    record = runner.run(folder, runs_root=runs_root, log=lambda text: print(text, file=sys.stderr))
    seconds = time.perf_counter() - start
    starts = [
        datetime.fromisoformat(runs.read_json(Path(t["run"]) / "run.json")["started"])
        for t in record["trials"]
        if t.get("run")
    ]
    first = (min(starts) - began).total_seconds() if starts else float("nan")
    return seconds, record, first


def _train(project: dict, params: dict, runs_root: Path, seed: int | None = None) -> dict:
    from builder.experiments import spec
    from builder.training import runs, worker

    variant = spec.apply(project, params)
    if seed is not None:
        variant["fit"]["seed"] = seed
    folder = runs.create_run(runs_root, "sequential", variant, {"params": params})
    return worker.train(variant, folder, device="cpu")


def _sequential(project: dict, runs_root: Path) -> tuple[float, list[dict]]:
    from builder.experiments import spec

    start = time.perf_counter()
    import tensorflow  # noqa: F401  (loaded once here, counted: every trial needs it)

    results = []
    for params in spec.grid(spec.defaults(project["experiment"])):
        summary = _train(project, params, runs_root)
        results.append(
            {
                "params": params,
                "epochs": summary["epochs"],
                "metric": summary["history"]["val_accuracy"][-1],
            }
        )
    return time.perf_counter() - start, results


def _epoch_seconds(runs_root: Path, owner: str) -> float | None:
    """The median seconds of one epoch over every run of ``owner`` (history.csv): how fast
    a trial trains while others share the machine."""
    import statistics

    from builder.training import runs

    seconds = []
    for history in (Path(runs_root) / owner).glob("*/history.csv"):
        seconds += [v for v in runs.read_history_csv(history).get("seconds", []) if v]
    return round(statistics.median(seconds), 4) if seconds else None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    project = _project(args.epochs, args.concurrency)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        with _CpuMeter() as sweep_cpu:
            sweep_s, record, first_trial_s = _sweep(project, root)
        with _CpuMeter() as seq_cpu:
            seq_s, seq = _sequential(project, root)
        sweep_epoch_s = _epoch_seconds(root, "bench")
        seq_epoch_s = _epoch_seconds(root, "sequential")
        best_seq = max(seq, key=lambda r: r["metric"])
        spread = [best_seq["metric"]] + [
            _train(project, best_seq["params"], root, seed=s)["history"]["val_accuracy"][-1]
            for s in range(1, args.repeats)
        ]
    sweep_epochs = sum(t["epochs"] for t in record["trials"])
    best = record["best"] or {"metric": None, "params": None}
    doc = {
        "trials": len(record["trials"]),
        "epochs_per_trial": args.epochs,
        "concurrency": args.concurrency,
        "cpus": _cores(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "sweep_s": round(sweep_s, 1),
        "sweep_first_trial_after_s": first_trial_s,
        "sequential_s": round(seq_s, 1),
        "ratio": round(sweep_s / seq_s, 3),
        "cpu_s": {"sweep": round(sweep_cpu.seconds, 1), "sequential": round(seq_cpu.seconds, 1)},
        "sweep_cpu_s_by_part": sweep_cpu.parts,
        "sweep_trial_epochs": sweep_epochs,
        "median_epoch_s": {"sweep": sweep_epoch_s, "sequential": seq_epoch_s},
        "sequential_trial_epochs": sum(r["epochs"] for r in seq),
        "states": {
            s: sum(1 for t in record["trials"] if t["state"] == s)
            for s in ("finished", "stopped", "failed")
        },
        "sweep_trials": [
            [t["params"], t["state"], t["epochs"], t["metric"] and round(t["metric"], 4)]
            for t in record["trials"]
        ],
        "sweep_best": best,
        "sequential_best": best_seq,
        "best_repeats_val_accuracy": [round(v, 4) for v in spread],
    }
    within = (
        best["metric"] is not None and min(spread) - 1e-9 <= best["metric"] <= max(spread) + 1e-9
    )
    doc["sweep_best_within_spread"] = within
    print(
        f"sweep: {sweep_s:.1f} s, {sweep_epochs} trial-epochs ({doc['states']}); "
        f"sequential: {seq_s:.1f} s, {doc['sequential_trial_epochs']} trial-epochs; "
        f"ratio {doc['ratio']:.3f} (goal <= 0.6); CPU seconds: sweep {doc['cpu_s']['sweep']}, "
        f"sequential {doc['cpu_s']['sequential']}; load average {load_before:.1f} before, "
        f"{doc['load_average_after']:.1f} after"
    )
    print(
        f"best val_accuracy: sweep {best['metric']} {best['params']}; sequential "
        f"{best_seq['metric']:.4f} {best_seq['params']}; its repeats "
        f"{doc['best_repeats_val_accuracy']} (sweep best within: {within})"
    )
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
