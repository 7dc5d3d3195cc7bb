"""Keras' refusals of a layer, in plain words: what the layer needs, what it got, the fix.

``translate(layer, in_shapes, message, kind, producers)`` turns the terse message Keras
raises when it cannot build or call ``layer`` on ``in_shapes`` into one sentence that names
the layer, what it needs and what it received, with mechanical repairs offered as data
(``Fix``, applied by ``builder.fixes``). ``builder.checker`` calls it for each layer Keras
refuses; nothing here imports Keras.
"""

from __future__ import annotations

import math
import re

from builder import catalogue, text_layers
from builder.results import Fix, Shape, _full, describe_values, fmt_shape, insert_flatten

_NDIM = re.compile(r"expected (min_|max_)?ndim=(\d+), found ndim=(\d+)")
_ONE_D = {
    "Conv2D": "Conv1D",
    "MaxPooling2D": "MaxPooling1D",
    "AveragePooling2D": "AveragePooling1D",
    "GlobalAveragePooling2D": "GlobalAveragePooling1D",
    "GlobalMaxPooling2D": "GlobalMaxPooling1D",
    "SpatialDropout2D": "SpatialDropout1D",
    "UpSampling2D": "UpSampling1D",
    "ZeroPadding2D": "ZeroPadding1D",
    "Cropping2D": "Cropping1D",
}
_TWO_D = {v: k for k, v in _ONE_D.items()}
_MERGE_SAME = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


def _square_image(n: int) -> list[int] | None:
    """(s, s, 1) or (s, s, 3) holding n values, the usual way a flat image was made."""
    for channels in (1, 3):
        if n % channels == 0:
            side = math.isqrt(n // channels)
            if side > 1 and side * side * channels == n:
                return [side, side, channels]
    return None


def _factor_pair(n: int) -> list[int]:
    """Two factors of n as close as possible (steps, features)."""
    a = math.isqrt(n)
    while a > 1 and n % a:
        a -= 1
    return [n // a, a] if a > 1 else [n, 1]


def translate(
    layer: dict, in_shapes: list[Shape], message: str, kind: str, producers: list[dict | None]
) -> tuple[str, list[Fix]]:
    """A plain sentence and repairs for a Keras refusal of ``layer`` on ``in_shapes``."""
    cls, name = layer["class_name"], layer["name"]
    who = f"{cls} '{name}'"
    config = layer.get("config", {})
    shape = in_shapes[0] if in_shapes else ()
    if kind == "call" and shape and shape[-1] is None:
        width = text_layers.width_after_adapt(layer, producers)
        if width:
            return width
    got = " and ".join(fmt_shape(_full(s)) for s in in_shapes)

    if kind == "config":
        return (
            f"{who} rejects its settings: {message} Change the value named in the parameter form.",
            [],
        )

    m = _NDIM.search(message)
    if m:
        need = int(m.group(2))
        needs = catalogue.input_description(need)
        return _rank_fix(layer, who, needs, need, shape)

    if "would be zero or negative" in message or "negative dimension" in message.lower():
        fixes = []
        if (
            "padding" in {p["name"] for p in catalogue.get(cls)["params"]}
            and config.get("padding", "valid") != "same"
        ):
            fixes.append(
                Fix(
                    "Set padding='same'",
                    {"op": "set_config", "target": name, "key": "padding", "value": "same"},
                )
            )
        window = config.get("kernel_size") or config.get("pool_size")
        what = "kernel" if "kernel_size" in config else "window"
        return (
            f"{who} slides a {_size(window)} {what} over {describe_values(shape)}: the "
            "input is smaller than the window, so nothing would remain. Use a smaller "
            f"{'kernel_size' if what == 'kernel' else 'pool_size'}, padding='same', or "
            "fewer downsampling layers before it.",
            fixes,
        )

    if cls == "Reshape" and "size of the tensor must be unchanged" in message:
        n = math.prod(d for d in shape if d is not None)
        target = config.get("target_shape")
        suggestion = _square_image(n) or _factor_pair(n)
        fixes = [
            Fix(
                f"Set target_shape to {tuple(suggestion)}",
                {"op": "set_config", "target": name, "key": "target_shape", "value": suggestion},
            )
        ]
        return (
            f"{who} receives {n} values per sample but its target_shape "
            f"{tuple(target or ())} holds {math.prod(target or [0])}: the product of "
            f"target_shape must be {n}, e.g. {tuple(suggestion)} (or use -1 for one "
            "axis).",
            fixes,
        )

    if cls in _MERGE_SAME and (
        "incompatible shapes" in message.lower() or "same shape" in message.lower()
    ):
        fixes = []
        widths = [s[-1] for s in in_shapes if s]
        widest = max((w for w in widths if w is not None), default=None)
        dense_srcs = [
            (p, s)
            for p, s in zip(producers, in_shapes)
            if p is not None and p["class_name"] == "Dense" and s and s[-1] != widest
        ]
        if widest is not None and len(set(widths)) > 1 and dense_srcs:
            names = " and ".join(f"'{p['name']}'" for p, _ in dense_srcs)
            for p, _ in dense_srcs:
                fixes.append(
                    Fix(
                        f"Set {p['name']}.units to {widest}",
                        {"op": "set_config", "target": p["name"], "key": "units", "value": widest},
                    )
                )
            advice = f"make {names} {widest} units"
        else:
            advice = "make the branches produce the same shape"
        fixes.append(
            Fix(
                "Use Concatenate instead",
                {"op": "replace_class", "target": name, "class_name": "Concatenate", "config": {}},
            )
        )
        return (
            f"{who} needs inputs of the same shape but gets {got}: {advice}, or use "
            "Concatenate, which joins inputs of different widths.",
            fixes,
        )

    if cls == "Concatenate":
        return (
            f"{who} joins its inputs along axis {config.get('axis', -1)}; every other axis "
            f"must match, but it gets {got}. Flatten or pool the inputs to the same rank "
            "first (e.g. Flatten or GlobalAveragePooling1D on the longer one).",
            [],
        )

    if cls == "Dot":
        return (
            f"{who} multiplies its inputs along axes {config.get('axes')}; those axes must "
            f"have the same length, but it gets {got}. Make the two branches the same width "
            "or change axes.",
            [],
        )

    if cls == "Permute":
        rank = len(shape)
        return (
            f"{who} needs dims to be a reordering of 1..{rank} for "
            f"{describe_values(shape)}, e.g. {list(range(rank, 0, -1))}; got "
            f"{config.get('dims')}.",
            [
                Fix(
                    f"Set dims to {list(range(rank, 0, -1))}",
                    {
                        "op": "set_config",
                        "target": name,
                        "key": "dims",
                        "value": list(range(rank, 0, -1)),
                    },
                )
            ]
            if rank > 1
            else [],
        )

    if (
        "fully-defined" in message
        or "must be fully defined" in message
        or ("None" in message and "shape" in message and any(None in s for s in in_shapes))
    ):
        return (
            f"{who} needs a known size on every axis it learns weights for, but receives "
            f"{got} (None = any length). Give the input a fixed length, or add "
            "GlobalAveragePooling1D / an RNN with return_sequences=False before it.",
            [],
        )

    if cls == "Cropping2D" or cls == "Cropping1D":
        return (
            f"{who} crops more than its input has ({describe_values(shape)}): use smaller "
            "cropping values.",
            [],
        )

    return (
        f"{who} cannot take {describe_values(shape) if len(in_shapes) == 1 else got} "
        f"(shape {got}). Keras says: {message}",
        [],
    )


def _size(window) -> str:
    if isinstance(window, list):
        return "×".join(str(v) for v in window)
    return f"{window}" if window is not None else "default-size"


def _replace_with(name: str, class_name: str) -> Fix:
    """The fix that swaps layer ``name`` for ``class_name`` (its settings kept)."""
    return Fix(
        f"Replace with {class_name}",
        {"op": "replace_class", "target": name, "class_name": class_name},
    )


def _rank_fix(layer: dict, who: str, needs: str, need: int, shape: Shape):
    name, cls = layer["name"], layer["class_name"]
    got = describe_values(shape)
    rank = len(shape) + 1
    fixes: list[Fix] = []
    tips: list[str] = []
    if need >= 4 and rank == 2 and shape[0] is not None:
        # Not a square image: any (height, width, 1) holding the n values lets the layer
        # run (too small for its window, it then offers padding 'same').
        target = _square_image(shape[0]) or _factor_pair(shape[0]) + [1]
        tips.append(f"add Reshape to {tuple(target)} before it")
        fixes.append(
            Fix(
                f"Insert Reshape to {tuple(target)} before {name}",
                {
                    "op": "insert_before",
                    "target": name,
                    "layer": {"class_name": "Reshape", "config": {"target_shape": target}},
                },
            )
        )
        tips.append("or use Dense")
    elif need >= 4 and rank == 3:
        if cls in _TWO_D.values() or cls in _ONE_D:
            one_d = _ONE_D.get(cls)
            if one_d:
                tips.append(f"use {one_d}, which works on sequences")
                fixes.append(_replace_with(name, one_d))
        steps, feats = shape
        if steps is not None and feats is not None:
            tips.append(f"or add Reshape to ({steps}, {feats}, 1) before it")
            fixes.append(
                Fix(
                    f"Insert Reshape to ({steps}, {feats}, 1)",
                    {
                        "op": "insert_before",
                        "target": name,
                        "layer": {
                            "class_name": "Reshape",
                            "config": {"target_shape": [steps, feats, 1]},
                        },
                    },
                )
            )
    elif need == 3 and rank == 2:
        n = shape[0]
        if n is not None:
            tips.append(f"add Reshape to ({n}, 1) before it to read the {n} values as steps")
            fixes.append(
                Fix(
                    f"Insert Reshape to ({n}, 1) before {name}",
                    {
                        "op": "insert_before",
                        "target": name,
                        "layer": {"class_name": "Reshape", "config": {"target_shape": [n, 1]}},
                    },
                )
            )
        tips.append("or feed token ids through an Embedding layer first")
    elif need == 3 and rank == 4:
        two_d = _TWO_D.get(cls)
        if two_d:
            tips.append(f"use {two_d}, which works on images")
            fixes.append(_replace_with(name, two_d))
        h, w, c = shape
        if None not in (h, w, c):
            tips.append(f"or add Reshape to ({h}, {w * c}) before it to read rows as steps")
            fixes.append(
                Fix(
                    f"Insert Reshape to ({h}, {w * c})",
                    {
                        "op": "insert_before",
                        "target": name,
                        "layer": {"class_name": "Reshape", "config": {"target_shape": [h, w * c]}},
                    },
                )
            )
    elif need == 2 and rank > 2:
        tips.append("add Flatten before it")
        fixes.append(insert_flatten(name))
    elif rank > need:
        tips.append("add Flatten or a global pooling layer before it")
        fixes.append(insert_flatten(name))
    if not tips:
        tips.append("change the layers before it so they produce that shape")
    return f"{who} needs {needs} but receives {got}: {', '.join(tips)}.", fixes
