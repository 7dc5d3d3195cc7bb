"""Training jobs of this app process, each visible only to the browser session that started it.

One ``RunManager`` per runs folder lives in ``st.cache_resource`` (shared by every session
of this server process); every call passes ``ui.state.owner_id()`` as the owner, so a
session can only see, poll or stop its own runs, even with another session's job id in its
URL. ``MAX_ACTIVE`` caps concurrent training processes on the machine.

The job id is kept in ``st.session_state`` and in the URL (``?job=...``): a browser refresh
starts a new Streamlit session with the same ``?p=`` owner id, which finds the job again.

``progress_summary`` is pure (no streamlit): fractions and ETA text for the progress bars.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import streamlit as st

from builder import housekeeping, paths
from builder.training import RunHandle, RunManager, devices, runs
from builder.training.events import BatchEvent
from ui import state
from ui.text import md

JOB_KEY = "train_job"
JOB_PARAM = "job"
# Two cores here: one training process at a time keeps the page responsive. A bigger
# machine can allow more with NETBUILDER_MAX_JOBS.
MAX_ACTIVE = max(1, int(os.environ.get("NETBUILDER_MAX_JOBS", "1") or 1))


@st.cache_resource(show_spinner=False)
def _startup(home: str) -> dict:
    # Once per server process (and $NETBUILDER_HOME): runs a dead server left "running"
    # become "interrupted", its orphaned workers are stopped, and old files are pruned.
    reconciled = runs.reconcile(paths.runs_root())
    try:
        pruned = housekeeping.prune()
    except OSError as err:  # a read-only or vanished folder must not stop the app
        pruned = {"error": [str(err)]}
    return {"reconciled": reconciled, "pruned": pruned}


def startup() -> dict:
    """Start-up reconciliation and pruning (``builder.housekeeping``), done once."""
    return _startup(str(paths.home()))


@st.cache_resource(show_spinner=False)
def _manager(runs_root: str) -> RunManager:
    startup()  # before the first start: orphans of a dead server are stopped first
    return RunManager(runs_root, max_active=MAX_ACTIVE)


def manager() -> RunManager:
    """This process's manager for the current runs folder (``$NETBUILDER_HOME/runs``)."""
    return _manager(str(paths.runs_root()))


@st.cache_resource(show_spinner=False)
def _device_probe() -> Future:
    # The probe imports TensorFlow in a child Python (seconds): started once per server
    # process in a thread, so no page waits for it.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="netbuilder-devices").submit(
        devices.list_devices
    )


def device_report() -> dict | None:
    """``devices.list_devices()`` once it is known, ``None`` while the probe still runs."""
    probe = _device_probe()
    return probe.result() if probe.done() else None


def keep_warm(project: dict | None) -> None:
    """Keep a training process ready with TensorFlow imported and ``project``'s dataset
    prepared, so Start trains at once (``RunManager.keep_warm``; off with
    ``NETBUILDER_WARM_WORKER=0``). Called by app.py after the first paint."""
    try:
        manager().keep_warm(project)
    except (OSError, ValueError, RuntimeError):
        pass  # no warm worker: Start spawns a process as before


def owner() -> str:
    return state.owner_id()


def start(project: dict, device: str = "auto", allow_download: bool = False) -> RunHandle:
    """Start training ``project`` for this session and remember the job (also in the URL).

    ``allow_download`` lets the worker fetch a Keras dataset that is not cached yet (the
    Train page passes it when the file's server answers, and has said so).

    Raises RuntimeError when this session or the machine already runs the maximum number
    of jobs, ``runs.RunError`` / ``devices.DeviceError`` for a bad owner or device.
    """
    mgr = manager()
    mgr.forget_finished()
    state.ensure_saved()  # listed in Projects under its name, also if never edited
    handle = mgr.start(project, owner(), device=device, allow_download=allow_download)
    remember(handle.run_id)
    return handle


def resume(
    run_id: str, epochs: int | None = None, device: str = "auto", allow_download: bool = False
) -> RunHandle:
    """Resume this session's run ``run_id`` from its last checkpoint (same folder and id),
    up to ``epochs`` in all (default the run's own), and follow it as the session's job.

    Raises RuntimeError over the job limit, ``runs.RunError`` (plain words) when the run
    cannot be resumed, ``devices.DeviceError`` for a bad device."""
    mgr = manager()
    mgr.forget_finished()
    handle = mgr.resume(
        owner(), run_id, epochs=epochs, device=device, allow_download=allow_download
    )
    remember(handle.run_id)
    return handle


def resume_plan(run_id: str) -> tuple[dict | None, str]:
    """(``runs.resume_plan`` of this session's run, "") when it can be resumed, else
    (None, why not)."""
    try:
        folder = runs.run_dir(runs_root(), owner(), run_id)
        try:
            return runs.resume_plan(folder), ""
        except runs.RunError:
            # Stopped on its very last batch: all its epochs are done, but more may be
            # asked for (the field below starts at one more).
            checkpoint = runs.read_checkpoint(folder)
            if checkpoint is None:
                raise
            return runs.resume_plan(folder, checkpoint["epoch"] + 1), ""
    except runs.RunError as err:
        return None, str(err)


def resume_control(run_id: str, key: str, device: str = "auto") -> bool:
    """The Resume button for this session's run ``run_id`` with a field for the total
    epochs, when the run can be resumed (a stopped or interrupted run with a checkpoint);
    a caption with the reason for a stopped or interrupted run that cannot. Returns True
    when the run was resumed (the caller then shows Train)."""
    plan, why = resume_plan(run_id)
    if plan is None:
        try:
            state_now = runs.read_json(runs.run_dir(runs_root(), owner(), run_id) / "run.json")
        except (OSError, ValueError, runs.RunError):
            return False
        if state_now.get("state") in ("stopped", "interrupted"):
            st.caption(f"Resume is not available: {md(why)}")
        return False
    done, target = plan["epoch"], plan["epochs"]
    own = plan["project"]["fit"]["epochs"]
    record = plan["record"]
    words = {"stopped": "stopped", "interrupted": "was interrupted", "failed": "failed"}
    st.markdown(
        f"**Run {md(run_id)}** {md(words.get(record['state'], record['state']))} after epoch "
        f"{md(done)} of {md(own)}: resume it from epoch {md(done + 1)} with its own model, "
        "optimizer state and data split (the project as it is now is not used)."
    )
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    total = left.number_input(
        "Train up to epoch",
        min_value=done + 1,
        max_value=max(target, done + 1) * 10 + 1000,
        value=max(target, done + 1),
        step=1,
        key=f"{key}_epochs",
    )
    if right.button(f"Resume run {md(run_id)}", key=key, type="primary"):
        from ui import data_status

        dataset = (plan["project"].get("data") or {}).get("dataset")
        downloads = bool(dataset) and data_status.availability(dataset).downloads
        try:
            resume(run_id, int(total), device=device, allow_download=downloads)
        except (RuntimeError, ValueError) as err:
            st.error(f"Training did not resume: {md(err)}")
            return False
        return True
    return False


def remember(run_id: str) -> None:
    """Keep the job id in the session and in the URL, with the owner id a refresh needs."""
    st.session_state[JOB_KEY] = run_id
    if st.query_params.get(JOB_PARAM) != run_id:
        st.query_params[JOB_PARAM] = run_id


def forget() -> None:
    st.session_state.pop(JOB_KEY, None)
    if JOB_PARAM in st.query_params:
        del st.query_params[JOB_PARAM]


def current() -> RunHandle | None:
    """This session's job: the one remembered (session or URL), else its active one.

    A job id from the URL is only honoured when this session owns it; otherwise it is
    dropped from the URL.
    """
    mgr = manager()
    me = owner()
    run_id = st.session_state.get(JOB_KEY) or st.query_params.get(JOB_PARAM)
    handle = None
    if run_id:
        try:
            runs.check_run_id(run_id)
            handle = mgr.get(me, run_id)
        except runs.RunError:
            handle = None
    if handle is None:
        active = mgr.active(me)
        handle = active[-1] if active else None
    if handle is None:
        if run_id:
            forget()
        return None
    remember(handle.run_id)
    return handle


def delete_control(run_ids: list[str], key: str) -> None:
    """A Delete button for this session's runs ``run_ids``, with a confirmation step.

    Deleting removes the run folders (model, history, scores); a run still training is
    refused with a message. Reruns the page after deleting.
    """
    if not run_ids:
        return
    what = f"run {run_ids[0]}" if len(run_ids) == 1 else f"these {len(run_ids)} runs"
    pending = f"{key}_confirm"
    if st.session_state.get(pending) != run_ids:
        if st.button(f"Delete {md(what)}…", key=key):
            st.session_state[pending] = list(run_ids)
            st.rerun()
        return
    st.warning(f"Delete {md(what)} with its model, history and scores? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete", key=f"{key}_yes", type="primary"):
        st.session_state.pop(pending, None)
        failed = []
        for run_id in run_ids:
            try:
                runs.delete_run(runs_root(), owner(), run_id)
            except (runs.RunError, OSError) as err:
                failed.append(str(err))
        if failed:
            st.session_state["_notice"] = " ".join(failed)
        else:
            st.session_state["_notice"] = f"Deleted {what}."
        st.rerun()
    if no.button("Cancel", key=f"{key}_no"):
        st.session_state.pop(pending, None)
        st.rerun()


def stop(handle: RunHandle) -> bool:
    """Ask this session's job to stop after the current batch; False if it is not ours."""
    return manager().stop(owner(), handle.run_id)


# --------------------------------------------------------------------------- progress


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_summary(
    progress: BatchEvent | None,
    epoch_seconds: list[float],
    epochs: int,
    epochs_done: int,
    folds: int | None = None,
    now: float | None = None,
) -> dict:
    """Fractions and words for the epoch and batch progress bars.

    ``progress`` is the latest batch event (or None before the first batch),
    ``epoch_seconds`` the durations of the finished epochs (of fold 1 for K-fold),
    ``epochs_done`` how many epochs have ended. The ETA assumes the remaining epochs last
    as long as the finished ones on average (sequential K-fold: for every fold left).

    Returns ``{"epoch": 0-1, "epoch_text", "batch": 0-1, "batch_text", "eta": seconds or
    None, "eta_text"}``.
    """
    epochs = max(1, int(epochs or 1))
    # .get: the tests pass batch events with only the keys a case needs.
    fold = progress.get("fold") if progress else None
    epoch = (progress.get("epoch") if progress else None) or min(epochs_done + 1, epochs)
    batch = progress.get("batch") if progress else None
    batches = progress.get("batches") if progress else None
    batch_fraction = min(1.0, batch / batches) if batch and batches else 0.0
    done_in_run = min(epochs_done, epochs)
    fold_text = f"fold {fold}/{folds} · " if fold and folds else ""
    epoch_text = f"{fold_text}epoch {epoch}/{epochs}"
    if fold and folds:
        total_epochs = epochs * folds
        position = (fold - 1) * epochs + (epoch - 1) + batch_fraction
    else:
        total_epochs = epochs
        position = (epoch - 1) + batch_fraction if progress else done_in_run
    eta = None
    if epoch_seconds:
        per_epoch = sum(epoch_seconds) / len(epoch_seconds)
        eta = max(0.0, (total_epochs - position) * per_epoch)
    batch_text = f"batch {batch}/{batches}" if batch and batches else "waiting for the first batch"
    loss = (progress.get("logs") or {}).get("loss") if progress else None
    if loss is not None:
        batch_text += f" · loss {loss:.4f}"
    return {
        "epoch": min(1.0, position / total_epochs),
        "epoch_text": epoch_text,
        "batch": batch_fraction,
        "batch_text": batch_text,
        "eta": eta,
        "eta_text": f"about {_clock(eta)} left"
        if eta is not None
        else "time left known after the first epoch",
    }


def handle_summary(handle: RunHandle) -> dict:
    """``progress_summary`` for a live handle."""
    first = handle.fold_histories.get(None if handle.folds is None else 1, {})
    done = max((len(v) for v in first.values()), default=0)
    return progress_summary(
        handle.progress, handle.epoch_seconds, handle.epochs, done, handle.folds
    )


def runs_root() -> Path:
    """The runs folder, reconciled and pruned first (``startup``, once per server)."""
    startup()
    return paths.runs_root()
