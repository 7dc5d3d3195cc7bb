"""Where Keras keeps downloaded datasets, what is there, and what to say when it is not.

Keras downloads a dataset file the first time ``load_data`` runs and reads it from
``$KERAS_HOME/datasets`` afterwards. Offline, a missing file would end in a urllib
traceback (or a long wait), and a cached file of the wrong size would be deleted when the
re-download fails; so the files are checked here first and a missing one becomes a
``DataError`` that names the file, its size, where to get it and the folder to put it in.
"""
from __future__ import annotations

import os
import socket
import sys
import urllib.parse
from pathlib import Path

from builder.data.errors import DataError
from builder.data.registry import DATASETS

__all__ = ["cache_status", "ensure_files", "keras_cache_dir", "offline_message",
           "origin_reachable"]


def keras_cache_dir() -> Path:
    """The folder ``keras.datasets`` reads from and downloads to: ``$KERAS_HOME/datasets``.

    Once Keras is imported it has fixed its home; before that, this follows the same rule
    (KERAS_HOME, else ~/.keras, else /tmp/.keras when the home folder is read-only).
    """
    if "keras" in sys.modules:
        from keras.src.backend.config import keras_home

        base = keras_home()
    elif "KERAS_HOME" in os.environ:
        base = os.environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        base = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    base = os.path.expanduser(base)
    # Keras' get_file falls back to /tmp/.keras when its home exists but is read-only.
    if os.path.isdir(base) and not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return Path(base) / "datasets"


def cache_status(name: str, roles: tuple[str, ...] = ("data", "word_index")) -> list[dict]:
    """The dataset's files with ``path`` (where Keras looks), ``present`` and ``size_ok``."""
    folder = keras_cache_dir()
    status = []
    for entry in DATASETS[name].files:
        if entry["role"] not in roles:
            continue
        path = folder / entry["save_as"]
        present = path.is_file()
        status.append({**entry, "path": str(path), "present": present,
                       "size_ok": present and path.stat().st_size == entry["bytes"]})
    return status


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def offline_message(name: str, files: list[dict], reason: str = "") -> str:
    """What to download and where to put it, for ``files`` from ``cache_status``."""
    spec = DATASETS[name]
    folder = keras_cache_dir()
    listed = "; ".join(
        f"{entry['name']} ({_size(entry['bytes'])}, {entry['bytes']:,} bytes) from "
        f"{entry['url']} and save it as {folder / entry['save_as']}" for entry in files)
    why = reason or "this app does not download by itself"
    names = " and ".join(entry["name"] for entry in files)
    return (f"{spec.label} needs {names}, not found in Keras' dataset folder {folder} "
            f"({why}). Download {listed}; then try again. Or set KERAS_HOME to a folder "
            f"whose datasets/ subfolder holds the file, or pick an offline dataset such as "
            f"digits.")


def origin_reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_files(name: str, allow_download: bool = False,
                 roles: tuple[str, ...] = ("data",)) -> None:
    """Raise DataError unless Keras can load ``name``'s files without trouble.

    Without ``allow_download`` every file must be cached with the published size; with it,
    missing files are fine when their server answers within 2 seconds (Keras then
    downloads them). A cached file of the wrong size is always an error, because Keras
    deletes it when a fresh download fails.
    """
    status = cache_status(name, roles)
    broken = [entry for entry in status if entry["present"] and not entry["size_ok"]]
    if broken:
        entry = broken[0]
        have = Path(entry["path"]).stat().st_size
        raise DataError(f"{entry['path']} has {have:,} bytes but {entry['name']} has "
                        f"{entry['bytes']:,}: it is incomplete or a different file. Delete it "
                        f"and save a fresh copy from {entry['url']} there.")
    missing = [entry for entry in status if not entry["present"]]
    if not missing:
        return
    if not allow_download:
        raise DataError(offline_message(name, missing))
    unreachable = [entry for entry in missing if not origin_reachable(entry["url"])]
    if unreachable:
        host = urllib.parse.urlsplit(unreachable[0]["url"]).hostname
        raise DataError(offline_message(name, missing, f"there is no connection to {host}"))
