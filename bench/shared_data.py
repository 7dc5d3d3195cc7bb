"""Shared by the benchmarks: the real Keras dataset files from ../shared/datasets (never a
download), and the spread of repeated measurements."""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"


def keras_home_with(filename: str) -> Path | None:
    """A temporary KERAS_HOME holding the real ``filename`` (call before Keras is imported);
    None when ../shared/datasets does not have it."""
    source = SHARED / filename
    if not source.is_file():
        return None
    home = Path(tempfile.mkdtemp(prefix="bench-keras-home-"))
    (home / "datasets").mkdir()
    os.symlink(source, home / "datasets" / filename)
    os.environ["KERAS_HOME"] = str(home)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return home


def spread(values: list[float]) -> dict:
    """min, median and max of repeated measurements (rounded), as the benches print them."""
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }
