"""AppTest of every project kept and one click away: templates open as new projects (the
trained one keeps its runs), a replace is undone in one step, the Projects list (counts,
search, sort, delete with Undo, projects trained but never edited) and Compare across
projects.

As in test_app_frame, each sidebar gesture is made in a fresh session on the project's URL
(AppTest draws app.py's sidebar on a session's first run only).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import paths, recent, templates
from builder.training import runs

pytestmark = pytest.mark.usefixtures("keras_loaded")  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
PID_A, PID_B, PID_C = "a" * 16, "b" * 16, "c" * 16


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(runs, "MIN_FREE_BYTES", 0)


def _session(pid: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if pid:
        at.query_params["p"] = pid
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _autosave(pid: str, project: dict, mtime: float | None = None) -> Path:
    path = paths.autosave_dir() / f"{pid}.json"
    path.write_text(json.dumps(project))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _named(name: str, template: str = templates.DEFAULT) -> dict:
    return {**templates.load(template), "name": name}


def _finished_run(pid: str, project: dict, losses=(0.5, 0.4)) -> Path:
    folder = runs.create_run(paths.runs_root(), pid, project, {})
    rows = "".join(f"{i + 1},{v},{v + 0.1}\n" for i, v in enumerate(losses))
    runs.write_text_atomic(folder / "history.csv", "epoch,loss,val_loss\n" + rows)
    runs.update_run_info(folder, state="finished", epochs_done=len(losses))
    return folder


def _listed() -> dict[str, tuple[str, int]]:
    return {
        s.pid: (s.name, s.runs)
        for s in recent.list_projects(paths.autosave_dir(), paths.runs_root())
    }


def test_a_template_over_a_trained_project_opens_as_a_new_one():
    wine = _named("Wine study")
    _autosave(PID_A, wine)
    run = _finished_run(PID_A, wine)
    at = _session(PID_A)
    at.button(key="build_tpl:mnist_convnet").click().run()
    assert not at.exception, at.exception
    new = at.session_state["_pid"]
    assert new != PID_A
    assert at.session_state["project"]["name"] == templates.describe("mnist_convnet")[0]
    # (The notice that says so is a toast of the frame: checked in the browser test.)
    assert _listed() == {PID_A: ("Wine study", 1), new: (templates.describe("mnist_convnet")[0], 0)}
    assert json.loads((run / "run.json").read_text())["name"] == "Wine study"  # not relabelled
    # The new project has no runs of its own; the old one reopens with its run.
    at.switch_page("pages/results.py").run()
    assert any("No runs yet" in i.value for i in at.main.info)
    again = _session(new)
    again.button(key=f"_open:{PID_A}").click().run()
    assert again.session_state["_pid"] == PID_A
    again.switch_page("pages/results.py").run()
    assert not again.exception, again.exception
    assert again.selectbox(key="results_run").value == run.name


def test_empty_model_replaces_and_one_undo_brings_everything_back():
    before = _named("My digits")
    before["compile"]["optimizer"] = {"class_name": "Adam", "config": {"learning_rate": 0.01}}
    _autosave(PID_A, before)
    at = _session(PID_A, build_field_errors={"build_field:hidden:units": "too big"})
    shown = at.session_state["project"]
    at.button(key="build_tpl:empty").click().run()
    assert not at.exception, at.exception
    assert at.session_state["_pid"] == PID_A  # a replace, chosen: same project
    assert at.session_state["project"]["model"]["layers"] == []
    at.button(key="build_undo").click().run()
    assert not at.exception, at.exception
    assert at.session_state["project"] == shown  # name, stack and settings in one step
    assert "build_field_errors" not in at.session_state  # no stale refused value


def test_a_project_trained_before_any_edit_stays_listed_and_opens():
    default = templates.load(templates.DEFAULT)
    _finished_run(PID_A, default)  # trained, never edited: no autosave
    at = _session(PID_B)  # another tab starts a project and changes it
    at.selectbox(key="build_optimizer").set_value("Adam").run()
    assert not at.exception, at.exception
    assert _listed() == {PID_A: (default["name"], 1), PID_B: (default["name"], 0)}
    at = _session(PID_B)
    assert [e.label for e in at.expander if e.label.startswith("Projects")] == ["Projects (2)"]
    at.button(key=f"_open:{PID_A}").click().run()
    assert at.session_state["_pid"] == PID_A
    assert at.session_state["project"]["name"] == default["name"]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert len(at.multiselect(key="compare_runs").value) == 1


def test_a_bare_url_opens_the_latest_project_even_one_only_trained():
    _autosave(PID_A, _named("Older"), mtime=time.time() - 3600)
    _finished_run(PID_B, _named("Trained only"))
    at = _session()
    assert at.session_state["_pid"] == PID_B
    assert at.session_state["project"]["name"] == "Trained only"


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button if str(b.key).startswith("_open:")]


def test_projects_list_counts_finds_sorts_and_undoes_a_delete():
    now = time.time()
    _autosave(PID_A, _named("Boston study", "boston_regression"), mtime=now - 300)
    _autosave(PID_B, _named("Digits try"), mtime=now - 100)
    _finished_run(PID_C, _named("Cultivars"))  # ran, never edited
    os.utime(paths.runs_root() / PID_C, (now - 200, now - 200))
    for folder in (paths.runs_root() / PID_C).iterdir():
        os.utime(folder, (now - 200, now - 200))
    at = _session(PID_B)
    assert [e.label for e in at.expander if e.label.startswith("Projects")] == ["Projects (3)"]
    assert _labels(at) == ["Cultivars", "Boston study"]  # the open one is bold, not a button

    at = _session(PID_B, _find="boston")
    assert _labels(at) == ["Boston study"]
    assert any(c.value == "1 of 3 projects match." for c in at.caption)
    at = _session(PID_B, _sort="run")
    assert _labels(at) == ["Cultivars", "Boston study"]
    label = recent.data_label(templates.load(templates.DEFAULT)["data"])
    assert f"{label} · last run 3 min ago · 1 run" in [c.value for c in at.caption]

    at = _session(PID_B, _confirm_delete=PID_C)
    assert any("Delete 'Cultivars' and its 1 run?" in w.value for w in at.warning)
    at.button(key=f"_del_yes:{PID_C}").click().run()
    assert not at.exception, at.exception
    assert set(_listed()) == {PID_A, PID_B}
    gone = at.session_state["_deleted"]
    assert gone["name"] == "Cultivars"

    at = _session(PID_B, _deleted=gone)
    assert any(c.value == "Deleted 'Cultivars'." for c in at.caption)
    at.button(key="_undo_delete").click().run()
    assert not at.exception, at.exception
    assert _listed()[PID_C] == ("Cultivars", 1)


def test_compare_picks_runs_of_another_project():
    mine = _finished_run(PID_A, _named("Mine"))
    theirs = _finished_run(PID_B, _named("Theirs"), losses=(0.9, 0.8, 0.7))
    _autosave(PID_A, _named("Mine"))
    at = _session(PID_A)
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_runs").value == [mine.name]
    at.multiselect(key="compare_projects").set_value([PID_B]).run()
    assert not at.exception, at.exception
    both = at.multiselect(key="compare_runs")
    assert both.value == [mine.name, f"{PID_B}/{theirs.name}"]
    assert both.format_func(f"{PID_B}/{theirs.name}") == f"{theirs.name} · Theirs"
    overlay = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(trace["name"] for trace in overlay["data"]) == sorted(
        [f"{mine.name} · Mine", f"{theirs.name} · Theirs"]
    )
    assert list(at.dataframe[0].value["name"]) == ["Mine", "Theirs"]
