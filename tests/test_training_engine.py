"""The training engine: a spawned worker with progress events, Stop, and plain fault messages.

Two tests spawn a real worker (each pays a TensorFlow import of a few seconds); the fault
messages are checked by training in-process with the same ``worker.train``.
"""

import importlib.util
import json
import os
import signal
import time
import types
from pathlib import Path

import numpy as np
import pytest

from builder.project import validate
from builder.training import RunHandle, RunManager, faults, list_runs, runs, start_run, worker
from tests.helpers import project


def _classifier(epochs=500, lr=0.01, loss="sparse_categorical_crossentropy", units=3):
    p = project(
        [
            ("d1", "Dense", {"units": 16, "activation": "relu"}),
            ("out", "Dense", {"units": units, "activation": "softmax"}),
        ],
        shape=(8,),
        loss=loss,
    )
    p["compile"]["optimizer"] = {"class_name": "RMSprop", "config": {"learning_rate": lr}}
    p["fit"].update(epochs=epochs, batch_size=4, validation={"method": "split", "fraction": 0.2})
    return validate(p)


def _data(n=400, labels="int"):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n + 100, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    if labels == "onehot":
        y = np.eye(3, dtype="float32")[y]
    return types.SimpleNamespace(x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:])


def _poll_until(handle, condition, events, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events += handle.poll()
        if condition(events) or not handle.active:
            return
        time.sleep(0.05)
    pytest.fail(f"no such event within {timeout} s; got {[e['type'] for e in events]}")


def test_progress_events_then_stop_keeps_history_and_model(tmp_path):
    handle = start_run(_classifier(), tmp_path, "alice", prepared=_data(), device="cpu")
    assert handle.state == "starting" and handle.pid
    events = []
    _poll_until(handle, lambda ev: any(e["type"] == "epoch" for e in ev), events)
    seen = len(handle.history["loss"])
    handle.stop()
    _poll_until(handle, lambda ev: False, events, timeout=60)
    assert handle.state == "stopped"

    batches = [e for e in events if e["type"] == "batch"]
    assert batches and batches[0]["batches"] == 80 and batches[0]["epochs"] == 500
    assert set(batches[0]) >= {"fold", "folds", "epoch", "batch", "logs", "time"}
    gaps = np.diff([e["time"] for e in batches])
    assert gaps.min() >= 0.15, "batch events must be throttled to about 5 a second"
    epoch = next(e for e in events if e["type"] == "epoch")
    assert set(epoch["logs"]) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert epoch["epoch"] == 1 and epoch["seconds"] > 0 and epoch["fold"] is None
    assert epoch["logs"]["learning_rate"] == pytest.approx(0.01)
    assert any(e["type"] == "status" and "TensorFlow" in e["message"] for e in events)

    summary = handle.summary
    assert summary is events[-1] and summary["state"] == "stopped"
    assert "stopped by request" in handle.message
    assert seen <= summary["epochs"] <= seen + 2 < 500
    assert len(handle.history["loss"]) == summary["epochs"]
    assert set(summary["test"]) == {"loss", "accuracy"}

    folder = handle.path
    info = json.loads((folder / "run.json").read_text())
    assert info["state"] == "stopped" and info["device"] == "CPU" and info["seed"] == 0
    assert set(info["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    assert json.loads((folder / "metrics.json").read_text())["test"] == summary["test"]
    assert len(runs.read_history_csv(folder / "history.csv")["loss"]) == summary["epochs"]
    import keras

    model = keras.models.load_model(folder / "model.keras")
    assert model.output_shape == (None, 3)
    assert [r["state"] for r in list_runs(tmp_path, "alice")] == ["stopped"]
    assert list_runs(tmp_path, "bob") == []


def test_killed_worker_is_reported_and_its_folder_stays_valid(tmp_path):
    manager = RunManager(tmp_path, max_active=1)
    handle = manager.start(_classifier(), "alice", prepared=_data(), device="cpu")
    assert manager.get("bob", handle.run_id) is None and not manager.stop("bob", handle.run_id)
    assert manager.active("bob") == [] and manager.active("alice") == [handle]
    with pytest.raises(RuntimeError, match="at most 1"):
        manager.start(_classifier(), "bob", prepared=_data(), device="cpu")
    events = []
    _poll_until(handle, lambda ev: any(e["type"] == "epoch" for e in ev), events)
    os.kill(handle.pid, signal.SIGKILL)
    assert handle.wait(30) == "failed"
    assert "the training process ended unexpectedly (exit code -9" in handle.message
    (info,) = list_runs(tmp_path, "alice")
    assert info["state"] == "failed" and info["message"] == handle.message
    assert info["exit_code"] == -9
    assert runs.read_history_csv(handle.path / "history.csv")["epoch"][0] == 1
    manager.forget_finished()
    assert manager.active("alice") == []


# --------------------------------------------------------------------------- in-process faults


def _train_here(tmp_path, p, data):
    folder = runs.create_run(tmp_path, "t", p, {})
    summary = worker.train(p, folder, prepared=data, device="cpu")
    assert json.loads((folder / "run.json").read_text())["state"] == summary["state"]
    return summary, folder


def test_nan_loss_fails_with_where_and_what_to_do(tmp_path):
    p = project(
        [("d1", "Dense", {"units": 8, "activation": "relu"}), ("out", "Dense", {"units": 1})],
        shape=(4,),
        loss="mse",
        metrics=["mae"],
    )
    p["compile"]["optimizer"] = {"class_name": "SGD", "config": {"learning_rate": 10.0}}
    p["fit"].update(epochs=3, batch_size=8)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32") * 100
    y = x.sum(axis=1) * 100
    summary, folder = _train_here(
        tmp_path, validate(p), types.SimpleNamespace(x_train=x, y_train=y, x_test=x, y_test=y)
    )
    assert summary["state"] == "failed"
    assert summary["message"].startswith("loss became NaN at epoch 1 batch ")
    assert "lower the learning rate (now 10)" in summary["message"]
    assert not (folder / "model.keras").exists()
    assert runs.list_runs(tmp_path, "t")[0]["state"] == "failed"


def test_project_callbacks_are_keras_own_with_paths_in_the_run_folder(tmp_path):
    p = _classifier(epochs=4)
    p["fit"]["validation"] = {"method": "none"}
    p["fit"]["callbacks"] = [
        {
            "class_name": "ReduceLROnPlateau",
            "config": {"monitor": "loss", "factor": 0.5, "patience": 0, "min_delta": 100.0},
        },
        {
            "class_name": "EarlyStopping",
            "config": {"monitor": "loss", "patience": 2, "min_delta": 100.0},
        },
        {"class_name": "TensorBoard", "config": {"write_graph": False}},
        {"class_name": "BackupAndRestore", "config": {}},
    ]
    folder = runs.create_run(tmp_path, "t", validate(p), {})
    events = []
    summary = worker.train(validate(p), folder, events.append, prepared=_data(n=64), device="cpu")
    assert summary["state"] == "finished", summary["message"]
    assert summary["message"] == "EarlyStopping ended training at epoch 3."
    assert summary["history"]["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])
    assert "val_loss" not in summary["history"]
    if importlib.util.find_spec("tensorboard"):
        assert (folder / "tensorboard" / "train").is_dir()
    else:
        assert any("TensorBoard logs are skipped" in e.get("message", "") for e in events)
    assert not (folder / "backup").exists()  # Keras deletes its backup after a finished fit
    assert (folder / "model.keras").is_file()


@pytest.mark.parametrize(
    "loss, labels, units, expected",
    [
        (
            "categorical_crossentropy",
            "int",
            3,
            "use loss 'sparse_categorical_crossentropy', or one-hot encode",
        ),
        ("sparse_categorical_crossentropy", "onehot", 3, "use loss 'categorical_crossentropy'"),
        (
            "sparse_categorical_crossentropy",
            "int",
            2,
            "a label is 2 but the last layer has only 2 units",
        ),
    ],
)
def test_fit_time_setting_errors_are_translated(tmp_path, loss, labels, units, expected):
    summary, _ = _train_here(
        tmp_path, _classifier(epochs=1, loss=loss, units=units), _data(n=64, labels=labels)
    )
    assert summary["state"] == "failed"
    assert expected in summary["message"]
    assert "Keras said:" in summary["message"] and "Traceback" not in summary["message"]


def test_input_width_mismatch_is_translated(tmp_path):
    data = _data(n=64)
    data.x_train, data.x_test = data.x_train[:, :5], data.x_test[:, :5]
    summary, _ = _train_here(tmp_path, _classifier(epochs=1), data)
    assert "the data has 5 values per sample where the model expects 8" in summary["message"]


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        type("ResourceExhaustedError", (Exception,), {})("OOM when allocating tensor with shape"),
    ],
)
def test_out_of_memory_message_names_the_fix(exc):
    message = faults.explain_error(exc, _classifier())
    assert message.startswith("ran out of memory") and "smaller batch size (now 4)" in message


def test_unknown_errors_keep_keras_text_on_one_line():
    message = faults.explain_error(ValueError("something\n  odd \x1b[1mhappened\x1b[0m"), {})
    assert message == "training failed: ValueError: something odd happened"


@pytest.mark.parametrize("code, words", [(-9, "killed by signal 9"), (1, "exit code 1)")])
def test_died_message(code, words):
    message = faults.died_message(code)
    assert message.startswith("the training process ended unexpectedly") and words in message


def test_nan_message_is_plain():
    assert faults.nan_message(2, 7, _classifier()).startswith(
        "loss became NaN at epoch 2 batch 7: lower the learning rate (now 0.01)"
    )


# ------------------------------------------------------------------------ handle, no worker


class _EndedProcess:
    pid, exitcode = 4242, 0

    def is_alive(self):
        return False


def _ended_handle(tmp_path, state):
    import queue
    import threading

    folder = runs.create_run(tmp_path, "alice", _classifier(), {})
    runs.update_run_info(folder, state=state, message="all epochs done" * (state == "finished"))
    reaper = threading.Thread(target=lambda: None)  # the ended process's waiter, done
    reaper.start()
    return RunHandle(
        folder.name,
        "alice",
        folder,
        _EndedProcess(),
        queue.Queue(),
        threading.Event(),
        reaper,
        epochs=3,
        folds=None,
    )


def test_unread_summary_falls_back_to_run_json(tmp_path):
    handle = _ended_handle(tmp_path, "finished")
    (event,) = handle.poll()
    assert event["type"] == "summary" and handle.state == "finished"
    assert handle.message == "all epochs done"


def test_process_gone_without_outcome_is_a_failure(tmp_path):
    handle = _ended_handle(tmp_path, "running")
    handle.poll()
    assert handle.state == "failed" and "ended unexpectedly (exit code 0)" in handle.message
    assert runs.read_json(handle.path / "run.json")["state"] == "failed"
    assert handle.poll() == []


def test_stop_in_the_middle_of_an_epoch_records_only_the_completed_ones(tmp_path):
    """80 batches an epoch; Stop is seen at batch 30 of epoch 3: two epochs are recorded,
    no partial third, and the message says two."""
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 2 * 80 + 30

    folder = runs.create_run(tmp_path, "alice", _classifier(epochs=5), {})
    summary = worker.train(
        _classifier(epochs=5), folder, should_stop=should_stop, prepared=_data(), device="cpu"
    )
    assert summary["state"] == "stopped"
    assert summary["epochs"] == 2 and "after 2 epoch(s)" in summary["message"]
    assert len(runs.read_history_csv(folder / "history.csv")["loss"]) == 2


def test_an_ended_worker_is_reaped_though_nobody_polls_it(tmp_path):
    """A page stops polling at the result event, before the worker has exited: the worker
    must still not stay behind as a zombie process."""
    handle = start_run(_classifier(epochs=1), tmp_path, "alice", prepared=_data(), device="cpu")
    pid = handle.pid
    deadline = time.monotonic() + 180
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # no poll(), no wait(): only the engine's own reaping
    assert not Path(f"/proc/{pid}").exists(), "the ended worker was left as a zombie"
