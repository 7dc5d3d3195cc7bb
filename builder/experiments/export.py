"""An experiment as a runnable script that uses Ray Tune directly (no netbuilder needed).

``to_ray_tune_script(project)`` writes one Python file: the data and label code of the
single-run export (``builder.export``), the project and its experiment section as JSON, the
same ``apply`` that netbuilder's trials use (copied from ``builder.experiments.spec`` by
source, so the two cannot drift), a generic Keras builder for the project's layer list, and
a Tune trainable reporting every epoch. Usage::

    python experiment.py [--trials N] [--concurrency K] [--epochs N] [--ray ADDRESS] [--smoke]

The last line of its output is ``{"trials": [{"params", "metric", "epochs"}], "best": ...}``.
Refused (ProjectError) when trials would need different data code: an experiment that
varies data options, or losses that need different label encodings.
"""

from __future__ import annotations

import inspect
import json
import textwrap

from builder import codegen, export, export_data
from builder.experiments import spec
from builder.project import ProjectError, graph_order, validate
from builder.topology import inbound_of

_COPIED = [
    inbound_of,
    spec._split_setting,
    spec._layer_index,
    spec._make_inbound_explicit,
    spec._drop_implicit_inbound,
    spec._omit,
    spec._repeat,
    spec.apply,
]

_HEADER = '''"""Ray Tune experiment exported from netbuilder: {name}

Usage: python this_script.py [--trials N] [--concurrency K] [--epochs N] [--ray ADDRESS]
                             [--smoke]
Without --ray (or RAY_ADDRESS) Ray starts on this machine for the run. The last line of the
output is a JSON summary of the trials and the best one.
"""'''

_SETTINGS = """parser = argparse.ArgumentParser(description="Run the experiment on Ray Tune.")
parser.add_argument("--trials", type=int, help="number of trials (grid: at most this many)")
parser.add_argument("--concurrency", type=int, help="trials at the same time")
parser.add_argument("--epochs", type=int, help="epochs per trial")
parser.add_argument("--ray", help="Ray cluster address (default: RAY_ADDRESS or a local Ray)")
parser.add_argument("--smoke", action="store_true",
                    help="64 samples and 1 epoch per trial: a quick check that it runs")
args = parser.parse_args()
SMOKE = args.smoke
PROJECT = json.loads(PROJECT_JSON)
EXPERIMENT = PROJECT["experiment"]
if args.trials:
    EXPERIMENT["trials"] = args.trials
if args.concurrency:
    EXPERIMENT["concurrency"] = args.concurrency
EPOCHS = 1 if SMOKE else (args.epochs or PROJECT["fit"]["epochs"])
keras.utils.set_random_seed(PROJECT["fit"].get("seed", 0))"""

_REST = '''

def build_model(project):
    """The project's layers as a Keras model (each layer reads ``inbound``, else the previous
    entry), compiled with its optimizer, loss and metrics."""
    model = project["model"]
    tensors = {inp["name"]: keras.Input(shape=tuple(inp["shape"]),
                                        dtype=inp.get("dtype", "float32"), name=inp["name"])
               for inp in model["inputs"]}
    links = inbound_of(model)
    for layer in model["layers"]:
        config = {k: tuple(v) if isinstance(v, list) and k not in ("dims", "axis", "axes")
                  else v for k, v in layer.get("config", {}).items()}
        made = getattr(keras.layers, layer["class_name"])(name=layer["name"], **config)
        args_ = [tensors[s] for s in links[layer["name"]]]
        tensors[layer["name"]] = made(args_ if len(args_) > 1 else args_[0])
    ins = [tensors[i["name"]] for i in model["inputs"]]
    outs = [tensors[o] for o in model["outputs"]]
    if LABEL_UNITS is not None:  # a regression target standardised for training, as in the app
        scale, offset = LABEL_UNITS
        outs = [keras.layers.Rescaling(scale=scale, offset=offset, dtype="float32",
                                       name="to_label_units")(outs[0])]
    net = keras.Model(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 else outs[0])
    comp = project["compile"]
    opt = comp["optimizer"]
    optimizer = getattr(keras.optimizers, opt["class_name"])(**opt.get("config", {}))
    net.compile(optimizer=optimizer, loss=comp["loss"], metrics=comp.get("metrics") or None,
                loss_weights=comp.get("loss_weights"))
    return net


class Report(keras.callbacks.Callback):
    """Each epoch's logs to Ray Tune (a scheduler may end the trial there)."""

    def on_epoch_end(self, epoch, logs=None):
        tune.report({**{k: float(v) for k, v in (logs or {}).items()}, "epoch": epoch + 1})


def train_trial(config, data):
    x_train, y_train = data
    import tensorflow as tf

    try:
        threads = int(tune.get_context().get_trial_resources().required_resources["CPU"])
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except (RuntimeError, KeyError, ValueError):
        pass
    params = config["combination"] if "combination" in config else config
    project = apply(PROJECT, params)
    fit = project["fit"]
    keras.utils.set_random_seed(fit.get("seed", 0))
    model = build_model(project)
    callbacks = [Report(), keras.callbacks.TerminateOnNaN()] + [
        getattr(keras.callbacks, cb["class_name"])(**cb.get("config", {}))
        for cb in fit.get("callbacks", [])
        if cb["class_name"] not in ("TensorBoard", "BackupAndRestore", "TerminateOnNaN")]
    val = fit.get("validation", {"method": "none"})
    extra = {}
    if val["method"] == "holdout":
        count = val.get("count") or int(round(len(x_train) * val["fraction"]))
        count = min(count, len(x_train) // 4) if SMOKE else count
        extra["validation_data"] = (inputs(x_train[:count]), targets(y_train[:count]))
        x_train, y_train = x_train[count:], y_train[count:]
    elif val["method"] == "split":
        extra["validation_split"] = val["fraction"]
    history = model.fit(inputs(x_train), targets(y_train), epochs=EPOCHS,
                        batch_size=fit["batch_size"], shuffle=fit.get("shuffle", True),
                        callbacks=callbacks, verbose=0, **extra)
    last = history.history.get(EXPERIMENT["metric"], [float("nan")])[-1]
    if not math.isfinite(last):
        raise RuntimeError(f"{EXPERIMENT['metric']} is not a number (the loss diverged)")


def search_space():
    """(param_space, search algorithm, number of samples) for Tune."""
    concurrency = EXPERIMENT["concurrency"]
    seed = PROJECT["fit"].get("seed", 0)
    if EXPERIMENT["search"] == "grid":
        names = [p["setting"] for p in EXPERIMENT["parameters"]]
        combos = itertools.product(*[p["values"] for p in EXPERIMENT["parameters"]])
        grid = [dict(zip(names, c)) for c in itertools.islice(combos, EXPERIMENT["trials"])]
        return ({"combination": tune.grid_search(grid)},
                BasicVariantGenerator(max_concurrent=concurrency), 1)
    space = {}
    for p in EXPERIMENT["parameters"]:
        if "values" in p:
            space[p["setting"]] = tune.choice(p["values"])
            continue
        low, high, log = p["low"], p["high"], p.get("log", False)
        kind = p.get("type", "int" if isinstance(low, int) and isinstance(high, int)
                     else "float")
        if kind == "int":
            space[p["setting"]] = (tune.lograndint if log else tune.randint)(low, high + 1)
        else:
            space[p["setting"]] = (tune.loguniform if log else tune.uniform)(low, high)
    if EXPERIMENT["search"] == "tpe":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        return space, OptunaSearch(sampler=optuna.samplers.TPESampler(seed=seed)), \\
            EXPERIMENT["trials"]
    return space, BasicVariantGenerator(random_state=seed, max_concurrent=concurrency), \\
        EXPERIMENT["trials"]


def main():
    address = args.ray or os.environ.get("RAY_ADDRESS")
    cpus = os.cpu_count() or 1
    if address:
        ray.init(address=address, log_to_driver=False)
        cpus = int(ray.cluster_resources().get("CPU", 1))
    # No more trials at once than the CPUs (this machine's, or the cluster's) can run.
    EXPERIMENT["concurrency"] = max(1, min(EXPERIMENT["concurrency"],
                                           cpus // (EXPERIMENT.get("cpus_per_trial") or 1)))
    per_trial = EXPERIMENT.get("cpus_per_trial") or max(1, cpus // EXPERIMENT["concurrency"])
    if not address:
        ray.init(num_cpus=max(cpus, per_trial * EXPERIMENT["concurrency"]),
                 include_dashboard=False, log_to_driver=False)
    space, searcher, samples = search_space()
    early = EXPERIMENT.get("early_stopping")
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=EPOCHS,
                              grace_period=min(EPOCHS, early.get("grace_period")
                                               or max(1, EPOCHS // 10)),
                              reduction_factor=early.get("reduction_factor", 2)) \\
        if early else None
    minutes = EXPERIMENT.get("max_minutes")
    trainable = tune.with_resources(
        tune.with_parameters(train_trial, data=(x_train, y_train)),
        {"cpu": per_trial, "gpu": EXPERIMENT.get("gpus_per_trial") or 0})
    tuner = tune.Tuner(
        trainable, param_space=space,
        tune_config=tune.TuneConfig(metric=EXPERIMENT["metric"], mode=EXPERIMENT["mode"],
                                    search_alg=searcher, scheduler=scheduler,
                                    num_samples=samples,
                                    max_concurrent_trials=(EXPERIMENT["concurrency"]
                                                           if EXPERIMENT["search"] == "tpe"
                                                           else None),
                                    time_budget_s=minutes * 60 if minutes else None),
        run_config=tune.RunConfig(verbose=1))
    results = tuner.fit()
    trials = []
    for result in results:
        metrics = result.metrics or {}
        config = result.config or {}
        value = metrics.get(EXPERIMENT["metric"])
        trials.append({"params": config.get("combination", config),
                       "metric": value if result.error is None else None,
                       "epochs": metrics.get("epoch", 0),
                       "error": None if result.error is None else str(result.error)[:200]})
    scored = [t for t in trials if isinstance(t["metric"], float) and math.isfinite(t["metric"])]
    sign = 1 if EXPERIMENT["mode"] == "min" else -1
    best = min(scored, key=lambda t: sign * t["metric"]) if scored else None
    ray.shutdown()
    print(json.dumps({"metric": EXPERIMENT["metric"], "mode": EXPERIMENT["mode"],
                      "trials": trials, "best": best}))


if __name__ == "__main__":
    main()
'''


def _label_code(project: dict, data) -> str:
    """The Labels section, the same for every loss the experiment tries (else refused)."""
    _, code = export._shape_code(project, data)
    for p in project["experiment"]["parameters"]:
        if p["setting"] == "compile.loss":
            for loss in p["values"]:
                other = spec.apply(project, {"compile.loss": loss})
                other_data = export_data._Data(other)  # labels are encoded for the loss
                if (
                    export._shape_code(other, other_data)[1] != code
                    or export_data._data_code(other_data)[1] != export_data._data_code(data)[1]
                ):
                    raise ProjectError(
                        f"the losses {', '.join(p['values'])} need different label encodings "
                        "(one-hot or integer): the exported script loads the data once for "
                        "every trial. Run this experiment in netbuilder, or vary losses that "
                        "take the same labels.",
                        "experiment",
                    )
    return code


def _label_units(data) -> tuple[float, float] | None:
    """(deviation, mean) of a regression target standardised for training, else None: the
    script's model ends in the same Rescaling back to the label's units as the app's."""
    enc = data.encoder
    if getattr(enc, "target_mean", None) is None:
        return None
    return (float(enc.target_std), float(enc.target_mean))


def to_ray_tune_script(project: dict) -> str:
    """The experiment of ``project`` as a standalone Ray Tune script (see module doc)."""
    project = validate(project)
    if not project.get("experiment"):
        raise ProjectError(
            'this project has no "experiment" section to export: add settings to vary first.',
            "experiment",
        )
    section = spec.defaults(project["experiment"])
    if any(p["setting"].startswith("data.") for p in section["parameters"]):
        raise ProjectError(
            "an experiment that varies data options cannot be exported as "
            "one script (the data are loaded once for every trial); run it "
            "in netbuilder.",
            "experiment",
        )
    for layer in project["model"]["layers"]:
        refs = layer.get("inbound") or []
        if layer.get("shares") or layer.get("inbound_args") or any(":" in r for r in refs):
            raise ProjectError(
                "shared layers, call arguments that take tensors and a layer's second or "
                "later output are not exported to Ray Tune scripts yet; run this "
                "experiment in netbuilder.",
                "experiment",
            )
        if layer["class_name"] == "Bidirectional":
            raise ProjectError(
                "Bidirectional layers are not exported to Ray Tune scripts "
                "yet; run this experiment in netbuilder.",
                "experiment",
            )
    export._valid({k: v for k, v in project.items() if k != "experiment"})
    ordered = dict(project)
    ordered["model"] = {**project["model"], "layers": graph_order(project)}
    ordered["experiment"] = section
    data = export_data._Data(project)
    _, data_code = export_data._data_code(data)
    imports = export._imports(data, for_notebook=False)
    imports = imports.replace(
        "import argparse\n",
        "import argparse\nimport copy\nimport itertools\nimport math\nimport os\n",
    )
    imports += (
        "\nimport ray\nfrom ray import tune\n"
        "from ray.tune.schedulers import ASHAScheduler\n"
        "from ray.tune.search.basic_variant import BasicVariantGenerator"
    )
    copied = "\n\n".join(textwrap.dedent(inspect.getsource(f)).strip() for f in _COPIED)
    text = json.dumps(ordered, indent=1, ensure_ascii=True)
    parts = [
        _HEADER.format(name=codegen.inline(project.get("name", ""))),
        imports,
        f"OPTIMIZERS = {spec.OPTIMIZERS!r}\nPROJECT_JSON = {text!r}\n"
        f"LABEL_UNITS = {_label_units(data)!r}",
        "# --- Settings " + "-" * 58 + "\n" + _SETTINGS,
        "# --- Data " + "-" * 62 + "\n" + data_code,
        "# --- Labels " + "-" * 60 + "\n" + _label_code(project, data),
        "# --- A trial's project: the values applied as netbuilder applies them "
        + "-" * 2
        + "\n"
        + copied,
    ]
    return "\n\n\n".join(parts) + _REST
