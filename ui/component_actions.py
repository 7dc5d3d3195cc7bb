"""What the two editor components share: their actions, and how they are mounted.

Both editors (``ui.stack_component``, ``ui.graph_component``) are Streamlit v2 custom
components that draw a *view* dict and report each user gesture as one *action* through
the trigger ``"action"``. An action is a dict with a ``type``, the fields of that type and
a ``seq`` that grows with every gesture. This module checks actions against a table of
fields per type, hands each one over once (deduplicated by ``seq``, per component key),
and mounts a component with its change callback.

The browser side is shared the same way: ``static/common.js`` and ``static/common.css``
are prepended to each component's own files by ``component``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

STATIC = Path(__file__).parent / "static"
TRIGGER = "action"
COORD_LIMIT = 100_000  # pixels; anything further is a bug or a forged action


def component(name: str, stem: str):
    """Register the v2 component ``name`` from ``static/<stem>.{html,css,js}``.

    The shared ``common.css`` / ``common.js`` come first: the component's own rules may
    override common ones, and its module (which keeps the one ``export default``) calls
    the common functions declared above it.
    """

    def read(filename: str) -> str:
        return (STATIC / filename).read_text(encoding="utf-8")

    return st.components.v2.component(
        name,
        html=read(f"{stem}.html"),
        css=read("common.css") + read(f"{stem}.css"),
        js=read("common.js") + read(f"{stem}.js"),
    )


def field(kind: str, value: Any):
    """``value`` cleaned for ``kind``, or None when it does not fit.

    Kinds: "name" a non-empty string, "text" any string, "index" an int >= 0, "coord" a
    finite number within ``COORD_LIMIT`` (made a float).
    JSON numbers may arrive as floats (3.0 for an index); bools are never numbers.

    >>> field("index", 3.0), field("index", -1), field("coord", float("inf"))
    (3, None, None)
    """
    if kind in ("name", "text"):
        if not isinstance(value, str) or (kind == "name" and not value):
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if kind == "index":
        return int(value) if value == int(value) and value >= 0 else None
    return float(value) if abs(value) <= COORD_LIMIT else None


def parse(raw: Any, spec: Mapping[str, Mapping[str, str]]) -> dict | None:
    """``raw`` as a clean action under ``spec`` (type -> {field: kind}), or None.

    Keeps only the fields of its type plus ``seq`` (a number, made an int).

    >>> parse({"type": "select", "name": "d1", "seq": 7, "x": 1}, {"select": {"name": "name"}})
    {'type': 'select', 'name': 'd1', 'seq': 7}
    """
    if not isinstance(raw, Mapping):
        return None
    fields = spec.get(raw.get("type"))
    seq = raw.get("seq")
    if fields is None or isinstance(seq, bool) or not isinstance(seq, (int, float)):
        return None
    action: dict[str, Any] = {"type": raw["type"]}
    for name, kind in fields.items():
        value = field(kind, raw.get(name))
        if value is None:
            return None
        action[name] = value
    action["seq"] = int(seq)
    return action


def _seq_key(key: str) -> str:
    return f"_editor_seq:{key}"


def claim(key: str, raw: Any, parse_action: Callable[[Any], dict | None]) -> dict | None:
    """The action in ``raw`` the first time it is seen for component ``key``, else None."""
    action = parse_action(raw)
    if action is None or st.session_state.get(_seq_key(key)) == action["seq"]:
        return None
    st.session_state[_seq_key(key)] = action["seq"]
    return action


def _pending(key: str) -> Any:
    value = st.session_state.get(key)
    return value.get(TRIGGER) if isinstance(value, Mapping) else None


def _ignore() -> None:
    pass


def _plain_data(view: dict) -> dict:
    """``view`` with its top-level lists as tuples (the same JSON). Streamlit checks every
    top-level value that is not a tuple, string or number for a dataframe, which imports
    pandas (half a second on the first page, before the cards can paint).

    >>> _plain_data({"layers": [{"name": "d1"}], "selected": None})
    {'layers': ({'name': 'd1'},), 'selected': None}
    """
    return {k: tuple(v) if isinstance(v, list) else v for k, v in view.items()}


def mount(
    mount_fn,
    view: dict,
    key: str,
    parse_action: Callable[[Any], dict | None],
    on_action: Callable[[dict], None] | None = None,
) -> dict | None:
    """Draw an editor component and return the user's new action (each one once).

    With ``on_action``, the action is delivered to it from the component's change
    callback, that is before the script body runs: the page can apply it to the project
    and draw the new state in the same run. An action that did not come through the
    callback (AppTest, where setting the component's key in session state drives it) is
    still returned here.
    """

    def _deliver() -> None:
        action = claim(key, _pending(key), parse_action)
        if action is not None:
            on_action(action)

    # A trigger is only reported for events that have a callback, hence the no-op.
    callback = _deliver if on_action is not None else _ignore
    result = mount_fn(key=key, data=_plain_data(view), on_action_change=callback)
    return claim(key, result.get(TRIGGER), parse_action)
