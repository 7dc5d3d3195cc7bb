"""An experiment exported as a Ray Tune script, run on a tiny case (2 trials, --smoke)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder import templates
from builder.experiments.export import to_ray_tune_script
from builder.project import ProjectError

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("ray.tune", reason="Ray Tune is not installed")


def test_exported_script_runs_the_trials_without_netbuilder(tmp_path):
    code = to_ray_tune_script(templates.load("experiment_digits"))
    assert "import builder" not in code and "from builder" not in code
    script = tmp_path / "experiment.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAY_ADDRESS")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", HOME=str(tmp_path))  # Ray's results go under HOME
    done = subprocess.run(
        [sys.executable, str(script), "--smoke", "--trials", "2", "--concurrency", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert doc["metric"] == "val_accuracy" and doc["mode"] == "max"
    assert [t["params"] for t in doc["trials"]] == [
        {"layers.hidden.units": 32, "compile.optimizer.learning_rate": 0.001},
        {"layers.hidden.units": 32, "compile.optimizer.learning_rate": 0.01},
    ]
    assert all(t["error"] is None and t["epochs"] == 1 for t in doc["trials"])
    assert doc["best"]["metric"] == max(t["metric"] for t in doc["trials"])


def test_export_refuses_what_one_script_cannot_run():
    p = templates.load("experiment_digits")
    p["experiment"]["parameters"].append(
        {"setting": "data.options.label_encoding", "values": ["one_hot", "integer"]}
    )
    with pytest.raises(ProjectError, match="varies data options"):
        to_ray_tune_script(p)
    p = templates.load("experiment_digits")
    p["experiment"]["parameters"] = [
        {
            "setting": "compile.loss",
            "values": ["categorical_crossentropy", "sparse_categorical_crossentropy"],
        }
    ]
    with pytest.raises(ProjectError, match="different label encodings"):
        to_ray_tune_script(p)
    p.pop("experiment")
    with pytest.raises(ProjectError, match='no "experiment" section'):
        to_ray_tune_script(p)


def test_a_standardised_target_ends_in_the_same_rescaling_as_the_app(tmp_path):
    """A CSV regression target far from unit scale (prices in the hundreds) is standardised
    for training; the Ray Tune script's model ends in the app's Rescaling back to the
    label's units (its deviation and mean from the same fitted encoder)."""
    from builder.data import encoding
    from tests.fixtures_data import mixed_csv_project

    p = mixed_csv_project(tmp_path, "csv_regression")
    p["model"]["layers"][0]["name"] = "hidden"
    p["version"] = 3
    p["experiment"] = {"parameters": [{"setting": "layers.hidden.units", "values": [4, 8]}]}
    enc = encoding.fit(p)
    assert enc.target_mean is not None  # the case this test is about
    code = to_ray_tune_script(p)
    compile(code, "ray_tune.py", "exec")
    assert f"LABEL_UNITS = {(float(enc.target_std), float(enc.target_mean))!r}" in code
    assert 'name="to_label_units"' in code


def test_shared_layers_are_refused_until_the_script_writes_them():
    p = templates.load("experiment_digits")
    first = p["model"]["layers"][0]
    p["model"]["layers"].insert(
        1, {"name": "again", "shares": first["name"], "inbound": [first["name"]]}
    )
    with pytest.raises(ProjectError, match="shared layers"):
        to_ray_tune_script(p)
