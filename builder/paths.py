"""Where netbuilder keeps what it writes: runs, autosaved projects, uploaded CSVs.

Everything lives under one folder, ``$NETBUILDER_HOME`` or ``~/.netbuilder``. Keras keeps
its own dataset cache in ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``).
"""
from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    root = Path(os.environ.get("NETBUILDER_HOME") or Path.home() / ".netbuilder")
    root.mkdir(parents=True, exist_ok=True)
    return root


def runs_root() -> Path:
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def autosave_dir() -> Path:
    path = home() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploads_dir() -> Path:
    path = home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path
