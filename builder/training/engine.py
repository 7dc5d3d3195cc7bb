"""Start, watch and stop training runs from the app without blocking it.

``start_run(project, runs_root, owner)`` creates the run folder, then trains in a *spawned*
process (never in the caller's thread: Keras in a thread starves a Streamlit page on two
cores). The worker streams events through a queue; ``RunHandle.poll()`` drains them without
blocking and keeps ``state``, ``history`` and the latest progress up to date. ``stop()``
sets an Event; the worker's callback then ends training after the current batch and still
evaluates and saves the model trained so far.

Events are plain dicts, typed in ``events`` (``time`` is ``time.time()``;
``fold``/``epoch``/``batch`` count from 1; ``fold``/``folds`` are ``None`` outside K-fold,
and ``fold`` is ``None`` with ``folds`` = k for the batches of parallel folds, which
advance all folds at once)::

    {"type": "status",  "state": "running", "message": "preparing data", "time": t}
                        # data loading adds "fraction": 0-1 to its status events
    {"type": "batch",   "fold": f, "folds": k, "epoch": e, "epochs": E, "batch": b,
                        "batches": B, "logs": {"loss": 0.41}, "time": t}      # <= ~5 a second
    {"type": "epoch",   "fold": f, "folds": k, "epoch": e, "epochs": E,
                        "logs": {"loss", "accuracy", "val_loss", "val_accuracy",
                                 "learning_rate", ...Keras' names},
                        "seconds": 1.8, "time": t}
    {"type": "summary", "state": "finished"|"stopped"|"failed", "message": str,
                        "run_id": id, "path": folder, "epochs": n, "history": {name: [..]},
                        "test": {"loss": .., "accuracy": ..}, "kfold": {"val_loss": ..}|None,
                        "device": "CPU", "time": t}

``resume_run(runs_root, owner, run_id)`` continues a stopped or interrupted run in its own
folder from its last checkpoint (``runs.resume_plan`` says why when it cannot): the handle
starts with the history so far, and epoch events go on from the next epoch number.

Workers never outlive the app (``lifecycle``): each is tied to this process by a
parent-death signal and a watch thread, and ``RunManager.reap`` collects ended ones.
A worker that dies without a summary (killed, crashed interpreter) is detected by ``poll``:
the handle and run.json then say "the training process ended unexpectedly (exit code N)",
and the summary ``poll`` makes up has ``"epochs": None``. If the worker did finish but its
last events were never read, the outcome is taken from run.json instead.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import threading
import time
from pathlib import Path
from typing import Any

from . import devices, faults, kfold, lifecycle, runs
from .events import BatchEvent, Event, SummaryEvent, WorkerOptions
from .worker import process_main, warm_main

ACTIVE_STATES = ("starting", "running")
# A started worker as a RunHandle takes it: process, event queue, stop event, reaper thread.
_Started = tuple[Any, Any, Any, threading.Thread]


class RunHandle:
    """The app's view of one training process. Only ``poll`` reads the queue.

    Attributes: ``run_id``, ``owner``, ``path``, ``state`` (starting/running/finished/
    stopped/failed), ``message``, ``history`` ({name: [per epoch]}, mean over folds for
    K-fold), ``fold_histories`` ({fold: history}), ``progress`` (the latest batch event or
    ``None``), ``summary`` (the final event or ``None``), ``status`` (the latest status
    message).
    """

    def __init__(
        self,
        run_id: str,
        owner: str,
        path: Path,
        process,
        queue,
        stop_event,
        reaper: threading.Thread,
        epochs: int,
        folds: int | None,
    ):
        self.run_id, self.owner, self.path = run_id, owner, Path(path)
        self.epochs, self.folds = epochs, folds
        self.state = "starting"
        self.message = ""
        self.status = "starting the training process"
        self.progress: BatchEvent | None = None
        self.summary: SummaryEvent | None = None
        self.first_epoch = 1  # where this segment of the run started (resumed: later)
        self.fold_histories: dict[int | None, dict[str, list[float]]] = {}
        self.epoch_seconds: list[float] = []
        self._process, self._queue, self._stop = process, queue, stop_event
        self._reaper = reaper  # the one waiter on the process (see _start_reaped)
        self._killed = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ reading events
    @property
    def history(self) -> dict[str, list[float]]:
        if self.folds is None:
            return self.fold_histories.get(None, {})
        folds = sorted(f for f in self.fold_histories if f is not None)  # all, in K-fold
        return kfold.mean_history([self.fold_histories[f] for f in folds])

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def poll(self) -> list[Event]:
        """Events that arrived since the last call (never blocks for long); updates state."""
        with self._lock:
            events = self._drain(0.0)
            alive = self._process.is_alive()  # also reaps the ended process
            if self.summary is None and not alive:
                # The final event may still be in the pipe right after the process exited.
                events += self._drain(0.5)
                if self.summary is None:
                    events.append(self._died())
            return events

    def _drain(self, wait: float) -> list[Event]:
        events: list[Event] = []
        while True:
            try:
                event = self._queue.get(timeout=wait) if wait else self._queue.get_nowait()
            except (queue_module.Empty, EOFError, OSError):
                return events
            self._apply(event)
            events.append(event)

    def _apply(self, event: Event) -> None:
        if event["type"] == "status":
            self.state = "running" if self.state == "starting" else self.state
            self.status = event["message"]
        elif event["type"] == "batch":
            self.state = "running"
            self.progress = event
        elif event["type"] == "epoch":
            history = self.fold_histories.setdefault(event["fold"], {})
            for name, value in event["logs"].items():
                history.setdefault(name, []).append(value)
            if event["fold"] in (None, 1):
                self.epoch_seconds.append(event["seconds"])
        elif event["type"] == "summary":
            self.summary = event
            self.state, self.message = event["state"], event["message"]
            self.status = self.message or self.state

    def _died(self) -> SummaryEvent:
        """The process ended without a summary: take the outcome from run.json if the
        worker wrote it (its last events were never read), else report the death."""
        code = self._process.exitcode
        try:
            record = runs.read_json(self.path / "run.json")
        except (OSError, ValueError):
            record = {}
        if record.get("state") in runs.FINAL_STATES and not self._killed:
            state, message = record["state"], record.get("message", "")
            try:
                test = runs.read_json(self.path / "metrics.json").get("test", {})
            except (OSError, ValueError):
                test = {}
        else:
            state, test = "failed", {}
            if self._killed:
                message = (
                    "the training process was ended by force; the epochs recorded so "
                    "far are kept, the model was not saved."
                )
            else:
                message = faults.died_message(code)
            message += runs.resume_note(self.path)
            try:
                runs.update_run_info(
                    self.path, state="failed", message=message, ended=runs.now_iso(), exit_code=code
                )
            except (OSError, ValueError):
                pass  # the folder itself is gone: the handle still reports what happened
        self.state, self.message, self.status = state, message, message or state
        self.summary = {
            "type": "summary",
            "state": state,
            "message": message,
            "run_id": self.run_id,
            "path": str(self.path),
            "epochs": record.get("epochs_done"),
            "history": self.history,
            "test": test,
            "kfold": None,
            "device": record.get("device"),
            "time": time.time(),
        }
        return self.summary

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Ask the worker to end training after the current batch (keeps model + history)."""
        self._stop.set()

    def kill(self) -> None:
        """End the worker at once (when Stop does not act, e.g. during data loading)."""
        self._killed = True
        self._stop.set()
        if self._process.is_alive():
            self._process.kill()

    def wait(self, timeout: float | None = None, interval: float = 0.2) -> str:
        """Poll until the run ends or ``timeout`` seconds pass; return the state."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.poll()
            if not self.active:
                self._reaper.join(5)
                return self.state
            if deadline is not None and time.monotonic() >= deadline:
                return self.state
            time.sleep(interval)


def warm_enabled() -> bool:
    """The warm worker's switch: ``NETBUILDER_WARM_WORKER=0`` turns it off."""
    return os.environ.get("NETBUILDER_WARM_WORKER", "1").strip().lower() not in ("0", "false", "no")


class WarmWorker:
    """One training process started ahead of time: TensorFlow imported, Keras warmed up,
    the dataset prepared once told (``preload``), waiting for one job (``take``).

    It is a worker like any other (``worker.warm_main``): started from the launcher
    thread, tied to this process by the parent-death signal and the watch thread, its exit
    status collected by a reaper thread; it ends after its one job. ``device`` is fixed
    when it starts (the device is chosen through the environment before TensorFlow's
    import): a job for another device starts a fresh process instead.
    """

    def __init__(self, device: str = "auto"):
        devices.check_choice(device)
        ctx = multiprocessing.get_context("spawn")
        self.device = device
        self.queue, self.stop_event = ctx.Queue(), ctx.Event()
        self.ready, self.prepared, self._jobs = ctx.Event(), ctx.Event(), ctx.Queue()
        self._data: str | None = None
        options: WorkerOptions = {
            "device": device,
            "server_pid": os.getpid(),
            "server_token": lifecycle.start_token(os.getpid()),
        }
        self.process = ctx.Process(
            target=warm_main,
            name="netbuilder-train-warm",
            args=(self._jobs, self.queue, self.stop_event, (self.ready, self.prepared), options),
            daemon=True,
        )
        self._reaper = _start_reaped(self.process)
        self.taken = False

    @property
    def usable(self) -> bool:
        return not self.taken and self.process.is_alive()

    def preload(self, project: dict) -> None:
        """Prepare ``project``'s dataset now, so its job starts with the data in memory."""
        from .worker import data_key

        key = data_key(project)
        if key is not None and key != self._data and self.usable:
            self._data = key
            self.prepared.clear()  # set again once this dataset is in memory
            self._jobs.put(("data", project))

    def take(self, project: dict, folder: Path, options: WorkerOptions) -> _Started:
        """Hand the job over; returns (process, queue, stop event, reaper) for a
        ``RunHandle``."""
        self.taken = True
        self._jobs.put(("train", project, str(folder), options))
        return self.process, self.queue, self.stop_event, self._reaper

    def close(self) -> None:
        """End an idle warm worker (nothing to save: it has no run)."""
        if not self.taken and self.process.is_alive():
            self.taken = True
            self.process.kill()
        self._reaper.join(5)


def start_run(
    project: dict,
    runs_root: str | Path,
    owner: str,
    *,
    device: str = "auto",
    mixed_precision: bool = False,
    parallel_folds: bool = True,
    allow_download: bool = False,
    prepared=None,
    warm: WarmWorker | None = None,
) -> RunHandle:
    """Create ``runs_root/owner/<new id>/`` and train ``project`` there in a new process.

    ``project`` must be a validated project (``builder.project.validate``). ``device`` is a
    ``devices`` choice (auto/cpu/gpu/gpu:0,1). ``prepared`` (arrays x_train, y_train,
    x_test, y_test) replaces ``builder.data.prepare`` for callers that already hold data;
    it is pickled to the worker, so keep it small. Returns at once; the process needs a few
    seconds to import TensorFlow before the first batch, unless ``warm`` (a ``WarmWorker``
    for the same device, still usable) takes the job: it has imported it already.
    """
    devices.check_choice(device)
    fit = project["fit"]
    method = fit["validation"]["method"]
    folds = fit["validation"]["k"] if method == "kfold" else None
    folder = runs.create_run(
        runs_root,
        owner,
        project,
        {"device_choice": device, "seed": fit["seed"], "validation": method},
    )
    options: WorkerOptions = {
        "device": device,
        "mixed_precision": mixed_precision,
        "parallel_folds": parallel_folds,
        "allow_download": allow_download,
    }
    if warm is not None and warm.usable and warm.device == device and prepared is None:
        started = warm.take(project, folder, options)
    else:
        started = _spawn(project, folder, options, prepared)
    return RunHandle(folder.name, owner, folder, *started, fit["epochs"], folds)


def _spawn(project, folder: Path, options: WorkerOptions, prepared) -> _Started:
    """Start ``worker.process_main`` for ``folder``; return (process, queue, stop event,
    reaper), started as ``_start_reaped`` says. The worker records its pid in run.json
    itself."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    stop_event = ctx.Event()
    options = {
        **options,
        "server_pid": os.getpid(),
        "server_token": lifecycle.start_token(os.getpid()),
    }
    process = ctx.Process(
        target=process_main,
        name=f"netbuilder-train-{folder.name}",
        args=(project, str(folder), queue, stop_event, options, prepared),
        daemon=True,
    )
    return process, queue, stop_event, _start_reaped(process)


def _start_reaped(process) -> threading.Thread:
    """Start ``process`` and the one thread that waits for it; return that thread.

    The process starts from ``lifecycle.launch``'s long-lived thread (its parent-death
    signal fires when the thread that started it ends, and a Streamlit script thread ends
    after every rerun). The waiting thread collects its exit status the moment it ends,
    whether or not a page still polls it. Nothing else joins the process: a second waiter
    could find it reaped before its exit code is set, and see it alive. Wait for the
    thread instead."""
    lifecycle.launch(process.start)
    reaper = threading.Thread(target=process.join, name=f"reap-{process.name}", daemon=True)
    reaper.start()
    return reaper


def resume_run(
    runs_root: str | Path,
    owner: str,
    run_id: str,
    *,
    epochs: int | None = None,
    device: str = "auto",
    allow_download: bool = False,
    prepared=None,
) -> RunHandle:
    """Continue run ``run_id`` of ``owner`` from its last completed epoch, in a new process.

    ``epochs`` is a new total (at least one more than done; default the run's own). The
    run keeps its folder and id; run.json gets a new segment. RunError (plain words) when
    the run cannot be resumed: still training, K-fold, no checkpoint, nothing left to do.
    """
    devices.check_choice(device)
    folder = runs.run_dir(runs_root, owner, run_id)
    plan = runs.resume_plan(folder, epochs)
    runs.check_free_disk(runs_root)
    project = plan["project"]
    project["fit"]["epochs"] = plan["epochs"]
    runs.begin_segment(folder, plan["epochs"], plan["epoch"] + 1, device_choice=device)
    options: WorkerOptions = {
        "device": device,
        "mixed_precision": bool(plan["record"].get("mixed_precision")),
        "allow_download": allow_download,
        "resume": True,
    }
    handle = RunHandle(
        run_id, owner, folder, *_spawn(project, folder, options, prepared), plan["epochs"], None
    )
    checkpoint = plan["checkpoint"]
    handle.fold_histories[None] = {n: list(v) for n, v in checkpoint["history"].items()}
    handle.epoch_seconds = list(checkpoint.get("seconds") or [])
    handle.first_epoch = plan["epoch"] + 1
    handle.status = f"resuming from epoch {plan['epoch'] + 1}"
    return handle


class RunManager:
    """Live runs of every session, each visible only to its owner.

    The app keeps one manager (e.g. in ``st.cache_resource``) and passes each browser
    session's id as ``owner``: ``get``/``active``/``stop`` never return or touch another
    owner's run. ``max_active`` caps concurrent training processes (two cores here).
    """

    def __init__(self, runs_root: str | Path, max_active: int = 1):
        self.runs_root = Path(runs_root)
        self.max_active = max_active
        self._handles: dict[tuple[str, str], RunHandle] = {}
        self._lock = threading.Lock()
        self._warm: WarmWorker | None = None

    def start(self, project: dict, owner: str, **options) -> RunHandle:
        """Start a new run of ``project`` for ``owner`` (RuntimeError over the job limit);
        the warm worker takes it when there is one for its device."""

        def launch():
            warm, self._warm = self._warm, None
            handle = start_run(project, self.runs_root, owner, warm=warm, **options)
            if warm is not None and not warm.taken:
                warm.close()  # another device, or data handed in: it cannot serve
            return handle

        return self._launch(owner, launch)

    def keep_warm(self, project: dict | None = None, device: str = "auto") -> WarmWorker | None:
        """Keep one training process ready (``WarmWorker``) while nothing trains, and have
        it prepare ``project``'s dataset. Does nothing with ``NETBUILDER_WARM_WORKER=0``.
        A new one is started only while no run is active, so warming never takes CPU from
        training; the app calls this on every script run."""
        if not warm_enabled():
            return None
        with self._lock:
            if self._warm is not None and not self._warm.usable:
                self._warm.close()
                self._warm = None
            if self._warm is None:
                if any(h.active for h in self._handles.values()):
                    return None
                self._warm = WarmWorker(device)
            if project is not None:
                self._warm.preload(project)
            return self._warm

    def close_warm(self) -> None:
        """End the idle warm worker, if any."""
        with self._lock:
            if self._warm is not None:
                self._warm.close()
                self._warm = None

    def resume(self, owner: str, run_id: str, **options) -> RunHandle:
        """Resume ``owner``'s run ``run_id`` (``resume_run``), within the same job limit."""
        runs.check_run_id(run_id)
        return self._launch(owner, lambda: resume_run(self.runs_root, owner, run_id, **options))

    def _launch(self, owner: str, launch) -> RunHandle:
        runs.check_owner(owner)
        with self._lock:
            self.reap()
            for handle in self._handles.values():
                handle.poll()
            busy = [h for h in self._handles.values() if h.active]
            # Runs this manager does not watch (another app on the same folder, a command
            # line `train`) train on the same cores: they count too.
            others = [
                r
                for r in runs.live_runs(self.runs_root)
                if (r["owner"], r["id"]) not in self._handles
            ]
            if len(busy) + len(others) >= self.max_active:
                mine = [h for h in busy if h.owner == owner]
                raise RuntimeError(
                    "a training run of yours is still going: stop it first."
                    if mine
                    else f"{len(busy) + len(others)} training run(s) are already going on this "
                    f"machine (at most {self.max_active} at a time): try again when one ends."
                )
            handle = launch()
            self._handles[(owner, handle.run_id)] = handle
            return handle

    def reap(self) -> int:
        """Collect the exit status of ended workers (no zombie processes are left behind,
        even for runs no page polls any more). Returns how many workers still run, the idle
        warm worker included."""
        multiprocessing.active_children()  # joins every ended child of this process
        return sum(1 for h in list(self._handles.values()) if h._process.is_alive()) + (
            1 if self._warm is not None and self._warm.process.is_alive() else 0
        )

    def get(self, owner: str, run_id: str) -> RunHandle | None:
        self.reap()
        return self._handles.get((owner, run_id))

    def active(self, owner: str) -> list[RunHandle]:
        return [h for (o, _), h in list(self._handles.items()) if o == owner and h.active]

    def stop(self, owner: str, run_id: str) -> bool:
        handle = self.get(owner, run_id)
        if handle is None:
            return False
        handle.stop()
        return True

    def forget_finished(self) -> None:
        """Drop handles of ended runs (their folders stay on disk)."""
        with self._lock:
            for key, handle in list(self._handles.items()):
                handle.poll()
                if not handle.active:
                    del self._handles[key]
