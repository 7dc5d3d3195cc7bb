"""Resume on the Train and Results pages through AppTest: the button is there for a stopped
run with a checkpoint and absent for a finished one; pressing it continues the run's own
model (not the project as edited since) in the same run, and the curve has every epoch.

The stopped runs are trained in this process; resuming spawns a worker (TensorFlow import).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder.training import runs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180
TRAIN_WAIT_S = 240
STEPS = 36  # digits: 1,437 training samples, 20 % split off for validation, batches of 32


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _default(epochs: int = 4) -> dict:
    project = json.loads((ROOT / "templates" / "offline_default.json").read_text())
    project["fit"]["epochs"] = epochs
    return project


def _runs_root() -> Path:
    from builder import paths

    return paths.runs_root()


def _run(
    owner: str, project: dict, stop_after_epochs: int | None, stop_at_batch: int | None = None
) -> str:
    """Train ``project`` here into a run of ``owner``; Stop in epoch ``stop_after_epochs+1``
    (or after batch ``stop_at_batch`` counted over the whole run)."""
    from builder.project import validate
    from builder.training import worker

    project = validate(project)
    folder = runs.create_run(_runs_root(), owner, project, {"device_choice": "cpu"})
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        if stop_at_batch is not None:
            return calls["n"] > stop_at_batch  # the first call is before training
        return stop_after_epochs is not None and calls["n"] > stop_after_epochs * STEPS + 1

    summary = worker.train(project, folder, should_stop=should_stop, device="cpu")
    expected = "finished" if stop_after_epochs is None and stop_at_batch is None else "stopped"
    assert summary["state"] == expected, summary["message"]
    return folder.name


def _session() -> tuple[AppTest, str]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at, at.session_state["_pid"]


def _buttons(at: AppTest) -> list[str]:
    return [b.key for b in at.button]


def test_results_offers_resume_for_a_stopped_run_only():
    at, owner = _session()
    finished = _run(owner, _default(epochs=2), None)
    stopped = _run(owner, _default(epochs=4), 2)
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="results_run").value == stopped
    assert "results_resume" in _buttons(at)
    total = at.number_input(key="results_resume_epochs")
    assert total.value == 4 and total.min == 3
    text = " ".join(m.value for m in at.main.markdown)
    assert f"Run {stopped}** stopped after epoch 2 of 4" in text

    at.selectbox(key="results_run").set_value(finished).run()
    assert not at.exception, at.exception
    assert "results_resume" not in _buttons(at)


def test_a_run_stopped_on_its_last_batch_offers_more_epochs():
    at, owner = _session()
    run_id = _run(owner, _default(epochs=2), None, stop_at_batch=2 * STEPS)
    record = runs.read_json(_runs_root() / owner / run_id / "run.json")
    assert record["state"] == "stopped" and record["epochs_done"] == 2
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    total = at.number_input(key="results_resume_epochs")
    assert total.value == 3 and total.min == 3
    text = " ".join(m.value for m in at.main.markdown)
    assert "stopped after epoch 2 of 2: resume it from epoch 3" in text


def test_train_resumes_the_runs_own_model_to_the_full_count():
    at, owner = _session()
    run_id = _run(owner, _default(epochs=4), 2)
    # The project has changed since: a wider first layer. Resume continues the run's model.
    edited = copy.deepcopy(_default(epochs=4))
    edited["model"]["layers"][0]["config"]["units"] = 48
    at.session_state["project"] = edited
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert "train_resume" in _buttons(at) and "train_start" in _buttons(at)
    at.button(key="train_resume").click().run()
    assert not at.exception, at.exception
    assert at.session_state["train_job"] == run_id
    assert "train_start" not in _buttons(at)  # one job at a time: it is training again

    deadline = time.monotonic() + TRAIN_WAIT_S
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if at.main.success or at.main.error:
            break
        time.sleep(0.5)
    assert [s.value for s in at.main.success] == ["Training finished."], [
        e.value for e in at.main.error
    ]
    history = runs.read_history_csv(_runs_root() / owner / run_id / "history.csv")
    assert history["epoch"] == [1, 2, 3, 4]
    record = runs.read_json(_runs_root() / owner / run_id / "run.json")
    assert [s["first_epoch"] for s in record["segments"]] == [1, 3]
    assert record["segments"][0]["state"] == "stopped"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    training = [
        t for spec in charts for t in spec["data"] if t.get("name", "").startswith("Training")
    ]
    assert training and all(len(t["x"]) == 4 for t in training)
    import keras

    model = keras.saving.load_model(_runs_root() / owner / run_id / "model.keras")
    assert model.get_layer("hidden").units == 64  # the run's own model, not the edit's 48
    # Finished: Resume stays offered only while its loss still fell at the last epoch
    # (the doctor's "Resume for N more epochs"; the run then keeps its checkpoint).
    from builder import doctor

    assert ("train_resume" in _buttons(at)) == doctor.still_improving(history)
