"""The Results page through AppTest, on run folders made in the test: a digits run trained
in-process (test accuracy, confusion matrix, samples, retrain), a Boston regression
(predicted-vs-true scatter), a K-fold run without a model, and an empty session."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from builder.training import runs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _template(name: str) -> dict:
    return json.loads((ROOT / "templates" / f"{name}.json").read_text())


def _session() -> tuple[AppTest, str]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    return at, at.session_state["_pid"]


def _trained(owner: str, project: dict) -> str:
    """Train ``project`` in this process (no worker) into a new run of ``owner``."""
    from builder import paths
    from builder.training import worker

    folder = runs.create_run(paths.runs_root(), owner, project, {"device_choice": "cpu"})
    summary = worker.train(project, folder, device="auto")
    assert summary["state"] == "finished", summary["message"]
    return folder.name


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _count(values) -> int:
    """Length of a Plotly data array: a list, or numpy's typed-array encoding (bdata)."""
    if isinstance(values, dict):
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def _kinds(at: AppTest) -> list[str]:
    return [spec["data"][0].get("type", "scatter") for spec in _charts(at) if spec["data"]]


def test_no_runs_yet_points_to_train():
    at, _ = _session()
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert "No runs yet" in at.main.info[0].value


@pytest.fixture(scope="module")
def digits_project() -> dict:
    project = _template("offline_default")
    project["fit"]["epochs"] = 3
    return project


def test_digits_run_scores_confusion_matrix_samples_and_retrain(digits_project):
    at, owner = _session()
    run_id = _trained(owner, digits_project)
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="results_run").value == run_id
    metrics = {m.label: float(m.value) for m in at.metric}
    assert 0 <= metrics["test accuracy"] <= 1 and "test loss" in metrics
    assert "heatmap" in _kinds(at)
    (matrix,) = [s for s in _charts(at) if s["data"][0].get("type") == "heatmap"]
    assert sum(map(sum, matrix["data"][0]["z"])) == 360  # the 20% test split of 1,797
    assert len(at.main.get("image")) == 4  # four digit samples
    assert any(spec["data"][0].get("type") == "bar" for spec in _charts(at))

    history = runs.load_run(_runs_root(), owner, run_id)["history"]
    from ui.charts import best_epoch

    best = best_epoch(history, "loss")
    at.button(key="results_retrain").click().run()
    assert not at.exception, at.exception
    fit = at.session_state["project"]["fit"]
    assert fit["epochs"] == best and fit["validation"] == {"method": "none"}
    # It trains as a project of its own: this one keeps its runs, unmixed.
    retrained = at.session_state["_owner"]
    assert retrained != owner and at.session_state["_pid"] == retrained
    assert at.session_state["project"]["name"].endswith(f"(retrained, {best} epochs)")
    assert [r["id"] for r in runs.list_runs(_runs_root(), owner)] == [run_id]
    from ui import jobs

    handle = jobs._manager(str(_runs_root())).get(retrained, at.session_state["train_job"])
    assert handle is not None and handle.epochs == best
    handle.kill()
    handle.wait(30)


def _runs_root() -> Path:
    from builder import paths

    return paths.runs_root()


def test_regression_run_shows_predicted_vs_true(shared_datasets):
    project = _template("boston_regression")
    project["fit"].update(epochs=2, validation={"method": "none"}, callbacks=[])
    at, owner = _session()
    _trained(owner, project)
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    scatter = [
        s
        for s in _charts(at)
        if s.get("layout", {}).get("title", {}).get("text", "").startswith("Predicted vs true")
    ]
    assert scatter and _count(scatter[0]["data"][0]["x"]) == 102  # Boston's test split
    assert "heatmap" not in _kinds(at)
    assert "Predicted" in " ".join(m.value for m in at.main.markdown)


def test_kfold_run_without_a_model_shows_fold_curves_and_mean_scores():
    at, owner = _session()
    project = _template("offline_default")
    project["fit"]["validation"] = {"method": "kfold", "k": 2}
    folder = runs.create_run(_runs_root(), owner, project, {})
    folds = {"val_loss": [2.0, 1.0, 1.5, 1.0, 0.5, 0.7], "loss": [3.0, 2.0, 1.0] * 2}
    runs.write_text_atomic(
        folder / "history_folds.csv",
        runs.history_to_csv(folds, [1.0] * 6, folds=[1, 1, 1, 2, 2, 2]),
    )
    runs.write_text_atomic(
        folder / "history.csv",
        runs.history_to_csv({"loss": [3.0, 2.0, 1.0], "val_loss": [1.5, 0.75, 1.1]}, [1.0] * 3),
    )
    runs.write_json_atomic(
        folder / "metrics.json", {"train": {}, "val": {}, "test": {}, "kfold": {"val_loss": 0.9}}
    )
    runs.update_run_info(folder, state="finished")
    at.switch_page("pages/results.py").run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["k-fold loss"]
    titles = [s["layout"]["title"]["text"] for s in _charts(at)]
    assert "Validation loss per fold" in titles
    assert "saved no model" in " ".join(i.value for i in at.main.info)
    assert at.button(key="results_retrain").label == "Retrain from scratch for 2 epochs"
    at.toggle(key="results_smooth").set_value(True).run()
    assert not at.exception, at.exception


def test_runs_of_another_session_are_not_listed():
    at, _ = _session()
    runs.create_run(_runs_root(), "someone-else", _template("offline_default"), {})
    at.switch_page("pages/results.py").run()
    assert "No runs yet" in at.main.info[0].value
