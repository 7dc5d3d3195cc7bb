"""Build: the layer stack editor, the selected layer's settings, compile settings, summary.

The page draws the project (``ui.state`` owns it) and turns gestures into edits from
``builder.edit``; it never keeps its own copy of the layers. Shapes come from
``builder.checker``, which imports TensorFlow: on the first visit the stack is drawn
without shapes, then TensorFlow is loaded and the page reruns with them.
"""

from __future__ import annotations

import os

import streamlit as st

from builder import catalogue, edit, settings, templates, topology
from builder import project as projectlib
from builder.advice import recommended_loss, recommended_losses
from builder.project import ProjectError
from ui import compile_form, forms, frame, preload, state
from ui.layer_form import (
    TEMPLATES_NOTE,
    LayerForm,
    close_menu,
    find_layer,
    menu_key,
    open_template,
    start_over,
    template_buttons,
    undo_redo,
)
from ui.stack_component import build_view, layer_fixes, stack_editor
from ui.text import md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

STACK_KEY = "build_stack"
SELECTED = "build_selected"
NOTICE = "build_notice"  # the last edit's refusal, shown once
FIELD_ERRORS = "build_field_errors"  # {widget key: message} for values not applied

# Advice codes about the loss or metrics, shown beside the compile settings.
COMPILE_ADVICE = {
    "softmax-binary",
    "sigmoid-multiclass",
    "logits-crossentropy",
    "regression-loss-on-classifier",
    "classification-loss-on-regression",
    "label-encoding",
    "accuracy-regression",
}


# --------------------------------------------------------------------------- helpers


def _keras_loaded() -> bool:
    # Not just "in sys.modules": app.py imports Keras in a background thread meanwhile.
    return preload.ready()


def _check(project: dict):
    from builder import fit_check

    return fit_check.check(project)  # builds, and fits the chosen data


def _say(message: str) -> None:
    st.session_state[NOTICE] = message


def _plain(err: Exception) -> str:
    """A ProjectError's text without the field paths meant for files (model.layers[2]...)."""
    problems = getattr(err, "problems", None)
    if problems:
        return " ".join(
            message.split(": ", 1)[-1] if message.startswith("model.") else message
            for _, message in problems
        )
    return str(err)


def _commit(project: dict) -> None:
    state.set_project(project)


# --------------------------------------------------------------------------- stack actions


def _on_action(action: dict) -> None:
    """Apply one gesture from the stack editor to the project (see ui.stack_component)."""
    from builder.fixes import apply_fix

    project = state.get_project()
    kind, name = action["type"], action.get("name")
    if kind == "painted":  # the cards are on screen: Keras may load now
        preload.painted()
        return
    if kind in ("undo", "redo"):
        (state.undo if kind == "undo" else state.redo)()
        return
    try:
        if kind == "select":
            st.session_state[SELECTED] = name
            return
        if kind == "add":
            project, new = edit.add_layer(project, action["class_name"], action["index"])
            st.session_state[SELECTED] = new
        elif kind == "move":
            project = edit.move_layer(project, name, action["index"])
        elif kind == "delete":
            project = edit.delete_layer(project, name)
            if st.session_state.get(SELECTED) == name:
                st.session_state[SELECTED] = None
        elif kind == "duplicate":
            project, new = edit.duplicate_layer(project, name)
            st.session_state[SELECTED] = new
        elif kind == "apply_fix":
            fixes = layer_fixes(_check(project), name)
            if action["fix"] >= len(fixes):
                _say("That fix no longer applies: the model changed. Look at the card again.")
                return
            project = apply_fix(project, fixes[action["fix"]])
    except (ProjectError, KeyError) as err:
        _say(_plain(err))
        return
    _commit(project)


def _apply_model_fix(fix) -> None:
    from builder.fixes import apply_fix

    try:
        _commit(apply_fix(state.get_project(), fix))
    except (ProjectError, KeyError) as err:
        _say(_plain(err))


# --------------------------------------------------------------------------- settings form

FORM = LayerForm("build", FIELD_ERRORS, _plain)


def _settings_form(project: dict, name: str | None) -> None:
    lay = find_layer(project, name)
    if lay is None:
        st.caption("Select a layer to edit its settings.")
        for inp in project["model"]["inputs"]:
            FORM.input_fields(inp)
        return
    entry = catalogue.get(lay["class_name"])
    st.markdown(f"**{md(lay['class_name'])}** · {entry['help']}")
    FORM.name_field(name, SELECTED)
    FORM.params(name, lay.get("config", {}), entry)


# --------------------------------------------------------------------------- compile


def _compile_section(project: dict, result) -> None:
    outputs = project["model"]["outputs"]
    recommended = None
    if result is not None:
        recommended = (
            recommended_loss(project) if len(outputs) == 1 else recommended_losses(project) or None
        )
    compile_form.compile_editor(project, "build", recommended, result)
    if isinstance(recommended, str) and project["compile"]["loss"] != recommended:
        st.caption(f"Recommended for this model and data: **{md(recommended)}**.")
    if result is not None:
        for advice in result.all_warnings():
            if advice.code in COMPILE_ADVICE:
                _advice(advice, "compile")


# --------------------------------------------------------------------------- summary, advice


def _advice(advice, where: str) -> None:
    st.warning(md(advice.message))
    if advice.fix is not None:
        st.button(
            f"Fix: {md(advice.fix.label)}",
            key=f"build_fix:{where}:{advice.code}:{advice.layer}",
            on_click=_apply_model_fix,
            args=(advice.fix,),
        )


def _summary(project: dict, result) -> None:
    if result is None:
        st.caption("Parameter counts appear once TensorFlow has loaded.")
        return
    a, b, c = st.columns(3)
    a.metric("Parameters", f"{result.total_params:,}")
    b.metric("Trainable", f"{result.trainable_params:,}")
    c.metric(
        "Memory to train (est.)",
        _bytes(result.memory_bytes),
        help="Weights, gradients and optimizer state plus the activations of one batch "
        f"of {settings.sections(project)[1]['batch_size']}, in float32.",
    )
    for i, message in enumerate(result.errors):
        forms.model_error(result, i, message, "build", _apply_model_fix)
    for advice in result.warnings:
        if advice.code not in COMPILE_ADVICE:
            _advice(advice, "model")


def _bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


# --------------------------------------------------------------------------- diagram


def _diagram(project: dict, result):
    """A top-down Plotly drawing: one row per depth, boxes sized for 30+ layers."""
    from builder.results import fmt_shape
    from ui.plotting import go

    model = project["model"]
    depth = topology.analyse(model).depth
    rows: dict[int, list[str]] = {}
    for name, d in depth.items():
        rows.setdefault(d, []).append(name)
    pos = {
        name: (i - (len(names) - 1) / 2, -d)
        for d, names in rows.items()
        for i, name in enumerate(names)
    }
    kinds = {
        inp["name"]: ("Input", fmt_shape([None] + list(inp["shape"])), "ok")
        for inp in model["inputs"]
    }
    for lay in model["layers"]:
        report = result.layer(lay["name"]) if result is not None else None
        status = "pending" if report is None else "error" if report.error else "ok"
        shape = fmt_shape(report.output_shape) if report and report.output_shape else ""
        kinds[lay["name"]] = (lay["class_name"], shape, status)
    colors = {"ok": "#1c83e1", "error": "#c62828", "pending": "#9e9e9e"}
    # Edges as one line trace and boxes as one shape list: Plotly validates each
    # add_shape/add_annotation call separately, which is slow at 30+ layers.
    edge_x, edge_y = [], []
    inbound = topology.edges_of(model)
    for lay in model["layers"]:
        for src in inbound[lay["name"]]:
            if src in pos:
                (x0, y0), (x1, y1) = pos[src], pos[lay["name"]]
                edge_x += [x0, x1, None]
                edge_y += [y0 - 0.28, y1 + 0.28, None]
    boxes = [
        {
            "type": "rect",
            "x0": x - 0.42,
            "x1": x + 0.42,
            "y0": y - 0.28,
            "y1": y + 0.28,
            "line": {"color": colors[kinds[name][2]], "width": 2},
            "fillcolor": "white",
            "layer": "below",
        }
        for name, (x, y) in pos.items()
    ]
    fig = go.Figure(
        [
            go.Scatter(
                x=edge_x,
                y=edge_y,
                mode="lines",
                hoverinfo="skip",
                line={"color": "#888", "width": 1.2},
            ),
            go.Scatter(
                x=[p[0] for p in pos.values()],
                y=[p[1] for p in pos.values()],
                mode="text",
                text=[f"<b>{n}</b> {kinds[n][0]}<br>{kinds[n][1]}" for n in pos],
                hovertext=[f"{n}: {kinds[n][0]} → {kinds[n][1] or '?'}" for n in pos],
                hoverinfo="text",
                textfont={"size": 12},
            ),
        ]
    )
    width = max(len(names) for names in rows.values())
    fig.update_layout(
        shapes=boxes,
        height=80 + 72 * len(rows),
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-width / 2 - 0.1, width / 2 + 0.1]},
        yaxis={"visible": False, "range": [-max(rows) - 0.6, 0.6]},
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return fig


# --------------------------------------------------------------------------- page parts


def _toolbar(project: dict) -> None:
    cols = st.columns([1, 1, 2, 6])
    undo_redo(cols[0], cols[1], "build")
    with cols[2].popover("Templates", width="stretch", key=menu_key("build_templates")):
        _gallery(project)


def _use_template(name: str | None) -> None:
    if name is None:
        current = state.get_project()
        project = projectlib.new_project(
            "Untitled",
            current["model"]["inputs"],
            current["data"]["dataset"],
            current["data"]["options"],
        )
        start_over(project, FORM, SELECTED)  # an edit of this project: one Undo step
    else:
        open_template(name, FORM, SELECTED)


def _gallery(project: dict) -> None:
    menu = menu_key("build_templates")

    def empty() -> None:
        close_menu(menu)
        _use_template(None)

    st.button("Empty model (keep the input and data)", on_click=empty, key="build_tpl:empty")
    st.caption(TEMPLATES_NOTE)
    template_buttons(templates.names(), "build", _use_template, menu_key=menu)


@st.cache_data(max_entries=16, show_spinner=False)
def _exported(fmt: str, project_text: str) -> str:
    """Export text for a project, cached by its JSON: the notebook and Keras JSON take
    up to half a second each, too slow to redo on every rerun."""
    from builder import export

    return getattr(export, f"to_{fmt}")(projectlib.loads(project_text))


def _export(project: dict, valid: bool) -> None:
    if not valid:
        st.caption("Export needs a valid model: fix the problems shown above first.")
        return
    stem = "".join(c if c.isalnum() else "_" for c in project.get("name", "model"))[:40] or "model"
    makers = [
        ("Python script", "script", f"{stem}.py", "text/x-python"),
        ("Notebook", "notebook", f"{stem}.ipynb", "application/x-ipynb+json"),
        ("Keras JSON", "keras_json", f"{stem}.keras.json", "application/json"),
    ]
    text = projectlib.dumps(project)
    for col, (label, fmt, filename, mime) in zip(st.columns(len(makers)), makers):
        try:
            payload = _exported(fmt, text)
        except (ProjectError, ValueError) as err:  # export refuses with a message
            col.caption(f"{md(label)}: {md(_plain(err))}")
            continue
        col.download_button(
            label, payload, file_name=filename, mime=mime, key=f"build_export:{fmt}"
        )
    if project["data"].get("dataset") == "csv":
        _csv_zip(project, stem)


def _csv_zip(project: dict, stem: str) -> None:
    """The script and notebook with the CSV they read, zipped on click (a CSV may be large)."""
    from builder.export_bundle import csv_zip

    st.download_button(
        f"Script and notebook with {os.path.basename(project['data']['options']['path'])} (zip)",
        lambda: csv_zip(project, stem),
        file_name=f"{stem}.zip",
        mime="application/zip",
        key="build_export:zip",
        help="Unpack anywhere and run the script: it finds the CSV beside it.",
    )


# --------------------------------------------------------------------------- the page


project = state.get_project()
if find_layer(project, st.session_state.get(SELECTED)) is None:
    st.session_state[SELECTED] = None

result = None
if _keras_loaded():
    result = _check(project)
    state.show_status(result)

# The cards come first. On the first paint of a fresh server (Keras not loaded, nothing
# painted yet) they come alone: the stack editor then says it is on screen (a "painted"
# action), which reruns the page with everything else while Keras loads. The toolbar
# and notices above the stack are written into their place after it.
first_paint = result is None and not preload.was_painted()

st.title("Build")
top = st.container()
left, right = st.columns([7, 3], gap="medium")
with left:
    view = build_view(project, result, st.session_state.get(SELECTED))
    action = stack_editor(view, key=STACK_KEY, on_action=_on_action)
    if action is not None:  # it did not come through the callback (AppTest)
        _on_action(action)
        st.rerun()
    if result is None:
        st.info("Loading TensorFlow to check shapes and count parameters...")
if first_paint:
    preload.await_keras(first_paint=True)
    # The first paint is the cards alone: the whole run ends here, sidebar included (it is
    # drawn on the rerun that follows once Keras is there).
    st.stop()
with top:
    _toolbar(project)
    if not edit.is_stack(project):
        st.info(
            "This model is a graph (layers name their inputs): the stack shows its layers in "
            "file order and reordering is off. Change connections on the Graph page."
        )
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.error(md(notice))
with right:
    st.subheader("Settings")
    _settings_form(project, st.session_state.get(SELECTED))

st.subheader("Summary")
_summary(project, result)
with st.expander("Compile: loss, optimizer, metrics", expanded=True):
    _compile_section(project, result)
# A toggle rather than an expander: an expander draws its content even while closed, and
# a chart on the first paint makes the browser load Plotly (4.7 MB of script) before the
# cards are up.
if st.toggle("Diagram", key="build_show_diagram", help="The model drawn as a graph (Plotly)."):
    if project["model"]["layers"]:
        st.plotly_chart(_diagram(project, result), width="stretch")
    else:
        st.caption("Add layers to see the diagram.")
with st.expander("Export"):
    _export(project, bool(result and result.valid))

if result is None:
    preload.await_keras()  # reruns the page once TensorFlow has loaded
