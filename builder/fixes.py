"""Apply a one-click fix offered by the checker or the advice.

A fix is plain data (``{"op": ..., ...}``) so the page can show it, the CLI can print it and
a test can compare it; this module turns it into an edit through ``builder.edit``.
"""

from __future__ import annotations

import copy

from builder import edit
from builder.project import ProjectError
from builder.results import Fix


def apply_fix(project: dict, fix: Fix | dict) -> dict:
    """Return the project with the fix applied (ProjectError if it no longer applies)."""
    action = fix.action if isinstance(fix, Fix) else fix.get("action", fix)
    op = action.get("op")
    target = action.get("target")
    if op == "insert_before":
        layer = action["layer"]
        return edit.insert_before(project, target, layer["class_name"], layer.get("config", {}))[0]
    if op == "set_config":
        return edit.set_param(project, target, action["key"], action["value"])
    if op == "replace_class":
        return edit.replace_class(project, target, action["class_name"], action.get("config"))
    if op == "remove":
        return edit.delete_layer(project, target)
    if op == "set_input":
        return edit.set_input(project, target, action["shape"], action.get("dtype", "float32"))
    if op == "set_compile":
        p = copy.deepcopy(project)
        key, output, value = action["key"], action.get("output"), action["value"]
        current = p["compile"].get(key)
        outputs = p["model"].get("outputs", [])
        if output and not isinstance(current, dict) and len(outputs) > 1:
            # One setting for every output becomes one per output, this one changed.
            current = p["compile"][key] = {out: copy.deepcopy(current) for out in outputs}
        if output and isinstance(current, dict):
            current[output] = value
        else:
            p["compile"][key] = value
        return p
    if op == "set_fit":
        return edit.set_fit(project, action["key"], action["value"])
    if op == "retrain":
        return edit.retrain(project, action["epochs"])
    if op == "set_data_option":
        return edit.set_data_option(project, action["key"], action["value"])
    if op == "add_after":
        layer = action["layer"]
        return edit.add_after(project, target, layer["class_name"], layer.get("config", {}))[0]
    if op == "resume":
        raise ProjectError(
            "resuming continues the run itself, not a project: use Resume on the Results "
            "page or python -m builder train --resume RUN_FOLDER --epochs "
            f"{action.get('epochs')}."
        )
    if op == "set_data":  # a dataset the user picks: the model's input follows it
        return edit.follow_data({**project, "data": copy.deepcopy(action["value"])})[0]
    raise ProjectError(f"unknown fix operation {op!r}.")
