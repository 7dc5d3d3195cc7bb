"""Run folders on disk: one folder per training run, written so a crash never breaks the list.

Layout (``runs_root/<owner>/<run_id>/``)::

    project.json   the project exactly as trained (epochs/batch size overrides applied)
    run.json       id, owner, name, state, message, start/end time, device, versions, seed, pid
    history.csv    one row per epoch: epoch, every Keras log (loss, accuracy, val_loss, ...),
                   learning_rate, seconds; for K-fold the mean over folds
    history_folds.csv   K-fold only: the same with a ``fold`` column (1-based)
    metrics.json   {"train": {...}, "val": {...}, "test": {...}, "kfold": {...}|absent}
    model.keras    the trained model (finished or stopped runs; K-fold: folds/fold-<i>.keras)

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, which is atomic on one file system. A new run folder is assembled under a
hidden name (``.new-<id>``) and renamed once ``run.json`` exists, so ``list_runs`` never
sees a run without its ``run.json``. This module never imports TensorFlow.

Owners scope runs: the UI passes one id per browser session, the CLI uses ``"cli"``. Owner
ids and run ids are checked against strict patterns before they touch a path, and run ids
are generated here, never taken from user text, so no name can point outside ``runs_root``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# \A...\Z and fullmatch: ``$`` would accept a final newline.
OWNER_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
RUN_ID_RE = re.compile(r"\A\d{8}-\d{6}-[0-9a-f]{6}\Z")
STATES = ("starting", "running", "finished", "stopped", "failed")
FINAL_STATES = ("finished", "stopped", "failed")


class RunError(ValueError):
    """A run that cannot be found or read, or an owner/run id that is not allowed."""


# --------------------------------------------------------------------------- names and paths

def new_run_id() -> str:
    """A fresh id like ``20260128-142501-3fa9c1``: sortable by start time, never user text."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not OWNER_RE.fullmatch(owner):
        raise RunError(f"owner id {owner!r} is not allowed: use 1-64 letters, digits, '_' or '-' "
                       "(the app passes its session id).")
    return owner


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        raise RunError(f"{run_id!r} is not a run id (they look like 20260128-142501-3fa9c1).")
    return run_id


def owner_dir(runs_root: str | Path, owner: str) -> Path:
    return Path(runs_root) / check_owner(owner)


def run_dir(runs_root: str | Path, owner: str, run_id: str) -> Path:
    return owner_dir(runs_root, owner) / check_run_id(run_id)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- atomic writes

def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_safe(value):
    """NaN/inf are not JSON: store them as null (a NaN loss is reported in the message)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(json_safe(obj), indent=2, ensure_ascii=False) + "\n")


def read_json(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


# --------------------------------------------------------------------------- history files

def history_to_csv(history: dict[str, list[float]], seconds: list[float] | None = None,
                   folds: list[int] | None = None) -> str:
    """CSV text, one row per epoch: ``[fold,] epoch, <metric columns>, [seconds]``.

    ``history`` maps Keras log names to per-epoch values (lists may differ in length when
    K-fold folds stopped early; missing cells stay empty). ``folds`` (1-based) turns the
    rows into one block per fold and must then be as long as the longest list.
    """
    names = list(history)
    rows = max((len(v) for v in history.values()), default=0)
    if seconds:
        rows = max(rows, len(seconds))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = (["fold"] if folds is not None else []) + ["epoch"] + names
    header += ["seconds"] if seconds is not None else []
    writer.writerow(header)
    epoch = 0
    for i in range(rows):
        epoch = 1 if folds is not None and (i == 0 or folds[i] != folds[i - 1]) else epoch + 1
        row = ([folds[i]] if folds is not None else []) + [epoch]
        row += [_cell(history[n], i) for n in names]
        row += [_cell(seconds, i)] if seconds is not None else []
        writer.writerow(row)
    return out.getvalue()


def _cell(values, i):
    if values is None or i >= len(values) or values[i] is None:
        return ""
    v = float(values[i])
    return repr(v) if math.isfinite(v) else str(v)


def read_history_csv(path: str | Path) -> dict[str, list]:
    """Columns of a history CSV as lists (``epoch``/``fold`` as int, the rest float or None)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            return {}
        columns: dict[str, list] = {name: [] for name in header}
        for row in reader:
            for name, cell in zip(header, row):
                if name in ("epoch", "fold"):
                    columns[name].append(int(cell))
                else:
                    columns[name].append(float(cell) if cell != "" else None)
    return columns


# --------------------------------------------------------------------------- run folders

def create_run(runs_root: str | Path, owner: str, project: dict, info: dict) -> Path:
    """Make ``runs_root/owner/<new id>/`` holding project.json and run.json; return it.

    ``info`` is merged into run.json (device, seed, ...). The folder appears under its final
    name only once both files are complete.
    """
    parent = owner_dir(runs_root, owner)
    parent.mkdir(parents=True, exist_ok=True)
    for _ in range(10):
        run_id = new_run_id()
        final = parent / run_id
        if not final.exists():
            break
    else:  # pragma: no cover - 16M ids per second would be needed
        raise RunError("could not pick a fresh run id; try again.")
    staging = parent / f".new-{run_id}"
    staging.mkdir()
    try:
        write_json_atomic(staging / "project.json", project)
        record = {"id": run_id, "owner": owner, "name": project.get("name", ""),
                  "state": "starting", "message": "", "started": now_iso(), "ended": None,
                  "epochs_done": 0}
        record.update(info)
        write_json_atomic(staging / "run.json", record)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def update_run_info(folder: str | Path, **changes) -> dict:
    """Read run.json, apply ``changes``, write it back atomically; return the new record."""
    path = Path(folder) / "run.json"
    record = read_json(path)
    record.update(changes)
    write_json_atomic(path, record)
    return record


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_record(folder: Path) -> dict:
    record = read_json(folder / "run.json")
    for key in ("id", "state", "started"):
        if key not in record:
            raise ValueError(f"run.json has no '{key}'")
    if record["id"] != folder.name:
        raise ValueError(f"run.json names run {record['id']!r}, not the folder's")
    if (record["state"] not in FINAL_STATES and record.get("pid") is not None
            and not _pid_alive(record["pid"])):
        # The worker and the app that watched it are both gone (app restart, power cut).
        record["state"] = "failed"
        record["message"] = ("the training process is gone and did not finish the run (the "
                             "app may have been restarted); the epochs recorded so far are kept.")
    record["path"] = str(folder)
    return record


def list_runs(runs_root: str | Path, owner: str) -> list[dict]:
    """This owner's runs, newest first, as run.json records plus ``path``.

    A folder that cannot be read (run.json missing, not JSON, wrong id) is not raised: it is
    listed with ``state: "broken"`` and a ``message`` saying what is wrong, so the UI can show
    or delete it. Hidden folders (runs being created) are skipped. Runs of other owners are
    never listed.
    """
    parent = owner_dir(runs_root, owner)
    if not parent.is_dir():
        return []
    runs = []
    for folder in sorted(parent.iterdir(), reverse=True):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        if not RUN_ID_RE.fullmatch(folder.name):
            runs.append({"id": folder.name, "state": "broken", "path": str(folder),
                         "message": "not a run folder (its name is not a run id)."})
            continue
        try:
            runs.append(_read_record(folder))
        except (OSError, ValueError) as err:
            runs.append({"id": folder.name, "state": "broken", "path": str(folder),
                         "message": f"run.json is missing or unreadable ({err}); the folder "
                                    "can be deleted."})
    return runs


def load_run(runs_root: str | Path, owner: str, run_id: str) -> dict:
    """One run: ``{"info", "project", "history", "history_folds", "metrics", "model_path"}``.

    Missing optional files give ``None``/``{}``; a missing or unreadable run.json raises
    RunError with a plain message.
    """
    folder = run_dir(runs_root, owner, run_id)
    try:
        info = _read_record(folder)
    except (OSError, ValueError) as err:
        raise RunError(f"run {run_id} cannot be read: {err}.") from None

    def optional(name, reader, empty):
        try:
            return reader(folder / name)
        except (OSError, ValueError):
            return empty

    model = folder / "model.keras"
    return {"info": info,
            "project": optional("project.json", read_json, None),
            "history": optional("history.csv", read_history_csv, {}),
            "history_folds": optional("history_folds.csv", read_history_csv, {}),
            "metrics": optional("metrics.json", read_json, {}),
            "model_path": str(model) if model.is_file() else None}


def delete_run(runs_root: str | Path, owner: str, run_id: str) -> None:
    """Remove a run folder of this owner (a running run should be stopped first)."""
    folder = run_dir(runs_root, owner, run_id)
    if folder.is_dir():
        shutil.rmtree(folder)
