"""builder.starter and ``python -m builder new``: a project for a CSV, decided as the Data
page decides, that Keras builds and that fits its data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from builder import starter
from builder.data import DataError
from tests.helpers import cli_in_process
from tests.test_cli import run_cli

ROWS = 240


def _messy_csv(tmp_path, name="houses.csv") -> str:
    """A row ID, a free-text note, blanks, a text column and the target not last."""
    rng = np.random.default_rng(1)
    area = rng.normal(120, 30, ROWS)
    rooms = rng.integers(1, 6, ROWS)
    frame = pd.DataFrame(
        {
            "listing_id": np.arange(1, ROWS + 1),
            "area": np.where(rng.random(ROWS) < 0.05, np.nan, area),
            "price": 1500 * area + 20_000 * rooms + rng.normal(0, 5000, ROWS),
            "rooms": rooms,
            "town": rng.choice(["Lyon", "Oslo", "Pune"], ROWS),
            "agent_notes": [f"visit {i}: keys at desk {rng.integers(99)}" for i in range(ROWS)],
        }
    )
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_new_project_makes_the_data_pages_decisions(tmp_path):
    made = starter.new_csv_project(_messy_csv(tmp_path))
    assert made.target == "price" and made.task == "regression"
    assert "its name" in made.why_target
    assert made.kept == ["area", "rooms", "town"]
    assert made.left_out["listing_id"] == "looks like a row ID"
    assert made.left_out["agent_notes"].startswith("free text")
    project = made.project
    assert project["compile"]["loss"] == "mse" and project["compile"]["metrics"] == ["mae"]
    assert project["model"]["inputs"][0]["shape"] == [5]  # 2 numbers + 3 towns one-hot
    last = project["model"]["layers"][-1]
    assert last["config"]["units"] == 1 and last["config"].get("activation") is None
    assert project["fit"]["callbacks"][0]["class_name"] == "EarlyStopping"
    assert starter.MIN_EPOCHS <= project["fit"]["epochs"] <= starter.MAX_EPOCHS
    # inputs standardised by default (numbers; one-hot stays 0/1), the target too
    from builder.data import loader

    prepared = loader.prepare(project)
    numbers = prepared.x_train[:, :2]
    assert np.allclose(numbers.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(numbers.std(axis=0), 1, atol=1e-3)
    assert set(np.unique(prepared.x_train[:, 2:])) <= {0.0, 1.0}
    assert prepared.label_scale is not None and prepared.label_scale[1] > 10_000


@pytest.mark.parametrize(
    "rows, features, units", [(100, 5, 32), (1000, 10, 64), (1000, 300, 128), (50_000, 8, 128)]
)
def test_network_is_sized_to_the_data(rows, features, units):
    assert starter.hidden_units(features, rows) == units


def test_fewer_epochs_for_more_rows():
    small, large = starter.default_fit(300), starter.default_fit(30_000)
    assert small["epochs"] > large["epochs"] >= starter.MIN_EPOCHS


def test_several_targets_get_one_output_each(tmp_path):
    made = starter.new_csv_project(_messy_csv(tmp_path), targets=["price", "town"])
    project = made.project
    assert made.tasks == {"price": "regression", "town": "multiclass"}
    assert project["model"]["outputs"] == ["price", "town"]
    assert project["compile"]["loss"] == {
        "price": "mse",
        "town": "categorical_crossentropy",
    }
    targets = project["data"]["options"]["targets"]
    assert [(t["column"], t["output"]) for t in targets] == [("price", "price"), ("town", "town")]


def test_unknown_column_is_refused_naming_the_columns(tmp_path):
    with pytest.raises(DataError, match=r"no column 'cost'.*listing_id, area, price"):
        starter.new_csv_project(_messy_csv(tmp_path), targets=["cost"])


def test_template_network_follows_the_data(tmp_path):
    made = starter.new_csv_project(_messy_csv(tmp_path), template="offline_default")
    model = made.project["model"]
    assert model["inputs"][0]["shape"] == [5]
    assert model["layers"][-1]["config"]["units"] == 1
    assert made.project["compile"]["loss"] == "mse"


@pytest.mark.slow  # a subprocess or a training run
def test_new_cli_json_and_the_project_is_valid(tmp_path, capfd):
    data = _messy_csv(tmp_path)
    out = tmp_path / "p.json"
    done = run_cli("new", "--data", data, "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report) == {"project", "target", "targets", "task", "why_target", "columns", "model"}
    assert report["target"] == "price" and report["targets"] == ["price"]
    assert report["columns"]["left_out"]["listing_id"] == "looks like a row ID"
    assert report["model"]["layers"][-1]["output_shape"] == [None, 1]
    assert report["model"]["params"] == sum(lay["params"] for lay in report["model"]["layers"])
    saved = json.loads(out.read_text())
    assert saved["data"]["options"]["path"] == "houses.csv"  # beside the project: relative
    check = cli_in_process(capfd, "check", out, "--json")  # check's own subprocess: test_cli
    assert check.returncode == 0 and json.loads(check.stdout)["valid"], check.stdout


@pytest.mark.slow  # a subprocess or a training run
def test_new_cli_says_what_is_wrong(tmp_path):
    out = tmp_path / "p.json"
    missing = run_cli("new", "--data", str(tmp_path / "nope.csv"), "-o", str(out))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad = run_cli("new", "--data", _messy_csv(tmp_path), "--target", "cost", "-o", str(out))
    assert bad.returncode == 1 and "no column 'cost'" in bad.stderr
    assert "Traceback" not in bad.stderr and not out.exists()
