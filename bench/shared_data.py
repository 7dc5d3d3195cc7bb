"""Benchmarks read the real Keras dataset files from ../shared/datasets, never a download."""

from __future__ import annotations

import os
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
