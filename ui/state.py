"""The one owner of the current project in the browser session.

The project dict lives in ``st.session_state["project"]``; every change goes through
``set_project`` so undo/redo history and the autosave mirror stay in step. The autosave
file is named by an id kept in the URL (``?p=...``), so a browser refresh — which starts a
new Streamlit session — restores the project the user was building.
"""
from __future__ import annotations

import re
import secrets

import streamlit as st

from builder import paths, templates
from builder.project import ProjectError, dumps, load_project_file, save_project_file

HISTORY_LIMIT = 100
_ID_RE = re.compile(r"\A[a-f0-9]{16}\Z")


def _autosave_path(pid: str):
    return paths.autosave_dir() / f"{pid}.json"


def session_id() -> str:
    """A per-browser-tab id, mirrored in the URL so a refresh finds its autosave."""
    pid = st.session_state.get("_pid")
    if not pid:
        candidate = st.query_params.get("p", "")
        pid = candidate if _ID_RE.fullmatch(candidate or "") else secrets.token_hex(8)
        st.session_state["_pid"] = pid
    # Page navigation drops query parameters: put the id back on every run, or a refresh
    # after a page switch would start a new session without its autosave and runs.
    if st.query_params.get("p") != pid:
        st.query_params["p"] = pid
    return pid


def init() -> None:
    """Restore the autosaved project for this URL, or start from the offline default."""
    if "project" in st.session_state:
        session_id()
        return
    pid = session_id()
    project, note = None, None
    path = _autosave_path(pid)
    if path.exists():
        try:
            project = load_project_file(path, check_graph=False)
            note = "Restored the project you were building."
        except ProjectError as err:
            note = f"The autosaved project could not be restored ({err}); started from the default."
    if project is None:
        project = templates.load(templates.DEFAULT)
    st.session_state["project"] = project
    st.session_state["_undo"] = []
    st.session_state["_redo"] = []
    if note:
        st.session_state["_notice"] = note


def get_project() -> dict:
    init()
    return st.session_state["project"]


def set_project(project: dict, record: bool = True) -> None:
    """Make ``project`` current; ``record`` puts the previous one on the undo stack."""
    init()
    current = st.session_state["project"]
    if project is current or dumps(project) == dumps(current):
        return
    if record:
        undo = st.session_state["_undo"]
        undo.append(current)
        del undo[:-HISTORY_LIMIT]
        st.session_state["_redo"] = []
    st.session_state["project"] = project
    _autosave(project)


def _autosave(project: dict) -> None:
    try:
        save_project_file(project, _autosave_path(session_id()))
    except OSError as err:  # a full disk must not break editing; say it once
        st.session_state["_notice"] = f"Autosave failed ({err.strerror or err}): download " \
                                      "your project to keep it."


def can_undo() -> bool:
    return bool(st.session_state.get("_undo"))


def can_redo() -> bool:
    return bool(st.session_state.get("_redo"))


def undo() -> None:
    if can_undo():
        st.session_state["_redo"].append(st.session_state["project"])
        st.session_state["project"] = st.session_state["_undo"].pop()
        _autosave(st.session_state["project"])


def redo() -> None:
    if can_redo():
        st.session_state["_undo"].append(st.session_state["project"])
        st.session_state["project"] = st.session_state["_redo"].pop()
        _autosave(st.session_state["project"])


def notice() -> str | None:
    """A one-time message for the user (restore, autosave trouble), cleared when read."""
    return st.session_state.pop("_notice", None)


def status_slot():
    """The sidebar placeholder where a page reports the model's validity after checking."""
    return st.session_state.get("_status_slot")


def show_status(result) -> None:
    """Fill the sidebar validity line from a checker result (called by pages)."""
    slot = status_slot()
    if slot is None:
        return
    errors = sum(1 for r in result.layers if r.error) + len(result.errors)
    warnings = len(result.all_warnings())
    if result.valid:
        slot.success(f"Valid model · {result.total_params:,} params"
                     + (f" · {warnings} advice" if warnings else ""))
    else:
        slot.error(f"{errors or 1} problem{'s' if errors != 1 else ''} to fix")
