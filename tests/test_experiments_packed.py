"""Packed trials (builder.experiments.packed): a local grid sweep trains its trials side
by side in one model, and each trial ends exactly as its own single run would.

The oracle is the single-run code (``builder.training.worker.train``) on the trial's own
project: same history, same test scores, same weights. Digits (offline), 2-3 epochs.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from builder.experiments import packed, runner, spec
from builder.project import validate
from builder.training import list_runs, runs, worker
from tests.helpers import project


def _digits(parameters, *, epochs=2, optimizer="Adam", dropout=0.2, **experiment):
    p = project(
        [
            ("hidden", "Dense", {"units": 16, "activation": "relu"}),
            ("drop", "Dropout", {"rate": dropout}),
            ("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        shape=(64,),
        dataset="digits",
        options={"image_layout": "flat", "label_encoding": "one_hot"},
    )
    p["version"] = 2
    p["compile"]["optimizer"] = {"class_name": optimizer, "config": {"learning_rate": 0.01}}
    p["fit"].update(
        epochs=epochs, batch_size=128, validation={"method": "holdout", "fraction": 0.2}
    )
    p["experiment"] = {"parameters": parameters, "metric": "val_loss", **experiment}
    return validate(p)


def _sweep(tmp_path, p, **kwargs):
    folder = runner.create(p, tmp_path / "runs", "t")
    return runner.run(folder, runs_root=tmp_path / "runs", **kwargs)


def _alone(tmp_path, p, params) -> tuple[dict, Path]:
    variant = spec.apply(p, params)
    folder = runs.create_run(tmp_path / "alone", "t", variant, {})
    return worker.train(variant, folder, device="cpu"), folder


def _weights(path: Path) -> list:
    import keras

    return keras.models.load_model(path).get_weights()


def test_packed_trials_equal_their_own_runs_and_leave_normal_run_folders(tmp_path, keras_loaded):
    p = _digits(
        [
            {"setting": "layers.hidden.units", "values": [8, 32]},
            {"setting": "compile.optimizer.learning_rate", "values": [0.001, 0.01]},
        ]
    )
    record = _sweep(tmp_path, p)
    assert record["state"] == "finished" and record["packing"] == "packed"
    assert record["packs"] and sum(len(k["trials"]) for k in record["packs"]) == 4
    listed = {r["trial"]: r for r in list_runs(tmp_path / "runs", "t")}
    assert set(listed) == {t["id"] for t in record["trials"]}
    for trial in record["trials"]:
        folder = Path(trial["run"])
        assert trial["state"] == "finished" and trial["epochs"] == 2
        assert {"project.json", "run.json", "history.csv", "metrics.json", "model.keras"} <= {
            f.name for f in folder.iterdir()
        }
        assert not (folder / runs.CHECKPOINT).exists()  # finished: nothing to resume
        info = runs.read_json(folder / "run.json")
        assert info["state"] == "finished" and info["epochs_done"] == 2
        assert info["experiment"] == record["id"] and info["params"] == trial["params"]
        summary, alone = _alone(tmp_path, p, trial["params"])
        assert runs.read_history_csv(folder / "history.csv") == runs.read_history_csv(
            alone / "history.csv"
        ) | {"seconds": runs.read_history_csv(folder / "history.csv")["seconds"]}
        assert runs.read_json(folder / "metrics.json")["test"] == summary["test"]
        for mine, theirs in zip(_weights(folder / "model.keras"), _weights(alone / "model.keras")):
            np.testing.assert_array_equal(mine, theirs)
        assert trial["metric"] == summary["history"]["val_loss"][-1]


def test_asha_cuts_a_trial_inside_the_pack_and_the_survivor_continues_exactly(
    tmp_path, keras_loaded
):
    p = _digits(
        [{"setting": "compile.optimizer.learning_rate", "values": [0.01, 1e-7]}],
        epochs=3,
        early_stopping={"method": "asha", "grace_period": 1, "reduction_factor": 2},
    )
    record = _sweep(tmp_path, p)
    by_rate = {t["params"]["compile.optimizer.learning_rate"]: t for t in record["trials"]}
    cut, kept = by_rate[1e-7], by_rate[0.01]
    assert cut["state"] == "stopped" and cut["epochs"] == 1
    info = runs.read_json(Path(cut["run"]) / "run.json")
    assert info["state"] == "stopped" and info["cut_by"] == "experiment"
    assert "ASHA" in info["message"] and "model as at epoch 1" in info["message"]
    assert (Path(cut["run"]) / "model.keras").is_file()
    assert runs.resume_plan(Path(cut["run"]), 3)["epoch"] == 1  # its checkpoint resumes it
    # Tested mid-fit, by the pack it was still part of: the scores of its own 1-epoch run.
    one_epoch = validate({**p, "fit": {**p["fit"], "epochs": 1}})
    summary, _ = _alone(tmp_path, one_epoch, cut["params"])
    assert runs.read_json(Path(cut["run"]) / "metrics.json")["test"] == summary["test"]
    assert kept["state"] == "finished" and kept["epochs"] == 3
    _, alone = _alone(tmp_path, p, kept["params"])
    mine = runs.read_history_csv(Path(kept["run"]) / "history.csv")
    theirs = runs.read_history_csv(alone / "history.csv")
    assert mine["val_loss"] == theirs["val_loss"] and mine["loss"] == theirs["loss"]
    for a, b in zip(_weights(Path(kept["run"]) / "model.keras"), _weights(alone / "model.keras")):
        np.testing.assert_array_equal(a, b)


def test_a_nan_trial_fails_alone_in_its_pack(tmp_path, keras_loaded):
    # Linear layers, mse and SGD: learning rate 1.0 overflows to NaN within the first epoch.
    p = _digits(
        [{"setting": "compile.optimizer.learning_rate", "values": [0.01, 1.0]}],
        optimizer="SGD",
    )
    for layer in p["model"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["activation"] = "linear"
    p["compile"]["loss"] = "mse"
    record = _sweep(tmp_path, validate(p))
    by_rate = {t["params"]["compile.optimizer.learning_rate"]: t for t in record["trials"]}
    assert by_rate[1.0]["state"] == "failed" and by_rate[1.0]["metric"] is None
    assert "NaN" in runs.read_json(Path(by_rate[1.0]["run"]) / "run.json")["message"]
    assert by_rate[0.01]["state"] == "finished" and by_rate[0.01]["epochs"] == 2
    assert record["best"]["id"] == by_rate[0.01]["id"]


def test_stop_ends_every_trial_of_the_pack_and_keeps_them_resumable(tmp_path, keras_loaded):
    p = _digits([{"setting": "layers.hidden.units", "values": [8, 16]}], epochs=200)
    folder = runner.create(p, tmp_path / "runs", "t")
    watcher = _stop_after_first_epoch(folder)
    record = runner.run(folder, runs_root=tmp_path / "runs")
    watcher.join(60)
    assert record["state"] == "stopped"
    # What a refreshed page reads: the record on disk, the same outcome.
    assert runner.read(folder)["state"] == "stopped"
    # Pack size is measured (a loaded machine may pack one trial at a time): a trial whose
    # pack had not started when Stop came has no run; every one that started is kept.
    started = [t for t in record["trials"] if t.get("run")]
    assert started and all(t["state"] != "finished" for t in record["trials"])
    for trial in started:
        run = Path(trial["run"])
        info = runs.read_json(run / "run.json")
        assert trial["state"] == info["state"] == "stopped"
        assert 1 <= info["epochs_done"] < 200 and (run / "model.keras").is_file()
        assert runs.resume_plan(run)["epoch"] == info["epochs_done"]


def _stop_after_first_epoch(folder: Path) -> threading.Thread:
    def watch():
        while True:
            try:
                record = runs.read_json(folder / "experiment.json")
            except (OSError, ValueError):
                record = {}
            if any(t["epochs"] >= 1 for t in record.get("trials", [])):
                runner.request_stop(folder)
                return
            if record.get("ended"):
                return
            threading.Event().wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_trial_that_never_started_is_not_left_pending(tmp_path, keras_loaded, monkeypatch):
    # One trial per pack (what a loaded machine's measurement can choose): Stop during the
    # first pack leaves the second trial unstarted, and the ended record says so.
    monkeypatch.setattr(packed, "pack_size", lambda projects, measured: 1)
    p = _digits([{"setting": "layers.hidden.units", "values": [8, 16]}], epochs=200)
    folder = runner.create(p, tmp_path / "runs", "t")
    watcher = _stop_after_first_epoch(folder)
    record = runner.run(folder, runs_root=tmp_path / "runs")
    watcher.join(60)
    first, second = record["trials"]
    assert record["state"] == "stopped"
    assert first["state"] == "stopped" and 1 <= first["epochs"] < 200 and first["run"]
    assert second["state"] == "stopped" and second["epochs"] == 0 and second["run"] is None
    assert "not started" in second["message"]
    assert runner.read(folder)["trials"][1]["state"] == "stopped"


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda p: p["experiment"].update(search="tpe"), "TPE"),
        (
            lambda p: p["fit"]["callbacks"].append(
                {"class_name": "EarlyStopping", "config": {"monitor": "val_loss"}}
            ),
            "EarlyStopping",
        ),
        (lambda p: None, None),
    ],
)
def test_what_cannot_be_packed_goes_to_ray(change, why):
    p = _digits([{"setting": "layers.hidden.units", "values": [8, 16]}])
    change(p)
    p = validate(p)
    got = packed.reason(p, spec.defaults(p["experiment"]))
    assert (got is None) if why is None else (why in got)


def test_random_search_draws_within_the_ranges_and_repeats_with_the_seed():
    section = spec.defaults(
        {
            "parameters": [
                {
                    "setting": "compile.optimizer.learning_rate",
                    "low": 1e-4,
                    "high": 1e-2,
                    "log": True,
                },
                {"setting": "layers.hidden.units", "low": 8, "high": 64},
                {"setting": "layers.hidden.activation", "values": ["relu", "tanh"]},
            ],
            "search": "random",
            "trials": 20,
        }
    )
    drawn = packed.trial_params(section, seed=3)
    assert drawn == packed.trial_params(section, seed=3) and len(drawn) == 20
    for params in drawn:
        assert 1e-4 <= params["compile.optimizer.learning_rate"] <= 1e-2
        assert isinstance(params["layers.hidden.units"], int)
        assert 8 <= params["layers.hidden.units"] <= 64
        assert params["layers.hidden.activation"] in ("relu", "tanh")
