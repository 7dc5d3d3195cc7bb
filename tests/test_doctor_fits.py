"""The doctor on curves made to happen for real: small Keras fits in this process (the
worker's own ``train``, so the run folder, ``predictions.json`` and the kept checkpoint are
the app's), each fault made on purpose, then the offered fix applied and trained."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from builder import doctor, fixes
from builder.project import save_project_file, validate
from builder.training import runs
from tests.helpers import project

OWNER = "t"


def _data(x, y, task: str, classes: int | None = None):
    """What ``builder.data.prepare`` gives the worker, for arrays made here."""
    info = types.SimpleNamespace(task=task, num_classes=classes, class_names=None)
    return types.SimpleNamespace(x_train=x, y_train=y, x_test=x[:20], y_test=y[:20], info=info)


def _project(layers, width, loss, optimizer, lr, epochs, batch_size=16, metrics=("accuracy",)):
    p = project(layers, shape=(width,), loss=loss, metrics=metrics, dataset="digits")
    p["compile"]["optimizer"] = {"class_name": optimizer, "config": {"learning_rate": lr}}
    p["fit"].update(
        epochs=epochs, batch_size=batch_size, validation={"method": "holdout", "fraction": 0.5}
    )
    return validate(p)


def _train(tmp_path, p, data, resume_folder=None):
    from builder.training import worker

    folder = resume_folder or runs.create_run(tmp_path, OWNER, p, {})
    summary = worker.train(p, folder, prepared=data, device="cpu", resume=bool(resume_folder))
    run = runs.load_run(tmp_path, OWNER, folder.name)
    return summary, run, doctor.diagnose_run(run)


def _kinds(found) -> list[str]:
    return [f["kind"] for f in found]


def test_a_network_made_to_overfit_is_told_to_retrain_for_the_best_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 30)).astype("float32")
    y = ((x[:, 0] + x[:, 1] + rng.normal(size=120) * 0.8) > 0).astype("float32")
    big = {"units": 256, "activation": "relu"}
    p = _project(
        [
            ("h1", "Dense", big),
            ("h2", "Dense", big),
            ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        30,
        "binary_crossentropy",
        "Adam",
        0.001,
        epochs=20,
    )
    summary, run, found = _train(tmp_path, p, _data(x, y, "binary", 2))
    assert summary["state"] == "finished", summary["message"]
    val = run["history"]["val_loss"]
    best = int(np.argmin(val)) + 1  # Keras' own curve is the oracle
    assert best < len(val) - 1 and val[-1] > min(val)
    assert run["checkpoint"] is None  # nothing to resume: the run is past its best
    (finding,) = [f for f in found if f["kind"] == "overfitting"]
    assert finding["fix"]["action"] == {"op": "retrain", "epochs": best}
    assert f"epoch {best} " in finding["message"]
    # Live: the same reading as soon as the turn is clear, before the run ends.
    seen = {
        k: v[: best + int(doctor.THRESHOLDS["overfit_epochs_after_best"]) + 1]
        for k, v in run["history"].items()
    }
    assert "overfitting" in _kinds(doctor.diagnose(seen, final=False))
    # The fix trains a fresh model on all the data for that many epochs.
    retrain = validate(fixes.apply_fix(run["project"], finding["fix"]["action"]))
    again, rerun, _ = _train(tmp_path, retrain, _data(x, y, "binary", 2))
    assert again["state"] == "finished" and again["epochs"] == best
    assert "val_loss" not in rerun["history"]


def test_a_learning_rate_made_to_diverge_is_lowered_tenfold(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5)).astype("float32")
    y = (x @ rng.normal(size=5) * 50 + 200).astype("float32")
    layers = [("h", "Dense", {"units": 16, "activation": "relu"}), ("out", "Dense", {"units": 1})]
    p = _project(layers, 5, "mse", "SGD", 1.0, epochs=5, metrics=("mae",))
    summary, run, found = _train(tmp_path, p, _data(x, y, "regression"))
    assert summary["state"] == "failed"
    (finding,) = found
    assert finding["kind"] == "nan"
    fixed = validate(fixes.apply_fix(run["project"], finding["fix"]["action"]))
    assert fixed["compile"]["optimizer"]["class_name"] == "SGD"
    assert fixed["compile"]["optimizer"]["config"]["learning_rate"] == pytest.approx(0.1)


def test_an_all_constant_label_set_says_there_is_nothing_to_learn(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(100, 5)).astype("float32")
    y = np.ones(100, dtype="float32")
    layers = [
        ("h", "Dense", {"units": 8, "activation": "relu"}),
        ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
    ]
    p = _project(layers, 5, "binary_crossentropy", "RMSprop", 0.001, epochs=4)
    summary, run, found = _train(tmp_path, p, _data(x, y, "binary", 2))
    assert summary["state"] == "finished", summary["message"]
    assert run["predictions"]["label_counts"] == [0, 50]
    assert _kinds(found) == ["constant_labels"] and found[0]["fix"] is None


def test_a_raw_scale_regression_target_gets_a_rescaled_output_that_learns(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 10)).astype("float32")
    y = (x @ rng.normal(size=10) * 40 + 150).clip(25, 346).astype("float32")
    layers = [
        ("h1", "Dense", {"units": 16, "activation": "relu"}),
        ("h2", "Dense", {"units": 16, "activation": "relu"}),
        ("out", "Dense", {"units": 1}),
    ]
    p = _project(layers, 10, "mse", "RMSprop", 0.001, epochs=6, batch_size=32, metrics=("mae",))
    summary, run, found = _train(tmp_path, p, _data(x, y, "regression"))
    assert summary["state"] == "finished", summary["message"]
    labels = run["predictions"]["labels"]
    y_val = y[:200]  # the holdout: the first half, as the book holds out
    assert labels["mean"] == pytest.approx(float(y_val.mean()), rel=1e-5)
    assert "range" in _kinds(found) and "collapsed" not in _kinds(found)
    (finding,) = [f for f in found if f["kind"] == "range"]
    fixed = validate(fixes.apply_fix(run["project"], finding["fix"]["action"]))
    assert fixed["model"]["layers"][-1]["class_name"] == "Rescaling"
    again, rerun, found_again = _train(tmp_path, fixed, _data(x, y, "regression"))
    assert again["state"] == "finished"
    # Same epochs, same data: the rescaled output is in the labels' units and errs less
    # than always answering the median; the scale finding is gone.
    assert rerun["predictions"]["mae"] < rerun["predictions"]["median_mae"]
    assert rerun["predictions"]["mae"] < run["predictions"]["mae"] / 2
    assert "range" not in _kinds(found_again)


def test_a_run_still_improving_keeps_its_checkpoint_and_resumes(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 10)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    layers = [
        ("h", "Dense", {"units": 8, "activation": "relu"}),
        ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
    ]
    p = _project(layers, 10, "binary_crossentropy", "SGD", 0.01, epochs=6, batch_size=32)
    summary, run, found = _train(tmp_path, p, _data(x, y, "binary", 2))
    assert summary["state"] == "finished"
    assert run["checkpoint"] is not None and run["checkpoint"]["epoch"] == 6
    (finding,) = found
    assert finding["kind"] == "underfitting"
    action = finding["fix"]["action"]
    assert action["op"] == "resume" and action["epochs"] == 6 + action["more"]
    folder = runs.run_dir(tmp_path, OWNER, action["run"])
    plan = runs.resume_plan(folder, action["epochs"])
    runs.begin_segment(folder, plan["epochs"], plan["epoch"] + 1)
    resumed = validate(plan["project"])
    resumed["fit"]["epochs"] = plan["epochs"]  # as train --resume and the app do
    again, rerun, _ = _train(tmp_path, resumed, _data(x, y, "binary", 2), resume_folder=folder)
    assert again["state"] == "finished" and again["epochs"] == action["epochs"]
    assert len(rerun["history"]["loss"]) == action["epochs"]


def test_train_json_adds_the_diagnosis(tmp_path, capsys):
    from builder.training.cli import train_main

    p = project(
        [
            ("d1", "Dense", {"units": 16, "activation": "relu"}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        loss="sparse_categorical_crossentropy",
        dataset="digits",
    )
    p["fit"].update(epochs=4, batch_size=64, validation={"method": "holdout", "fraction": 0.2})
    path = tmp_path / "digits.json"
    save_project_file(p, path)
    code = train_main([str(path), "--device", "cpu", "--runs", str(tmp_path / "runs"), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out.strip().splitlines()[-1])
    folder = tmp_path / "runs" / "cli" / doc["run"].rsplit("/", 1)[-1]
    run = runs.load_run(tmp_path / "runs", "cli", folder.name)
    assert doc["diagnosis"] == doctor.diagnose_run(run)
    predictions = run["predictions"]
    assert predictions["split"] == "validation" and predictions["task"] == "multiclass"
    assert sum(predictions["label_counts"]) == predictions["samples"] > 0
    for finding in doc["diagnosis"]:
        assert set(finding) == {"kind", "message", "fix"}
