"""Exports that travel: a CSV project's script and notebook zipped with the CSV they read.

The script reads its CSV by file name, from the folder it runs in or its own folder
(``export_data._CSV_FIND``), so the zip holds one folder: the script, the notebook and the CSV
side by side, and a README saying how to run it. The CSV is the very file the app trains
on (its uploads folder copy), written into the zip from disk.
"""

from __future__ import annotations

import io
import zipfile

from builder.project import ProjectError


def csv_zip(project: dict, stem: str) -> bytes:
    """The zip (bytes) of ``<stem>/<stem>.py``, ``<stem>/<stem>.ipynb`` and the CSV under
    the name the script reads. ProjectError for a project whose data is not a CSV (or a
    model export refuses); DataError (a ProjectError) when the CSV cannot be read."""
    from builder import export
    from builder.data import csv_data, encoding

    data = project.get("data") or {}
    if data.get("dataset") != "csv" or data.get("chosen") is False:
        raise ProjectError("only a project trained on a CSV file is exported with its data.")
    name = encoding.fit(project).file_name
    path = csv_data.resolve_path(data["options"]["path"])
    script, notebook = export.to_script(project), export.to_notebook(project)
    readme = (
        f"{project.get('name') or stem}: exported from netbuilder.\n\n"
        f"{stem}.py trains the network on {name} (this folder) exactly as the app did:\n\n"
        f"    python {stem}.py            # the project's epochs\n"
        f"    python {stem}.py --smoke    # one quick epoch on a few samples\n\n"
        f"{stem}.ipynb is the same as a notebook. Keep {name} next to them, or set CSV_FILE.\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}/{stem}.py", script)
        archive.writestr(f"{stem}/{stem}.ipynb", notebook)
        archive.writestr(f"{stem}/README.txt", readme)
        archive.write(path, f"{stem}/{name}")
    return buffer.getvalue()
