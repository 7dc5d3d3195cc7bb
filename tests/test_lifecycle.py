"""Runtime trust: workers die with their app, start-up reconciles run folders, free disk
is checked, old files are pruned, and the app reads data only from its uploads folder."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from builder import paths, templates
from builder.training import lifecycle, runs
from tests.helpers import cli_in_process

ROOT = Path(__file__).resolve().parent.parent


def _wait_gone(pid, token, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lifecycle.alive(pid, token):
            return time.monotonic() - (deadline - timeout)
        time.sleep(0.1)
    return None


def _python(code: str, env_extra: dict | None = None, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# --------------------------------------------------------------------------- parent death


def test_a_worker_stops_within_seconds_when_its_app_is_killed(tmp_path):
    """A real worker of the engine, training the offline default for many epochs; its
    parent (standing in for the Streamlit server) is killed with SIGKILL."""
    parent = _python(f"""
        import sys, time
        from builder import templates
        from builder.project import validate
        from builder.training import start_run
        p = templates.load(templates.DEFAULT)
        p["fit"]["epochs"] = 100000
        handle = start_run(validate(p), {str(tmp_path)!r}, "alice", device="cpu")
        print(handle.pid, handle.path, flush=True)
        time.sleep(600)
    """)
    try:
        pid, folder = parent.stdout.readline().split()
        pid, folder = int(pid), Path(folder)
        deadline = time.monotonic() + 180
        while not (folder / "history.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.5)  # history.csv appears after the first epoch: it is training
        record = runs.read_json(folder / "run.json")
        assert (folder / "history.csv").exists(), f"the worker never trained: {record}"
        token = record["pid_token"]
        assert record["pid"] == pid and lifecycle.alive(pid, token)
        assert record["server_pid"] == parent.pid
    finally:
        parent.kill()
        parent.wait()
    took = _wait_gone(pid, token, timeout=10)
    assert took is not None, "the worker outlived its killed parent by 10 s"


_GUARDED_CHILD = """
import os, sys
from builder.training import lifecycle
lifecycle.guard(int(sys.argv[1]), lifecycle.start_token(int(sys.argv[1])))
print("guarded", flush=True)
for line in sys.stdin:
    print("pong", flush=True)
"""


def _child_started_by_a_short_thread(through_launcher: bool) -> subprocess.Popen:
    """A child that sets the parent-death signal, started from a thread that then ends (as
    a Streamlit script run's thread does). Returns once that thread is gone from the OS."""

    def start():
        return subprocess.Popen(
            [sys.executable, "-c", _GUARDED_CHILD, str(os.getpid())],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    box: dict = {}

    def script_run():
        box["tid"] = threading.get_native_id()
        box["child"] = lifecycle.launch(start) if through_launcher else start()
        assert box["child"].stdout.readline() == "guarded\n"  # the signal is set now

    thread = threading.Thread(target=script_run)
    thread.start()
    thread.join()
    deadline = time.monotonic() + 60
    while Path(f"/proc/self/task/{box['tid']}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # polled: the OS thread ends just after Python's join returns
    return box["child"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_a_child_started_through_launch_outlives_the_script_run_that_asked_for_it():
    """The experiment runner and every training worker start through ``lifecycle.launch``:
    started straight from a script run's thread, the kernel kills them when it ends."""
    control = _child_started_by_a_short_thread(through_launcher=False)
    assert control.wait(timeout=60) == -signal.SIGKILL, "the control child was not killed"
    child = _child_started_by_a_short_thread(through_launcher=True)
    try:
        child.stdin.write("ping\n")
        child.stdin.flush()
        assert child.stdout.readline() == "pong\n", "the launched child died with the thread"
    finally:
        child.kill()
        child.wait()


def test_the_watch_thread_ends_an_orphan_where_no_parent_death_signal_exists(tmp_path):
    """The portable fallback alone (the prctl call disabled): the 'app' is a sleep process."""
    app = subprocess.Popen(["sleep", "60"])
    marker = tmp_path / "orphaned"
    child = _python(f"""
        import time
        from builder.training import lifecycle
        lifecycle.set_parent_death_signal = lambda: False
        lifecycle.guard({app.pid}, lifecycle.start_token({app.pid}),
                        on_orphan=lambda: open({str(marker)!r}, "w").close(), interval=0.1)
        print("guarded", flush=True)
        time.sleep(60)
    """)
    try:
        assert child.stdout.readline().strip() == "guarded"
        assert child.poll() is None
        app.kill()
        app.wait()
        child.wait(timeout=10)
        assert child.returncode == 1 and marker.exists()
    finally:
        for proc in (app, child):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_alive_tells_a_recycled_pid_and_a_zombie_from_the_process():
    proc = subprocess.Popen(["sleep", "60"])
    token = lifecycle.start_token(proc.pid)
    try:
        assert lifecycle.alive(proc.pid, token)
        assert not lifecycle.alive(proc.pid, "not-" + str(token))
        proc.kill()
        time.sleep(0.3)
        assert not lifecycle.alive(proc.pid, token)  # a zombie until reaped
    finally:
        proc.wait()
    assert not lifecycle.alive(proc.pid) and not lifecycle.alive(None)


def test_ended_workers_are_reaped_even_when_no_page_polls_them(tmp_path):
    from builder.project import validate
    from builder.training import RunManager

    project = templates.load(templates.DEFAULT)
    project["fit"]["epochs"] = 1
    manager = RunManager(tmp_path, max_active=1)
    handle = manager.start(validate(project), "alice", device="cpu")
    pid = handle.pid
    deadline = time.monotonic() + 180
    while manager.reap() and time.monotonic() < deadline:
        time.sleep(0.5)  # reap() only collects exit statuses: no events are read
    assert manager.reap() == 0, "the worker did not end"
    assert not Path(f"/proc/{pid}").exists(), "an ended worker was left as a zombie"
    assert handle.poll()[-1]["state"] == "finished"


# --------------------------------------------------------------------------- start-up


def _run(tmp_path, owner="alice", **info):
    project = templates.load(templates.DEFAULT)
    folder = runs.create_run(tmp_path, owner, project, {})
    runs.update_run_info(folder, **info)
    return folder


def test_reconcile_marks_runs_without_a_process_interrupted_and_stops_orphans(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    dead_server = subprocess.Popen(["true"])
    dead_server.wait()
    try:
        gone = _run(tmp_path, state="running", pid=2**22 + 12345)
        recycled = _run(
            tmp_path, "bob", state="running", pid=sleeper.pid, pid_token="0", server_pid=os.getpid()
        )
        orphan = _run(
            tmp_path,
            state="running",
            pid=sleeper.pid,
            pid_token=lifecycle.start_token(sleeper.pid),
            server_pid=dead_server.pid,
            server_token="1",
        )
        finished = _run(tmp_path, state="finished", pid=2**22 + 1)
        changed = runs.reconcile(tmp_path)
        assert sorted((c["id"], c["action"]) for c in changed) == sorted(
            [(gone.name, "interrupted"), (recycled.name, "interrupted"), (orphan.name, "stopped")]
        )
        assert sleeper.wait(timeout=10) == -signal.SIGTERM
        for folder in (gone, recycled, orphan):
            record = runs.read_json(folder / "run.json")
            assert record["state"] == "interrupted" and "epochs recorded" in record["message"]
        assert runs.read_json(finished / "run.json")["state"] == "finished"
        assert runs.reconcile(tmp_path) == []
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()


def test_reconcile_leaves_live_workers_of_a_live_app_and_cli_runs_alone(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        token = lifecycle.start_token(sleeper.pid)
        watched = _run(
            tmp_path,
            state="running",
            pid=sleeper.pid,
            pid_token=token,
            server_pid=os.getpid(),
            server_token=lifecycle.start_token(os.getpid()),
        )
        cli = _run(tmp_path, "cli", state="running", pid=os.getpid())
        fresh = _run(tmp_path, state="starting")  # a worker that has not recorded its pid yet
        assert runs.reconcile(tmp_path) == []
        assert lifecycle.alive(sleeper.pid, token)
        for folder in (watched, cli, fresh):
            assert runs.read_json(folder / "run.json")["state"] in ("running", "starting")
        later = runs.reconcile(tmp_path, now=time.time() + runs.STALE_WITHOUT_PID_S + 1)
        assert [(c["id"], c["action"]) for c in later] == [(fresh.name, "interrupted")]
    finally:
        sleeper.kill()
        sleeper.wait()


# --------------------------------------------------------------------------- disk and pruning


def test_training_refuses_to_start_on_a_full_disk(tmp_path, monkeypatch):
    free = runs.check_free_disk(tmp_path)
    with pytest.raises(runs.RunError, match=r"MB free .*needs at least .*delete old runs"):
        runs.check_free_disk(tmp_path, minimum=free * 10)
    monkeypatch.setattr(runs, "MIN_FREE_BYTES", free * 10)
    with pytest.raises(runs.RunError, match="needs at least"):
        runs.create_run(tmp_path, "alice", templates.load(templates.DEFAULT), {})
    assert not (tmp_path / "alice").exists() or not any((tmp_path / "alice").iterdir())


def test_pruning_keeps_the_newest_runs_and_every_active_one(tmp_path):
    made = []
    for i in range(5):
        folder = tmp_path / ("alice" if i % 2 else "bob") / f"2026010{i}-000000-00000{i}"
        folder.mkdir(parents=True)
        state = "running" if i == 0 else "finished"
        runs.write_json_atomic(
            folder / "run.json",
            {"id": folder.name, "state": state, "started": "x", "pid": os.getpid()},
        )
        made.append(folder)
    stale = tmp_path / "alice" / ".new-20250101-000000-abcdef"
    stale.mkdir()
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    deleted = runs.prune_runs(tmp_path, keep=2)
    assert sorted(deleted) == sorted([str(made[1]), str(made[2]), str(stale)])
    assert [f.exists() for f in made] == [True, False, False, True, True]


def test_housekeeping_prunes_old_autosaves_and_unused_uploads(tmp_path, monkeypatch):
    from builder import housekeeping

    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    old = time.time() - 40 * 86400

    def autosave(name, csv, age):
        project = templates.load(templates.DEFAULT)
        if csv:
            project["data"] = {"dataset": "csv", "options": {"path": csv}}
        path = paths.autosave_dir() / name
        path.write_text(json.dumps(project))
        os.utime(path, (age, age))
        return path

    def upload(name, age):
        path = paths.uploads_dir() / name
        path.write_text("a,b\n1,2\n")
        os.utime(path, (age, age))
        return path

    stale = autosave("aaaaaaaaaaaaaaaa.json", "gone-with-it.csv", old)
    fresh = autosave("bbbbbbbbbbbbbbbb.json", "in-use.csv", time.time())
    in_use, orphan, new = (
        upload("in-use.csv", old),
        upload("gone-with-it.csv", old),
        upload("new.csv", time.time()),
    )
    by_run = upload("by-run.csv", old)
    run = runs.create_run(
        paths.runs_root(),
        "alice",
        {"data": {"dataset": "csv", "options": {"path": "by-run.csv"}}},
        {},
    )
    runs.update_run_info(run, state="finished")
    deleted = housekeeping.prune(keep_days=30, keep_runs=10)
    assert deleted["autosaves"] == [str(stale)] and deleted["uploads"] == [str(orphan)]
    assert fresh.exists() and in_use.exists() and new.exists() and by_run.exists()
    deleted = housekeeping.prune(keep_days=30, keep_runs=0)
    assert deleted["runs"] == [str(run)] and deleted["uploads"] == [str(by_run)]


def test_an_old_autosave_with_a_recent_run_is_kept(tmp_path, monkeypatch):
    """A project last edited long ago but trained lately is still in use: its autosave (and
    so the way back to its runs) stays."""
    from builder import housekeeping

    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    old = time.time() - 40 * 86400
    path = paths.autosave_dir() / "cccccccccccccccc.json"
    path.write_text(json.dumps(templates.load(templates.DEFAULT)))
    os.utime(path, (old, old))
    run = runs.create_run(paths.runs_root(), "cccccccccccccccc", {"data": {}}, {})
    runs.update_run_info(run, state="finished")
    assert housekeeping.prune(keep_days=30, keep_runs=10)["autosaves"] == []
    assert path.exists()
    os.utime(run, (old, old))
    assert housekeeping.prune(keep_days=30, keep_runs=10)["autosaves"] == [str(path)]


# --------------------------------------------------------------------------- files


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    folder = paths.uploads_dir()
    (folder / "houses.csv").write_text(
        "rooms,price\n" + "".join(f"{i % 5 + 1},{100 + i}\n" for i in range(30))
    )
    return folder


def test_the_app_reads_csv_files_only_from_its_uploads_folder(uploads, tmp_path):
    from builder.data import DataError, csv_data, describe

    assert csv_data.resolve_path("houses.csv") == str(uploads.resolve() / "houses.csv")
    assert describe({"dataset": "csv", "options": {"path": "houses.csv"}}).task
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nroot,x\n")
    (uploads / "link.csv").symlink_to(secret)
    for bad in ("../secret.csv", "link.csv", "sub/../../secret.csv"):
        with pytest.raises(DataError, match="outside the app's uploads folder"):
            csv_data.inspect_csv(bad)
    with pytest.raises(
        DataError, match=re.escape("the CSV file 'gone.csv' is missing: upload it on the Data page")
    ):
        describe({"dataset": "csv", "options": {"path": "gone.csv"}})


def test_the_app_keeps_only_file_names_and_the_cli_resolves_local_paths(
    uploads, tmp_path, monkeypatch
):
    from builder.project import portable_data, with_local_paths

    data = {"dataset": "csv", "options": {"path": "/etc/passwd", "target": "x"}}
    kept, note = portable_data(data)
    assert kept == {"dataset": "csv", "options": {"path": "passwd", "target": "x"}}
    assert "uploads folder" in note and data["options"]["path"] == "/etc/passwd"
    assert portable_data({"dataset": "csv", "options": {"path": "a.csv"}})[1] is None
    assert portable_data({"dataset": "mnist"}) == ({"dataset": "mnist"}, None)
    # The CLI: next to the project file first, then the working folder, then uploads.
    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    (project_dir / "mine.csv").write_text("a,b\n")
    doc = {"data": {"dataset": "csv", "options": {"path": "mine.csv"}}}
    assert with_local_paths(doc, project_dir / "p.json")["data"]["options"]["path"] == str(
        project_dir / "mine.csv"
    )
    monkeypatch.chdir(tmp_path)
    doc["data"]["options"]["path"] = "houses.csv"
    assert with_local_paths(doc, project_dir / "p.json")["data"]["options"]["path"] == str(
        uploads / "houses.csv"
    )


def test_cli_check_reads_a_csv_next_to_the_project_file(tmp_path, capfd, monkeypatch):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "houses.csv").write_text(
        "rooms,price\n" + "".join(f"{i % 5 + 1},{100 + i}\n" for i in range(30))
    )
    project = templates.load(templates.DEFAULT)
    project["data"] = {"dataset": "csv", "options": {"path": "houses.csv"}}
    project["model"]["inputs"][0]["shape"] = [1]
    project["model"]["layers"][-1]["config"].update(units=1, activation="linear")
    project["compile"].update(loss="mse", metrics=["mae"])
    (folder / "p.json").write_text(json.dumps(project))
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "h"))

    def check(code):
        done = cli_in_process(capfd, "check", folder / "p.json", "--json", cwd=tmp_path)
        assert done.returncode == code, done.stdout + done.stderr
        return json.loads(done.stdout)

    assert check(0)["fits_data"] is True
    (folder / "houses.csv").rename(tmp_path / "moved.csv")
    # Data that cannot be read is never called valid (#19): the error says which file.
    report = check(1)
    assert report["valid"] is False and report["fits_data"] is None
    assert any("cannot be read: no file at" in e and "houses.csv" in e for e in report["errors"])


def test_the_job_limit_counts_live_runs_this_app_does_not_watch(tmp_path):
    from builder.training import RunManager

    folder = _run(
        tmp_path,
        "cli",
        state="running",
        pid=os.getpid(),
        pid_token=lifecycle.start_token(os.getpid()),
    )
    assert runs.live_runs(tmp_path) == [{"owner": "cli", "id": folder.name, "pid": os.getpid()}]
    manager = RunManager(tmp_path, max_active=1)
    with pytest.raises(RuntimeError, match=r"1 training run.* already going on this machine"):
        manager.start(templates.load(templates.DEFAULT), "alice", device="cpu")
    runs.update_run_info(folder, state="finished")
    assert runs.live_runs(tmp_path) == []
