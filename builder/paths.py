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


def _folder(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_root() -> Path:
    return _folder("runs")


def autosave_dir() -> Path:
    return _folder("autosave")


def uploads_dir() -> Path:
    return _folder("uploads")


def trash_dir() -> Path:
    """Deleted projects, kept for ``recent.UNDO_WINDOW_S`` so a delete can be undone."""
    return _folder("trash")


def module_ready(name: str) -> bool:
    """Whether module ``name`` is imported *and* finished initialising. The app imports
    Keras in a background thread while the first page paints; until that is done, code
    that only wants to use Keras if it is there must not touch it (an import would wait)."""
    import sys

    module = sys.modules.get(name)
    if module is None:
        return False
    return not getattr(getattr(module, "__spec__", None), "_initializing", False)
