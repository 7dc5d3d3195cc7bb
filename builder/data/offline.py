"""Where Keras keeps downloaded datasets, what is there, and what to say when it is not.

Keras downloads a dataset file the first time ``load_data`` runs and reads it from
``$KERAS_HOME/datasets`` afterwards. Offline, a missing file would end in a urllib
traceback (or a long wait), and a cached file of the wrong size would be deleted when the
re-download fails; so the files are checked here first and a missing one becomes a
``DataError`` that names the file, its size, where to get it and the folder to put it in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from builder.data.errors import DataError
from builder.data.registry import DATASETS

__all__ = [
    "BUNDLED",
    "Availability",
    "availability",
    "cache_status",
    "ensure_files",
    "keras_cache_dir",
    "offline_message",
    "origin_reachable",
    "place_bundled",
]

# Files shipped with netbuilder, byte-identical to Keras' downloads (the sha256 Keras' own
# loader checks, keras/src/datasets/<name>.py): placed into Keras' cache when missing, so
# the book's example trains on a machine that has never been online.
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED = {"boston_housing.npz": "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"}


def keras_cache_dir() -> Path:
    """The folder ``keras.datasets`` reads from and downloads to: ``$KERAS_HOME/datasets``.

    Once Keras is imported it has fixed its home; before that, this follows the same rule
    (KERAS_HOME, else ~/.keras, else /tmp/.keras when the home folder is read-only).
    """
    from builder.paths import module_ready

    if module_ready("keras"):
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def place_bundled(name: str) -> list[Path]:
    """Copy ``name``'s shipped files into Keras' cache where they are missing; the paths
    placed. A shipped file whose hash is not Keras' is never placed (Keras would delete it
    and try to download); a cache folder that cannot be written leaves things as they were.
    """
    spec = DATASETS.get(name)
    placed = []
    for entry in spec.files if spec else ():
        expected = BUNDLED.get(entry["save_as"])
        source = BUNDLED_DIR / entry["save_as"]
        target = keras_cache_dir() / entry["save_as"]
        if expected is None or target.exists() or not source.is_file():
            continue
        if _sha256(source) != expected:
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
            placed.append(target)
        except OSError:
            continue
    return placed


def cache_status(name: str, roles: tuple[str, ...] = ("data", "word_index")) -> list[dict]:
    """The dataset's files with ``path`` (where Keras looks), ``present`` and ``size_ok``
    (shipped files are placed there first)."""
    place_bundled(name)
    folder = keras_cache_dir()
    status = []
    for entry in DATASETS[name].files:
        if entry["role"] not in roles:
            continue
        path = folder / entry["save_as"]
        present = path.is_file()
        status.append(
            {
                **entry,
                "path": str(path),
                "present": present,
                "size_ok": present and path.stat().st_size == entry["bytes"],
            }
        )
    return status


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def offline_message(name: str, files: list[dict], reason: str = "") -> str:
    """What to download and where to put it, for ``files`` from ``cache_status``."""
    spec = DATASETS[name]
    folder = keras_cache_dir()
    listed = "; ".join(
        f"{entry['name']} ({_size(entry['bytes'])}, {entry['bytes']:,} bytes) from "
        f"{entry['url']} and save it as {folder / entry['save_as']}"
        for entry in files
    )
    why = reason or "this app does not download by itself"
    names = " and ".join(entry["name"] for entry in files)
    return (
        f"{spec.label} needs {names}, not found in Keras' dataset folder {folder} "
        f"({why}). Download {listed}; then try again. Or set KERAS_HOME to a folder "
        f"whose datasets/ subfolder holds the file, or pick an offline dataset such as "
        f"digits."
    )


def origin_reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_files(
    name: str, allow_download: bool = False, roles: tuple[str, ...] = ("data",)
) -> None:
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
        raise DataError(
            f"{entry['path']} has {have:,} bytes but {entry['name']} has "
            f"{entry['bytes']:,}: it is incomplete or a different file. Delete it "
            f"and save a fresh copy from {entry['url']} there."
        )
    missing = [entry for entry in status if not entry["present"]]
    if not missing:
        return
    if not allow_download:
        raise DataError(offline_message(name, missing))
    unreachable = [entry for entry in missing if not origin_reachable(entry["url"])]
    if unreachable:
        host = urllib.parse.urlsplit(unreachable[0]["url"]).hostname
        raise DataError(offline_message(name, missing, f"there is no connection to {host}"))


@dataclass(frozen=True)
class Availability:
    """Whether a dataset can be used now, and the one sentence that says so.

    ``ready``: nothing to fetch (an offline dataset, or every Keras file cached with its
    published size). ``downloads``: files are missing but their server answers, so the
    first load (samples on Data, or Train) downloads them. Otherwise the data cannot be
    used until the user places the files: ``message`` says which, from where, and where to.
    """

    ready: bool
    downloads: bool
    message: str
    missing: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return self.ready or self.downloads


def availability(
    name: str,
    reachable: Callable[[str], bool] = origin_reachable,
    roles: tuple[str, ...] = ("data",),
) -> Availability:
    """Can ``name``'s data be loaded now? Looks at Keras' cache (and, for missing files,
    whether their server answers); reads nothing else. Unknown names count as ready (the
    data settings' own check reports them)."""
    spec = DATASETS.get(name)
    if spec is None or spec.source != "keras":
        return Availability(True, False, "")
    try:
        ensure_files(name, allow_download=False, roles=roles)
        return Availability(True, False, "")
    except DataError as err:
        status = cache_status(name, roles)
        missing = tuple(entry["name"] for entry in status if not entry["present"])
        broken = [entry for entry in status if entry["present"] and not entry["size_ok"]]
        if broken or not missing:
            return Availability(False, False, str(err), missing)
    files = [entry for entry in status if not entry["present"]]
    unreachable = [entry for entry in files if not reachable(entry["url"])]
    if unreachable:
        host = urllib.parse.urlsplit(unreachable[0]["url"]).hostname
        return Availability(
            False, False, offline_message(name, files, f"there is no connection to {host}"), missing
        )
    listed = " and ".join(f"{entry['name']} ({_size(entry['bytes'])})" for entry in files)
    return Availability(
        False,
        True,
        f"{spec.label} needs {listed}, not yet in Keras' dataset "
        f"folder {keras_cache_dir()}: it is downloaded the first time the data "
        "is loaded (Train, or samples on Data).",
        missing,
    )
