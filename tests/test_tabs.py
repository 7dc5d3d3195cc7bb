"""Two browser tabs on one project, through AppTest: neither overwrites the other's autosave
(a second tab on the same ``?p=`` id, or two tabs opened with a bare URL, which both open
the most recent project), and the runs of a tab that moved to a new id are listed with the
project they were trained from — also after a refresh."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import paths, recent, templates
from builder.training import runs

pytestmark = pytest.mark.usefixtures("keras_loaded")  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # the first check imports TensorFlow
TRAIN_WAIT_S = 300  # worker start (TF import) + 1 epoch of the 8x8 digits, loaded machine
PID = "0123456789abcdef"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _tab(pid: str | None = PID) -> AppTest:
    """A new browser tab: ``?p=pid``, or the bare URL when ``pid`` is None."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if pid is not None:
        at.query_params["p"] = pid
    at.run()
    assert not at.exception, at.exception
    return at


def _url_id(at: AppTest) -> str:
    value = at.query_params["p"]
    return value[0] if isinstance(value, list) else value


def _toasts(at: AppTest) -> str:
    return " ".join(t.value for t in at.toast)


def _saved_name(pid: str) -> str:
    return json.loads((paths.autosave_dir() / f"{pid}.json").read_text())["name"]


def _pick(at: AppTest, dataset: str) -> str:
    """An edit of the open project in place (its dataset, on the Data page; a template
    would open a new project); returns the name it now has (it follows the data)."""
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_dataset").set_value(dataset).run()
    assert not at.exception, at.exception
    return at.session_state["project"]["name"]


def test_two_bare_url_tabs_never_write_the_same_autosave():
    older = paths.autosave_dir() / f"{'f' * 16}.json"
    older.write_text(json.dumps(templates.load("boston_regression")))
    (paths.autosave_dir() / f"{PID}.json").write_text(json.dumps(templates.load(templates.DEFAULT)))
    first, second = _tab(None), _tab(None)
    # Both open the project changed last, and put its id in the URL.
    assert first.session_state["_pid"] == second.session_state["_pid"] == PID
    assert _url_id(first) == _url_id(second) == PID

    mnist = _pick(first, "mnist")
    imdb = _pick(second, "imdb")
    moved = second.session_state["_pid"]
    assert moved != PID and _url_id(second) == moved
    assert f"(?p={PID}) was also changed in another tab" in _toasts(second)
    assert f"?p={moved}" in _toasts(second)
    assert not _toasts(first)
    assert _saved_name(PID) == mnist
    assert _saved_name(moved) == imdb

    # Each tab goes on saving under its own id, however they take turns.
    _pick(first, "boston_housing")
    reuters = _pick(second, "reuters")
    mnist = _pick(first, "mnist")
    assert first.session_state["_pid"] == PID and second.session_state["_pid"] == moved
    assert _saved_name(PID) == mnist
    assert _saved_name(moved) == reuters
    assert json.loads(older.read_text())["name"] == templates.load("boston_regression")["name"]


def test_a_bare_url_tab_and_a_tab_on_the_same_id_are_told_alike():
    (paths.autosave_dir() / f"{PID}.json").write_text(json.dumps(templates.load(templates.DEFAULT)))
    named, bare = _tab(PID), _tab(None)
    _pick(bare, "mnist")  # the bare tab saves first: the named one moves
    _pick(named, "imdb")
    assert bare.session_state["_pid"] == PID and named.session_state["_pid"] != PID
    assert "also changed in another tab" in _toasts(named)


def _poll_finished(at: AppTest, owner: str, run_id: str) -> None:
    """Until the page says the run ended, and that it finished. The run's own record is
    polled first: rerunning the whole app every half second while the worker trains takes
    a core from it."""
    deadline = time.monotonic() + TRAIN_WAIT_S
    while runs.load_run(paths.runs_root(), owner, run_id)["info"]["state"] not in runs.FINAL_STATES:
        if time.monotonic() > deadline:
            raise AssertionError("the run did not end in time")
        time.sleep(0.2)
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        ended = [
            a.value for kind in ("success", "error", "warning") for a in getattr(at.main, kind)
        ]
        if ended:
            assert any("finished" in e for e in ended), ended
            return
        time.sleep(0.5)
    raise AssertionError("the run did not end in time")


def test_runs_of_a_moved_tab_are_listed_with_its_project_after_a_refresh():
    (paths.autosave_dir() / f"{PID}.json").write_text(json.dumps(templates.load(templates.DEFAULT)))
    first, second = _tab(), _tab()
    _pick(first, "mnist")
    second.text_input(key="_name").set_value("Second tab's digits").run()
    moved = second.session_state["_pid"]
    assert moved != PID and _saved_name(moved) == "Second tab's digits"

    second.switch_page("pages/train.py").run()
    second.number_input(key="train_epochs").set_value(1).run()
    second.button(key="train_start").click().run()
    assert not second.exception, second.exception
    run_id = second.session_state["train_job"]
    _poll_finished(second, moved, run_id)
    assert [r["id"] for r in runs.list_runs(paths.runs_root(), moved)] == [run_id]
    assert runs.list_runs(paths.runs_root(), PID) == []

    # A refresh of the second tab: a new session on the URL's id finds its run.
    again = _tab(moved)
    assert again.session_state["project"]["name"] == "Second tab's digits"
    again.switch_page("pages/compare.py").run()
    assert not again.exception, again.exception
    assert again.multiselect(key="compare_runs").value == [run_id]
    again.switch_page("pages/results.py").run()
    assert not again.exception, again.exception
    assert not any("No runs yet" in i.value for i in again.main.info)
    # The first tab's project has no runs: none of them was trained from it.
    first.switch_page("pages/compare.py").run()
    assert not first.exception, first.exception
    assert not [m for m in first.multiselect if m.key == "compare_runs"]
    counts = {s.pid: s.runs for s in recent.list_projects(paths.autosave_dir(), paths.runs_root())}
    assert counts == {PID: 0, moved: 1}


def test_a_rename_reaches_the_runs_and_the_compare_legend():
    at = _tab()
    project = at.session_state["project"]
    folder = runs.create_run(paths.runs_root(), PID, project, {})
    runs.write_text_atomic(folder / "history.csv", "epoch,loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n")
    runs.update_run_info(folder, state="finished", epochs_done=2)
    at.text_input(key="_name").set_value("Titanic survival").run()
    assert not at.exception, at.exception
    # (AppTest drops the sidebar's elements after a sidebar widget changes, so its name box
    # is checked in the browser test; here the project and the recent list.)
    assert at.session_state["project"]["name"] == "Titanic survival"
    assert _saved_name(PID) == "Titanic survival"
    assert [s.name for s in recent.list_projects(paths.autosave_dir(), paths.runs_root())] == [
        "Titanic survival"
    ]

    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    label = f"{folder.name} · Titanic survival"
    assert at.multiselect(key="compare_runs").format_func(folder.name) == label
    overlay = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in overlay["data"]] == [label]
    assert at.dataframe[0].value.loc[0, "name"] == "Titanic survival"
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert "Titanic survival" in at.selectbox(key="results_run").format_func(folder.name)
