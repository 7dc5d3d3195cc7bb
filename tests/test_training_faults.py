"""Faults leave consistent records (#19 item 6): a run that fails for a full disk, for
memory or a kill is marked failed with the reason in run.json, and its last complete
checkpoint is kept and resumable.

The full disk is made real where this process may mount a small tmpfs (root), and is
simulated everywhere else (every new file refused with ENOSPC once the disk "fills").
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from builder.training import checkpoint, runs, worker
from tests.test_training_resume import _data, _project


def _fill_after_epoch(epoch: int, fill):
    def emit(event):
        if event.get("type") == "epoch" and event.get("epoch") == epoch:
            fill()

    return emit


def _assert_failed_with_checkpoint(folder: Path, reason: str, kept: int) -> None:
    record = runs.read_json(folder / "run.json")
    assert record["state"] == "failed"
    assert reason in record["message"]
    assert f"last complete checkpoint, epoch {kept}, is kept" in record["message"]
    assert record["ended"]
    assert runs.read_checkpoint(folder)["epoch"] == kept
    assert runs.resume_plan(folder)["epoch"] == kept
    assert not [p.name for p in folder.glob(".*")]  # no half-written files left


def test_a_full_disk_mid_training_is_recorded_and_resumable(tmp_path, monkeypatch):
    """Simulated: after epoch 2 is reported every new file fails with ENOSPC (the
    checkpoint of epoch 2 among them); only run.json's own blocks can be rewritten."""
    folder = runs.create_run(tmp_path, "t", _project(epochs=5), {})
    full = {"on": False}

    def refuse(*args, **kwargs):
        if full["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_text(*args, **kwargs)

    def save_model(model, path):
        if full["on"]:
            (path.parent / f".{path.stem}.tmp.keras").write_bytes(b"half")  # a partial file
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(model, path)

    real_text, real_save = runs.write_text_atomic, checkpoint.save_model
    monkeypatch.setattr(runs, "write_text_atomic", refuse)
    monkeypatch.setattr(checkpoint, "save_model", save_model)
    emit = _fill_after_epoch(2, lambda: full.update(on=True))
    summary = worker.train(_project(epochs=5), folder, emit, prepared=_data())
    assert summary["state"] == "failed"
    _assert_failed_with_checkpoint(folder, "disk where runs are written is full", kept=1)


def _mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        timeout=30,
    )
    return done.returncode == 0


def test_a_real_full_disk_mid_training(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk):
        pytest.skip("mounting a small tmpfs needs root (the simulated test above runs)")
    try:
        monkeypatch.setattr(runs, "MIN_FREE_BYTES", 0)
        folder = runs.create_run(disk, "t", _project(epochs=5), {})

        def fill():  # another program fills the disk
            with open(disk / "filler", "wb") as fh:
                try:
                    while True:
                        fh.write(b"\0" * 65536)
                except OSError:
                    pass

        worker.train(_project(epochs=5), folder, _fill_after_epoch(2, fill), prepared=_data())
        _assert_failed_with_checkpoint(folder, "disk where runs are written is full", kept=1)
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=30)


def test_running_out_of_memory_is_recorded_and_resumable(tmp_path, monkeypatch):
    folder = runs.create_run(tmp_path, "t", _project(epochs=5), {})
    real = worker._checkpoint_callback

    def checkpoint_then_oom(*args, **kwargs):
        saver = real(*args, **kwargs)
        save = saver.on_epoch_end

        def on_epoch_end(epoch, logs=None):
            if epoch + 1 == 3:
                raise MemoryError("out of memory")
            save(epoch, logs)

        saver.on_epoch_end = on_epoch_end
        return saver

    monkeypatch.setattr(worker, "_checkpoint_callback", checkpoint_then_oom)
    worker.train(_project(epochs=5), folder, prepared=_data())
    _assert_failed_with_checkpoint(folder, "ran out of memory", kept=2)


def test_reconcile_names_the_checkpoint_of_an_interrupted_run(tmp_path):
    folder = runs.create_run(tmp_path, "t", _project(epochs=5), {})
    worker.train(_project(epochs=2), folder, prepared=_data(), should_stop=None)
    runs.update_run_info(folder, state="running", pid=None)
    runs.write_json_atomic(
        folder / runs.CHECKPOINT,
        {"epoch": 1, "file": "model.keras", "history": {}},
    )
    os.utime(folder / "run.json", (0, 0))
    assert runs.reconcile(tmp_path)
    record = runs.read_json(folder / "run.json")
    assert record["state"] == "interrupted"
    assert "epoch 1, is kept" in record["message"]
