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
def _index() -> dict[str, dict]:
    return {path.stem: load_project_file(path) for path in sorted(TEMPLATE_DIR.glob("*.json"))}


def names() -> list[str]:
    """Template ids, the offline default first."""
    ids = list(_index())
    return sorted(ids, key=lambda n: (n != DEFAULT, n))


def load(name: str) -> dict:
    """A fresh copy of a template's project (KeyError names the known ones)."""
    import copy

    try:
        return copy.deepcopy(_index()[name])
    except KeyError:
        raise KeyError(f"no template '{name}'; known: {', '.join(names())}") from None


def describe(name: str) -> tuple[str, str]:
    project = _index()[name]
    return project.get("name", name), project.get("description", "")


def dataset(name: str) -> str | None:
    """The dataset a template trains on (``data.dataset``)."""
    return (_index()[name].get("data") or {}).get("dataset")
