"""The graph editor (functional API mode), a Streamlit custom component (v2).

Like the stack editor (``ui.stack_component``), the component draws a *view* dict and
reports each user gesture as one *action*; it never owns the graph. The page applies the
action to the project through ``builder.graph`` / ``builder.edit`` and sends a new view.

View (built by ``build_view`` from the project, the checker's result, the graph faults and
the layout)::

    {"nodes": [{"name": "d1", "kind": "input" | "layer", "class_name": "Dense",
                "summary": "16 units, relu", "output_shape": "(None, 16)",
                "params": "12,560", "status": "ok" | "error" | "tentative",
                "error": str | None, "fixes": [{"label": "..."}], "warnings": [str],
                "x": 24.0, "y": 190.0, "is_output": bool, "multi": bool}],
     "edges": [{"source": "x", "target": "d1", "slot": 0, "shape": "(None, 784)",
                "bends": [[x, y], ...], "status": "ok" | "error"}],
     "palette": [...], "categories": [...],      # as for the stack editor
     "selected": "d1" | None}

Actions (``seq`` grows with every gesture; positions are canvas pixels of the node's
top-left corner; ``source`` of "add" may be "" for "the first input")::

    {"type": "add", "class_name": "Dense", "x": 40, "y": 300, "source": "d1", "seq": ...}
    {"type": "connect" | "disconnect", "source": "d1", "target": "add", "seq": ...}
    {"type": "move", "name": "d1", "x": 40, "y": 300, "seq": ...}
    {"type": "select" | "delete", "name": "d1", "seq": ...}
    {"type": "apply_fix", "name": "d1", "fix": 0, "seq": ...}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
    positions: Mapping[str, tuple[float, float]] | None = None,
    routes: Mapping[tuple[str, str], list] | None = None,
) -> dict:
    """The component's view of ``project``.

    ``result`` is the checker's (None while TensorFlow loads: shapes read "pending"),
    ``faults`` the ``builder.graph.faults`` list (shown on the nodes they name when the
    checker has no error there), ``positions`` and ``routes`` the layout's
    (``builder.layout.layout`` / ``edge_routes``: bend points of long edges).
    """
    from builder import catalogue, layout
    from builder.results import fmt_shape
    from builder.topology import inbound_of
    from ui.stack_component import layer_item

    model = project["model"]
    positions = positions if positions is not None else layout.layout(project)
    routes = routes if routes is not None else layout.edge_routes(project)
    faults = faults or []
    outputs = set(model.get("outputs", []))
    shapes: dict[str, str | None] = {}
    nodes = []
    for inp in model["inputs"]:
        shape = fmt_shape([None] + list(inp["shape"]))
        shapes[inp["name"]] = shape
        x, y = positions.get(inp["name"], (0.0, 0.0))
        own = [f.message for f in faults if inp["name"] in f.nodes]
        nodes.append(
            {
                "name": inp["name"],
                "kind": "input",
                "class_name": "Input",
                "summary": inp.get("dtype", "float32"),
                "output_shape": shape,
                "params": None,
                "status": "error" if own else "ok",
                "error": " ".join(own) or None,
                "fixes": [],
                "warnings": [],
                "x": x,
                "y": y,
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
        x, y = positions.get(name, (0.0, 0.0))
        item = {
            **layer_item(result, name, class_name, summary),
            "kind": "layer",
            "x": x,
            "y": y,
            "is_output": name in outputs,
            "multi": multi,
        }
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
        shapes[name] = item["output_shape"]
        nodes.append(item)
    status = {n["name"]: n["status"] for n in nodes}
    edges = []
    known = set(shapes)
    for dst, srcs in inbound_of(model).items():
        for slot, src in enumerate(srcs):
            if src in known:
                edges.append(
                    {
                        "source": src,
                        "target": dst,
                        "slot": slot,
                        "shape": shapes.get(src),
                        "bends": [list(b) for b in routes.get((src, dst), [])],
                        "status": "error" if status.get(dst) == "error" else "ok",
                    }
                )
    return {
        "nodes": nodes,
        "edges": edges,
        "palette": catalogue.palette(),
        "categories": catalogue.categories(),
        "selected": selected if selected in known else None,
    }
