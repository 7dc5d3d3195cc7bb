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
from builder import settings
from builder.data import registry
from builder.project import ProjectError
from ui import charts, data_choice, data_status, doctor_view, fit_form, frame, jobs, state
from ui.text import md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

HERE = Path(__file__).resolve().parent
POLL_S = 1.0
STOPPING = "train_stopping"  # (run id, time Stop was pressed)
KILL_AFTER_S = 15  # offer to end the process when Stop has not acted by then


def _page_link(path: str, label: str) -> None:
    if (HERE.parent / path).exists():
        st.page_link(path, label=label)


# --------------------------------------------------------------------------- data in use


def _data_section(project: dict) -> None:
    data = project.get("data") or {}
    spec = registry.DATASETS.get(data.get("dataset"))
    if data.get("chosen") is False:
        st.markdown("**Data:** none chosen yet")
        _page_link("pages/data.py", "Choose the data")
        return
    if spec is None:
        st.warning(f"The project names no known dataset ({md(repr(data.get('dataset')))}).")
    else:
        options = {**spec.defaults(), **(data.get("options") or {})}
        if options.get("targets"):  # several CSV columns, each trained by its own output
            options["targets"] = ", ".join(
                f"{t['column']} → {t['output']}" for t in options["targets"]
            )
        shown = (
            ", ".join(f"{k} = {v}" for k, v in options.items() if k != "path" and v != [])
            or "no options"
        )
        st.markdown(f"**Data:** {md(spec.label)} — {md(spec.task)} · {md(shown)}")
    data_status.show(data_status.availability(data.get("dataset")))
    _page_link("pages/data.py", "Change the data or its preprocessing")


# --------------------------------------------------------------------------- fit settings


def _apply_fit(project: dict, fit: dict) -> None:
    """Put ``fit`` into the project when it changed and is valid; say why when it is not."""
    if fit == settings.sections(project)[1]:
        return
    candidate = copy.deepcopy(project)
    candidate["fit"] = fit
    try:
        projectlib.validate(candidate)
    except ProjectError as err:
        fit_problems = [
            f"{field}: {message}" for field, message in err.problems if field.startswith("fit")
        ]
        if fit_problems:
            st.error("These settings are not used yet: " + md(" ".join(fit_problems)))
            return
    state.set_project(candidate)
    st.session_state[fit_form.FIT_SYNCED] = json.dumps(
        settings.sections(candidate)[1], sort_keys=True
    )


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
        st.caption(
            "Looking for GPUs (TensorFlow is asked in the background); 'Automatic' "
            "uses one if it is there."
        )
    elif report.get("gpu_note"):
        st.caption(md(report["gpu_note"]))
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
        st.error(md(failed))
    for i, (layer, message) in enumerate(fit_check.problems(result)):
        st.markdown(f"- {md(message)}")
        report = result.layer(layer) if layer else None
        for j, fix in enumerate(report.fixes if report else result.fixes_for(message)):
            st.button(md(fix.label), key=f"train_fix:{i}:{j}", on_click=_apply, args=(fix,))


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
    if data_choice.offer(project, "train_use_suggested"):
        _page_link("pages/data.py", "Choose the data")
        return  # nothing to train on until data is chosen
    avail = data_status.availability((project.get("data") or {}).get("dataset"))
    if not avail.usable:  # said above, with the data
        return
    device = _device_choice()
    if st.button("Start training", type="primary", key="train_start"):
        try:
            jobs.start(projectlib.validate(project), device, allow_download=avail.downloads)
        except (RuntimeError, ValueError) as err:
            st.error(f"Training did not start: {md(err)}")
            return
        st.rerun()


# --------------------------------------------------------------------------- resume


def _resume_section(handle) -> None:
    """Resume for this session's last run when it stopped or was interrupted with a
    checkpoint (the job followed here, else the newest run on disk)."""
    from builder.training import runs

    if handle is not None:
        run_id = handle.run_id
    else:
        records = runs.list_runs(jobs.runs_root(), jobs.owner())
        run_id = records[0]["id"] if records and records[0]["state"] != "broken" else None
    if run_id is None:
        return
    device = st.session_state.get("train_device", "auto")
    if jobs.resume_control(run_id, key="train_resume", device=device):
        st.rerun()


# --------------------------------------------------------------------------- live view


def _stop_asked(handle) -> float | None:
    """When Stop was pressed for this run (time.time()), or None."""
    asked = st.session_state.get(STOPPING)
    return asked[1] if asked and asked[0] == handle.run_id else None


def _state_line(handle) -> None:
    if handle.state == "failed":
        st.error(f"Training failed: {md(handle.message)}")
    elif handle.state == "stopped":
        st.warning(f"Stopped: {md(handle.message)}")
    elif handle.state == "finished":
        st.success("Training finished." + (f" {md(handle.message)}" if handle.message else ""))
    else:
        st.info(
            ("Stopping after this batch... " if _stop_asked(handle) is not None else "")
            + f"Run {md(handle.run_id)}: {md(handle.status)}"
        )


def _curves(handle) -> None:
    history = handle.history
    names = charts.metric_names(history)
    if not names:
        if handle.active:
            st.caption("Curves appear after the first epoch.")
        return
    if handle.folds:
        smoothing = st.toggle(
            "Smooth (leave out the first 10 epochs, moving average 0.9)", key="train_smooth"
        )
        for metric in names:
            st.plotly_chart(
                charts.kfold_figure(handle.fold_histories, metric, smoothing),
                key=f"train_kfold_{metric}",
            )
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
        asked = _stop_asked(handle)
        if asked is not None and time.time() - asked > KILL_AFTER_S:
            # Stop acts between batches; while data loads or TensorFlow starts it cannot.
            if st.button(
                "End the training process now",
                key="train_kill",
                help="Kills the worker: the epochs so far are kept, the model is not saved.",
            ):
                handle.kill()
    elif handle.summary and handle.summary.get("test"):
        test = handle.summary["test"]
        st.markdown(
            "**Test set:** "
            + " · ".join(
                f"{md(name)} {value:.4g}" for name, value in test.items() if value is not None
            )
        )
    _curves(handle)
    if handle.active:
        doctor_view.live(handle.history)
    if not handle.active and charts.metric_names(handle.history):
        _page_link("pages/results.py", "See the results of this run")
    if was_active and not handle.active:
        st.rerun(scope="app")  # show Start again, stop polling


def _stop(run_id: str) -> None:
    """Stop's callback: runs first thing in the rerun its click starts."""
    handle = jobs.manager().get(jobs.owner(), run_id)
    if handle is not None and handle.active:
        jobs.stop(handle)
        st.session_state[STOPPING] = (run_id, time.time())


def _stop_button(run_id: str) -> None:
    # Outside the polling fragment: a button the fragment redraws every second can take
    # seconds to accept a click (it is replaced under the pointer), and each second of
    # delay is more training than the person saw when they pressed Stop.
    st.button(
        "Stop",
        key="train_stop",
        on_click=_stop,
        args=(run_id,),
        help="End training after the current batch; the model and its history so far "
        "are kept (only complete epochs are recorded).",
    )


# --------------------------------------------------------------------------- page

st.title("Train")
project = state.get_project()
_data_section(project)
handle = jobs.current()
active = handle is not None and handle.active

with st.expander("Fit settings", expanded=not active):
    _apply_fit(project, fit_form.fit_form(settings.sections(project)[1]))
project = state.get_project()

if not active:
    _start_section(project)
    _resume_section(handle)
if handle is not None:
    if active:
        _stop_button(handle.run_id)
    st.fragment(run_every=POLL_S if active else None)(_live)(handle.run_id)
