"""What the app deletes by itself, once per start: old autosaves, unused uploads, old runs.

The policy (README, "Limits and safety"):

- an autosaved project neither changed nor trained for ``KEEP_DAYS`` days
  (``$NETBUILDER_KEEP_DAYS``, default 30) is deleted (its last change is the newest of its
  autosave and its run folders, as the recent-projects list shows it);
- an uploaded CSV older than ``KEEP_DAYS`` that no remaining autosave and no remaining run
  names is deleted (a file still in use is kept, however old);
- a deleted project is kept in the trash for ``recent.UNDO_WINDOW_S`` (its Undo), then
  deleted;
- of the ended runs of every session together, the newest ``KEEP_RUNS``
  (``$NETBUILDER_KEEP_RUNS``, default 200) are kept; runs still going are never deleted.

This module never imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from builder import limits, paths, recent
from builder.project import parse_json, read_capped
from builder.training import runs

KEEP_DAYS = float(os.environ.get("NETBUILDER_KEEP_DAYS") or 30)
KEEP_RUNS = int(os.environ.get("NETBUILDER_KEEP_RUNS") or 200)


def _csv_name(path: Path) -> str | None:
    """The upload a project file names (its CSV's file name), or None."""
    try:
        # Read as an upload is: size and nesting capped before parsing (ProjectError).
        doc = parse_json(read_capped(path, limits.MAX_PROJECT_BYTES))
        data = doc.get("data") or {}
        name = (data.get("options") or {}).get("path") if data.get("dataset") == "csv" else None
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1] if isinstance(name, str) and name else None


def _old(path: Path, limit: float) -> bool:
    try:
        return path.stat().st_mtime < limit
    except OSError:
        return False


def prune(
    *, keep_days: float | None = None, keep_runs: int | None = None, now: float | None = None
) -> dict[str, list[str]]:
    """Apply the policy under ``$NETBUILDER_HOME``; return what was deleted, by kind."""
    keep_days = KEEP_DAYS if keep_days is None else keep_days
    keep_runs = KEEP_RUNS if keep_runs is None else keep_runs
    limit = (time.time() if now is None else now) - keep_days * 86400
    deleted = {
        "runs": runs.prune_runs(paths.runs_root(), keep_runs),
        "autosaves": [],
        "uploads": [],
        "trash": recent.purge_trash(paths.trash_dir(), now),
    }
    for path in paths.autosave_dir().glob("*.json"):
        if _old(path, limit) and recent.summarize(path, paths.runs_root()).modified < limit:
            path.unlink(missing_ok=True)
            deleted["autosaves"].append(str(path))
    # An undo history (builder.history) goes with its autosave.
    for path in (paths.autosave_dir() / "history").glob("*.json"):
        if not (paths.autosave_dir() / path.name).exists():
            path.unlink(missing_ok=True)
    used = {_csv_name(p) for p in paths.autosave_dir().glob("*.json")}
    used |= {_csv_name(p) for p in paths.runs_root().glob("*/*/project.json")}
    used |= {_csv_name(p) for p in paths.trash_dir().glob("*/autosave.json")}
    for path in paths.uploads_dir().iterdir():
        if path.is_file() and path.name not in used and _old(path, limit):
            path.unlink(missing_ok=True)
            deleted["uploads"].append(str(path))
    return deleted
