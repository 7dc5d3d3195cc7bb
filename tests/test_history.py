"""builder.history: the undo/redo stacks kept beside the autosave."""

from __future__ import annotations

import json

import pytest

from builder import history, housekeeping, paths, templates
from builder.project import ProjectError


def _project(name: str) -> dict:
    project = templates.load(templates.DEFAULT)
    project["name"] = name
    return project


def test_round_trip_keeps_order_and_belongs_to_one_autosave(tmp_path):
    path = history.path_for(tmp_path, "0123456789abcdef")
    undo, redo = [_project("a"), _project("b")], [_project("c")]
    history.write(path, undo, redo, "digest-1")
    assert history.read(path, "digest-1") == (undo, redo)
    assert history.read(path, "digest-2") == ([], [])  # another autosave text
    assert history.read(path, None) == ([], [])
    assert path.parent.name == "history" and path.parent.parent == tmp_path


def test_bounded_by_entries_then_bytes_oldest_undo_first(tmp_path, monkeypatch):
    path = tmp_path / "h.json"
    undo = [_project(f"u{i}") for i in range(history.MAX_ENTRIES + 10)]
    redo = [_project(f"r{i}") for i in range(3)]
    history.write(path, undo, redo, "d")
    got_undo, got_redo = history.read(path, "d")
    assert [p["name"] for p in got_undo] == [f"u{i}" for i in range(10, 60)]
    assert len(got_redo) == 3

    one = len(json.dumps(_project("u00"), separators=(",", ":")))
    monkeypatch.setattr(history, "MAX_BYTES", 400 + 5 * one)
    history.write(path, undo[:8], redo, "d")
    assert path.stat().st_size <= history.MAX_BYTES
    got_undo, got_redo = history.read(path, "d")
    assert [p["name"] for p in got_undo] == ["u6", "u7"]  # the newest undo states stay
    assert [p["name"] for p in got_redo] == ["r0", "r1", "r2"]

    monkeypatch.setattr(history, "MAX_BYTES", 400 + 2 * one)
    history.write(path, undo[:8], redo, "d")
    assert history.read(path, "d") == ([], redo[1:])  # then the redo furthest away


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "netbuilder.history", "version": 2, "autosave_sha256": "d",'
        ' "undo": [], "redo": []}',
        '{"format": "netbuilder.history", "version": 1, "autosave_sha256": "d",'
        ' "undo": [1], "redo": []}',
        '{"format": "netbuilder.history", "version": 1, "autosave_sha256": "d",'
        ' "undo": {}, "redo": []}',
    ],
)
def test_anything_else_reads_as_no_history(tmp_path, text):
    path = tmp_path / "h.json"
    path.write_text(text)
    assert history.read(path, "d") == ([], [])


def test_entries_are_checked_when_used():
    assert history.entry(_project("ok"))["name"] == "ok"
    with pytest.raises(ProjectError):
        history.entry({"format": "netbuilder.project", "version": 1, "model": "x"})


def test_housekeeping_deletes_a_history_whose_autosave_is_gone(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    kept, orphan = "0123456789abcdef", "fedcba9876543210"
    (paths.autosave_dir() / f"{kept}.json").write_text("{}")
    for pid in (kept, orphan):
        history.write(history.path_for(paths.autosave_dir(), pid), [], [], "d")
    housekeeping.prune()
    assert history.path_for(paths.autosave_dir(), kept).exists()
    assert not history.path_for(paths.autosave_dir(), orphan).exists()
