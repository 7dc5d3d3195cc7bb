"""builder.locks: one writer at a time across processes (run.json read-modify-write)."""

from __future__ import annotations

import multiprocessing

import pytest

from builder import locks

UPDATES = 200


def _writer(folder: str, tag: str, barrier) -> None:
    from builder.training import runs

    barrier.wait()
    for i in range(UPDATES):
        runs.update_run_info(folder, **{f"{tag}{i}": i})


def test_two_processes_updating_run_json_lose_no_change(tmp_path):
    from builder.training import runs

    folder = runs.create_run(tmp_path, "owner", {"name": "p"}, {})
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(folder), t, barrier)) for t in "ab"]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(600)
        assert proc.exitcode == 0
    record = runs.read_json(folder / "run.json")
    missing = [f"{t}{i}" for t in "ab" for i in range(UPDATES) if f"{t}{i}" not in record]
    assert missing == []


def test_reconcile_leaves_a_run_that_ended_meanwhile(tmp_path):
    from builder.training import runs

    folder = runs.create_run(tmp_path, "owner", {"name": "p"}, {})
    runs.update_run_info(folder, state="finished", message="done")
    record = runs.update_run_info(folder, unless_ended=True, state="interrupted")
    assert record["state"] == "finished"
    assert runs.read_json(folder / "run.json")["state"] == "finished"


def test_a_lock_never_brings_back_a_deleted_folder(tmp_path):
    gone = tmp_path / "gone"
    with pytest.raises(FileNotFoundError):
        with locks.locked(gone):
            pass
    assert not gone.exists()
