"""Forms generated from parameter specs (the catalogue's format, also used by datasets).

A spec is ``{"name", "type", "default", "min", "max", "choices", "label", "help", ...}``;
``param_widget`` draws the matching Streamlit widget, and ``from_text`` turns what a person
typed into a JSON value, raising ValueError with an example when it cannot.

``vary_toggle`` is the small "vary" box under a setting of the Build and Train forms: it
puts that setting into the project's experiment (``builder.experiments.spec``: address and
starting values) or takes it out; the Experiments page lists and runs what varies.
"""

from __future__ import annotations

import json

import streamlit as st

from builder import catalogue
from builder import project as projectlib
from builder.experiments import spec as experiment_spec
from ui import state
from ui.text import code, md

# Every catalogue parameter type but numbers, switches and choices is edited as text.
TEXT_TYPES = set(catalogue.PARAM_TYPES) - {"int", "float", "bool", "choice"}
JSON_TYPES = {"layer", "initializer", "regularizer", "constraint", "any"}
CHOICES = "_form_choices"  # {widget key: the choices its selectbox indexes}
VARY_ERRORS = "_vary_errors"  # {vary box key: why the setting could not be varied}
VARIABLE_TYPES = {"int", "float", "choice", "bool"}  # settings a vary box is offered for


def to_text(value) -> str:
    """[3, 3] -> '3, 3'; [[1, 1], [2, 2]] -> '(1, 1), (2, 2)'; None -> ''."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(
            to_text(v) if not isinstance(v, (list, tuple)) else "(" + to_text(v) + ")"
            for v in value
        )
    return str(value)


def from_text(spec: dict, text: str):
    """'3, 3' -> [3, 3]; '3' -> 3; '(1, 1), (2, 2)' -> [[1, 1], [2, 2]]; '' -> None."""
    text = text.strip()
    if spec["type"] == "str":
        return text or None
    if not text:
        return None
    if spec["type"] == "layer":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"write the wrapped layer as JSON, e.g. "
                f"{json.dumps(spec.get('example'))} ({err.msg})."
            ) from None
    if spec["type"] in JSON_TYPES:
        # a Keras name (he_normal, l2) as it is; objects, lists and numbers as JSON
        if text[0] in '{[-0123456789"' or text in ("true", "false", "null"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(
                    f"write a name like he_normal, or JSON such as "
                    f'{{"class_name": "HeNormal", "config": {{"seed": 1}}}} '
                    f"({err.msg})."
                ) from None
        return text
    normal = text.replace("(", "[").replace(")", "]")
    try:
        value = json.loads(f"[{normal}]")
    except json.JSONDecodeError:
        raise ValueError(
            f"write numbers separated by commas, e.g. {to_text(spec.get('example', [3, 3]))}."
        ) from None
    if len(value) == 1 and "," not in text and "[" not in normal:
        return value[0]
    return value


def model_error(result, i: int, message: str, prefix: str, on_fix) -> None:
    """Model-level error ``i`` of a check ``result``, with a "Fix: ..." button for each of
    its one-click fixes (``on_fix(fix)`` applies one)."""
    st.error(md(message))
    for j, fix in enumerate(result.fixes_for(message)):
        st.button(
            f"Fix: {md(fix.label)}", key=f"{prefix}_fix:error:{i}:{j}", on_click=on_fix, args=(fix,)
        )


def field_error(errors: dict, key: str) -> None:
    """Show the message of a value that was refused, right under its field."""
    message = errors.get(key)
    if message:
        st.error(md(message), icon=None)


def sync(errors: dict, key: str, value) -> None:
    """Show the project's value in a widget, unless it holds a refused value to correct."""
    if key not in errors:
        st.session_state[key] = value


def param_widget(
    spec: dict,
    value,
    key: str,
    errors: dict,
    on_change,
    args: tuple,
    keras_name: bool = True,
    vary: str | None = None,
) -> None:
    """The widget for one parameter; ``on_change(*args)`` reads ``st.session_state[key]``.
    ``vary``: the setting's experiment address, to offer a vary box under it."""
    label, help_text = spec.get("label", spec["name"]), spec.get("help") or ""
    if keras_name:
        help_text = f"{help_text}\n\nKeras argument: `{spec['name']}`"
    kind = spec["type"]
    common = {"key": key, "help": help_text, "on_change": on_change, "args": args}
    if kind == "bool":
        sync(errors, key, bool(value))
        st.checkbox(label, **common)
    elif kind == "choice":
        # The widget holds an index: a None choice ("linear", "none") is a real option here,
        # while a selectbox holding None would mean "nothing chosen".
        choices = list(spec["choices"])
        null = spec.get("null_label", "none")
        if None in choices and null in choices and value != null:
            choices.remove(null)  # activation None already reads "linear": list it once
        if value not in choices:
            choices.append(value)
        st.session_state.setdefault(CHOICES, {})[key] = choices
        sync(errors, key, choices.index(value))
        st.selectbox(
            label,
            range(len(choices)),
            format_func=lambda i: null if choices[i] is None else str(choices[i]),
            **common,
        )
    elif kind in ("int", "float"):
        sync(errors, key, value)
        st.number_input(
            label,
            step=1 if kind == "int" else spec.get("step"),
            format="%d" if kind == "int" else "%g",
            placeholder=spec.get("null_label", "none"),
            **common,
        )
    else:
        shown = (
            json.dumps(value)
            if kind in JSON_TYPES and value is not None and not isinstance(value, str)
            else to_text(value)
        )
        sync(errors, key, shown)
        st.text_input(label, placeholder=spec.get("null_label", ""), **common)
    field_error(errors, key)
    if vary and kind in VARIABLE_TYPES and value is not None:
        vary_toggle(vary, value, spec, f"{key}:vary")


def widget_value(spec: dict, key: str):
    """The value a widget holds, parsed (ValueError with an example when it cannot be)."""
    raw = st.session_state[key]
    if spec["type"] == "choice":
        return st.session_state[CHOICES][key][raw]
    return from_text(spec, raw) if spec["type"] in TEXT_TYPES else raw


def _on_vary(setting: str, current, hint: dict | None, key: str) -> None:
    if key not in st.session_state:
        return  # a box of the page drawn for the project before another was opened
    project = state.get_project()
    if st.session_state[key]:
        changed = experiment_spec.mark_varied(project, setting, current, hint)
    else:
        changed = experiment_spec.unmark_varied(project, setting)
    errors = st.session_state.setdefault(VARY_ERRORS, {})
    try:
        projectlib.validate(changed)
    except projectlib.ProjectError as err:
        errors[key] = f"Cannot vary {setting}: " + " ".join(m for _, m in err.problems)
        return
    errors.pop(key, None)
    state.set_project(changed)


def vary_toggle(setting: str, current, hint: dict | None, key: str) -> None:
    """A small "vary" box under a setting. Ticked, the project's experiment varies
    ``setting`` (the address ``builder.experiments.spec`` uses) with values around
    ``current`` (``spec.suggest``; ``hint`` is the setting's schema), shown under it;
    unticked, it no longer varies. The box always shows what the project holds."""
    entry = experiment_spec.varied(state.get_project()).get(setting)
    st.session_state[key] = entry is not None
    st.checkbox(
        "vary",
        key=key,
        on_change=_on_vary,
        args=(setting, current, hint, key),
        help=f"Try several values of this setting in an experiment ({code(setting)}): "
        "the Experiments page runs them side by side and lets you edit the values.",
    )
    if entry is not None:
        st.caption(f"varied: {md(experiment_spec.describe(entry))}")
    field_error(st.session_state.get(VARY_ERRORS, {}), key)
