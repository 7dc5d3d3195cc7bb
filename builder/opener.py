"""What the app's Open accepts: a project file, a Keras model JSON or a ``.keras`` file.

One entry point, bounded before parsing (``builder.limits``), that raises ProjectError and
nothing else; the app shows its message and keeps the current project.
"""

from __future__ import annotations

from builder import limits
from builder.errors import ProjectError
from builder.keras_import import from_keras_config, from_keras_file
from builder.project import parse_json, validate

__all__ = ["open_document"]


def open_document(name: str, data: bytes) -> tuple[dict, list[str]]:
    """(project, notes) from a file the app's Open accepts: a project file, a Keras model
    JSON (``model.to_json()``) or a ``.keras`` file, by name and bytes. Every cap of
    ``builder.limits`` applies before parsing; ProjectError is the only error raised. Notes
    list the settings a Keras import could not keep."""
    if name.lower().endswith(".keras"):
        return from_keras_file(data, name)
    doc = parse_json(data, "the file", max(limits.MAX_PROJECT_BYTES, limits.MAX_KERAS_JSON_BYTES))
    if isinstance(doc, dict) and "format" not in doc and "class_name" in doc:
        return from_keras_config(doc)
    if len(data) > limits.MAX_PROJECT_BYTES:
        parse_json(data)  # phrases the project file's own cap
    try:
        return validate(doc), []
    except (RecursionError, MemoryError):
        raise ProjectError("the project is too large to check.") from None
