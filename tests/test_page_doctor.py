"""The doctor's findings and fix buttons on Results and Compare, through AppTest: each
button starts what it says (a retrain, a lower learning rate, a resume of the run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder.training import runs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _runs_root() -> Path:
    from builder import paths

    return paths.runs_root()


def _session() -> tuple[AppTest, str]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at, at.session_state["_pid"]


def _digits() -> dict:
    return json.loads((ROOT / "templates" / "offline_default.json").read_text())


def _ended_run(owner: str, history: dict, state: str = "finished") -> str:
    """A run folder as the worker leaves it, with this history and no model."""
    folder = runs.create_run(_runs_root(), owner, _digits(), {})
    runs.write_text_atomic(folder / "history.csv", runs.history_to_csv(history))
    runs.update_run_info(folder, state=state, epochs_done=len(history["loss"]))
    return folder.name


def _job(at: AppTest, owner: str):
    from ui import jobs

    return jobs._manager(str(_runs_root())).get(owner, at.session_state["train_job"])


def _stop(handle) -> None:
    handle.kill()
    handle.wait(30)


def _doctor_button(at: AppTest, label_start: str):
    (button,) = [
        b
        for b in at.button
        if b.key.startswith("results_doctor") and b.label.startswith(label_start)
    ]
    return button


OVERFIT = {
    "loss": [2.0, 1.5, 1.0, 0.7, 0.5, 0.3],
    "val_loss": [1.8, 1.2, 1.0, 1.1, 1.3, 1.6],
}


def test_overfitting_run_retrains_for_the_best_epoch():
    at, owner = _session()
    _ended_run(owner, OVERFIT)
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert "lowest at epoch 3" in " ".join(w.value for w in at.main.warning)
    assert not [b for b in at.button if b.key == "results_retrain"]  # one Retrain, the doctor's
    _doctor_button(at, "Retrain for 3 epochs").click().run()
    assert not at.exception, at.exception
    fit = at.session_state["project"]["fit"]
    assert fit["epochs"] == 3 and fit["validation"] == {"method": "none"}
    handle = _job(at, owner)
    assert handle is not None and handle.epochs == 3
    _stop(handle)


def test_nan_run_retrains_with_a_learning_rate_ten_times_lower():
    at, owner = _session()
    _ended_run(owner, {"loss": [2.0, float("nan")]}, state="failed")
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    _doctor_button(at, "Lower the learning rate to 0.0001").click().run()
    assert not at.exception, at.exception
    optimizer = at.session_state["project"]["compile"]["optimizer"]
    assert optimizer["class_name"] == "RMSprop"
    assert optimizer["config"]["learning_rate"] == pytest.approx(1e-4)
    _stop(_job(at, owner))


def test_run_still_improving_resumes_for_more_epochs():
    from builder.training import worker

    at, owner = _session()
    project = _digits()
    project["fit"]["epochs"] = 4
    folder = runs.create_run(_runs_root(), owner, project, {"device_choice": "cpu"})
    summary = worker.train(project, folder, device="cpu")
    assert summary["state"] == "finished", summary["message"]
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    button = _doctor_button(at, "Resume for")
    more = int(button.label.split()[2])
    button.click().run()
    assert not at.exception, at.exception
    handle = _job(at, owner)
    assert handle.run_id == folder.name and handle.epochs == 4 + more
    _stop(handle)


def test_compare_shows_each_runs_findings():
    at, owner = _session()
    overfit = _ended_run(owner, OVERFIT)
    _ended_run(owner, {"loss": [2.0, 1.0, 0.9, 0.85], "val_loss": [2.0, 1.1, 1.0, 0.99]})
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    labels = [e.label for e in at.expander if e.label.startswith("Doctor")]
    assert len(labels) == 2
    retrain = [b for b in at.button if b.key.startswith(f"compare_doctor_{overfit}")]
    assert [b.label for b in retrain] == ["Retrain for 3 epochs"]
