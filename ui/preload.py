"""Keras for the server process, imported in a background thread from the first script run.

TensorFlow's import takes seconds; the first page must not wait for it. ``start()`` (called
at the top of app.py on every run, acting once per process) starts a thread that imports
Keras and ``builder.checker``. A page draws what it can without Keras (``ready()`` says
whether it is there) and ends with ``await_keras()``, which reruns it once the import is
done; code that needs Keras at once calls ``wait()``.

Two things keep the import out of the first paint's way:

- The thread waits until the first page is on screen (``painted``: the browser's first
  call to ``await_keras``'s fragment, or the end of a page that shows no shapes; at most
  ``HOLD_S``). The import and the first paint would otherwise compete: for the one
  interpreter lock (TensorFlow's native library load holds it for most of a second in one
  piece, while the server still sends the page and the browser's scripts), and for the
  CPU the browser needs to draw.
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

import streamlit as st

# Keras' optional dependencies this process does not need (see the module docstring).
SKIPPED = ("scipy", "pandas", "pyarrow", "IPython", "sklearn")
HOLD_S = 5.0  # the longest the import waits for the first paint

_lock = threading.Lock()
_painted = threading.Event()
_done = threading.Event()
_thread: threading.Thread | None = None
_error: BaseException | None = None
# perf_counter seconds at "start", "import_begin", "import_end"; "import_cpu": the
# import thread's own CPU seconds (for profiling the start-up).
timings: dict[str, float] = {}


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
    cpu = time.thread_time()
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
        timings["import_cpu"] = time.thread_time() - cpu
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


def was_painted() -> bool:
    """A page of this server has been on screen (or the import no longer waits for one)."""
    return _painted.is_set()


def ready() -> bool:
    """Keras and ``builder.checker`` are imported and finished initialising."""
    return (_done.is_set() and _error is None) or _modules_ready()


def _modules_ready() -> bool:
    from builder import paths

    return paths.module_ready("keras") and paths.module_ready("builder.checker")


_ASKED = "_preload_asked"  # calls of the waiting fragment since the page drew without Keras
_CALLED = "_preload_called"  # this run's page called await_keras


def await_keras(first_paint: bool = False) -> None:
    """End of a page drawn without Keras: rerun it, with shapes, once Keras is there.

    Draws a fragment that the browser calls once it has the page (0.25 s later; 1 s after
    a ``first_paint``, whose cards usually say sooner that they are on screen: the stack
    editor's "painted" action calls ``painted()``). That call takes the page as on screen,
    so the import (held until then) goes ahead; the call waits for it and reruns the page.
    Only one call waits: polling meanwhile would slow the import several times over (each
    poll is a script run competing for the interpreter lock). A later full run of the page
    waits the same way, after drawing.
    """
    st.session_state[_CALLED] = True
    (_waiting_fragment_slow if first_paint else _waiting_fragment)()


def _wait_and_rerun() -> None:
    asked = st.session_state.get(_ASKED, 0)
    st.session_state[_ASKED] = asked + 1
    if not asked and _thread is not None:  # the page's first draw: not in the browser yet
        return
    start()  # a page run on its own (not through app.py) has not started the import
    painted()
    if not wait():
        importlib.import_module("builder.checker")  # raises what went wrong, on the page
    st.session_state.pop(_ASKED, None)
    st.rerun()


@st.fragment(run_every=0.25)
def _waiting_fragment() -> None:
    _wait_and_rerun()


@st.fragment(run_every=1.0)
def _waiting_fragment_slow() -> None:
    _wait_and_rerun()


def awaited() -> bool:
    """At the end of a run (app.py): whether the page called ``await_keras``. When it did
    not, an earlier page's waiting is forgotten."""
    if st.session_state.pop(_CALLED, False):
        return True
    st.session_state.pop(_ASKED, None)
    return False


def wait(timeout: float | None = None) -> bool:
    """Let the import go ahead (``painted``), then block until it has finished. True when
    Keras is usable; False when it failed (the caller's own import then raises the
    error) or ``timeout`` passed."""
    painted()
    if _thread is None:
        return _modules_ready()
    _done.wait(timeout)
    return ready()
