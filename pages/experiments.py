"""Experiments: vary settings of the current project, run the trials on Ray, watch, open one.

The experiment section is edited into the project (``ui.state.set_project``), so it is
saved with it. Start runs the sweep in its own process (``ui.experiments``); a fragment
re-reads its ``experiment.json`` about once a second. Nothing here imports TensorFlow or Ray.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from builder import project as projectlib
from builder.experiments import spec
from builder.project import ProjectError
from ui import experiments, frame, state
from ui.text import code, md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

HERE = Path(__file__).resolve().parent
POLL_S = 1.0
SEARCHES = {"grid": "Grid: every combination", "random": "Random", "tpe": "Bayesian (TPE, Optuna)"}


def _set_section(project: dict, section: dict | None) -> bool:
    """Put ``section`` into the project if the result is valid; show why not otherwise."""
    candidate = copy.deepcopy(project)
    if section is None:
        candidate.pop("experiment", None)
    else:
        candidate["experiment"] = section
    try:
        projectlib.validate(candidate)
    except ProjectError as err:
        st.error("Not applied:\n\n" + "\n".join(f"- {md(line)}" for line in str(err).splitlines()))
        return False
    state.set_project(candidate)
    return True


def _parameters(project: dict, section: dict) -> None:
    params = section.get("parameters", [])
    if params:
        st.markdown("**Settings that vary**")
    for i, p in enumerate(params):
        what = spec.describe(p)
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"{code(p['setting'])}: {md(what)}")
        if c2.button("Remove", key=f"exp_remove_{i}"):
            rest = [q for j, q in enumerate(params) if j != i]
            if _set_section(project, {**section, "parameters": rest} if rest else None):
                st.rerun()
    choices = experiments.setting_choices(project)
    with st.form("exp_add", clear_on_submit=False):
        st.markdown("**Add a setting to vary**")
        setting = st.selectbox("Setting", list(choices), format_func=choices.get, key="exp_setting")
        kind = st.radio("Values", ["a list", "a range"], horizontal=True, key="exp_kind")
        text = st.text_input(
            "List of values (comma-separated)",
            key="exp_values",
            placeholder=experiments.suggested_values(setting) or "e.g. 16, 32",
            help="Numbers, words, true/false. Repeat takes 0-10 copies.",
        )
        c1, c2, c3 = st.columns(3)
        low = c1.number_input("Range from", value=0.0001, format="%g", key="exp_low")
        high = c2.number_input("to", value=0.01, format="%g", key="exp_high")
        log = c3.checkbox("Log scale", value=True, key="exp_log")
        whole = c3.checkbox("Whole numbers", value=False, key="exp_int")
        if st.form_submit_button("Add"):
            entry: dict[str, Any]
            if kind == "a list":
                values = experiments.parse_values(text or experiments.suggested_values(setting))
                entry = {"setting": setting, "values": values}
            else:
                entry = {
                    "setting": setting,
                    "low": int(low) if whole else low,
                    "high": int(high) if whole else high,
                    "log": log,
                    "type": "int" if whole else "float",
                }
            rest = [q for q in params if q["setting"] != setting]
            if not params:
                section = {**section, "search": "grid" if kind == "a list" else "random"}
            elif kind == "a range" and section.get("search", "grid") == "grid":
                section = {**section, "search": "random"}  # a grid cannot take a range
            if _set_section(project, {**section, "parameters": rest + [entry]}):
                st.rerun()


SEARCH_KEYS = (
    "exp_search_kind",
    "exp_trials",
    "exp_concurrency",
    "exp_metric",
    "exp_mode",
    "exp_minutes",
    "exp_asha",
)


def _search(project: dict, section: dict) -> None:
    full = spec.defaults(section)
    # The form shows the project's values again after an outside change (undo, a template).
    fingerprint = json.dumps(section, sort_keys=True)
    if st.session_state.get("exp_synced") != fingerprint:
        for key in SEARCH_KEYS:
            st.session_state.pop(key, None)
        st.session_state["exp_synced"] = fingerprint
    names = spec.metric_names(project)
    with st.form("exp_search"):
        c1, c2, c3 = st.columns(3)
        search = c1.selectbox(
            "Search",
            list(SEARCHES),
            format_func=SEARCHES.get,
            index=list(SEARCHES).index(full["search"]),
            key="exp_search_kind",
        )
        trials = c2.number_input(
            "Trials",
            1,
            spec.MAX_TRIALS,
            value=int(full["trials"]),
            key="exp_trials",
            help="A grid runs at most this many of its combinations.",
        )
        concurrency = c3.number_input(
            "At the same time", 1, 64, value=int(full["concurrency"]), key="exp_concurrency"
        )
        metric = c1.selectbox(
            "Compare trials on",
            names,
            index=names.index(full["metric"]) if full["metric"] in names else 0,
            key="exp_metric",
        )
        mode = c2.radio(
            "Best is",
            ["min", "max"],
            horizontal=True,
            index=["min", "max"].index(full["mode"]),
            key="exp_mode",
        )
        minutes = c3.number_input(
            "Time budget (minutes, 0: none)",
            0.0,
            10.0**6,
            value=float(full["max_minutes"] or 0),
            key="exp_minutes",
        )
        asha = st.checkbox(
            "Stop weak trials early (ASHA: successive halving)",
            value=bool(full["early_stopping"]),
            key="exp_asha",
            help="Every trial gets a tenth of the epochs first; then, at each rung "
            "(that many epochs, twice as many, four times ...), a trial goes on only if its "
            "best value so far is in the better half of the trials there. A stopped trial "
            "ends after its current epoch and keeps its model.",
        )
        if st.form_submit_button("Apply"):
            new = {
                **section,
                "search": search,
                "trials": int(trials),
                "concurrency": int(concurrency),
                "metric": metric,
                "mode": mode,
                "max_minutes": float(minutes) or None,
                "early_stopping": (
                    full["early_stopping"] or {"method": "asha"}  # rungs: spec.asha_settings
                )
                if asha
                else None,
            }
            if _set_section(project, new):
                st.rerun()


def _start(project: dict) -> None:
    try:
        valid = projectlib.validate(project)
    except ProjectError as err:
        st.error(f"The project cannot run yet:\n\n{md(err)}")
        return
    section = spec.defaults(valid["experiment"])
    address = st.text_input(
        "Ray cluster address (empty: a Ray started on this machine)",
        value=os.environ.get("RAY_ADDRESS", ""),
        key="exp_address",
        help="host:port of a running Ray head ('ray start --head' prints "
        "it). Its nodes need this app's Python packages.",
    )
    st.caption(
        f"{md(section['trials'])} trial(s) of {md(valid['fit']['epochs'])} epoch(s), "
        f"{md(section['concurrency'])} at a time, compared on {md(section['metric'])} "
        f"({md(section['mode'])})."
    )
    if st.button("Start experiment", type="primary", key="exp_start"):
        valid["experiment"] = section
        experiments.start(valid, address.strip() or None)
        st.rerun()


def _state_line(record: dict) -> None:
    done = sum(1 for t in record["trials"] if t["state"] in ("finished", "stopped", "failed"))
    where = (
        f"Ray cluster {record['address']}"
        if record.get("executor") == "ray"
        else "trials packed side by side"
        if record.get("packing") == "packed"
        else "local Ray"
    )
    text = f"Experiment {record['id']} ({where}): {done} trial(s) ended"
    if record["state"] in experiments.ACTIVE:
        st.info(
            md(text)
            + (
                ", stopping..."
                if st.session_state.get("exp_stopping") == record["id"]
                else ", running..."
            )
        )
    elif record["state"] == "failed":
        st.error(f"{md(text)}. The experiment failed: {md(record['message'])}")
    elif record["state"] == "stopped":
        st.warning(f"{md(text)}. Stopped: {md(record['message'])}")
    else:
        st.success(f"{md(text)}. Finished.")


def _open_trial(record: dict) -> None:
    from builder.training import runs

    with_run = [t for t in record["trials"] if t.get("run")]
    if not with_run:
        return
    best = (record.get("best") or {}).get("id")
    ids = [t["id"] for t in with_run]
    c1, c2 = st.columns([3, 1])
    choice = c1.selectbox(
        "Open a trial as a new project (this one stays, with its experiment)",
        ids,
        index=ids.index(best) if best in ids else 0,
        format_func=lambda i: f"{i} (best)" if i == best else i,
        key="exp_open_choice",
    )
    if c2.button("Open", key="exp_open", help="The trial's model and settings, as a new project"):
        trial = with_run[ids.index(choice)]
        try:
            opened = projectlib.validate(runs.read_json(Path(trial["run"]) / "project.json"))
        except (OSError, ValueError, ProjectError) as err:
            st.error(f"This trial's project cannot be opened: {md(err)}")
            return
        name = f"{opened.get('name') or 'Untitled'} (trial {choice})"
        state.new_project({**opened, "name": name}, f"Trial {choice}")
        st.rerun(scope="app")


def _live(exp_id: str) -> None:
    folder = experiments.folder_of(exp_id)
    if folder is None:
        st.caption("This experiment is gone.")
        return
    from builder.experiments import runner

    record = runner.read(folder)
    active = record["state"] in experiments.ACTIVE
    _state_line(record)
    if active and st.button(
        "Stop",
        key="exp_stop",
        help="Running trials end after their batch and keep their model; no new trial starts.",
    ):
        experiments.stop(record)
        st.session_state["exp_stopping"] = record["id"]
    rows = experiments.trial_rows(record)
    if rows:
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            column_config={
                "curve": st.column_config.LineChartColumn(f"{record['metric']} per epoch")
            },
        )
        c1, c2 = st.columns(2)
        c1.plotly_chart(experiments.curves_figure(record), key="exp_curves")
        parallel = experiments.parallel_figure(record)
        if parallel is not None:
            c2.plotly_chart(parallel, key="exp_parallel")
        if record.get("best"):
            b = record["best"]
            st.markdown(
                f"**Best:** trial {md(b['id'])}, {md(record['metric'])} {b['metric']:.4g} — "
                + ", ".join(f"{code(k)} = {md(v)}" for k, v in b["params"].items())
            )
    else:
        st.caption(
            "Trials appear once Ray has started them (Ray and TensorFlow take a few "
            "seconds to start)."
        )
    if not active:
        _open_trial(record)
        if (HERE / "compare.py").exists():
            st.page_link("pages/compare.py", label="Compare the trials' runs")
    if st.session_state.get("exp_was_active") == exp_id and not active:
        st.session_state.pop("exp_was_active")
        st.rerun(scope="app")
    if active:
        st.session_state["exp_was_active"] = exp_id


st.title("Experiments")
st.caption(
    "Vary settings of this project — a layer's units or activation, the depth of the "
    "network, the learning rate, the loss — and train the trials side by side on Ray."
)
project = state.get_project()
record = experiments.current()
running = record is not None and record["state"] in experiments.ACTIVE
section = copy.deepcopy(project.get("experiment") or {})

with st.expander("What varies and how trials are searched", expanded=not running):
    _parameters(project, section)
    if section.get("parameters"):
        _search(project, section)
if not running and project.get("experiment"):
    _start(project)
elif not project.get("experiment"):
    st.info(
        "Add a setting to vary to start an experiment (or open the template "
        "'Digits: units and learning rate')."
    )
if record is not None:
    st.fragment(run_every=POLL_S if running else None)(_live)(record["id"])
others = [r for r in experiments.past() if record is None or r["id"] != record["id"]]
if others:
    with st.expander("Earlier experiments"):
        labels = {r["id"]: f"{r['id']} · {r.get('name') or ''} · {r['state']}" for r in others}
        choice = st.selectbox("Show", list(labels), format_func=labels.get, key="exp_past")
        if st.button("Show this experiment", key="exp_show"):
            experiments.remember(choice)
            st.rerun()
