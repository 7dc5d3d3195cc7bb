"""AppTest of the frame (app.py's sidebar): recent projects, bare URL, rename, delete.

AppTest shows the sidebar that app.py draws before ``st.navigation`` only after a
session's first run (later runs come back without it), so each sidebar gesture here is
made in a fresh session opened on the project's URL (``?p=``), like a reload.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.usefixtures("keras_loaded")  # see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    return tmp_path


def _session(pid: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if pid:
        at.query_params["p"] = pid
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def _new(template: str, pid: str | None = None, **state) -> AppTest:
    at = _session(pid, **state)
    at.selectbox(key="_new_tpl").set_value(template)
    at.button(key="_new_btn").click().run()
    assert not at.exception
    return at


def _rename(name: str, pid: str | None = None) -> AppTest:
    at = _session(pid)
    at.text_input(key="_name").set_value(name).run()
    assert not at.exception
    return at


def _autosave(home: Path, pid: str) -> dict:
    return json.loads((home / "autosave" / f"{pid}.json").read_text())


def test_rename_is_autosaved(home):
    at = _rename("My digits study")
    assert at.session_state["project"]["name"] == "My digits study"
    assert _autosave(home, at.session_state["_pid"])["name"] == "My digits study"


def test_new_project_is_its_own_and_the_old_one_reopens_with_a_bare_url(home):
    first = _rename("First").session_state["_pid"]
    at = _new("boston_regression", first, train_job="20260101-000000-abcdef")
    second = at.session_state["_pid"]
    assert second != first
    assert "train_job" not in at.session_state  # no stale run on Train
    assert at.session_state["project"]["data"]["dataset"] == "boston_housing"

    # The other project is listed; opening it brings it back, with its id (and runs).
    at = _session(second)
    assert [b.label for b in at.button if b.key == f"_open:{first}"] == ["First"]
    assert any(c.value == "Digits (8x8, offline) · just now · 0 runs" for c in at.caption)
    at.button(key=f"_open:{first}").click().run()
    assert at.session_state["_pid"] == first
    assert at.session_state["project"]["name"] == "First"

    # A new browser session without ?p= opens the project changed last.
    _rename("First, renamed", first)
    again = _session()
    assert again.session_state["_pid"] == first
    assert again.session_state["project"]["name"] == "First, renamed"


def test_name_follows_the_data_until_renamed(home):
    at = _new("boston_regression")
    pid = at.session_state["_pid"]
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("digits").run()
    name = at.session_state["project"]["name"]
    assert "Boston" not in name and name.startswith("Digits (8x8, offline)")
    _rename("Houses then digits", pid)
    at = _session(pid)
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("wine").run()
    assert at.session_state["project"]["name"] == "Houses then digits"


def test_delete_asks_then_removes_the_project_and_its_runs(home):
    doomed = _rename("Doomed").session_state["_pid"]
    (home / "runs" / doomed / "20260101-000000-abcdef").mkdir(parents=True)
    kept = _new("offline_default", doomed).session_state["_pid"]
    at = _session(kept)
    at.button(key=f"_del:{doomed}").click().run()
    at = _session(kept, _confirm_delete=doomed)
    assert any("Delete 'Doomed' and its 1 run?" in w.value for w in at.warning)
    at.button(key=f"_del_yes:{doomed}").click().run()
    assert not (home / "autosave" / f"{doomed}.json").exists()
    assert not (home / "runs" / doomed).exists()
    assert at.session_state["_pid"] == kept
    assert not [b for b in _session(kept).button if b.key == f"_open:{doomed}"]


def test_deleting_the_open_project_opens_the_next(home):
    older = _rename("Older").session_state["_pid"]
    current = _new("offline_default", older).session_state["_pid"]
    _rename("Current", current)
    at = _session(current, _confirm_delete=current)
    at.button(key=f"_del_yes:{current}").click().run()
    assert at.session_state["_pid"] == older
    assert at.session_state["project"]["name"] == "Older"


def test_undo_and_redo_survive_a_reload(home):
    first = _rename("Before")
    pid = first.session_state["_pid"]
    default_name = first.session_state["_undo"][0]["name"]
    _rename("After", pid)

    at = _session(pid)  # a reload: a new session on the same ?p=
    assert at.session_state["project"]["name"] == "After"
    assert [p["name"] for p in at.session_state["_undo"]] == [default_name, "Before"]
    assert not at.button(key="build_undo").disabled
    at.button(key="build_undo").click().run()
    assert at.session_state["project"]["name"] == "Before"

    at = _session(pid)  # the step back and the redo it left are kept too
    assert at.session_state["project"]["name"] == "Before"
    at.button(key="build_redo").click().run()
    assert at.session_state["project"]["name"] == "After"
    at.button(key="build_undo").click().run()
    at.button(key="build_undo").click().run()
    assert at.session_state["project"]["name"] == default_name
    assert at.button(key="build_undo").disabled


def test_a_history_from_another_tab_is_not_undone_into(home):
    pid = _rename("Mine").session_state["_pid"]
    # Another tab (or an older file) wrote this autosave: the history was not for it.
    saved = _autosave(home, pid)
    saved["name"] = "Changed elsewhere"
    (home / "autosave" / f"{pid}.json").write_text(json.dumps(saved))
    at = _session(pid)
    assert at.session_state["project"]["name"] == "Changed elsewhere"
    assert at.session_state["_undo"] == [] and at.button(key="build_undo").disabled


def test_a_damaged_undo_step_clears_the_history_with_a_notice(home):
    pid = _rename("Mine").session_state["_pid"]
    path = home / "autosave" / "history" / f"{pid}.json"
    doc = json.loads(path.read_text())
    doc["undo"][-1]["model"] = "not a model"
    path.write_text(json.dumps(doc))
    at = _session(pid)
    at.button(key="build_undo").click().run()
    assert not at.exception
    assert at.session_state["project"]["name"] == "Mine"
    assert at.session_state["_undo"] == []
    assert json.loads(path.read_text())["undo"] == []
