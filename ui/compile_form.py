"""The compile editor shared by the Build and Graph pages, drawn from ``builder.settings``.

The optimizer with each of its settings, then for every model output its loss, loss weight
(when there are several outputs) and metrics. Choices, defaults, labels and help come from
the settings schema; a change is checked by ``builder.settings.compile_section`` and
committed through ``ui.state``; a refused value stays in its field with the reason under
it until it is corrected. A "vary" box under the optimizer, its settings and the loss puts
that setting into the project's experiment (``ui.forms.vary_toggle``).

Widget keys start with the page's prefix (``build_``, ``graph_``) so the pages never share
widget state: ``<prefix>_optimizer``, ``<prefix>_opt:<setting>``, and ``<prefix>_loss`` /
``<prefix>_metrics`` for one output or ``<prefix>_loss:<output>``,
``<prefix>_weight:<output>``, ``<prefix>_metrics:<output>`` for several.
"""

from __future__ import annotations

import streamlit as st

from builder import settings
from builder.experiments.spec import compile_setting
from ui import forms, state
from ui.text import md


def _errors(prefix: str) -> dict:
    return st.session_state.setdefault(f"{prefix}_compile_errors", {})


def _current() -> tuple[dict, dict]:
    """The project and its compile section in the normal spelling (the defaults while the
    section does not validate)."""
    project = state.get_project()
    return project, settings.sections(project)[0]


def _commit(prefix: str, key: str, compile_: dict) -> None:
    """Check ``compile_`` against the schema; commit it or keep ``key``'s value with why."""
    project = state.get_project()
    problems: settings.Problems = []
    normal = settings.compile_section(compile_, project["model"].get("outputs", []), problems)
    errors = _errors(prefix)
    if problems:
        errors[key] = " ".join(message for _, message in problems)
        return
    errors.pop(key, None)
    state.set_project({**project, "compile": normal})


def _keys(prefix: str, output: str, several: bool) -> tuple[str, str, str]:
    if several:
        return f"{prefix}_loss:{output}", f"{prefix}_weight:{output}", f"{prefix}_metrics:{output}"
    return f"{prefix}_loss", f"{prefix}_weight", f"{prefix}_metrics"


# --------------------------------------------------------------------------- callbacks


def _on_optimizer(prefix: str) -> None:
    comp = _current()[1]
    name = st.session_state[f"{prefix}_optimizer"]
    learning_rate = comp["optimizer"]["config"]["learning_rate"]
    _commit(
        prefix,
        f"{prefix}_optimizer",
        {**comp, "optimizer": settings.optimizer(name, {"learning_rate": learning_rate})},
    )


def _on_optimizer_setting(prefix: str, name: str) -> None:
    comp = _current()[1]
    key = f"{prefix}_opt:{name}"
    value = st.session_state[key]
    if value is None:
        _errors(prefix)[key] = "needs a value."
        return
    opt = comp["optimizer"]
    _commit(prefix, key, {**comp, "optimizer": {**opt, "config": {**opt["config"], name: value}}})


def _on_output(prefix: str, what: str, output: str, several: bool) -> None:
    """``what`` (loss, loss_weights, metrics) of ``output`` from its widget."""
    project, comp = _current()
    outputs = project["model"]["outputs"]
    loss_key, weight_key, metrics_key = _keys(prefix, output, several)
    key = {"loss": loss_key, "loss_weights": weight_key, "metrics": metrics_key}[what]
    value = st.session_state[key]
    if what == "metrics":
        value = list(value)
    if not several:
        _commit(prefix, key, {**comp, what: value})
        return
    if value is None:
        _errors(prefix)[key] = "needs a value."
        return
    values = settings.per_output(comp, what, outputs)
    values[output] = value
    _commit(prefix, key, {**comp, what: values})


# --------------------------------------------------------------------------- widgets


def _sync(prefix: str, key: str, value) -> None:
    forms.sync(st.session_state.get(f"{prefix}_compile_errors", {}), key, value)


def _error(prefix: str, key: str) -> None:
    forms.field_error(st.session_state.get(f"{prefix}_compile_errors", {}), key)


def _optimizer(prefix: str, opt: dict) -> None:
    key = f"{prefix}_optimizer"
    spec = settings.COMPILE["optimizer"]
    default = spec["default"]
    _sync(prefix, key, opt["class_name"])
    st.selectbox(
        spec["label"],
        list(settings.OPTIMIZERS),
        key=key,
        on_change=_on_optimizer,
        args=(prefix,),
        format_func=lambda v: f"{v} (the book's choice)" if v == default else v,
        help=f"{spec['help']}\n\n{settings.OPTIMIZERS[opt['class_name']]['help']}",
    )
    _error(prefix, key)
    choices = {"type": "choice", "choices": list(settings.OPTIMIZERS)}
    forms.vary_toggle(compile_setting(), opt["class_name"], choices, f"{key}:vary")
    params = settings.OPTIMIZERS[opt["class_name"]]["params"]
    cols = st.columns(3)
    errors = _errors(prefix)
    for i, param in enumerate(params):
        with cols[i % 3]:
            forms.param_widget(
                param,
                opt["config"][param["name"]],
                f"{prefix}_opt:{param['name']}",
                errors,
                _on_optimizer_setting,
                (prefix, param["name"]),
                vary=compile_setting(param["name"]),
            )


def _output(
    prefix: str, comp: dict, output: str, outputs: list[str], recommended: str | None
) -> None:
    several = len(outputs) > 1
    loss_key, weight_key, metrics_key = _keys(prefix, output, several)
    loss = settings.per_output(comp, "loss", outputs)[output]
    spec = settings.COMPILE["loss"]
    cols = st.columns([3, 2, 4]) if several else st.columns([1, 1])
    _sync(prefix, loss_key, loss)
    with cols[0]:
        st.selectbox(
            spec["label"],
            list(settings.LOSSES),
            key=loss_key,
            on_change=_on_output,
            args=(prefix, "loss", output, several),
            format_func=lambda v: f"{v} (recommended)" if v == recommended else v,
            help=spec["help"],
        )
        _error(prefix, loss_key)
        st.caption(settings.LOSSES[loss]["help"])
        if not several:  # an experiment varies the loss of a one-output model only
            choices = {"type": "choice", "choices": list(settings.LOSSES)}
            forms.vary_toggle(compile_setting("loss"), loss, choices, f"{loss_key}:vary")
    if several:
        spec = settings.COMPILE["loss_weights"]
        _sync(prefix, weight_key, float(settings.per_output(comp, "loss_weights", outputs)[output]))
        with cols[1]:
            st.number_input(
                spec["label"],
                min_value=float(spec["min"]),
                max_value=float(spec["max"]),
                step=spec["step"],
                format="%g",
                key=weight_key,
                on_change=_on_output,
                args=(prefix, "loss_weights", output, several),
                help=spec["help"],
            )
            _error(prefix, weight_key)
    spec = settings.COMPILE["metrics"]
    _sync(prefix, metrics_key, list(settings.per_output(comp, "metrics", outputs)[output]))
    with cols[-1]:
        st.multiselect(
            spec["label"],
            list(settings.METRICS),
            key=metrics_key,
            on_change=_on_output,
            args=(prefix, "metrics", output, several),
            help=spec["help"],
        )
        _error(prefix, metrics_key)


def compile_editor(
    project: dict, prefix: str, recommended: str | dict | None = None, result=None
) -> None:
    """The optimizer and its settings, then loss, weight and metrics per output.

    ``recommended`` marks the loss that suits the data (one output), or {output: loss}
    when each output learns its own CSV column; ``result`` (a
    ``CheckResult``) adds each output's shape to its heading when there are several.
    """
    comp = settings.sections(project)[0]
    outputs = list(project["model"].get("outputs", []))
    _optimizer(prefix, comp["optimizer"])
    if not outputs:
        st.caption("The model has no output yet: the loss and metrics are set per output.")
        return
    per_output = recommended if isinstance(recommended, dict) else {}
    if len(outputs) == 1:
        _output(prefix, comp, outputs[0], outputs, per_output.get(outputs[0], recommended))
        return
    st.caption(
        "Each output is trained with its own loss; the total loss is their sum "
        "weighted by the loss weights. The data supplies one target per output: "
        + (
            "its own column of the CSV (mapped on the Data page), shaped for its loss."
            if per_output
            else "the dataset's label, shaped for that output's loss."
        )
    )
    for output in outputs:
        report = result.layer(output) if result is not None else None
        shape = ""
        if report is not None and report.output_shape is not None:
            from builder.results import fmt_shape

            shape = f" · {fmt_shape(report.output_shape)}"
        st.markdown(f"**{md(output)}**{md(shape)}")
        _output(prefix, comp, output, outputs, per_output.get(output))
