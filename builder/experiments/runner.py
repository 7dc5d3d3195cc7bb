"""Run an experiment on Ray Tune: a local Ray instance by default, a Ray cluster by address.

``create(project, runs_root, owner)`` makes the experiment folder
``runs_root/.experiments/<owner>/<id>/`` holding ``experiment.json``; ``run(folder, ...)``
runs the trials and keeps ``experiment.json`` current while they run (the page polls it):

    {"id", "owner", "name", "state": "starting"|"running"|"finished"|"stopped"|"failed",
     "message", "started", "ended", "pid", "executor": "local"|"ray", "address",
     "metric", "mode", "search", "epochs", "concurrency", "project": {...},
     "trials": [{"id", "params", "state": "pending"|"running"|"finished"|"stopped"|"failed",
                 "metric", "epochs", "run", "curve": [metric per epoch], "message"}],
     "best": {"id", "params", "metric"} | null}

Each trial leaves an ordinary run folder in ``runs_root/<owner>/`` (so Compare lists it).
With no address, a grid or random search whose trials can share a model trains them in
packs in this process, without Ray (``builder.experiments.packed``). Otherwise, with no
address, Ray is started here for this experiment only (``num_cpus`` = this
machine's cores, no dashboard, workers' output not forwarded, a fresh temporary folder)
and shut down at the end. With an address (``--ray``, ``RAY_ADDRESS``, the page's field)
the driver connects to that cluster and ships the ``builder`` package to it; the cluster's
nodes need the same Python packages (requirements.txt) and, to see the run folders here,
``runs_root`` on a shared file system.

Stop: ``request_stop(folder)`` writes a ``stop`` file; running trials end after their
current batch and keep their model (as a stopped single run), no new trial starts (an
unstarted trial ends "stopped" with 0 epochs and no run), and trials that finished are kept.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from builder import limits
from builder.experiments import packed, spec
from builder.experiments.trial import STOP_FILE
from builder.training import lifecycle, runs

EXPERIMENTS_DIR = ".experiments"
STOP_GRACE_S = 5.0  # how long trials get to stop themselves (within a batch) before Ray ends them
WRITE_INTERVAL_S = 0.5
ROOT = Path(__file__).resolve().parents[2]


class ExperimentError(ValueError):
    """An experiment that cannot start (no Ray, a cluster that cannot be reached, ...)."""


# --------------------------------------------------------------------------- folders


def experiments_dir(runs_root: str | Path, owner: str) -> Path:
    return Path(runs_root) / EXPERIMENTS_DIR / runs.check_owner(owner)


def create(project: dict, runs_root: str | Path, owner: str) -> Path:
    """A new experiment folder holding experiment.json (state "starting")."""
    parent = experiments_dir(runs_root, owner)
    parent.mkdir(parents=True, exist_ok=True)
    section = spec.defaults(project["experiment"])
    for _ in range(10):
        exp_id = runs.new_run_id()
        folder = parent / exp_id
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover
        raise ExperimentError("could not pick a fresh experiment id; try again.")
    record = {
        "id": exp_id,
        "owner": owner,
        "name": project.get("name", ""),
        "state": "starting",
        "message": "",
        "started": runs.now_iso(),
        "ended": None,
        "pid": os.getpid(),
        "executor": None,
        "address": None,
        "metric": section["metric"],
        "mode": section["mode"],
        "search": section["search"],
        "epochs": project["fit"]["epochs"],
        "concurrency": section["concurrency"],
        "project": project,
        "trials": [],
        "best": None,
    }
    runs.write_json_atomic(folder / "experiment.json", record)
    return folder


def read(folder: str | Path) -> dict:
    """experiment.json; a record whose process is gone without ending says so."""
    record = runs.read_json(Path(folder) / "experiment.json")
    if record.get("state") in ("starting", "running") and not lifecycle.alive(record.get("pid")):
        record["state"] = "failed"
        record["message"] = (
            "the experiment's process is gone and did not finish (the app may "
            "have been restarted); the trials' run folders are kept."
        )
    record["path"] = str(folder)
    return record


def list_experiments(runs_root: str | Path, owner: str) -> list[dict]:
    """This owner's experiments, newest first (unreadable folders are skipped)."""
    parent = experiments_dir(runs_root, owner)
    if not parent.is_dir():
        return []
    found = []
    for folder in sorted(parent.iterdir(), reverse=True):
        if folder.is_dir() and runs.RUN_ID_RE.match(folder.name):
            try:
                found.append(read(folder))
            except (OSError, ValueError):
                continue
    return found


def request_stop(folder: str | Path) -> None:
    """Ask a running experiment to stop: trials end after their batch, finished ones stay."""
    runs.write_text_atomic(Path(folder) / STOP_FILE, runs.now_iso() + "\n")


def summary(record: dict) -> dict:
    """The CLI's ``--json`` document (see README)."""
    trials = [
        {
            "id": t["id"],
            "params": t["params"],
            "state": t["state"],
            "metric": t["metric"],
            "epochs": t["epochs"],
            "run": t["run"],
        }
        for t in record["trials"]
    ]
    return {
        "experiment": record["path"],
        "executor": record["executor"],
        "metric": record["metric"],
        "mode": record["mode"],
        "trials": trials,
        "best": record["best"],
    }


# --------------------------------------------------------------------------- search space


def search_space(section: dict, seed: int):
    """(param_space, search_alg, num_samples) for Tune."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    if section["search"] == "grid":
        combos = spec.grid(section)
        return (
            {"combination": tune.grid_search(combos)},
            BasicVariantGenerator(max_concurrent=section["concurrency"]),
            1,
        )
    space = {}
    for p in section["parameters"]:
        if "values" in p:
            space[p["setting"]] = tune.choice(p["values"])
            continue
        low, high, log = p["low"], p["high"], p.get("log", False)
        is_int = (
            p.get("type", "int" if isinstance(low, int) and isinstance(high, int) else "float")
            == "int"
        )
        if is_int:
            space[p["setting"]] = (tune.lograndint if log else tune.randint)(low, high + 1)
        else:
            space[p["setting"]] = (tune.loguniform if log else tune.uniform)(low, high)
    if section["search"] == "tpe":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        searcher = OptunaSearch(
            metric=section["metric"],
            mode=section["mode"],
            sampler=optuna.samplers.TPESampler(seed=seed),
        )
    else:
        searcher = BasicVariantGenerator(random_state=seed, max_concurrent=section["concurrency"])
    return space, searcher, section["trials"]


def scheduler(section: dict, epochs: int):
    """ASHA over epochs, comparing each trial's best value of the metric so far (one noisy
    epoch does not end a trial); rungs from ``spec.asha_settings``."""
    spec_ = section.get("early_stopping")
    if not spec_:
        return None
    from ray.tune.schedulers import ASHAScheduler

    from builder.experiments.trial import BEST_KEY

    asha = spec.asha_settings(spec_, epochs)
    return ASHAScheduler(
        time_attr="epoch",
        metric=BEST_KEY,
        mode=section["mode"],
        max_t=epochs,
        grace_period=asha["grace_period"],
        reduction_factor=asha["reduction_factor"],
    )


# --------------------------------------------------------------------------- live record


class _Live:
    """Keeps experiment.json current from Tune's callbacks (driver side, one thread)."""

    def __init__(self, folder: Path, record: dict, settings: list[str]):
        self.folder, self.record, self.settings = folder, record, settings
        self.trials: dict[str, dict] = {}
        self._written = 0.0

    def trial(self, trial) -> dict:
        from builder.experiments.trial import params_of

        entry = self.trials.get(trial.trial_id)
        if entry is None:
            entry = self.add(trial.trial_id, params_of(trial.config, self.settings))
        return entry

    def add(self, trial_id: str, params: dict) -> dict:
        """A new trial's entry, pending (packed trials are named here, Tune's by Tune)."""
        entry = {
            "id": trial_id,
            "params": params,
            "state": "pending",
            "metric": None,
            "epochs": 0,
            "run": None,
            "curve": [],
            "message": "",
        }
        self.trials[trial_id] = entry
        self.record["trials"] = list(self.trials.values())
        return entry

    def write(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._written < WRITE_INTERVAL_S:
            return
        self._written = time.monotonic()
        self.record["best"] = best(self.record)
        runs.write_json_atomic(self.folder / "experiment.json", self.record)


def _callback(live: _Live):
    from ray.tune import Callback

    metric = live.record["metric"]

    class LiveCallback(Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            live.trial(trial)["state"] = "running"
            live.write()

        def on_trial_result(self, iteration, trials, trial, result, **info):
            entry = live.trial(trial)
            entry["state"] = "running"
            entry["epochs"] = int(result.get("epoch", entry["epochs"]))
            entry["run"] = result.get("run", entry["run"])
            value = result.get(metric)
            entry["metric"] = value
            entry["curve"] = entry["curve"][: entry["epochs"] - 1] + [value]
            live.write()

        def on_trial_complete(self, iteration, trials, trial, **info):
            entry = live.trial(trial)
            from builder.experiments.trial import ENDED_KEY

            ended = (trial.last_result or {}).get(ENDED_KEY)
            entry["state"] = ended if ended in ("finished", "stopped") else "stopped"
            live.write(force=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            entry = live.trial(trial)
            entry["state"] = "failed"
            live.write(force=True)

    return LiveCallback()


def best(record: dict) -> dict | None:
    """The trial with the best final metric among those that did not fail."""
    sign = 1 if record["mode"] == "min" else -1
    scored = [
        t
        for t in record["trials"]
        if t["state"] in ("finished", "stopped", "running")
        and isinstance(t["metric"], (int, float))
        and math.isfinite(t["metric"])
    ]
    if not scored:
        return None
    top = min(scored, key=lambda t: sign * t["metric"])
    return {"id": top["id"], "params": top["params"], "metric": top["metric"]}


def _stopper(folder: Path):
    from ray.tune import Stopper

    stop_file = folder / STOP_FILE

    class StopFile(Stopper):
        """Ends the experiment once the stop file is older than the grace period: trials
        see the file themselves and end cleanly first."""

        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            try:
                return time.time() - stop_file.stat().st_mtime > STOP_GRACE_S
            except OSError:
                return False

    return StopFile()


# --------------------------------------------------------------------------- Ray


def resolve_address(address: str | None) -> str | None:
    """The cluster to use: ``address`` if given, else ``RAY_ADDRESS``; None: local Ray."""
    address = (address or os.environ.get("RAY_ADDRESS") or "").strip()
    return address or None


def _cores() -> int:
    """The cores this process may run on (a container or ``taskset`` may allow fewer than
    the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _env_vars() -> dict:
    keep = ("KERAS_HOME", "NETBUILDER_HOME", "KERAS_BACKEND")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _reachable(address: str, timeout: float = 5.0) -> bool:
    """Whether something listens at ``host:port`` (Ray itself retries for minutes)."""
    if "://" in address or ":" not in address:
        return True  # ray://, auto, ...: left to Ray
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _token_auth() -> None:
    """Send this user's Ray token (~/.ray/auth_token) when there is one, as ``ray start``
    does: a client connecting by address does not turn token mode on by itself."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def start_ray(address: str | None, num_cpus: int):
    """Connect to ``address`` or start a local instance; return the local instance's
    temporary folder (``None`` for a cluster)."""
    try:
        import ray
    except ImportError:
        raise ExperimentError("experiments need Ray: pip install -r requirements.txt") from None
    if address:
        import builder

        runtime_env = {"py_modules": [str(Path(builder.__file__).parent)], "env_vars": _env_vars()}
        _token_auth()
        if not _reachable(address):
            raise ExperimentError(
                f"cannot reach the Ray cluster at {address!r}: nothing "
                "answers there. Check the address (host:port of the head "
                "node, as 'ray start --head' printed it) and that the "
                "cluster is running."
            )
        try:
            ray.init(
                address=address, log_to_driver=False, runtime_env=runtime_env, logging_level="ERROR"
            )
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise ExperimentError(
                f"cannot reach the Ray cluster at {address!r}: {err}. "
                "Check the address (host:port of the head node, as "
                "'ray start --head' printed it) and that the cluster is "
                "running."
            ) from None
        return None
    temp = tempfile.mkdtemp(prefix="nbray-")
    # The local workers inherit this process' environment (Ray's processes start from it),
    # so no runtime environment is needed: with none, Tune's trial actors start in the
    # workers Ray has already started, instead of new ones set up by its agent.
    os.environ.update(_env_vars())
    path = os.environ.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), path) if p)
    ray.init(
        address="local",
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        _temp_dir=temp,
    )
    return temp


def stop_ray(temp: str | None) -> None:
    import ray

    ray.shutdown()
    if temp:
        shutil.rmtree(temp, ignore_errors=True)


# --------------------------------------------------------------------------- running


def run(
    folder: str | Path,
    *,
    runs_root: str | Path,
    trials: int | None = None,
    concurrency: int | None = None,
    epochs: int | None = None,
    address: str | None = None,
    log=None,
    parent: tuple[int, str | None] | None = None,
) -> dict:
    """Run the experiment of ``folder`` (from ``create``) to its end; return the record.

    ``trials``/``concurrency``/``epochs`` override the section and fit.epochs.
    ``address``: a Ray cluster (``None`` also reads ``RAY_ADDRESS``; none: local Ray).
    ``log(text)`` receives progress lines. Never raises for a trial's failure: the trial is
    recorded as failed and the others go on. A local grid or random search trains its
    trials packed in this process (``packed``); ``parent`` (pid, start token of the app)
    then ties this process to the app as a training worker is tied.
    """
    folder = Path(folder)
    log = log or (lambda text: None)
    record = runs.read_json(folder / "experiment.json")
    project = record["project"]
    section = spec.defaults(project["experiment"])
    if trials is not None:
        section["trials"] = trials
    if concurrency is not None:
        section["concurrency"] = concurrency
    if epochs is not None:
        project["fit"]["epochs"] = epochs
    epochs = project["fit"]["epochs"]
    address = resolve_address(address)
    record.update(
        state="running",
        pid=os.getpid(),
        executor="ray" if address else "local",
        address=address,
        epochs=epochs,
        concurrency=section["concurrency"],
    )
    settings = [p["setting"] for p in section["parameters"]]
    live = _Live(folder, record, settings)
    live.write(force=True)
    temp = None
    why_not = packed.reason(project, section) if packed.enabled() else "packing is turned off"
    try:
        if not address and why_not is None:
            record["packing"] = "packed"
            if parent is not None:  # trials train in this process: it dies with the app
                lifecycle.guard(parent[0], parent[1])
            log(
                f"local: {section['trials']} trial(s) packed side by side, "
                f"{section['search']} search on {section['metric']} ({section['mode']})"
            )
            packed.run(
                record=record,
                live=live,
                project=project,
                section=section,
                runs_root=runs_root,
                stop_file=folder / STOP_FILE,
                device="auto" if section["gpus_per_trial"] not in (0, None) else "cpu",
                log=log,
            )
        else:
            record["packing"] = why_not
            cores = _cores()
            if not address:  # no more trials at once than this machine's cores can run
                section["concurrency"] = record["concurrency"] = limits.max_concurrency(
                    section["concurrency"], cores, section["cpus_per_trial"]
                )
            cpus = section["cpus_per_trial"] or max(1, cores // section["concurrency"])
            temp = start_ray(address, num_cpus=max(cores, cpus * section["concurrency"]))
            if address:
                import ray

                resources = ray.cluster_resources()
                total = int(resources.get("CPU", 1))
                section["concurrency"] = record["concurrency"] = limits.max_concurrency(
                    section["concurrency"], total, section["cpus_per_trial"]
                )
                cpus = section["cpus_per_trial"] or max(1, total // section["concurrency"])
                if section["gpus_per_trial"] == "auto":  # a single run sent to the cluster
                    section["gpus_per_trial"] = 1 if resources.get("GPU", 0) >= 1 else 0
            if section["gpus_per_trial"] == "auto":
                section["gpus_per_trial"] = 0
            log(
                f"{'Ray cluster ' + address if address else 'local Ray'}: {section['trials']} "
                f"trial(s), {section['concurrency']} at a time, {cpus} CPU(s) each, "
                f"{section['search']} search on {section['metric']} ({section['mode']})"
            )
            _fit(folder, record, live, project, section, settings, runs_root, cpus, epochs)
        _done(folder, record)
    except ExperimentError as err:
        record.update(state="failed", message=str(err))
    except Exception as err:  # Ray itself failed: say so plainly, keep what finished
        import traceback

        log(traceback.format_exc())
        record.update(
            state="failed", message=f"the experiment stopped: {type(err).__name__}: {err}"
        )
    finally:
        if temp is not None or address:
            try:
                stop_ray(temp)
            except Exception:
                pass
    return _end(folder, record, live, runs_root)


def _done(folder: Path, record: dict) -> None:
    stopped = (folder / STOP_FILE).exists()
    record["state"] = "stopped" if stopped else "finished"
    record["message"] = "stopped by request; finished trials are kept." if stopped else ""


def _end(folder: Path, record: dict, live: _Live, runs_root) -> dict:
    _settle_runs(record, runs_root)
    _settle_unstarted(record)
    record["ended"] = runs.now_iso()
    live.write(force=True)
    record["path"] = str(folder)
    return record


def _fit(folder, record, live, project, section, settings, runs_root, cpus, epochs):
    from ray import tune

    from builder.experiments import trial as trial_module

    # A trial that ends without a metric (stopped before its first epoch) must not end the
    # whole experiment: Tune's strict check would raise in the driver.
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    # experiment.json is the record: Tune's own per-result CSV/JSON/TensorBoard logs would
    # only cost the driver time on every epoch of every trial.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    space, searcher, samples = search_space(section, project["fit"].get("seed", 0))
    gpus = section["gpus_per_trial"] or 0
    context = {
        "project": project,
        "runs_root": str(Path(runs_root).resolve()),
        "owner": record["owner"],
        "experiment": record["id"],
        "folder": str(folder),
        "settings": settings,
        "metric": section["metric"],
        "mode": section["mode"],
        "threads": cpus,
        "device": "auto" if gpus else "cpu",
    }
    trainable = tune.with_resources(
        tune.with_parameters(trial_module.trainable(), context=context),
        {"cpu": cpus, "gpu": gpus},
    )
    minutes = section.get("max_minutes")
    tune_config = tune.TuneConfig(
        # The scheduler compares best_so_far, the searcher (Optuna) the metric: each is
        # given its own, so Tune gets neither here.
        search_alg=searcher,
        scheduler=scheduler(section, epochs),
        num_samples=samples,
        # BasicVariantGenerator limits concurrency itself; Tune
        # wraps a Searcher (Optuna) in a ConcurrencyLimiter.
        max_concurrent_trials=(section["concurrency"] if section["search"] == "tpe" else None),
        time_budget_s=minutes * 60 if minutes else None,
        # A reused worker keeps TensorFlow loaded and the data read: seconds saved per
        # trial, which small trials would otherwise spend (Trial.reset_config).
        reuse_actors=True,
    )
    run_config = tune.RunConfig(
        name=record["id"],
        storage_path=str(folder / "ray"),
        verbose=0,
        stop=_stopper(folder),
        callbacks=[_callback(live)],
        failure_config=tune.FailureConfig(max_failures=0),
        # The run folder holds the model; Tune would otherwise ask a class trainable for a
        # checkpoint of its own at each trial's end.
        checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False, checkpoint_frequency=0),
        log_to_file=True,
    )
    tune.Tuner(trainable, param_space=space, tune_config=tune_config, run_config=run_config).fit()


def _settle_unstarted(record: dict) -> None:
    """A trial that never started (Stop, a failure or the time budget came first) is not
    left "pending" in an ended experiment: it is "stopped", with 0 epochs and the reason."""
    why = {
        "stopped": "not started: the experiment was stopped first.",
        "failed": "not started: the experiment failed first.",
    }.get(record["state"], "not started: the experiment's time budget ran out first.")
    for entry in record.get("trials", []):
        if entry["state"] == "pending":
            entry.update(state="stopped", message=why)


def _settle_runs(record: dict, runs_root) -> None:
    """Match trials to their run folders and give killed trials' folders a final state.

    A trial stopped by ASHA, the time budget or Stop is ended by Ray mid-epoch: its run
    folder still says "running". It becomes "stopped" with the reason; its history is kept.
    """
    try:
        found = runs.list_runs(runs_root, record["owner"])
    except (OSError, runs.RunError):
        found = []
    by_trial = {r.get("trial"): r for r in found if r.get("experiment") == record["id"]}
    for entry in record["trials"]:
        info = by_trial.get(entry["id"])
        if info is None:
            continue
        entry["run"] = info["path"]
        try:  # run.json as written (list_runs calls a killed worker's run "failed")
            state = runs.read_json(Path(info["path"]) / "run.json").get("state")
        except (OSError, ValueError):
            state = info.get("state")
        if state in runs.FINAL_STATES and state != "interrupted":  # the trial ended itself
            if state != "failed":
                _from_history(entry, record["metric"])
            entry["message"] = info.get("message", "")
            entry["state"] = state
            if info.get("cut_by") == "experiment":  # ended by Tune, after its epoch
                entry["message"] = _stop_reason(record, entry, kept=True)
                _update(info["path"], message=entry["message"])
            continue
        if entry["state"] == "failed":  # Ray lost the trial's process (killed, crashed)
            final, message = (
                "failed",
                ("the trial's process ended unexpectedly; the epochs recorded so far are kept."),
            )
        else:
            final, message = "stopped", _stop_reason(record, entry)
        entry["state"], entry["message"] = final, message
        _update(
            info["path"],
            state=final,
            message=message,
            ended=runs.now_iso(),
            epochs_done=entry["epochs"],
        )
    record["best"] = best(record)


def _from_history(entry: dict, metric: str) -> None:
    """Epochs, curve and final metric from the run's history.csv: a trial cut by Tune may
    have finished one more epoch than Tune read before it stopped."""
    try:
        history = runs.read_history_csv(Path(entry["run"]) / "history.csv")
    except (OSError, ValueError):
        return
    values = history.get(metric) or []
    if not values:
        return
    entry["curve"] = [v if isinstance(v, float) and math.isfinite(v) else None for v in values]
    entry["epochs"] = len(values)
    entry["metric"] = entry["curve"][-1]


def _update(path, **fields) -> None:
    try:
        runs.update_run_info(path, **fields)
    except (OSError, ValueError):
        pass


def _stop_reason(record: dict, entry: dict, kept: bool = False) -> str:
    epochs = entry["epochs"]
    what = (
        f"the model as at epoch {epochs} and the history are kept."
        if kept
        else "the history so far is kept; the model was not saved."
    )
    if record.get("state") == "stopped":
        return f"stopped with the experiment after {epochs} epoch(s); {what}"
    minutes = (record.get("project", {}).get("experiment") or {}).get("max_minutes")
    why = (
        f"the scheduler (ASHA), other trials being ahead on {record['metric']}, or the "
        f"time budget of {minutes:g} minute(s)"
        if minutes
        else f"the scheduler (ASHA): other trials were ahead on {record['metric']}"
    )
    return f"stopped early by {why}, after {epochs} epoch(s); {what}"


def pretty(record: dict) -> str:
    """A short text table of the trials (for the CLI's stderr)."""
    lines = [
        f"experiment {record['id']}: {record['state']}"
        + (f" ({record['message']})" if record.get("message") else "")
    ]
    for t in record["trials"]:
        value = "-" if t["metric"] is None else f"{t['metric']:.4g}"
        lines.append(
            f"  {t['id']:<14} {t['state']:<9} {record['metric']} {value:<10} "
            f"epochs {t['epochs']}  {json.dumps(t['params'])}"
        )
    if record.get("best"):
        lines.append(
            f"best: {record['best']['id']} {record['metric']} "
            f"{record['best']['metric']:.4g} {json.dumps(record['best']['params'])}"
        )
    return "\n".join(lines)


def train_on_cluster(
    project: dict, runs_root: str | Path, owner: str, address: str, log=None
) -> dict:
    """Train one project as a one-trial experiment on a Ray cluster (on a GPU node when the
    cluster has one); return the experiment record (its one trial names the run folder)."""
    one = dict(project)
    one["experiment"] = {
        "parameters": [],
        "search": "grid",
        "trials": 1,
        "concurrency": 1,
        "metric": "loss",
        "mode": "min",
        "early_stopping": None,
        "max_minutes": None,
        "cpus_per_trial": None,
        "gpus_per_trial": "auto",
    }
    folder = create(one, runs_root, owner)
    return run(folder, runs_root=runs_root, address=address, log=log)


# --------------------------------------------------------------------------- background


def main(argv: list[str] | None = None) -> int:
    """``python -m builder.experiments.runner FOLDER --runs ROOT [--ray ADDRESS]``: run an
    experiment created by ``create`` (the app starts it this way, in its own process)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m builder.experiments.runner")
    parser.add_argument("folder")
    parser.add_argument("--runs", required=True)
    parser.add_argument("--ray", default=None)
    parser.add_argument("--parent", default=None, help="PID:TOKEN of the app that started it")
    args = parser.parse_args(argv)
    parent = None
    if args.parent:
        pid, _, token = args.parent.partition(":")
        parent = (int(pid), token or None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    record = run(
        args.folder,
        runs_root=args.runs,
        address=args.ray or None,
        log=lambda text: print(text, flush=True),
        parent=parent,
    )
    print(pretty(record), flush=True)
    return 1 if record["state"] == "failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
