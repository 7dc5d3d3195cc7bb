"""Keras for the server process, imported in a background thread from the first script run.

TensorFlow's import takes seconds; the first page must not wait for it. ``start()`` (called
at the top of app.py on every run, acting once per process) starts a thread that imports
Keras and ``builder.checker``. Pages draw what they can without Keras, say so with
``painted()``, and fill in shapes once ``ready()``; a page that needs Keras now calls
``wait()``.

Two things keep the import out of the first paint's way:

- The thread waits until the first page says it has painted (at most ``HOLD_S``). Both
  run Python under one interpreter lock: started together, the import would take half of
  the paint's time slices, and TensorFlow's native library load holds the lock for most of
  a second in one piece.
- It leaves out the optional integrations that ``import tensorflow`` pulls in and that
  this process never uses (``SKIPPED``: scipy for TF's legacy Keras, pandas and pyarrow
  for fitting on DataFrames, IPython for notebook display, scikit-learn for Keras'
  wrappers): about a third of the import's CPU time. Keras treats each as absent (it
  imports them in ``try``/``except ImportError``), in this process only and for Keras'
  own optional features only; the app imports pandas or scikit-learn itself where it
  needs them, and training runs in spawned processes with a full import.

Shapes still come from Keras: nothing here changes what Keras computes.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time

# Keras' optional dependencies this process does not need (see the module docstring).
SKIPPED = ("scipy", "pandas", "pyarrow", "IPython", "sklearn")
HOLD_S = 2.0  # the longest the import waits for the first paint

_lock = threading.Lock()
_painted = threading.Event()
_done = threading.Event()
_thread: threading.Thread | None = None
_error: BaseException | None = None
timings: dict[str, float] = {}  # seconds (perf_counter) at: start, import_begin, import_end


class _SkipOptional:
    """A meta path finder that answers "not installed" for ``SKIPPED`` packages, to the
    preload thread only and only while it imports Keras."""

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id

    def find_spec(self, name, path=None, target=None):
        if threading.get_ident() == self.thread_id and name.partition(".")[0] in SKIPPED:
            raise ModuleNotFoundError(f"No module named {name!r} (skipped at start-up)", name=name)
        return None


def _import() -> None:
    global _error
    _painted.wait(HOLD_S)
    timings["import_begin"] = time.perf_counter()
    finder = _SkipOptional(threading.get_ident())
    try:
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("keras")
        finally:
            sys.meta_path.remove(finder)
        importlib.import_module("builder.checker")
    except BaseException as err:  # the page's own import will say what is wrong
        _error = err
    finally:
        timings["import_end"] = time.perf_counter()
        _done.set()


def start() -> None:
    """Start the background import, once per process (later calls do nothing). Nothing
    is started when Keras is imported already (tests, the CLI)."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        timings["start"] = time.perf_counter()
        if "keras" in sys.modules:
            _painted.set()
            _done.set()
            _thread = threading.current_thread()
            return
        _thread = threading.Thread(target=_import, name="netbuilder-keras-import", daemon=True)
        _thread.start()


def painted() -> None:
    """The first page's main content is drawn: the import may go ahead at full speed."""
    _painted.set()


def ready() -> bool:
    """Keras and ``builder.checker`` are imported and finished initialising."""
    return _done.is_set() and _error is None or _modules_ready()


def _modules_ready() -> bool:
    from builder import paths

    return paths.module_ready("keras") and paths.module_ready("builder.checker")


_RERUN_KEY = "_preload_rerun"


def rerun_when_ready() -> None:
    """A page drew without Keras: when this run is over (app.py, after the sidebar), wait
    for the import and rerun, so the page comes back with shapes."""
    import streamlit as st

    st.session_state[_RERUN_KEY] = True


def rerun_requested() -> bool:
    """Whether this run's page asked for ``rerun_when_ready`` (and forget it)."""
    import streamlit as st

    return bool(st.session_state.pop(_RERUN_KEY, False))


def wait(timeout: float | None = None) -> bool:
    """Let the import go ahead (``painted``), then block until it has finished. True when
    Keras is usable; False when it failed (the caller's own import then raises the
    error) or ``timeout`` passed."""
    painted()
    if _thread is None:
        return _modules_ready()
    _done.wait(timeout)
    return ready()
