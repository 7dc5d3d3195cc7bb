"""The undo/redo history kept beside a project's autosave, so that a reload keeps it.

One file per project, ``<autosave>/history/<id>.json``::

    {"format": "netbuilder.history", "version": 1,
     "autosave_sha256": "...",          # the autosave text this history belongs to
     "undo": [project, ...],            # oldest first; the last one is undone first
     "redo": [project, ...]}            # the last one is redone first

It is bounded: the newest ``MAX_ENTRIES`` states of each stack, and at most ``MAX_BYTES``
in all (the oldest undo states go first, then the redo states furthest away). It is only
used with the autosave it was written for: after a crash between the two writes, or when
another tab changed the autosave, the history is ignored rather than undoing into a
different project. Entries are checked as project files when they are used (``entry``), not
when the file is read: a long history costs nothing until the user presses Undo.

This module never imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from builder.project import ProjectError, read_capped, validate

FORMAT = "netbuilder.history"
VERSION = 1
MAX_ENTRIES = 50  # per stack
MAX_BYTES = 4 * 1024**2  # the whole file


def path_for(autosave_dir: str | Path, pid: str) -> Path:
    """Where project ``pid``'s history lives (not a ``*.json`` of the autosave folder
    itself, so the recent-projects list and housekeeping never take it for a project)."""
    return Path(autosave_dir) / "history" / f"{pid}.json"


def _compact(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def encode(undo: list, redo: list, autosave_sha256: str | None) -> str:
    """The history file's text for these stacks, bounded (see the module docstring).

    >>> text = encode([{"n": i} for i in range(60)], [{"n": "r"}], "abc")
    >>> doc = json.loads(text)
    >>> len(doc["undo"]), doc["undo"][0], doc["redo"]
    (50, {'n': 10}, [{'n': 'r'}])
    """
    undo_text = [_compact(d) for d in undo[-MAX_ENTRIES:]]
    redo_text = [_compact(d) for d in redo[-MAX_ENTRIES:]]
    # The frame: about 120 bytes, plus a comma per entry.
    budget = MAX_BYTES - 200 - len(undo_text) - len(redo_text)
    total = sum(map(len, undo_text)) + sum(map(len, redo_text))
    while total > budget and undo_text:
        total -= len(undo_text.pop(0))  # the oldest undo state first
    while total > budget and redo_text:
        total -= len(redo_text.pop(0))  # then the redo state furthest away
    return (
        f'{{"format":"{FORMAT}","version":{VERSION},'
        f'"autosave_sha256":{json.dumps(autosave_sha256)},'
        f'"undo":[{",".join(undo_text)}],"redo":[{",".join(redo_text)}]}}\n'
    )


def write(path: str | Path, undo: list, redo: list, autosave_sha256: str | None) -> None:
    """Write the history atomically (OSError when the disk refuses)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(encode(undo, redo, autosave_sha256))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str | Path, autosave_sha256: str | None) -> tuple[list, list]:
    """The (undo, redo) stacks stored for the autosave whose text has this digest; two
    empty lists when there is no history, it belongs to another autosave text, or it is not
    a history file this version reads."""
    path = Path(path)
    if autosave_sha256 is None or not path.is_file():
        return [], []
    try:
        doc = json.loads(read_capped(path, MAX_BYTES + 1024))
    except (ProjectError, ValueError, RecursionError):
        return [], []
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or doc.get("version") != VERSION
        or doc.get("autosave_sha256") != autosave_sha256
    ):
        return [], []
    undo, redo = doc.get("undo"), doc.get("redo")
    if not (isinstance(undo, list) and isinstance(redo, list)):
        return [], []
    if not all(isinstance(d, dict) for d in undo + redo):
        return [], []
    return undo[-MAX_ENTRIES:], redo[-MAX_ENTRIES:]


def entry(doc: dict) -> dict:
    """A history state as a checked project (ProjectError when it is not one): a graph
    still being drawn is accepted, as in the autosave."""
    try:
        return validate(doc, check_graph=False)
    except (RecursionError, MemoryError):
        raise ProjectError("this undo step is too large to check.") from None


def delete(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)
