"""What crosses the process boundary of a training run: worker options and progress events.

The app (``engine``) starts a worker (``worker.process_main``, or ``worker.warm_main``
and then a job) with ``WorkerOptions``; the worker puts ``Event``s on a queue (``emit``)
and ``engine.RunHandle`` reads them. The command line's progress bar, packed sweeps and
Ray trials read the same events in-process. Both sides name these types, so mypy checks
the writer against its readers; the values stay plain dicts (picklable, no class to
import in the reader's process).

Counting: ``fold``, ``epoch`` and ``batch`` count from 1; ``fold``/``folds`` are ``None``
outside K-fold, and ``fold`` is ``None`` with ``folds`` = k for the batches of parallel
folds, which advance all folds at once. ``time`` is ``time.time()``.
"""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (with string ones every key would count as required at run time).
from collections.abc import Callable
from typing import Literal, NotRequired, TypedDict


class WorkerOptions(TypedDict, total=False):
    """How a worker runs its job (every key optional: ``process_main`` has defaults).

    ``device``: a ``devices`` choice (auto, cpu, gpu, gpu:0,1), applied through the
    environment before TensorFlow's import; ``server_pid`` / ``server_token``: the app
    process the worker is tied to (``lifecycle.guard``); ``guarded``: the warm worker has
    tied itself already; ``resume``: continue the run from its checkpoint.
    """

    device: str
    mixed_precision: bool
    parallel_folds: bool
    allow_download: bool
    resume: bool
    server_pid: int
    server_token: str | None
    guarded: bool


class StatusEvent(TypedDict):
    """A step of the run in words ("preparing data", "training", "testing", a note).
    Data loading adds ``fraction`` (0-1)."""

    type: Literal["status"]
    state: Literal["running"]
    message: str
    time: float
    fraction: NotRequired[float]


class BatchEvent(TypedDict):
    """Progress within an epoch, at most ~5 a second (``worker.BATCH_EVENT_INTERVAL_S``);
    ``batches`` is None when Keras does not know the steps; ``logs`` holds the loss."""

    type: Literal["batch"]
    fold: int | None
    folds: int | None
    epoch: int
    epochs: int
    batch: int
    batches: int | None
    logs: dict[str, float]
    time: float


class EpochEvent(TypedDict):
    """A finished epoch: Keras' logs under Keras' names (loss, accuracy, val_loss, ...,
    learning_rate) and how long it took in seconds."""

    type: Literal["epoch"]
    fold: int | None
    folds: int | None
    epoch: int
    epochs: int
    logs: dict[str, float]
    seconds: float
    time: float


class SummaryEvent(TypedDict):
    """The last event: how the run ended (``state`` finished, stopped or failed, with a
    plain message), its folder, epochs done (None when the worker died without saying),
    the history, test scores and mean K-fold scores (None outside K-fold)."""

    type: Literal["summary"]
    state: str
    message: str
    run_id: str
    path: str
    epochs: int | None
    history: dict[str, list[float]]
    test: dict[str, float]
    kfold: dict[str, float] | None
    device: str | None
    time: float


Event = StatusEvent | BatchEvent | EpochEvent | SummaryEvent
Emit = Callable[[Event], None]
