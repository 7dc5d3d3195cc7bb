"""The warm worker (``builder.training.engine.WarmWorker``): a training process started
ahead, TensorFlow imported, that takes the next Start's job.

It is a worker like any other: it dies with the app, the job it takes counts in the job
limit, it is reaped when it ends, and a seeded run trains in it exactly as in a fresh one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from builder import templates
from builder.project import validate
from builder.training import RunManager, lifecycle, runs
from tests.test_lifecycle import _python, _wait_gone

TIMEOUT_S = 300  # a loaded machine imports TensorFlow slowly; polled, not slept


@pytest.fixture
def warm_on(monkeypatch):
    monkeypatch.setenv("NETBUILDER_WARM_WORKER", "1")


def _project(epochs: int = 2) -> dict:
    p = templates.load(templates.DEFAULT)
    p["fit"]["epochs"] = epochs
    return validate(p)


def _until(check, what: str):
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {TIMEOUT_S} s")


def test_an_idle_warm_worker_dies_with_its_app(tmp_path):
    parent = _python(
        f"""
        import time
        from builder.training import RunManager
        warm = RunManager({str(tmp_path)!r}).keep_warm(device="cpu")
        warm.ready.wait(600)
        print(warm.process.pid, flush=True)
        time.sleep(600)
        """,
        env_extra={"NETBUILDER_WARM_WORKER": "1"},
    )
    try:
        pid = int(parent.stdout.readline())
        token = lifecycle.start_token(pid)
        assert lifecycle.alive(pid, token)
    finally:
        parent.kill()
        parent.wait()
    assert _wait_gone(pid, token, timeout=10) is not None, "the warm worker outlived its app"


def test_start_hands_the_job_to_the_warm_worker_which_counts_and_is_reaped(tmp_path, warm_on):
    manager = RunManager(tmp_path / "runs", max_active=1)
    project = _project()
    warm = manager.keep_warm(project, device="cpu")
    assert warm is not None and manager.keep_warm(project, device="cpu") is warm
    _until(warm.ready.is_set, "the warm worker was not ready")
    handle = manager.start(project, "alice", device="cpu")
    assert handle.pid == warm.process.pid
    assert manager.keep_warm(device="cpu") is None  # no second process while one trains
    with pytest.raises(RuntimeError, match="still going"):
        manager.start(project, "alice", device="cpu")
    assert handle.wait(TIMEOUT_S) == "finished", handle.message
    record = runs.read_json(handle.path / "run.json")
    assert record["pid"] == warm.process.pid and record["state"] == "finished"
    assert record["server_pid"] == os.getpid()
    _until(lambda: manager.reap() == 0, "the warm worker did not end after its job")
    assert not Path(f"/proc/{handle.pid}").exists(), "an ended warm worker was left a zombie"
    # A new one is warmed once nothing trains; closing it reaps it too.
    again = manager.keep_warm(device="cpu")
    assert again is not None and again.process.pid != handle.pid
    manager.close_warm()
    assert manager.reap() == 0 and not again.process.is_alive()


def test_a_seeded_run_in_a_warm_worker_equals_one_in_a_fresh_process(tmp_path, warm_on):
    project = _project()
    warm_manager = RunManager(tmp_path / "warm", max_active=1)
    warm = warm_manager.keep_warm(project, device="cpu")
    _until(warm.ready.is_set, "the warm worker was not ready")
    in_warm = warm_manager.start(project, "alice", device="cpu")
    assert in_warm.pid == warm.process.pid
    assert in_warm.wait(TIMEOUT_S) == "finished", in_warm.message
    cold = RunManager(tmp_path / "cold", max_active=1).start(project, "alice", device="cpu")
    assert cold.wait(TIMEOUT_S) == "finished", cold.message
    assert (
        runs.read_history_csv(in_warm.path / "history.csv")["val_loss"]
        == (runs.read_history_csv(cold.path / "history.csv")["val_loss"])
    )
    assert in_warm.summary["test"] == cold.summary["test"]
