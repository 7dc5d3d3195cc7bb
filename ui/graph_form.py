"""Settings forms of the Graph page, generated from the layer catalogue.

The name, parameter and input fields come from ``ui.layer_form`` (shared with Build), the
widgets from ``ui.forms`` (shared with Build and Data); this module holds what is the Graph
page's own: how a refusal is worded here and the output flag, applied through
``builder.graph``. A refused value stays in its field with the reason under it until it is
corrected.

Widget keys start with ``graph_`` so the two pages never share widget state.
"""

from __future__ import annotations

import streamlit as st

from builder import catalogue, graph
from builder.project import ProjectError
from ui import state
from ui.layer_form import LayerForm, find_layer
from ui.text import md

FIELD_ERRORS = "graph_field_errors"  # {widget key: message} for values not applied


def plain(err: Exception) -> str:
    """A ProjectError's text without the field paths meant for files (model.layers[2]...)."""
    problems = getattr(err, "problems", None)
    if problems:
        return " ".join(message for _, message in problems)
    return str(err)


FORM = LayerForm("graph", FIELD_ERRORS, plain)


def sync(key: str, value) -> None:
    """Show the project's value in a widget, unless it holds a refused value to correct."""
    FORM.sync(key, value)


# --------------------------------------------------------------------------- callbacks


def _on_output(layer: str, key: str) -> None:
    project = state.get_project()
    outputs = list(project["model"].get("outputs", []))
    if st.session_state[key] and layer not in outputs:
        outputs.append(layer)
    elif not st.session_state[key]:
        outputs = [o for o in outputs if o != layer]
    try:
        project = graph.set_outputs(project, outputs)
    except ProjectError as err:
        FORM.refuse(key, plain(err))
        return
    FORM.accept(key, project)


# --------------------------------------------------------------------------- widgets


def param_widget(layer: str, config: dict, spec: dict) -> None:
    """One catalogue parameter of ``layer`` as a widget (key ``graph_param:layer:name``)."""
    FORM.param_widget(layer, config, spec)


def layer_form(project: dict, name: str, selected_key: str) -> None:
    """Name, output flag and every catalogue parameter of layer ``name``."""
    lay = find_layer(project, name)
    entry = catalogue.get(lay["class_name"])
    st.markdown(f"**{md(lay['class_name'])}** · {entry['help']}")
    FORM.name_field(name, selected_key)
    out_key = f"graph_output:{name}"
    sync(out_key, name in project["model"].get("outputs", []))
    st.checkbox(
        "Model output",
        key=out_key,
        on_change=_on_output,
        args=(name, out_key),
        help="An output is a prediction the model is trained on; each output gets "
        "its own loss below.",
    )
    FORM.field_error(out_key)
    if entry.get("input_names"):
        st.caption(
            "Connect its inputs in this order: "
            + ", ".join(map(md, entry["input_names"]))
            + f" (at least {entry['inputs']['min']:,})."
        )
    FORM.params(name, lay.get("config", {}), entry)


def input_form(project: dict, name: str) -> None:
    """Shape and value type of input ``name``."""
    FORM.input_fields(next(i for i in project["model"]["inputs"] if i["name"] == name))
