"""The Train page's fit settings, drawn from ``builder.settings``.

Epochs, batch size, seed and shuffle, the validation method with its settings, and each
callback with its settings: labels, help, ranges and defaults all come from the settings
schema. ``fit_form(fit)`` draws the widgets and returns the fit section they describe; the
page checks and commits it.

Widget keys: ``train_epochs``, ``train_batch``, ``train_seed``, ``train_shuffle``,
``train_method``, ``train_by`` (hold-out by count or fraction), ``train_count``,
``train_fraction``, ``train_k``, and ``train_cb:<Callback>`` (switched on) with
``train_cb:<Callback>:<setting>``. Batch size and seed have a "vary" box
(``ui.forms.vary_toggle``, keys ``train_batch:vary`` and ``train_seed:vary``).
"""

from __future__ import annotations

import json

import streamlit as st

from builder import settings
from builder.experiments import spec as experiment_spec
from ui import forms
from ui.text import md

FIT_SYNCED = "train_fit_synced"  # the fit settings the widgets were last filled from
FIT_KEYS = {
    "epochs": "train_epochs",
    "batch_size": "train_batch",
    "seed": "train_seed",
    "shuffle": "train_shuffle",
}
VALIDATION_KEYS = {"count": "train_count", "fraction": "train_fraction", "k": "train_k"}
# TerminateOnNaN is always on (the run stops with a plain message at the first NaN).
CALLBACKS = [name for name in settings.CALLBACKS if name != "TerminateOnNaN"]


def _callback(fit: dict, name: str) -> dict | None:
    return next((cb for cb in fit["callbacks"] if cb["class_name"] == name), None)


def _cb_key(name: str, param: str | None = None) -> str:
    return f"train_cb:{name}" + (f":{param}" if param else "")


def _widget_values(fit: dict) -> dict:
    """Initial widget values (keyed by widget key) for a normalised ``fit``."""
    values = {key: fit[name] for name, key in FIT_KEYS.items()}
    val = fit["validation"]
    values["train_method"] = val["method"]
    values["train_by"] = "count" if "count" in val else "fraction"
    for name, key in VALIDATION_KEYS.items():
        method = "kfold" if name == "k" else "holdout"
        values[key] = val.get(name, settings.validation_param(method, name)["default"])
    for name in CALLBACKS:
        cb = _callback(fit, name)
        values[_cb_key(name)] = cb is not None
        for spec in settings.CALLBACKS[name]["params"]:
            offered = spec.get("suggest", spec["default"])
            values[_cb_key(name, spec["name"])] = cb["config"][spec["name"]] if cb else offered
    return values


def _sync_widgets(fit: dict) -> None:
    """Fill widget state from the project: all of it after an outside change (undo, a new
    project, Results' retrain), only missing keys otherwise (widgets hidden last run)."""
    fingerprint = json.dumps(fit, sort_keys=True)
    changed = st.session_state.get(FIT_SYNCED) != fingerprint
    for key, value in _widget_values(fit).items():
        if changed or key not in st.session_state:
            st.session_state[key] = value
    st.session_state[FIT_SYNCED] = fingerprint


def widget(spec: dict, key: str):
    """One setting's widget from its schema spec; returns its value."""
    label, help_text = spec.get("label", spec["name"]), spec.get("help")
    kind = spec["type"]
    if kind == "bool":
        return st.checkbox(md(label), key=key, help=md(help_text))
    if kind == "choice":
        return st.selectbox(label, spec["choices"], key=key, help=help_text)
    if kind == "str":
        suggestions = spec.get("suggestions")
        if suggestions:
            current = st.session_state.get(key)
            choices = list(suggestions) + ([current] if current not in suggestions else [])
            return st.selectbox(label, choices, key=key, help=help_text)
        return st.text_input(label, key=key, help=help_text)
    if kind == "int":
        return int(
            st.number_input(
                label, int(spec["min"]), int(spec["max"]), step=1, key=key, help=help_text
            )
        )
    step = spec.get("step", 0.01)
    lo = spec["min"] + 1e-6 if spec.get("min_exclusive") else spec["min"]
    hi = spec["max"] - 1e-6 if spec.get("max_exclusive") else spec["max"]
    return float(
        st.number_input(
            label, float(lo), float(hi), step=step, format="%g", key=key, help=help_text
        )
    )


def fit_form(fit: dict) -> dict:
    """Draw the settings of a normalised ``fit``; return the fit section they describe."""
    _sync_widgets(fit)
    cols = st.columns(3)
    out = dict(fit)
    for col, name in zip(cols, ("epochs", "batch_size", "seed")):
        with col:
            out[name] = widget(settings.fit_param(name), FIT_KEYS[name])
            if name in experiment_spec.FIT_SETTINGS:  # epochs: each trial's budget, not varied
                setting = experiment_spec.fit_setting(name)
                hint = settings.fit_param(name)
                forms.vary_toggle(setting, fit[name], hint, f"{FIT_KEYS[name]}:vary")
    c1, c2 = st.columns([2, 1])
    methods = settings.VALIDATION_METHODS
    method = c1.selectbox(
        settings.VALIDATION["label"],
        list(methods),
        format_func=lambda m: methods[m]["label"],
        key="train_method",
    )
    validation: dict = {"method": method}
    names = [p["name"] for p in methods[method]["params"]]
    if methods[method].get("one_of"):
        by = c2.radio("Hold out", methods[method]["one_of"], horizontal=True, key="train_by")
        names = [by]
    with c2:
        for name in names:
            validation[name] = widget(
                settings.validation_param(method, name), VALIDATION_KEYS[name]
            )
    out["validation"] = validation
    out["shuffle"] = widget(settings.fit_param("shuffle"), FIT_KEYS["shuffle"])

    callbacks = [cb for cb in fit["callbacks"] if cb["class_name"] not in CALLBACKS]
    for col, name in zip(st.columns(len(CALLBACKS)), CALLBACKS):
        entry = settings.CALLBACKS[name]
        with col:
            if st.checkbox(md(entry["label"]), key=_cb_key(name), help=md(entry["help"])):
                config = {
                    spec["name"]: widget(spec, _cb_key(name, spec["name"]))
                    for spec in entry["params"]
                }
                callbacks.append({"class_name": name, "config": config})
    out["callbacks"] = callbacks
    return out
