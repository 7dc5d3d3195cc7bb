"""Sweeps on Ray Tune, end to end through ``python -m builder sweep --json``.

Each test trains tiny digits networks (scikit-learn's 8x8 digits, offline) for 1-2 epochs:
once on the local Ray instance a sweep starts for itself (packing turned off), once on a
real Ray head this test starts (``ray start --head --block`` in its own process group, killed by group at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.project import save_project_file, validate
from builder.training import list_runs, runs
from tests.helpers import project

ROOT = Path(__file__).resolve().parent.parent
# A local grid sweep trains its trials packed, without Ray (tests/test_experiments_packed.py);
# these tests keep Ray Tune's path covered.
ON_RAY = {"RAY_ADDRESS": None, "NETBUILDER_PACKED": "0"}
pytest.importorskip(
    "ray.tune", reason="Ray Tune is not installed (pip install -r requirements.txt)"
)


def _digits(
    parameters,
    *,
    hidden_activation="relu",
    out_activation="softmax",
    loss="categorical_crossentropy",
    optimizer="RMSprop",
    **experiment,
):
    p = project(
        [
            ("hidden", "Dense", {"units": 16, "activation": hidden_activation}),
            ("out", "Dense", {"units": 10, "activation": out_activation}),
        ],
        shape=(64,),
        loss=loss,
        dataset="digits",
        options={"image_layout": "flat", "label_encoding": "one_hot"},
    )
    p["version"] = 2
    p["compile"]["optimizer"] = {"class_name": optimizer, "config": {"learning_rate": 0.01}}
    p["fit"].update(epochs=2, batch_size=128, validation={"method": "holdout", "fraction": 0.2})
    p["experiment"] = {"parameters": parameters, "concurrency": 2, **experiment}
    return validate(p)


def _sweep(tmp_path, p, *extra, env=None, timeout=600):
    path = tmp_path / "sweep.json"
    save_project_file(p, path)
    env = {
        k: v
        for k, v in {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}.items()
        if v is not None
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "builder",
            "sweep",
            str(path),
            "--runs",
            str(tmp_path / "runs"),
            "--json",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no stdout; stderr:\n{done.stderr[-3000:]}"
    return done.returncode, json.loads(lines[-1]), done


def _check_shape(doc):
    assert set(doc) == {"experiment", "executor", "metric", "mode", "trials", "best"}
    for trial in doc["trials"]:
        assert set(trial) == {"id", "params", "state", "metric", "epochs", "run"}
        assert trial["state"] in ("finished", "stopped", "failed")
    if doc["best"] is not None:
        assert set(doc["best"]) == {"id", "params", "metric"}


def test_local_sweep_runs_four_trials_two_at_a_time_and_a_nan_trial_fails_alone(tmp_path):
    # Linear layers, mse and SGD: learning rate 1.0 overflows to NaN within the first
    # epoch, the three others train. Four trials, two at a time, on a local Ray.
    p = _digits(
        [{"setting": "compile.optimizer.learning_rate", "values": [0.001, 0.01, 0.05, 1.0]}],
        hidden_activation="linear",
        out_activation="linear",
        loss="mse",
        optimizer="SGD",
        metric="val_loss",
    )
    code, doc, done = _sweep(tmp_path, p, "--epochs", "2", env=ON_RAY)
    assert code == 0, done.stderr[-3000:]
    _check_shape(doc)
    assert doc["executor"] == "local" and doc["metric"] == "val_loss" and doc["mode"] == "min"
    by_rate = {t["params"]["compile.optimizer.learning_rate"]: t for t in doc["trials"]}
    assert sorted(by_rate) == [0.001, 0.01, 0.05, 1.0]
    assert by_rate[1.0]["state"] == "failed" and by_rate[1.0]["metric"] is None
    for rate in (0.001, 0.01, 0.05):
        trial = by_rate[rate]
        assert trial["state"] == "finished" and trial["epochs"] == 2
        assert isinstance(trial["metric"], float)
        history = runs.read_history_csv(Path(trial["run"]) / "history.csv")
        assert history["val_loss"][-1] == pytest.approx(trial["metric"])
        assert (Path(trial["run"]) / "model.keras").is_file()
    best = min((by_rate[r] for r in (0.001, 0.01, 0.05)), key=lambda t: t["metric"])
    assert doc["best"]["id"] == best["id"]
    # Every trial's run folder is an ordinary run of the CLI's owner (Compare lists them).
    listed = {r["trial"]: r for r in list_runs(tmp_path / "runs", "cli")}
    assert set(listed) == {t["id"] for t in doc["trials"]}
    failed = listed[by_rate[1.0]["id"]]
    assert failed["state"] == "failed" and "NaN" in failed["message"]
    optimizer = runs.read_json(Path(failed["path"]) / "project.json")["compile"]["optimizer"]
    assert optimizer["class_name"] == "SGD" and optimizer["config"]["learning_rate"] == 1.0
    record = runs.read_json(Path(doc["experiment"]) / "experiment.json")
    assert record["state"] == "finished" and len(record["trials"]) == 4
    assert all(len(t["curve"]) == t["epochs"] for t in record["trials"] if t["state"] != "failed")
    # At most two trials overlapped in time: read it from the run folders.
    spans = sorted((r["started"], r["ended"]) for r in listed.values())
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= 2, spans


def test_tpe_search_samples_ranges_with_optuna(tmp_path):
    p = _digits(
        [
            {"setting": "compile.optimizer.learning_rate", "low": 0.001, "high": 0.03, "log": True},
            {"setting": "layers.hidden.units", "low": 8, "high": 64},
        ],
        search="tpe",
        trials=3,
        metric="val_accuracy",
    )
    code, doc, done = _sweep(tmp_path, p, "--epochs", "1", env={"RAY_ADDRESS": None})
    assert code == 0, done.stderr[-3000:]
    _check_shape(doc)
    assert len(doc["trials"]) == 3 and all(t["state"] == "finished" for t in doc["trials"])
    for trial in doc["trials"]:
        rate = trial["params"]["compile.optimizer.learning_rate"]
        units = trial["params"]["layers.hidden.units"]
        assert 0.001 <= rate <= 0.03 and isinstance(units, int) and 8 <= units <= 64
        saved = runs.read_json(Path(trial["run"]) / "project.json")
        assert saved["model"]["layers"][0]["config"]["units"] == units
    assert doc["best"]["metric"] == max(t["metric"] for t in doc["trials"])


def test_a_trial_asha_stops_keeps_its_model_as_at_its_last_epoch(tmp_path):
    # One trial at a time, in grid order: the good learning rate sets rung 1, the tiny one
    # is below it there and ASHA stops it; it ends after the epoch it is in, tested and saved.
    p = _digits(
        [{"setting": "compile.optimizer.learning_rate", "values": [0.01, 1e-7]}],
        metric="val_loss",
        concurrency=1,
        early_stopping={"method": "asha", "grace_period": 1, "reduction_factor": 2},
    )
    p["fit"]["batch_size"] = 32
    code, doc, done = _sweep(tmp_path, p, "--epochs", "20", env=ON_RAY)
    assert code == 0, done.stderr[-3000:]
    assert "Trial task failed" not in done.stderr, done.stderr[-3000:]  # Tune saw no error
    by_rate = {t["params"]["compile.optimizer.learning_rate"]: t for t in doc["trials"]}
    assert by_rate[0.01]["state"] == "finished" and by_rate[0.01]["epochs"] == 20
    cut = by_rate[1e-7]
    assert cut["state"] == "stopped" and 1 <= cut["epochs"] < 20, cut
    folder = Path(cut["run"])
    info = runs.read_json(folder / "run.json")
    assert info["state"] == "stopped" and info["epochs_done"] == cut["epochs"]
    assert "ASHA" in info["message"] and "model as at epoch" in info["message"]
    history = runs.read_history_csv(folder / "history.csv")
    assert len(history["val_loss"]) == cut["epochs"]
    assert cut["metric"] == pytest.approx(history["val_loss"][-1])
    metrics = runs.read_json(folder / "metrics.json")
    assert set(metrics["test"]) == {"loss", "accuracy"}
    # The saved model is the one of the last recorded epoch: it scores that epoch's
    # val_loss on the hold-out samples again.
    import keras

    from builder.data.loader import prepare
    from builder.data.splits import holdout

    trained = validate(runs.read_json(folder / "project.json"))
    data = prepare(trained)
    _, (x_val, y_val) = holdout(data.x_train, data.y_train, fraction=0.2)
    model = keras.models.load_model(folder / "model.keras")
    scores = model.evaluate(x_val, y_val, batch_size=32, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-4)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_members(sid: int) -> list[int]:
    """Processes of session ``sid`` (Ray's workers make their own process groups in it)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            found.append(int(stat.parent.name))
    return found


def _end_session(head: subprocess.Popen) -> None:
    """Stop the head's process group (TERM, then KILL), then any worker left in its session."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(head.pid, sig)
        except ProcessLookupError:
            break
        try:
            head.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(head.pid, signal.SIGKILL)  # gcs_server and raylet outlive a TERMed head
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while _session_members(head.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in _session_members(head.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _cluster_ready(temp: Path) -> bool:
    """The head's raylet is up: its socket and the object store's are in the session."""
    sockets = temp / "session_latest" / "sockets"
    return (sockets / "raylet").exists() and (sockets / "plasma_store").exists()


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    ray = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    if not Path(ray).exists():
        pytest.skip("the 'ray' command is not installed")
    port = _free_port()
    temp = tmp_path_factory.mktemp("rayhead")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    log = open(temp / "head.log", "w")
    head = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--include-dashboard=false",
            "--temp-dir",
            str(temp),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if head.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the Ray head did not start:\n{(temp / 'head.log').read_text()}")
            time.sleep(0.5)
        # The raylet registers after the GCS port opens: ready once the cluster lists a
        # node with its CPUs (polled, no fixed wait).
        while not _cluster_ready(temp):
            if head.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the Ray head has no node:\n{(temp / 'head.log').read_text()}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        _end_session(head)
        log.close()


def test_the_same_sweep_runs_on_a_ray_cluster_by_address(tmp_path, ray_head):
    p = _digits(
        [
            {"setting": "layers.hidden.units", "values": [8, 16]},
            {"setting": "layers.hidden.repeat", "values": [1, 2]},
        ],
        metric="val_accuracy",
        early_stopping={"method": "asha", "grace_period": 1, "reduction_factor": 2},
    )
    code, doc, done = _sweep(
        tmp_path, p, "--epochs", "2", "--ray", ray_head, env={"RAY_ADDRESS": None}
    )
    assert code == 0, done.stderr[-3000:]
    _check_shape(doc)
    assert doc["executor"] == "ray" and doc["mode"] == "max"
    assert len(doc["trials"]) == 4
    assert {json.dumps(t["params"], sort_keys=True) for t in doc["trials"]} == {
        json.dumps({"layers.hidden.units": u, "layers.hidden.repeat": r}, sort_keys=True)
        for u in (8, 16)
        for r in (1, 2)
    }
    for trial in doc["trials"]:
        # ASHA may stop a weak trial after its first epoch; none fails.
        assert trial["state"] in ("finished", "stopped") and 1 <= trial["epochs"] <= 2
        info = runs.read_json(Path(trial["run"]) / "run.json")
        assert info["state"] == trial["state"] and info["trial"] == trial["id"]
        saved = runs.read_json(Path(trial["run"]) / "project.json")
        depth = sum(1 for lay in saved["model"]["layers"] if lay["name"].startswith("hidden"))
        assert depth == trial["params"]["layers.hidden.repeat"]
    assert doc["best"]["metric"] == max(t["metric"] for t in doc["trials"])


def test_sweep_without_experiment_section_exits_2(tmp_path):
    p = _digits([{"setting": "layers.hidden.units", "values": [8]}])
    p.pop("experiment")
    path = tmp_path / "plain.json"
    save_project_file(p, path)
    done = subprocess.run(
        [sys.executable, "-m", "builder", "sweep", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and 'no "experiment" section' in done.stderr
    assert done.stdout == ""


def test_train_sends_a_single_run_to_the_cluster(tmp_path, ray_head):
    p = _digits([{"setting": "layers.hidden.units", "values": [8]}])
    p.pop("experiment")
    path = tmp_path / "one.json"
    save_project_file(p, path)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "builder",
            "train",
            str(path),
            "--epochs",
            "1",
            "--ray",
            ray_head,
            "--runs",
            str(tmp_path / "runs"),
            "--json",
        ],
        cwd=ROOT,
        env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert doc["state"] == "finished" and doc["epochs"] == 1
    assert set(doc["test"]) == {"loss", "accuracy"}
    assert len(doc["history"]["val_loss"]) == 1
    (info,) = list_runs(tmp_path / "runs", "cli")
    assert info["path"] == doc["run"] and info["params"] == {}
    assert (Path(doc["run"]) / "model.keras").is_file()


def test_unreachable_cluster_fails_at_once_with_the_address(tmp_path):
    p = _digits([{"setting": "layers.hidden.units", "values": [8]}])
    code, doc, done = _sweep(
        tmp_path, p, "--ray", f"127.0.0.1:{_free_port()}", env={"RAY_ADDRESS": None}, timeout=120
    )
    assert code == 1 and doc["executor"] == "ray" and doc["trials"] == []
    assert "cannot reach the Ray cluster at '127.0.0.1:" in done.stderr
    record = runs.read_json(Path(doc["experiment"]) / "experiment.json")
    assert record["state"] == "failed"
