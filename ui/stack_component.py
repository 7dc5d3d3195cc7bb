"""The drag-and-drop layer stack editor, a Streamlit custom component (v2).

The component draws a palette of layer types and the stack of layer cards from a
*view* dict, and reports each user gesture as one *action*. It never owns the
layer list: the page applies the action to the project and sends a new view.

View (built by the page from the project and the checker's result)::

    {"inputs": [{"name": "pixels", "shape": "(None, 784)"}],
     "palette": [{"class_name": "Dense", "label": "Dense", "category": "core",
                  "help": "..."}],
     "categories": [{"id": "core", "label": "Core"}],
     "layers": [{"name": "d1", "class_name": "Dense", "summary": "16 units, relu",
                 "output_shape": "(None, 16)", "params": "12,560",
                 "status": "ok" | "error" | "tentative", "error": str | None,
                 "fixes": [{"label": "Insert Flatten before it"}],
                 "warnings": [str]}],
     "selected": "d1" | None}

Actions (``index`` is the layer's final position in the stack, ``fix`` an index
into that layer's ``fixes``, ``seq`` grows with every gesture)::

    {"type": "add", "class_name": "Dense", "index": 1, "seq": ...}
    {"type": "move", "name": "d1", "index": 0, "seq": ...}
    {"type": "select" | "delete" | "duplicate", "name": "d1", "seq": ...}
    {"type": "apply_fix", "name": "d1", "fix": 0, "seq": ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ui import component_actions

# Fields each action type carries besides "type" and "seq", with their kind
# (see ``ui.component_actions``: "name" a non-empty string, "index" an int >= 0).
ACTION_FIELDS: dict[str, dict[str, str]] = {
    "add": {"class_name": "name", "index": "index"},
    "move": {"name": "name", "index": "index"},
    "select": {"name": "name"},
    "delete": {"name": "name"},
    "duplicate": {"name": "name"},
    "apply_fix": {"name": "name", "fix": "index"},
    "undo": {},  # Ctrl+Z
    "redo": {},  # Ctrl+Shift+Z, Ctrl+Y
    "painted": {},  # the cards are on screen (first paint, while Keras is not loaded)
}

_mount = component_actions.component("netbuilder_stack_editor", "stack")


def parse_action(raw: Any) -> dict | None:
    """Return ``raw`` as a clean action dict, or None when it is not a valid action.

    Keeps only the fields of its type (see ``ACTION_FIELDS``) plus ``seq``;
    indices must be non-negative integers, names non-empty strings.

    >>> parse_action({"type": "select", "name": "d1", "seq": 7, "extra": 1})
    {'type': 'select', 'name': 'd1', 'seq': 7}
    >>> parse_action({"type": "move", "name": "d1", "index": -1, "seq": 8}) is None
    True
    """
    return component_actions.parse(raw, ACTION_FIELDS)


def stack_editor(
    view: dict,
    key: str,
    on_action: Callable[[dict], None] | None = None,
) -> dict | None:
    """Draw the layer stack editor for ``view`` and return the user's new action.

    Returns each action once (deduplicated by its ``seq``), or None when this run
    brought none. With ``on_action``, the action is delivered to it instead, from
    the component's change callback, that is before the script body runs: the
    page can apply it to the project and draw the new state in the same run. An
    action that did not come through the callback (AppTest, where setting the
    component's key in session state drives it) is still returned here.
    """
    return component_actions.mount(_mount, view, key, parse_action, on_action)


# ---------------------------------------------------------------- view building


def layer_fixes(result: Any, name: str) -> list:
    """The fixes offered on a layer's card, in card order: the error's, then the warnings'.

    ``result`` is a ``builder.results.CheckResult``; an action's ``fix`` indexes this list.
    """
    report = result.layer(name) if result is not None else None
    if report is None:
        return []
    return list(report.fixes) + [w.fix for w in report.warnings if w.fix is not None]


def layer_item(result: Any, name: str, class_name: str, summary: str) -> dict:
    """One layer as the editors draw it (a stack card, a graph node): the checker's summary,
    output shape, parameter count, status, error, fixes and warnings for it.

    ``summary`` is the catalogue's, used until the checker has a ``result`` (None while
    TensorFlow loads: the layer is then "tentative", shape and parameters unknown).
    """
    from builder.results import fmt_shape

    item = {
        "name": name,
        "class_name": class_name,
        "summary": summary,
        "output_shape": None,
        "params": None,
        "status": "tentative",
        "error": None,
        "fixes": [],
        "warnings": [],
    }
    report = result.layer(name) if result is not None else None
    if report is not None:
        item["summary"] = report.summary or summary
        item["error"] = report.error
        item["status"] = "error" if report.error else ("tentative" if report.tentative else "ok")
        # A layer that builds but does not fit the data keeps its shape beside the error:
        # "(None, 6, 6, 10)" is what the error is about.
        if report.output_shape is not None:
            item["output_shape"] = fmt_shape(report.output_shape)
            item["params"] = f"{report.params:,}"
        item["fixes"] = [{"label": fix.label} for fix in layer_fixes(result, name)]
        item["warnings"] = [w.message for w in report.warnings]
    return item


def build_view(project: dict, result: Any = None, selected: str | None = None) -> dict:
    """The component's view of ``project``, with the checker's ``result`` when there is one.

    Without a result (TensorFlow still loading) every layer is "tentative": the cards show
    names and settings, and shapes and parameter counts read "pending".
    """
    from builder import catalogue
    from builder.results import fmt_shape

    model = project["model"]
    view_layers = []
    for layer in model["layers"]:
        name, class_name = layer["name"], layer["class_name"]
        try:
            summary = catalogue.summary(class_name, layer.get("config", {}))
        except (KeyError, ValueError, TypeError):
            summary = ""
        view_layers.append(layer_item(result, name, class_name, summary))
    names = {layer["name"] for layer in model["layers"]}
    return {
        "inputs": [
            {"name": inp["name"], "shape": fmt_shape([None] + list(inp["shape"]))}
            for inp in model["inputs"]
        ],
        "palette": catalogue.palette(),
        "categories": catalogue.categories(),
        "layers": view_layers,
        "selected": selected if selected in names else None,
        # No shapes yet: once its cards are on screen the component says so ("painted"),
        # which lets the background Keras import start (ui.preload).
        "announce_paint": result is None,
    }
