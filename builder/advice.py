"""Advice beside the errors: the model builds, but probably not the way the user meant.

The step after ``builder.checker.shapes``: each rule reads the project, the per-layer
shapes (a ``builder.results.CheckResult``) and (when known) what the data holds, and adds
an ``Advice`` with a plain message and, where the repair is mechanical, a ``Fix``. Rules
are small functions listed in ``RULES``; order is the order shown.
"""

from __future__ import annotations

from typing import Any

from builder import settings
from builder.results import Advice, CheckResult, Fix, fmt_shape, insert_flatten

CLASSIFICATION_LOSSES = settings.tasks_of_losses("classification")
REGRESSION_LOSSES = settings.tasks_of_losses("regression")
HUGE_PARAMS = 20_000_000
HUGE_MEMORY = 4 * 1024**3


def data_info_for(project: dict) -> Any:
    """What the chosen dataset holds (task, classes, input spec), or None when unknown or
    when no data is chosen (``project.data_chosen``)."""
    from builder.project import data_chosen

    if not data_chosen(project.get("data")):
        return None
    try:
        from builder.data import registry

        return registry.describe(project.get("data", {}))
    except Exception:  # unknown dataset, unreadable CSV...: advice just has less to say
        return None


def recommended_losses(project: dict, info: Any = None) -> dict[str, str]:
    """{output: loss} for a CSV with several target columns, each output's loss suiting its
    own column ({} when every output learns the one label, or the data is unknown)."""
    if info is None:
        info = data_info_for(project)
    if info is None or not _get(info, "targets"):
        return {}
    from builder.data import registry

    outputs = project["model"].get("outputs", [])
    return {out: rec["loss"] for out, rec in registry.recommend_outputs(info, outputs).items()}


def recommended_loss(project: dict, info: Any = None) -> str | None:
    """The loss that suits the data (``registry.recommend_for``); without data information,
    the one that suits the single output's activation; None when neither says."""
    if info is None:
        info = data_info_for(project)
    if info is not None:
        from builder.data import registry

        return registry.recommend_for(info)["loss"]
    outputs = project["model"].get("outputs", [])
    layers = {lay["name"]: lay for lay in project["model"].get("layers", [])}
    lay = layers.get(outputs[0]) if len(outputs) == 1 else None
    if lay is None:
        return None
    activation = lay.get("config", {}).get("activation")
    return {
        "sigmoid": "binary_crossentropy",
        "softmax": "categorical_crossentropy",
        None: "mse",
        "linear": "mse",
    }.get(activation)


def _get(info: Any, key: str, default=None):
    if info is None:
        return default
    if isinstance(info, dict):
        return info.get(key, default)
    return getattr(info, key, default)


def _last_dense(project: dict, result: CheckResult, output: str):
    """The layer deciding an output's activation: the output itself, or the Dense feeding an
    Activation output. Returns (layer dict, report, activation)."""
    layers = {lay["name"]: lay for lay in project["model"]["layers"]}
    lay = layers.get(output)
    if lay is None:
        return None, None, None
    activation = lay.get("config", {}).get("activation")
    if lay["class_name"] == "Activation":
        return lay, result.layer(output), activation
    if lay["class_name"] == "Dense":
        return lay, result.layer(output), activation
    return None, None, None


def _units(n) -> str:
    """'1 unit', '64 units'."""
    return f"{n} unit" if n == 1 else f"{n} units"


def _loss(project: dict, output: str):
    loss = project["compile"]["loss"]
    return loss.get(output) if isinstance(loss, dict) else loss


def _set_loss(project: dict, output: str, value: str) -> Fix:
    multi = len(project["model"].get("outputs", [])) > 1
    return Fix(
        f"Use loss {value}",
        {"op": "set_compile", "key": "loss", "output": output if multi else None, "value": value},
    )


def _for_output(info: Any, output: str) -> Any:
    """The data as ``output`` sees it: its own target column's when the CSV has several."""
    return info.for_output(output) if hasattr(info, "for_output") else info


def rule_loss_vs_last_layer(project, result, info, add):
    for output in project["model"].get("outputs", []):
        task = _get(_for_output(info, output), "task")
        classes = _get(_for_output(info, output), "num_classes")
        own_target = bool(_get(info, "targets"))
        lay, rep, act = _last_dense(project, result, output)
        loss = _loss(project, output)
        if lay is None or rep is None or rep.output_shape is None:
            continue
        units = (
            rep.output_shape[-1]
            if rep.output_shape and not isinstance(rep.output_shape[0], list)
            else None
        )
        name = lay["name"]
        if loss == "binary_crossentropy" and act == "softmax":
            why = (
                "softmax over one unit always outputs 1.0, so nothing is learned"
                if units == 1
                else f"binary crossentropy scores each of the {units} outputs as its own "
                "yes/no probability, while softmax makes them compete"
            )
            add(
                Advice(
                    "softmax-binary",
                    f"'{name}' uses softmax but the loss is binary "
                    f"crossentropy: {why}. Use sigmoid with 1 unit for two classes.",
                    name,
                    Fix(
                        "Set activation to sigmoid",
                        {
                            "op": "set_config",
                            "target": name,
                            "key": "activation",
                            "value": "sigmoid",
                        },
                    ),
                )
            )
        elif (
            loss in ("categorical_crossentropy", "sparse_categorical_crossentropy")
            and act == "sigmoid"
            and units
            and units > 2
        ):
            add(
                Advice(
                    "sigmoid-multiclass",
                    f"'{name}' gives {units} independent sigmoid "
                    f"scores but {loss} expects one probability distribution over the "
                    "classes: use softmax.",
                    name,
                    Fix(
                        "Set activation to softmax",
                        {
                            "op": "set_config",
                            "target": name,
                            "key": "activation",
                            "value": "softmax",
                        },
                    ),
                )
            )
        elif (
            loss in CLASSIFICATION_LOSSES
            and act in (None, "linear")
            and lay["class_name"] == "Dense"
        ):
            want = (
                "sigmoid"
                if loss in ("binary_crossentropy", "binary_focal_crossentropy")
                else "softmax"
            )
            if loss != "hinge":
                add(
                    Advice(
                        "logits-crossentropy",
                        f"'{name}' has no activation, so it outputs "
                        f"raw scores, but {loss} expects probabilities: add activation "
                        f"'{want}'.",
                        name,
                        Fix(
                            f"Set activation to {want}",
                            {
                                "op": "set_config",
                                "target": name,
                                "key": "activation",
                                "value": want,
                            },
                        ),
                    )
                )
        if loss in REGRESSION_LOSSES and task in ("binary", "multiclass"):
            # The loss the Data and Build pages recommend for these labels, one rule.
            want = recommended_loss(project, _for_output(info, output))
            form = {
                "integer": " with labels as class numbers",
                "one_hot": " with one-hot labels",
            }.get(_get(_for_output(info, output), "label_encoding"), "")
            add(
                Advice(
                    "regression-loss-on-classifier",
                    f"the data is {task} classification{form} but "
                    f"the loss is {loss}, a regression loss: use {want}.",
                    name,
                    _set_loss(project, output, want),
                )
            )
        if task == "regression" and loss in CLASSIFICATION_LOSSES:
            add(
                Advice(
                    "classification-loss-on-regression",
                    f"the data is regression (numbers "
                    f"to predict) but the loss is {loss}: use mse (or mae).",
                    name,
                    _set_loss(project, output, "mse"),
                )
            )
        if task == "regression" and act not in (None, "linear") and lay["class_name"] == "Dense":
            add(
                Advice(
                    "activation-on-regression",
                    f"'{name}' predicts a number with activation "
                    f"'{act}', which limits the values it can output (sigmoid: 0..1, relu: "
                    "≥ 0). A regression output usually has no activation.",
                    name,
                    Fix(
                        "Remove the activation",
                        {"op": "set_config", "target": name, "key": "activation", "value": None},
                    ),
                )
            )
        if units is not None and classes and task == "multiclass" and units != classes:
            add(
                Advice(
                    "units-vs-classes",
                    f"'{name}' has {_units(units)} but the data has "
                    f"{classes} classes: one unit per class.",
                    name,
                    Fix(
                        f"Set units to {classes}",
                        {"op": "set_config", "target": name, "key": "units", "value": classes},
                    ),
                )
            )
        if (
            units is not None
            and task == "binary"
            and loss in ("binary_crossentropy", "binary_focal_crossentropy")
            and units != 1
        ):
            add(
                Advice(
                    "units-vs-binary",
                    f"'{name}' has {units} units, but binary "
                    "crossentropy on two classes needs one unit (the probability of the "
                    "positive class).",
                    name,
                    Fix(
                        "Set units to 1",
                        {"op": "set_config", "target": name, "key": "units", "value": 1},
                    ),
                )
            )
        if (
            units is not None
            and task == "regression"
            and units != 1
            and (own_target or len(project["model"].get("outputs", [])) == 1)
        ):
            add(
                Advice(
                    "units-vs-regression",
                    f"'{name}' outputs {units} numbers but the data "
                    "has one target per sample: use 1 unit.",
                    name,
                    Fix(
                        "Set units to 1",
                        {"op": "set_config", "target": name, "key": "units", "value": 1},
                    ),
                )
            )


def rule_label_encoding(project, result, info, add):
    # Only a choice the user made is worth a word; a dataset default simply follows the loss.
    encoding = project.get("data", {}).get("options", {}).get("label_encoding")
    for output in project["model"].get("outputs", []):
        loss = _loss(project, output)
        if encoding == "integer" and loss == "categorical_crossentropy":
            add(
                Advice(
                    "label-encoding",
                    "the labels are set to integers but the loss is "
                    "categorical crossentropy, which needs one-hot labels: the data will be "
                    "one-hot encoded to match (or switch to sparse_categorical_crossentropy "
                    "to keep integers).",
                    output,
                    _set_loss(project, output, "sparse_categorical_crossentropy"),
                )
            )
        if encoding == "one_hot" and loss == "sparse_categorical_crossentropy":
            add(
                Advice(
                    "label-encoding",
                    "the labels are set to one-hot but the loss is sparse "
                    "categorical crossentropy, which needs integer labels: the data will use "
                    "integers to match.",
                    output,
                    _set_loss(project, output, "categorical_crossentropy"),
                )
            )


def rule_bottleneck(project, result, info, add):
    classes = _get(info, "num_classes")
    if not classes or classes <= 2:
        return
    outputs = set(project["model"].get("outputs", []))
    for rep in result.layers:
        if rep.name in outputs or rep.class_name != "Dense" or not rep.output_shape:
            continue
        units = rep.output_shape[-1]
        if isinstance(units, int) and units < classes:
            add(
                Advice(
                    "bottleneck",
                    f"'{rep.name}' has {_units(units)}, fewer than the "
                    f"{classes} classes to tell apart: this information bottleneck loses "
                    "what the last layer needs (the book's Reuters example drops ~8% "
                    "accuracy). Use at "
                    f"least {classes} units.",
                    rep.name,
                    Fix(
                        f"Set units to {max(64, classes)}",
                        {
                            "op": "set_config",
                            "target": rep.name,
                            "key": "units",
                            "value": max(64, classes),
                        },
                    ),
                )
            )


def rule_flatten_before_dense(project, result, info, add):
    for rep in result.layers:
        if rep.class_name != "Dense" or not rep.input_shapes or not rep.ok:
            continue
        shape = rep.input_shapes[0]
        if len(shape) >= 4:
            add(
                Advice(
                    "missing-flatten",
                    f"Dense '{rep.name}' receives images "
                    f"{fmt_shape(shape)} and applies to the channel axis only, keeping the "
                    "image shape: add Flatten before it to classify whole images.",
                    rep.name,
                    insert_flatten(rep.name),
                )
            )
        elif len(shape) == 3 and rep.name in project["model"].get("outputs", []):
            add(
                Advice(
                    "missing-flatten",
                    f"output '{rep.name}' receives sequences "
                    f"{fmt_shape(shape)} and predicts per step: add Flatten or "
                    "GlobalAveragePooling1D before it to predict once per sample.",
                    rep.name,
                    insert_flatten(rep.name),
                )
            )


def rule_input_vs_data(project, result, info, add):
    spec = _get(info, "input_spec")
    inputs = project["model"].get("inputs", [])
    if not spec or len(inputs) != 1:
        return
    want = list(spec.get("shape", [])) if isinstance(spec, dict) else None
    have = inputs[0].get("shape")
    if want and have != want:
        add(
            Advice(
                "input-vs-data",
                f"input '{inputs[0]['name']}' has shape {tuple(have)} but "
                f"the chosen data gives samples of shape {tuple(want)}.",
                None,
                Fix(
                    f"Set the input shape to {tuple(want)}",
                    {
                        "op": "set_input",
                        "target": inputs[0]["name"],
                        "shape": want,
                        "dtype": spec.get("dtype", "float32"),
                    },
                ),
            )
        )


def rule_huge(project, result, info, add):
    if result.total_params > HUGE_PARAMS or result.memory_bytes > HUGE_MEMORY:
        biggest = max(result.layers, key=lambda r: r.params, default=None)
        add(
            Advice(
                "huge",
                f"{result.total_params:,} parameters, about "
                f"{result.memory_bytes / 1024**3:.1f} GB to train: this will be slow and may "
                f"run out of memory. The largest layer is '{biggest.name}' "
                f"({biggest.params:,}); add pooling or Flatten later, or use fewer units.",
                biggest.name if biggest else None,
            )
        )


def rule_metrics(project, result, info, add):
    task = _get(info, "task")
    metrics = project["compile"]["metrics"]
    if _get(info, "targets") and isinstance(metrics, dict):
        # Several target columns: accuracy is only wrong on an output that predicts numbers.
        for out, names in metrics.items():
            if _get(_for_output(info, out), "task") == "regression" and "accuracy" in names:
                add(
                    Advice(
                        "accuracy-regression",
                        f"output '{out}' predicts numbers: accuracy means nothing there "
                        "(predictions never equal a value exactly): use mae.",
                        out,
                        Fix(
                            "Use metric mae",
                            {
                                "op": "set_compile",
                                "key": "metrics",
                                "output": out,
                                "value": ["mae"],
                            },
                        ),
                    )
                )
        return
    flat = [m for v in metrics.values() for m in v] if isinstance(metrics, dict) else metrics
    if task == "regression" and "accuracy" in flat:
        add(
            Advice(
                "accuracy-regression",
                "accuracy means nothing for regression (predictions "
                "never equal a price exactly): use mae.",
                None,
                Fix("Use metric mae", {"op": "set_compile", "key": "metrics", "value": ["mae"]}),
            )
        )


def rule_data_unavailable(project, result, info, add):
    """Validation does not read data files (a project whose CSV is missing still opens):
    say here, beside the model, that the data cannot be loaded and how to fix it."""
    from builder.project import data_chosen

    if info is not None or not data_chosen(project.get("data")):
        return
    from builder.data import DataError, registry

    try:
        registry.describe(project.get("data", {}))
    except DataError as err:
        add(Advice("data-unavailable", f"the data cannot be loaded yet: {err}", None))


RULES = [
    rule_loss_vs_last_layer,
    rule_label_encoding,
    rule_bottleneck,
    rule_flatten_before_dense,
    rule_input_vs_data,
    rule_huge,
    rule_metrics,
    rule_data_unavailable,
]


def attach(project: dict, result: CheckResult, info: Any = None) -> None:
    """Run every rule; advice about one layer goes on that layer, the rest on the model."""
    if (
        not result.layers
        or not isinstance(project, dict)
        or not isinstance(project.get("model"), dict)
    ):
        return
    if info is None:
        info = data_info_for(project)
    compile_, fit = settings.sections(project)  # also for a project still being fixed
    project = {**project, "compile": compile_, "fit": fit}
    seen: set[tuple[str, str | None]] = set()

    def add(advice: Advice):
        key = (advice.code, advice.layer)
        if key in seen:
            return
        seen.add(key)
        rep = result.layer(advice.layer) if advice.layer else None
        (rep.warnings if rep else result.warnings).append(advice)

    for rule in RULES:
        try:
            rule(project, result, info, add)
        except (KeyError, TypeError, AttributeError, IndexError):
            # a half-valid project: errors already say what is wrong, advice can wait
            continue
