"""Run folders on disk: one folder per training run, written so a crash never breaks the list.

Layout (``runs_root/<owner>/<run_id>/``)::

    project.json   the project exactly as trained (epochs/batch size overrides applied)
    run.json       id, owner, name, state, message, start/end time, device, versions, seed,
                   pid and pid_token (the worker), server_pid and server_token (its app)
    history.csv    one row per epoch: epoch, every Keras log (loss, accuracy, val_loss, ...),
                   learning_rate, seconds; for K-fold the mean over folds
    history_folds.csv   K-fold only: the same with a ``fold`` column (1-based)
    metrics.json   {"train": {...}, "val": {...}, "test": {...}, "kfold": {...}|absent}
    predictions.json  single-output runs that trained: the doctor's summary of the model's
                   predictions on a sample of the validation split (``builder.doctor``)
    model.keras    the trained model (finished or stopped runs; K-fold: folds/fold-<i>.keras)
    checkpoint.json  the last completed epoch's checkpoint (``CHECKPOINT``): its number, the
                   history up to it, the callbacks' state and a digest of the data; it
                   names its ``file``: ``checkpoint-<epoch>.keras`` (model and optimizer,
                   Keras' own format) for the run's first checkpoint, after it
                   ``checkpoint-<epoch>.npz`` (weights and optimizer variables) over that
                   ``base`` .keras file; and, for EarlyStopping(restore_best_weights), a
                   weights file.
                   Kept while the run can be resumed (stopped, interrupted, failed after an
                   epoch, or finished while its loss was still falling: the doctor offers
                   Resume); another run that finished deletes it (model.keras holds it)

A resumed run keeps its folder and id: run.json's ``segments`` then lists every stretch of
training (``started``, ``first_epoch``, ``epochs`` asked for, ``ended``, ``state``,
``message``, ``epochs_done``), so the record says where each one started and why the one
before ended; the top-level fields describe the run as a whole (its first start, its last
end and state, all epochs done).

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
import errno
import io
import json
import math
import os
import re
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from builder import limits, locks

from . import lifecycle

# \A...\Z and fullmatch: ``$`` would accept a final newline.
OWNER_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
RUN_ID_RE = re.compile(r"\A\d{8}-\d{6}-[0-9a-f]{6}\Z")
STATES = ("starting", "running", "finished", "stopped", "failed", "interrupted")
FINAL_STATES = ("finished", "stopped", "failed", "interrupted")
INTERRUPTED_MESSAGE = (
    "the app stopped while this run was training (the training process "
    "ends with it); the epochs recorded so far are kept."
)


CHECKPOINT = "checkpoint.json"
PREDICTIONS = "predictions.json"  # the doctor's summary of the model's predictions

# Training refuses to start with less free space than this where runs are written: a run
# writes its model and history, and a full disk would break the autosave too.
MIN_FREE_BYTES = int(float(os.environ.get("NETBUILDER_MIN_FREE_MB") or 500) * 1024**2)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class RunError(ValueError):
    """A run that cannot be found or read, or an owner/run id that is not allowed."""


def check_free_disk(folder: str | Path, minimum: int | None = None) -> int:
    """Free bytes where ``folder`` lives; RunError when fewer than ``minimum`` (default
    ``MIN_FREE_BYTES``, set with ``$NETBUILDER_MIN_FREE_MB``)."""
    minimum = MIN_FREE_BYTES if minimum is None else minimum
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < minimum:
        raise RunError(
            f"only {free / 1024**2:,.0f} MB free on the disk of {folder}; "
            f"training needs at least {minimum / 1024**2:,.0f} MB: delete old "
            "runs (Results page) or free some space, then start again."
        )
    return free


# --------------------------------------------------------------------------- names and paths


_last_id_micros = 0
_id_lock = threading.Lock()


def new_run_id() -> str:
    """A fresh id like ``20260128-142501-03fa9c``: the UTC second it starts, then the
    microsecond within it in hex, so that ids sort by start time even for runs started
    in the same second (listed newest first). Within a process every id is later than
    the one before; ``create_run`` still checks the folder is new. Never user text.
    (Ids of runs made before 2026-11-29 end in random hex: they still match ``RUN_ID_RE``.)
    """
    global _last_id_micros
    with _id_lock:
        micros = max(time.time_ns() // 1000, _last_id_micros + 1)
        _last_id_micros = micros
    seconds, within = divmod(micros, 1_000_000)
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(seconds)) + f"-{within:06x}"


def check_owner(owner: str) -> str:
    if not isinstance(owner, str) or not OWNER_RE.fullmatch(owner):
        raise RunError(
            f"owner id {owner!r} is not allowed: use 1-64 letters, digits, '_' or '-' "
            "(the app passes its session id)."
        )
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
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    """A run's record file (run.json, project.json, checkpoint.json, experiment.json, ...),
    read as an upload is: size and nesting capped before parsing (``MAX_RUN_FILE_BYTES``).
    OSError when it cannot be read, ValueError (ProjectError) when it is not a JSON object
    within the caps."""
    from builder.project import ProjectError, parse_json, read_capped

    try:
        data = read_capped(path, limits.MAX_RUN_FILE_BYTES)
    except ProjectError as err:
        if not Path(path).exists():  # callers tell a missing record from a broken one
            raise FileNotFoundError(str(err)) from None
        raise
    doc = parse_json(data, f"'{Path(path).name}'", limits.MAX_RUN_FILE_BYTES)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


# --------------------------------------------------------------------------- history files


def history_to_csv(
    history: dict[str, list[float]],
    seconds: list[float] | None = None,
    folds: list[int] | None = None,
) -> str:
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
    name only once both files are complete. RunError when the disk is too full to train
    (``check_free_disk``).
    """
    parent = owner_dir(runs_root, owner)
    check_free_disk(runs_root)
    parent.mkdir(parents=True, exist_ok=True)
    with locks.locked(parent):  # another process picking the same id waits for this one
        for _ in range(10):
            run_id = new_run_id()
            final = parent / run_id
            if not final.exists():
                break
        else:  # pragma: no cover - 16M ids per second would be needed
            raise RunError("could not pick a fresh run id; try again.")
        return _fill_run(parent, final, run_id, owner, project, info)


def _fill_run(parent: Path, final: Path, run_id: str, owner: str, project: dict, info: dict):
    staging = parent / f".new-{run_id}"
    staging.mkdir()
    try:
        write_json_atomic(staging / "project.json", project)
        record = {
            "id": run_id,
            "owner": owner,
            "name": project.get("name", ""),
            "state": "starting",
            "message": "",
            "started": now_iso(),
            "ended": None,
            "epochs_done": 0,
        }
        record.update(info)
        write_json_atomic(staging / "run.json", record)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def update_run_info(folder: str | Path, *, unless_ended: bool = False, **changes) -> dict:
    """Read run.json, apply ``changes``, write it back atomically; return the new record.

    The read and the write hold the run folder's lock (``builder.locks``), so the worker,
    the app and another server never lose each other's changes. ``unless_ended``: leave a
    run that has already ended as it is (a reconcile racing the worker's own last write).
    """
    path = Path(folder) / "run.json"
    with locks.locked(folder):
        record = read_json(path)
        if unless_ended and record.get("state") in FINAL_STATES:
            return record
        record.update(changes)
        if changes.get("state") in FINAL_STATES:
            end_segment(record)
        try:
            write_json_atomic(path, record)
        except OSError as err:
            if err.errno not in _DISK_FULL or not _write_json_in_place(path, record):
                raise
    return record


def _write_json_in_place(path: Path, record: dict) -> bool:
    """On a full disk a new file cannot be written, but run.json's own blocks can be
    overwritten: do that (compact JSON) when the record fits in the space the file already
    has, so a run that fails for want of space still says so. False when it does not fit."""
    data = (json.dumps(json_safe(record), ensure_ascii=False) + "\n").encode("utf-8")
    try:
        allocated = path.stat().st_blocks * 512
    except OSError:
        return False
    if len(data) > allocated:
        return False
    with open(path, "r+b") as fh:
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())
    return True


def resume_note(folder: str | Path) -> str:
    """A sentence for the end of a failed, stopped or interrupted run's message: which
    complete checkpoint is kept, so Resume continues from it ('' when there is none)."""
    checkpoint = read_checkpoint(folder)
    if checkpoint is None:
        return ""
    return (
        f" Its last complete checkpoint, epoch {checkpoint['epoch']}, is kept: Resume "
        "continues from there."
    )


def discard_partial(folder: str | Path) -> None:
    """Delete half-written files a failed write left in the run folder (temporary files of
    a checkpoint or an atomic write): on a full disk they hold the space the run's record
    needs. Complete checkpoints are kept."""
    for path in Path(folder).glob(".*"):
        if path.is_file() and (path.name.endswith((".tmp", ".tmp.keras", ".tmp.npz"))):
            path.unlink(missing_ok=True)


def _process_alive(record: dict) -> bool:
    """Whether the process that trains this run still runs (same pid *and* start token)."""
    return lifecycle.alive(record.get("pid"), record.get("pid_token"))


def _read_record(folder: Path) -> dict:
    record = read_json(folder / "run.json")
    for key in ("id", "state", "started"):
        if key not in record:
            raise ValueError(f"run.json has no '{key}'")
    if record["id"] != folder.name:
        raise ValueError(f"run.json names run {record['id']!r}, not the folder's")
    if (
        record["state"] not in FINAL_STATES
        and record.get("pid") is not None
        and not _process_alive(record)
    ):
        # The worker and the app that watched it are both gone (app restart, power cut).
        record["state"] = "interrupted"
        record["message"] = INTERRUPTED_MESSAGE
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
            runs.append(
                {
                    "id": folder.name,
                    "state": "broken",
                    "path": str(folder),
                    "message": "not a run folder (its name is not a run id).",
                }
            )
            continue
        try:
            runs.append(_read_record(folder))
        except (OSError, ValueError) as err:
            runs.append(
                {
                    "id": folder.name,
                    "state": "broken",
                    "path": str(folder),
                    "message": f"run.json is missing or unreadable ({err}); the folder "
                    "can be deleted.",
                }
            )
    return runs


def load_run(runs_root: str | Path, owner: str, run_id: str) -> dict:
    """One run: ``{"info", "project", "history", "history_folds", "metrics", "model_path",
    "predictions", "checkpoint"}`` (the last two: ``predictions.json`` and
    ``read_checkpoint``, None when absent).

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
    return {
        "info": info,
        "project": optional("project.json", read_json, None),
        "history": optional("history.csv", read_history_csv, {}),
        "history_folds": optional("history_folds.csv", read_history_csv, {}),
        "metrics": optional("metrics.json", read_json, {}),
        "model_path": str(model) if model.is_file() else None,
        "predictions": optional(PREDICTIONS, read_json, None),
        "checkpoint": read_checkpoint(folder),
    }


def delete_run(runs_root: str | Path, owner: str, run_id: str) -> None:
    """Remove a run folder of this owner; RunError while its process still trains.

    Only ``runs_root/owner/run_id`` can be named (both ids are checked), so a session can
    delete its own runs and nothing else.
    """
    folder = run_dir(runs_root, owner, run_id)
    if not folder.is_dir():
        return
    try:
        record = read_json(folder / "run.json")
    except (OSError, ValueError):
        record = {}
    if (
        record.get("state") not in FINAL_STATES
        and record.get("pid") is not None
        and _process_alive(record)
    ):
        raise RunError(f"run {run_id} is still training: stop it first, then delete it.")
    shutil.rmtree(folder)


# --------------------------------------------------------------------------- app start-up

STALE_WITHOUT_PID_S = 120  # a run folder with no process recorded after this long is dead


def _all_run_folders(runs_root: str | Path):
    root = Path(runs_root)
    if not root.is_dir():
        return
    for owner in sorted(root.iterdir()):
        if not owner.is_dir() or not OWNER_RE.fullmatch(owner.name):
            continue
        for folder in sorted(owner.iterdir()):
            if folder.is_dir() and RUN_ID_RE.fullmatch(folder.name):
                yield owner.name, folder


def reconcile(runs_root: str | Path, *, now: float | None = None) -> list[dict]:
    """Once per app start: make run.json true again for runs left "starting"/"running".

    - the process is gone: the run becomes ``interrupted`` (its epochs so far are kept);
    - the process is a worker (``server_pid`` recorded) whose app is gone, i.e. an orphan
      (an older version, or the seconds before its watch thread noticed): it is stopped,
      then marked ``interrupted``, so the one-job limit counts only workers an app watches;
    - a worker whose app still runs (another server on the same folder), or a CLI run
      (trained in its own process, no ``server_pid``) that still runs, is left alone.

    Processes are matched by pid *and* start token, so a recycled pid is not mistaken for
    the worker. Returns ``[{"owner", "id", "action": "interrupted" | "stopped"}]``.
    """
    now = time.time() if now is None else now
    changed = []
    for owner, folder in _all_run_folders(runs_root):
        try:
            record = read_json(folder / "run.json")
        except (OSError, ValueError):
            continue
        if record.get("state") in FINAL_STATES:
            continue
        action = None
        if record.get("pid") is None:
            try:
                age = now - (folder / "run.json").stat().st_mtime
            except OSError:
                continue
            if age > STALE_WITHOUT_PID_S:  # the app died before its worker started
                action = "interrupted"
        elif not _process_alive(record):
            action = "interrupted"
        elif record.get("server_pid") is not None and not lifecycle.alive(
            record["server_pid"], record.get("server_token")
        ):
            lifecycle.stop_process(record["pid"], record.get("pid_token"))
            action = "stopped"
        if action is None:
            continue
        try:
            update_run_info(
                folder,
                unless_ended=True,
                state="interrupted",
                message=INTERRUPTED_MESSAGE + resume_note(folder),
                ended=record.get("ended") or now_iso(),
            )
        except (OSError, ValueError):
            continue
        changed.append({"owner": owner, "id": folder.name, "action": action})
    return changed


def live_runs(runs_root: str | Path) -> list[dict]:
    """Runs of every owner whose training process still runs (pid and start token match):
    ``[{"owner", "id", "pid"}]``. The app counts those it does not watch itself (another
    app on the same folder, a ``train`` on the command line) against its job limit."""
    found = []
    for owner, folder in _all_run_folders(runs_root):
        try:
            record = read_json(folder / "run.json")
        except (OSError, ValueError):
            continue
        if (
            record.get("state") not in FINAL_STATES
            and record.get("pid") is not None
            and _process_alive(record)
        ):
            found.append({"owner": owner, "id": folder.name, "pid": record["pid"]})
    return found


def prune_runs(runs_root: str | Path, keep: int) -> list[str]:
    """Delete the oldest ended runs beyond the newest ``keep`` (all owners together).

    Runs still starting or running are never deleted, nor counted against ``keep``; nor are
    folders this module does not recognise. Half-made folders (``.new-*``) left by a crash
    more than a day ago go too. Returns the deleted folders.
    """
    ended = []
    deleted = []
    root = Path(runs_root)
    for _owner, folder in _all_run_folders(runs_root):
        try:
            state = read_json(folder / "run.json").get("state")
        except (OSError, ValueError):
            state = "broken"
        if state in FINAL_STATES or state == "broken":
            ended.append(folder)
    ended.sort(key=lambda f: f.name, reverse=True)  # run ids sort by start time
    for folder in ended[max(0, keep) :]:
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(str(folder))
    if root.is_dir():
        for owner in root.iterdir():
            if not owner.is_dir():
                continue
            for staging in owner.glob(".new-*"):
                try:
                    if time.time() - staging.stat().st_mtime > 86400:
                        shutil.rmtree(staging, ignore_errors=True)
                        deleted.append(str(staging))
                except OSError:
                    continue
    return deleted


# --------------------------------------------------------------------------- resume


KFOLD_RESUME_REASON = (
    "K-fold runs cannot be resumed: a K-fold run is k trainings whose scores only mean "
    "something together, and it keeps no per-fold checkpoints (a fold's model is saved "
    "only when all folds end); start a new run instead."
)


def read_checkpoint(folder: str | Path) -> dict | None:
    """The run's checkpoint record (``checkpoint.json``) when it and the files it names are
    there, else None."""
    folder = Path(folder)
    try:
        record = read_json(folder / CHECKPOINT)
    except (OSError, ValueError):
        return None
    files = [record.get("file")]
    files += [record[k] for k in ("base", "best_weights") if record.get(k) is not None]
    for name in files:
        if not isinstance(name, str) or "/" in name or not (folder / name).is_file():
            return None
    if not isinstance(record.get("epoch"), int) or record["epoch"] < 1:
        return None
    return record


def resume_plan(folder: str | Path, epochs: int | None = None) -> dict:
    """What resuming the run in ``folder`` would do, or RunError saying why it cannot.

    Returns ``{"epoch": completed epochs, "epochs": the total to reach, "record": run.json,
    "project": project.json, "checkpoint": checkpoint.json}``. ``epochs`` is a new total
    (at least one more than completed); by default the run's own ``fit.epochs``.
    """
    folder = Path(folder)
    try:
        record = _read_record(folder)
        project = read_json(folder / "project.json")
    except (OSError, ValueError) as err:
        raise RunError(f"{folder} is not a readable run folder ({err}).") from None
    if record["state"] not in FINAL_STATES:
        raise RunError(f"run {record['id']} is still training: it cannot be resumed twice.")
    fit = project.get("fit") or {}
    if (fit.get("validation") or {}).get("method") == "kfold":
        raise RunError(KFOLD_RESUME_REASON)
    checkpoint = read_checkpoint(folder)
    if checkpoint is None:
        if record["state"] == "finished":
            why = (
                "it finished (all its epochs, or EarlyStopping ended it), so its checkpoint "
                "was dropped; its model is in model.keras. Start a new run to train longer."
            )
        elif not record.get("epochs_done"):
            why = (
                "it ended before its first epoch was complete, so there is no checkpoint to "
                "continue from; start a new run."
            )
        else:
            why = "it has no checkpoint (it ended on a NaN loss, or was made by an older version)."
        raise RunError(f"run {record['id']} cannot be resumed: {why}")
    done = checkpoint["epoch"]
    target = fit.get("epochs") if epochs is None else epochs
    if isinstance(target, bool) or not isinstance(target, int):
        raise RunError(f"the number of epochs must be a whole number, not {target!r}.")
    if target <= done:
        raise RunError(
            f"run {record['id']} has done {done} epoch(s)"
            + (f" of its {target}" if epochs is None else "")
            + f": give a total of at least {done + 1} epochs to resume it."
        )
    return {
        "epoch": done,
        "epochs": target,
        "record": record,
        "project": project,
        "checkpoint": checkpoint,
    }


def begin_segment(folder: str | Path, epochs: int, first_epoch: int, **info) -> dict:
    """Record in run.json that training continues at ``first_epoch`` (1-based) towards
    ``epochs``: the stretch before is closed with its end, state and message, a new one
    opens, and the run is ``starting`` again with no process yet. ``info`` (device choice,
    ...) is merged into run.json; project.json's ``fit.epochs`` becomes ``epochs``."""
    with locks.locked(folder):
        return _begin_segment(Path(folder), epochs, first_epoch, info)


def _begin_segment(folder: Path, epochs: int, first_epoch: int, info: dict) -> dict:
    project = read_json(folder / "project.json")
    if project.get("fit", {}).get("epochs") != epochs:
        project["fit"]["epochs"] = epochs
        write_json_atomic(folder / "project.json", project)
    path = folder / "run.json"
    record = read_json(path)
    if record.get("state") not in FINAL_STATES:  # checked again under the lock
        raise RunError(f"run {record.get('id')} is still training: it cannot be resumed twice.")
    segments = list(record.get("segments") or [])
    if not segments:
        segments.append({"started": record.get("started"), "first_epoch": 1})
    segments[-1].update(
        ended=record.get("ended"),
        state=record.get("state"),
        message=record.get("message", ""),
        epochs_done=record.get("epochs_done", 0),
    )
    segments.append({"started": now_iso(), "first_epoch": first_epoch, "epochs": epochs})
    for key in ("pid", "pid_token", "server_pid", "server_token", "exit_code"):
        record.pop(key, None)
    record.update(info)
    record.update(segments=segments, state="starting", message="", ended=None)
    write_json_atomic(path, record)
    return record


def end_segment(record: dict) -> dict:
    """``record`` with its last segment (if any) closed as the run itself ended."""
    if record.get("segments"):
        record["segments"][-1].update(
            ended=record.get("ended"),
            state=record.get("state"),
            message=record.get("message", ""),
            epochs_done=record.get("epochs_done", 0),
        )
    return record


def drop_checkpoint(folder: str | Path, keep=()) -> None:
    """Delete the checkpoint files of the run in ``folder``: all of them with the record, or
    (``keep``: file names) only the files of older checkpoints."""
    folder = Path(folder)
    keep = set(keep)
    for path in list(folder.glob("checkpoint-*")) + list(folder.glob(".checkpoint-*")):
        if path.name not in keep:
            path.unlink(missing_ok=True)
    if not keep:
        (folder / CHECKPOINT).unlink(missing_ok=True)
