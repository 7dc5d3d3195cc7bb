"""Recent projects: the autosaved projects on disk, their names, data and runs.

Each project the app has edited is one autosave file ``<autosave>/<id>.json``; its runs live
in ``<runs_root>/<id>/``. This module lists them (newest change first), deletes one, and
keeps a project's name in step with its data until the user names it. It never imports
streamlit or TensorFlow; ``ui.state`` calls it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ID_RE = re.compile(r"\A[a-f0-9]{16}\Z")
# builder.training.runs.RUN_ID_RE, copied: importing that module loads the training package
# and NumPy (~70 ms) on the first paint's path. tests/test_training_runs.py keeps them equal.
_RUN_ID_RE = re.compile(r"\A\d{8}-\d{6}-[0-9a-f]{6}\Z")


@dataclass(frozen=True)
class ProjectSummary:
    """One autosaved project as the recent list shows it.

    ``modified`` is the latest change (autosave written or a run started), in seconds since
    the epoch; ``problem`` is set when the autosave cannot be read (its name is then its id).
    """

    pid: str
    name: str
    dataset: str
    modified: float
    runs: int
    problem: str | None = None


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


def summarize(autosave: Path, runs_root: Path) -> ProjectSummary:
    """Read one autosave file's name and data without validating the whole project."""
    pid = autosave.stem
    folders = _run_folders(runs_root, pid)
    try:
        modified = autosave.stat().st_mtime
    except OSError:
        modified = 0.0
    modified = max([modified] + [p.stat().st_mtime for p in folders])
    try:
        doc = json.loads(autosave.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as err:
        return ProjectSummary(
            pid, pid, "?", modified, len(folders), problem=f"the autosave cannot be read ({err})"
        )
    return ProjectSummary(
        pid, str(doc.get("name") or "Untitled"), data_label(doc.get("data")), modified, len(folders)
    )


def list_projects(autosave_dir: str | Path, runs_root: str | Path) -> list[ProjectSummary]:
    """Every autosaved project, the most recently changed first."""
    autosave_dir, runs_root = Path(autosave_dir), Path(runs_root)
    found = [
        summarize(path, runs_root)
        for path in autosave_dir.glob("*.json")
        if PROJECT_ID_RE.fullmatch(path.stem)
    ]
    return sorted(found, key=lambda s: (-s.modified, s.pid))


def most_recent(autosave_dir: str | Path, runs_root: str | Path) -> str | None:
    """The id of the most recently changed readable project, or None when there is none."""
    return next((s.pid for s in list_projects(autosave_dir, runs_root) if s.problem is None), None)


def delete_project(autosave_dir: str | Path, runs_root: str | Path, pid: str) -> None:
    """Remove a project's autosave and its run folders (ValueError for a bad id)."""
    check_project_id(pid)
    (Path(autosave_dir) / f"{pid}.json").unlink(missing_ok=True)
    shutil.rmtree(Path(runs_root) / pid, ignore_errors=True)


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
