"""Projects: listing every project with an autosave or a run, finding, deleting with undo,
Compare's runs across projects, names that follow the data."""

from __future__ import annotations

import json
import os

import pytest

from builder import recent

PID_A, PID_B, PID_C = "a" * 16, "b" * 16, "c" * 16


def _autosave(folder, pid, name, dataset, mtime, options=None):
    path = folder / f"{pid}.json"
    path.write_text(
        json.dumps({"name": name, "data": {"dataset": dataset, "options": options or {}}})
    )
    os.utime(path, (mtime, mtime))
    return path


def _run(runs_root, pid, run_id, mtime):
    folder = runs_root / pid / run_id
    folder.mkdir(parents=True)
    os.utime(folder, (mtime, mtime))


@pytest.fixture
def dirs(tmp_path):
    auto, runs_root = tmp_path / "autosave", tmp_path / "runs"
    auto.mkdir()
    runs_root.mkdir()
    return auto, runs_root


def test_list_newest_first_with_dataset_and_runs(dirs):
    auto, runs_root = dirs
    _autosave(auto, PID_A, "Boston study", "boston_housing", 1000)
    _autosave(auto, PID_B, "Digits", "digits", 2000)
    _autosave(auto, PID_C, "Mine", "csv", 1500, {"path": "/x/houses.csv"})
    _run(runs_root, PID_A, "20260101-000000-abcdef", 3000)  # a run counts as a change
    _run(runs_root, PID_A, "20260101-000001-abcdef", 2500)
    (runs_root / PID_A / ".new-x").mkdir()  # half-made runs do not count
    (auto / "notes.json").write_text("{}")  # not a project id: ignored
    listed = recent.list_projects(auto, runs_root)
    assert [(s.pid, s.name, s.dataset, s.runs, s.modified) for s in listed] == [
        (PID_A, "Boston study", "Boston housing prices", 2, 3000),
        (PID_B, "Digits", "Digits (8x8, offline)", 0, 2000),
        (PID_C, "Mine", "houses.csv", 0, 1500),
    ]
    assert recent.most_recent(auto, runs_root) == PID_A


def test_unreadable_autosave_is_listed_with_its_problem_and_never_most_recent(dirs):
    auto, runs_root = dirs
    (auto / f"{PID_A}.json").write_text("{broken")
    _autosave(auto, PID_B, "Digits", "digits", 1)
    listed = recent.list_projects(auto, runs_root)
    assert listed[0].pid == PID_A and "cannot be read" in listed[0].problem
    assert recent.most_recent(auto, runs_root) == PID_B


def test_no_autosaves_means_no_most_recent(dirs):
    assert recent.most_recent(*dirs) is None


def test_delete_removes_the_autosave_and_its_runs(dirs):
    auto, runs_root = dirs
    _autosave(auto, PID_A, "x", "digits", 1)
    _run(runs_root, PID_A, "20260101-000000-abcdef", 1)
    recent.delete_project(auto, runs_root, PID_A)
    assert not (auto / f"{PID_A}.json").exists() and not (runs_root / PID_A).exists()


@pytest.mark.parametrize("pid", ["../etc", "A" * 16, "", "a" * 15, "a" * 16 + "\n"])
def test_delete_refuses_ids_that_are_not_project_ids(dirs, pid):
    with pytest.raises(ValueError, match="is not a project id"):
        recent.delete_project(*dirs, pid)


def _project(name, dataset, units=(64, 10)):
    return {
        "name": name,
        "data": {"dataset": dataset, "options": {}},
        "model": {"layers": [{"class_name": "Dense", "config": {"units": u}} for u in units]},
    }


TEMPLATES = {"Boston house prices, 64-64-1 regression (book 3.6)"}


@pytest.mark.parametrize(
    "before_name, expected",
    [
        (
            "Boston house prices, 64-64-1 regression (book 3.6)",
            "Digits (8x8, offline), dense 64-10",
        ),
        ("Boston housing prices, dense 64-64-1", "Digits (8x8, offline), dense 64-10"),
        ("", "Digits (8x8, offline), dense 64-10"),
        ("My house study", "My house study"),  # named by the user: kept
    ],
)
def test_name_follows_the_data_until_the_user_names_it(before_name, expected):
    before = _project(before_name, "boston_housing")
    after = _project(before_name, "digits")
    assert recent.follow_data(before, after, TEMPLATES)["name"] == expected


def test_name_is_kept_when_the_data_does_not_change():
    before = _project("Boston housing prices, dense 1", "boston_housing")
    after = _project("Boston housing prices, dense 1", "boston_housing", units=(3,))
    assert recent.follow_data(before, after)["name"] == "Boston housing prices, dense 1"


def test_automatic_name_of_a_graph_counts_layers():
    project = {
        "data": {"dataset": "wine"},
        "model": {
            "layers": [{"class_name": "Conv2D"}, {"class_name": "Dense", "config": {"units": 3}}]
        },
    }
    assert recent.automatic_name(project) == "Wine cultivars (offline), 2 layers"


@pytest.mark.parametrize(
    "seconds, text",
    [
        (5, "just now"),
        (125, "2 min ago"),
        (7300, "2 h ago"),
        (86400, "1 day ago"),
        (3 * 86400 + 5, "3 days ago"),
    ],
)
def test_age_text(seconds, text):
    assert recent.age_text(1000, now=1000 + seconds) == text


def test_a_change_that_brings_its_own_name_keeps_it():
    before = _project("Handwritten digits, dense 64-10 (offline)", "digits")
    template = _project("MNIST digits, dense 512-10", "mnist")
    assert recent.follow_data(before, template, {before["name"]})["name"] == template["name"]


def test_an_automatic_name_follows_the_model_too():
    before = _project("Digits (8x8, offline), dense 64-10", "digits")
    after = _project("Digits (8x8, offline), dense 64-10", "digits", units=(64, 3))
    assert recent.follow_data(before, after)["name"] == "Digits (8x8, offline), dense 64-3"
    # A name the user typed that happens to start like one is theirs: kept.
    before["name"] = after["name"] = "Digits (8x8, offline), my try"
    assert recent.follow_data(before, after)["name"] == "Digits (8x8, offline), my try"


def _ended_run(runs_root, pid, name, state="finished", project=None):
    from builder.training import runs

    folder = runs.create_run(runs_root, pid, project or _project(name, "digits"), {})
    runs.update_run_info(folder, state=state, name=name)
    return folder


def _run_name(folder):
    return json.loads((folder / "run.json").read_text())["name"]


def test_rename_runs_renames_runs_named_as_the_project_was_or_automatically(dirs, monkeypatch):
    from builder.training import runs

    monkeypatch.setattr(runs, "MIN_FREE_BYTES", 0)
    _, runs_root = dirs
    project = _project("train.csv, dense 64-10", "csv")
    project["data"]["options"] = {"path": "train.csv"}
    old = _ended_run(runs_root, PID_A, "train.csv, dense 64-10")
    automatic = _ended_run(runs_root, PID_A, "train.csv, dense 64-2", project=project)
    template = _ended_run(runs_root, PID_A, next(iter(TEMPLATES)), project=project)
    boston = _project("Boston housing prices, dense 64-1", "boston_housing")
    other_data = _ended_run(runs_root, PID_A, boston["name"], project=boston)
    theirs = _ended_run(runs_root, PID_A, "My first try", project=project)
    training = _ended_run(runs_root, PID_A, "train.csv, dense 64-10", state="running")
    other = _ended_run(runs_root, PID_B, "train.csv, dense 64-10")
    (old / "project.json").unlink()  # the old name alone is enough
    count = recent.rename_runs(runs_root, PID_A, project, "Titanic", TEMPLATES)
    assert count == 3
    assert [_run_name(f) for f in (old, automatic, template)] == ["Titanic"] * 3
    assert _run_name(other_data) == boston["name"]  # its name says it trained on Boston
    assert _run_name(theirs) == "My first try"
    assert _run_name(training) == "train.csv, dense 64-10"  # its worker owns run.json
    assert _run_name(other) == "train.csv, dense 64-10"  # another project's run
    with pytest.raises(ValueError, match="is not a project id"):
        recent.rename_runs(runs_root, "../x", project, "b")


# --------------------------------------------------------------------------- all projects


def _trained(runs_root, pid, name, dataset="digits", state="finished"):
    """A run of ``pid`` trained from a project called ``name`` (no autosave needed)."""
    from builder.training import runs

    folder = runs.create_run(runs_root, pid, _project(name, dataset), {})
    runs.update_run_info(folder, state=state)
    return folder


@pytest.fixture
def free_disk(monkeypatch):
    from builder.training import runs

    monkeypatch.setattr(runs, "MIN_FREE_BYTES", 0)


def test_a_project_trained_but_never_edited_is_listed_and_opens_from_its_run(dirs, free_disk):
    auto, runs_root = dirs
    _autosave(auto, PID_B, "Edited", "wine", 1000)
    folder = _trained(runs_root, PID_A, "Digits (8x8, offline), dense 64-10")
    listed = {s.pid: s for s in recent.list_projects(auto, runs_root)}
    assert set(listed) == {PID_A, PID_B}
    only_run = listed[PID_A]
    assert (only_run.name, only_run.dataset, only_run.runs) == (
        "Digits (8x8, offline), dense 64-10",
        "Digits (8x8, offline)",
        1,
    )
    assert only_run.changed == 0.0 and only_run.last_run == only_run.modified > 1000
    assert recent.most_recent(auto, runs_root) == PID_A  # a bare URL opens it
    assert recent.project_source(auto, runs_root, PID_A) == folder / "project.json"
    assert recent.project_source(auto, runs_root, PID_B) == auto / f"{PID_B}.json"
    with pytest.raises(ValueError, match="no autosave and no run"):
        recent.project_source(auto, runs_root, PID_C)
    (runs_root / PID_C).mkdir()  # an owner folder without runs is no project
    assert len(recent.list_projects(auto, runs_root)) == 2


def _summary(pid, name, modified, last_run=None, dataset="Digits"):
    return recent.ProjectSummary(
        pid, name, dataset, modified, runs=int(last_run is not None), last_run=last_run
    )


@pytest.mark.parametrize(
    "query, sort, expected",
    [
        ("", "changed", ["b", "c", "a"]),
        ("", "run", ["a", "c", "b"]),  # never run: last
        ("wine", "changed", ["c"]),  # the data's label counts
        ("STUDY boston", "changed", ["a"]),  # every word, any case
        ("nothing like it", "changed", []),
    ],
)
def test_find_filters_by_name_or_data_and_sorts(query, sort, expected):
    summaries = [
        _summary(PID_A, "Boston study", 100, last_run=90),
        _summary(PID_B, "Digits try", 300),
        _summary(PID_C, "Cultivars", 200, last_run=50, dataset="Wine cultivars"),
    ]
    found = recent.find(summaries, query, sort)
    assert [s.pid[0] for s in found] == expected


def test_find_refuses_an_unknown_sort():
    with pytest.raises(ValueError, match="sort 'size' is not one of changed, run"):
        recent.find([], "", "size")


def test_delete_into_the_trash_and_undo_within_the_window(dirs, tmp_path, free_disk):
    auto, runs_root = dirs
    trash = tmp_path / "trash"
    _autosave(auto, PID_A, "Doomed", "digits", 1000)
    (auto / "history").mkdir()
    (auto / "history" / f"{PID_A}.json").write_text("{}")
    _trained(runs_root, PID_A, "Doomed")
    (runs_root / recent.EXPERIMENTS_DIR / PID_A / "exp1").mkdir(parents=True)
    before = [(s.name, s.runs) for s in recent.list_projects(auto, runs_root)]

    recent.delete_project(auto, runs_root, PID_A, trash, now=5000)
    assert recent.list_projects(auto, runs_root) == []
    assert not (runs_root / PID_A).exists() and not (auto / "history" / f"{PID_A}.json").exists()
    assert recent.restore_project(auto, runs_root, trash, PID_A)
    assert [(s.name, s.runs) for s in recent.list_projects(auto, runs_root)] == before
    assert (auto / "history" / f"{PID_A}.json").exists()
    assert (runs_root / recent.EXPERIMENTS_DIR / PID_A / "exp1").is_dir()
    assert not recent.restore_project(auto, runs_root, trash, PID_A)  # only once

    recent.delete_project(auto, runs_root, PID_A, trash, now=5000)
    assert recent.purge_trash(trash, now=5000 + recent.UNDO_WINDOW_S - 1) == []
    assert recent.purge_trash(trash, now=5000 + recent.UNDO_WINDOW_S + 1) == [PID_A]
    assert not recent.restore_project(auto, runs_root, trash, PID_A)  # the window passed


def test_delete_refuses_a_project_still_training(dirs, tmp_path, free_disk):
    import os

    from builder.training import lifecycle, runs

    auto, runs_root = dirs
    _autosave(auto, PID_A, "Busy", "digits", 1)
    folder = _trained(runs_root, PID_A, "Busy", state="running")
    runs.update_run_info(folder, pid=os.getpid(), pid_token=lifecycle.start_token(os.getpid()))
    with pytest.raises(ValueError, match=f"run {folder.name} of this project is still training"):
        recent.delete_project(auto, runs_root, PID_A, tmp_path / "trash")
    assert (auto / f"{PID_A}.json").exists() and folder.exists()


def test_run_choices_put_the_open_project_first_and_key_others_by_project(dirs, free_disk):
    _, runs_root = dirs
    mine = _trained(runs_root, PID_A, "Mine")
    theirs = _trained(runs_root, PID_B, "Theirs")
    (runs_root / PID_B / "not-a-run").mkdir()  # broken folders are not offered
    choices = recent.run_choices(runs_root, PID_A, [PID_B, PID_A])
    assert list(choices) == [mine.name, f"{PID_B}/{theirs.name}"]
    assert choices[f"{PID_B}/{theirs.name}"][0] == PID_B
    assert choices[f"{PID_B}/{theirs.name}"][1]["name"] == "Theirs"


def test_the_experiments_folder_name_is_the_runners():
    from builder.experiments import runner

    assert recent.EXPERIMENTS_DIR == runner.EXPERIMENTS_DIR
