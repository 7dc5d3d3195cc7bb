"""Checkpoints and resume: a stopped or interrupted run continues from its last completed
epoch in its own folder, with its model, optimizer state, history, callbacks' state and
data split, as a new segment of the same run.

Most tests train in this process with ``worker.train`` (a small model, 64 samples); one
spawns a worker, kills it and resumes through ``RunManager``.
"""

from __future__ import annotations

import json
import os
import signal
import time
import types

import numpy as np
import pytest

from builder import doctor
from builder.project import validate
from builder.training import RunManager, runs, worker
from builder.training import checkpoint as checkpoints
from tests.helpers import project

STEPS = 6  # 48 training samples (64 less the 25 % validation split) in batches of 8


def _project(epochs=4, callbacks=(), validation=None):
    p = project(
        [
            ("d1", "Dense", {"units": 16, "activation": "relu"}),
            ("drop", "Dropout", {"rate": 0.3}),
            ("out", "Dense", {"units": 3, "activation": "softmax"}),
        ],
        shape=(8,),
        loss="sparse_categorical_crossentropy",
    )
    p["compile"]["optimizer"] = {"class_name": "Adam", "config": {"learning_rate": 0.01}}
    p["fit"].update(
        epochs=epochs,
        batch_size=8,
        validation=validation or {"method": "split", "fraction": 0.25},
        callbacks=list(callbacks),
    )
    return validate(p)


def _data(n=64, shift=0.0):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n + 16, 8)).astype("float32") + shift
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    return types.SimpleNamespace(x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:])


def _stop_after(batches: int):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > batches

    return should_stop


def _resume_here(folder, data, epochs=None, **kwargs):
    plan = runs.resume_plan(folder, epochs)
    p = dict(plan["project"])
    p["fit"] = {**p["fit"], "epochs": plan["epochs"]}
    runs.begin_segment(folder, plan["epochs"], plan["epoch"] + 1)
    return worker.train(p, folder, prepared=data, device="cpu", resume=True, **kwargs)


def _model(path):
    import keras

    return keras.saving.load_model(path)


def _checkpoint_files(folder):
    return sorted(p.name for p in folder.iterdir() if "checkpoint" in p.name)


def test_stop_mid_epoch_then_resume_equals_a_straight_run(tmp_path):
    data = _data()
    straight = runs.create_run(tmp_path, "t", _project(), {})
    whole = worker.train(_project(), straight, prepared=data, device="cpu")
    assert whole["state"] == "finished" and whole["epochs"] == 4
    # Its loss still falls at the last epoch: the finished run keeps its last checkpoint,
    # for the doctor's "Resume for N more epochs" (one that is done keeps none).
    assert doctor.still_improving(whole["history"])
    # The first epoch's whole .keras file is the base; later epochs write variables only.
    assert _checkpoint_files(straight) == [
        "checkpoint-00001.keras",
        "checkpoint-00004.npz",
        "checkpoint.json",
    ]

    folder = runs.create_run(tmp_path, "t", _project(), {})
    # Stop is seen at batch 3 of epoch 3: two complete epochs, no partial third.
    first = worker.train(
        _project(), folder, should_stop=_stop_after(2 * STEPS + 3), prepared=data, device="cpu"
    )
    assert first["state"] == "stopped" and first["epochs"] == 2
    assert _checkpoint_files(folder) == [
        "checkpoint-00001.keras",
        "checkpoint-00002.npz",
        "checkpoint.json",
    ]
    assert runs.read_json(folder / "run.json")["epochs_done"] == 2
    # The saved model went back to the end of epoch 2 (the partial epoch is not in it).
    record = runs.read_checkpoint(folder)
    assert (record["file"], record["base"]) == ("checkpoint-00002.npz", "checkpoint-00001.keras")
    saved, checkpoint = _model(folder / "model.keras"), checkpoints._load_checkpoint(folder, record)
    for a, b in zip(saved.get_weights(), checkpoint.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(checkpoint.optimizer.iterations) == 2 * STEPS
    # Its optimizer too: the saved model is the end of epoch 2, not 3 batches past it.
    assert int(saved.optimizer.iterations) == 2 * STEPS

    resumed = _resume_here(folder, data)
    assert resumed["state"] == "finished" and resumed["epochs"] == 4
    history = runs.read_history_csv(folder / "history.csv")
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["loss"] == pytest.approx(whole["history"]["loss"], rel=1e-6)
    assert resumed["history"]["val_loss"] == pytest.approx(whole["history"]["val_loss"], rel=1e-6)
    a, b = _model(straight / "model.keras"), _model(folder / "model.keras")
    assert int(b.optimizer.iterations) == int(a.optimizer.iterations) == 4 * STEPS
    # Same weights: Keras' array shuffling repeats under the seed, and the Dropout seed
    # state is restored from the checkpoint.
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)

    record = runs.read_json(folder / "run.json")
    assert record["id"] == folder.name and record["state"] == "finished"
    assert record["epochs_done"] == 4
    one, two = record["segments"]
    assert (one["first_epoch"], one["state"], one["epochs_done"]) == (1, "stopped", 2)
    assert "stopped by request after 2 epoch(s)" in one["message"]
    assert (two["first_epoch"], two["epochs"], two["state"], two["epochs_done"]) == (
        3,
        4,
        "finished",
        4,
    )
    assert _checkpoint_files(folder) == [
        "checkpoint-00001.keras",
        "checkpoint-00004.npz",
        "checkpoint.json",
    ]
    with pytest.raises(runs.RunError, match="give a total of at least 5 epochs"):
        runs.resume_plan(folder)


def test_a_new_total_and_callbacks_that_keep_their_state(tmp_path):
    """EarlyStopping (patience 3, never improves by 100) ends a straight run at epoch 4 and
    ReduceLROnPlateau (patience 1) halves the rate after every epoch from the second;
    stopped after 2 and resumed, both go on from their state instead of starting over
    (which would end at epoch 6 and leave the rate alone once)."""
    callbacks = [
        {
            "class_name": "ReduceLROnPlateau",
            "config": {"monitor": "loss", "factor": 0.5, "patience": 1, "min_delta": 100.0},
        },
        {
            "class_name": "EarlyStopping",
            "config": {"monitor": "loss", "patience": 3, "min_delta": 100.0},
        },
    ]
    data = _data()
    p = _project(epochs=4, callbacks=callbacks, validation={"method": "none"})
    folder = runs.create_run(tmp_path, "t", p, {})
    first = worker.train(p, folder, should_stop=_stop_after(2 * 8), prepared=data, device="cpu")
    assert first["state"] == "stopped" and first["epochs"] == 2
    state = runs.read_checkpoint(folder)["callbacks"]
    assert state[1]["class_name"] == "EarlyStopping" and state[1]["wait"] == 1

    with pytest.raises(runs.RunError, match="at least 3 epochs"):
        runs.resume_plan(folder, 2)
    resumed = _resume_here(folder, data, epochs=10)
    assert resumed["state"] == "finished", resumed["message"]
    assert resumed["message"] == "EarlyStopping ended training at epoch 4."
    assert resumed["epochs"] == 4
    assert resumed["history"]["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])
    assert runs.read_json(folder / "project.json")["fit"]["epochs"] == 10


def test_resume_refuses_other_data_and_keeps_the_checkpoint(tmp_path):
    data = _data()
    folder = runs.create_run(tmp_path, "t", _project(), {})
    worker.train(
        _project(), folder, should_stop=_stop_after(STEPS + 1), prepared=data, device="cpu"
    )
    summary = _resume_here(folder, _data(shift=0.5))
    assert summary["state"] == "failed"
    assert "not what this run trained on for its first 1 epoch(s)" in summary["message"]
    assert runs.read_checkpoint(folder)["epoch"] == 1
    assert runs.resume_plan(folder)["epoch"] == 1  # still resumable, with the right data
    assert _resume_here(folder, data)["epochs"] == 4


def test_what_cannot_be_resumed_says_why(tmp_path):
    data = _data()
    kfold = _project(validation={"method": "kfold", "k": 2})
    folder = runs.create_run(tmp_path, "t", kfold, {})
    worker.train(kfold, folder, should_stop=_stop_after(5), prepared=data, device="cpu")
    assert _checkpoint_files(folder) == []
    with pytest.raises(runs.RunError, match="K-fold runs cannot be resumed"):
        runs.resume_plan(folder)

    early = runs.create_run(tmp_path, "t", _project(), {})
    summary = worker.train(
        _project(), early, should_stop=_stop_after(2), prepared=data, device="cpu"
    )
    assert summary["state"] == "stopped" and summary["epochs"] == 0
    with pytest.raises(runs.RunError, match="before its first epoch was complete"):
        runs.resume_plan(early)

    running = runs.create_run(tmp_path, "t", _project(), {})
    runs.update_run_info(running, state="running", pid=os.getpid())
    with pytest.raises(runs.RunError, match="still training"):
        runs.resume_plan(running)


def test_a_run_checkpointed_in_keras_files_only_still_resumes(tmp_path):
    """Runs written before the variables-only checkpoints name one whole .keras file and
    no base: they resume from it as before, and to the same weights as a straight run."""
    data = _data()
    straight = runs.create_run(tmp_path, "t", _project(), {})
    worker.train(_project(), straight, prepared=data, device="cpu")
    folder = runs.create_run(tmp_path, "t", _project(), {})
    worker.train(_project(), folder, should_stop=_stop_after(2 * STEPS), prepared=data)
    record = runs.read_checkpoint(folder)
    assert record["epoch"] == 2 and record["base"] == "checkpoint-00001.keras"
    # As an older version left it: epoch 2's whole .keras file, no base.
    whole = checkpoints._load_checkpoint(folder, record)
    checkpoints.save_model(whole, folder / "checkpoint-00002.keras")
    for name in ("checkpoint-00001.keras", "checkpoint-00002.npz"):
        (folder / name).unlink()
    del record["base"]
    runs.write_json_atomic(folder / runs.CHECKPOINT, {**record, "file": "checkpoint-00002.keras"})
    assert _resume_here(folder, data)["state"] == "finished"
    a, b = _model(straight / "model.keras"), _model(folder / "model.keras")
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def test_bfloat16_weights_stop_mid_epoch_and_resume_exactly(tmp_path):
    """numpy writes bfloat16 (an ml_dtypes type) as raw bytes: the variables checkpoint keeps
    its bits and dtype name, so a Stop mid-epoch rewinds and a resume loads them."""
    doc = _project()
    doc["model"]["layers"][0]["config"]["dtype"] = "bfloat16"
    doc = validate(doc)
    data = _data()
    straight = runs.create_run(tmp_path, "t", doc, {})
    assert worker.train(doc, straight, prepared=data, device="cpu")["state"] == "finished"
    folder = runs.create_run(tmp_path, "t", doc, {})
    first = worker.train(doc, folder, should_stop=_stop_after(2 * STEPS + 3), prepared=data)
    assert first["state"] == "stopped" and first["epochs"] == 2, first["message"]
    record = runs.read_checkpoint(folder)
    kernel = checkpoints._load_checkpoint(folder, record).layers[0].kernel
    assert str(kernel.dtype) == "bfloat16"
    assert _resume_here(folder, data)["state"] == "finished"
    a, b = _model(straight / "model.keras"), _model(folder / "model.keras")
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(np.asarray(x, "float32"), np.asarray(y, "float32"))


def test_a_checkpoint_whose_variables_do_not_fit_its_base_is_refused(tmp_path):
    data = _data()
    folder = runs.create_run(tmp_path, "t", _project(), {})
    worker.train(_project(), folder, should_stop=_stop_after(2 * STEPS), prepared=data)
    record = runs.read_checkpoint(folder)
    np.savez(folder / record["file"], w0=np.zeros(3))
    with pytest.raises(checkpoints._Refused, match=r"checkpoint-00002\.npz cannot be loaded"):
        checkpoints._load_checkpoint(folder, record)
    (folder / record["base"]).unlink()  # the base gone: no checkpoint at all
    assert runs.read_checkpoint(folder) is None


def test_a_checkpoint_whose_file_is_missing_is_not_used(tmp_path):
    """checkpoint.json is written after its .keras file: one naming a missing (or
    half-written, hidden temporary) file means no checkpoint, never a broken load."""
    folder = runs.create_run(tmp_path, "t", _project(), {})
    runs.write_json_atomic(
        folder / runs.CHECKPOINT, {"epoch": 3, "file": "checkpoint-00003.keras", "history": {}}
    )
    (folder / ".checkpoint-00003.keras.tmp.keras").write_bytes(b"half")
    runs.update_run_info(folder, state="stopped", epochs_done=3)
    assert runs.read_checkpoint(folder) is None
    with pytest.raises(runs.RunError, match="no checkpoint"):
        runs.resume_plan(folder)
    runs.drop_checkpoint(folder)
    assert _checkpoint_files(folder) == []


def test_a_killed_worker_resumes_from_its_last_checkpoint(tmp_path):
    manager = RunManager(tmp_path, max_active=1)
    handle = manager.start(_project(epochs=400), "alice", prepared=_data(), device="cpu")
    deadline = time.monotonic() + 180
    while (
        time.monotonic() < deadline
        and (runs.read_checkpoint(handle.path) or {}).get("epoch", 0) < 2
    ):
        handle.poll()
        time.sleep(0.05)
    os.kill(handle.pid, signal.SIGKILL)
    assert handle.wait(30) == "failed"
    done = runs.read_checkpoint(handle.path)["epoch"]
    assert done >= 2
    with pytest.raises(runs.RunError, match="not a run id"):
        manager.resume("alice", "../x")

    again = manager.resume("alice", handle.run_id, epochs=done + 2, prepared=_data())
    assert again.run_id == handle.run_id and again.first_epoch == done + 1
    assert len(again.history["loss"]) == done  # the live curve starts with the saved epochs
    with pytest.raises(RuntimeError, match="still going"):
        manager.resume("alice", handle.run_id)
    assert again.wait(180) == "finished", again.message
    assert again.summary["epochs"] == done + 2
    history = runs.read_history_csv(again.path / "history.csv")
    assert history["epoch"] == list(range(1, done + 3))
    record = runs.read_json(again.path / "run.json")
    assert [s["first_epoch"] for s in record["segments"]] == [1, done + 1]
    assert record["segments"][0]["state"] == "failed"
    assert "ended unexpectedly" in record["segments"][0]["message"]
    assert f"epoch {done}, is kept: Resume continues" in record["segments"][0]["message"]
    assert record["state"] == "finished" and record["epochs_done"] == done + 2
    assert json.loads((again.path / "project.json").read_text())["fit"]["epochs"] == done + 2


def test_multi_hot_text_resumes_the_same_way_twice(tmp_path):
    """Per-batch encoded text shuffles in a tf.data pipeline that Keras copies into fit, so
    a resumed run cannot replay a straight run's later orders (unlike arrays, above). What
    holds: epoch 1 is the straight run's, the run continues with numbered epochs and the
    optimizer's step count, and resuming the same checkpoint twice gives the same run."""
    import shutil

    from builder.data.preprocess import MultiHotRows

    rng = np.random.default_rng(1)
    sequences = [list(rng.integers(1, 50, size=rng.integers(3, 12))) for _ in range(80)]
    x = MultiHotRows(sequences, 50)
    y = np.array([int(5 in s or 7 in s) for s in sequences], dtype="int64")
    data = types.SimpleNamespace(x_train=x[:64], y_train=y[:64], x_test=x[64:], y_test=y[64:])
    p = project(
        [
            ("d1", "Dense", {"units": 8, "activation": "relu"}),
            ("out", "Dense", {"units": 1, "activation": "sigmoid"}),
        ],
        shape=(50,),
        loss="binary_crossentropy",
        dataset="imdb",
    )
    p["fit"].update(epochs=3, batch_size=8, validation={"method": "holdout", "count": 16})
    p = validate(p)
    straight = runs.create_run(tmp_path, "t", p, {})
    whole = worker.train(p, straight, prepared=data, device="cpu")
    assert whole["state"] == "finished", whole["message"]
    folder = runs.create_run(tmp_path, "t", p, {})
    worker.train(p, folder, should_stop=_stop_after(STEPS + 2), prepared=data, device="cpu")
    assert runs.read_checkpoint(folder)["epoch"] == 1
    twin = tmp_path / "t" / "twin"
    shutil.copytree(folder, twin)
    record = runs.read_json(twin / "run.json")
    runs.write_json_atomic(twin / "run.json", {**record, "id": "twin"})

    resumed = [_resume_here(f, data) for f in (folder, twin)]
    assert resumed[0]["history"]["loss"][0] == pytest.approx(whole["history"]["loss"][0])
    assert resumed[0]["history"]["loss"] == resumed[1]["history"]["loss"]
    assert runs.read_history_csv(folder / "history.csv")["epoch"] == [1, 2, 3]
    models = [_model(f / "model.keras") for f in (folder, twin)]
    assert int(models[0].optimizer.iterations) == 3 * STEPS
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(a, b)
