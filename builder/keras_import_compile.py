"""A Keras model's compile settings as the project's, where the project can hold them.

``_compile(compile_config, outputs, names, notes, default)`` maps the optimizer (its
settings that differ from the defaults), the loss (one, or one per output, by the
project's output names), the metrics and the loss weights of a Keras ``compile_config``
onto the project's compile section; whatever netbuilder does not offer is left at
``default`` and said in a note.
"""

from __future__ import annotations

from builder import settings
from builder.keras_import_graph import _Names
from builder.keras_import_layer import _same, _short, _snake


def _compile(  # noqa: C901
    compile_config, outputs: list[str], names: _Names, notes: list[str], default: dict
) -> dict:
    """Compile settings from the file's compile_config, where the project can hold them."""
    if not isinstance(compile_config, dict) or not compile_config:
        return default
    result = dict(default)
    opt = compile_config.get("optimizer")
    if isinstance(opt, str):
        opt = {"class_name": opt, "config": {}}
    if isinstance(opt, dict):
        cls = opt.get("class_name")
        if cls in settings.OPTIMIZERS:
            allowed = settings.optimizer_defaults(cls)
            cfg = {}
            for key, value in (opt.get("config") or {}).items():
                if (
                    key in allowed
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)
                ):
                    value = float(f"{value:.7g}")
                    if not _same(value, allowed[key]):
                        cfg[key] = value
                elif key in allowed and isinstance(value, bool) and value != allowed[key]:
                    cfg[key] = value
                elif key in allowed and isinstance(value, dict):
                    notes.append(
                        f"optimizer {key} is a schedule ({_short(value)}); the project "
                        f"uses a constant {allowed[key]}."
                    )
            result["optimizer"] = {"class_name": cls, "config": cfg}
        else:
            notes.append(
                f"optimizer {cls!r} is not offered by netbuilder; the project uses RMSprop."
            )

    def one(value, what, check):
        if (
            isinstance(value, dict)
            and value.get("class_name") == "function"
            and isinstance(value.get("config"), str)
        ):
            value = value["config"]  # a Keras loss or metric written as a function reference
        elif isinstance(value, dict) and "class_name" in value:
            value = _snake(value["class_name"])
        if check(value):
            return value
        notes.append(
            f"{what} {_short(value)} is not offered by netbuilder; set it on the compile page."
        )
        return None

    loss = compile_config.get("loss")
    if isinstance(loss, dict) and "class_name" not in loss:
        mapped = {}
        for key, value in loss.items():
            v = one(value, "loss", lambda x: x in settings.LOSSES)
            if v is not None and key in names.map:
                mapped[names.map[key]] = v
        if set(mapped) == set(outputs):
            result["loss"] = mapped
    elif isinstance(loss, list) and len(loss) == len(outputs):
        mapped = [one(v, "loss", lambda x: x in settings.LOSSES) for v in loss]
        if None not in mapped:
            result["loss"] = dict(zip(outputs, mapped)) if len(outputs) > 1 else mapped[0]
    elif loss is not None:
        v = one(loss, "loss", lambda x: x in settings.LOSSES)
        if v is not None:
            result["loss"] = v
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list):
        kept = [
            m for m in (one(v, "metric", lambda x: x in settings.METRICS) for v in metrics) if m
        ]
        result["metrics"] = kept
    weights = compile_config.get("loss_weights")
    if isinstance(weights, dict):
        mapped = {names.map.get(k, k): v for k, v in weights.items()}
        if all(k in outputs for k in mapped) and not all(v == 1 for v in mapped.values()):
            result["loss_weights"] = mapped
    elif (
        isinstance(weights, list)
        and len(weights) == len(outputs)
        and not all(v == 1 for v in weights)
    ):
        result["loss_weights"] = dict(zip(outputs, weights))
    return result
