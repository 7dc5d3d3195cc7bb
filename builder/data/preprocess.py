"""Turning raw samples into model inputs and labels: numpy only, vectorised, no Keras.

Text arrives from Keras as ragged lists of word ids. They are kept flat (``Ragged``: one
int32 array of every id plus row offsets) so that multi-hot vectors and padded sequences
are built with a few array operations instead of a Python loop per review.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder.data.errors import DataError

__all__ = [
    "INDEX_FROM",
    "OOV_ID",
    "START_ID",
    "MultiHotRows",
    "Ragged",
    "TextCodec",
    "labels_for_loss",
    "loss_family",
    "multi_hot",
    "pad_sequences",
    "standardize",
    "standardize_fit",
]

# Keras' text datasets reserve 0 for padding, 1 for "start of text" and 2 for a word left out
# of the vocabulary; real words start at 3 (``index_from=3``).
START_ID = 1
OOV_ID = 2
INDEX_FROM = 3


@dataclass(frozen=True, eq=False)
class Ragged:
    """Sequences of different lengths stored flat.

    ``values``: (total,) int32, every sequence one after the other; ``offsets``: (n + 1,)
    int64, sequence i is ``values[offsets[i]:offsets[i + 1]]``.
    """

    values: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_sequences(cls, sequences: Ragged | Iterable[Sequence[int]]) -> Ragged:
        """Accepts a Ragged, a list of lists, or Keras' object array of lists."""
        if isinstance(sequences, Ragged):
            return sequences
        sequences = list(sequences)
        lengths = np.fromiter((len(s) for s in sequences), np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = np.fromiter(
            itertools.chain.from_iterable(sequences), np.int32, count=int(offsets[-1])
        )
        return cls(values, offsets)

    @classmethod
    def from_lengths(cls, values: np.ndarray, lengths: np.ndarray) -> Ragged:
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(np.asarray(values, np.int32), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sequence {i} out of range for {n} sequences")
        i %= n
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """(n,) int64 length of every sequence."""
        return np.diff(self.offsets)

    def rows(self, start: int, stop: int) -> Ragged:
        """Sequences ``start`` to ``stop - 1`` as views of this one's arrays (no copy)."""
        start, stop, _ = slice(start, stop).indices(len(self))
        stop = max(stop, start)
        return Ragged(
            self.values[self.offsets[start] : self.offsets[stop]],
            self.offsets[start : stop + 1] - self.offsets[start],
        )

    def take(self, index: np.ndarray) -> Ragged:
        """The sequences at ``index`` (an int array), in that order."""
        index = np.asarray(index, np.int64)
        lengths = self.lengths[index]
        starts = self.offsets[index]
        # Position of every kept value: its sequence's start plus its place within it.
        within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return Ragged.from_lengths(self.values[np.repeat(starts, lengths) + within], lengths)

    def tolist(self) -> list[list[int]]:
        if not len(self):
            return []
        return [seq.tolist() for seq in np.split(self.values, self.offsets[1:-1])]


def _blocks(sequences: Ragged | Sequence[Sequence[int]], chunk_tokens: int):
    """(first row, Ragged) pieces of about ``chunk_tokens`` ids each, without copying a
    Ragged's values and without flattening a whole list of lists at once."""
    if isinstance(sequences, Ragged):
        offsets, n, start = sequences.offsets, len(sequences), 0
        while start < n:
            # The last row whose ids still fit in this piece (always at least one row).
            stop = int(np.searchsorted(offsets, offsets[start] + chunk_tokens, "right")) - 1
            stop = min(max(stop, start + 1), n)
            yield start, sequences.rows(start, stop)
            start = stop
        return
    n = len(sequences)
    step = 1
    start = 0
    while start < n:
        piece = Ragged.from_sequences(sequences[start : start + step])
        yield start, piece
        start += len(piece)
        # Aim the next piece at chunk_tokens ids from the lengths seen so far.
        average = max(len(piece.values) / max(len(piece), 1), 1.0)
        step = max(int(chunk_tokens / average), 1)


def multi_hot(
    sequences: Ragged | Sequence[Sequence[int]],
    num_words: int,
    dtype: Any = np.float32,
    chunk_tokens: int = 1 << 17,
) -> np.ndarray:
    """(n, num_words) array with 1 where a word id occurs in a sequence, 0 elsewhere.

    Ids outside [0, num_words) are ignored (Keras' loaders already map rare words to 2).
    All ones of about ``chunk_tokens`` ids are written by one fancy-index assignment, so
    the temporary index arrays stay near 1 MB and the result array is the only big one.

    >>> multi_hot([[1, 3], [2, 2, 9]], 4)
    array([[0., 1., 0., 1.],
           [0., 0., 1., 0.]], dtype=float32)
    """
    if not isinstance(sequences, (Ragged, list, tuple, np.ndarray)):
        sequences = list(sequences)
    out = np.zeros((len(sequences), num_words), dtype)
    flat = out.reshape(-1)
    for start, piece in _blocks(sequences, chunk_tokens):
        ids = piece.values
        rows = np.repeat(np.arange(start, start + len(piece), dtype=np.int64), piece.lengths)
        if ids.size and (ids.min() < 0 or ids.max() >= num_words):
            keep = (ids >= 0) & (ids < num_words)
            rows, ids = rows[keep], ids[keep]
        flat[rows * num_words + ids] = 1
    return out


class MultiHotRows:
    """An (n, num_words) float32 multi-hot matrix kept as its word ids, encoded where read.

    IMDB's 25,000 reviews as a float32 matrix take 1 GB (the book's float64 one 2 GB); their
    ids take 24 MB. Training feeds the model one encoded batch at a time
    (``builder.training.feed``), so the whole matrix never exists. It behaves like a
    read-only array for what the app needs: ``shape``, ``dtype``, ``len``; ``x[i]`` is one
    dense row; ``x[a:b]`` and ``x[index_array]`` are again MultiHotRows (no encoding);
    ``np.asarray(x)`` encodes everything (``multi_hot``) for code that needs a real array.
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, sequences: Ragged | Iterable[Sequence[int]], num_words: int):
        self.sequences = Ragged.from_sequences(sequences)
        self.num_words = int(num_words)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.sequences), self.num_words)

    @property
    def nbytes(self) -> int:
        """Bytes actually held (the ids), not the size of the dense matrix."""
        return self.sequences.values.nbytes + self.sequences.offsets.nbytes

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, key: Any) -> np.ndarray | MultiHotRows:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return multi_hot([self.sequences[int(key)]], self.num_words)[0]
        unsupported = IndexError(
            "MultiHotRows takes an int, a slice or a 1-D array of row "
            f"numbers, got {key!r}; use np.asarray(x) for other indexing"
        )
        if isinstance(key, tuple):
            raise unsupported
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step == 1:
                return MultiHotRows(self.sequences.rows(start, stop), self.num_words)
            key = np.arange(start, stop, step)
        index = np.asarray(key)
        if index.size == 0:
            index = index.astype(np.int64)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise IndexError(
                    f"a boolean index must have {len(self)} values, got shape {index.shape}"
                )
            index = np.flatnonzero(index)
        if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
            raise unsupported
        if index.size and (index.min() < -len(self) or index.max() >= len(self)):
            raise IndexError(f"row index out of range for {len(self)} rows")
        return MultiHotRows(self.sequences.take(index % max(len(self), 1)), self.num_words)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return multi_hot(self.sequences, self.num_words, dtype or np.float32)

    def __repr__(self) -> str:
        return (
            f"MultiHotRows({len(self):,} rows x {self.num_words:,} words, "
            f"{self.nbytes / 1e6:.1f} MB of ids)"
        )


def pad_sequences(
    sequences: Ragged | Iterable[Sequence[int]],
    maxlen: int,
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
    dtype: Any = np.int32,
) -> np.ndarray:
    """(n, maxlen) ids, the same result as ``keras.utils.pad_sequences`` with these arguments.

    Longer sequences lose their start (``truncating="pre"``) or end ("post"); shorter ones
    get ``value`` before (``padding="pre"``) or after ("post") their ids.
    """
    for name, arg in (("padding", padding), ("truncating", truncating)):
        if arg not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {arg!r}")
    seqs = Ragged.from_sequences(sequences)
    n = len(seqs)
    out = np.full((n, maxlen), value, dtype)
    lengths = seqs.lengths
    kept = np.minimum(lengths, maxlen)
    src_start = seqs.offsets[:-1] + (lengths - kept if truncating == "pre" else 0)
    dst_start = maxlen - kept if padding == "pre" else np.zeros(n, np.int64)
    within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
    rows = np.repeat(np.arange(n), kept)
    source = np.repeat(src_start, kept) + within
    out[rows, np.repeat(dst_start, kept) + within] = seqs.values[source]
    return out


_TOKEN = re.compile(r"[\w']+")


@dataclass
class TextCodec:
    """Word ids <-> words with a Keras word index, in Keras' ``index_from=3`` convention.

    ``word_index`` maps a word to its frequency rank from 1 ("the" is 1 for IMDB); in the
    data that word is ``rank + 3``. Ids at or above ``num_words`` were replaced by 2.
    """

    word_index: Mapping[str, int]
    num_words: int
    _reverse: dict[int, str] | None = field(default=None, repr=False)

    def tokenize(self, text: str) -> list[str]:
        """Lower-case words, the way IMDB and Reuters were split (punctuation dropped)."""
        return _TOKEN.findall(text.lower())

    def encode(self, text: str) -> list[int]:
        """Ids for ``text``: the start id 1, then each word's id, 2 for words out of vocabulary."""
        ids = [START_ID]
        for word in self.tokenize(text):
            rank = self.word_index.get(word)
            if rank is None:
                rank = self.word_index.get(word.strip("'_"))
            word_id = rank + INDEX_FROM if rank is not None else OOV_ID
            ids.append(word_id if word_id < self.num_words else OOV_ID)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The words of a sequence; padding and the start mark are skipped, "?" is a word
        left out of the vocabulary (as the book prints it)."""
        if self._reverse is None:
            self._reverse = {rank + INDEX_FROM: word for word, rank in self.word_index.items()}
        words = []
        for word_id in ids:
            word_id = int(word_id)
            if word_id in (0, START_ID):
                continue
            words.append(self._reverse.get(word_id, "?") if word_id != OOV_ID else "?")
        return " ".join(words)


def standardize_fit(x: np.ndarray, only: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feature-wise mean and standard deviation of (samples, features) training data.

    A feature with the same value everywhere gets std 1, so it becomes 0 instead of NaN.
    ``only`` (a (features,) bool mask) limits normalisation to those features: the others
    get mean 0 and std 1 and pass unchanged (a CSV's one-hot inputs stay 0/1).
    Returns two (features,) float32 arrays. The one normalisation of the app: training
    uses it, and the exported script writes its result as literals for ``standardize``.
    """
    mean = np.asarray(x).mean(axis=0, dtype=np.float64)
    std = np.asarray(x).std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    if only is not None:
        only = np.asarray(only, bool)
        mean = np.where(only, mean, 0.0)
        std = np.where(only, std, 1.0)
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(x, mean, std):
    """(x - mean) / std as float32, with the training split's statistics (from
    ``standardize_fit``). The exported script carries this very function."""
    mean = np.asarray(mean, np.float32)
    std = np.asarray(std, np.float32)
    return ((np.asarray(x, np.float32) - mean) / std).astype(np.float32, copy=False)


def scale_pixels(x, top, shape):
    """Images as float32 in [0, 1] (pixel counts divided by ``top``, 255 for Keras' images),
    each reshaped to ``shape``. The exported script carries this very function."""
    return np.divide(x, top, dtype=np.float32).reshape((len(x),) + tuple(shape))


# --------------------------------------------------------------------------- labels

_BINARY = {"binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge"}
_CATEGORICAL = {
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
}
_SPARSE = {"sparse_categorical_crossentropy"}
_REGRESSION = {
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "mape",
    "mean_absolute_percentage_error",
    "msle",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "logcosh",
    "poisson",
    "cosine_similarity",
}


def loss_family(loss: Any) -> str | None:
    """ "binary", "categorical", "sparse", "regression", or None for no or an unknown loss.

    Accepts Keras' string identifiers and class names ("CategoricalCrossentropy").
    """
    if not isinstance(loss, str):
        return None
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", loss).lower()
    for family, names in (
        ("binary", _BINARY),
        ("categorical", _CATEGORICAL),
        ("sparse", _SPARSE),
        ("regression", _REGRESSION),
    ):
        if name in names:
            return family
    return None


def _one_hot(codes: np.ndarray, num_classes: int) -> np.ndarray:
    out = np.zeros((len(codes), num_classes), np.float32)
    out[np.arange(len(codes)), codes] = 1.0
    return out


def labels_for_loss(
    targets: np.ndarray,
    loss: Any,
    *,
    task: str,
    num_classes: int | None,
    label_encoding: str,
    dataset: str,
) -> tuple[np.ndarray, str, list[str]]:
    """Labels in the form ``loss`` needs: (y, encoding, notes).

    ``targets`` are class numbers for classification, values for regression. ``encoding``
    is "binary" (n,) float32 0/1, "one_hot" (n, classes) float32, "integer" (n,) int32 or
    "value" (n,) float32. When the loss and ``label_encoding`` disagree the loss wins and a
    note says so; a classification loss on a regression dataset raises DataError.
    """
    family = loss_family(loss)
    notes: list[str] = []
    if task == "regression":
        if family not in (None, "regression"):
            raise DataError(
                f"loss {loss!r} is for classification, but {dataset} is a regression (it "
                "predicts a number): use loss 'mse' with metric 'mae' and a last Dense layer "
                "of 1 unit without activation, as the book does for Boston housing."
            )
        if family is None and loss is not None:
            notes.append(f"Unknown loss {loss!r}: the targets are given as plain numbers.")
        return np.asarray(targets, np.float32), "value", notes
    codes = np.asarray(targets).astype(np.int32)
    if family is None:
        if loss is not None:
            notes.append(
                f"Unknown loss {loss!r}: labels are prepared for the dataset's default loss."
            )
        family = {"binary": "binary", "one_hot": "categorical", "integer": "sparse"}.get(
            label_encoding, "categorical"
        )
        if task == "binary":
            family = "binary"
    if task == "binary":
        if family == "categorical":
            notes.append(
                f"{loss} on two classes: labels are one-hot pairs, so the last layer "
                "needs 2 units with softmax (or use binary_crossentropy with 1 "
                "sigmoid unit)."
            )
            return _one_hot(codes, 2), "one_hot", notes
        if family == "sparse":
            notes.append(
                f"{loss} on two classes: labels are 0/1 class numbers, so the last "
                "layer needs 2 units with softmax (or use binary_crossentropy with 1 "
                "sigmoid unit)."
            )
            return codes, "integer", notes
        if family == "regression":
            notes.append(
                f"{loss} on 0/1 labels trains, but binary_crossentropy is the usual "
                "loss for two classes (book section 3.4)."
            )
        return codes.astype(np.float32), "binary", notes
    if family == "sparse":
        if label_encoding == "one_hot":
            notes.append(
                f"label_encoding is 'one_hot' but {loss} needs class numbers: the "
                "labels are integers (set label_encoding to 'integer' to match)."
            )
        return codes, "integer", notes
    if family == "categorical" and label_encoding == "integer":
        notes.append(
            f"label_encoding is 'integer' but {loss} needs one-hot labels: the labels "
            "are one-hot (set label_encoding to 'one_hot', or use "
            "sparse_categorical_crossentropy to keep integers)."
        )
    elif family == "binary":
        notes.append(
            f"{loss} with {num_classes} classes treats each class as its own yes/no "
            "question; for one class per sample use categorical_crossentropy with a "
            "softmax last layer."
        )
    elif family == "regression":
        given = (
            "the class numbers are one-hot encoded for it"
            if label_encoding == "integer"
            else "on one-hot labels"
        )
        notes.append(
            f"{loss} is a regression loss ({given}) and trains poorly on classes; "
            "categorical_crossentropy with a softmax last layer is the usual choice."
        )
    return _one_hot(codes, num_classes), "one_hot", notes
