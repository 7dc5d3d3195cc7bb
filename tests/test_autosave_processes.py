"""Two real processes (two servers on one NETBUILDER_HOME) saving the same project id.

Each process drives ``ui.state`` as a server session does (through AppTest). In each of
200 rounds both open the same autosaved project, wait for each other, then save an edit at
once. No edit may be lost: after each save the file at the session's id holds exactly
that session's project; one session keeps the id, the other moves to a new id and says so.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

ROUNDS = 200

SCRIPT = """
import os
import streamlit as st
from builder import paths
from builder.project import dumps
from ui import state
import nb_test_sync

state.init()
if not st.session_state.get("rounds"):
    tag, rounds = os.environ["NB_TEST_TAG"], st.session_state.setdefault("rounds", [])
    for r in range(int(os.environ["NB_TEST_ROUNDS"])):
        state.open_project(f"{r:016x}")
        nb_test_sync.barrier.wait()  # both have read the autosave: now both save
        project = state.get_project()
        state.set_project({**project, "description": f"{tag}{r}"})
        saved = paths.autosave_dir() / f"{state.session_id()}.json"
        rounds.append({"pid": state.session_id(), "kept": saved.read_text("utf-8") == dumps(
            state.get_project())})
"""


def _session(home: str, tag: str, barrier, out: str) -> None:
    import sys
    import types

    os.environ.update(NETBUILDER_HOME=home, NB_TEST_TAG=tag, NB_TEST_ROUNDS=str(ROUNDS))
    from streamlit.testing.v1 import AppTest

    sync = types.ModuleType("nb_test_sync")
    sync.barrier = barrier  # type: ignore[attr-defined]
    sys.modules["nb_test_sync"] = sync
    at = AppTest.from_string(SCRIPT, default_timeout=900)
    at.run()
    result = {
        "exception": [str(e.value) for e in at.exception],
        "rounds": at.session_state["rounds"],
        "toasts": [t.value for t in at.toast],
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def test_two_processes_saving_one_id_lose_no_edit(tmp_path):
    from builder import templates
    from builder.project import save_project_file

    home = tmp_path / "home"
    first = templates.load(templates.DEFAULT)
    for r in range(ROUNDS):
        save_project_file(first, home / "autosave" / f"{r:016x}.json")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    outs = {tag: tmp_path / f"{tag}.json" for tag in ("A", "B")}
    procs = [
        ctx.Process(target=_session, args=(str(home), tag, barrier, str(out)))
        for tag, out in outs.items()
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(900)
        assert proc.exitcode == 0
    results = {tag: json.loads(out.read_text(encoding="utf-8")) for tag, out in outs.items()}
    lost = []
    for tag, result in results.items():
        assert result["exception"] == []
        assert len(result["rounds"]) == ROUNDS
        lost += [(tag, r) for r, entry in enumerate(result["rounds"]) if not entry["kept"]]
    assert lost == [], f"saves overwritten by the other process: {lost}"
    forks = 0
    for r in range(ROUNDS):
        ids = {tag: results[tag]["rounds"][r]["pid"] for tag in results}
        assert sorted(ids.values()).count(f"{r:016x}") == 1  # one kept the id, one forked
        for tag, pid in ids.items():
            doc = json.loads((home / "autosave" / f"{pid}.json").read_text("utf-8"))
            assert doc["description"] == f"{tag}{r}"
            forks += pid != f"{r:016x}"
    assert forks == ROUNDS
    said = sum(
        "also changed in another tab (or another" in t
        for res in results.values()
        for t in res["toasts"]
    )
    assert said == ROUNDS  # every fork was told
