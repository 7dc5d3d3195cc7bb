"""The template gallery: project files in ``templates/`` (the book's networks and more).

Templates are ordinary project files, validated like any file a user opens.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from builder.project import load_project_file

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT = "offline_default"


@cache
def _ids() -> tuple[str, ...]:
    return tuple(path.stem for path in sorted(TEMPLATE_DIR.glob("*.json")))


@cache
def _template(name: str) -> dict:
    """One template, read and validated the first time it is asked for (the app's first
    page needs only the default one, so it does not wait for the other files)."""
    if name not in _ids():
        raise KeyError(f"no template '{name}'; known: {', '.join(names())}")
    return load_project_file(TEMPLATE_DIR / f"{name}.json")


def names() -> list[str]:
    """Template ids, the offline default first."""
    return sorted(_ids(), key=lambda n: (n != DEFAULT, n))


def load(name: str) -> dict:
    """A fresh copy of a template's project (KeyError names the known ones)."""
    import copy

    return copy.deepcopy(_template(name))


def describe(name: str) -> tuple[str, str]:
    project = _template(name)
    return project.get("name", name), project.get("description", "")


def dataset(name: str) -> str | None:
    """The dataset a template trains on (``data.dataset``)."""
    return (_template(name).get("data") or {}).get("dataset")
