"""Settings forms of the Graph page, generated from the layer catalogue.

The Build page keeps its form helpers inside the page script, which cannot be imported
without running it, so the Graph page has its own here; they follow the same rules: one
widget per catalogue parameter, a value is applied through ``builder.edit`` on change, and
a refused value stays in the field with the reason under it until it is corrected.

Widget keys start with ``graph_`` so the two pages never share widget state.
"""
from __future__ import annotations

import json

import streamlit as st

from builder import catalogue, edit, graph
from builder import project as projectlib
from builder.project import ProjectError
from ui import state

FIELD_ERRORS = "graph_field_errors"   # {widget key: message} for values not applied

# Parameter types typed into a text field and read back.
_TEXT_TYPES = {"str", "ints", "shape", "padding", "axis", "layer"}


def plain(err: Exception) -> str:
    """A ProjectError's text without the field paths meant for files (model.layers[2]...)."""
    problems = getattr(err, "problems", None)
    if problems:
        return " ".join(message for _, message in problems)
    return str(err)


def to_text(value) -> str:
    """[3, 3] -> '3, 3'; [[1, 1], [2, 2]] -> '(1, 1), (2, 2)'; None -> ''."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(to_text(v) if not isinstance(v, (list, tuple))
                         else "(" + to_text(v) + ")" for v in value)
    return str(value)


def from_text(spec: dict, text: str):
    """'3, 3' -> [3, 3]; '3' -> 3; '(1, 1), (2, 2)' -> [[1, 1], [2, 2]]; '' -> None.

    Raises ValueError with the expected form when the text cannot be read.
    """
    text = text.strip()
    if spec["type"] == "str":
        return text or None
    if not text:
        return None
    if spec["type"] == "layer":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"write the wrapped layer as JSON, e.g. "
                             f"{json.dumps(spec.get('example'))} ({err.msg}).") from None
    normal = text.replace("(", "[").replace(")", "]")
    try:
        value = json.loads(f"[{normal}]")
    except json.JSONDecodeError:
        raise ValueError(f"write numbers separated by commas, e.g. "
                         f"{to_text(spec.get('example', [3, 3]))}.") from None
    if len(value) == 1 and "," not in text and "[" not in normal:
        return value[0]
    return value


def _errors() -> dict:
    return st.session_state.setdefault(FIELD_ERRORS, {})


def _field_error(key: str) -> None:
    message = st.session_state.get(FIELD_ERRORS, {}).get(key)
    if message:
        st.error(message, icon=None)


def sync(key: str, value) -> None:
    """Show the project's value in a widget, unless it holds a refused value to correct."""
    if key not in st.session_state.get(FIELD_ERRORS, {}):
        st.session_state[key] = value


def _layer(project: dict, name: str | None) -> dict | None:
    return next((lay for lay in project["model"]["layers"] if lay["name"] == name), None)


# --------------------------------------------------------------------------- callbacks

def _on_param(layer: str, spec: dict, key: str) -> None:
    raw = st.session_state[key]
    try:
        value = from_text(spec, raw) if spec["type"] in _TEXT_TYPES else raw
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
        shape = from_text({"type": "shape"}, st.session_state[key])
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
    label, help_text = spec.get("label", spec["name"]), spec.get("help")
    kind = spec["type"]
    args = {"key": key, "help": f"{help_text}\n\nKeras argument: `{spec['name']}`",
            "on_change": _on_param, "args": (layer, spec, key)}
    if kind == "bool":
        sync(key, bool(value))
        st.checkbox(label, **args)
    elif kind == "choice":
        choices = list(spec["choices"])
        if value not in choices:
            choices.append(value)
        sync(key, value)
        null = spec.get("null_label", "none")
        st.selectbox(label, choices, format_func=lambda v: null if v is None else str(v), **args)
    elif kind in ("int", "float"):
        sync(key, value)
        st.number_input(label, step=1 if kind == "int" else None,
                        format="%d" if kind == "int" else "%g",
                        placeholder=spec.get("null_label", "none"), **args)
    else:
        sync(key, to_text(value))
        st.text_input(label, placeholder=spec.get("null_label", ""), **args)
    _field_error(key)


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
    sync(key, to_text(inp["shape"]))
    st.session_state[dtype_key] = inp.get("dtype", "float32")
    st.text_input(f"Input '{name}' shape", key=key, on_change=_on_input,
                  args=(name, key, dtype_key),
                  help="One sample's shape, without the batch axis: 784 for vectors, "
                       "28, 28, 1 for grey images.")
    _field_error(key)
    st.selectbox("Values", projectlib.INPUT_DTYPES, key=dtype_key, on_change=_on_input,
                 args=(name, key, dtype_key),
                 help="float32 for numbers; int32 for token ids read by Embedding.")
