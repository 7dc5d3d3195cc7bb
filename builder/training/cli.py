"""``python -m builder train FILE``: train a project headless, write the usual run folder.

Training runs in this process (no worker: nothing else needs to stay responsive) with the
same code as the app's worker, so the run folder is the same. A text progress bar goes to
stderr; with ``--json`` the last line of stdout is::

    {"run": folder, "state": "finished", "message": "", "epochs": n,
     "history": {"loss": [...], "val_loss": [...], ...}, "test": {"loss": .., ...},
     "kfold": {"val_loss": .., "val_mae": ..},       # "kfold" only for K-fold runs
     "diagnosis": [{"kind": "overfitting", "message": "...", "fix": {"label": ...,
                    "action": {"op": "retrain", "epochs": 4}}}, ...]}   # builder.doctor

(also for a failed run, with "state": "failed" and the message; nothing is printed to
stdout when no run was started: a bad device choice or an unreadable file).

Exit status: 0 trained (also when stopped with Ctrl+C: the model so far is kept),
1 training failed or the device choice is wrong (the message says why), 2 the project
file cannot be read.
A first Ctrl+C stops after the current batch; a second one aborts.

``python -m builder train --resume RUN_FOLDER [--epochs N]`` continues a stopped or
interrupted run in its own folder from its last completed epoch (up to its own epochs, or
a new total N); exit status 1 with the reason when it cannot be resumed (K-fold, no
checkpoint, still training, N too small).
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import sys
import threading
from pathlib import Path

from . import devices, runs
from .events import Event

BAR_WIDTH = 24


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m builder train", description="Train a netbuilder project without the app."
    )
    parser.add_argument("file", nargs="?", help="project file (.json) saved by netbuilder")
    parser.add_argument(
        "--resume",
        metavar="RUN_FOLDER",
        help="continue this stopped or interrupted run from its last completed epoch "
        "(instead of a project file)",
    )
    parser.add_argument(
        "--epochs", type=int, help="override fit.epochs (with --resume: the new total)"
    )
    parser.add_argument("--batch-size", type=int, help="override fit.batch_size")
    parser.add_argument(
        "--device", default="auto", help="auto (default), cpu, gpu, or gpu:0,1 for chosen GPUs"
    )
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="float16 compute on a GPU (ignored on the CPU)",
    )
    parser.add_argument("--runs", help="folder for run folders (default: the app's runs folder)")
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary as the last line of stdout"
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="train on this Ray cluster (a one-trial experiment; on a GPU node "
        "when it has one); --runs should then be on a shared file system",
    )
    return parser


class _Progress:
    """Renders events as a one-line bar on stderr, plus one line per finished epoch."""

    def __init__(self, stream):
        self.stream = stream
        self.open_line = False

    def __call__(self, event: Event) -> None:
        if event["type"] == "batch" and event["batches"]:
            fold = f"fold {event['fold']}/{event['folds']} " if event["fold"] else ""
            done = event["batch"] / event["batches"]
            filled = int(done * BAR_WIDTH)
            loss = event["logs"].get("loss")
            text = (
                f"\r{fold}epoch {event['epoch']}/{event['epochs']} "
                f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
                f"{event['batch']}/{event['batches']}"
                + (f" loss {loss:.4f}" if loss is not None else "")
            )
            self.stream.write(text)
            self.open_line = True
        elif event["type"] == "epoch":
            fold = f"fold {event['fold']}/{event['folds']} " if event["fold"] else ""
            logs = " ".join(
                f"{k} {v:.4g}" for k, v in event["logs"].items() if k != "learning_rate"
            )
            self._newline()
            self.stream.write(
                f"{fold}epoch {event['epoch']}/{event['epochs']} "
                f"({event['seconds']:.1f} s) {logs}\n"
            )
        elif event["type"] == "status":
            self._newline()
            self.stream.write(f"{event['message']}\n")
        elif event["type"] == "summary":
            self._newline()
            self.stream.write(
                f"{event['state']}: {event['message'] or 'all epochs done'}\n"
                f"run folder: {event['path']}\n"
            )
        self.stream.flush()

    def _newline(self):
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def train_main(argv: list[str], on_cluster=None) -> int:
    """Run the ``train`` command; return the exit status (0 ok, 1 failed, 2 bad file).

    ``on_cluster(project, runs_root, args)`` trains on the Ray cluster named by ``--ray``
    (``builder.experiments.cli.train_on_ray``; passed in by ``python -m builder`` so that
    training does not depend on experiments, which depend on training)."""
    from builder.project import ProjectError, load_project_file, validate, with_local_paths

    parser = _parser()
    args = parser.parse_args(argv)
    if args.resume is not None:
        if args.file is not None:
            parser.error("give a project file or --resume RUN_FOLDER, not both")
        for option, value in (("--batch-size", args.batch_size), ("--ray", args.ray)):
            if value is not None:
                parser.error(f"{option} cannot be used with --resume (the run keeps its own)")
        return _resume_main(args)
    if args.file is None:
        parser.error("a project file is needed (or --resume RUN_FOLDER)")
    try:
        project = copy.deepcopy(with_local_paths(load_project_file(args.file), args.file))
        if args.epochs is not None:
            project["fit"]["epochs"] = args.epochs
        if args.batch_size is not None:
            project["fit"]["batch_size"] = args.batch_size
        project = validate(project)
    except ProjectError as err:
        print(f"{args.file}: {err}", file=sys.stderr)
        return 2
    try:
        devices.check_choice(args.device)
    except devices.DeviceError as err:
        print(str(err), file=sys.stderr)
        return 1
    if "tensorflow" not in sys.modules:
        devices.apply_choice_env(args.device)
    if args.runs:
        runs_root = Path(args.runs)
    else:
        from builder import paths

        runs_root = paths.runs_root()
    if args.ray:
        if on_cluster is None:
            print(
                "--ray needs python -m builder train (it runs the project as a one-trial "
                "experiment)",
                file=sys.stderr,
            )
            return 1
        return on_cluster(project, runs_root, args)
    try:
        folder = runs.create_run(
            runs_root,
            "cli",
            project,
            {
                "device_choice": args.device,
                "seed": project["fit"]["seed"],
                "validation": project["fit"]["validation"]["method"],
                "source": str(Path(args.file).resolve()),
            },
        )
    except (runs.RunError, OSError) as err:
        print(f"cannot start training: {err}", file=sys.stderr)
        return 1
    return _train_and_report(args, project, folder, mixed_precision=args.mixed_precision)


def _resume_main(args) -> int:
    """``train --resume RUN_FOLDER``: the run's own project, model and data, in this process."""
    folder = Path(args.resume)
    try:
        devices.check_choice(args.device)
    except devices.DeviceError as err:
        print(str(err), file=sys.stderr)
        return 1
    if args.mixed_precision:
        print("--mixed-precision is ignored with --resume: the run keeps its own.", file=sys.stderr)
    try:
        plan = runs.resume_plan(folder, args.epochs)
        runs.check_free_disk(folder)
    except (runs.RunError, OSError) as err:
        print(f"cannot resume: {err}", file=sys.stderr)
        return 1
    if "tensorflow" not in sys.modules:
        devices.apply_choice_env(args.device)
    from builder.project import ProjectError, validate

    from . import lifecycle

    try:
        project = validate(plan["project"])
    except ProjectError as err:
        print(f"cannot resume: the run's project.json is not valid ({err})", file=sys.stderr)
        return 1
    project["fit"]["epochs"] = plan["epochs"]
    runs.begin_segment(folder, plan["epochs"], plan["epoch"] + 1, device_choice=args.device)
    import os

    runs.update_run_info(folder, pid=os.getpid(), pid_token=lifecycle.start_token(os.getpid()))
    sys.stderr.write(
        f"resuming run {folder.name} at epoch {plan['epoch'] + 1} of {plan['epochs']}\n"
    )
    mixed = bool(plan["record"].get("mixed_precision"))
    return _train_and_report(args, project, folder, mixed_precision=mixed, resume=True)


def _train_and_report(args, project: dict, folder: Path, **train_options) -> int:
    """Train in this process with progress on stderr (Ctrl+C stops gracefully), then report."""
    from . import worker  # TensorFlow: only once training is certain

    stop = threading.Event()
    summary = _with_ctrl_c(
        stop,
        lambda: worker.train(
            project, folder, _Progress(sys.stderr), stop.is_set, device=args.device, **train_options
        ),
    )
    return _report(args, folder, summary)


def _report(args, folder: Path, summary: dict) -> int:
    """Print the JSON summary line if asked; return the exit status."""
    if args.json:
        doc = {
            "run": str(folder),
            "state": summary["state"],
            "message": summary["message"],
            "epochs": summary["epochs"],
            "history": summary["history"],
            "test": summary["test"],
        }
        if summary["kfold"] is not None:
            doc["kfold"] = summary["kfold"]
        doc["diagnosis"] = _diagnosis(folder)
        sys.stdout.write(json.dumps(runs.json_safe(doc)) + "\n")
        sys.stdout.flush()
    return 1 if summary["state"] == "failed" else 0


def _diagnosis(folder: Path) -> list[dict]:
    """The doctor's findings on the run in ``folder`` (``builder.doctor``)."""
    from builder import doctor

    try:
        folder = folder.resolve()
        run = runs.load_run(folder.parent.parent, folder.parent.name, folder.name)
    except runs.RunError:
        return []
    return doctor.diagnose_run(run)


def _with_ctrl_c(stop: threading.Event, work):
    """Run ``work()``; the first Ctrl+C sets ``stop`` (graceful), a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        return work()

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\nstopping after this batch (Ctrl+C again to abort)\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        return work()
    finally:
        signal.signal(signal.SIGINT, previous)
