"""What the checker says about the text layers (TextVectorization, StringLookup, ...),
where Keras' own words would mislead: a text layer on numbers, and a layer after a
vocabulary-wide output whose width is known only once the vocabulary is learnt.

Pure functions of the project's layer dicts and the shapes the checker found; no Keras.
"""

from __future__ import annotations

from builder import catalogue
from builder.results import Fix

__all__ = ["numbers_into_text_layer", "width_after_adapt"]

# Output modes whose last axis is as wide as the vocabulary (int gives token ids).
_VOCABULARY_WIDE = {"multi_hot", "count", "tf_idf", "one_hot"}
_LOOKUPS = {"TextVectorization", "StringLookup", "IntegerLookup"}


def numbers_into_text_layer(
    layer: dict, dtypes: list[str], sources: list[str], input_names: set
) -> tuple[str, list[Fix]] | None:
    """(message, fixes) when a layer that reads strings (the catalogue's ``input_dtype``
    "string") is given numbers: Keras builds it symbolically but fails on the first batch."""
    cls, name = layer["class_name"], layer["name"]
    entry = catalogue.LAYERS.get(cls) or {}
    if entry.get("input_dtype") != "string" or all(d == "string" for d in dtypes):
        return None
    got = next(d for d in dtypes if d != "string")
    fixes = [
        Fix(
            f"Make input '{src}' take one text per sample",
            {"op": "set_input", "target": src, "shape": [], "dtype": "string"},
        )
        for src in sources
        if src in input_names
    ]
    return (
        f"{cls} '{name}' reads text (strings) but receives {got} numbers. Give it a "
        "string input: on the Data page choose a CSV's text column as Text input (the "
        "model's input then takes one text per row), or set the input's dtype to string.",
        fixes,
    )


def width_after_adapt(layer: dict, producers: list[dict | None]) -> tuple[str, list[Fix]] | None:
    """(message, fixes) when ``layer`` is refused because its input's last axis is unknown
    and that input is a lookup layer's multi_hot/count/tf_idf/one_hot output, as wide as a
    vocabulary learnt only when a run starts (adapt)."""
    for producer in producers:
        if not producer or producer.get("class_name") not in _LOOKUPS:
            continue
        config = producer.get("config") or {}
        mode = config.get("output_mode", "int")
        if (
            mode not in _VOCABULARY_WIDE
            or config.get("pad_to_max_tokens")
            or config.get("vocabulary") is not None
            or config.get("vocabulary_size") is not None
        ):
            continue
        who, src = f"{layer['class_name']} '{layer['name']}'", producer["name"]
        cls = producer["class_name"]
        fixes = []
        if config.get("max_tokens"):
            fixes.append(
                Fix(
                    f"Set pad_to_max_tokens on '{src}'",
                    {"op": "set_config", "target": src, "key": "pad_to_max_tokens", "value": True},
                )
            )
            size = f"vectors of max_tokens={config['max_tokens']} entries"
        else:
            size = "set max_tokens too, e.g. 10000, for vectors of that many entries"
        return (
            f"{who} needs to know how wide its input is, but {cls} '{src}' outputs "
            f"{mode} vectors as wide as the vocabulary it learns when a run starts "
            f"(adapt), unknown while the model is built: set pad_to_max_tokens on "
            f"'{src}' ({size}), or give '{src}' its vocabulary as a list.",
            fixes,
        )
    return None
