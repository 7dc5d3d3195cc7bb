"""Opening what a user uploads: a project file, a Keras model JSON or a .keras file."""

from __future__ import annotations

from builder.opener import open_document


def open_upload(name: str, data: bytes) -> tuple[dict, list[str]]:
    """(project, notes) from an uploaded file; ProjectError says why it cannot be used.

    ``builder.opener.open_document`` does the work with every cap applied before parsing;
    a ``.keras`` upload is read from memory (its config.json only, nothing executed or
    unpacked); notes list the settings the project could not keep.
    """
    return open_document(name, data)
