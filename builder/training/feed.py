"""Feeding prepared data to Keras: arrays as they are, multi-hot text one batch at a time.

Every call that hands data to ``fit``, ``evaluate`` or ``predict`` goes through here, so a
``MultiHotRows`` (text kept as word ids) is never turned into its whole dense matrix: it
becomes a ``tf.data`` pipeline that gathers a batch of id lists and encodes it with
``tf.math.bincount(binary_output=True)`` in TensorFlow's own threads while the previous
batch trains. The values the model sees are exactly ``multi_hot``'s (1.0 where a word id
occurs, ids outside the vocabulary ignored). Texts (arrays of strings, a CSV's text column)
take the same path as TensorFlow strings. Anything else (NumPy arrays, dicts and lists of
them) is passed to Keras unchanged, with Keras' own batching and shuffling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from builder.data.preprocess import MultiHotRows
from builder.data.splits import leaves, map_leaves, num_samples, split_point, subset


def is_text(leaf: Any) -> bool:
    """True for an array of texts (NumPy str or object): Keras takes them as TensorFlow
    strings, so they go through ``dataset`` like multi-hot rows."""
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "OUS"


def is_lazy(x: Any) -> bool:
    """True when ``x`` is (or holds) multi-hot rows that are encoded per batch, or texts."""
    return any(isinstance(leaf, MultiHotRows) or is_text(leaf) for leaf in leaves(x))


def materialise(data: Any) -> Any:
    """``data`` with every MultiHotRows encoded into a float32 array (same structure).

    For the few paths that need whole arrays (parallel K-fold folds its copies' inputs
    into one model call); everything else uses ``dataset``."""
    return map_leaves(lambda a: np.asarray(a) if isinstance(a, MultiHotRows) else a, data)


def _tensor_source(x: Any):
    """A function from row numbers (a 1-D int64 tensor) to that batch of ``x`` as a tensor."""
    import tensorflow as tf

    if isinstance(x, MultiHotRows):
        ids = tf.RaggedTensor.from_row_splits(
            tf.constant(x.sequences.values), tf.constant(x.sequences.offsets), validate=False
        )
        width = x.num_words

        def encode(rows):
            dense = tf.math.bincount(
                tf.gather(ids, rows),
                minlength=width,
                maxlength=width,
                binary_output=True,
                axis=-1,
                dtype=tf.float32,
            )
            return tf.ensure_shape(dense, [None, width])

        return encode
    values = tf.constant(x.astype(str) if is_text(x) else np.asarray(x))
    return lambda rows: tf.gather(values, rows)


def _structure_source(data: Any):
    """Like ``_tensor_source`` for an array, dict or list of them (batches keep the shape)."""
    parts = map_leaves(_tensor_source, data)
    return lambda rows: map_leaves(lambda part: part(rows), parts)


def dataset(
    x: Any,
    y: Any = None,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches (``x`` alone when ``y`` is None).

    Batches are encoded in parallel and prefetched. With ``shuffle`` the order changes every
    epoch; the order follows TensorFlow's global seed (``keras.utils.set_random_seed``) and
    ``seed``, so a seeded run repeats. (Keras copies the pipeline into ``fit``, so a resumed
    run cannot draw the orders of the epochs it skips: it repeats its own, not a straight
    run's.) Labels and other inputs are gathered from one constant copy.
    """
    import tensorflow as tf

    n = num_samples(x) if y is None else num_samples(x, y)
    take_x = _structure_source(x)
    take_y = None if y is None else _structure_source(y)
    rows = tf.data.Dataset.range(n)
    if shuffle:
        rows = rows.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def batch(index):
        return take_x(index) if take_y is None else (take_x(index), take_y(index))

    return (
        rows.batch(batch_size)
        .map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def split_last(x: Any, y: Any, fraction: float):
    """Keras' ``validation_split``: the last ``fraction`` of the samples validate, taken
    before any shuffling. Returns ``(x_fit, y_fit), (x_val, y_val)``."""
    n = num_samples(x, y)
    at = split_point(n, fraction)
    fit, val = slice(None, at), slice(at, None)
    return (subset(x, fit), subset(y, fit)), (subset(x, val), subset(y, val))


def fit(
    model,
    x: Any,
    y: Any,
    *,
    batch_size: int,
    shuffle: bool = True,
    validation_data: tuple | None = None,
    validation_split: float | None = None,
    seed: int | None = None,
    **kwargs,
):
    """``model.fit`` on arrays, or on per-batch encoded datasets when ``x`` is lazy.

    ``seed`` fixes the per-batch datasets' shuffling (see ``dataset``)."""
    if not is_lazy(x) and not (validation_data and is_lazy(validation_data[0])):
        extra = {"validation_data": validation_data} if validation_data is not None else {}
        if validation_split:
            extra["validation_split"] = validation_split
        return model.fit(x, y, batch_size=batch_size, shuffle=shuffle, **extra, **kwargs)
    if validation_split:
        (x, y), validation_data = split_last(x, y, validation_split)
    extra = {}
    if validation_data is not None:
        extra["validation_data"] = dataset(*validation_data, batch_size=batch_size)
    # The dataset shuffles itself; Keras' own shuffle would only warn that it cannot.
    data = dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    return model.fit(data, shuffle=False, **extra, **kwargs)


def evaluate(model, x: Any, y: Any, *, batch_size: int, **kwargs):
    """``model.evaluate`` on arrays or on a per-batch encoded dataset."""
    if is_lazy(x):
        return model.evaluate(dataset(x, y, batch_size=batch_size), **kwargs)
    return model.evaluate(x, y, batch_size=batch_size, **kwargs)


def predict(model, x: Any, *, batch_size: int = 256, **kwargs):
    """``model.predict`` on arrays or on a per-batch encoded dataset."""
    if is_lazy(x):
        return model.predict(dataset(x, batch_size=batch_size), **kwargs)
    return model.predict(x, batch_size=batch_size, **kwargs)
