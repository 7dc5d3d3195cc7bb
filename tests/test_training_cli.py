"""``python -m builder train``: headless training, JSON summary as the last line, exit codes.

Trains in-process on the offline ``digits`` dataset (scikit-learn's 8x8 digits: no download).
"""

import json

import pytest

from builder.project import save_project_file
from builder.training import list_runs, runs
from builder.training.cli import train_main
from tests.helpers import project


def _digits(tmp_path, units=10, validation=None):
    p = project(
        [
            ("d1", "Dense", {"units": 16, "activation": "relu"}),
            ("out", "Dense", {"units": units, "activation": "softmax"}),
        ],
        shape=(64,),
        loss="sparse_categorical_crossentropy",
        dataset="digits",
    )
    p["fit"].update(
        epochs=5, batch_size=64, validation=validation or {"method": "holdout", "fraction": 0.2}
    )
    path = tmp_path / "digits.json"
    save_project_file(p, path)
    return path


def _last_json_line(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_json_summary_is_the_last_line(tmp_path, capsys):
    code = train_main(
        [
            str(_digits(tmp_path)),
            "--epochs",
            "2",
            "--batch-size",
            "128",
            "--device",
            "cpu",
            "--runs",
            str(tmp_path / "runs"),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = _last_json_line(captured.out)
    assert doc["epochs"] == 2 and doc["state"] == "finished"
    assert set(doc["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 2 for v in doc["history"].values())
    assert set(doc["test"]) == {"loss", "accuracy"} and "kfold" not in doc
    (info,) = list_runs(tmp_path / "runs", "cli")
    assert info["path"] == doc["run"] and info["state"] == "finished"
    saved = runs.read_json(f"{doc['run']}/project.json")
    assert saved["fit"]["epochs"] == 2 and saved["fit"]["batch_size"] == 128
    assert "epoch 2/2" in captured.err and "run folder:" in captured.err


def test_kfold_adds_mean_scores(tmp_path, capsys):
    path = _digits(tmp_path, validation={"method": "kfold", "k": 2})
    code = train_main(
        [str(path), "--epochs", "1", "--device", "cpu", "--runs", str(tmp_path / "runs"), "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = _last_json_line(captured.out)
    assert set(doc["kfold"]) == {"val_loss", "val_accuracy"}
    assert 0 <= doc["kfold"]["val_accuracy"] <= 1 and doc["epochs"] == 1


def test_training_failure_exits_1_with_the_message(tmp_path, capsys):
    code = train_main(
        [
            str(_digits(tmp_path, units=5)),
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--runs",
            str(tmp_path / "runs"),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    doc = _last_json_line(captured.out)
    assert doc["state"] == "failed" and "last layer has only 5 units" in doc["message"]
    assert "last layer has only 5 units" in captured.err


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "netbuilder.project", "version": 1}', "model"),
    ],
)
def test_unreadable_file_exits_2(tmp_path, capsys, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert train_main([str(path), "--runs", str(tmp_path / "runs")]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_missing_file_exits_2(tmp_path, capsys):
    assert train_main([str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_device_exits_1(tmp_path, capsys):
    assert train_main([str(_digits(tmp_path)), "--device", "tpu"]) == 1
    assert "not a choice" in capsys.readouterr().err
