"""Compare: several runs of this session side by side — curves overlaid, settings and scores.

Reads run folders only (no TensorFlow): history.csv for the curves, project.json for the
settings, metrics.json for the final scores. The table downloads as CSV.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from builder.training import runs
from ui import charts, doctor_view, jobs, state

HERE = Path(__file__).resolve().parent


def _label(record: dict) -> str:
    return f"{record['id']} · {record.get('name') or 'unnamed'}"


def _file_stem(name: str) -> str:
    """The project's name as the start of a file name (no folder separators)."""
    kept = "".join(c if c.isalnum() or c in " -_.,()" else "_" for c in name).strip(" .")
    return kept[:60] or "netbuilder"


st.title("Compare")
records = [r for r in runs.list_runs(jobs.runs_root(), jobs.owner()) if r["state"] != "broken"]
if not records:
    st.info("No runs yet in this session: train a model first.")
    if (HERE / "train.py").exists():
        st.page_link("pages/train.py", label="Go to Train")
    st.stop()

by_id = {r["id"]: r for r in records}
kept = [i for i in st.session_state.get("compare_runs", []) if i in by_id]
if "compare_runs" not in st.session_state or kept != st.session_state["compare_runs"]:
    st.session_state["compare_runs"] = kept or list(by_id)[:3]
chosen = st.multiselect(
    "Runs", list(by_id), format_func=lambda i: _label(by_id[i]), key="compare_runs"
)
if not chosen:
    st.info("Pick one or more runs.")
    st.stop()
jobs.delete_control(list(chosen), key="compare_delete")

loaded = {}
for run_id in chosen:
    try:
        loaded[run_id] = runs.load_run(jobs.runs_root(), jobs.owner(), run_id)
    except runs.RunError as err:
        st.warning(str(err))

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
        st.caption(f"None of these runs has {which.lower()} values for {metric}.")
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
    with st.expander(f"Doctor · {_label(by_id[run_id])}"):
        if not doctor_view.findings(run, key=f"compare_doctor_{run_id}"):
            st.caption("Nothing to say about this run's curves and predictions.")
