"""The examples in the core's docstrings run: every module under builder/ and ui/ whose
docstrings hold ``>>>`` lines is run through ``doctest`` (found by reading the sources, so a
new example is tested without listing it here)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules_with_examples() -> list[str]:
    found = []
    for package in ("builder", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if ">>> " in path.read_text(encoding="utf-8"):
                parts = path.relative_to(ROOT).with_suffix("").parts
                found.append(".".join(p for p in parts if p != "__init__"))
    return found


def test_examples_are_found():
    assert "builder.settings" in _modules_with_examples()


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has '>>> ' in its source but no example doctest runs"
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see above)"
