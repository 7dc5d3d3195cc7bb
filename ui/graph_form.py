"""Settings forms of the Graph page, generated from the layer catalogue.

The widgets come from ``ui.forms`` (shared with Build and Data); this module holds what
is the Graph page's own: the callbacks that apply a value through ``builder.edit`` /
``builder.graph``, the output flag, and the input form. A refused value stays in its field
with the reason under it until it is corrected.

Widget keys start with ``graph_`` so the two pages never share widget state.
"""
from __future__ import annotations

import streamlit as st

from builder import catalogue, edit, graph
from builder import project as projectlib
from builder.project import ProjectError
from ui import forms, state

FIELD_ERRORS = "graph_field_errors"   # {widget key: message} for values not applied

def plain(err: Exception) -> str:
    """A ProjectError's text without the field paths meant for files (model.layers[2]...)."""
    problems = getattr(err, "problems", None)
    if problems:
        return " ".join(message for _, message in problems)
    return str(err)


def _errors() -> dict:
    return st.session_state.setdefault(FIELD_ERRORS, {})


def _field_error(key: str) -> None:
    forms.field_error(st.session_state.get(FIELD_ERRORS, {}), key)


def sync(key: str, value) -> None:
    """Show the project's value in a widget, unless it holds a refused value to correct."""
    forms.sync(st.session_state.get(FIELD_ERRORS, {}), key, value)


def _layer(project: dict, name: str | None) -> dict | None:
    return next((lay for lay in project["model"]["layers"] if lay["name"] == name), None)


# --------------------------------------------------------------------------- callbacks

def _on_param(layer: str, spec: dict, key: str) -> None:
    try:
        value = forms.widget_value(spec, key)
    except ValueError as err:
        _errors()[key] = str(err)
        return
    project = state.get_project()
    lay = _layer(project, layer)
    if lay is None:
        return
    config = dict(lay.get("config", {}))
    if value is None and not spec.get("nullable") and spec.get("default") is None:
        config.pop(spec["name"], None)
    else:
        config[spec["name"]] = value
    try:
        project = edit.set_layer_config(project, layer, config)
    except ProjectError as err:
        _errors()[key] = plain(err)
        return
    _errors().pop(key, None)
    state.set_project(project)


def _on_rename(layer: str, key: str, selected_key: str) -> None:
    new = st.session_state[key].strip()
    try:
        project = edit.rename_layer(state.get_project(), layer, new)
    except ProjectError as err:
        _errors()[key] = plain(err)
        return
    _errors().pop(key, None)
    st.session_state[selected_key] = new
    state.set_project(project)


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
        _errors()[key] = plain(err)
        return
    _errors().pop(key, None)
    state.set_project(project)


def _on_input(name: str, key: str, dtype_key: str) -> None:
    try:
        shape = forms.from_text({"type": "shape"}, st.session_state[key])
        shape = shape if isinstance(shape, list) else [shape]
        if not shape or not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
            raise ValueError("the shape is positive whole numbers separated by commas, "
                             "without the batch axis, e.g. 28, 28, 1.")
        project = edit.set_input(state.get_project(), name, shape, st.session_state[dtype_key])
    except (ValueError, ProjectError) as err:
        _errors()[key] = plain(err)
        return
    _errors().pop(key, None)
    state.set_project(project)


# --------------------------------------------------------------------------- widgets

def param_widget(layer: str, config: dict, spec: dict) -> None:
    """One catalogue parameter of ``layer`` as a widget (key ``graph_param:layer:name``)."""
    key = f"graph_param:{layer}:{spec['name']}"
    value = config.get(spec["name"], spec.get("default", spec.get("example")))
    forms.param_widget(spec, value, key, _errors(), _on_param, (layer, spec, key))


def layer_form(project: dict, name: str, selected_key: str) -> None:
    """Name, output flag and every catalogue parameter of layer ``name``."""
    lay = _layer(project, name)
    entry = catalogue.get(lay["class_name"])
    st.markdown(f"**{lay['class_name']}** · {entry['help']}")
    key = f"graph_name:{name}"
    sync(key, name)
    st.text_input("Name", key=key, on_change=_on_rename, args=(name, key, selected_key),
                  help="Letters, digits and underscores; used in exported code.")
    _field_error(key)
    out_key = f"graph_output:{name}"
    sync(out_key, name in project["model"].get("outputs", []))
    st.checkbox("Model output", key=out_key, on_change=_on_output, args=(name, out_key),
                help="An output is a prediction the model is trained on; each output gets "
                     "its own loss below.")
    _field_error(out_key)
    for spec in entry["params"]:
        param_widget(name, lay.get("config", {}), spec)


def input_form(project: dict, name: str) -> None:
    """Shape and value type of input ``name``."""
    inp = next(i for i in project["model"]["inputs"] if i["name"] == name)
    key, dtype_key = f"graph_input:{name}", f"graph_input_dtype:{name}"
    sync(key, forms.to_text(inp["shape"]))
    st.session_state[dtype_key] = inp.get("dtype", "float32")
    st.text_input(f"Input '{name}' shape", key=key, on_change=_on_input,
                  args=(name, key, dtype_key),
                  help="One sample's shape, without the batch axis: 784 for vectors, "
                       "28, 28, 1 for grey images.")
    _field_error(key)
    st.selectbox("Values", projectlib.INPUT_DTYPES, key=dtype_key, on_change=_on_input,
                 args=(name, key, dtype_key),
                 help="float32 for numbers; int32 for token ids read by Embedding.")
