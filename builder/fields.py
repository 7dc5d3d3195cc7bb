"""One vocabulary for the value of a setting, whoever owns the setting.

Layer parameters (``catalogue.json``), compile and fit settings (``settings.json``) and
dataset options (``data/registry.py``) describe their values with the same spec keys:
``type`` (bool, str, choice, int, float, ...), ``choices``, ``min`` and ``max`` (inclusive
unless ``min_exclusive`` / ``max_exclusive`` is true), ``default``. This module holds what
they share: whether a number is within bounds and how the bounds read, how a value is
quoted in a message, and the "did you mean" suggestion. Nothing here imports a framework.

>>> in_bounds({"min": 0, "max": 1, "max_exclusive": True}, 1)
False
>>> bounds_words({"min": 0, "max": 1, "max_exclusive": True})
'at least 0 and below 1'
>>> did_you_mean("relu6x", ["relu", "relu6", "selu"])
" Did you mean 'relu6'?"
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable
from typing import Any

from builder.values import is_int, is_number

# A suggestion is not worth a quadratic cost: no "did you mean" among more names than this.
MAX_SUGGESTION_OPTIONS = 500
SHORT_LIMIT = 80


def cut(text: str, limit: int = SHORT_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary where one is near,
    with "..." where it was cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 3]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head + "..."


def short(value: Any, limit: int = SHORT_LIMIT) -> str:
    """``value`` as JSON for a message (``repr`` where JSON cannot say it), cut to ``limit``."""
    try:
        text = json.dumps(value, allow_nan=True, default=str)
    except (ValueError, RecursionError, TypeError):
        text = repr(value)
    return cut(text, limit)


def closest(word: Any, options: Iterable[Any], cutoff: float = 0.6) -> str | None:
    """The option closest to ``word`` (difflib), or None; None among very many options.
    Remembered for the last few thousand questions: a file that repeats one bad name
    100,000 times asks difflib once."""
    names = tuple(str(o) for o in options)
    if len(names) > MAX_SUGGESTION_OPTIONS:
        return None
    text = str(word)
    if len(text) > 200:  # not kept by the cache: a file's megabyte of text stays the file's
        return _closest.__wrapped__(text, names, cutoff)
    return _closest(text, names, cutoff)


@functools.lru_cache(maxsize=4096)
def _closest(word: str, names: tuple[str, ...], cutoff: float) -> str | None:
    match = difflib.get_close_matches(word, names, n=1, cutoff=cutoff)
    return match[0] if match else None


def did_you_mean(word: Any, options: Iterable[Any]) -> str:
    """`` Did you mean 'x'?`` for the closest option, else an empty string."""
    match = closest(word, options)
    return f" Did you mean '{match}'?" if match else ""


def in_bounds(spec: dict[str, Any], value: float) -> bool:
    """Whether the number ``value`` is within the spec's ``min``/``max``."""
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and (value <= lo if spec.get("min_exclusive") else value < lo):
        return False
    return not (hi is not None and (value >= hi if spec.get("max_exclusive") else value > hi))


def _number(x: Any) -> str:
    return f"{x:,}" if is_int(x) else f"{x:g}"


def bounds_words(spec: dict[str, Any]) -> str:
    """The spec's limits in words: ``from 1 to 10``, ``above 0 and at most 1``, ``at least
    0``; an empty string when it has none."""
    lo, hi = spec.get("min"), spec.get("max")
    low = None if lo is None else ("above " if spec.get("min_exclusive") else "at least ")
    high = None if hi is None else ("below " if spec.get("max_exclusive") else "at most ")
    if low == "at least " and high == "at most ":
        return f"from {_number(lo)} to {_number(hi)}"
    words = [w + _number(x) for w, x in ((low, lo), (high, hi)) if w is not None]
    return " and ".join(words)


def check_value(spec: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` does not fit a scalar spec (bool, str, choice, int, float), as the end
    of a sentence that names the setting, or None when it fits."""
    kind = spec["type"]
    if value is None and spec.get("nullable"):
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, got {short(value)}."
    if kind == "str":
        return None if isinstance(value, str) else f"must be text, got {short(value)}."
    if kind == "choice":
        if any(value == c and type(value) is type(c) for c in spec["choices"]):
            return None
        return (
            f"must be one of {', '.join(map(str, spec['choices']))}, got "
            f"{short(value)}.{did_you_mean(value, spec['choices'])}"
        )
    if kind == "int" and not is_int(value):
        bounds = bounds_words(spec)
        return f"must be a whole number{' ' + bounds if bounds else ''}, got {short(value)}."
    if kind == "float" and not is_number(value):
        return f"must be a number, got {short(value)}."
    if kind in ("int", "float") and not in_bounds(spec, value):
        example = f" (e.g. {short(spec['default'])})" if spec.get("default") is not None else ""
        return f"must be {bounds_words(spec)}, got {short(value)}{example}."
    return None
