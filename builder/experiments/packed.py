"""Packed trials: an experiment's trials trained side by side in one model, without Ray.

Trials that share their data, batch size, epochs, validation and shuffle seed (everything
in ``data`` and ``fit``) form a group; a group is cut into packs, and each pack trains as
one ``builder.training.pack`` model: every trial is its own compiled model with its own
optimizer, so structure (depth, units, activation, dropout) and compile settings
(optimizer, learning rate, loss) may differ inside a pack, and each trial's weights,
history and scores are exactly those of its own ``fit``. Every trial still leaves an
ordinary run folder (project.json, run.json with ``experiment``/``trial``/``params``,
history.csv, metrics.json, model.keras, a checkpoint per epoch while it runs), written by
the single-run code of ``builder.training.worker``.

Pack size is measured, not guessed (``measure``): a step of a pack of up to four throwaway
copies of the group's biggest model is timed against a step of one. Where the pack costs
nearly what its separate steps cost (a big convnet keeps the cores busy on its own),
packing cannot pay and
every pack holds one trial; otherwise a pack holds as many trials as memory allows (at most
``MAX_PACK``).

ASHA on packs: at each rung (grace period x reduction factor^k epochs) every trial of the
pack records its best value of the metric so far, and a trial continues only if it is in
the better 1/reduction-factor of all values recorded at that rung (this pack's and earlier
packs'), as Tune's ASHA decides. The pack is then rebuilt from its survivors between two
epochs of the same ``fit`` (``pack.keep``): they continue with their weights, optimizer
state and data order exactly as their own runs would; a cut trial is tested and saved as
at that epoch (run.json ``stopped``, ``cut_by: "experiment"``), as a trial cut by Tune.

Used by ``runner.run`` for a local experiment (no Ray address) with a grid or random
search whose trials can be packed (``reason``); set ``NETBUILDER_PACKED=0`` to send every
experiment to Ray Tune instead.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from builder.experiments import spec
from builder.training import lifecycle, runs
from builder.training.events import Event

MAX_PACK = 16
PAYS_BELOW = 0.85  # a measured pack's step must cost under this share of its single steps
CUT_BY = "experiment"
# Callbacks that only look at one batch's loss: the same in a pack as alone.
_PACKABLE_CALLBACKS = {"TerminateOnNaN"}


def enabled() -> bool:
    return os.environ.get("NETBUILDER_PACKED", "1").strip() not in ("0", "false", "no")


def reason(project: dict, section: dict) -> str | None:
    """Why this experiment's trials cannot train packed (then Ray Tune runs them), or None."""
    if section["search"] not in ("grid", "random"):
        return "a TPE search picks each trial from the ones before"
    others = sorted({cb["class_name"] for cb in project["fit"]["callbacks"]} - _PACKABLE_CALLBACKS)
    if others:
        return f"{', '.join(others)} watches one model at a time"
    return None


def trial_params(section: dict, seed: int) -> list[dict]:
    """Every trial's values: the grid's combinations, or ``trials`` random draws."""
    if section["search"] == "grid":
        return spec.grid(section)
    rng = np.random.default_rng(seed)
    drawn = []
    for _ in range(section["trials"]):
        params = {}
        for p in section["parameters"]:
            if "values" in p:
                params[p["setting"]] = p["values"][int(rng.integers(len(p["values"])))]
                continue
            low, high, log = p["low"], p["high"], p.get("log", False)
            kind = p.get(
                "type", "int" if isinstance(low, int) and isinstance(high, int) else "float"
            )
            u = rng.random()
            value = (
                math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
                if log
                else (low + u * (high - low))
            )
            params[p["setting"]] = min(high, max(low, round(value))) if kind == "int" else value
        drawn.append(params)
    return drawn


def group_key(project: dict) -> str:
    """Trials with the same key can share a pack: same data, batches, epochs, seed."""
    return json.dumps({"data": project["data"], "fit": project["fit"]}, sort_keys=True)


MEASURED_PACK = 4  # trials in the pack that ``measure`` times against one


def measure(projects: list[dict], x, y, batch_size: int, repeats: int = 25) -> dict:
    """Seconds of one training step of one model and of a pack of ``size`` (throwaway
    copies of the biggest of ``projects``, ``size`` = up to ``MEASURED_PACK`` of them, on
    one batch of ``x``/``y``); ``share`` = pack / (size x one): near 1 means packing saves
    nothing.

    The two are timed in alternation, ``repeats`` steps each after three untimed ones, and
    each keeps its fastest step: a burst of load from another job slows a few steps of
    either, not the fastest of 25. (Timed one after the other, 5 steps each and a pack of
    two, the digits sweep once read a share of 1.05 where 0.6-0.8 is usual, and trained its
    12 trials one at a time. A pack of four reads about 0.5 there: far from the bar.)
    """
    import keras

    from builder import build
    from builder.data.splits import num_samples, subset
    from builder.training import feed, pack

    biggest = max(projects, key=lambda p: build.memory_needed(p, "train"))
    rows = np.arange(min(batch_size, num_samples(x, y)))
    xb, yb = feed.materialise(subset(x, rows)), subset(y, rows)
    size = max(2, min(MEASURED_PACK, len(projects)))
    wrappers = []
    for n in (1, size):
        models = [build.build(biggest) for _ in range(n)]
        wrapper = pack.build(models, (xb, yb), shared=True, prefix=pack.TRIAL_PREFIX)
        for _ in range(3):  # traces the step, then settles its first allocations
            wrapper.train_on_batch(xb, yb)
        wrappers.append(wrapper)
    seconds = [float("inf"), float("inf")]
    for _ in range(repeats):
        for n, wrapper in enumerate(wrappers):
            start = time.perf_counter()
            wrapper.train_on_batch(xb, yb)
            seconds[n] = min(seconds[n], time.perf_counter() - start)
    keras.backend.clear_session(free_memory=False)
    one, packed_s = seconds
    return {
        "one_s": round(one, 5),
        "pack_s": round(packed_s, 5),
        "size": size,
        "share": round(packed_s / (size * one), 3),
    }


def pack_size(projects: list[dict], measured: dict) -> int:
    """Trials per pack from the measurement and the memory the machine has free."""
    from builder import build, limits

    if len(projects) < 2 or measured["share"] >= PAYS_BELOW:
        return 1
    available = limits.available_memory()
    if available is None:
        return min(MAX_PACK, len(projects))
    each = max(build.memory_needed(p, "train") for p in projects)
    fits = int(available * limits.MEMORY_HEADROOM // max(each, 1))
    return max(1, min(MAX_PACK, len(projects), fits))


class Rungs:
    """ASHA's rungs over every trial of the experiment (all packs)."""

    def __init__(self, early_stopping: dict | None, epochs: int, mode: str):
        self.sign = 1.0 if mode == "max" else -1.0
        self.recorded: dict[int, list[float]] = {}
        self.at: list[int] = []
        if early_stopping:
            asha = spec.asha_settings(early_stopping, epochs)
            self.factor = asha["reduction_factor"]
            rung = asha["grace_period"]
            while rung < epochs:
                self.at.append(rung)
                rung *= self.factor

    def cut(self, epoch: int, values: dict[int, float | None]) -> set[int]:
        """The trials (keys of ``values``: best metric so far, None when unknown) that stop
        at ``epoch``: those below the top 1/factor of all values recorded at this rung."""
        if epoch not in self.at:
            return set()
        known = {n: v for n, v in values.items() if v is not None and math.isfinite(v)}
        recorded = self.recorded.setdefault(epoch, [])
        recorded += [self.sign * v for v in known.values()]
        if len(recorded) < 2:
            return set()
        cutoff = float(np.percentile(recorded, (1 - 1 / self.factor) * 100))
        return {n for n in values if n not in known or self.sign * known[n] < cutoff}


def run(
    *,
    record: dict,
    live,
    project: dict,
    section: dict,
    runs_root,
    stop_file: Path,
    device: str,
    log,
) -> None:
    """Train every trial of the experiment in packs; ``live`` keeps experiment.json."""
    import sys

    from builder.training import devices

    if "tensorflow" not in sys.modules:
        devices.apply_choice_env(device)
    epochs = project["fit"]["epochs"]
    trials = []
    for number, params in enumerate(trial_params(section, project["fit"].get("seed", 0)), 1):
        trial_id = f"trial_{number:05d}"
        entry = live.add(trial_id, params)
        trials.append(
            {
                "id": trial_id,
                "params": params,
                "entry": entry,
                "project": spec.apply(project, params),
            }
        )
    live.write(force=True)
    rungs = Rungs(section.get("early_stopping"), epochs, section["mode"])
    minutes = section.get("max_minutes")
    deadline = time.monotonic() + minutes * 60 if minutes else None
    groups: dict[str, list[dict]] = {}
    for trial in trials:
        groups.setdefault(group_key(trial["project"]), []).append(trial)
    record["packs"] = []
    for members in groups.values():
        if stop_file.exists():
            break
        _train_group(
            members, record, live, runs_root, stop_file, device, rungs, deadline, section, log
        )


def _train_group(
    members, record, live, runs_root, stop_file, device, rungs, deadline, section, log
) -> None:
    from builder.training import worker

    first = members[0]["project"]
    data = worker._prepare(first, lambda event: None, False)
    fit = first["fit"]
    measured = None
    size = 1
    if len(members) > 1:
        x, y = _fit_data(first, data)[:2]
        measured = measure([m["project"] for m in members], x, y, fit["batch_size"])
        size = pack_size([m["project"] for m in members], measured)
    log(
        f"{len(members)} trial(s) sharing data and fit settings: packs of {size}"
        + (
            f" (one step {measured['one_s'] * 1000:.1f} ms, {measured['size']} packed "
            f"{measured['pack_s'] * 1000:.1f} ms)"
            if measured
            else ""
        )
    )
    for start in range(0, len(members), size):
        if stop_file.exists():
            break
        chunk = members[start : start + size]
        record["packs"].append({"trials": [m["id"] for m in chunk], "measured": measured})
        _train_pack(
            chunk, data, record, live, runs_root, stop_file, device, rungs, deadline, section
        )


def _fit_data(project: dict, data):
    """(x, y, validation kwargs, digest) as a single run of ``project`` fits them."""
    from builder.training import feed, worker

    fit = project["fit"]
    method = fit["validation"]["method"]
    x, y = data.x_train, data.y_train
    if method == "holdout":
        x, y, x_val, y_val = worker._holdout(project, x, y)
        return x, y, {"validation_data": (x_val, y_val)}, worker._data_digest(x, y, x_val, y_val)
    if method == "split":
        fraction = fit["validation"]["fraction"]
        digest = worker._data_digest(x, y, np.asarray(fraction))
        (x, y), val = feed.split_last(x, y, fraction)
        return x, y, {"validation_data": val}, digest
    return x, y, {}, worker._data_digest(x, y)


class _Trial:
    """One trial of a pack: its model, run folder and the single-run callbacks."""

    def __init__(
        self, number, trial, record, live, runs_root, device, stop_file, digest, model, setup, size
    ):
        from builder.training import worker

        self.number, self.id, self.entry = number, trial["id"], trial["entry"]
        self.project = trial["project"]
        self.model = model
        fit = self.project["fit"]
        self.epochs = fit["epochs"]
        self.folder = runs.create_run(
            runs_root,
            record["owner"],
            self.project,
            {
                "device_choice": device,
                "seed": fit.get("seed", 0),
                "validation": fit["validation"]["method"],
                "experiment": record["id"],
                "trial": self.id,
                "params": trial["params"],
                "packed": size,
            },
        )
        runs.update_run_info(
            self.folder,
            state="running",
            device=setup["label"],
            mixed_precision=False,
            versions=worker._versions(),
            seed=fit["seed"],
            pid=os.getpid(),
            pid_token=lifecycle.start_token(os.getpid()),
        )
        self.entry.update(state="running", run=str(self.folder))
        self.metric, self.sign = live.record["metric"], (-1 if live.record["mode"] == "max" else 1)
        self.best: float | None = None
        self.live = live
        self.recorder = worker._Recorder(self.folder, self._emit, self.epochs, None)
        self.callbacks = worker._keras_callbacks(self.project, self.folder, None, self._emit)
        self.progress = worker._progress_callback(
            self._emit,
            stop_file.exists,
            epochs=self.epochs,
            fold=None,
            folds=None,
            on_epoch=self.recorder.epoch,
        )
        self.saver = worker._checkpoint_callback(
            self.folder,
            self.recorder,
            self.progress,
            self.callbacks,
            {"data_digest": digest, "epochs": self.epochs},
            None,
        )
        self.cut = False
        self.outcome = {
            "state": "failed",
            "message": "",
            "test": {},
            "kfold": None,
            "device": setup["label"],
            "parallel": False,
        }

    def _emit(self, event: Event) -> None:
        if event["type"] != "epoch":
            return
        value = event["logs"].get(self.metric)
        if not (isinstance(value, float) and math.isfinite(value)):
            value = None
        elif self.best is None or self.sign * value < self.sign * self.best:
            self.best = value
        entry = self.entry
        entry["epochs"] = event["epoch"]
        entry["metric"] = value
        entry["curve"] = entry["curve"][: event["epoch"] - 1] + [value]
        self.live.write()

    def callback_list(self, steps):
        import keras

        made = keras.callbacks.CallbackList(
            [self.progress, *self.callbacks],
            model=self.model,
            add_history=False,
            add_progbar=False,
        )
        made.set_params({"epochs": self.epochs, "steps": steps, "verbose": 0})
        self.saver.set_model(self.model)
        self.saver.set_params({"epochs": self.epochs, "steps": steps, "verbose": 0})
        return made


def _train_pack(  # noqa: C901  (the pack loop: epochs, rungs, stop, checkpoints; to split)
    chunk, data, record, live, runs_root, stop_file, device, rungs, deadline, section
) -> None:
    import keras

    from builder import build
    from builder.data.splits import num_samples, subset
    from builder.training import checkpoint, devices, feed, pack, worker

    first = chunk[0]["project"]
    fit = first["fit"]
    x, y, validation, digest = _fit_data(first, data)
    setup = devices.training_setup(device, False)
    models = []
    for trial in chunk:
        # Each model as its own run builds it: the same seed, so the same initial weights.
        keras.utils.set_random_seed(fit["seed"])
        model = build.build(trial["project"])
        build.adapt(model, x)
        models.append(model)
    trials = [
        _Trial(n, t, record, live, runs_root, device, stop_file, digest, m, setup, len(chunk))
        for n, (t, m) in enumerate(zip(chunk, models), start=1)
    ]
    live.write(force=True)
    steps = -(-num_samples(x, y) // fit["batch_size"])
    lists = {t.number: t.callback_list(steps) for t in trials}
    active = {t.number: t for t in trials}
    sample = (feed.materialise(subset(x, np.arange(2))), subset(y, np.arange(2)))
    wrapper = pack.build(models, sample, shared=True, prefix=pack.TRIAL_PREFIX)

    def conclude(leaving: list[_Trial]) -> None:
        for t in leaving:
            worker._conclude(t.project, t.progress, t.callbacks, t.recorder, t.outcome)
            if t.cut and t.outcome["state"] == "finished":
                t.outcome.update(
                    state="stopped",
                    message=f"stopped early by the experiment after {t.recorder.epochs_done} "
                    "epoch(s); the model as at that epoch is kept.",
                )
            if (
                t.outcome["state"] in ("finished", "stopped")
                and t.progress.partial
                and t.saver.saved
            ):
                t.saver.rewind(t.model)
        kept = [t for t in leaving if t.outcome["state"] in ("finished", "stopped")]
        if kept and data.x_test is not None and num_samples(data.x_test):
            # Tested by the pack they are still part of: its test step is the one traced
            # for this epoch's validation (a pack of the leaving trials alone would trace
            # one of its own: seconds at every rung). The others' scores are not kept, and
            # the next epoch resets every member's metrics as fit does.
            logs = feed.evaluate(
                wrapper,
                data.x_test,
                data.y_test,
                batch_size=fit["batch_size"],
                verbose=0,
                return_dict=True,
            )
            split = pack.split_logs(logs, len(trials), pack.TRIAL_PREFIX)
            for t in kept:
                t.outcome["test"] = {k: float(v) for k, v in split[t.number - 1].items()}
        for t in leaving:
            if t.outcome["state"] in ("finished", "stopped"):
                checkpoint.save_model(t.model, t.folder / "model.keras")
            summary = worker._finish(t.project, t.folder, t.recorder, t.outcome, lambda e: None)
            if t.cut and summary["state"] == "stopped":
                runs.update_run_info(t.folder, cut_by=CUT_BY)
            t.entry["state"] = summary["state"]
            t.entry["message"] = summary["message"]
            if summary["state"] == "failed":
                t.entry["metric"] = None
        live.write(force=True)

    class Dispatch(keras.callbacks.Callback):
        """Hands each trial its own logs and callbacks; drops trials at rungs and stops."""

        async_safe = True

        def on_train_begin(self, logs=None):
            for n in active:
                lists[n].on_train_begin()

        def on_epoch_begin(self, epoch, logs=None):
            for n in active:
                lists[n].on_epoch_begin(epoch)

        def on_train_batch_end(self, batch, logs=None):
            split = pack.split_logs(logs or {}, len(trials), pack.TRIAL_PREFIX)
            for n in active:
                lists[n].on_train_batch_end(batch, split[n - 1])

        def on_epoch_end(self, epoch, logs=None):
            split = pack.split_logs(logs or {}, len(trials), pack.TRIAL_PREFIX)
            for n, t in active.items():
                lists[n].on_epoch_end(epoch, {k: float(v) for k, v in split[n - 1].items()})
                t.saver.on_epoch_end(epoch, split[n - 1])
            done = epoch + 1
            cut = (
                rungs.cut(done, {n: t.best for n, t in active.items()})
                if done < fit["epochs"]
                else set()
            )
            if deadline is not None and time.monotonic() > deadline:
                cut = set(active)
            leaving = []
            for n, t in list(active.items()):
                if n in cut or t.model.stop_training:
                    t.cut = n in cut and not t.progress.user_stopped
                    leaving.append(t)
                    del active[n]
            for t in leaving:
                lists[t.number].on_train_end()
            if leaving:
                conclude(leaving)
            if not active:
                self.model.stop_training = True
            elif leaving:
                self.model.keep(list(active))

    try:
        worker._fit(wrapper, x, y, fit, [Dispatch()], **validation)
    except Exception as exc:
        from builder.training import faults

        message = faults.explain_error(exc, first)
        for t in active.values():
            t.outcome.update(state="failed", message=message)
            summary = worker._finish(t.project, t.folder, t.recorder, t.outcome, lambda e: None)
            t.entry.update(state="failed", message=summary["message"])
        live.write(force=True)
        return
    remaining = list(active.values())
    for t in remaining:
        lists[t.number].on_train_end()
    active.clear()
    if remaining:
        conclude(remaining)
