"""Train: the data in use, fit settings, device, Start/Stop, live progress and curves.

The fit settings are edited into the project (``ui.state.set_project``). Training runs in a
worker process owned by ``ui.jobs``; a fragment polls it about once a second and redraws
only itself. Nothing here imports TensorFlow before the settings are on screen: the model
check (which loads Keras) and the device probe come last, and are skipped while a job runs.
"""
from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import streamlit as st

from builder import project as projectlib
from builder.data import registry
from builder.project import ProjectError
from ui import charts, data_status, jobs, state

HERE = Path(__file__).resolve().parent
POLL_S = 1.0
FIT_SYNCED = "train_fit_synced"     # the fit settings the widgets were last filled from
STOPPING = "train_stopping"         # (run id, time Stop was pressed)
KILL_AFTER_S = 15                   # offer to end the process when Stop has not acted by then
METHODS = {"none": "None (train on everything)", "holdout": "Hold out the first samples",
           "split": "Keras validation_split (last samples)", "kfold": "K-fold"}
MONITORS = ("val_loss", "loss", "val_accuracy", "val_mae")


def _page_link(path: str, label: str) -> None:
    if (HERE.parent / path).exists():
        st.page_link(path, label=label)


# --------------------------------------------------------------------------- data in use

def _data_section(project: dict) -> None:
    data = project.get("data") or {}
    spec = registry.DATASETS.get(data.get("dataset"))
    if spec is None:
        st.warning(f"The project names no known dataset ({data.get('dataset')!r}).")
    else:
        options = {**spec.defaults(), **(data.get("options") or {})}
        shown = ", ".join(f"{k} = {v}" for k, v in options.items() if k != "path") or \
            "no options"
        st.markdown(f"**Data:** {spec.label} — {spec.task} · {shown}")
    data_status.show(data_status.availability(data.get("dataset")))
    _page_link("pages/data.py", "Change the data or its preprocessing")


# --------------------------------------------------------------------------- fit settings

def _callback(fit: dict, name: str) -> dict | None:
    return next((cb for cb in fit.get("callbacks", []) if cb.get("class_name") == name), None)


def _widget_values(fit: dict) -> dict:
    """Initial widget values (keyed by widget key) for ``fit``."""
    val = fit.get("validation") or {"method": "none"}
    es = (_callback(fit, "EarlyStopping") or {}).get("config") or {}
    rlr = (_callback(fit, "ReduceLROnPlateau") or {}).get("config") or {}
    return {
        "train_epochs": int(fit.get("epochs", 20)),
        "train_batch": int(fit.get("batch_size", 32)),
        "train_method": val.get("method", "none"),
        "train_seed": int(fit.get("seed", 0)),
        "train_shuffle": bool(fit.get("shuffle", True)),
        "train_es": _callback(fit, "EarlyStopping") is not None,
        "train_es_monitor": es.get("monitor", "val_loss"),
        "train_es_patience": int(es.get("patience", 3)),
        "train_es_restore": bool(es.get("restore_best_weights", True)),
        "train_rlr": _callback(fit, "ReduceLROnPlateau") is not None,
        "train_rlr_monitor": rlr.get("monitor", "val_loss"),
        "train_rlr_factor": float(rlr.get("factor", 0.1)),
        "train_rlr_patience": int(rlr.get("patience", 10)),
        "train_tb": _callback(fit, "TensorBoard") is not None,
    }


def _validation_values(fit: dict) -> dict:
    """Values for the widgets of one validation method (shown only with that method)."""
    val = fit.get("validation") or {}
    return {"train_by": "count" if val.get("count") is not None else "fraction",
            "train_count": int(val.get("count") or 1000),
            "train_fraction": float(val.get("fraction") or 0.2),
            "train_k": int(val.get("k") or 4)}


def _sync_widgets(fit: dict) -> None:
    """Fill widget state from the project: all of it after an outside change (undo, a new
    project, Results' retrain), only missing keys otherwise (widgets hidden last run).

    The widgets of one validation method get their value from the project when they are
    drawn (``value=``), never through session state: a widget that appears when the
    method changes then starts from the project's or the default value, not its minimum
    (k = 2, fraction 0.01). After an outside change their state is dropped, so they
    start again from the project."""
    values = _widget_values(fit)
    fingerprint = json.dumps(fit, sort_keys=True)
    changed = st.session_state.get(FIT_SYNCED) != fingerprint
    for key, value in values.items():
        if changed or key not in st.session_state:
            st.session_state[key] = value
    if changed:
        for key in _validation_values(fit):
            st.session_state.pop(key, None)
    st.session_state[FIT_SYNCED] = fingerprint


def _monitor_box(label: str, key: str) -> str:
    current = st.session_state.get(key)
    choices = list(MONITORS) + ([current] if current and current not in MONITORS else [])
    return st.selectbox(label, choices, key=key)


def _fit_form(fit: dict) -> dict:
    """Draw the fit settings; return the fit section they describe."""
    _sync_widgets(fit)
    ss = st.session_state
    c1, c2, c3 = st.columns(3)
    c1.number_input("Epochs", 1, 100000, step=1, key="train_epochs",
                    help="Passes over the training data (the book starts with 20).")
    c2.number_input("Batch size", 1, 1 << 20, step=1, key="train_batch",
                    help="Samples per gradient update (the book uses 512 for IMDB).")
    c3.number_input("Seed", 0, 2**31 - 1, step=1, key="train_seed",
                    help="Same seed, same initial weights and shuffling: runs can be compared.")
    c1, c2 = st.columns([2, 1])
    method = c1.selectbox("Validation", list(METHODS), format_func=METHODS.get,
                          key="train_method")
    validation: dict = {"method": method}
    start = _validation_values(fit)
    if method == "holdout":
        by = c2.radio("Hold out", ["count", "fraction"], horizontal=True, key="train_by",
                      index=["count", "fraction"].index(start["train_by"]))
        if by == "count":
            c2.number_input("Samples held out", 1, 10**9, start["train_count"], step=100,
                            key="train_count",
                            help="The book holds out the first 10,000 IMDB reviews.")
            validation["count"] = int(ss["train_count"])
        else:
            c2.number_input("Fraction held out", 0.01, 0.99, start["train_fraction"],
                            step=0.05, key="train_fraction")
            validation["fraction"] = float(ss["train_fraction"])
    elif method == "split":
        c2.number_input("Fraction held out", 0.01, 0.99, start["train_fraction"], step=0.05,
                        key="train_fraction",
                        help="Keras takes the last samples, before shuffling.")
        validation["fraction"] = float(ss["train_fraction"])
    elif method == "kfold":
        c2.number_input("k (folds)", 2, 20, start["train_k"], step=1, key="train_k",
                        help="The book uses 4 folds for its 404 Boston houses.")
        validation["k"] = int(ss["train_k"])
    st.checkbox("Shuffle the training data each epoch", key="train_shuffle")

    callbacks = []
    c1, c2, c3 = st.columns(3)
    if c1.checkbox("Early stopping", key="train_es",
                   help="Stop when the monitored value stops improving."):
        config = dict((_callback(fit, "EarlyStopping") or {}).get("config") or {})
        with c1:
            config["monitor"] = _monitor_box("Watch", "train_es_monitor")
        config["patience"] = int(c1.number_input("Patience (epochs)", 0, 1000,
                                                 key="train_es_patience"))
        config["restore_best_weights"] = c1.checkbox("Keep the best weights",
                                                     key="train_es_restore")
        callbacks.append({"class_name": "EarlyStopping", "config": config})
    if c2.checkbox("Reduce learning rate on plateau", key="train_rlr"):
        config = dict((_callback(fit, "ReduceLROnPlateau") or {}).get("config") or {})
        with c2:
            config["monitor"] = _monitor_box("Watch", "train_rlr_monitor")
        config["factor"] = float(c2.number_input("Factor", 0.01, 0.99, step=0.05,
                                                 key="train_rlr_factor"))
        config["patience"] = int(c2.number_input("Patience (epochs)", 0, 1000,
                                                 key="train_rlr_patience"))
        callbacks.append({"class_name": "ReduceLROnPlateau", "config": config})
    if c3.checkbox("TensorBoard logs", key="train_tb",
                   help="Written into the run's folder (tensorboard/)."):
        callbacks.append(_callback(fit, "TensorBoard") or {"class_name": "TensorBoard",
                                                            "config": {}})
    for cb in fit.get("callbacks", []):   # kept as they are: no widget of their own
        if cb.get("class_name") in ("TerminateOnNaN", "BackupAndRestore"):
            callbacks.append(cb)
    return {**fit, "epochs": int(ss["train_epochs"]), "batch_size": int(ss["train_batch"]),
            "seed": int(ss["train_seed"]), "shuffle": bool(ss["train_shuffle"]),
            "validation": validation, "callbacks": callbacks}


def _apply_fit(project: dict, fit: dict) -> None:
    """Put ``fit`` into the project when it changed and is valid; say why when it is not."""
    if fit == project.get("fit"):
        return
    candidate = copy.deepcopy(project)
    candidate["fit"] = fit
    try:
        projectlib.validate(candidate)
    except ProjectError as err:
        fit_problems = [f"{field}: {message}" for field, message in err.problems
                        if field.startswith("fit")]
        if fit_problems:
            st.error("These settings are not used yet: " + " ".join(fit_problems))
            return
    state.set_project(candidate)
    st.session_state[FIT_SYNCED] = json.dumps(fit, sort_keys=True)


# --------------------------------------------------------------------------- start

def _device_choice() -> str:
    report = jobs.device_report()
    gpus = [d for d in (report or {}).get("devices", []) if d["kind"] == "GPU"]
    options = {"auto": "Automatic (GPU if there is one)", "cpu": "CPU"}
    if len(gpus) > 1:
        options["gpu"] = f"All {len(gpus)} GPUs"
    for gpu in gpus:
        options[gpu["id"]] = f"GPU {gpu['id'].split(':')[1]}: {gpu['name']}"
    if st.session_state.get("train_device") not in options:
        st.session_state.pop("train_device", None)
    choice = st.selectbox("Device", list(options), format_func=options.get, key="train_device")
    if report is None:
        st.caption("Looking for GPUs (TensorFlow is asked in the background); 'Automatic' "
                   "uses one if it is there.")
    elif report.get("gpu_note"):
        st.caption(report["gpu_note"])
    return choice


def _apply(fix) -> None:
    from builder import fixes

    try:
        state.set_project(fixes.apply_fix(state.get_project(), fix))
    except ProjectError as err:
        st.session_state["train_fix_error"] = f"That fix no longer applies: {err}"


def _fix_buttons(result) -> None:
    """Each problem with its one-click fixes, as on Build."""
    from builder import fit_check

    failed = st.session_state.pop("train_fix_error", None)
    if failed:
        st.error(failed)
    for i, (layer, message) in enumerate(fit_check.problems(result)):
        st.markdown(f"- {message}")
        report = result.layer(layer) if layer else None
        for j, fix in enumerate(report.fixes if report else []):
            st.button(fix.label, key=f"train_fix:{i}:{j}", on_click=_apply, args=(fix,))


def _start_section(project: dict) -> None:
    from builder import fit_check

    with st.spinner("Checking the model..."):
        result = fit_check.check(project)
    state.show_status(result)
    if not result.valid:
        st.error("The model cannot be trained yet:")
        _fix_buttons(result)
        _page_link("pages/build.py", "Fix the model on Build")
        return
    avail = data_status.availability((project.get("data") or {}).get("dataset"))
    if not avail.usable:        # said above, with the data
        return
    device = _device_choice()
    if st.button("Start training", type="primary", key="train_start"):
        try:
            jobs.start(projectlib.validate(project), device, allow_download=avail.downloads)
        except (RuntimeError, ValueError) as err:
            st.error(f"Training did not start: {err}")
            return
        st.rerun()


# --------------------------------------------------------------------------- live view

def _stop_asked(handle) -> float | None:
    """When Stop was pressed for this run (time.time()), or None."""
    asked = st.session_state.get(STOPPING)
    return asked[1] if asked and asked[0] == handle.run_id else None


def _state_line(handle) -> None:
    if handle.state == "failed":
        st.error(f"Training failed: {handle.message}")
    elif handle.state == "stopped":
        st.warning(f"Stopped: {handle.message}")
    elif handle.state == "finished":
        st.success("Training finished." + (f" {handle.message}" if handle.message else ""))
    else:
        st.info(("Stopping after this batch... " if _stop_asked(handle) is not None else "") +
                f"Run {handle.run_id}: {handle.status}")


def _curves(handle) -> None:
    history = handle.history
    names = charts.metric_names(history)
    if not names:
        if handle.active:
            st.caption("Curves appear after the first epoch.")
        return
    if handle.folds:
        smoothing = st.toggle("Smooth (leave out the first 10 epochs, moving average 0.9)",
                              key="train_smooth")
        for metric in names:
            st.plotly_chart(charts.kfold_figure(handle.fold_histories, metric, smoothing),
                            key=f"train_kfold_{metric}")
    columns = st.columns(min(2, len(names)))
    for i, metric in enumerate(names):
        with columns[i % len(columns)]:
            st.plotly_chart(charts.curve_figure(history, metric), key=f"train_curve_{metric}")


def _live(run_id: str) -> None:
    handle = jobs.manager().get(jobs.owner(), run_id)
    if handle is None:
        st.caption("This run is no longer followed here; see it on Results.")
        return
    was_active = handle.active
    handle.poll()
    _state_line(handle)
    if handle.active:
        info = jobs.handle_summary(handle)
        st.progress(info["epoch"], text=f"{info['epoch_text']} · {info['eta_text']}")
        st.progress(info["batch"], text=info["batch_text"])
        if st.button("Stop", key="train_stop", help="End training after the current batch; "
                     "the model and its history so far are kept."):
            jobs.stop(handle)
            st.session_state[STOPPING] = (handle.run_id, time.time())
        asked = _stop_asked(handle)
        if asked is not None and time.time() - asked > KILL_AFTER_S:
            # Stop acts between batches; while data loads or TensorFlow starts it cannot.
            if st.button("End the training process now", key="train_kill",
                         help="Kills the worker: the epochs so far are kept, the model is "
                              "not saved."):
                handle.kill()
    elif handle.summary and handle.summary.get("test"):
        test = handle.summary["test"]
        st.markdown("**Test set:** " + " · ".join(
            f"{name} {value:.4g}" for name, value in test.items() if value is not None))
    _curves(handle)
    if not handle.active and charts.metric_names(handle.history):
        _page_link("pages/results.py", "See the results of this run")
    if was_active and not handle.active:
        st.rerun(scope="app")   # show Start again, stop polling


# --------------------------------------------------------------------------- page

st.title("Train")
project = state.get_project()
_data_section(project)
handle = jobs.current()
active = handle is not None and handle.active

with st.expander("Fit settings", expanded=not active):
    _apply_fit(project, _fit_form(project.get("fit") or {}))
project = state.get_project()

if not active:
    _start_section(project)
if handle is not None:
    st.fragment(run_every=POLL_S if active else None)(_live)(handle.run_id)
