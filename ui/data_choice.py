"""A model with no data chosen (a Keras import, a file without a ``data`` section): the
notice that says so, with the bundled dataset whose samples fit the model's input as a
one-click choice. Drawn the same way on Data and Train (Build and Graph show it as the
check's ``no-data`` advice, with the same fix)."""

from __future__ import annotations

import streamlit as st

from builder import fixes
from builder.project import data_chosen
from ui import state


def _use(data: dict) -> None:
    project = state.get_project()
    state.set_project(fixes.apply_fix(project, {"op": "set_data", "value": data}))


def suggestion(project: dict) -> dict | None:
    """The bundled dataset whose samples fit the single input, or None."""
    from builder.data.registry import matching_data

    inputs = (project.get("model") or {}).get("inputs")
    try:
        return matching_data(inputs) if isinstance(inputs, list) and inputs else None
    except Exception:  # a malformed input: the checker reports it
        return None


def offer(project: dict, key: str) -> bool:
    """Draw the "no data chosen" notice (and the Use button); True when there is no data."""
    if data_chosen(project.get("data")):
        return False
    from builder.data.registry import DATASETS

    match = suggestion(project)
    if match is None:
        st.info(
            "No data is chosen for this model, so it is checked on its own (does it build). "
            "No bundled dataset has samples of its input shape: choose a dataset or upload "
            "your CSV on the Data page to train it."
        )
        return True
    label = DATASETS[match["dataset"]].label
    shape = tuple((project["model"]["inputs"][0]).get("shape") or ())
    st.info(
        f"No data is chosen for this model, so it is checked on its own (does it build). "
        f"{label} has samples that fit its input {shape}."
    )
    st.button(f"Use {label}", key=key, on_click=_use, args=(match,), type="primary")
    return True
