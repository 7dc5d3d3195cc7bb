"""The training itself: runs in the spawned worker process (or in-process for the CLI).

``train(project, folder, emit, should_stop)`` prepares the data, builds the model, fits it
with the project's Keras callbacks plus a progress callback, evaluates on the untouched test
split, and writes the run folder (see ``runs``). It never raises: whatever happens ends as
a summary event whose ``state`` is ``finished``, ``stopped`` or ``failed`` with a message
in plain words (see ``faults``), and run.json says the same.

Every completed epoch of a single (non-K-fold) run leaves a checkpoint in the run folder
(``checkpoint``: Keras' whole ``.keras`` file at the first, then the weights and optimizer
variables over it, each written to a temporary name and moved into place, then
``checkpoint.json`` pointing at them; the older one is deleted).
``train(..., resume=True)`` continues such a run from it: the checkpoint's own model (not a
rebuild of the project), its history, the callbacks' state, ``initial_epoch`` = completed
epochs, the same data split (checked against the digest the first segment recorded).

``process_main`` is the spawned process's entry point: it pins the device through
environment variables *before* TensorFlow is imported, then calls ``train`` with a queue
and a stop Event. Options and events are typed in ``events`` (examples in ``engine``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from builder import doctor

from . import checkpoint as checkpoints
from . import devices, faults, feed, kfold, lifecycle, probe, runs
from .checkpoint import (
    _checkpoint_callback,
    _data_digest,
    _load_checkpoint,
    _Refused,
    _restore_seed_states,
)
from .events import Emit, SummaryEvent, WorkerOptions

BATCH_EVENT_INTERVAL_S = 0.2  # at most ~5 progress events a second
QUEUE_FLUSH_TIMEOUT_S = 60.0  # how long a finished worker waits for the app to read events
_PATH_CALLBACKS = {"TensorBoard": "log_dir", "BackupAndRestore": "backup_dir"}


# --------------------------------------------------------------------------- callbacks


def _progress_callback(
    emit: Emit,
    should_stop,
    *,
    epochs: int,
    fold: int | None,
    folds: int | None,
    on_epoch,
    copies: list | None = None,
):
    """A Keras callback: throttled batch events, epoch events, Stop, NaN location.

    ``on_epoch(fold_index_or_None, logs, seconds)`` receives every finished epoch (once per
    fold for a parallel K-fold wrapper, whose logs are split with ``kfold.split_logs``;
    ``copies`` are then the wrapper's fold models).
    """
    split_k = len(copies) if copies else None
    import keras

    class Progress(keras.callbacks.Callback):
        # Keras may run batch-end callbacks in a helper thread while the next batch
        # starts ("async dispatch"); a callback without this flag forces every batch to
        # wait for its logs, which cost ~30 % on small models. Everything below is safe
        # there: an Event read, a float check, a queue put, one attribute set.
        async_safe = True

        def __init__(self) -> None:
            super().__init__()
            self.user_stopped = False
            self.partial = False  # Stop came in the middle of an epoch
            self.nan_at: tuple[int, int] | None = None  # (epoch, batch), 1-based
            self._epoch = 0
            self._epoch_start = time.perf_counter()
            self._last_emit = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if should_stop() and not self.user_stopped:
                self.user_stopped = True
                self.model.stop_training = True
                steps = self.params.get("steps")
                # Stopped before the epoch's last batch: Keras still ends the epoch (with
                # the logs of the batches so far); that partial epoch is not recorded.
                self.partial = steps is None or batch + 1 < steps
            loss = (logs or {}).get("loss")
            if split_k:  # a pack logs each member's loss: their mean stands for them
                parts = [float(v) for key, v in (logs or {}).items() if key.endswith("_loss")]
                loss = sum(parts) / len(parts) if parts else None
            if loss is not None and not math.isfinite(loss) and self.nan_at is None:
                self.nan_at = (self._epoch + 1, batch + 1)
            now = time.perf_counter()
            if now - self._last_emit >= BATCH_EVENT_INTERVAL_S:
                self._last_emit = now
                shown = {"loss": float(loss)} if loss is not None else {}
                emit(
                    {
                        "type": "batch",
                        "fold": fold,
                        "folds": folds,
                        "epoch": self._epoch + 1,
                        "epochs": epochs,
                        # With several batches per call, Keras names a short last
                        # call's end past the epoch's end: never more than the epoch has.
                        "batch": min(batch + 1, self.params.get("steps") or batch + 1),
                        "batches": self.params.get("steps"),
                        "logs": shown,
                        "time": time.time(),
                    }
                )

        def on_epoch_end(self, epoch, logs=None):
            if self.partial:
                return
            seconds = time.perf_counter() - self._epoch_start
            logs = {k: float(v) for k, v in (logs or {}).items()}
            lr = _learning_rate(self.model)
            if split_k:
                for index, fold_logs in enumerate(kfold.split_logs(logs, split_k), start=1):
                    if lr is not None:
                        fold_logs.setdefault("learning_rate", lr)
                    on_epoch(index, epoch + 1, fold_logs, seconds)
            else:
                if lr is not None:
                    logs.setdefault("learning_rate", lr)
                on_epoch(fold, epoch + 1, logs, seconds)

    return Progress()


def _learning_rate(model):
    try:
        return float(np.asarray(model.optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _keras_callbacks(project: dict, folder: Path, fold: int | None, emit: Emit) -> list:
    """The project's Keras callbacks, fresh instances, paths inside the run folder.

    TerminateOnNaN is always added, marked safe for Keras' async batch-end dispatch so the
    check does not make every batch wait for its loss. TensorBoard needs the
    ``tensorboard`` package, which TensorFlow does not install: without it the callback is
    skipped with a status note instead of failing the run at its first batch.
    """
    import keras

    made = []
    for spec in project["fit"]["callbacks"]:
        name = spec["class_name"]
        config = dict(spec["config"])
        if name == "TensorBoard" and importlib.util.find_spec("tensorboard") is None:
            emit(
                {
                    "type": "status",
                    "state": "running",
                    "time": time.time(),
                    "message": "TensorBoard logs are skipped: the 'tensorboard' package is not "
                    "installed (pip install tensorboard).",
                }
            )
            continue
        if name in _PATH_CALLBACKS:
            sub = {"TensorBoard": "tensorboard", "BackupAndRestore": "backup"}[name]
            path = folder / sub / (f"fold-{fold}" if fold else "")
            config[_PATH_CALLBACKS[name]] = str(path)
        made.append(getattr(keras.callbacks, name)(**config))
    if not any(isinstance(cb, keras.callbacks.TerminateOnNaN) for cb in made):
        made.append(keras.callbacks.TerminateOnNaN())
    for cb in made:
        if isinstance(cb, keras.callbacks.TerminateOnNaN):
            cb.async_safe = True  # it only reads the loss and sets stop_training
    return made


# --------------------------------------------------------------------------- the run


class _Recorder:
    """Keeps the per-epoch history (per fold for K-fold) and mirrors it to disk and events."""

    WRITE_INTERVAL_S = 1.0  # history files on disk lag the events by at most ~1 s

    def __init__(self, folder: Path, emit: Emit, epochs: int, folds: int | None):
        self.folder, self.emit, self.epochs, self.folds = folder, emit, epochs, folds
        self._written = 0.0
        self.histories: dict[int | None, dict[str, list[float]]] = {}
        self.seconds: dict[int | None, list[float]] = {}

    def epoch(self, fold, epoch, logs, seconds):
        history = self.histories.setdefault(fold, {})
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        self.seconds.setdefault(fold, []).append(seconds)
        self.emit(
            {
                "type": "epoch",
                "fold": fold,
                "folds": self.folds,
                "epoch": epoch,
                "epochs": self.epochs,
                "logs": dict(logs),
                "seconds": seconds,
                "time": time.time(),
            }
        )
        if time.monotonic() - self._written >= self.WRITE_INTERVAL_S:
            self.write()

    @property
    def history(self) -> dict[str, list[float]]:
        if self.folds is None:
            return self.histories.get(None, {})
        return kfold.mean_history([self.histories[f] for f in self._folds(self.histories)])

    @staticmethod
    def _folds(table: dict[int | None, Any]) -> list[int]:
        """The fold numbers of a K-fold run's table, in order (its keys are all folds)."""
        return sorted(f for f in table if f is not None)

    @property
    def epochs_done(self) -> int:
        return max((len(s) for s in self.seconds.values()), default=0)

    def write(self):
        self._written = time.monotonic()
        if self.folds is None:
            text = runs.history_to_csv(self.history, self.seconds.get(None, []))
            runs.write_text_atomic(self.folder / "history.csv", text)
            return
        mean_seconds = kfold.mean_history(
            [{"s": self.seconds[f]} for f in self._folds(self.seconds)]
        ).get("s", [])
        runs.write_text_atomic(
            self.folder / "history.csv", runs.history_to_csv(self.history, mean_seconds)
        )
        names: list[str] = []
        merged: dict[str, list] = {}
        fold_column: list[int] = []
        seconds: list[float] = []
        for f in self._folds(self.histories):
            names += [n for n in self.histories[f] if n not in names]
        for f in self._folds(self.histories):
            rows = len(self.seconds[f])
            for n in names:
                values = self.histories[f].get(n, [])
                merged.setdefault(n, []).extend(values + [None] * (rows - len(values)))
            fold_column += [f] * rows
            seconds += self.seconds[f]
        runs.write_text_atomic(
            self.folder / "history_folds.csv",
            runs.history_to_csv(merged, seconds, folds=fold_column),
        )


def _versions() -> dict:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _prepare(project: dict, emit: Emit, allow_download: bool):
    from builder.data.loader import prepare

    def progress(fraction, message):
        emit(
            {
                "type": "status",
                "state": "running",
                "message": message,
                "fraction": fraction,
                "time": time.time(),
            }
        )

    return prepare(project, progress=progress, allow_download=allow_download)


def _build(project: dict, data=None):
    """The compiled model; with ``data`` (a Prepared) whose target is standardised, the
    model ends in the step back to the label's units (``build.with_label_units``)."""
    from builder import build

    return build.build(project, label_scale=getattr(data, "label_scale", None))


def _build_fold(project: dict, fold: int, data=None):
    """Fold ``fold``'s model, seeded with seed + fold: each fold starts from the same weights
    whether the folds train one after the other or side by side."""
    import keras

    keras.utils.set_random_seed(project["fit"]["seed"] + fold)
    return _build(project, data)


def _adapt(model, x, folder: Path, fold: int | None = None) -> None:
    """Preprocessing layers given no state learn it from the training data ``x`` (the
    training split without its hold-out): vocabularies, means and variances, bins. What
    they learnt is saved with the model and written to the run folder's adapted.json
    (``adapted-fold-<k>.json`` for a fold)."""
    from builder.adapt import adapted_state
    from builder.build import adapt

    names = adapt(model, x)
    if names:
        name = "adapted.json" if fold is None else f"adapted-fold-{fold}.json"
        (folder / name).write_text(json.dumps(adapted_state(model, names)), encoding="utf-8")


def _holdout(project: dict, x, y):
    """(x_train, y_train, x_val, y_val): the first samples are held out, as the book does."""
    from builder.data.splits import holdout

    spec = project["fit"]["validation"]
    (x_fit, y_fit), (x_val, y_val) = holdout(
        x, y, count=spec.get("count"), fraction=spec.get("fraction")
    )
    return x_fit, y_fit, x_val, y_val


def _evaluate(model, x, y, batch_size) -> dict:
    from builder.data.splits import num_samples

    if x is None or y is None or num_samples(x) == 0:
        return {}
    scores = feed.evaluate(model, x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {k: float(v) for k, v in scores.items()}


def train(
    project: dict,
    folder: str | Path,
    emit: Emit | None = None,
    should_stop=None,
    *,
    prepared=None,
    device: str = "auto",
    mixed_precision: bool = False,
    parallel_folds: bool = True,
    allow_download: bool = False,
    resume: bool = False,
) -> SummaryEvent:
    """Train ``project`` into the existing run ``folder``; return the summary event.

    ``resume`` continues the run in ``folder`` from its checkpoint (see the module
    docstring) up to ``project["fit"]["epochs"]``; the caller has checked that it can
    (``runs.resume_plan``) and recorded the new segment (``runs.begin_segment``).

    ``prepared`` (an object with x_train, y_train, x_test, y_test) skips
    ``builder.data.prepare``, which may download a missing Keras dataset only if
    ``allow_download``. ``emit(event)`` receives every event; ``should_stop()`` is polled
    after each batch. Never raises for training problems: see the module docstring.
    """
    folder = Path(folder)
    emit = emit or (lambda event: None)
    should_stop = should_stop or (lambda: False)
    fit = project["fit"]
    method = fit["validation"]["method"]
    k = fit["validation"]["k"] if method == "kfold" else None
    recorder = _Recorder(folder, emit, fit["epochs"], k)
    checkpoint = runs.read_checkpoint(folder) if resume else None
    if checkpoint is not None:  # the history up to the checkpoint, whatever history.csv says
        recorder.histories[None] = {n: list(v) for n, v in checkpoint["history"].items()}
        recorder.seconds[None] = list(checkpoint.get("seconds") or [])
    outcome: dict[str, Any] = {
        "state": "failed",
        "message": "",
        "test": {},
        "kfold": None,
        "device": None,
        "parallel": False,
    }

    def status(message):
        emit({"type": "status", "state": "running", "message": message, "time": time.time()})

    try:
        status("loading TensorFlow")
        import keras

        setup = devices.training_setup(device, mixed_precision)
        outcome["device"] = setup["label"]
        runs.update_run_info(
            folder,
            state="running",
            device=setup["label"],
            mixed_precision=setup["mixed_precision"],
            versions=_versions(),
            seed=fit["seed"],
            pid=os.getpid(),
        )
        if setup["note"]:
            status(setup["note"])
        from builder.build import check_memory

        # Before any data or weights are allocated; parallel K-fold holds k models at once.
        check_memory(project, "train", copies=k if k and parallel_folds else 1)
        # After the check, which builds layers (drawing random numbers) only when it has
        # not seen the project yet: a seeded run then repeats in a fresh process and in one
        # that trained before (the CLI, experiments, tests).
        keras.utils.set_random_seed(fit["seed"])
        status("preparing data")
        data = prepared if prepared is not None else _prepare(project, emit, allow_download)
        if resume and (checkpoint is None or k):
            raise _Refused(
                runs.KFOLD_RESUME_REASON if k else "could not resume: the run has no checkpoint."
            )
        if should_stop():
            outcome.update(state="stopped", message="stopped before training started.")
        elif k:
            _train_kfold(
                project,
                folder,
                data,
                recorder,
                emit,
                should_stop,
                setup,
                k,
                parallel_folds,
                outcome,
            )
        else:
            _train_single(
                project,
                folder,
                data,
                recorder,
                emit,
                should_stop,
                setup,
                method,
                outcome,
                checkpoint,
            )
    except _Refused as exc:
        outcome.update(state="failed", message=str(exc))
    except Exception as exc:  # every failure becomes a plain message, never a traceback
        outcome.update(state="failed", message=faults.explain_error(exc, project))
    return _finish(project, folder, recorder, outcome, emit)


def _scope(setup):
    return setup["strategy"].scope() if setup["strategy"] else contextlib.nullcontext()


def _fit_kwargs(fit: dict) -> dict:
    return {
        "epochs": fit["epochs"],
        "batch_size": fit["batch_size"],
        "shuffle": fit["shuffle"],
        "seed": fit["seed"],
        "verbose": 0,
    }


def _fit(model, x, y, fit: dict, callbacks: list, initial_epoch: int = 0, **validation):
    """``model.fit`` through ``feed`` (multi-hot text is encoded one batch at a time)."""
    return feed.fit(
        model,
        x,
        y,
        callbacks=callbacks,
        initial_epoch=initial_epoch,
        **_fit_kwargs(fit),
        **validation,
    )


def _train_single(
    project, folder, data, recorder, emit, should_stop, setup, method, outcome, checkpoint=None
):
    """One model, fit once; ``checkpoint`` (a checkpoint record) resumes the run from it."""
    fit = project["fit"]
    x, y = data.x_train, data.y_train
    extra = {}
    if method == "holdout":
        x, y, x_val, y_val = _holdout(project, x, y)
        extra["validation_data"] = (x_val, y_val)
        digest = _data_digest(x, y, x_val, y_val)
    elif method == "split":
        extra["validation_split"] = fit["validation"]["fraction"]
        digest = _data_digest(x, y, np.asarray(fit["validation"]["fraction"]))
    else:
        digest = _data_digest(x, y)
    done = checkpoint["epoch"] if checkpoint else 0
    if checkpoint and checkpoint.get("data_digest") not in (None, digest):
        raise _Refused(
            "could not resume: the training or validation data is not what this run "
            f"trained on for its first {done} epoch(s) (was the data file changed or "
            "replaced?). Put the data back as it was, or start a new run."
        )
    with _scope(setup):
        if checkpoint:
            emit(
                {
                    "type": "status",
                    "state": "running",
                    "message": f"loading the checkpoint of epoch {done}",
                    "time": time.time(),
                }
            )
            model = _load_checkpoint(folder, checkpoint)
            _restore_seed_states(model, checkpoint.get("seed_states"))
        else:
            model = _build(project, data)
            from builder.adapt import training_part

            # holdout: x is already the part trained on; split: Keras' last share is not
            _adapt(model, training_part(project, data.x_train, data.y_train), folder)
    if checkpoint:
        # Keras' BackupAndRestore would put back its own (older or newer) copy: the run's
        # checkpoint is the one training continues from.
        import shutil

        shutil.rmtree(folder / "backup", ignore_errors=True)
    callbacks = _keras_callbacks(project, folder, None, emit)
    progress = _progress_callback(
        emit, should_stop, epochs=fit["epochs"], fold=None, folds=None, on_epoch=recorder.epoch
    )
    saver = _checkpoint_callback(
        folder,
        recorder,
        progress,
        callbacks,
        {"data_digest": digest, "epochs": fit["epochs"]},
        checkpoint,
    )
    emit(
        {
            "type": "status",
            "state": "running",
            "message": f"training from epoch {done + 1}" if done else "training",
            "time": time.time(),
        }
    )
    _fit(model, x, y, fit, [progress] + callbacks + [saver], initial_epoch=done, **extra)
    _conclude(project, progress, callbacks, recorder, outcome)
    if outcome["state"] in ("finished", "stopped"):
        if progress.partial and saver.saved:
            # Stop came mid-epoch: the model goes back to the end of the last complete
            # epoch, so the saved model and its test scores are the epochs recorded.
            saver.rewind(model)
        emit({"type": "status", "state": "running", "message": "testing", "time": time.time()})
        outcome["test"] = _evaluate(model, data.x_test, data.y_test, fit["batch_size"])
        checkpoints.save_model(model, folder / "model.keras")
        outcome["predictions"] = probe.summary(model, data, *_probe_split(x, y, extra))


def _probe_split(x, y, extra: dict) -> tuple:
    """(x, y, split name) the doctor reads predictions on: the validation samples, else
    the training ones."""
    from builder.data.splits import num_samples, split_point, subset

    if "validation_data" in extra:
        return (*extra["validation_data"], "validation")
    if "validation_split" in extra:
        rest = slice(split_point(num_samples(x, y), extra["validation_split"]), None)
        return subset(x, rest), subset(y, rest), "validation"
    return x, y, "training"


def _conclude(project, progress, callbacks, recorder, outcome) -> None:
    """Set state and message from how fit ended (NaN, Stop, EarlyStopping, all epochs)."""
    import keras

    if progress.nan_at:
        epoch, batch = progress.nan_at
        outcome.update(state="failed", message=faults.nan_message(epoch, batch, project), nan=True)
    elif progress.user_stopped:
        outcome.update(
            state="stopped",
            message=f"stopped by request after {recorder.epochs_done} epoch(s); "
            "the model and history so far are kept.",
        )
    else:
        early = [
            cb
            for cb in callbacks
            if isinstance(cb, keras.callbacks.EarlyStopping) and cb.stopped_epoch > 0
        ]
        message = (
            f"EarlyStopping ended training at epoch {early[0].stopped_epoch + 1}." if early else ""
        )
        if outcome["state"] != "stopped":
            outcome.update(state="finished", message=message)


def _train_kfold(project, folder, data, recorder, emit, should_stop, setup, k, parallel, outcome):
    from builder.data.splits import kfold_splits, num_samples, subset

    fit = project["fit"]
    x, y, x_test = data.x_train, data.y_train, data.x_test
    splits = list(kfold_splits(num_samples(x, y), k))
    reason = None if parallel else "parallel folds were turned off"
    reason = reason or kfold.parallel_reason(project)
    if setup["strategy"] is not None:
        reason = reason or "several GPUs train the folds one after the other"
    outcome["parallel"] = reason is None
    if reason is None:
        # The folds' copies take whole arrays: multi-hot text is encoded once here (one
        # after the other, each fold is fed batch by batch like any run).
        x, x_test = feed.materialise(x), feed.materialise(x_test)
    train_size = len(splits[0][0])
    chunk = kfold.steps_per_execution(fit["batch_size"], -(-train_size // fit["batch_size"]))
    emit(
        {
            "type": "status",
            "state": "running",
            "time": time.time(),
            "message": f"training {k} folds side by side"
            + (f" ({chunk} batches per TensorFlow call)" if chunk > 1 else "")
            if reason is None
            else f"training {k} folds one after the other ({reason})",
        }
    )
    scores, tests = [], []
    if reason is None:
        with _scope(setup):
            first = splits[0][0][:2]
            wrapper, copies = kfold.build_parallel(
                lambda fold: _build_fold(project, fold, data),
                k,
                (subset(x, first), subset(y, first)),
                chunk,
            )
        callbacks = _keras_callbacks(project, folder, None, emit)
        progress = _progress_callback(
            emit,
            should_stop,
            epochs=fit["epochs"],
            fold=None,
            folds=k,
            on_epoch=recorder.epoch,
            copies=copies,
        )
        xs = [subset(x, tr) for tr, _ in splits]
        ys = [subset(y, tr) for tr, _ in splits]
        val = ([subset(x, va) for _, va in splits], [subset(y, va) for _, va in splits])
        _fit(wrapper, xs, ys, fit, [progress] + callbacks, validation_data=val)
        _conclude(project, progress, callbacks, recorder, outcome)
        trained = copies
    else:
        trained = []
        for index, (tr, va) in enumerate(splits, start=1):
            with _scope(setup):
                model = _build_fold(project, index, data)
                _adapt(model, subset(x, tr), folder, index)
            callbacks = _keras_callbacks(project, folder, index, emit)
            progress = _progress_callback(
                emit,
                should_stop,
                epochs=fit["epochs"],
                fold=index,
                folds=k,
                on_epoch=recorder.epoch,
            )
            _fit(
                model,
                subset(x, tr),
                subset(y, tr),
                fit,
                [progress] + callbacks,
                validation_data=(subset(x, va), subset(y, va)),
            )
            _conclude(project, progress, callbacks, recorder, outcome)
            trained.append(model)
            if outcome["state"] != "finished":
                break
    if outcome["state"] not in ("finished", "stopped"):
        return
    emit({"type": "status", "state": "running", "message": "testing", "time": time.time()})
    batch_size = fit["batch_size"]
    if reason is None:
        # One evaluation of the wrapper scores every fold at once (k models, one graph).
        scores = _evaluate_folds(wrapper, copies, val[0], val[1], batch_size)
        if x_test is not None and num_samples(x_test):
            tests = _evaluate_folds(wrapper, copies, [x_test] * k, [data.y_test] * k, batch_size)
        scores = [{f"val_{name}": value for name, value in s.items()} for s in scores]
    else:
        for model, (_, va) in zip(trained, splits):
            scores.append(
                {
                    f"val_{name}": value
                    for name, value in _evaluate(
                        model, subset(x, va), subset(y, va), batch_size
                    ).items()
                }
            )
            tests.append(_evaluate(model, x_test, data.y_test, batch_size))
    (folder / "folds").mkdir(exist_ok=True)
    for index, model in enumerate(trained, start=1):
        checkpoints.save_model(model, folder / "folds" / f"fold-{index}.keras")
    outcome["kfold"] = kfold.mean_scores(scores)
    outcome["kfold_folds"] = scores
    outcome["test"] = kfold.mean_scores(tests) if tests and tests[0] else {}


def _evaluate_folds(wrapper, copies, xs, ys, batch_size) -> list[dict]:
    """Per-fold scores of a parallel-folds wrapper on per-fold data (lists of k arrays)."""
    logs = wrapper.evaluate(xs, ys, batch_size=batch_size, verbose=0, return_dict=True)
    return kfold.split_logs({k: float(v) for k, v in logs.items()}, len(copies))


def _improving(project, recorder) -> bool:
    """Whether a finished run did all its epochs and was still improving at the last (the
    doctor then offers Resume; a run EarlyStopping ended is done)."""
    done_all = recorder.epochs_done >= project["fit"]["epochs"]
    return done_all and doctor.still_improving(recorder.history)


def _finish(project, folder, recorder, outcome, emit: Emit) -> SummaryEvent:
    """Write history, metrics and run.json; emit and return the summary event."""
    history = recorder.history
    last = {name: values[-1] for name, values in history.items() if values}
    metrics = {
        "train": {n: v for n, v in last.items() if not n.startswith("val_")},
        "val": {n: v for n, v in last.items() if n.startswith("val_")},
        "test": outcome["test"],
    }
    if outcome["kfold"] is not None:
        metrics["kfold"] = outcome["kfold"]
        metrics["kfold_folds"] = outcome.get("kfold_folds", [])
    ended = outcome["state"] == "finished" or outcome.get("nan")
    try:
        if recorder.histories:
            recorder.write()
        if ended and (outcome.get("nan") or not _improving(project, recorder)):
            # Nothing to resume: model.keras holds the result (a NaN would come back). A
            # run still improving keeps its last checkpoint for the doctor's Resume.
            runs.drop_checkpoint(folder)
        if outcome.get("predictions"):
            runs.write_json_atomic(folder / runs.PREDICTIONS, outcome["predictions"])
        runs.write_json_atomic(folder / "metrics.json", metrics)
    except OSError as err:
        # A full disk: the record must still say how the run ended (below); the history
        # and metrics up to the last complete checkpoint are in checkpoint.json.
        if outcome["state"] == "finished":
            outcome.update(state="failed", message=faults.explain_error(err, project))
        ended = False
    if not ended:
        runs.discard_partial(folder)  # half-written files: the space the record needs
        outcome["message"] = (outcome["message"] or "").rstrip() + runs.resume_note(folder)
    try:
        runs.update_run_info(
            folder,
            state=outcome["state"],
            message=outcome["message"],
            ended=runs.now_iso(),
            epochs_done=recorder.epochs_done,
            parallel_folds=outcome["parallel"],
        )
    except OSError as err:
        outcome.update(state="failed", message=f"could not write the run folder: {err}")
    summary: SummaryEvent = {
        "type": "summary",
        "state": outcome["state"],
        "message": outcome["message"],
        "run_id": folder.name,
        "path": str(folder),
        "epochs": recorder.epochs_done,
        "history": history,
        "test": outcome["test"],
        "kfold": outcome["kfold"],
        "device": outcome["device"],
        "time": time.time(),
    }
    emit(summary)
    return summary


def process_main(
    project: dict, folder: str, queue, stop_event, options: WorkerOptions, prepared=None
) -> None:
    """Entry point of the spawned training process (see ``engine.start_run``).

    First ties this process to the app (``lifecycle.guard``: it ends within a second of the
    app's death, writing ``interrupted`` to run.json) and records pid and start token.
    """
    folder_path = Path(folder)

    def orphaned():
        runs.update_run_info(
            folder_path, state="interrupted", message=runs.INTERRUPTED_MESSAGE, ended=runs.now_iso()
        )

    server_pid = options.get("server_pid")
    if server_pid is not None and not options.get("guarded"):
        lifecycle.guard(server_pid, options.get("server_token"), on_orphan=orphaned)
    runs.update_run_info(
        folder_path,
        pid=os.getpid(),
        pid_token=lifecycle.start_token(os.getpid()),
        server_pid=server_pid,
        server_token=options.get("server_token"),
    )
    devices.apply_choice_env(options.get("device", "auto"))
    train(
        project,
        folder,
        queue.put,
        stop_event.is_set,
        prepared=prepared,
        device=options.get("device", "auto"),
        mixed_precision=options.get("mixed_precision", False),
        parallel_folds=options.get("parallel_folds", True),
        allow_download=options.get("allow_download", False),
        resume=options.get("resume", False),
    )
    _flush(queue)


def _flush(queue, timeout: float = QUEUE_FLUSH_TIMEOUT_S) -> None:
    """Let the queue's feeder thread hand the last events to the pipe, but do not wait
    forever: if nobody reads (the browser tab was closed), the process must still exit.
    run.json already holds the outcome, and ``RunHandle`` falls back to it."""
    queue.close()
    flusher = threading.Thread(target=queue.join_thread, daemon=True)
    flusher.start()
    flusher.join(timeout)
    if flusher.is_alive():
        queue.cancel_join_thread()


# --------------------------------------------------------------------------- warm worker


def data_key(project: dict) -> str | None:
    """What ``prepare`` reads of ``project`` (data, loss, outputs) as one string; None for
    data that may change on disk under the same settings (an uploaded CSV)."""
    import json

    data = project.get("data") or {}
    if not data.get("dataset") or data.get("dataset") == "csv":
        return None
    loss = (project.get("compile") or {}).get("loss")
    outputs = (project.get("model") or {}).get("outputs")
    return json.dumps([data, loss, outputs], sort_keys=True, default=str)


def _warm_up() -> None:
    """Import TensorFlow and run Keras' fit machinery once on a tiny model, so the first
    real ``fit`` finds every module loaded (the model's own step is traced then)."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    zeros = np.zeros((4, 2), dtype="float32")
    model.fit(zeros, zeros[:, :1], batch_size=4, epochs=1, verbose=0)
    model.evaluate(zeros, zeros[:, :1], verbose=0)
    keras.backend.clear_session()


def warm_main(jobs, queue, stop_event, events, options: WorkerOptions) -> None:
    """Entry point of a warm worker (``engine.WarmWorker``): tied to the app like any
    worker, it imports TensorFlow, warms Keras up, sets ``ready`` (``events`` are the
    ready and data-prepared Events) and waits for messages
    on ``jobs``: ``("data", project)`` prepares that project's dataset ahead (kept for a
    job with the same ``data_key``), ``("train", project, folder, options)`` runs the job
    exactly as ``process_main`` would, then the process ends (one job per process)."""
    current: dict = {}

    def orphaned():
        if "folder" in current:
            runs.update_run_info(
                current["folder"],
                state="interrupted",
                message=runs.INTERRUPTED_MESSAGE,
                ended=runs.now_iso(),
            )

    server_pid = options.get("server_pid")
    if server_pid is not None:
        lifecycle.guard(server_pid, options.get("server_token"), on_orphan=orphaned)
    devices.apply_choice_env(options.get("device", "auto"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    ready, prepared = events
    _warm_up()
    ready.set()
    cached: dict[str, object] = {}
    while True:
        message = jobs.get()
        if message is None:
            return
        if message[0] == "data":
            key = data_key(message[1])
            if key is not None and key not in cached:
                cached.clear()  # one dataset at a time
                try:
                    cached[key] = _prepare(message[1], lambda event: None, False)
                except Exception:
                    pass
            prepared.set()
            continue
        _, project, folder, job = message
        current["folder"] = Path(folder)
        key = data_key(project)
        process_main(
            project,
            folder,
            queue,
            stop_event,
            {**options, **job, "guarded": True},
            prepared=cached.get(key) if key is not None else None,
        )
        return
