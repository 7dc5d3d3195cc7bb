"""Graph: the functional API editor for the same project as Build.

Nodes are drawn where the layout (``builder.layout``) or the person put them; connections
are drawn by dragging from an output port to an input port. Every gesture becomes one edit
from ``builder.graph`` / ``builder.edit`` applied to the project that ``ui.state`` owns;
the page keeps no copy of the graph. Wiring faults (``builder.graph.faults``) need no
TensorFlow and are shown at once; shapes and Keras' errors come from ``builder.checker``
once TensorFlow has loaded, as on the Build page.

A big graph is drawn with its groups (``builder.layout.groups``) folded; which ones are
unfolded, and the search's matches, are this session's view of the project, never part of
it. The search selects its match as a click would and unfolds what hides it.
"""

from __future__ import annotations

import streamlit as st

from builder import edit, graph, layout, paths, topology
from builder import project as projectlib
from builder.project import CALL_TENSOR_ARGS, ProjectError
from ui import compile_form, data_choice, forms, frame, graph_form, preload, state
from ui.graph_component import build_view, graph_editor, node_fixes
from ui.layer_form import TEMPLATES_NOTE, menu_key, open_template, template_buttons, undo_redo
from ui.text import code, md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

EDITOR_KEY = "graph_editor"
SELECTED = "graph_selected"
NOTICE = "graph_notice"  # the last edit's refusal, shown once
UNFOLDED = "graph_unfolded"  # ids of the groups drawn layer by layer (a view: not saved)
SEARCH = "graph_search"  # the search field's text
HIT = "graph_search_hit"  # which of the matches was shown last
FOCUS = "graph_focus"  # {"name", "seq"}: the node the canvas brings on screen, once
GRAPH_TEMPLATES = [
    "two_branch",
    "multi_head",
    "inception_block",
    "residual_block",
    "digits_seq2seq",
    "digits_siamese",
]


# --------------------------------------------------------------------------- helpers


def _keras_loaded() -> bool:
    # Not just "in sys.modules": app.py imports Keras in a background thread meanwhile.
    return paths.module_ready("keras") and paths.module_ready("builder.checker")


def _check(project: dict):
    """The checker's result with the wiring faults folded in.

    Branches not yet connected to an output are checked as if they were outputs, so they
    show shapes while being drawn; the faults then keep the model from counting as valid.
    """
    from builder import advice, checker, fit_check

    info = advice.data_info_for(project)
    result = checker.shapes(graph.checkable(project))
    # Advice and the data checks read the real outputs, not the branches checked as if
    # they were outputs.
    advice.attach(project, result, info)
    fit_check.attach(project, result, info)
    faults = graph.faults(project)
    if faults:
        result.valid = False
        result.errors.extend(f.message for f in faults if f.message not in result.errors)
    return result


def _say(message: str) -> None:
    st.session_state[NOTICE] = message


def _commit(project: dict) -> None:
    state.set_project(project)


def _is_node(project: dict, name: str | None) -> bool:
    return name is not None and name in graph.node_names(project)


def _unfolded() -> set[str]:
    return set(st.session_state.get(UNFOLDED, ()))


def _drawing(project: dict):
    """The layout as drawn now: which groups are unfolded is this session's view."""
    return layout.view(project, _unfolded())


# --------------------------------------------------------------------------- search


def _show(project: dict, name: str) -> None:
    """Unfold the groups holding ``name``, select it (its settings open) and bring it on
    screen."""
    st.session_state[UNFOLDED] = sorted(
        _unfolded() | set(layout.ancestors(layout.groups(project), name))
    )
    st.session_state[SELECTED] = name
    seq = (st.session_state.get(FOCUS) or {}).get("seq", 0) + 1
    st.session_state[FOCUS] = {"name": name, "seq": seq}


def _on_search() -> None:
    project = state.get_project()
    hits = layout.search(project, st.session_state.get(SEARCH, ""))
    st.session_state[HIT] = 0
    if hits:
        _show(project, hits[0])


def _next_hit() -> None:
    project = state.get_project()
    hits = layout.search(project, st.session_state.get(SEARCH, ""))
    if hits:
        k = (st.session_state.get(HIT, 0) + 1) % len(hits)
        st.session_state[HIT] = k
        _show(project, hits[k])


def _fold_all(unfold: bool, found: list) -> None:
    st.session_state[UNFOLDED] = sorted(g.id for g in found) if unfold else []


# --------------------------------------------------------------------------- gestures


def _on_action(action: dict) -> None:
    """Apply one gesture from the graph editor to the project (see ui.graph_component)."""
    from builder.fixes import apply_fix

    project = state.get_project()
    kind = action["type"]
    name = action.get("name")
    if kind in ("undo", "redo"):
        (state.undo if kind == "undo" else state.redo)()
        return
    if kind in ("expand", "collapse"):  # the view changes, not the project
        shown = _unfolded()
        (shown.add if kind == "expand" else shown.discard)(name)
        st.session_state[UNFOLDED] = sorted(shown)
        return
    try:
        if kind == "select":
            st.session_state[SELECTED] = name
            return
        if kind == "add":
            spot = layout.free_spot(_drawing(project).positions, action["x"], action["y"])
            project, new = graph.add_node(
                project, action["class_name"], action["source"] or None, spot
            )
            st.session_state[SELECTED] = new
        elif kind == "connect":
            project = graph.connect(project, action["source"], action["target"])
        elif kind == "disconnect":
            project = graph.disconnect(project, action["source"], action["target"])
        elif kind == "connect_arg":  # a tensor call argument (initial_state, mask, ...)
            project = graph.connect_arg(project, action["source"], action["target"], action["arg"])
        elif kind == "reuse":  # another call of the layer, with its weights
            project, new = graph.reuse(project, name)
            st.session_state[SELECTED] = new
        elif kind == "move":
            project = graph.move_node(project, name, action["x"], action["y"])
        elif kind == "delete":
            if edit.is_stack(project) and not any(
                i["name"] == name for i in project["model"]["inputs"]
            ):
                project = edit.delete_layer(project, name)  # a stack stays a stack
            else:
                project = graph.delete_node(project, name)
            if st.session_state.get(SELECTED) == name:
                st.session_state[SELECTED] = None
        elif kind == "apply_fix":
            fixes = node_fixes(_check(project), name)
            if action["fix"] >= len(fixes):
                _say("That fix no longer applies: the model changed. Look at the node again.")
                return
            project = apply_fix(project, fixes[action["fix"]])
    except (ProjectError, KeyError) as err:
        _say(graph_form.plain(err))
        return
    _commit(project)


def _apply_error_fix(fix) -> None:
    """A model-level error's fix (validation settings that cannot split the data)."""
    from builder.fixes import apply_fix

    try:
        _commit(apply_fix(state.get_project(), fix))
    except (ProjectError, KeyError) as err:
        _say(graph_form.plain(err))


def _to_graph() -> None:
    _commit(graph.to_graph(state.get_project()))


def _to_stack() -> None:
    try:
        _commit(graph.to_stack(state.get_project()))
    except ProjectError as err:
        _say(graph_form.plain(err))


def _tidy() -> None:
    _commit(graph.clear_positions(state.get_project()))


def _add_input() -> None:
    try:
        shape = forms.from_text({"type": "shape"}, st.session_state["graph_new_input"])
        shape = shape if isinstance(shape, list) else [shape]
        project, name = graph.add_input(
            state.get_project(), shape, st.session_state["graph_new_input_dtype"]
        )
    except (ValueError, ProjectError) as err:
        _say(graph_form.plain(err))
        return
    st.session_state[SELECTED] = name
    _commit(project)


def _connect_from(target: str, key: str) -> None:
    source = st.session_state.get(key)
    arg = st.session_state.get(f"{key}:arg") or ""
    if source and arg:
        _on_action({"type": "connect_arg", "source": source, "target": target, "arg": arg})
    elif source:
        _on_action({"type": "connect", "source": source, "target": target})


def _reuse(name: str) -> None:
    _on_action({"type": "reuse", "name": name})


def _disconnect(source: str, target: str) -> None:
    _on_action({"type": "disconnect", "source": source, "target": target})


def _use_template(name: str) -> None:
    open_template(name, graph_form.FORM, SELECTED)


# --------------------------------------------------------------------------- page parts


def _toolbar(project: dict) -> None:
    cols = st.columns([1, 1, 2, 2, 2, 2])
    undo_redo(cols[0], cols[1], "graph")
    if edit.is_stack(project):
        cols[2].button(
            "Graph mode",
            on_click=_to_graph,
            key="graph_mode",
            width="stretch",
            help="Write every connection out explicitly, so layers can be joined "
            "freely. 'Back to a stack' undoes it while the model is a chain.",
        )
    else:
        cols[2].button(
            "Back to a stack",
            on_click=_to_stack,
            key="graph_stack",
            width="stretch",
            help="Only a chain (one input, each layer reading the one before, one "
            "output) can be a stack; otherwise you are told what to change.",
        )
    cols[3].button(
        "Tidy layout",
        on_click=_tidy,
        key="graph_tidy",
        width="stretch",
        help="Forget the positions you gave nodes and lay the graph out again.",
    )
    with cols[4].popover("Add input", width="stretch"):
        st.text_input(
            "Shape",
            value="10",
            key="graph_new_input",
            help="One sample's shape without the batch axis, e.g. 10 or 28, 28, 1.",
        )
        st.selectbox("Values", projectlib.INPUT_DTYPES, key="graph_new_input_dtype")
        st.button("Add this input", on_click=_add_input, key="graph_add_input")
    menu = menu_key("graph_templates")
    with cols[5].popover("Templates", width="stretch", key=menu):
        st.caption(TEMPLATES_NOTE)
        template_buttons(GRAPH_TEMPLATES, "graph", _use_template, menu_key=menu)


def _mode_caption(project: dict) -> None:
    if edit.is_stack(project):
        st.caption(
            "This project is a plain stack (each layer reads the one before). Editing "
            "connections here turns it into a graph; 'Back to a stack' returns while "
            "it is still a chain."
        )
    elif graph.is_chain(project):
        st.caption("Graph mode. The model is still a chain, so it can go back to a stack.")
    else:
        st.caption("Graph mode (functional API): branches, merges, several inputs or outputs.")


def _sources(project: dict, result) -> dict[str, str]:
    """Every source a layer can read, with its label: each node, and each further output
    of a layer that has several ("enc:1": "enc:1 (state_h)")."""
    from builder.checker import output_names

    found = {n: n for n in graph.node_names(project)}
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    for report in result.layers if result is not None else []:
        shape = report.output_shape
        if report.name in layers and shape and isinstance(shape[0], list) and len(shape) > 1:
            lay = layers[report.name]
            names = output_names(lay["class_name"], lay.get("config", {}), len(shape))
            for k in range(1, len(shape)):
                found[f"{report.name}:{k}"] = f"{report.name}:{k} ({names[k]})"
    return found


def _connections(project: dict, name: str, result=None) -> None:
    """The selected layer's inputs and tensor call arguments as a list, with a
    keyboard-friendly way to connect either, and "reuse this layer here"."""
    links = topology.inbound_of(project["model"])
    srcs = links.get(name, [])
    layer = next(lay for lay in project["model"]["layers"] if lay["name"] == name)
    calls = topology.call_sources(layer)
    st.markdown("**Inputs of this layer**")
    for src in srcs:
        a, b = st.columns([3, 2])
        a.markdown(f"{code(src)}")
        b.button(
            "Disconnect",
            key=f"graph_disc:{src}:{name}",
            on_click=_disconnect,
            args=(src, name),
            disabled=len(srcs) == 1,
            help="A layer keeps at least one input: connect another one first."
            if len(srcs) == 1
            else None,
        )
    for arg, src in calls:
        a, b = st.columns([3, 2])
        a.markdown(f"{code(src)} as {code(arg)}")
        b.button(
            "Disconnect",
            key=f"graph_disc_arg:{arg}:{src}:{name}",
            on_click=_disconnect,
            args=(src, name),
        )
    sources = _sources(project, result)
    candidates = [n for n in sources if topology.split_ref(n)[0] != name and n not in srcs]
    key = f"graph_connect_from:{name}"
    st.selectbox(
        "Connect as",
        [""] + list(CALL_TENSOR_ARGS),
        key=f"{key}:arg",
        format_func=lambda v: v or "an input",
        help="An input of the layer, or a tensor argument of its call (initial_state "
        "for an RNN's starting states, mask, attention_mask ...).",
    )
    st.selectbox(
        "Connect from",
        [""] + candidates,
        key=key,
        on_change=_connect_from,
        args=(name, key),
        format_func=lambda v: sources.get(v, v) if v else "choose a node",
        help="The same as dragging from that node's output port to this one.",
    )
    owner = layer.get("shares")
    if owner:
        st.caption(f"A call of '{md(owner)}': it uses the weights of that layer.")
    st.button(
        "Reuse this layer here",
        key=f"graph_reuse:{name}",
        on_click=_reuse,
        args=(name,),
        help="Adds another call of this layer (the same weights, as in a Siamese network "
        "or a shared Embedding): connect its input to what it should read.",
    )


def _problems(project: dict, faults: list, result) -> None:
    shown = False
    for fault in faults:
        st.error(md(fault.message))
        shown = True
    if result is not None:
        said = {f.message for f in faults}
        for i, message in enumerate(result.errors):
            if message in said or (faults and message.startswith("model.")):
                continue  # the same wiring problem, already said above in graph words
            forms.model_error(result, i, message, "graph", _apply_error_fix)
            shown = True
        fault_nodes = {n for f in faults for n in f.nodes}
        for report in result.layers:
            if report.error and report.name not in fault_nodes and not report.tentative:
                st.error(f"**{md(report.name)}**: {md(report.error)}")
                shown = True
        for report in result.layers:  # the nodes show one line of it; here it is whole
            for advice in report.warnings:
                st.warning(f"**{md(report.name)}**: {md(advice.message)}")
    if not shown:
        if result is None:
            st.caption("No wiring problems. Shapes are checked once TensorFlow has loaded.")
        else:
            st.success(
                "No problems: every node connects an input to an output and Keras "
                "accepts every layer."
            )


def _search_bar(project: dict, found: list) -> list[str]:
    """The search field (and fold buttons for a big graph); returns the matching names."""
    cols = st.columns([4, 1, 1, 1] if found else [4, 1], vertical_alignment="bottom")
    cols[0].text_input(
        "Find a layer",
        key=SEARCH,
        on_change=_on_search,
        placeholder="Part of a layer name, e.g. conv5_block16",
        help="Highlights every layer whose name contains this text (any case), unfolds "
        "the group holding the first one, selects it and brings it on screen.",
    )
    hits = layout.search(project, st.session_state.get(SEARCH, ""))
    cols[1].button(
        "Next match",
        on_click=_next_hit,
        key="graph_next_hit",
        width="stretch",
        disabled=len(hits) < 2,
    )
    if found:
        cols[2].button(
            "Unfold all",
            on_click=_fold_all,
            args=(True, found),
            key="graph_unfold_all",
            width="stretch",
            help="Draw every layer (the canvas gets long: hundreds of layers).",
        )
        cols[3].button(
            "Fold all",
            on_click=_fold_all,
            args=(False, found),
            key="graph_fold_all",
            width="stretch",
            help="Draw each group as one node again.",
        )
    # Shown as code, so what was typed is not read as Markdown (names have no backticks).
    text = st.session_state.get(SEARCH, "").strip().replace("`", "")
    if text:
        if hits:
            k = st.session_state.get(HIT, 0) % len(hits)
            shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5:,} more" if len(hits) > 5 else "")
            said = "1 node matches" if len(hits) == 1 else f"{len(hits):,} nodes match"
            st.caption(
                f"{md(said)} {code(text)} (showing {md(k + 1)} of {len(hits):,}): {md(shown)}."
            )
        else:
            st.caption(f"No node name contains {code(text)}.")
    elif found:
        st.caption(
            f"A big graph: {len(found)} groups (Keras blocks and stages, branching modules, "
            "long chains, sections) are drawn as one node each until unfolded. Click a "
            "group to unfold it; its frame's left strip folds it again. Folding changes "
            "only this view, not the model."
        )
    return hits


# --------------------------------------------------------------------------- compile


def _compile_section(project: dict, result) -> None:
    if not project["model"].get("outputs"):
        st.caption("Mark a layer as a model output (select it, then tick 'Model output').")
        return
    from builder.advice import recommended_losses

    # Each output's own CSV column marks the loss that suits it (none when they share one).
    recommended = recommended_losses(project) or None if result is not None else None
    compile_form.compile_editor(project, "graph", recommended, result=result)


# --------------------------------------------------------------------------- the page


project = state.get_project()
selected = st.session_state.get(SELECTED)
if selected is not None and not _is_node(project, selected):
    st.session_state[SELECTED] = selected = None

result = None
if _keras_loaded():
    result = _check(project)
    state.show_status(result)
faults = graph.faults(project)

st.title("Graph")
_toolbar(project)
_mode_caption(project)
notice = st.session_state.pop(NOTICE, None)
if notice:
    st.error(md(notice))

found = layout.groups(project)
hits = _search_bar(project, found)
# The canvas takes the page's whole width; the selected node's settings come below it.
view = build_view(
    project,
    result,
    selected,
    faults,
    layout.view(project, _unfolded(), found=found),
    hits,
    st.session_state.get(FOCUS),
)
action = graph_editor(view, key=EDITOR_KEY, on_action=_on_action)
if action is not None:  # it did not come through the callback (AppTest)
    _on_action(action)
    st.rerun()
if result is None:
    st.info("Loading TensorFlow to check shapes and count parameters...")
with st.container(border=True):
    st.subheader("Settings")
    if selected is None:
        st.caption("Select a node to edit it. Inputs:")
        for inp in project["model"]["inputs"]:
            graph_form.input_form(project, inp["name"])
    elif any(i["name"] == selected for i in project["model"]["inputs"]):
        graph_form.input_form(project, selected)
    else:
        # a call of a shared layer is edited through that layer (one set of settings)
        shared = next(
            (lay.get("shares") for lay in project["model"]["layers"] if lay["name"] == selected),
            None,
        )
        graph_form.layer_form(project, shared or selected, SELECTED)
        _connections(project, selected, result)

st.subheader("Problems")
data_choice.offer(project, "graph_use_suggested")
_problems(project, faults, result)
if result is not None:
    st.metric("Parameters", f"{result.total_params:,}")
with st.expander("Compile: optimizer; loss, weight and metrics per output", expanded=True):
    _compile_section(project, result)

if result is None:
    preload.await_keras()  # reruns the page once TensorFlow has loaded
