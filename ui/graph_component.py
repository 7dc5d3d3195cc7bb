"""The graph editor (functional API mode), a Streamlit custom component (v2).

Like the stack editor (``ui.stack_component``), the component draws a *view* dict and
reports each user gesture as one *action*; it never owns the graph. The page applies the
action to the project through ``builder.graph`` / ``builder.edit`` and sends a new view.

View (built by ``build_view`` from the project, the checker's result, the graph faults and
the layout)::

    {"nodes": [{"name": "d1", "kind": "input" | "layer" | "group", "class_name": "Dense",
                "summary": "16 units, relu", "output_shape": "(None, 16)",
                "params": "12,560", "status": "ok" | "error" | "tentative",
                "error": str | None, "fixes": [{"label": "..."}], "warnings": [str],
                "x": 24.0, "y": 190.0, "is_output": bool, "multi": bool,
                "match_count": int,             # search hits it is or holds
                "prefix": "conv2_block1",       # the enclosing block's name, if it starts it
                "ports": ["output", "state_h", "state_c"],  # several outputs, else []
                "shares": "tower" | None}],     # a further call of a shared layer
     "edges": [{"source": "x", "target": "d1", "slot": 0, "shape": "(None, 784)",
                "bends": [[x, y], ...], "status": "ok" | "error",
                "folded": bool,                 # from or to a folded group
                "ref": "enc:1", "port": 1,      # the exact source and its output port
                "label": "state_h → initial_state",    # output and call argument, or ""
                "arg": "initial_state"}],       # the call argument it feeds, or ""
     "frames": [{"id": "group:conv2", "label": "conv2", "summary": "6 blocks · 42 layers",
                 "x": ..., "y": ..., "w": ..., "h": ...}],   # unfolded groups
     "palette": [...], "categories": [...],      # as for the stack editor
     "selected": "d1" | None,
     "focus": {"name": "d1", "seq": 3} | None}  # bring on screen, once per seq

A folded group (``builder.layout.groups``: a Keras block, a stage of blocks, a long chain)
is a node of kind "group" named by its id ("group:conv2"), with ``label`` the block's
name; its shape is the one leaving it, its parameters those of every layer inside.

Actions (``seq`` grows with every gesture; positions are canvas pixels of the node's
top-left corner; ``source`` of "add" may be "" for "the first input")::

    {"type": "add", "class_name": "Dense", "x": 40, "y": 300, "source": "d1", "seq": ...}
    {"type": "connect" | "disconnect", "source": "d1", "target": "add", "seq": ...}
                                    # source "enc:1": output 1 of enc (a port)
    {"type": "move", "name": "d1", "x": 40, "y": 300, "seq": ...}
    {"type": "select" | "delete", "name": "d1", "seq": ...}
    {"type": "apply_fix", "name": "d1", "fix": 0, "seq": ...}
    {"type": "expand" | "collapse", "name": "group:conv2", "seq": ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from builder.topology import split_ref
from ui import component_actions

# Field kinds (see ``ui.component_actions``): "name" a non-empty string, "text" any
# string, "index" an int >= 0, "coord" a finite number of canvas pixels.
ACTION_FIELDS: dict[str, dict[str, str]] = {
    "add": {"class_name": "name", "x": "coord", "y": "coord", "source": "text"},
    "connect": {"source": "name", "target": "name"},
    "disconnect": {"source": "name", "target": "name"},
    "move": {"name": "name", "x": "coord", "y": "coord"},
    "select": {"name": "name"},
    "delete": {"name": "name"},
    "apply_fix": {"name": "name", "fix": "index"},
    "expand": {"name": "name"},  # a folded group's id: draw its layers
    "collapse": {"name": "name"},  # an unfolded group's id: draw it as one node again
    "undo": {},  # Ctrl+Z
    "redo": {},  # Ctrl+Shift+Z, Ctrl+Y
}

_mount = component_actions.component("netbuilder_graph_editor", "graph")


def parse_action(raw: Any) -> dict | None:
    """Return ``raw`` as a clean action dict, or None when it is not a valid action.

    Keeps only the fields of its type (see ``ACTION_FIELDS``) plus ``seq``.

    >>> parse_action({"type": "connect", "source": "a", "target": "b", "seq": 3, "x": 1})
    {'type': 'connect', 'source': 'a', 'target': 'b', 'seq': 3}
    >>> parse_action({"type": "move", "name": "a", "x": float("nan"), "y": 0, "seq": 4}) is None
    True
    """
    return component_actions.parse(raw, ACTION_FIELDS)


def graph_editor(
    view: dict, key: str, on_action: Callable[[dict], None] | None = None
) -> dict | None:
    """Draw the graph editor for ``view`` and return the user's new action.

    Same contract as ``ui.stack_component.stack_editor``: each action is returned once
    (deduplicated by ``seq``); with ``on_action`` it is delivered from the change callback,
    before the script body runs, and an action that did not come through the callback
    (AppTest drives the component through its session-state key) is returned here.
    """
    return component_actions.mount(_mount, view, key, parse_action, on_action)


# ---------------------------------------------------------------- view building


def node_fixes(result: Any, name: str) -> list:
    """The fixes offered on a node, in node order (an action's ``fix`` indexes this)."""
    from ui.stack_component import layer_fixes

    return layer_fixes(result, name)


def build_view(
    project: dict,
    result: Any = None,
    selected: str | None = None,
    faults: list | None = None,
    drawing: Any = None,
    matches: list[str] | None = None,
    focus: dict | None = None,
) -> dict:
    """The component's view of ``project``.

    ``result`` is the checker's (None while TensorFlow loads: shapes read "pending"),
    ``faults`` the ``builder.graph.faults`` list (shown on the nodes they name when the
    checker has no error there), ``drawing`` the ``builder.layout.view`` to draw (which
    groups are folded, positions, bends of long edges; by default every group folded).
    ``matches`` are the node names a search found (highlighted; a folded group counts the
    ones inside it); ``focus`` ({"name", "seq"}) the node to bring on screen once per seq.
    """
    from builder import catalogue, layout

    model = project["model"]
    drawing = drawing if drawing is not None else layout.view(project)
    groups = drawing.groups
    shown = {n["name"]: n for n in _node_items(project, result, faults or [])}
    shapes = {name: node["output_shape"] for name, node in shown.items()}
    found = set(matches or [])
    # A layer drawn inside an unfolded block shows its name's end in full and lets the
    # block's name, which its frame already shows, be cut short.
    prefix = {}
    for group in groups.values():
        if group.kind not in ("stage", "block"):
            continue
        for m in group.members:
            if m.startswith(group.label + "_") and len(group.label) > len(prefix.get(m, "")):
                prefix[m] = group.label
    nodes = []
    for item in drawing.items:
        x, y = drawing.positions.get(item, (0.0, 0.0))
        if item in groups:
            node = _group_item(groups[item], groups, shown, drawing, found)
        else:
            node = {**shown[item], "match_count": int(item in found)}
            if item in prefix:
                node["prefix"] = prefix[item]
        nodes.append({**node, "x": x, "y": y})
    status = {n["name"]: n["status"] for n in nodes}
    edges = []
    drawn: set[tuple[str, str]] = set()
    slots: dict[str, int] = {}
    item_of = drawing.item_of
    ports = {n["name"]: n.get("ports") or [] for n in nodes}
    port_shapes = {name: node.get("port_shapes") for name, node in shown.items()}
    for src, dst, ref, label, arg in _connections(model):
        if src not in item_of or item_of[src] == item_of[dst]:
            continue
        pair = (item_of[src], item_of[dst])
        folded = pair != (src, dst)
        if folded and pair in drawn:
            continue  # one edge stands for every connection between the two
        drawn.add(pair)
        slot = slots.get(pair[1], 0)
        slots[pair[1]] = slot + 1
        port = split_ref(ref)[1]
        own = port_shapes.get(src) or []
        shape = own[port] if port < len(own) else shapes.get(src)
        edges.append(
            {
                "source": pair[0],
                "target": pair[1],
                "slot": slot,
                "shape": shape,
                "bends": [list(b) for b in drawing.routes.get(pair, [])],
                "status": "error" if status.get(pair[1]) == "error" else "ok",
                "folded": folded,
                # the exact source ("enc:1") and what the edge carries into what
                "ref": ref,
                "port": port if port < max(len(ports.get(pair[0], [])), 1) else 0,
                "label": label,
                "arg": arg,
            }
        )
    frames = [
        {
            "id": gid,
            "label": groups[gid].label,
            "summary": groups[gid].summary(groups),
            "x": x,
            "y": y,
            "w": w,
            "h": h,
        }
        for gid, (x, y, w, h) in drawing.frames.items()
    ]
    visible = {n["name"] for n in nodes}
    return {
        "nodes": nodes,
        "edges": edges,
        "frames": frames,
        "palette": catalogue.palette(),
        "categories": catalogue.categories(),
        "selected": selected if selected in visible else None,
        "focus": focus if focus and focus.get("name") in visible else None,
    }


def _connections(model: dict) -> list[tuple[str, str, str, str, str]]:
    """Every connection as (source node, target layer, exact source reference, label, call
    argument): the label names the source's output when it is not the first ("state_h")
    and the call argument it feeds ("initial_state"), joined by an arrow; "" for a plain
    input."""
    from builder.checker import output_names
    from builder.topology import call_sources, inbound_of

    by_name = {lay["name"]: lay for lay in model["layers"]}
    found = []

    def port_label(ref: str) -> str:
        node, index = split_ref(ref)
        if not index or node not in by_name:
            return ""
        lay = by_name[node]
        return output_names(lay["class_name"], lay.get("config", {}), index + 1)[index]

    links = inbound_of(model)
    for lay in model["layers"]:
        for ref in links[lay["name"]]:
            found.append((split_ref(ref)[0], lay["name"], ref, port_label(ref), ""))
        for arg, ref in call_sources(lay):
            label = " → ".join(x for x in (port_label(ref), arg) if x)
            found.append((split_ref(ref)[0], lay["name"], ref, label, arg))
    return found


_KIND_WORD = {
    "stage": "Stage",
    "block": "Block",
    "module": "Module",
    "chain": "Chain",
    "section": "Section",
}


def _group_item(group: Any, groups: dict, shown: dict, drawing: Any, found: set) -> dict:
    """A folded group as one node: the shape leaving it, its parameters, its problems."""
    inside = [shown[m] for m in group.members]
    leaving = [src for (s, _), links in drawing.edges.items() if s == group.id for src, _ in links]
    last = shown[leaving[0] if leaving else group.members[-1]]
    errors = [n["name"] for n in inside if n["status"] == "error"]
    if errors:
        status = "error"
    elif any(n["status"] == "tentative" for n in inside):
        status = "tentative"
    else:
        status = "ok"
    params = None
    if all(n["params"] is not None for n in inside):
        params = f"{sum(int(n['params'].replace(',', '')) for n in inside):,}"
    error = None
    if errors:
        named = ", ".join(errors[:3]) + (f" and {len(errors) - 3} more" if len(errors) > 3 else "")
        error = f"{len(errors)} layer{'s' if len(errors) > 1 else ''} inside with errors: {named}."
    return {
        "name": group.id,
        "kind": "group",
        "class_name": _KIND_WORD[group.kind],
        "label": group.label,
        "summary": group.summary(groups),
        "output_shape": last["output_shape"],
        "params": params,
        "status": status,
        "error": error,
        "fixes": [],
        "warnings": [],
        "is_output": any(n["is_output"] for n in inside),
        "multi": False,
        "match_count": sum(1 for m in group.members if m in found),
    }


def _ports(result: Any, lay: dict) -> tuple[list[str], list[str]]:
    """Keras' names of a layer's outputs when it has several (output, state_h, state_c)
    and their shapes, from the checker; empty for one output or while shapes are pending."""
    from builder.checker import output_names
    from builder.results import fmt_shape

    report = None
    if result is not None:
        report = next((r for r in result.layers if r.name == lay["name"]), None)
    shape = report.output_shape if report is not None else None
    if not (shape and isinstance(shape[0], list) and len(shape) > 1):
        return [], []
    names = output_names(lay["class_name"], lay.get("config", {}), len(shape))
    return names, [fmt_shape(s) for s in shape]


def _node_items(project: dict, result: Any, faults: list) -> list[dict]:
    """Every input and layer as a node (position left out), file order."""
    from builder import catalogue
    from builder.results import fmt_shape
    from ui.stack_component import layer_item

    model = project["model"]
    outputs = set(model.get("outputs", []))
    nodes = []
    for inp in model["inputs"]:
        own = [f.message for f in faults if inp["name"] in f.nodes]
        nodes.append(
            {
                "name": inp["name"],
                "kind": "input",
                "class_name": "Input",
                "summary": inp.get("dtype", "float32"),
                "output_shape": fmt_shape([None] + list(inp["shape"])),
                "params": None,
                "status": "error" if own else "ok",
                "error": " ".join(own) or None,
                "fixes": [],
                "warnings": [],
                "is_output": False,
                "multi": False,
            }
        )
    for lay in model["layers"]:
        name, class_name = lay["name"], lay["class_name"]
        try:
            summary = catalogue.summary(class_name, lay.get("config", {}))
            multi = catalogue.get(class_name)["inputs"]["max"] != 1
        except (KeyError, ValueError, TypeError):
            summary, multi = "", False
        own = [f.message for f in faults if name in f.nodes]
        owner = lay.get("shares")
        item = {
            **layer_item(result, name, class_name, summary),
            "kind": "layer",
            "is_output": name in outputs,
            "multi": multi,
            "shares": owner,
        }
        if owner:  # a further call of a shared layer: drawn as one of its call sites
            item["summary"] = f"call of {owner} (shared weights) · {item['summary']}"
        item["ports"], item["port_shapes"] = _ports(result, lay)
        if own:
            # Wiring faults say it in graph words; the checker's own text for them (a
            # project-file problem, "Add 'm': no output depends on...") would repeat one
            # and hide the others. Keras' shape errors are kept beside them.
            # Keras' arity refusal ("merges at least 2 inputs") is the wiring fault again.
            keras_error = (
                item["error"]
                if item["error"]
                and not item["error"].startswith(
                    (
                        f"{class_name} '{name}': ",
                        f"{class_name} '{name}' merges ",
                        f"{class_name} '{name}' takes ",
                    )
                )
                else None
            )
            item["error"] = " ".join(own + ([keras_error] if keras_error else []))
            item["status"] = "error"
        nodes.append(item)
    return nodes
