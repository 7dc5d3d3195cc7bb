"""keras.ops operations of an imported functional graph as the built-in layers computing them.

A functional Keras model records ``keras.ops`` calls on its tensors (``ops.nn.relu(x)``,
``ops.mean(x, axis=1)``, ``x[:, 1:3]``) as operation nodes, with their settings and the
shapes of the tensors they read. ``layers_for`` maps one such node to the catalogue
layer(s) that give the same result, or refuses it by the operation's name in one sentence.
Pure data in, data out: Keras is consulted only for the activation functions' defaults.

>>> layers_for("Relu", {"name": "relu"}, [[None, 4]], [])
[('Activation', {'activation': 'relu'})]
>>> layers_for("Transpose", {"axes": [0, 2, 1]}, [[None, 4, 6]], [])
[('Permute', {'dims': [2, 1]})]
"""

from __future__ import annotations

import inspect
import re

from builder.errors import ProjectError

__all__ = ["layers_for", "op_name"]

# keras.ops names whose activation function has another name.
_ACTIVATION_NAMES = {"exp": "exponential", "swish": "silu"}


def op_name(cls: str) -> str:
    """The keras.ops function of an operation class: ``ExpandDims`` -> ``expand_dims``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(cls)).lower()


def _refuse(cls: str, name: str, why: str = "") -> ProjectError:
    return ProjectError(
        f"layer {name!r} is the operation keras.ops.{op_name(cls)}"
        f"{' ' + why if why else ''}, which no built-in layer computes: write it with "
        "built-in layers in Keras and export again."
    )


def _activation(fn_name: str, config: dict) -> str | None:
    """The Activation choice for an operation whose settings are the activation's own
    defaults (ops.nn.gelu defaults to approximate=True, the activation to False)."""
    import keras

    name = _ACTIVATION_NAMES.get(fn_name, fn_name)
    fn = getattr(keras.activations, name, None)
    if fn is None or name in ("get", "serialize", "deserialize"):
        return None
    defaults = {
        k: p.default
        for k, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    same = all(k in defaults and defaults[k] == v for k, v in config.items())
    return name if same else None


def _axes(axis, rank: int) -> list[int] | None:
    """``axis`` (an int or a list) as sorted non-negative axes of a rank-``rank`` tensor."""
    values = axis if isinstance(axis, list) else [axis]
    if not values or not all(isinstance(a, int) and -rank <= a < rank for a in values):
        return None
    return sorted(a % rank for a in values)


def _reshape(shape: list) -> list[tuple[str, dict]] | None:
    """Reshape to ``shape`` (batch axis excluded): at most one unknown axis (-1)."""
    target = [-1 if d is None else d for d in shape]
    if target.count(-1) > 1:
        return None
    return [("Reshape", {"target_shape": target})]


def _slice(args: list, shape: list) -> list[tuple[str, dict]] | None:
    """``x[...]`` as Cropping1D/2D (unit-step slices of the steps or rows and columns) and,
    for an integer index on the steps (``x[:, 0]``, a class token), a Reshape dropping it."""
    key = args[1] if len(args) > 1 else None
    key = key if isinstance(key, list) else [key]
    rank = len(shape)
    if any(isinstance(k, dict) and k.get("class_name") == "__ellipsis__" for k in key):
        return None
    if len(key) > rank:
        return None
    cuts: list[tuple[int, int]] = []
    drop = []
    for axis, k in enumerate(key):
        size = shape[axis]
        if isinstance(k, dict) and k.get("class_name") == "__slice__":
            cfg = k.get("config") or {}
            start, stop, step = cfg.get("start"), cfg.get("stop"), cfg.get("step")
            if step not in (None, 1):
                return None
            if start is None and stop is None:
                cuts.append((0, 0))
                continue
            if axis == 0 or size is None:
                return None
            start = 0 if start is None else start % size if start < 0 else start
            stop = size if stop is None else stop % size if stop < 0 else min(stop, size)
            if not 0 <= start < stop <= size:
                return None
            cuts.append((start, size - stop))
        elif isinstance(k, int) and not isinstance(k, bool) and axis > 0 and size is not None:
            index = k % size
            cuts.append((index, size - index - 1))
            drop.append(axis)
        else:
            return None
    cuts += [(0, 0)] * (rank - len(cuts))
    inner = cuts[1:]
    cropped = [i for i, c in enumerate(inner, start=1) if c != (0, 0)]
    if rank == 3 and all(c == (0, 0) for c in inner[1:]):
        layers = [("Cropping1D", {"cropping": list(inner[0])})]
    elif rank == 4 and all(c == (0, 0) for c in inner[2:]):
        layers = [("Cropping2D", {"cropping": [list(inner[0]), list(inner[1])]})]
    else:
        return None
    if not cropped:
        return None
    if drop:
        kept = [
            (shape[i] - sum(cuts[i])) if shape[i] is not None else None
            for i in range(1, rank)
            if i not in drop
        ]
        if not kept:
            return None
        reshape = _reshape(kept)
        if reshape is None:
            return None
        layers += reshape
    return layers


def _pooling(cls: str, settings: dict, rank: int, name: str) -> list[tuple[str, dict]] | None:
    """Mean or max over the steps (or pixels, or voxels) as global pooling."""
    if _axes(settings.get("axis"), rank) != list(range(1, rank - 1)):
        return None
    if cls == "Max" and settings.get("initial") is not None:
        raise _refuse(cls, name, "with an initial value")
    layer = f"Global{'Average' if cls == 'Mean' else 'Max'}Pooling{rank - 2}D"
    return [(layer, {"keepdims": True} if settings.get("keepdims") else {})]


def layers_for(
    cls: str, config: dict, shapes: list[list], args: list, name: str = "op"
) -> list[tuple[str, dict]]:
    """The catalogue layers (class, config), applied in a chain, that compute the operation
    ``cls`` with ``config`` on tensors of ``shapes`` (batch axis included, as Keras records
    them; ``args`` the node's recorded arguments). ProjectError naming the operation when
    there are none. Elementwise +, -, *, / are handled by the importer itself."""
    settings = {k: v for k, v in config.items() if k != "name"}
    shape = shapes[0] if shapes else None
    rank = len(shape) if isinstance(shape, list) else 0
    fn = op_name(cls)
    if cls == "LeakyRelu":
        return [("LeakyReLU", {"negative_slope": settings.get("negative_slope", 0.2)})]
    if cls == "Softmax" and settings.get("axis", -1) != -1:
        return [("Softmax", {"axis": settings["axis"]})]
    if cls in ("Softmax", "LogSoftmax") and settings.get("axis", -1) == -1:
        settings.pop("axis", None)
    activation = _activation(fn, settings) if len(shapes) == 1 else None
    if activation is not None:
        return [("Activation", {"activation": activation})]
    if cls == "Concatenate" and len(shapes) >= 2 and settings.get("axis", -1) not in (0, -rank):
        return [("Concatenate", {"axis": settings.get("axis", -1)})]
    if rank and cls in ("ExpandDims", "Squeeze", "Reshape"):
        if cls == "Reshape":
            new = settings.get("newshape")
            new = list(new) if isinstance(new, (list, tuple)) else None
            result = (
                _reshape(new[1:])
                if new and new[0] in (-1, None) and all(isinstance(d, int) for d in new[1:])
                else None
            )
        else:
            axes = _axes(settings.get("axis"), rank + (cls == "ExpandDims"))
            if not axes or 0 in axes:
                result = None
            elif cls == "ExpandDims":
                out = list(shape[1:])
                for a in axes:
                    out.insert(a - 1, 1)
                result = _reshape(out)
            elif all(shape[a] == 1 for a in axes):
                result = _reshape([d for i, d in enumerate(shape) if i and i not in axes])
            else:
                result = None
        if result:
            return result
    if cls == "Transpose" and rank:
        axes = settings.get("axes")
        if isinstance(axes, list) and axes and axes[0] == 0 and sorted(axes) == list(range(rank)):
            return [("Permute", {"dims": list(axes[1:])})]
    if cls in ("Mean", "Max") and rank in (3, 4, 5):
        pooled = _pooling(cls, settings, rank, name)
        if pooled:
            return pooled
    if cls == "GetItem" and rank:
        result = _slice(args, shape)
        if result:
            return result
        raise _refuse(cls, name, "(a slice other than a crop of steps, rows or columns)")
    if cls == "Cast":
        raise _refuse(cls, name, f"to {settings.get('dtype')}")
    raise _refuse(cls, name)
