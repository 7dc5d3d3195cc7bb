"""builder.limits.json_depth: the plain-Python path (small texts, no NumPy import) and the
NumPy path (large texts) give the same depth."""

from __future__ import annotations

import json
import random

import pytest

from builder import limits


@pytest.mark.parametrize("seed", range(20))
def test_both_paths_agree_on_random_json(seed, monkeypatch):
    rng = random.Random(seed)

    def value(depth):
        kind = rng.random()
        if depth > 12 or kind < 0.3:
            return rng.choice([1, "[{", 'x]}\\"', None, 2.5])
        if kind < 0.65:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {f"k{i}[": value(depth + 1) for i in range(rng.randint(0, 3))}

    text = json.dumps(value(0))
    small = limits.json_depth(text)
    monkeypatch.setattr(limits, "_SMALL_BRACKETS", 0)
    assert limits.json_depth(text) == small


def test_depth_counts_brackets_outside_strings_only():
    assert limits.json_depth('{"a": [1, {"b": "[[["}]}') == 3
    assert limits.json_depth("") == 0
    assert limits.json_depth(b"[[[]]]") == 3
