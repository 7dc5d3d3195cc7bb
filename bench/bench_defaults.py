"""Defaults that learn: ``builder new`` + ``builder train`` with every default, on real
tables made messy, against a careful scikit-learn practitioner in the same run.

Run by hand: ``python bench/bench_defaults.py [--only NAME ...] [--keep DIR]``.

The corpus is real data that ships inside installed packages (no download): scikit-learn's
diabetes, wine, breast cancer and iris files and plotly's tips and gapminder tables (not
Digits or Boston, which the app knows by name). Each is written as a real export looks:
a row-ID column first, a free-text column, blank cells in some feature columns, and the
target not in the last column (named as such files name it: ``progression``, ``class``
first as in UCI's wine file, ``diagnosis`` second as in UCI's WDBC file, ``species``; or
unnamed, followed by a free-text column: tips' ``tip``, gapminder's ``lifeExp``).

For each file, in fresh processes as a user would run them:
``python -m builder new --data FILE -o P.json --json`` then
``python -m builder train P.json --json``. The reference is fitted in this process on the
same training rows and kept columns and scored on the same test rows (the app's seeded
split, ``csv_data.load_table``): median/most-frequent imputation, one-hot text, standard
scaling, then ``MLPRegressor``/``MLPClassifier(hidden_layer_sizes=(100,))`` (the regressor
on a standardised target) and ``HistGradientBoosting*`` beside it.

Goals (issue #20): the target guessed right on every file; accuracy >= the MLP reference
- 0.05 and above the majority share; regression skill (1 - MAE / MAE of predicting the
training median) >= the best reference - 0.10 and never below -0.05.
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.data import csv_data

TIMEOUT_S = 900


def _messy(frame: pd.DataFrame, target: str, at: int | None, seed: int) -> pd.DataFrame:
    """``frame`` as an export looks: row ID first, the target moved to column ``at``
    (None: kept where it is), a free-text note per row at the end, 4 % blanks in two
    feature columns."""
    rng = np.random.default_rng(seed)
    frame = frame.reset_index(drop=True).copy()
    features = [c for c in frame.columns if c != target]
    for column in features[:2]:
        if pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("float64")
        frame.loc[rng.random(len(frame)) < 0.04, column] = np.nan
    columns = list(frame.columns)
    if at is not None:
        columns.remove(target)
        columns.insert(at, target)
    frame = frame[columns]
    frame.insert(0, "row_id", np.arange(1, len(frame) + 1))
    words = np.array(["checked", "ok", "see file", "recheck", "late entry", "copied"])
    frame["notes"] = [
        f"entry {i}: {words[rng.integers(len(words))]} by {rng.integers(100, 999)}"
        for i in range(len(frame))
    ]
    return frame


def _sklearn(name: str, target: str) -> pd.DataFrame:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.rename(columns={"target": target})
    if name != "diabetes":
        names = np.asarray(bunch.target_names)
        frame[target] = names[bunch.target.to_numpy()]
    return frame


def corpus() -> dict[str, tuple[pd.DataFrame, str]]:
    """{file name: (messy frame, true target)}."""
    import plotly.express as px
    from sklearn.datasets import load_diabetes

    diabetes = load_diabetes(as_frame=True, scaled=False).frame.rename(
        columns={"target": "progression"}
    )
    tips = px.data.tips()
    tips = tips[[c for c in tips.columns if c != "tip"] + ["tip"]]
    gap = px.data.gapminder()[["continent", "year", "pop", "gdpPercap", "lifeExp"]]
    return {
        "diabetes.csv": (_messy(diabetes, "progression", 3, 0), "progression"),
        "wine.csv": (_messy(_sklearn("wine", "class"), "class", 0, 1), "class"),
        "breast_cancer.csv": (
            _messy(_sklearn("breast_cancer", "diagnosis"), "diagnosis", 0, 2),
            "diagnosis",
        ),
        "iris.csv": (_messy(_sklearn("iris", "species"), "species", 2, 3), "species"),
        "tips.csv": (_messy(tips, "tip", None, 4), "tip"),
        "gapminder.csv": (_messy(gap, "lifeExp", None, 5), "lifeExp"),
    }


def _cli(args: list[str], cwd: Path) -> tuple[dict, float]:
    """Run ``python -m builder ARGS``: (the JSON of its last stdout line, wall seconds)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "builder", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"builder {args[0]} failed ({done.returncode}): {done.stderr[-800:]}")
    return json.loads(lines[-1]), seconds


def reference(path: Path, target: str) -> dict:
    """The scikit-learn practitioner on the app's split and kept columns."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = csv_data.load_table(str(path), target)
    kept = [c.name for c in table.encoder.columns]
    numbers = [c.name for c in table.encoder.columns if c.kind == "number"]
    texts = [c for c in kept if c not in numbers]
    x_train, x_test = table.raw_train[kept], table.raw_test[kept]
    y_train, y_test = table.y_train, table.y_test

    def prep():
        return ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    texts,
                ),
            ]
        )

    regression = table.task == "regression"
    if regression:
        mlp = TransformedTargetRegressor(
            make_pipeline(
                prep(), MLPRegressor(hidden_layer_sizes=(100,), max_iter=500, random_state=0)
            ),
            transformer=StandardScaler(),
        )
        hgb = make_pipeline(prep(), HistGradientBoostingRegressor(random_state=0))
    else:
        mlp = make_pipeline(
            prep(), MLPClassifier(hidden_layer_sizes=(100,), max_iter=500, random_state=0)
        )
        hgb = make_pipeline(prep(), HistGradientBoostingClassifier(random_state=0))
    out = {"task": table.task, "test_rows": len(y_test)}
    start = time.perf_counter()
    for name, model in (("mlp", mlp), ("hgb", hgb)):
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        if regression:
            out[name] = float(np.mean(np.abs(predicted - y_test)))
        else:
            out[name] = float(np.mean(predicted == y_test))
    out["seconds"] = time.perf_counter() - start
    if regression:
        out["mae_median"] = float(np.mean(np.abs(y_test - np.median(y_train))))
    else:
        out["majority"] = float(np.mean(y_test == np.bincount(y_train).argmax()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="file names to run (default: all)")
    parser.add_argument("--keep", help="write the files and runs here (default: a temp folder)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-defaults-"))
    work.mkdir(parents=True, exist_ok=True)
    rows, failed = [], []
    for name, (frame, truth) in corpus().items():
        if args.only and name not in args.only:
            continue
        path = work / name
        frame.to_csv(path, index=False)
        project = work / f"{path.stem}.json"
        new, new_s = _cli(["new", "--data", str(path), "-o", str(project), "--json"], work)
        guessed = new["target"]
        ref = reference(path, truth)
        trained, train_s = _cli(
            ["train", str(project), "--runs", str(work / "runs"), "--json"], work
        )
        test = trained["test"]
        row = {
            "file": name,
            "rows": len(frame),
            "target": guessed,
            "right": guessed == truth,
            "task": new["task"],
            "epochs": trained["epochs"],
            "seconds": round(new_s + train_s, 1),
            "ref_seconds": round(ref["seconds"], 1),
        }
        if ref["task"] == "regression":
            skill = 1 - test["mae"] / ref["mae_median"]
            ref_skill = {k: 1 - ref[k] / ref["mae_median"] for k in ("mlp", "hgb")}
            best = max(ref_skill.values())
            ok = guessed == truth and skill >= best - 0.10 and skill >= -0.05
            row.update(
                ours=f"MAE {test['mae']:.3g} (skill {skill:.3f})",
                mlp=f"MAE {ref['mlp']:.3g} (skill {ref_skill['mlp']:.3f})",
                hgb=f"MAE {ref['hgb']:.3g} (skill {ref_skill['hgb']:.3f})",
                baseline=f"median MAE {ref['mae_median']:.3g}",
                goal=f"skill >= {best - 0.10:.3f}",
            )
        else:
            accuracy = test["accuracy"]
            ok = guessed == truth and accuracy >= ref["mlp"] - 0.05 and accuracy > ref["majority"]
            row.update(
                ours=f"accuracy {accuracy:.3f}",
                mlp=f"accuracy {ref['mlp']:.3f}",
                hgb=f"accuracy {ref['hgb']:.3f}",
                baseline=f"majority {ref['majority']:.3f}",
                goal=f">= {ref['mlp'] - 0.05:.3f}, > {ref['majority']:.3f}",
            )
        row["met"] = ok
        if not ok:
            failed.append(name)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(
        "| file (rows) | target guessed | task | netbuilder defaults | MLP(100) ref | "
        "HistGradientBoosting | baseline | goal | met | epochs, s (ref s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['file']} ({r['rows']}) | {r['target']} {'✓' if r['right'] else '✗'} | "
            f"{r['task']} | {r['ours']} | {r['mlp']} | {r['hgb']} | {r['baseline']} | "
            f"{r['goal']} | {'yes' if r['met'] else 'NO'} | {r['epochs']}, {r['seconds']} "
            f"({r['ref_seconds']}) |"
        )
    print(f"\nfiles and runs in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
