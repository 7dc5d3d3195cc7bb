"""A 12-trial sweep, packed side by side, against the plain loop of 12 ``model.fit`` calls.

Run by hand: ``python bench/bench_sweep.py [--epochs 30] [--repeats 3] [--seeds 3]
[--no-asha] [--kerastuner] [--ray]``.

The trials (as #23's prototype): the offline digits network (scikit-learn's 8x8 digits,
hold-out validation of 20 %), hidden units 32/64/128/256 x Adam learning rate
0.001/0.003/0.01, batch 32, compared on val_accuracy.

- packed: ``builder.experiments.runner`` as the app runs it locally: the trials trained in
  packs (``builder.experiments.packed``), each leaving its full run folder (history,
  checkpoints, model, test scores), ASHA with the app's rungs unless ``--no-asha``;
- plain: the same 12 trials as 12 ``model.fit`` calls in this process, one after another,
  each to the end (no run folders, no callbacks: the cheapest a script does it);
- kerastuner (``--kerastuner``, when the ``keras_tuner`` package is importable): a
  ``GridSearch`` over the same grid, same epochs and batch size;
- ray (``--ray``): the app's Ray Tune path (``NETBUILDER_PACKED=0``), for reference.

TensorFlow is imported and the data prepared before any timing; the modes then run in
alternating order ``--repeats`` times (plain, packed, plain, packed...), so a change in
the machine's load hits both. Printed per repeat and as min/median/max: wall seconds, CPU
seconds of this process (wall is stretched by other jobs on a shared machine, CPU much
less) and the ratios packed/plain; the best val_accuracy of each mode with its trial; the
plain loop's best trial retrained with ``--seeds`` other seeds (the run-to-run spread the
packed best is compared with); the load average before and after. One JSON line at the
end. Goal: packed <= 0.35 of plain at the same best metric.
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

from shared_data import spread

UNITS = [32, 64, 128, 256]
RATES = [0.001, 0.003, 0.01]


def _project(epochs: int, asha: bool) -> dict:
    from builder import templates
    from builder.project import validate

    p = templates.load("offline_default")
    p["compile"]["optimizer"] = {"class_name": "Adam", "config": {"learning_rate": 0.001}}
    p["fit"].update(epochs=epochs, batch_size=32, validation={"method": "holdout", "fraction": 0.2})
    p["experiment"] = {
        "parameters": [
            {"setting": "layers.hidden.units", "values": UNITS},
            {"setting": "compile.optimizer.learning_rate", "values": RATES},
        ],
        "search": "grid",
        "metric": "val_accuracy",
        "mode": "max",
        "early_stopping": {"method": "asha"} if asha else None,  # the app's default rungs
    }
    return validate(p)


def _measure(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _packed(project: dict, root: Path, env: dict | None = None) -> dict:
    from builder.experiments import runner

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        folder = runner.create(project, root, "bench")
        record = runner.run(folder, runs_root=root)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    best = record["best"] or {"metric": None, "params": None}
    return {
        "best": best["metric"],
        "best_params": best["params"],
        "trial_epochs": sum(t["epochs"] for t in record["trials"]),
        "states": [t["state"] for t in record["trials"]],
        "packs": [len(p["trials"]) for p in record.get("packs", [])],
        "measured": (record.get("packs") or [{}])[0].get("measured"),
    }


def _data(project: dict):
    from builder.data.loader import prepare
    from builder.data.splits import holdout

    data = prepare(project)
    (x, y), val = holdout(data.x_train, data.y_train, fraction=0.2)
    return x, y, val


def _plain(project: dict, data, seed: int | None = None, only: dict | None = None) -> dict:
    import keras

    from builder import build
    from builder.experiments import spec

    x, y, val = data
    results = []
    for params in [only] if only else spec.grid(spec.defaults(project["experiment"])):
        variant = spec.apply(project, params)
        fit = variant["fit"]
        keras.utils.set_random_seed(fit["seed"] if seed is None else seed)
        model = build.build(variant)
        history = model.fit(
            x,
            y,
            batch_size=fit["batch_size"],
            epochs=fit["epochs"],
            shuffle=True,
            validation_data=val,
            verbose=0,
        )
        results.append((history.history["val_accuracy"][-1], params))
    best = max(results, key=lambda r: r[0])
    return {"best": best[0], "best_params": best[1], "trial_epochs": len(results) * fit["epochs"]}


def _kerastuner(project: dict, data, root: Path) -> dict | None:
    try:
        import keras_tuner
    except ImportError:
        return None
    import keras

    from builder import build
    from builder.experiments import spec

    x, y, val = data
    fit = project["fit"]

    def model_fn(hp):
        params = {
            "layers.hidden.units": hp.Choice("units", UNITS),
            "compile.optimizer.learning_rate": hp.Choice("lr", RATES),
        }
        keras.utils.set_random_seed(fit["seed"])
        return build.build(spec.apply(project, params))

    tuner = keras_tuner.GridSearch(
        model_fn,
        objective=keras_tuner.Objective("val_accuracy", "max"),
        max_trials=len(UNITS) * len(RATES),
        directory=str(root / "kerastuner"),
        project_name="bench",
        overwrite=True,
    )
    tuner.search(
        x, y, batch_size=fit["batch_size"], epochs=fit["epochs"], validation_data=val, verbose=0
    )
    top = tuner.oracle.get_best_trials(1)[0]
    return {"best": top.score, "best_params": dict(top.hyperparameters.values)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-asha", action="store_true")
    parser.add_argument("--kerastuner", action="store_true")
    parser.add_argument("--ray", action="store_true")
    args = parser.parse_args()
    project = _project(args.epochs, not args.no_asha)
    load_before = os.getloadavg()
    import tensorflow  # noqa: F401  (imported before any timing: every mode needs it)

    data = _data(project)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        for repeat in range(args.repeats):
            plain = _measure(lambda: _plain(project, data))
            packed = _measure(lambda r=repeat: _packed(project, root / f"r{r}"))
            row = {
                "plain_s": round(plain[0], 2),
                "plain_cpu_s": round(plain[1], 2),
                "packed_s": round(packed[0], 2),
                "packed_cpu_s": round(packed[1], 2),
                "ratio_wall": round(packed[0] / plain[0], 3),
                "ratio_cpu": round(packed[1] / plain[1], 3),
                "plain": plain[2],
                "packed": packed[2],
                "load_average_1min": round(os.getloadavg()[0], 1),
            }
            rows.append(row)
            print(
                f"repeat {repeat + 1}: plain {row['plain_s']} s (CPU {row['plain_cpu_s']}), "
                f"packed {row['packed_s']} s (CPU {row['packed_cpu_s']}), ratio wall "
                f"{row['ratio_wall']} CPU {row['ratio_cpu']}; best plain "
                f"{plain[2]['best']:.4f} {plain[2]['best_params']}, packed "
                f"{packed[2]['best']:.4f} {packed[2]['best_params']}; packs {packed[2]['packs']}"
                f" ({packed[2]['trial_epochs']} trial-epochs); load {row['load_average_1min']}",
                flush=True,
            )
        best_params = rows[0]["plain"]["best_params"]
        seeds = [
            _plain(project, data, seed=s, only=best_params)["best"]
            for s in range(1, args.seeds + 1)
        ]
        extra = {}
        if args.kerastuner:
            kt = _measure(lambda: _kerastuner(project, data, root))
            extra["kerastuner"] = (
                None if kt[2] is None else {"s": round(kt[0], 2), "cpu_s": round(kt[1], 2), **kt[2]}
            )
            if kt[2] is None:
                print("kerastuner: keras_tuner is not installed; skipped")
            else:
                print(f"kerastuner: {kt[0]:.1f} s (CPU {kt[1]:.1f}), best {kt[2]['best']:.4f}")
        if args.ray:
            ray = _measure(lambda: _packed(project, root / "ray", {"NETBUILDER_PACKED": "0"}))
            extra["ray"] = {"s": round(ray[0], 2), "cpu_s_driver": round(ray[1], 2), **ray[2]}
            print(f"ray: {ray[0]:.1f} s, best {ray[2]['best']}")
    best_plain = rows[0]["plain"]["best"]
    seed_range = [best_plain, *seeds]
    packed_best = [r["packed"]["best"] for r in rows]
    doc = {
        "trials": len(UNITS) * len(RATES),
        "epochs": args.epochs,
        "asha": not args.no_asha,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_before": [round(v, 1) for v in load_before],
        "load_average_after": [round(v, 1) for v in os.getloadavg()],
        "ratio_wall": spread([r["ratio_wall"] for r in rows]),
        "ratio_cpu": spread([r["ratio_cpu"] for r in rows]),
        "plain_best_val_accuracy": best_plain,
        "plain_best_params": best_params,
        "plain_best_other_seeds": [round(v, 4) for v in seeds],
        "packed_best_val_accuracy": packed_best,
        "packed_best_within_spread": all(
            min(seed_range) - 1e-9 <= v <= max(seed_range) + 1e-9 for v in packed_best
        ),
        "repeats": rows,
        **extra,
    }
    print(
        f"ratio packed/plain: wall {doc['ratio_wall']}, CPU {doc['ratio_cpu']} (goal <= 0.35); "
        f"best val_accuracy plain {best_plain:.4f} (other seeds {doc['plain_best_other_seeds']}),"
        f" packed {packed_best} (within spread: {doc['packed_best_within_spread']}); "
        f"load average {doc['load_average_before']} -> {doc['load_average_after']}"
    )
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
