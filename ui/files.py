"""Opening what a user uploads: a project file, a Keras model JSON or a .keras file."""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from builder.project import loads


def open_upload(name: str, data: bytes) -> tuple[dict, list[str]]:
    """(project, notes) from an uploaded file; ProjectError says why it cannot be used.

    Keras files are read by ``builder.keras_import`` (safe mode, no code executed); notes
    list the settings the project could not keep.
    """
    if name.lower().endswith(".keras"):
        from builder.keras_import import from_keras_file

        with tempfile.TemporaryDirectory() as tmp:
            # the user's own file name (made safe) so messages name the file they chose
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name)
            path = Path(tmp) / (safe if safe.endswith(".keras") else "upload.keras")
            path.write_bytes(data)
            return from_keras_file(path)
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return loads(data), []  # loads phrases the JSON problem with line and column
    if isinstance(doc, dict) and "format" not in doc and "class_name" in doc:
        from builder.keras_import import from_keras_config

        return from_keras_config(doc)
    return loads(data), []
