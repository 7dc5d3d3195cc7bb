"""Compare: several runs side by side — curves overlaid, settings and scores. The open
project's runs are offered first; runs of any other project can be added.

Reads run folders only (no TensorFlow): history.csv for the curves, project.json for the
settings, metrics.json for the final scores. The table downloads as CSV.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from builder import recent
from builder.training import runs
from ui import charts, doctor_view, frame, jobs, state
from ui.text import md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

HERE = Path(__file__).resolve().parent


def _label(record: dict) -> str:
    return f"{record['id']} · {record.get('name') or 'unnamed'}"


def _file_stem(name: str) -> str:
    """The project's name as the start of a file name (no folder separators)."""
    kept = "".join(c if c.isalnum() or c in " -_.,()" else "_" for c in name).strip(" .")
    return kept[:60] or "netbuilder"


st.title("Compare")
current = jobs.owner()
with_runs = {s.pid: s for s in state.projects() if s.runs and s.pid != current}


def _add_newest() -> None:
    """Picking another project adds its newest run to the runs compared."""
    picked = st.session_state.get("compare_projects", [])
    fresh = recent.run_choices(jobs.runs_root(), current, picked)
    chosen = st.session_state.get("compare_runs", [])
    for pid in picked:
        newest = next((k for k, (owner, _) in fresh.items() if owner == pid), None)
        if newest and not any(fresh.get(k, (None,))[0] == pid for k in chosen):
            chosen = [*chosen, newest]
    st.session_state["compare_runs"] = chosen


if with_runs:
    if "compare_projects" in st.session_state:  # a project deleted meanwhile is dropped
        st.session_state["compare_projects"] = [
            p for p in st.session_state["compare_projects"] if p in with_runs
        ]
    st.multiselect(
        "Also compare runs of other projects",
        list(with_runs),
        format_func=lambda pid: f"{with_runs[pid].name} · {with_runs[pid].runs} runs",
        key="compare_projects",
        on_change=_add_newest,
    )
choices = recent.run_choices(
    jobs.runs_root(),
    current,
    [p for p in st.session_state.get("compare_projects", []) if p in with_runs],
)
if not choices:
    st.info(
        "No runs yet in this project: train a model first"
        + (", or pick another project above." if with_runs else ".")
    )
    if (HERE / "train.py").exists():
        st.page_link("pages/train.py", label="Go to Train")
    frame.end()

by_id = {key: record for key, (_, record) in choices.items()}
kept = [i for i in st.session_state.get("compare_runs", []) if i in by_id]
if "compare_runs" not in st.session_state or kept != st.session_state["compare_runs"]:
    st.session_state["compare_runs"] = kept or list(by_id)[:3]
chosen = st.multiselect(
    "Runs", list(by_id), format_func=lambda i: _label(by_id[i]), key="compare_runs"
)
if not chosen:
    st.info("Pick one or more runs.")
    frame.end()
jobs.delete_control([i for i in chosen if choices[i][0] == current], key="compare_delete")

loaded = {}
for run_id in chosen:
    try:
        owner, record = choices[run_id]
        loaded[run_id] = runs.load_run(jobs.runs_root(), owner, record["id"])
    except runs.RunError as err:
        st.warning(md(str(err)))

names: list[str] = []
for run in loaded.values():
    names += [n for n in charts.metric_names(run["history"] or {}) if n not in names]
if names:
    c1, c2 = st.columns([2, 1])
    metric = c1.selectbox("Metric", names, key="compare_metric")
    which = c2.radio("Curves", ["Validation", "Training"], horizontal=True, key="compare_which")
    figure = charts.overlay_figure(
        {_label(by_id[i]): run["history"] or {} for i, run in loaded.items()},
        metric,
        validation=which == "Validation",
    )
    if not figure.data:
        st.caption(f"None of these runs has {md(which.lower())} values for {md(metric)}.")
    st.plotly_chart(figure, key="compare_overlay")
else:
    st.caption("These runs have no recorded epochs yet.")

table = charts.settings_table(loaded.values())
st.dataframe(table, hide_index=True, key="compare_table")
st.download_button(
    "Download the table (CSV)",
    charts.table_csv(table),
    file_name=f"{_file_stem(state.get_project().get('name') or '')} runs.csv",
    mime="text/csv",
    key="compare_csv",
)

for run_id, run in loaded.items():
    with st.expander(f"Doctor · {md(_label(by_id[run_id]))}"):
        if not doctor_view.findings(run, key=f"compare_doctor_{run_id}"):
            st.caption("Nothing to say about this run's curves and predictions.")
