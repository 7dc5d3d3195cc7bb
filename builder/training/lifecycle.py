"""Training workers never outlive the app that started them.

A worker is tied to its parent twice:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` right after the worker starts, so the kernel
  kills it when the thread that started it ends. Every child that sets it (training
  workers, the warm worker, an experiment's runner) is therefore started through
  ``launch``, on one long-lived launcher thread, never from a Streamlit script thread
  (those end after every rerun, and the child would be killed with them).
- Everywhere: a watch thread in the worker checks every ``WATCH_INTERVAL_S`` seconds that the
  parent process is still the same process (pid alive *and* the same start token, so a
  recycled pid does not count); when it is gone, the worker writes ``interrupted`` to
  run.json and exits.

A process is named by its pid plus a start token (``start_token``: the start time from
``/proc/<pid>/stat`` on Linux), so a run folder can tell whether the pid it recorded is
still *its* worker or a stranger that reused the number. This module never imports
TensorFlow.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

WATCH_INTERVAL_S = 0.5
PR_SET_PDEATHSIG = 1

_T = TypeVar("_T")
_LAUNCHER: ThreadPoolExecutor | None = None
_LAUNCHER_LOCK = threading.Lock()


def launch(start: Callable[[], _T]) -> _T:
    """Call ``start`` (which starts a child process) on the one launcher thread and return
    its result. That thread lives until the interpreter exits, so a child's parent-death
    signal fires when the app ends, not when the script run that asked for it does."""
    global _LAUNCHER
    with _LAUNCHER_LOCK:
        if _LAUNCHER is None:
            _LAUNCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netbuilder-launcher")
        launcher = _LAUNCHER
    return launcher.submit(start).result()


def start_token(pid: int) -> str | None:
    """A token that changes when ``pid`` is reused: the process start time in clock ticks
    since boot (Linux), ``None`` where the platform does not tell or the pid is gone."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except (OSError, ValueError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return text[text.rfind(")") + 2 :][:1] in ("Z", "X")


def _windows_alive(pid: int) -> bool:
    # os.kill(pid, 0) would *terminate* the process on Windows: ask for its exit code.
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # type: ignore[attr-defined]  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        return (
            bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259
        )  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def alive(pid, token: str | None = None) -> bool:
    """Whether ``pid`` runs (zombies do not count) and, given ``token``, is the same process."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if os.name == "nt":
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    if _zombie(pid):
        return False
    if token is not None:
        now = start_token(pid)
        if now is not None and now != token:
            return False
    return True


def set_parent_death_signal() -> bool:
    """Linux: ask the kernel to SIGKILL this process when its parent thread ends.

    Returns False where this is not available (other systems): the watch thread covers them.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def guard(
    parent_pid: int, parent_token: str | None, on_orphan=None, interval: float = WATCH_INTERVAL_S
) -> threading.Thread:
    """Tie this process to ``parent_pid``: parent-death signal plus a watch thread.

    ``on_orphan()`` runs once when the parent is found gone (e.g. to write run.json), then
    the process exits with status 1 at once, whatever the main thread is doing. If the
    parent already died before this call, that happens immediately.
    """
    set_parent_death_signal()

    def orphaned():
        try:
            if on_orphan is not None:
                on_orphan()
        finally:
            os._exit(1)

    def watch():
        while True:
            if not alive(parent_pid, parent_token):
                orphaned()
            time.sleep(interval)

    if not alive(parent_pid, parent_token):  # died between spawn and prctl
        orphaned()
    thread = threading.Thread(target=watch, name="netbuilder-parent-watch", daemon=True)
    thread.start()
    return thread


def stop_process(pid: int, token: str | None, grace: float = 3.0) -> bool:
    """End the process ``pid`` if it is still the one named by ``token``: SIGTERM, then
    SIGKILL after ``grace`` seconds. Returns True when it is gone."""
    if not alive(pid, token):
        return True
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid, token):
                return True
            time.sleep(0.05)
    return not alive(pid, token)
