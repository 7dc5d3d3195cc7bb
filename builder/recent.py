"""Projects: every project on disk, their names, data and runs.

A project the app has edited is one autosave file ``<autosave>/<id>.json``; its runs live
in ``<runs_root>/<id>/`` (a project trained before it was ever edited has runs and no
autosave: it opens as its newest run was trained). This module lists every project that
has either (find by name, sort by last change or last run), deletes one into a trash from
which it can be restored for ``UNDO_WINDOW_S``, offers Compare the runs of several
projects, and keeps a project's name in step with its data until the user names it. It
never imports streamlit or TensorFlow; ``ui.state`` calls it.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from builder.limits import MAX_PROJECT_BYTES
from builder.project import parse_json, read_capped

PROJECT_ID_RE = re.compile(r"\A[a-f0-9]{16}\Z")
# builder.training.runs.RUN_ID_RE, copied: importing that module loads the training package
# and NumPy (~70 ms) on the first paint's path. tests/test_training_runs.py keeps them equal.
_RUN_ID_RE = re.compile(r"\A\d{8}-\d{6}-[0-9a-f]{6}\Z")
# builder.experiments.runner.EXPERIMENTS_DIR, copied for the same reason (tests keep them equal).
EXPERIMENTS_DIR = ".experiments"


@dataclass(frozen=True)
class ProjectSummary:
    """One project as the projects list shows it.

    Times are seconds since the epoch: ``changed`` is when its autosave was last written
    (0.0 for a project that was trained but never edited, so never autosaved), ``last_run``
    when its newest run started (None without runs), ``modified`` the later of the two.
    ``problem`` is set when the project cannot be read (its name is then its id).
    """

    pid: str
    name: str
    dataset: str
    modified: float
    runs: int
    problem: str | None = None
    changed: float = 0.0
    last_run: float | None = None


SORTS = {"changed": "last change", "run": "last run"}  # sort key -> how the list says it


def check_project_id(pid: str) -> str:
    if not isinstance(pid, str) or not PROJECT_ID_RE.fullmatch(pid):
        raise ValueError(f"{pid!r} is not a project id (16 hex digits, as in ?p=... in the URL).")
    return pid


def _run_folders(runs_root: Path, pid: str) -> list[Path]:
    folder = runs_root / pid
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_dir() and _RUN_ID_RE.fullmatch(p.name)]


def _datasets() -> dict:
    # Imported when first needed: builder.data brings numpy, which the app's first paint
    # (ui.state imports this module) can do without.
    from builder.data.registry import DATASETS

    return DATASETS


def data_label(data: dict | None) -> str:
    """How the project's data is named to people: the dataset's label, a CSV's file name."""
    data = data if isinstance(data, dict) else {}
    if data.get("chosen") is False:
        return "no data chosen"
    name = data.get("dataset")
    if name == "csv":
        path = (data.get("options") or {}).get("path")
        return os.path.basename(path) if path else _datasets()["csv"].label
    spec = _datasets().get(name)
    return spec.label if spec else str(name)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def project_source(autosave_dir: str | Path, runs_root: str | Path, pid: str) -> Path:
    """The file project ``pid`` is opened from: its autosave, or, for a project that was
    trained but never edited (no autosave), the project its newest run was trained from.
    ValueError for a bad id or a project with neither."""
    autosave = Path(autosave_dir) / f"{check_project_id(pid)}.json"
    if autosave.is_file():
        return autosave
    for folder in sorted(_run_folders(Path(runs_root), pid), key=lambda p: p.name, reverse=True):
        if (folder / "project.json").is_file():
            return folder / "project.json"
    raise ValueError(f"project {pid} has no autosave and no run to open it from.")


def summarize(autosave: Path, runs_root: Path) -> ProjectSummary:
    """Read one project's name and data (from its autosave, else from its newest run's
    project) without validating the whole project."""
    pid = autosave.stem
    folders = _run_folders(runs_root, pid)
    changed = _mtime(autosave)
    last_run = max((_mtime(p) for p in folders), default=None)
    modified = max(changed, last_run or 0.0)
    times = {"modified": modified, "changed": changed, "last_run": last_run}
    try:
        source = project_source(autosave.parent, runs_root, pid)
        # Read as an upload is: size and nesting capped before parsing (ProjectError).
        doc = parse_json(read_capped(source, MAX_PROJECT_BYTES), "the autosave")
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        return ProjectSummary(
            pid, pid, "?", runs=len(folders), problem=f"the project cannot be read ({err})", **times
        )
    return ProjectSummary(
        pid,
        str(doc.get("name") or "Untitled"),
        data_label(doc.get("data")),
        runs=len(folders),
        **times,
    )


def list_projects(autosave_dir: str | Path, runs_root: str | Path) -> list[ProjectSummary]:
    """Every project that has an autosave or a run, the most recently changed first."""
    autosave_dir, runs_root = Path(autosave_dir), Path(runs_root)
    pids = {p.stem for p in autosave_dir.glob("*.json") if PROJECT_ID_RE.fullmatch(p.stem)}
    if runs_root.is_dir():
        pids |= {
            p.name
            for p in runs_root.iterdir()
            if PROJECT_ID_RE.fullmatch(p.name) and _run_folders(runs_root, p.name)
        }
    found = [summarize(autosave_dir / f"{pid}.json", runs_root) for pid in pids]
    return sorted(found, key=lambda s: (-s.modified, s.pid))


def find(
    summaries: list[ProjectSummary], query: str = "", sort: str = "changed"
) -> list[ProjectSummary]:
    """The projects whose name (or data) contains ``query`` (any case), sorted by last
    change or by last run (``SORTS``), newest first; projects never run come last then."""
    if sort not in SORTS:
        raise ValueError(f"sort {sort!r} is not one of {', '.join(SORTS)}.")
    words = query.casefold().split()
    kept = [s for s in summaries if all(w in f"{s.name} {s.dataset}".casefold() for w in words)]
    if sort == "run":
        return sorted(kept, key=lambda s: (s.last_run is None, -(s.last_run or 0.0), s.pid))
    return sorted(kept, key=lambda s: (-s.modified, s.pid))


def most_recent(autosave_dir: str | Path, runs_root: str | Path) -> str | None:
    """The id of the most recently changed readable project, or None when there is none."""
    return next((s.pid for s in list_projects(autosave_dir, runs_root) if s.problem is None), None)


# --------------------------------------------------------------------------- delete, undo

UNDO_WINDOW_S = 600  # a deleted project can be brought back for this long


def _parts(autosave_dir: Path, runs_root: Path, pid: str) -> dict[str, Path]:
    """Where each part of project ``pid`` lives (the names its trash folder uses)."""
    from builder import history  # builder.project: only when a project is deleted

    return {
        "autosave.json": autosave_dir / f"{pid}.json",
        "history.json": history.path_for(autosave_dir, pid),
        "runs": runs_root / pid,
        "experiments": runs_root / EXPERIMENTS_DIR / pid,
    }


def _training(runs_root: Path, pid: str) -> list[str]:
    """The runs of ``pid`` whose worker still trains."""
    from builder.training import runs  # the training package: only when deleting

    try:
        return [
            r["id"] for r in runs.list_runs(runs_root, pid) if r["state"] in ("starting", "running")
        ]
    except (OSError, ValueError):
        return []


def delete_project(
    autosave_dir: str | Path,
    runs_root: str | Path,
    pid: str,
    trash_dir: str | Path | None = None,
    now: float | None = None,
) -> None:
    """Remove a project: its autosave, undo history, runs and experiments.

    With ``trash_dir`` they are moved to ``trash_dir/<pid>/`` and ``restore_project`` brings
    them back within ``UNDO_WINDOW_S``; without, they are deleted. ValueError for a bad id
    or while one of its runs still trains (stop it first)."""
    autosave_dir, runs_root = Path(autosave_dir), Path(runs_root)
    check_project_id(pid)
    busy = _training(runs_root, pid)
    if busy:
        raise ValueError(f"run {busy[0]} of this project is still training: stop it first.")
    parts = _parts(autosave_dir, runs_root, pid)
    if trash_dir is None:
        for path in parts.values():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return
    purge_trash(trash_dir, now)
    bin_ = Path(trash_dir) / pid
    shutil.rmtree(bin_, ignore_errors=True)  # an older deletion of the same id
    bin_.mkdir(parents=True)
    for name, path in parts.items():
        if path.exists():
            os.replace(path, bin_ / name)
    (bin_ / "deleted").write_text(str(time.time() if now is None else now), encoding="utf-8")


def restore_project(
    autosave_dir: str | Path, runs_root: str | Path, trash_dir: str | Path, pid: str
) -> bool:
    """Bring a deleted project back from the trash; False when it is no longer there (the
    undo window passed) or a project of that id exists again."""
    autosave_dir, runs_root = Path(autosave_dir), Path(runs_root)
    bin_ = Path(trash_dir) / check_project_id(pid)
    parts = _parts(autosave_dir, runs_root, pid)
    if not bin_.is_dir() or any(p.exists() for p in parts.values()):
        return False
    for name, path in parts.items():
        if (bin_ / name).exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(bin_ / name, path)
    shutil.rmtree(bin_, ignore_errors=True)
    return True


def purge_trash(trash_dir: str | Path, now: float | None = None) -> list[str]:
    """Delete what was deleted more than ``UNDO_WINDOW_S`` ago; return the ids purged."""
    trash_dir = Path(trash_dir)
    if not trash_dir.is_dir():
        return []
    limit = (time.time() if now is None else now) - UNDO_WINDOW_S
    purged = []
    for bin_ in trash_dir.iterdir():
        try:
            deleted = float((bin_ / "deleted").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            deleted = _mtime(bin_)
        if deleted < limit:
            shutil.rmtree(bin_, ignore_errors=True)
            purged.append(bin_.name)
    return purged


def run_choices(runs_root: str | Path, current: str, pids: list[str]) -> dict[str, tuple]:
    """The runs Compare offers, from the projects ``pids`` (``current`` first, then in the
    order given), newest first within each: ``{key: (project id, run record)}``. A run of
    the current project is keyed by its run id, another project's by ``<project>/<run>``
    (run ids are unique only within a project). Unreadable run folders are left out."""
    from builder.training import runs  # the training package: only on Compare

    order = [current] + [p for p in pids if p != current]
    choices: dict[str, tuple] = {}
    for pid in order:
        try:
            records = runs.list_runs(runs_root, pid)
        except (OSError, ValueError):
            continue
        for record in records:
            if record["state"] != "broken":
                key = record["id"] if pid == current else f"{pid}/{record['id']}"
                choices[key] = (pid, record)
    return choices


def age_text(modified: float, now: float | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago'."""
    seconds = max(0.0, (time.time() if now is None else now) - modified)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


# --------------------------------------------------------------------------- names


def _model_words(project: dict) -> str:
    """'dense 64-10' for a stack of Dense layers, else 'N layers'."""
    layers = (project.get("model") or {}).get("layers") or []
    if layers and all(layer.get("class_name") == "Dense" for layer in layers):
        return "dense " + "-".join(
            str((layer.get("config") or {}).get("units", "?")) for layer in layers
        )
    return f"{len(layers)} layer{'s' if len(layers) != 1 else ''}"


def automatic_name(project: dict) -> str:
    """The name a project gets from its data and model: 'Wine cultivars (offline), dense 16-3'."""
    return f"{data_label(project.get('data'))}, {_model_words(project)}"


def name_is_automatic(project: dict, template_names: set[str] = frozenset()) -> bool:
    """True while the user has not named the project: no name, a template's name, or a name
    that starts with its data's label (which is how automatic names start)."""
    name = (project.get("name") or "").strip()
    return (
        not name
        or name == "Untitled"
        or name in template_names
        or name.startswith(data_label(project.get("data")))
    )


def follow_data(before: dict, after: dict, template_names: set[str] = frozenset()) -> dict:
    """``after`` renamed for its data and model while the user has not named it: when its
    data changed and ``before`` had an automatic name, or when ``before``'s name is exactly
    the name its data and model give it (so 'train.csv, dense 64-10' becomes 'train.csv,
    dense 64-2' with the last layer). A name the user chose, or one the change brings (a
    template's, a file opened), is kept."""
    if (after.get("name") or "") != (before.get("name") or ""):
        return after  # the change brings its own name (a template, a file opened)
    if data_label(before.get("data")) == data_label(after.get("data")):
        if (before.get("name") or "") != automatic_name(before):
            return after
    elif not name_is_automatic(before, template_names):
        return after
    return {**after, "name": automatic_name(after)}


def rename_runs(
    runs_root: str | Path,
    pid: str,
    project: dict,
    new_name: str,
    template_names: set[str] = frozenset(),
) -> int:
    """Give the user's new name for ``project`` (as it was before the rename) to its ended
    runs that carry its old name, or an automatic one (a template's, or the one their data
    and model give) for the same data, so runs, Compare and downloads say what the user
    now calls the project. A run still training is left alone (its worker writes
    run.json), as is one named otherwise or trained on other data (its automatic name says
    which). Returns how many runs were renamed."""
    from builder.training import runs  # the training package: only when runs are renamed

    old_name = project.get("name") or ""
    data = data_label(project.get("data"))
    renamed = 0
    for folder in _run_folders(Path(runs_root), check_project_id(pid)):
        try:
            record = runs.read_json(folder / "run.json")
            if record.get("state") not in runs.FINAL_STATES:
                continue
            name = record.get("name") or ""
            if name != old_name:
                trained = runs.read_json(folder / "project.json")
                if data_label(trained.get("data")) != data or not name_is_automatic(
                    {**trained, "name": name}, template_names
                ):
                    continue
            runs.update_run_info(folder, name=new_name)
            renamed += 1
        except (OSError, ValueError):
            continue  # an unreadable run keeps its name (Results shows what is wrong)
    return renamed
