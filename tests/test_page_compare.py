"""The Compare page through AppTest, on run folders written by the test (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder.training import runs

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _runs_root() -> Path:
    from builder import paths

    return paths.runs_root()


def _fake_run(owner: str, units: int, val_loss: list[float], lr: float = 0.001) -> str:
    project = json.loads((ROOT / "templates" / "offline_default.json").read_text())
    project["model"]["layers"][0]["config"]["units"] = units
    project["compile"]["optimizer"]["config"]["learning_rate"] = lr
    folder = runs.create_run(_runs_root(), owner, project, {})
    history = {
        "loss": [v + 0.1 for v in val_loss],
        "accuracy": [0.5] * len(val_loss),
        "val_loss": val_loss,
        "val_accuracy": [0.6] * len(val_loss),
    }
    runs.write_text_atomic(
        folder / "history.csv", runs.history_to_csv(history, [1.0] * len(val_loss))
    )
    runs.write_json_atomic(
        folder / "metrics.json",
        {
            "train": {"loss": history["loss"][-1], "accuracy": 0.5},
            "val": {"val_loss": val_loss[-1], "val_accuracy": 0.6},
            "test": {"loss": 0.4, "accuracy": 0.9},
        },
    )
    runs.update_run_info(folder, state="finished", epochs_done=len(val_loss))
    return folder.name


def _open_with_runs(*specs) -> tuple[AppTest, list[str]]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    owner = at.session_state["_pid"]
    ids = [_fake_run(owner, *spec) for spec in specs]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    return at, ids


def _overlay(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def test_overlay_of_the_chosen_runs_and_their_table():
    at, ids = _open_with_runs((16, [0.9, 0.7, 0.8]), (64, [0.8, 0.5]), (8, [1.0]))
    assert sorted(at.multiselect(key="compare_runs").value) == sorted(ids)
    spec = _overlay(at)
    assert spec["layout"]["title"]["text"] == "Validation loss"
    assert len(spec["data"]) == 3
    table = at.dataframe[0].value
    assert sorted(table["units"]) == ["16 / 10", "64 / 10", "8 / 10"]
    assert list(table.columns[:4]) == ["run", "name", "state", "layers"]
    assert {"test accuracy", "val loss", "learning rate", "batch size"} <= set(table.columns)


def test_metric_and_training_curves_can_be_chosen():
    at, ids = _open_with_runs((16, [0.9, 0.7]), (64, [0.8, 0.5]))
    at.selectbox(key="compare_metric").set_value("accuracy").run()
    at.radio(key="compare_which").set_value("Training").run()
    spec = _overlay(at)
    assert spec["layout"]["title"]["text"] == "Training accuracy"
    at.multiselect(key="compare_runs").set_value([ids[0]]).run()
    assert len(_overlay(at)["data"]) == 1
    assert len(at.dataframe[0].value) == 1


def test_table_downloads_as_csv():
    at, ids = _open_with_runs((16, [0.9]), (32, [0.8]))
    button = at.get("download_button")[0]
    assert button.proto.label == "Download the table (CSV)"
    table = at.dataframe[0].value
    assert table.to_csv(index=False).splitlines()[0].startswith("run,name,state,layers")
    assert set(table["run"]) == set(ids)


def test_no_runs_and_other_sessions_runs_are_not_shown():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    _fake_run("someone-else", 16, [0.5])
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert "No runs yet" in at.main.info[0].value
