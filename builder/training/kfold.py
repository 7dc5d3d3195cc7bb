"""K-fold validation: fold splits, averaged curves, and "parallel folds".

Parallel folds train the k fold models as one Keras model: the project's network is built
k times and the copies are placed side by side in a functional wrapper with k inputs and k
outputs (``fold_1`` ... ``fold_k``). Copy i only ever sees fold i's data. The copies share
no weights, so the gradient of the summed loss with respect to copy i's weights is the
gradient of copy i's own loss: one optimizer step updates each copy exactly as a separate
``fit`` step would (Adam/RMSprop keep per-weight state, so their statistics stay per copy).
Each step feeds ``batch_size`` samples to every copy, so the batch size keeps its meaning.
On small networks most of the time of a step is fixed per-step cost, so one step for all
k copies costs much less than k steps; with tiny batches the wrapper also runs several
batches per call into TensorFlow (``steps_per_execution``), which removes most of what
is left of that fixed cost. Neither changes the weight updates.

What cannot be shared this way falls back to the sequential loop (``parallel_reason``):
callbacks that watch a monitored value (EarlyStopping, ReduceLROnPlateau: the wrapper only
has the summed loss), optimizers with a global gradient norm, and multi-input or
multi-output networks.

Folds follow the book (``builder.data.splits.kfold_splits``): fold i holds out samples
``[i*(n//k), (i+1)*(n//k))``, so every fold trains on the same number of samples and the
copies take the same number of steps per epoch.
"""

from __future__ import annotations

import re

import numpy as np

EXACT_LOSS = "fold_loss"
_FOLD_KEY = re.compile(r"^(val_)?(?:\d+/)?fold_(\d+)_(.+)$")


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


def build_parallel(build_fn, k: int, project: dict, steps_per_execution: int = 1):
    """Wrapper model with k independent copies of ``build_fn()``; returns (wrapper, copies).

    ``build_fn(fold)`` (fold counts from 1) returns the project's compiled single-input
    single-output model, seeded per fold as the sequential loop seeds it. The wrapper
    takes a list of k inputs and gives a list of k outputs named ``fold_1`` ... ``fold_k``;
    it is compiled with the project's optimizer, and its loss and metrics once per output.
    The copies stay compiled and share their layers (so their weights) with the wrapper:
    after training, ``copies[i]`` is fold i+1's trained model.
    """
    import keras

    from builder.build import optimizer

    copies = [build_fn(fold) for fold in range(1, k + 1)]
    inputs, outputs = [], []
    for i, copy in enumerate(copies, start=1):
        inner = keras.Model(copy.inputs, copy.outputs, name=f"fold_{i}")
        spec = copy.inputs[0]
        inp = keras.Input(shape=spec.shape[1:], dtype=spec.dtype, name=f"fold_{i}_input")
        inputs.append(inp)
        outputs.append(inner(inp))
    wrapper = keras.Model(inputs, outputs, name="parallel_folds")
    comp = project["compile"]
    loss, metrics = comp["loss"], comp["metrics"]  # one output: a name and a list
    # Keras logs per-output losses as a mean over batches (a short last batch counts as
    # much as a full one); a Mean-of-loss metric per output weighs by samples, like the
    # "loss" of a single model. ``split_logs`` renames it back to "loss".
    exact = [
        keras.metrics.MeanMetricWrapper(_per_sample(keras.losses.get(loss)), name=EXACT_LOSS)
        for _ in range(k)
    ]
    wrapper.compile(
        optimizer=optimizer(project),
        loss=[loss] * k,
        metrics=[[exact[i], *metrics] for i in range(k)],
        steps_per_execution=steps_per_execution,
    )
    return wrapper, copies


def _per_sample(loss_fn):
    """``loss_fn`` giving one value per sample when labels are (n,) and outputs (n, 1).

    Compile's own loss lines the two up; a bare loss function would instead average a
    (n,) pair over its last axis into one number per batch (mean squared error) or refuse
    the ranks (binary crossentropy)."""
    import keras

    def per_sample(y_true, y_pred):
        if len(y_true.shape) == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
            y_true = keras.ops.expand_dims(y_true, -1)
        return loss_fn(y_true, y_pred)

    return per_sample


def split_logs(logs: dict, k: int, penalties: list[float] | None = None) -> list[dict]:
    """Per-fold Keras logs from the wrapper's logs, with the names a single model would use.

    ``{"fold_1_fold_loss": .., "fold_1_mae": .., "val_fold_1_mae": .., "loss": total}`` ->
    ``[{"loss": .., "mae": .., "val_mae": ..}, ...]`` (fold 1 first). ``penalties[i]``
    (copy i's weight-regularization loss, e.g. L2) is added to its loss and val_loss, as a
    single model's loss includes it.
    """
    folds: list[dict] = [{} for _ in range(k)]
    for key, value in logs.items():
        m = _FOLD_KEY.match(key)
        if not m or m[3] == "loss":
            continue  # the total, and Keras' batch-averaged per-output losses
        index = int(m[2]) - 1
        if 0 <= index < k:
            name = "loss" if m[3] == EXACT_LOSS else m[3]
            extra = penalties[index] if penalties and name == "loss" else 0.0
            folds[index][(m[1] or "") + name] = value + extra
    return folds


def penalties(copies) -> list[float]:
    """Each copy's weight-regularization loss now (0.0 without regularizers)."""
    import keras

    return [
        float(sum(keras.ops.convert_to_numpy(v) for v in copy.losses)) if copy.losses else 0.0
        for copy in copies
    ]


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
