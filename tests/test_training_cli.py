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


# --------------------------------------------------------------------------- --resume


def _stopped_run(tmp_path, epochs_done=2, validation=None):
    """A digits run of 4 epochs stopped in the middle of epoch ``epochs_done + 1``."""
    from builder.project import load_project_file, validate
    from builder.training import worker

    p = validate(load_project_file(_digits(tmp_path, validation=validation)))
    p["fit"]["epochs"] = 4
    folder = runs.create_run(tmp_path / "runs", "cli", p, {"device_choice": "cpu"})
    steps = -(-int(1437 * 0.8) // 64)  # digits: 1437 training samples, 20 % held out
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > epochs_done * steps + 2

    summary = worker.train(p, folder, should_stop=should_stop, device="cpu")
    assert summary["state"] == "stopped" and summary["epochs"] == epochs_done
    return folder


def test_resume_continues_the_run_in_its_folder(tmp_path, capsys):
    folder = _stopped_run(tmp_path)
    before = runs.read_history_csv(folder / "history.csv")
    code = train_main(["--resume", str(folder), "--epochs", "5", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = _last_json_line(captured.out)
    assert doc["run"] == str(folder) and doc["state"] == "finished" and doc["epochs"] == 5
    assert all(len(v) == 5 for v in doc["history"].values())
    assert doc["history"]["loss"][:2] == pytest.approx(before["loss"])
    assert "resuming run" in captured.err and "epoch 3/5" in captured.err
    assert "epoch 1/5" not in captured.err
    (info,) = list_runs(tmp_path / "runs", "cli")
    assert info["id"] == folder.name and info["epochs_done"] == 5
    assert [s["first_epoch"] for s in info["segments"]] == [1, 3]
    assert runs.read_history_csv(folder / "history.csv")["epoch"] == [1, 2, 3, 4, 5]

    assert train_main(["--resume", str(folder)]) == 1
    assert "cannot resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, words",
    [
        (["--epochs", "2"], "give a total of at least 3 epochs"),
        (["--device", "tpu"], "not a choice"),
    ],
)
def test_resume_refusals_exit_1_with_the_reason(tmp_path, capsys, args, words):
    folder = _stopped_run(tmp_path)
    assert train_main(["--resume", str(folder), *args]) == 1
    assert words in capsys.readouterr().err
    assert runs.read_json(folder / "run.json")["state"] == "stopped"  # untouched


def test_resume_of_a_kfold_run_or_a_stranger_folder_says_why(tmp_path, capsys):
    folder = _stopped_run(tmp_path, epochs_done=1, validation={"method": "kfold", "k": 2})
    assert train_main(["--resume", str(folder)]) == 1
    assert "K-fold runs cannot be resumed" in capsys.readouterr().err
    assert train_main(["--resume", str(tmp_path)]) == 1
    assert "not a readable run folder" in capsys.readouterr().err


def test_resume_and_a_project_file_do_not_mix(tmp_path, capsys):
    with pytest.raises(SystemExit) as ended:
        train_main([str(_digits(tmp_path)), "--resume", str(tmp_path)])
    assert ended.value.code == 2
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_main(["--resume", str(tmp_path), "--batch-size", "8"])
    assert "--batch-size cannot be used with --resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_main([])
    assert "a project file is needed" in capsys.readouterr().err
