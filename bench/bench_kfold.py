"""K-fold on Boston housing: the book's sequential loop against the engine's parallel folds.

Run by hand: ``python bench/bench_kfold.py [--epochs 100] [--batch-size 1] [--k 4] [--seed 0]``.

The book's run (section 3.6): 4 folds, 100 epochs, batch size 1, Dense 64-64-1, RMSprop,
mse loss, mae metric, features normalised on the training split. Boston comes from
../shared/datasets/boston_housing.npz through a temporary KERAS_HOME (the bench says so
and stops when it is absent).

- sequential: the book's loop in this process: for each fold build, ``fit(verbose=0)``,
  ``evaluate`` on the held-out fold; each fold seeded with seed + fold as the engine does;
- parallel: ``builder.training.worker.train`` in this process with parallel folds (one
  wrapper model with k copies), including its progress callback, events, history files,
  the final evaluation and the saving of the k fold models.

Prints both wall times, their ratio (goal: >= 3x) and both mean validation MAEs with the
per-fold values (goal: the same within fold-to-fold noise).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from shared_data import SHARED, keras_home_with


def _keras_home() -> Path | None:
    return keras_home_with("boston_housing.npz")


def _project(epochs: int, batch_size: int, k: int, seed: int) -> dict:
    from builder.project import validate
    from tests.helpers import project

    p = project(
        [
            ("d1", "Dense", {"units": 64, "activation": "relu"}),
            ("d2", "Dense", {"units": 64, "activation": "relu"}),
            ("out", "Dense", {"units": 1}),
        ],
        shape=(13,),
        loss="mse",
        metrics=["mae"],
        dataset="boston_housing",
        options={"normalize": True},
    )
    p["fit"].update(
        epochs=epochs, batch_size=batch_size, seed=seed, validation={"method": "kfold", "k": k}
    )
    return validate(p)


def sequential(p: dict, data) -> tuple[float, list[float]]:
    """The book's K-fold loop; returns (seconds, validation MAE per fold)."""
    import keras

    from builder.build import build
    from builder.data.splits import kfold_splits

    fit = p["fit"]
    start = time.perf_counter()
    scores = []
    for fold, (train, val) in enumerate(
        kfold_splits(len(data.x_train), fit["validation"]["k"]), start=1
    ):
        keras.utils.set_random_seed(fit["seed"] + fold)
        model = build(p)
        model.fit(
            data.x_train[train],
            data.y_train[train],
            epochs=fit["epochs"],
            batch_size=fit["batch_size"],
            verbose=0,
        )
        scores.append(
            model.evaluate(data.x_train[val], data.y_train[val], verbose=0, return_dict=True)["mae"]
        )
    return time.perf_counter() - start, scores


def parallel(p: dict, data, runs_root: Path) -> tuple[float, list[float], str]:
    """The engine's parallel folds; returns (seconds, validation MAE per fold, status)."""
    from builder.training import runs, worker

    folder = runs.create_run(runs_root, "bench", p, {})
    notes = []
    start = time.perf_counter()
    summary = worker.train(
        p,
        folder,
        lambda e: notes.append(e.get("message", "")),
        prepared=data,
        device="cpu",
        parallel_folds=True,
    )
    seconds = time.perf_counter() - start
    if summary["state"] != "finished":
        raise SystemExit(f"parallel run {summary['state']}: {summary['message']}")
    folds = runs.read_json(folder / "metrics.json")["kfold_folds"]
    mode = next(n for n in notes if n.startswith("training "))
    return seconds, [f["val_mae"] for f in folds], mode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="fit.seed (fold i uses seed + i)")
    args = parser.parse_args(argv)
    home = _keras_home()
    if home is None:
        print(
            f"Boston housing is absent: {SHARED / 'boston_housing.npz'} not found; nothing "
            "measured."
        )
        return 1
    runs_root = Path(tempfile.mkdtemp(prefix="bench-kfold-runs-"))
    try:
        import keras  # imported before timing: both sides start with TensorFlow loaded

        from builder.data.loader import prepare

        p = _project(args.epochs, args.batch_size, args.k, args.seed)
        data = prepare(p)
        print(
            f"Boston housing: {len(data.x_train)} training samples, k={args.k}, "
            f"{args.epochs} epochs, batch size {args.batch_size}, seed {args.seed}, "
            f"Keras {keras.__version__}",
            flush=True,
        )
        par_s, par_mae, mode = parallel(p, data, runs_root)
        print(
            f"parallel   {par_s:8.1f} s  val MAE {np.mean(par_mae):.3f}  folds "
            f"{', '.join(f'{m:.3f}' for m in par_mae)}  ({mode})",
            flush=True,
        )
        seq_s, seq_mae = sequential(p, data)
        print(
            f"sequential {seq_s:8.1f} s  val MAE {np.mean(seq_mae):.3f}  folds "
            f"{', '.join(f'{m:.3f}' for m in seq_mae)}",
            flush=True,
        )
        print(
            f"speed-up {seq_s / par_s:.2f}x; MAE difference "
            f"{np.mean(par_mae) - np.mean(seq_mae):+.3f} (fold-to-fold spread "
            f"{np.std(seq_mae):.3f})"
        )
    finally:
        shutil.rmtree(runs_root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
