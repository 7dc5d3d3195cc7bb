"""Every cap on what netbuilder reads, in one place (README, "Limits and safety").

Input is bounded before it is parsed: a file's size is checked from the file system (or by
reading one byte past the cap), JSON nesting is measured by a linear scan before
``json.loads`` runs, and the number of layers, inputs and CSV columns is checked before
anything per-layer or per-column is done. A model whose estimated training memory exceeds
what the machine has free is refused before Keras allocates it.

This module holds data and small pure helpers only: no TensorFlow, no project imports.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import BinaryIO

# --- project files (CLI check/export/train, the app's Open, autosave restore)
MAX_PROJECT_BYTES = 5 * 1024**2
# Deeper than any project (top > model > layers > layer > config > wrapped layer > ...)
# or Keras model config needs, and far below Python's recursion limit.
MAX_JSON_DEPTH = 64
MAX_LAYERS = 10_000
# Longest path through the model that Keras is asked to build (train, export): Keras walks
# the graph recursively and a 10,000-layer chain ends in RecursionError after minutes.
# Checking shapes has no such limit. ResNet152 is about 500 deep, DenseNet201 about 700.
MAX_BUILD_DEPTH = 1_000
MAX_INPUTS = 100
# Connections: what one layer reads (Keras' own models read at most a handful: Inception's
# Concatenate 4, NASNet's 6) and all of them together. Keras pays for every connection a
# model is checked or built with (about a millisecond each here), so the total is bounded
# like the layers are: a chain of MAX_LAYERS layers has MAX_LAYERS connections.
MAX_INBOUND = 256
MAX_CONNECTIONS = 2 * MAX_LAYERS
# Layer builds one shape check makes (``checker``): every distinct (layer settings, input
# shapes) is built once by Keras, weighted by its catalogue ``check_cost`` (a Dense layer
# is 1, about 3 ms here; a MultiHeadAttention 5). Past this the check stops building and
# says so, which keeps any check within seconds: 2,000 distinct Dense layers check in about
# 6 s where 10,000 took 30 s (``python bench/bench_caps.py``). DenseNet201, the largest
# keras.applications model by this count, needs about 470 (its repeated blocks are built
# once); the layer count alone cannot bound the time, as one layer type costs 6x another.
MAX_CHECK_BUILDS = 2_000
# One input sample: each dimension and the product of the known ones (float32: 8 GB).
MAX_INPUT_ELEMENTS = 2**31 - 1
# Parameters of one model (float32 weights alone: 4 GB, about 16 GB to train with Adam).
MAX_PARAMS = 1_000_000_000
# Entries of a vocabulary given as a list (TextVectorization, StringLookup, ...): a project
# file is at most MAX_PROJECT_BYTES anyway; this bounds one layer's lookup table.
MAX_VOCABULARY = 1_000_000
# Problems one check reports: past this many it stops, so a file with a million bad entries
# costs no more time, memory or message text than one with fifty.
MAX_PROBLEMS = 50

# --- experiments (the "experiment" section): every listed value is checked on its own
# (type and range against its setting, in time independent of the model's size), so the
# cost of a check is bounded by these counts.
MAX_EXPERIMENT_PARAMETERS = 100
MAX_EXPERIMENT_VALUES = 1_000  # listed values, all parameters together
MAX_GRID = 10_000  # combinations of a grid search
MAX_TRIALS = 10_000


def max_concurrency(requested: int, cpus: int, cpus_per_trial: int | None = None) -> int:
    """Trials run at the same time: what was asked, but no more than the CPUs (this
    machine's cores, or a Ray cluster's CPUs) can give one CPU each (``cpus_per_trial``
    each when set). ``max_concurrency(1024, 2)`` is 2.

    >>> max_concurrency(1024, 2), max_concurrency(4, 16, 8), max_concurrency(3, 1)
    (2, 2, 1)
    """
    return max(1, min(int(requested), int(cpus) // max(1, int(cpus_per_trial or 1))))


# --- files the app reads by itself (run records: run.json, project.json, checkpoint.json,
# experiment.json, history): a project file plus its curves (10,000 epochs x 20 metrics is
# about 4 MB), so the same caps as an upload apply with room to spare.
MAX_RUN_FILE_BYTES = 4 * MAX_PROJECT_BYTES

# --- Keras imports
MAX_KERAS_JSON_BYTES = 20 * 1024**2  # model.to_json() text, and a .keras config.json
MAX_KERAS_FILE_BYTES = 2 * 1024**3  # the .keras archive on disk (weights never read)
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024**2  # the zip's table of contents, read whole by zipfile
# An entry read from a .keras archive (config.json, metadata.json) may expand at most this
# many times its stored size: JSON deflates ~10x; a zip bomb ~1000x.
MAX_ZIP_RATIO = 100

# --- CSV files
MAX_CSV_BYTES = 200 * 1024**2
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 10_000
# The header line is read up to this many bytes (10,000 names of ~100 characters).
MAX_CSV_HEADER_BYTES = 1024**2
# The encoded table (rows x model inputs, float32) once text columns become one 0/1 input per
# value: 250 million values are 1 GB, and encoding holds about three copies at once. It is
# also refused when those copies would not fit in the memory the machine has free.
MAX_CSV_ENCODED_VALUES = 250_000_000

# --- memory guard (training, Keras export)
# Fraction of the machine's available memory a model may be estimated to need.
MEMORY_HEADROOM = 0.8


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` outside strings, in linear time without
    recursion: strings are cut out by one regular expression, then the brackets' running
    sum is taken (in NumPy for large texts: 20 MB in well under a second; in plain Python
    for the usual small ones, so that opening a project does not import NumPy).

    >>> json_depth('{"a": [1, {"b": "[[["}]}')
    3
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if len(brackets) < _SMALL_BRACKETS:
        return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)
    import numpy as np

    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = ((codes == 91) | (codes == 123)).astype(np.int32) - (
        (codes == 93) | (codes == 125)
    ).astype(np.int32)
    return int(np.cumsum(steps).max()) if steps.size else 0


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SMALL_BRACKETS = 200_000


def available_memory() -> int | None:
    """Bytes of memory the machine can give a new allocation now (Linux MemAvailable, or
    psutil where installed); None when it cannot be told."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return int(psutil.virtual_memory().available)
        except Exception:  # a sandbox without /proc: fall back to reading it ourselves
            pass
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if hasattr(os, "sysconf"):
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            pass
    return None


def fmt_bytes(n: float) -> str:
    """1536 -> '1.5 KB' (powers of 1024, one decimal)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    """``open(path, "rb")`` that never waits: a named pipe with no writer would block
    ``open`` forever, so it is opened non-blocking (it then reads as empty), and reads block
    as usual once it is open."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
