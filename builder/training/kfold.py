"""K-fold validation: fold splits, averaged curves, and "parallel folds".

Parallel folds train the k fold models as one pack (``builder.training.pack``, the same
code that trains sweep trials side by side): the project's network is built and compiled
k times, each copy with its own optimizer, and the pack feeds copy i only fold i's data
(``fold_1`` ... ``fold_k``). The copies share no weights, so each step updates each copy
exactly as a separate ``fit`` step would, and its loss and metrics are its own (weighted
by samples, regularization included) as a single model logs them. Each step feeds
``batch_size`` samples to every copy, so the batch size keeps its meaning. On small
networks most of the time of a step is fixed per-step cost, so one step for all k copies
costs much less than k steps; with tiny batches the pack also runs several batches per
call into TensorFlow (``steps_per_execution``), which removes most of what is left of that
fixed cost. Neither changes the weight updates.

What cannot be shared this way falls back to the sequential loop (``parallel_reason``):
callbacks that watch a monitored value (EarlyStopping, ReduceLROnPlateau: they watch one
model), loss weights, and multi-input or multi-output networks.

Folds follow the book (``builder.data.splits.kfold_splits``): fold i holds out samples
``[i*(n//k), (i+1)*(n//k))``, so every fold trains on the same number of samples and the
copies take the same number of steps per epoch.
"""

from __future__ import annotations

import numpy as np


def parallel_reason(project: dict) -> str | None:
    """Why this project's folds must train one after the other (a short clause for the
    status line); ``None`` if they can run side by side in one wrapper model."""
    monitored = [
        cb["class_name"]
        for cb in project["fit"]["callbacks"]
        if cb.get("class_name") in ("EarlyStopping", "ReduceLROnPlateau")
    ]
    if monitored:
        return f"{' and '.join(monitored)} watches one model at a time"
    if project["compile"]["loss_weights"]:
        return "loss_weights are set"
    from builder.adapt import pending

    if any(inp.get("dtype") == "string" for inp in project["model"].get("inputs", [])):
        return "a text input"
    if pending(project):
        return "each fold's preprocessing layers adapt to its own training data"
    model = project["model"]
    if len(model.get("inputs", [])) != 1 or len(model.get("outputs", [])) != 1:
        return "a multi-input or multi-output network"
    return None


def steps_per_execution(batch_size: int, steps_per_epoch: int) -> int:
    """Batches per call into TensorFlow for the parallel wrapper.

    With tiny batches (the book's Boston run uses 1) a step is mostly fixed cost: Python,
    callbacks and one function call into TensorFlow per batch. Running 16 batches per call
    removes most of it; the weight updates stay exactly the same. Batch callbacks (Stop,
    progress, NaN check) then run every 16 batches, a few milliseconds at these sizes.
    """
    return 16 if batch_size <= 4 and steps_per_epoch >= 64 else 1


def build_parallel(build_fn, k: int, sample_batch, steps_per_execution: int = 1):
    """A pack of k independent copies of ``build_fn(fold)``; returns (pack, copies).

    ``build_fn(fold)`` (fold counts from 1) returns the project's compiled single-input
    single-output model, seeded per fold as the sequential loop seeds it. The pack takes a
    list of k inputs and k targets (``sample_batch``: one fold's ``(x, y)`` of a few
    samples); after training, ``copies[i]`` is fold i+1's trained model.
    """
    from builder.training import pack

    copies = [build_fn(fold) for fold in range(1, k + 1)]
    batch = ([sample_batch[0]] * k, [sample_batch[1]] * k)
    wrapper = pack.build(
        copies,
        batch,
        shared=False,
        prefix=pack.FOLD_PREFIX,
        steps_per_execution=steps_per_execution,
    )
    return wrapper, copies


def split_logs(logs: dict, k: int) -> list[dict]:
    """Per-fold Keras logs from the pack's logs, with the names a single model would use:
    ``{"fold_1_loss": .., "val_fold_1_mae": .., ...}`` -> ``[{"loss": .., "val_mae": ..}, ...]``."""
    from builder.training import pack

    return pack.split_logs(logs, k, pack.FOLD_PREFIX)


def mean_history(histories: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Per-epoch mean over folds; a fold that stopped early leaves later epochs' means to the
    folds that reached them."""
    names: list[str] = []
    for history in histories:
        names += [n for n in history if n not in names]
    mean: dict[str, list[float]] = {}
    for name in names:
        series = [h[name] for h in histories if name in h]
        length = max((len(s) for s in series), default=0)
        mean[name] = [float(np.mean([s[e] for s in series if e < len(s)])) for e in range(length)]
    return mean


def mean_scores(scores: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over the folds' final validation scores."""
    names = [n for n in scores[0]] if scores else []
    return {n: float(np.mean([s[n] for s in scores if n in s])) for n in names}
