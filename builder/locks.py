"""One writer at a time across processes: an exclusive lock on a folder.

Two servers (or a server and ``python -m builder train``) may share one
``NETBUILDER_HOME``. A read-compare-write of a file in it (the autosave's compare-and-swap,
run.json's read-modify-write) holds the lock of the folder the file lives in, so no other
process writes between the read and the write. The lock is ``flock`` on the folder itself
(no lock files to clean up); it is released when the block ends or the process dies.
Threads of one process hold it one at a time too (each ``locked`` opens its own
descriptor, and ``flock`` locks belong to open descriptors).

Where ``fcntl`` does not exist (Windows), the lock falls back to one lock per process.
This module never imports Streamlit or TensorFlow.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

fcntl: Any
try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None

_FALLBACK = threading.RLock()


@contextmanager
def locked(folder: str | Path) -> Iterator[None]:
    """Hold the exclusive lock of ``folder`` for the block (FileNotFoundError, an OSError,
    when the folder does not exist: a lock never brings back a deleted run folder)."""
    if fcntl is None:  # pragma: no cover
        with _FALLBACK:
            yield
        return
    fd = os.open(Path(folder), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
