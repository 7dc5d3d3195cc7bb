"""Nothing a user made is lost, through AppTest: a project whose data is missing opens, an
autosave that cannot be restored is kept, a second tab on the same id does not overwrite
the first, runs can be deleted from Results and Compare, and start-up reconciles runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import paths, templates
from builder.training import runs

pytestmark = pytest.mark.usefixtures("keras_loaded")  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
PID = "0123456789abcdef"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _tab(pid: str = PID) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["p"] = pid
    at.run()
    assert not at.exception, at.exception
    return at


def _autosave(doc, pid: str = PID) -> Path:
    path = paths.autosave_dir() / f"{pid}.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _toasts(at: AppTest) -> str:
    return " ".join(t.value for t in at.toast)


def _csv_project(path: str) -> dict:
    project = templates.load(templates.DEFAULT)
    project["name"] = "My houses"
    project["data"] = {"dataset": "csv", "options": {"path": path, "target": "price"}}
    return project


def test_a_project_whose_csv_is_missing_opens_and_the_data_page_says_the_fix():
    saved = _autosave(_csv_project("/home/someone/houses.csv"))
    at = _tab()
    project = at.session_state["project"]
    assert project["name"] == "My houses" and at.session_state["_pid"] == PID
    # The folder of the machine that saved it is dropped: only the uploads folder is read.
    assert project["data"]["options"]["path"] == "houses.csv"
    assert "uploads folder" in _toasts(at)
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    words = " ".join(w.value for w in at.warning) + " ".join(e.value for e in at.error)
    assert "the CSV file 'houses.csv' is missing: upload it on the Data page" in words
    # Uploading the file brings the data back without touching the model.
    (paths.uploads_dir() / "houses.csv").write_text(
        "rooms,price\n" + "".join(f"{i % 5 + 1},{100 + 3 * i}\n" for i in range(40))
    )
    at.run()
    assert not at.exception, at.exception
    assert not any("missing" in w.value for w in at.warning)
    assert json.loads(saved.read_text())["name"] == "My houses"


def test_a_csv_path_outside_the_uploads_folder_is_not_read(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\n" + "root,x\n" * 20)
    (paths.uploads_dir() / "innocent.csv").symlink_to(secret)
    _autosave(_csv_project("innocent.csv"))
    at = _tab()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert any("outside the app's uploads folder" in w.value for w in at.warning)
    assert not any("root" in str(d.value) for d in at.dataframe)


def test_an_autosave_that_cannot_be_restored_is_kept_and_never_overwritten():
    broken = '{"format": "netbuilder.project", "version": 1, "model": {"inputs": 3}}'
    path = _autosave(broken)
    at = _tab()
    new = at.session_state["_pid"]
    assert new != PID and at.query_params["p"] in (new, [new])
    assert "could not be restored" in _toasts(at) and "kept" in _toasts(at)
    at.button(key="build_tpl:empty").click().run()  # an edit in place
    assert not at.exception, at.exception
    assert at.session_state["_pid"] == new
    assert path.read_text() == broken
    saved = json.loads((paths.autosave_dir() / f"{new}.json").read_text())
    assert saved["model"]["layers"] == []


def test_a_second_tab_on_the_same_id_gets_its_own_copy():
    _autosave(templates.load(templates.DEFAULT))
    first, second = _tab(), _tab()
    # Edits in place (a template would open a new project of its own).
    first.button(key="build_tpl:empty").click().run()
    second.selectbox(key="build_optimizer").set_value("Adam").run()
    assert not first.exception and not second.exception
    moved = second.session_state["_pid"]
    assert first.session_state["_pid"] == PID and moved != PID
    assert "also changed in another tab" in _toasts(second)
    saved = {
        pid: json.loads((paths.autosave_dir() / f"{pid}.json").read_text()) for pid in (PID, moved)
    }
    assert saved[PID]["model"]["layers"] == []
    assert saved[PID]["compile"]["optimizer"]["class_name"] != "Adam"
    assert saved[moved]["model"]["layers"] != []
    assert saved[moved]["compile"]["optimizer"]["class_name"] == "Adam"
    # Runs the moved tab starts belong to its new id, the one a refresh finds.
    assert second.session_state["_owner"] == moved


def _finished_run(owner: str) -> Path:
    folder = runs.create_run(paths.runs_root(), owner, templates.load(templates.DEFAULT), {})
    runs.write_text_atomic(folder / "history.csv", "epoch,loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n")
    runs.update_run_info(folder, state="finished", epochs_done=2)
    return folder


def test_a_run_is_deleted_from_results_after_confirmation():
    at = _tab()
    mine, other = _finished_run(PID), _finished_run("fedcba9876543210")
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    at.button(key="results_delete").click().run()
    assert mine.is_dir(), "nothing is deleted before the confirmation"
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="results_delete_no").click().run()
    assert mine.is_dir()
    at.button(key="results_delete").click().run()
    at.button(key="results_delete_yes").click().run()
    assert not at.exception, at.exception
    assert not mine.exists() and other.is_dir()
    assert "No runs yet" in at.main.info[0].value


def test_runs_are_deleted_from_compare_and_a_training_run_is_refused():
    at = _tab()
    done = [_finished_run(PID) for _ in range(2)]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    at.button(key="compare_delete").click().run()
    at.button(key="compare_delete_yes").click().run()
    assert not at.exception, at.exception
    assert not any(f.exists() for f in done)
    training = _finished_run(PID)
    runs.update_run_info(training, state="running", pid=__import__("os").getpid())
    with pytest.raises(runs.RunError, match="still training: stop it first"):
        runs.delete_run(paths.runs_root(), PID, training.name)


def test_start_up_marks_runs_left_running_by_a_dead_server_interrupted():
    folder = _finished_run(PID)
    runs.update_run_info(folder, state="running", pid=2**22 + 777, server_pid=2**22 + 778)
    at = _tab()
    assert runs.read_json(folder / "run.json")["state"] == "interrupted"
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert any("interrupted" in w.value for w in at.warning)


def test_training_refuses_to_start_on_a_full_disk(monkeypatch):
    monkeypatch.setattr(runs, "MIN_FREE_BYTES", 1 << 62)
    at = _tab()
    at.switch_page("pages/train.py").run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert any("Training did not start" in e.value and "MB free" in e.value for e in at.error)
    assert not any(runs.list_runs(paths.runs_root(), PID))


def test_a_project_whose_keras_dataset_file_is_missing_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    from builder.data import offline

    monkeypatch.setattr(offline, "origin_reachable", lambda url, timeout=2.0: False)
    project = templates.load("imdb_dense")
    _autosave(project)
    at = _tab()
    assert at.session_state["project"]["name"] == project["name"]
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    # Said once, as on Train: which file, where from, where to put it.
    assert any(
        "needs imdb.npz" in e.value and "save it as" in e.value and "Download" in e.value
        for e in at.error
    )
