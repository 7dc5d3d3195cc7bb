"""Read the model description out of a ``.keras`` file without unpacking anything else.

``read_keras_config(source, name)`` returns the bytes of the archive's ``config.json``
(``source``: a path, or an upload's bytes). The archive's size, its number of entries and
the entry's size and compression ratio are checked from the zip directory before anything
is decompressed, so a zip bomb or a huge file costs nothing; the weights, which a project
does not hold, are never read. Anything that is not a Keras 3 ``.keras`` file is a
ProjectError that says how to make one. ``builder.keras_import`` parses what it returns.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from builder import limits
from builder.project import ProjectError


def _not_keras_file(name: str) -> ProjectError:
    return ProjectError(
        f"{name} is not a Keras 3 .keras file (a zip archive with "
        "config.json). Save the model with model.save('name.keras'); for .h5 "
        "files, load them in Keras and save again as .keras."
    )


def _zip_directory_size(handle) -> tuple[int, int]:
    """(entries, bytes) of a zip file's central directory, read from its end record (or the
    zip64 one) before ``zipfile`` builds an object per entry. ValueError when there is none."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_len = min(size, 65536 + 22)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ValueError("no end record")
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:  # zip64: the counts are in its record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            raise ValueError("no zip64 locator")
        (record_at,) = struct.unpack("<Q", locator[8:16])
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise ValueError("no zip64 end record")
        entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


def read_keras_config(source: str | Path | bytes, name: str = "") -> bytes:
    """The bytes of a ``.keras`` archive's ``config.json`` (``source``: a path, or the
    file's bytes), after checking from the zip directory (never decompressing anything
    else) that the archive and the entry are of a size a model description has.
    ProjectError otherwise."""
    if isinstance(source, bytes):
        name = name or "the file"
        size = len(source)
    else:
        path = Path(source)
        name = name or path.name
        try:
            if path.is_dir():
                raise _not_keras_file(name)
            size = path.stat().st_size
        except FileNotFoundError:
            raise ProjectError(f"{path}: no such file.") from None
        except OSError as err:
            raise ProjectError(f"{path}: cannot be read ({err.strerror or err}).") from None
    if size > limits.MAX_KERAS_FILE_BYTES:
        raise ProjectError(
            f"{name} is {limits.fmt_bytes(size)}; at most "
            f"{limits.fmt_bytes(limits.MAX_KERAS_FILE_BYTES)} is accepted "
            '(README, "Limits and safety").'
        )
    try:
        with (
            io.BytesIO(source) if isinstance(source, bytes) else limits.open_binary(source)
        ) as handle:
            entries, directory = _zip_directory_size(handle)
            if entries > limits.MAX_ZIP_ENTRIES or directory > limits.MAX_ZIP_DIRECTORY_BYTES:
                raise ProjectError(
                    f"{name} lists {entries:,} files; a .keras file has a few "
                    f"(at most {limits.MAX_ZIP_ENTRIES:,} are accepted)."
                )
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                try:
                    info = archive.getinfo("config.json")
                except KeyError:
                    raise _not_keras_file(name) from None
                if info.file_size > limits.MAX_KERAS_JSON_BYTES:
                    raise ProjectError(
                        f"{name}: its config.json is "
                        f"{limits.fmt_bytes(info.file_size)}, too large for a "
                        "model description (at most "
                        f"{limits.fmt_bytes(limits.MAX_KERAS_JSON_BYTES)})."
                    )
                if info.file_size > 1024**2 and info.file_size > limits.MAX_ZIP_RATIO * max(
                    info.compress_size, 1
                ):
                    raise ProjectError(
                        f"{name}: its config.json expands "
                        f"{info.file_size // max(info.compress_size, 1):,} "
                        "times when unpacked; a model description never does "
                        "(is the file damaged or crafted?)."
                    )
                with archive.open(info) as entry:
                    data = entry.read(limits.MAX_KERAS_JSON_BYTES + 1)
    except ProjectError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        EOFError,
        struct.error,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ):
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression
        raise _not_keras_file(name) from None
    except OSError as err:
        raise ProjectError(f"{name}: cannot be read ({err.strerror or err}).") from None
    if len(data) > limits.MAX_KERAS_JSON_BYTES:
        raise ProjectError(f"{name}: its config.json is larger than it says; the file is damaged.")
    return data
