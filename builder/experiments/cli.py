"""``python -m builder sweep FILE``: run the project's experiment from the command line.

Progress goes to stderr. With ``--json`` the last line of stdout is::

    {"experiment": folder, "executor": "local"|"ray", "metric": name, "mode": "min"|"max",
     "trials": [{"id", "params": {...}, "state": "finished"|"stopped"|"failed",
                 "metric": value or null, "epochs": n, "run": folder}],
     "best": {"id", "params", "metric"} | null}

``executor`` is "ray" when ``--ray ADDRESS`` or ``RAY_ADDRESS`` named a cluster. Ray's own
output never reaches stdout: while the sweep runs, stdout is pointed at stderr.

Exit status: 0 the sweep ran (some trials may have failed: see their state), 1 the sweep
could not run or every trial failed, 2 the project file cannot be read or has no usable
experiment section. Ctrl+C stops the sweep and keeps the trials that finished.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m builder sweep",
        description="Run the experiment section of a netbuilder project (packed or on Ray Tune).",
    )
    parser.add_argument("file", help='project file (.json) with an "experiment" section')
    parser.add_argument("--trials", type=int, help="override experiment.trials")
    parser.add_argument("--concurrency", type=int, help="trials at the same time")
    parser.add_argument("--epochs", type=int, help="override fit.epochs for every trial")
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)",
    )
    parser.add_argument("--runs", help="folder for run folders (default: the app's)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary as the last line of stdout"
    )
    return parser


@contextlib.contextmanager
def stdout_to_stderr():
    """Point file descriptor 1 at stderr (Ray and TensorFlow print to it); restore after."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def sweep_main(argv: list[str]) -> int:
    from builder.experiments import runner, spec
    from builder.project import ProjectError, load_project_file, validate, with_local_paths

    args = _parser().parse_args(argv)
    try:
        project = with_local_paths(load_project_file(args.file), args.file)
        if not project.get("experiment"):
            raise ProjectError(
                'this project has no "experiment" section: add one (see '
                "templates/experiment_digits.json) or train it with "
                "'python -m builder train'.",
                "experiment",
            )
        section = project["experiment"]
        for key, value in (("trials", args.trials), ("concurrency", args.concurrency)):
            if value is not None:
                section[key] = value
        if args.epochs is not None:
            project["fit"]["epochs"] = args.epochs
        project = validate(project)
        project["experiment"] = spec.defaults(project["experiment"])
    except ProjectError as err:
        print(f"{args.file}: {err}", file=sys.stderr)
        return 2
    if args.runs:
        runs_root = Path(args.runs)
    else:
        from builder import paths

        runs_root = paths.runs_root()
    folder = runner.create(project, runs_root, "cli")
    print(f"experiment folder: {folder}", file=sys.stderr)
    with stdout_to_stderr(), _ctrl_c(folder):
        record = runner.run(
            folder,
            runs_root=runs_root,
            address=args.ray,
            log=lambda text: print(text, file=sys.stderr, flush=True),
        )
    print(runner.pretty(record), file=sys.stderr)
    if args.json:
        from builder.training import runs

        sys.stdout.write(json.dumps(runs.json_safe(runner.summary(record))) + "\n")
        sys.stdout.flush()
    if record["state"] == "failed":
        return 1
    trials = record["trials"]
    return 1 if trials and all(t["state"] == "failed" for t in trials) else 0


@contextlib.contextmanager
def _ctrl_c(folder):
    """The first Ctrl+C asks the sweep to stop (finished trials kept); a second aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from builder.experiments import runner

    asked = []

    def handler(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        runner.request_stop(folder)
        sys.stderr.write(
            "\nstopping the sweep: running trials end after their batch (Ctrl+C again to abort)\n"
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def train_on_ray(project: dict, runs_root: Path, args) -> int:
    """``--ray ADDRESS``: the same training as a one-trial experiment on that cluster."""
    from builder.experiments import runner
    from builder.training import runs

    with stdout_to_stderr():
        record = runner.train_on_cluster(
            project, runs_root, "cli", args.ray, log=lambda text: print(text, file=sys.stderr)
        )
    trial = record["trials"][0] if record["trials"] else None
    if trial is None or not trial.get("run"):
        reason = record.get("message") or (
            "the run folder is not visible here (is --runs on a shared file system?)"
        )
        print(f"training on the Ray cluster failed: {reason}", file=sys.stderr)
        return 1
    loaded = runs.load_run(runs_root, "cli", Path(trial["run"]).name)
    info = loaded["info"]
    print(
        f"{info['state']}: {info.get('message') or 'all epochs done'}\nrun folder: {trial['run']}",
        file=sys.stderr,
    )
    if args.json:
        history = {k: v for k, v in loaded["history"].items() if k not in ("epoch", "seconds")}
        doc = {
            "run": trial["run"],
            "state": info["state"],
            "message": info.get("message", ""),
            "epochs": info.get("epochs_done"),
            "history": history,
            "test": loaded["metrics"].get("test", {}),
        }
        sys.stdout.write(json.dumps(runs.json_safe(doc)) + "\n")
        sys.stdout.flush()
    return 1 if info["state"] == "failed" else 0
