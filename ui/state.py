"""The one owner of the current project in the browser session.

The project dict lives in ``st.session_state["project"]``; every change goes through
``set_project`` so undo/redo history and the autosave mirror stay in step. The autosave
file is named by an id kept in the URL (``?p=...``), so a browser refresh — which starts a
new Streamlit session — restores the project the user was building.

Nothing a user made is overwritten behind their back:

- an autosave that cannot be restored is kept as it is; the session starts the default
  project under a new id and says so;
- each session remembers the autosave text it last read or wrote; when the file holds
  something else at the next save (a second tab, or a second server on the same data
  folder, saved the same ``?p=`` id in between), this session's project moves to a new id
  (a new URL) and the user is told, so neither overwrites the other. The compare and the
  write hold the autosave folder's lock (``builder.locks``: a file lock, so across
  processes too);
- every project entering the session passes ``project.portable_data``: a CSV is named by
  its file name in the uploads folder, never by a path of this machine.

The undo/redo history is kept beside the autosave (``builder.history``: the last 50 states
each way, size-capped), written with every autosave and read back with it, so a reload or
reopening a recent project keeps Undo.
"""

from __future__ import annotations

import hashlib
import secrets

import streamlit as st

from builder import data_names, history, limits, locks, paths, recent, settings, templates
from builder.project import (
    ProjectError,
    dumps,
    loads,
    portable_data,
    read_capped,
    save_project_file,
)

HISTORY_LIMIT = 100
_ID_RE = recent.PROJECT_ID_RE
# Session keys that belong to the project on screen (its job, its widgets' last values, its
# page selections): dropped when another project is opened, so no page shows the previous
# project's run, failure or choices.
_PROJECT_KEY_PREFIXES = ("train_", "data_", "results_", "compare_")


def _autosave_path(pid: str):
    return paths.autosave_dir() / f"{pid}.json"


def _history_path(pid: str):
    return history.path_for(paths.autosave_dir(), pid)


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_bytes(path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def session_id() -> str:
    """A per-browser-tab id, mirrored in the URL so a refresh finds its autosave."""
    pid = st.session_state.get("_pid")
    if not pid:
        candidate = st.query_params.get("p", "")
        if not _ID_RE.fullmatch(candidate or ""):
            # A bare URL (localhost:8501) reopens the project changed last, not a blank one.
            candidate = recent.most_recent(paths.autosave_dir(), paths.runs_root())
        pid = candidate or secrets.token_hex(8)
        st.session_state["_pid"] = pid
    # Page navigation drops query parameters: put the id back on every run, or a refresh
    # after a page switch would start a new session without its autosave and runs.
    if st.query_params.get("p") != pid:
        st.query_params["p"] = pid
    return pid


def owner_id() -> str:
    """Who owns this session's training runs: the project id, so a run is listed with the
    project it was trained from — after a fork (``_fork``) and after a refresh alike."""
    if "_owner" not in st.session_state:
        st.session_state["_owner"] = session_id()
    return st.session_state["_owner"]


def _fork() -> str:
    """Move this session's autosave to a fresh id (and URL); return the new id. Runs
    started from now on belong to the new id (the one a refresh finds); those trained
    before stay with the project they were trained from."""
    pid = secrets.token_hex(8)
    st.session_state["_pid"] = pid
    st.session_state["_owner"] = pid
    st.session_state["_autosave_digest"] = None
    st.query_params["p"] = pid
    return pid


def _portable(project: dict) -> dict:
    data, note = portable_data(project.get("data"))
    if note is None:
        return project
    st.session_state["_notice"] = note
    return {**project, "data": data}


def init() -> None:
    """Restore the autosaved project for this URL, or start from the offline default."""
    if "project" in st.session_state:
        session_id()
        return
    pid = session_id()
    owner_id()
    project, note, stacks = None, None, ([], [])
    path = _autosave_path(pid)
    if path.exists():
        try:
            with locks.locked(path.parent):
                raw = read_capped(path, limits.MAX_PROJECT_BYTES)
            project = loads(raw, check_graph=False)
            note = "Restored the project you were building."
            st.session_state["_autosave_digest"] = _digest(raw)
            stacks = history.read(_history_path(pid), _digest(raw))
        except (ProjectError, ValueError, RecursionError, OSError) as err:
            # Keep the file: the next edit of the default must not overwrite it.
            new = _fork()
            note = (
                f"The autosaved project could not be restored ({err}). It is kept, "
                f"unchanged, in {path}; you are now working on the default project under "
                f"a new address (?p={new})."
            )
    if project is None:
        project = templates.load(templates.DEFAULT)
    project = _portable(settings.normalise(project))
    st.session_state["project"] = project
    st.session_state["_undo"], st.session_state["_redo"] = stacks
    note = " ".join(n for n in (note, st.session_state.pop("_notice", None)) if n)
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
    project = _portable(settings.normalise(project))
    st.session_state["project"] = _follow_data(current, project)
    _autosave(st.session_state["project"])


def _follow_data(before: dict, after: dict) -> dict:
    """Rename the project, and its input and output layers, for its new data while the
    user has not named them (``recent.follow_data``, ``data_names.follow``)."""
    names = {templates.describe(n)[0] for n in templates.names()}
    after, said = data_names.follow(before, after)
    if said:
        st.session_state["data_names_note"] = " ".join(said)
    return recent.follow_data(before, after, names)


def _forget_project_keys() -> None:
    for key in list(st.session_state):
        if isinstance(key, str) and key.startswith(_PROJECT_KEY_PREFIXES):
            del st.session_state[key]
    if "job" in st.query_params:
        del st.query_params["job"]


def _switch(pid: str, project: dict, digest: str | None = None) -> None:
    """Make ``pid`` this session's project: its autosave (last read as ``digest``) and, as
    the owner, its runs."""
    _forget_project_keys()
    st.session_state["_pid"] = pid
    st.session_state["_owner"] = pid
    st.session_state["_autosave_digest"] = digest
    st.query_params["p"] = pid
    st.session_state["project"] = project = settings.normalise(project)
    st.session_state["_undo"] = []
    st.session_state["_redo"] = []


def new_project(project: dict) -> None:
    """Start ``project`` as a new project of its own (own autosave, own runs); the current
    one stays in the recent list."""
    init()
    _switch(secrets.token_hex(8), project)
    _autosave(st.session_state["project"])


def open_project(pid: str) -> bool:
    """Make the autosaved project ``pid`` current, with its runs; False (and a notice) when
    its autosave cannot be read."""
    init()
    try:
        path = _autosave_path(recent.check_project_id(pid))
        with locks.locked(path.parent):
            raw = read_capped(path, limits.MAX_PROJECT_BYTES)
        project = loads(raw, check_graph=False)
    except (ValueError, ProjectError, RecursionError, OSError) as err:
        st.session_state["_notice"] = f"That project cannot be opened: {err}"
        return False
    _switch(pid, _portable(project), _digest(raw))
    st.session_state["_undo"], st.session_state["_redo"] = history.read(
        _history_path(pid), _digest(raw)
    )
    return True


def delete_project(pid: str) -> None:
    """Delete a project and its runs; deleting the current one opens the next most recent
    (or the offline default)."""
    init()
    with locks.locked(paths.autosave_dir()):
        recent.delete_project(paths.autosave_dir(), paths.runs_root(), pid)
        history.delete(_history_path(pid))
    if pid == session_id():
        following = recent.most_recent(paths.autosave_dir(), paths.runs_root())
        if not (following and open_project(following)):
            new_project(templates.load(templates.DEFAULT))


def rename(name: str) -> None:
    """Give the current project a name of the user's (it then stays when the data changes);
    its ended runs named as it was (or automatically) take the new name too."""
    name = " ".join((name or "").split())[:120]
    project = get_project()
    if name and name != project.get("name"):
        set_project({**project, "name": name})
        names = {templates.describe(n)[0] for n in templates.names()}
        recent.rename_runs(paths.runs_root(), owner_id(), project, name, names)


def recent_projects(limit: int = 10) -> list:
    """``recent.ProjectSummary`` of the autosaved projects, newest change first."""
    return recent.list_projects(paths.autosave_dir(), paths.runs_root())[:limit]


def _autosave(project: dict) -> None:
    """Write the autosave, unless another tab changed it since this session read or wrote
    it: then this session moves to a new id first (see the module docstring)."""
    try:
        with locks.locked(paths.autosave_dir()):
            path = _autosave_path(session_id())
            on_disk = _digest(_read_bytes(path))
            if on_disk is not None and on_disk != st.session_state.get("_autosave_digest"):
                old = session_id()
                new = _fork()
                # Said at once: an edit inside a fragment reruns only the fragment, so a
                # notice kept for the app frame would wait for the next full rerun.
                st.toast(
                    f"This project (?p={old}) was also changed in another tab (or another "
                    f"netbuilder app on this data folder). So that neither overwrites the "
                    f"other, your changes here are now saved under a new address "
                    f"(?p={new}); the other tab keeps the old one, "
                    f"with the runs trained so far (a run still training included): open "
                    f"it from Recent projects to see them."
                )
                path = _autosave_path(new)
            text = dumps(project).encode("utf-8")
            save_project_file(project, path)
            digest = _digest(text)
            st.session_state["_autosave_digest"] = digest
            history.write(
                history.path_for(path.parent, path.stem),
                st.session_state.get("_undo", []),
                st.session_state.get("_redo", []),
                digest,
            )
    except OSError as err:  # a full disk must not break editing; say it once
        st.session_state["_notice"] = (
            f"Autosave failed ({err.strerror or err}): download your project to keep it."
        )


def can_undo() -> bool:
    return bool(st.session_state.get("_undo"))


def can_redo() -> bool:
    return bool(st.session_state.get("_redo"))


def _step(source: str, target: str) -> None:
    """Move one state from the ``source`` stack to the project, the project onto ``target``.
    A state read back from the history file is checked first; one that is not a project
    (a damaged file) clears that stack, with a notice, instead of breaking the page."""
    try:
        project = history.entry(st.session_state[source][-1])
    except ProjectError as err:
        st.session_state[source] = []
        what = "Undo" if source == "_undo" else "Redo"
        st.session_state["_notice"] = f"{what} history could not be used and is cleared: {err}"
        _autosave(st.session_state["project"])
        return
    st.session_state[source].pop()
    st.session_state[target].append(st.session_state["project"])
    st.session_state["project"] = settings.normalise(project)
    _autosave(st.session_state["project"])


def undo() -> None:
    if can_undo():
        _step("_undo", "_redo")


def redo() -> None:
    if can_redo():
        _step("_redo", "_undo")


def notice() -> str | None:
    """A one-time message for the user (restore, autosave trouble), cleared when read."""
    return st.session_state.pop("_notice", None)


def status_slot():
    """The sidebar placeholder where a page reports the model's validity after checking."""
    return st.session_state.get("_status_slot")


def show_status(result) -> None:
    """Fill the sidebar validity line from a check result (called by pages): valid with its
    parameter count, or the number of problems with a link to the page that shows them."""
    slot = status_slot()
    if slot is None:
        return
    from builder import edit

    errors = sum(1 for r in result.layers if r.error) + len(result.errors)
    warnings = len(result.all_warnings())
    if result.valid:
        slot.success(
            f"Valid model · {result.total_params:,} params"
            + (f" · {warnings} advice" if warnings else "")
        )
        return
    errors = errors or 1
    page, title = (
        ("pages/build.py", "Build") if edit.is_stack(get_project()) else ("pages/graph.py", "Graph")
    )
    with slot.container():
        st.error(f"{errors} problem{'s' if errors != 1 else ''} to fix")
        st.page_link(
            page,
            label=f"Show {'them' if errors != 1 else 'it'} on {title}",
            icon=":material/arrow_forward:",
        )
