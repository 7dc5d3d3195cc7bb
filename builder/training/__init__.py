"""Training engine: worker process, progress events, run folders, K-fold, devices.

Importing this package does not import TensorFlow; the worker process does.
"""

from .engine import RunHandle, RunManager, resume_run, start_run
from .runs import RunError, delete_run, list_runs, load_run

__all__ = [
    "RunError",
    "RunHandle",
    "RunManager",
    "delete_run",
    "list_runs",
    "load_run",
    "resume_run",
    "start_run",
]
