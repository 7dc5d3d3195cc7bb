"""The Experiments page through AppTest: settings to vary edited into the project, bad values
refused, then a real sweep (its trials packed side by side, locally): live table, a refresh
re-attaching, Stop ending the trials with their models kept, the trials in Compare, and a
trial opened as the current project.

``run_every`` does not fire in AppTest: the tests call ``at.run()`` in a loop to poll.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
SWEEP_WAIT_S = 420


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def _template(name: str) -> dict:
    return json.loads((ROOT / "templates" / f"{name}.json").read_text())


def _open(project: dict | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    if project is not None:
        at.session_state["project"] = project
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest, label: str) -> None:
    (button,) = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, at.exception


def _texts(at: AppTest, kind: str) -> str:
    return " ".join(e.value for e in getattr(at.main, kind))


def test_settings_to_vary_are_edited_into_the_project_and_bad_values_refused():
    at = _open()
    assert "Add a setting to vary" in _texts(at, "info")
    assert not [b for b in at.button if b.key == "exp_start"]
    at.selectbox(key="exp_setting").set_value("layers.hidden.units")
    at.text_input(key="exp_values").input("8, 0")
    _submit(at, "Add")
    assert "units=0" in _texts(at, "error")
    assert "experiment" not in at.session_state["project"]

    at.text_input(key="exp_values").input("8, 32")
    _submit(at, "Add")
    section = at.session_state["project"]["experiment"]
    assert section["parameters"] == [{"setting": "layers.hidden.units", "values": [8, 32]}]
    assert section["search"] == "grid"

    at.selectbox(key="exp_setting").set_value("compile.optimizer.learning_rate")
    at.radio(key="exp_kind").set_value("a range")
    _submit(at, "Add")
    at.selectbox(key="exp_search_kind").set_value("tpe")
    at.number_input(key="exp_trials").set_value(5)
    at.checkbox(key="exp_asha").check()
    _submit(at, "Apply")
    section = at.session_state["project"]["experiment"]
    assert section["parameters"][1] == {
        "setting": "compile.optimizer.learning_rate",
        "low": 0.0001,
        "high": 0.01,
        "log": True,
        "type": "float",
    }
    assert (section["search"], section["trials"]) == ("tpe", 5)
    assert section["early_stopping"]["method"] == "asha"
    assert at.button(key="exp_start")


_seq = iter(range(1, 10**6))


def _stack_select(at: AppTest, name: str) -> None:
    action = {"type": "select", "name": name, "seq": next(_seq)}
    at.session_state["build_stack"] = {"action": action}
    at.run()
    assert not at.exception, at.exception


def test_settings_marked_varied_on_build_and_train_show_on_the_experiments_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/build.py").run()
    _stack_select(at, "hidden")
    at.checkbox(key="build_param:hidden:units:vary").check().run()
    assert not at.exception, at.exception
    section = at.session_state["project"]["experiment"]
    # Half, the same and double the current 64 units; a grid, compared on val_loss.
    assert section["parameters"] == [{"setting": "layers.hidden.units", "values": [32, 64, 128]}]
    assert (section["search"], section["metric"], section["mode"]) == ("grid", "val_loss", "min")
    assert at.checkbox(key="build_param:hidden:units:vary").value
    assert "varied: 32, 64, 128" in " ".join(c.value for c in at.caption)

    # The learning rate: a log-scale range around 0.001, so the search becomes random.
    at.checkbox(key="build_optimizer:vary").check().run()
    at.checkbox(key="build_opt:learning_rate:vary").check().run()
    assert not at.exception, at.exception
    section = at.session_state["project"]["experiment"]
    assert section["parameters"][1:] == [
        {"setting": "compile.optimizer", "values": ["RMSprop", "Adam"]},
        {"setting": "compile.optimizer.learning_rate", "low": 0.0001, "high": 0.01, "log": True},
    ]
    assert section["search"] == "random"
    at.checkbox(key="build_optimizer:vary").uncheck().run()
    assert [p["setting"] for p in at.session_state["project"]["experiment"]["parameters"]] == [
        "layers.hidden.units",
        "compile.optimizer.learning_rate",
    ]

    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    at.checkbox(key="train_batch:vary").check().run()
    assert not at.exception, at.exception
    assert at.session_state["project"]["experiment"]["parameters"][-1] == {
        "setting": "fit.batch_size",
        "values": [16, 32, 64],
    }

    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    listed = " ".join(m.value for m in at.markdown).replace("\\", "")  # as rendered
    for setting in ("layers.hidden.units", "compile.optimizer.learning_rate", "fit.batch_size"):
        assert f"`{setting}`" in listed
    assert "32, 64, 128" in listed and "0.0001 to 0.01 (log scale)" in listed


def test_a_setting_that_cannot_vary_is_refused_with_the_reason():
    from builder import templates

    project = templates.load("offline_default")
    project["fit"]["validation"] = {"method": "kfold", "k": 4}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.session_state["project"] = project
    at.switch_page("pages/train.py").run()
    at.checkbox(key="train_seed:vary").check().run()
    assert not at.exception, at.exception
    assert not at.checkbox(key="train_seed:vary").value
    (error,) = [e.value for e in at.error if "Cannot vary fit.seed" in e.value]
    assert "hold-out or split validation" in error
    assert "experiment" not in at.session_state["project"]


def _record(at: AppTest) -> dict:
    from builder import paths
    from builder.experiments import runner

    folder = (
        runner.experiments_dir(paths.runs_root(), at.session_state["_pid"])
        / at.session_state["experiment_id"]
    )
    return runner.read(folder)


def _poll(at: AppTest, until, wait_s: float = SWEEP_WAIT_S) -> AppTest:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if until(at):
            return at
        time.sleep(1.0)
    raise AssertionError(
        f"timed out; the page shows {_texts(at, 'info')} "
        f"{_texts(at, 'error')}; record {_record(at)}"
    )


def test_sweep_runs_reattaches_stops_and_opens_a_trial():
    project = _template("experiment_digits")
    # Many epochs, so that the Stop below (after a refresh) lands while trials train, even
    # on a fast machine. Pack size is measured: a loaded machine may train one trial at a
    # time, and a trial whose pack had not started when Stop came ends "stopped", 0 epochs.
    project["fit"]["epochs"] = 300
    at = _open(project)
    at.button(key="exp_start").click().run()
    assert not at.exception, at.exception
    exp_id = at.query_params.get("exp") or at.session_state["experiment_id"]
    _poll(at, lambda a: any(t["epochs"] >= 1 for t in _record(a)["trials"]))

    # A refresh is a new session with the same URL: it finds the experiment again.
    again = _open(query={"p": at.session_state["_pid"], "exp": exp_id})
    assert again.session_state["experiment_id"] == exp_id
    assert again.dataframe, "the trials table is shown after a refresh"
    stopped_here = _record(again)["state"] == "running"
    if stopped_here:
        again.button(key="exp_stop").click().run()
    _poll(again, lambda a: _record(a)["state"] not in ("starting", "running"))
    again.run()  # the run that saw the end asked for a full rerun (Start shown again)
    assert not again.exception, again.exception
    record = _record(again)
    assert record["state"] in ("stopped", "finished")
    if stopped_here:
        assert record["state"] == "stopped"
        assert all(t["state"] == "stopped" and t["epochs"] < 300 for t in record["trials"]), record[
            "trials"
        ]
    assert all(t["state"] in ("finished", "stopped") for t in record["trials"])
    kept = [t for t in record["trials"] if t["run"]]
    assert kept
    text = _texts(again, "warning") + _texts(again, "success")
    assert f"Experiment {exp_id}" in text
    assert len(again.get("plotly_chart")) == 2  # curves and parallel coordinates
    table = again.dataframe[0].value
    assert list(table[table["best"] == "best"]["trial"]) == [record["best"]["id"]]

    swept = again.session_state["_pid"]
    again.button(key="exp_open").click().run()
    opened = again.session_state["project"]
    best = next(t for t in record["trials"] if t["id"] == record["best"]["id"])
    assert "experiment" not in opened
    assert opened["model"]["layers"][0]["config"]["units"] == best["params"]["layers.hidden.units"]
    # A new project: the experiment's project and its trials' runs stay where they were.
    assert again.session_state["_pid"] != swept
    assert opened["name"].endswith(f"(trial {best['id']})")
    from builder import paths

    assert "experiment" in json.loads((paths.autosave_dir() / f"{swept}.json").read_text())

    again.switch_page("pages/compare.py").run()
    assert not again.exception, again.exception
    again.multiselect(key="compare_projects").set_value([swept]).run()
    assert not again.exception, again.exception
    listed = " ".join(str(o) for o in again.multiselect(key="compare_runs").options)
    for trial in kept:
        assert Path(trial["run"]).name in listed
