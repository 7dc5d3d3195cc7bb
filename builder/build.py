"""build(project) -> a compiled keras.Model, its layers in ``builder.topology`` order.

A plain stack becomes ``keras.Sequential`` (what the book writes); anything else becomes a
functional ``keras.Model``. Only a valid project is built: call ``check`` first to show the
user why one is not.
"""

from __future__ import annotations

from builder import limits
from builder.checker import call_layer, call_refs, check, make_layer, pick_output
from builder.project import ProjectError, graph_order, is_sequential, validate
from builder.topology import analyse, inbound_of, split_ref


class BuildError(ProjectError):
    """The project does not describe a model Keras can build; the message says why."""


def _invalid(project: dict) -> BuildError:
    result = check(project)
    lines = result.errors + [r.error for r in result.layers if r.error and not r.tentative]
    lines = lines or [r.error for r in result.layers if r.error]
    return BuildError("the model cannot be built yet:\n" + "\n".join(f"- {m}" for m in lines))


_OOM_NAMES = {"ResourceExhaustedError", "MemoryError", "OutOfMemoryError"}


# Peak memory of an export, in multiples of the float32 weights (measured on a 740 M
# parameter Dense model: to_json 2.9x, save .keras with its optimizer slots 5.1x).
_EXPORT_FACTOR = {"json": 3, "keras": 5}


def memory_needed(project: dict, purpose: str = "train") -> int:
    """Estimated bytes to ``train`` the model (weights, gradients, optimizer slots and a
    batch of activations: ``checker.estimate_memory``) or to export it as Keras ``json``
    or a ``keras`` file (its float32 weights times ``_EXPORT_FACTOR``). BuildError for a
    model that is not valid (its problems come first)."""
    result = check(project)
    if not result.valid:
        raise _invalid(project)
    if purpose == "train":
        return result.memory_bytes
    return result.total_params * 4 * _EXPORT_FACTOR[purpose]


def check_memory(project: dict, purpose: str = "train", copies: int = 1) -> None:
    """Refuse, before Keras allocates anything, a model whose estimated memory (times
    ``copies``: parallel K-fold trains k copies at once) is more than
    ``limits.MEMORY_HEADROOM`` of what the machine has available now; the message says
    both numbers. Nothing is refused when the free memory cannot be read."""
    available = limits.available_memory()
    if available is None:
        return
    needed = memory_needed(project, purpose) * max(copies, 1)
    if needed > available * limits.MEMORY_HEADROOM:
        verb = "train" if purpose == "train" else "build and export"  # json / keras
        raise BuildError(
            f"the model needs about {limits.fmt_bytes(needed)} of memory to {verb}, "
            f"and this machine has {limits.fmt_bytes(available)} available: use "
            "fewer units or filters, a smaller input"
            + (" or a smaller batch size" if purpose == "train" else "")
            + ", or close other programs."
        )


def is_out_of_memory(exc: BaseException) -> bool:
    """True for TensorFlow's ResourceExhaustedError, NumPy's MemoryError and the like."""
    return bool(
        _OOM_NAMES & {t.__name__ for t in type(exc).__mro__}
    ) or "OOM when allocating" in str(exc)


def build_model(project: dict):
    """The uncompiled Keras model (Sequential for a stack, functional otherwise)."""
    import keras

    try:
        project = validate(project)
    except ProjectError:
        raise _invalid(project) from None
    model = project["model"]
    depth = max(analyse(model).depth.values(), default=0)
    if depth > limits.MAX_BUILD_DEPTH:
        raise BuildError(
            f"the model is {depth:,} layers deep (its longest path from an input "
            f"to an output); Keras builds at most {limits.MAX_BUILD_DEPTH:,}. "
            "Use fewer layers in a row, or split the model into blocks."
        )
    name = _model_name(project)
    try:
        if is_sequential(project):
            inp = model["inputs"][0]
            layers = [
                keras.Input(
                    shape=tuple(inp["shape"]),
                    dtype=inp.get("dtype", "float32"),
                    batch_size=inp.get("batch_size"),
                    name=inp["name"],
                )
            ]
            layers += [
                make_layer(lay["class_name"], lay.get("config", {}), lay["name"])
                for lay in model["layers"]
            ]
            return keras.Sequential(layers, name=name)
        tensors = {}
        by_name = {lay["name"]: lay for lay in model["layers"]}
        for inp in model["inputs"]:
            tensors[inp["name"]] = keras.Input(
                shape=tuple(inp["shape"]),
                dtype=inp.get("dtype", "float32"),
                batch_size=inp.get("batch_size"),
                name=inp["name"],
            )
        links = inbound_of(model)
        made = {}  # a shared layer's one Keras layer, by its name

        def source(ref: str):
            node, index = split_ref(ref)
            return pick_output(tensors[node], index)

        for lay in graph_order(project):
            args = [source(s) for s in links[lay["name"]]]
            kwargs = {
                key: [source(r) for r in refs] if isinstance(refs, list) else source(refs)
                for key, refs in call_refs(lay).items()
            }
            config = lay.get("config", {})
            owner = lay.get("shares") or lay["name"]
            layer = made.get(owner)
            if layer is None:
                owner_config = by_name[owner].get("config", {})
                layer = made[owner] = make_layer(lay["class_name"], owner_config, owner)
            out = call_layer(lay["class_name"], layer, args, config, kwargs)
            # every output is kept: "name:k" reads output k, "name" the first
            tensors[lay["name"]] = (
                out[0]
                if isinstance(out, (list, tuple))
                and len(out) == 1
                and lay["name"] not in model["outputs"]
                else out
            )
        inputs = [tensors[i["name"]] for i in model["inputs"]]
        outputs = [tensors[o] for o in model["outputs"]]
        return keras.Model(
            inputs=inputs if len(inputs) > 1 else inputs[0],
            outputs=outputs if len(outputs) > 1 else outputs[0],
            name=name,
        )
    except Exception:  # whatever Keras raises, the checker words it for the user
        raise _invalid(project) from None


def _model_name(project: dict) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9_]+", "_", project.get("name", "model")).strip("_").lower()
    return slug[:60] or "model"


def optimizer(project: dict):
    import keras

    opt = project["compile"]["optimizer"]
    return getattr(keras.optimizers, opt["class_name"])(**opt["config"])


def compile_args(project: dict) -> dict:
    """Keyword arguments for ``model.compile`` (by keyword: Keras 3's third positional
    argument is loss_weights)."""
    comp = project["compile"]
    args = {"optimizer": optimizer(project), "loss": comp["loss"], "metrics": comp["metrics"]}
    if comp["loss_weights"]:
        args["loss_weights"] = comp["loss_weights"]
    return args


LABEL_UNITS = "to_label_units"


def with_label_units(model, label_scale: tuple[float, float]):
    """``model`` with a last step ``output * std + mean`` (a float32 Keras Rescaling layer
    named ``LABEL_UNITS``): trained on standardised regression targets, it predicts in the
    label's own units, and so the loss, metrics and predictions are in those units too.
    One output only (``loader._label_scale`` decides)."""
    import keras

    mean, std = label_scale
    step = keras.layers.Rescaling(scale=std, offset=mean, dtype="float32", name=LABEL_UNITS)
    if isinstance(model, keras.Sequential):
        model.add(step)
        return model
    return keras.Model(model.inputs, step(model.outputs[0]), name=model.name)


def build(project: dict, compile: bool = True, label_scale: tuple[float, float] | None = None):
    """A keras.Model built and compiled as the project says. Raises BuildError (with the
    checker's plain messages) when the model is not valid. ``label_scale`` (the prepared
    data's (mean, std) of a standardised target) adds ``with_label_units``' last step."""
    model = build_model(project)
    if label_scale is not None:
        model = with_label_units(model, label_scale)
    if compile:
        model.compile(**compile_args(validate(project)))
    return model


def adapt(model, x, max_samples: int | None = None) -> list[str]:
    """Adapt the model's preprocessing layers given no state to the training data ``x``
    (``builder.adapt.adapt_layers``: Normalization, TextVectorization, StringLookup,
    IntegerLookup, Discretization). Returns the names of the layers adapted."""
    from builder.adapt import ADAPT_SAMPLES, adapt_layers

    return adapt_layers(model, x, ADAPT_SAMPLES if max_samples is None else max_samples)
