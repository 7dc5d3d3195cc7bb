"""One trial of an experiment: what a Ray worker runs.

A trial applies its values to the project (``spec.apply``), creates an ordinary run folder
(``runs.create_run``: the same layout as a single run, plus ``experiment``, ``trial`` and
``params`` in run.json) and trains with the same code as a single run
(``builder.training.worker.train``). Each finished epoch is reported to Ray Tune, so a
scheduler (ASHA) can stop a weak trial; a trial whose training fails (a NaN loss, a bad
setting) raises ``TrialFailed``, which Tune records as an error of that trial only.

TensorFlow is limited to the trial's CPUs (intra- and inter-op threads), so concurrent
trials share the cores instead of each taking all of them.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

STOP_FILE = "stop"


class TrialFailed(RuntimeError):
    """The trial's training ended as failed; the message says why (also in run.json)."""


def params_of(config: dict, settings: list[str]) -> dict:
    """The trial's values, from a grid combination or from sampled settings."""
    if "combination" in config:
        return dict(config["combination"])
    return {s: config[s] for s in settings if s in config}


def _limit_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already started in this worker (a reused actor): keep its setting


def run(config: dict, context: dict) -> None:
    """Ray Tune function trainable. ``context`` (the same for every trial): project,
    runs_root, owner, experiment (id), folder (the experiment's), settings, metric,
    threads, device."""
    from ray import tune

    from builder.experiments import spec
    from builder.training import devices, runs, worker

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    params = params_of(config, context["settings"])
    project = spec.apply(context["project"], params)
    if "tensorflow" not in sys.modules:
        devices.apply_choice_env(context["device"])
    else:  # a reused worker: drop the previous trial's graphs and layer names
        import keras

        keras.backend.clear_session()
    _limit_threads(int(context["threads"]))
    trial_id = tune.get_context().get_trial_id()
    fit = project["fit"]
    folder = runs.create_run(
        context["runs_root"],
        context["owner"],
        project,
        {
            "device_choice": context["device"],
            "seed": fit.get("seed", 0),
            "validation": fit["validation"]["method"],
            "experiment": context["experiment"],
            "trial": trial_id,
            "params": params,
        },
    )
    stop_file = Path(context["folder"]) / STOP_FILE
    metric = context["metric"]

    held: list[dict] = []
    history: dict[str, list] = {}
    seconds: list[float] = []

    def emit(event: dict) -> None:
        if event.get("type") != "epoch":
            return
        # Ray may end a trial at any report (ASHA), so the epoch goes to history.csv first
        # (the same file a single run writes, which it refreshes at most once a second).
        for name, value in event["logs"].items():
            history.setdefault(name, []).append(value)
        seconds.append(event["seconds"])
        runs.write_text_atomic(folder / "history.csv", runs.history_to_csv(history, seconds))
        logs = {
            k: float(v)
            for k, v in event["logs"].items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        }
        if metric not in logs:
            return  # a NaN epoch: the trial fails when training returns
        result = {**logs, "epoch": event["epoch"], "run": str(folder)}
        if event["epoch"] >= event["epochs"]:
            # The last epoch is reported once the run folder is complete: a scheduler may
            # end the trial at any report, and this one must not cost the saved model.
            held.append(result)
        else:
            tune.report(result)

    # Stop (the page's button, or the CLI's Ctrl+C) writes the stop file: a trial that sees
    # it ends after the current batch and keeps its model, like a stopped single run.
    summary = worker.train(project, folder, emit, stop_file.exists, device=context["device"])
    if summary["state"] == "failed":
        raise TrialFailed(summary["message"] or "training failed")
    if held:
        tune.report(held[-1])
    elif not seconds:
        # Stopped before its first epoch: Tune needs a metric from every trial that ends
        # normally, so this one ends as an error; its run folder says "stopped".
        raise TrialFailed(summary["message"] or "stopped before the first epoch")
