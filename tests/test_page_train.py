"""The Train page through AppTest: fit settings into the project, an invalid model, a real
2-epoch run polled to the end (then seen on Compare and Results), Stop, and re-attaching
after a refresh — only for the session that owns the job.

``run_every`` does not fire in AppTest: the tests call ``at.run()`` in a loop to poll.
Each training run is a spawned worker that imports TensorFlow (seconds on two cores).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import fit_check, settings

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # the first check imports TensorFlow
TRAIN_WAIT_S = 240  # worker start (TF import) + 2 epochs of the 8x8 digits, loaded machine


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _default() -> dict:
    return json.loads((ROOT / "templates" / "offline_default.json").read_text())


def _open(project: dict | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    if project is not None:
        at.session_state["project"] = project
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def _main_alerts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at.main, kind)]


def _poll(at: AppTest, until, wait_s: float = TRAIN_WAIT_S) -> AppTest:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if until(at):
            return at
        time.sleep(0.5)
    raise AssertionError(
        f"timed out; main shows {[e.value for e in at.main.info]} {_main_alerts(at, 'error')}"
    )


def _ended(at: AppTest) -> bool:
    return bool(
        _main_alerts(at, "success") or _main_alerts(at, "error") or _main_alerts(at, "warning")
    )


def _points(chart) -> int:
    spec = json.loads(chart.proto.spec)
    return sum(
        len(trace.get("x") or [])
        for trace in spec["data"]
        if trace.get("name", "").startswith(("Training", "Validation"))
    )


def _handle(at: AppTest):
    from builder import paths
    from ui import jobs

    manager = jobs._manager(str(paths.runs_root()))
    return manager.get(at.session_state["_pid"], at.session_state["train_job"])


# --------------------------------------------------------------------------- settings


def test_fit_settings_are_edited_into_the_project():
    at = _open()
    assert at.button(key="train_start")
    at.number_input(key="train_epochs").set_value(3).run()
    at.number_input(key="train_batch").set_value(64).run()
    fit = at.session_state["project"]["fit"]
    assert (fit["epochs"], fit["batch_size"]) == (3, 64)

    at.selectbox(key="train_method").set_value("kfold").run()
    assert at.session_state["project"]["fit"]["validation"] == {"method": "kfold", "k": 4}
    at.selectbox(key="train_method").set_value("holdout").run()
    at.radio(key="train_by").set_value("count").run()
    at.number_input(key="train_count").set_value(300).run()
    assert at.session_state["project"]["fit"]["validation"] == {"method": "holdout", "count": 300}
    at.checkbox(key="train_cb:EarlyStopping").check().run()
    at.number_input(key="train_cb:EarlyStopping:patience").set_value(5).run()
    (callback,) = at.session_state["project"]["fit"]["callbacks"]
    assert callback == settings.callback(
        "EarlyStopping", {"patience": 5, "restore_best_weights": True}
    )
    at.checkbox(key="train_cb:ReduceLROnPlateau").check().run()
    at.number_input(key="train_cb:ReduceLROnPlateau:factor").set_value(0.5).run()
    assert at.session_state["project"]["fit"]["callbacks"][1] == settings.callback(
        "ReduceLROnPlateau", {"factor": 0.5}
    )
    assert not at.exception


def test_settings_follow_an_outside_change_of_the_project():
    at = _open()
    project = copy.deepcopy(at.session_state["project"])
    project["fit"]["epochs"] = 7
    at.session_state["project"] = project  # as undo or a new template would
    at.run()
    assert at.number_input(key="train_epochs").value == 7


def test_dataset_in_use_is_named_with_a_link_to_data():
    at = _open()
    text = " ".join(m.value for m in at.main.markdown).replace("\\", "")  # as rendered
    assert "Digits (8x8, offline)" in text and "image_layout = flat" in text
    if (ROOT / "pages" / "data.py").exists():
        assert any("data" in link.proto.page.lower() for link in at.page_link)


def test_invalid_model_shows_the_checkers_errors_and_no_start_button():
    project = _default()
    project["model"]["layers"][0]["class_name"] = "Conv2D"
    project["model"]["layers"][0]["config"] = {"filters": 8, "kernel_size": 3}
    at = _open(project)
    assert not [b for b in at.button if b.key == "train_start"]
    errors = " ".join(_main_alerts(at, "error")) + " ".join(m.value for m in at.main.markdown)
    assert "cannot be trained yet" in errors and "Conv2D" in errors
    assert any("build" in link.proto.page.lower() for link in at.page_link)


def test_an_output_that_does_not_fit_the_labels_is_an_error_with_its_fix():
    project = _default()
    project["model"]["layers"][-1]["config"]["units"] = 7  # digits have 10 classes
    at = _open(project)
    assert not [b for b in at.button if b.key == "train_start"]
    text = " ".join(m.value for m in at.main.markdown)
    assert "gives 7 numbers per sample" in text and "needs 10 units" in text
    (fix,) = [b for b in at.button if b.key.startswith("train_fix:")]
    assert fix.label == "Set units to 10"
    fix.click().run()
    assert at.session_state["project"]["model"]["layers"][-1]["config"]["units"] == 10
    assert [b for b in at.button if b.key == "train_start"]


def test_data_that_cannot_be_had_is_said_before_start(monkeypatch):
    from builder.data import offline

    monkeypatch.setattr(offline, "origin_reachable", lambda url, timeout=2.0: False)
    project = _default()
    project["data"] = {"dataset": "reuters", "options": {}}
    at = _open(project)
    (error,) = [e for e in _main_alerts(at, "error") if "reuters.npz" in e]
    assert "no connection" in error
    assert not [b for b in at.button if b.key == "train_start"]


def test_kfold_then_validation_split_keeps_a_sensible_fraction():
    project = _default()
    project["fit"]["validation"] = {"method": "kfold", "k": 4}
    at = _open(project)
    at.selectbox(key="train_method").set_value("split").run()
    assert at.session_state["project"]["fit"]["validation"] == {"method": "split", "fraction": 0.2}
    at.selectbox(key="train_method").set_value("kfold").run()
    at.selectbox(key="train_method").set_value("holdout").run()
    at.radio(key="train_by").set_value("fraction").run()
    assert at.session_state["project"]["fit"]["validation"] == {
        "method": "holdout",
        "fraction": 0.2,
    }


def test_a_hold_out_larger_than_the_data_is_fixed_with_one_click():
    at = _open()
    at.selectbox(key="train_method").set_value("holdout").run()
    at.radio(key="train_by").set_value("count").run()
    at.number_input(key="train_count").set_value(5000).run()  # Digits trains on 1,437
    assert at.session_state["project"]["fit"]["validation"] == {"method": "holdout", "count": 5000}
    assert not [b for b in at.button if b.key == "train_start"]
    text = " ".join(m.value for m in at.main.markdown)
    assert "5,000 samples are held out" in text and "only 1,437" in text
    fixes = {b.label: b for b in at.button if b.key.startswith("train_fix:")}
    assert list(fixes) == ["Hold out 20 % instead", "Hold out 287 samples"]
    fixes["Hold out 20 % instead"].click().run()
    assert not at.exception, at.exception
    assert at.session_state["project"]["fit"]["validation"] == {
        "method": "holdout",
        "fraction": 0.2,
    }
    # The form follows the fix, the error is gone and Start is offered.
    assert at.radio(key="train_by").value == "fraction"
    assert at.number_input(key="train_fraction").value == 0.2
    assert "held out" not in " ".join(m.value for m in at.main.markdown)
    assert not [b for b in at.button if b.key.startswith("train_fix:")]
    assert [b for b in at.button if b.key == "train_start"]
    at.run()  # and the next run keeps it: the widgets do not write the old count back
    assert at.session_state["project"]["fit"]["validation"] == {
        "method": "holdout",
        "fraction": 0.2,
    }
    # Undoable like every edit: the step before the fix is the held-out count.
    assert at.session_state["_undo"][-1]["fit"]["validation"]["count"] == 5000


# --------------------------------------------------------------------------- training


def test_train_two_epochs_then_compare_and_results():
    at = _open()
    at.number_input(key="train_epochs").set_value(2).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert at.query_params.get("job") or at.session_state["train_job"]
    _poll(at, _ended)
    assert any("finished" in s for s in _main_alerts(at, "success")), _main_alerts(at, "error")
    charts = [c for c in at.get("plotly_chart")]
    assert charts and all(_points(c) >= 2 for c in charts)  # 2 epochs, train and val
    assert any("Test set" in m.value for m in at.main.markdown)
    assert [b for b in at.button if b.key == "train_start"]  # ready for the next run

    run_id = at.session_state["train_job"]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_runs").value == [run_id]
    assert at.dataframe[0].value.loc[0, "epochs"] == 2

    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "test accuracy" in labels
    heatmaps = [
        c
        for c in at.get("plotly_chart")
        if json.loads(c.proto.spec)["data"][0].get("type") == "heatmap"
    ]
    assert heatmaps, "no confusion matrix"


def test_stop_a_long_run_and_reattach_only_as_its_owner():
    project = _default()
    project["fit"]["epochs"] = 500
    at = _open(project)
    at.button(key="train_start").click().run()
    pid, job = at.session_state["_pid"], at.session_state["train_job"]

    # A refresh is a new session with the same URL: it finds the job again.
    again = _open(query={"p": pid, "job": job})
    assert again.session_state["train_job"] == job
    assert not [b for b in again.button if b.key == "train_start"]
    # Another session, on another project, with the job id in its URL does not see it (a
    # bare URL would open the latest project: this one, whose owner it then is).
    other = _open(query={"job": job, "p": "0123456789abcdef"})
    assert "train_job" not in other.session_state
    assert [b for b in other.button if b.key == "train_start"]

    _poll(again, lambda a: _handle(a) is not None and _handle(a).progress is not None)
    again.button(key="train_stop").click().run()
    _poll(again, _ended)
    assert any("Stopped" in w for w in _main_alerts(again, "warning")), _main_alerts(again, "error")
    assert _handle(again).state == "stopped"


def test_a_failed_run_says_why_in_plain_words(monkeypatch):
    # The check refuses this hold-out before Start (builder.fit_check.validation_problem);
    # with that check silenced here, the worker meets it and fails the run, which is how
    # a failure the check cannot foresee reaches the page.
    monkeypatch.setattr(fit_check, "validation_problem", lambda project, n: None)
    project = _default()
    project["fit"]["validation"] = {"method": "holdout", "count": 5000}  # > training set
    at = _open(project)
    at.button(key="train_start").click().run()
    _poll(at, _ended)
    (error,) = _main_alerts(at, "error")
    assert error.startswith("Training failed:") and "held out" in error and "5000" in error
    assert "Traceback" not in error
    # Nothing that belongs to a run that trains: no curves to wait for, no results.
    assert not any("Curves appear" in c.value for c in at.main.caption)
    assert not any("results" in link.proto.page.lower() for link in at.page_link)
