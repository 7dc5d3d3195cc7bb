"""Run folders: atomic writes, listing that survives broken folders, owners kept apart."""

import json
import math
import os

import pytest

from builder.training import runs
from tests.helpers import project


def _project():
    return project([("out", "Dense", {"units": 1})], shape=(4,), loss="mse")


def test_create_run_writes_project_and_run_json(tmp_path):
    folder = runs.create_run(tmp_path, "alice", _project(), {"seed": 3})
    assert folder.parent == tmp_path / "alice"
    assert runs.RUN_ID_RE.match(folder.name)
    assert json.loads((folder / "project.json").read_text())["name"] == "test"
    info = json.loads((folder / "run.json").read_text())
    assert info["id"] == folder.name and info["state"] == "starting" and info["seed"] == 3
    assert not [p for p in (tmp_path / "alice").iterdir() if p.name.startswith(".")]


def test_list_runs_newest_first_and_finished_state(tmp_path):
    first = runs.create_run(tmp_path, "alice", _project(), {})
    second = runs.create_run(tmp_path, "alice", _project(), {})
    runs.update_run_info(first, state="finished")
    runs.update_run_info(second, state="stopped")
    listed = runs.list_runs(tmp_path, "alice")
    assert [r["id"] for r in listed] == sorted([first.name, second.name], reverse=True)
    assert {r["state"] for r in listed} == {"finished", "stopped"}


def test_runs_started_in_the_same_second_list_newest_first(tmp_path):
    # Ids carry the microsecond: ten runs made at once list in reverse order of creation
    # (with random suffixes, runs of one second came out in any order).
    made = [runs.create_run(tmp_path, "alice", _project(), {}).name for _ in range(10)]
    assert len({m[:15] for m in made}) <= 2  # the same second, or two
    assert [r["id"] for r in runs.list_runs(tmp_path, "alice")] == made[::-1]
    assert all(runs.RUN_ID_RE.fullmatch(m) for m in made)


def test_recent_projects_recognise_run_folders_by_the_same_pattern():
    from builder import recent

    assert recent._RUN_ID_RE.pattern == runs.RUN_ID_RE.pattern


def test_owners_do_not_see_each_others_runs(tmp_path):
    mine = runs.create_run(tmp_path, "alice", _project(), {})
    theirs = runs.create_run(tmp_path, "bob", _project(), {})
    assert [r["id"] for r in runs.list_runs(tmp_path, "alice")] == [mine.name]
    assert [r["id"] for r in runs.list_runs(tmp_path, "bob")] == [theirs.name]
    with pytest.raises(runs.RunError, match="cannot be read"):
        runs.load_run(tmp_path, "alice", theirs.name)


@pytest.mark.parametrize("owner", ["", "../bob", "a/b", "x" * 65, "ünï", None])
def test_bad_owner_ids_are_refused(tmp_path, owner):
    with pytest.raises(runs.RunError, match="not allowed"):
        runs.list_runs(tmp_path, owner)


@pytest.mark.parametrize("run_id", ["../alice/20260101-000000-abcdef", "..", "x", ""])
def test_crafted_run_ids_cannot_escape_the_root(tmp_path, run_id):
    with pytest.raises(runs.RunError, match="not a run id"):
        runs.load_run(tmp_path, "alice", run_id)


def test_broken_and_half_written_folders_are_reported_not_raised(tmp_path):
    good = runs.create_run(tmp_path, "alice", _project(), {})
    runs.update_run_info(good, state="finished")
    owner = tmp_path / "alice"
    (owner / "20260101-000000-aaaaaa").mkdir()  # no run.json
    bad = owner / "20260101-000000-bbbbbb"
    bad.mkdir()
    (bad / "run.json").write_text('{"id": "20260101-000000-bbbbbb", "sta')  # cut short
    (owner / ".new-20260101-000000-cccccc").mkdir()  # being created
    (owner / "notes").mkdir()
    listed = {r["id"]: r for r in runs.list_runs(tmp_path, "alice")}
    assert listed[good.name]["state"] == "finished"
    assert listed["20260101-000000-aaaaaa"]["state"] == "broken"
    assert "run.json" in listed["20260101-000000-bbbbbb"]["message"]
    assert listed["notes"]["state"] == "broken"
    assert ".new-20260101-000000-cccccc" not in listed


def test_a_run_whose_process_is_gone_lists_as_interrupted(tmp_path):
    folder = runs.create_run(tmp_path, "alice", _project(), {})
    runs.update_run_info(folder, state="running", pid=2**22 + 12345)  # no such process
    (info,) = runs.list_runs(tmp_path, "alice")
    assert info["state"] == "interrupted" and "epochs recorded" in info["message"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "run.json"
    runs.write_json_atomic(path, {"state": "running"})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        runs.write_json_atomic(path, {"state": Unserialisable()})
    assert json.loads(path.read_text()) == {"state": "running"}
    assert os.listdir(tmp_path) == ["run.json"]


def test_nan_is_stored_as_null_in_json(tmp_path):
    runs.write_json_atomic(tmp_path / "m.json", {"loss": math.nan, "mae": [1.0, math.inf]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"loss": None, "mae": [1.0, None]}


def test_history_csv_round_trip_with_folds_and_gaps(tmp_path):
    text = runs.history_to_csv(
        {"loss": [3.0, 2.0, 1.0, 4.0], "val_loss": [3.5, None, 1.5, 4.5]},
        seconds=[0.1, 0.2, 0.3, 0.4],
        folds=[1, 1, 2, 2],
    )
    (tmp_path / "h.csv").write_text(text)
    back = runs.read_history_csv(tmp_path / "h.csv")
    assert back["fold"] == [1, 1, 2, 2] and back["epoch"] == [1, 2, 1, 2]
    assert back["loss"] == [3.0, 2.0, 1.0, 4.0] and back["val_loss"][1] is None
    assert back["seconds"] == [0.1, 0.2, 0.3, 0.4]


def test_load_run_gives_info_history_and_metrics(tmp_path):
    folder = runs.create_run(tmp_path, "alice", _project(), {})
    runs.write_text_atomic(folder / "history.csv", runs.history_to_csv({"loss": [2.0, 1.0]}))
    runs.write_json_atomic(folder / "metrics.json", {"test": {"loss": 1.2}})
    loaded = runs.load_run(tmp_path, "alice", folder.name)
    assert loaded["history"]["loss"] == [2.0, 1.0]
    assert loaded["metrics"]["test"] == {"loss": 1.2}
    assert loaded["project"]["name"] == "test" and loaded["model_path"] is None
    runs.delete_run(tmp_path, "alice", folder.name)
    assert runs.list_runs(tmp_path, "alice") == []
