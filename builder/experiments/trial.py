"""One trial of an experiment: what a Ray worker runs.

A trial applies its values to the project (``spec.apply``), creates an ordinary run folder
(``runs.create_run``: the same layout as a single run, plus ``experiment``, ``trial`` and
``params`` in run.json) and trains with the same code as a single run
(``builder.training.worker.train``), in a thread of the Ray actor (``TrialRun``).

Reporting does not hold training up: each finished epoch goes into a queue that Tune reads
(``Trial.step``), while the next epoch already trains. Besides the project's metric a
result carries ``best_so_far`` (the best value of the metric up to that epoch), which the
scheduler (ASHA) compares at its rungs, so one noisy epoch does not end a trial.

A trial that Tune ends early (ASHA, the time budget, the experiment's Stop after its grace
period) is *cut*: it finishes the epoch it is in, stops there, and ``worker.train`` tests
and saves that model as for any run; run.json then says ``stopped`` (``cut_by":
"experiment"``). Tune waits for this (``reset_config``/``cleanup`` join the thread), so a
stopped trial's run folder holds its model as at its last completed epoch. The Stop button
(the ``stop`` file) ends a trial after its current batch instead, like a stopped single run.

A worker process is reused for the next trial (``reuse_actors``): TensorFlow is imported,
its threads limited and the dataset loaded once per worker. TensorFlow is limited to the
trial's CPUs (intra- and inter-op threads), so concurrent trials share the cores instead of
each taking all of them.
"""

from __future__ import annotations

import math
import os
import queue
import sys
import threading
from pathlib import Path

from builder.training.events import Event

STOP_FILE = "stop"
BEST_KEY = "best_so_far"  # what the scheduler compares: the metric's best value so far
CUT_BY = "experiment"
# The last result of a trial that ended itself says how ("finished" or "stopped" by the
# Stop button): Tune's STOP sets "done" too, so "done" alone does not tell.
ENDED_KEY = "trial_ended"


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


def _training_model():
    """The Keras model being fitted, found from inside its progress callback: the epoch
    event is emitted from ``on_epoch_end`` of a Keras callback, whose ``model`` it is."""
    import keras

    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.callbacks.Callback) and owner.model is not None:
            return owner.model
        if isinstance(owner, keras.Model):
            return owner
        frame = frame.f_back
    return None


class TrialRun:
    """One trial training in a thread; ``next_result()`` hands its epochs to Tune in order,
    ``finish()`` cuts it at the end of its current epoch and waits until its run folder is
    complete."""

    def __init__(self, config: dict, context: dict, trial_id: str):
        from builder.experiments import spec
        from builder.training import runs

        self.context = context
        self.params = params_of(config, context["settings"])
        self.project = spec.apply(context["project"], self.params)
        fit = self.project["fit"]
        self.epochs = fit["epochs"]
        self.metric = context["metric"]
        self.sign = -1.0 if context.get("mode", "min") == "max" else 1.0
        self.folder = runs.create_run(
            context["runs_root"],
            context["owner"],
            self.project,
            {
                "device_choice": context["device"],
                "seed": fit.get("seed", 0),
                "validation": fit["validation"]["method"],
                "experiment": context["experiment"],
                "trial": trial_id,
                "params": self.params,
            },
        )
        self.stop_file = Path(context["folder"]) / STOP_FILE
        self.results: queue.Queue = queue.Queue()
        self.cut = threading.Event()
        self.cut_at: int | None = None  # the epoch a cut ended training after
        self.best: float | None = None
        self.last: dict | None = None
        self.summary: dict | None = None  # the worker's SummaryEvent, or state + message
        self.thread = threading.Thread(target=self._train, name="netbuilder-trial", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ training thread

    def _emit(self, event: Event) -> None:
        if event["type"] != "epoch":
            return
        epoch = event["epoch"]
        if self.cut.is_set() and epoch < self.epochs and self.cut_at is None:
            model = _training_model()
            if model is not None:  # ends fit after this epoch, as EarlyStopping does
                model.stop_training = True
                self.cut_at = epoch
        logs = {
            k: float(v)
            for k, v in event["logs"].items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        }
        if self.metric not in logs:
            return  # a NaN epoch: the trial fails when training returns
        value = logs[self.metric]
        if self.best is None or self.sign * value < self.sign * self.best:
            self.best = value
        self.results.put({**logs, BEST_KEY: self.best, "epoch": epoch, "run": str(self.folder)})

    def _train(self) -> None:
        from builder.training import worker

        summary = {"state": "failed", "message": "the trial ended unexpectedly."}
        try:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            if "tensorflow" in sys.modules:  # a reused worker: drop the last trial's graphs
                import keras

                keras.backend.clear_session()
            _limit_threads(int(self.context["threads"]))
            summary = worker.train(
                self.project,
                self.folder,
                self._emit,
                self.stop_file.exists,
                device=self.context["device"],
            )
        except BaseException as err:
            summary = {"state": "failed", "message": f"{type(err).__name__}: {err}"}
        finally:
            self.summary = summary
            self.results.put(None)

    # ------------------------------------------------------------ Tune's side

    def next_result(self) -> dict:
        """The next epoch's result (``done`` on the last one, given once the run folder is
        complete); raises TrialFailed when training failed or ended before an epoch."""
        item = self.results.get()
        if item is not None and item["epoch"] < self.epochs:
            self.last = item
            return item
        if item is not None:  # the last epoch: report it once the folder is complete
            self.last = item
            self.thread.join()
            self.results.get()  # the end marker
        if self.summary["state"] == "failed":
            raise TrialFailed(self.summary.get("message") or "training failed")
        if self.last is None:
            # Stopped before its first epoch: Tune needs a metric from every trial that
            # ends normally, so this one ends as an error; its run folder says "stopped".
            raise TrialFailed(self.summary.get("message") or "stopped before the first epoch")
        return {**self.last, "done": True, ENDED_KEY: self.summary["state"]}

    def finish(self) -> None:
        """Cut the trial (Tune ended it): it stops after its current epoch; wait until its
        run folder holds the model, then mark the folder stopped."""
        from builder.training import runs

        self.cut.set()
        self.thread.join()
        if self.cut_at is None or self.summary["state"] == "failed":
            return
        try:
            runs.update_run_info(
                self.folder,
                state="stopped",
                cut_by=CUT_BY,
                message=f"stopped early by the experiment after {self.cut_at} epoch(s); "
                "the model as at that epoch is kept.",
            )
        except (OSError, ValueError):
            pass


def trainable():
    """The Tune trainable class (defined here so that importing this module needs no Ray)."""
    from ray import tune

    class Trial(tune.Trainable):
        """Setup starts a trial's training; each step hands Tune one finished epoch."""

        def setup(self, config, context=None):
            from builder.training import devices

            self._context = context
            if "tensorflow" not in sys.modules:
                devices.apply_choice_env(context["device"])
            self._run = TrialRun(config, context, self.trial_id)

        def step(self):
            return self._run.next_result()

        def reset_config(self, new_config):
            # A reused worker: end the last trial properly, then start the next one.
            self._run.finish()
            self._run = TrialRun(new_config, self._context, self.trial_id)
            return True

        def cleanup(self):
            run = getattr(self, "_run", None)
            if run is not None:
                run.finish()

    return Trial
