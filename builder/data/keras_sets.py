"""The ``keras.datasets`` sets, loaded through a replaceable source per dataset.

``SOURCES`` maps a dataset name to the object that loads its raw arrays. In the app every
entry is a ``KerasSource``, which checks Keras' cache and calls ``keras.datasets.<name>``
itself. Tests (and people who keep a copy of a file elsewhere) swap in a ``NpzTextSource``
that reads an ``.npz`` in Keras' format: a made-up file cannot go into Keras' cache, since
Keras deletes a cached file whose hash does not match.

Raw loads are cached per (source, num_words), so switching encodings or a second run does
not read the files again. Cached arrays are read-only: they are shared.
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from builder.data import offline
from builder.data.errors import DataError
from builder.data.preprocess import INDEX_FROM, OOV_ID, START_ID, Ragged
from builder.data.registry import DATASETS

__all__ = [
    "SOURCES",
    "KerasSource",
    "NpzTextSource",
    "TextData",
    "load_boston",
    "load_images",
    "load_text",
    "read_npz",
    "word_index",
]

# Keras shuffles IMDB and Reuters with this seed and keeps 20 % of Reuters for testing.
KERAS_SEED = 113
REUTERS_TEST_SPLIT = 0.2


class Source(Protocol):
    """What the loaders need from a source (hashable: it is part of the cache key)."""

    def check(self, allow_download: bool, roles: tuple[str, ...] = ("data",)) -> None: ...

    def load(self, num_words: int | None = None) -> tuple[tuple[Any, Any], tuple[Any, Any]]: ...

    def word_index(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class KerasSource:
    """``keras.datasets.<name>`` itself, after checking its files are in Keras' cache."""

    name: str

    def _module(self):
        import keras

        return getattr(keras.datasets, self.name)

    def check(self, allow_download: bool, roles: tuple[str, ...] = ("data",)) -> None:
        offline.ensure_files(self.name, allow_download, roles)

    def _failed(self, err: Exception, role: str) -> DataError:
        files = offline.cache_status(self.name, (role,))
        return DataError(offline.offline_message(self.name, files, f"loading it failed: {err}"))

    def load(self, num_words: int | None = None):
        """Keras' own ``load_data``: ((x_train, y_train), (x_test, y_test))."""
        try:
            if DATASETS[self.name].sample_kind == "text":
                return self._module().load_data(num_words=num_words)
            return self._module().load_data()
        except Exception as err:  # a failed download or unreadable file: say what to fetch
            raise self._failed(err, "data") from err

    def word_index(self) -> dict[str, int]:
        try:
            return self._module().get_word_index()
        except Exception as err:
            raise self._failed(err, "word_index") from err


_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds numpy object arrays and nothing else, so a doctored file cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a dataset file")


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, object arrays included (numpy globals only).

    Equivalent to ``np.load(path, allow_pickle=True)`` for Keras' IMDB/Reuters files,
    without letting a pickle call anything but numpy's array constructors.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            stream = io.BytesIO(archive.read(member))
            try:
                arrays[member[:-4]] = np.lib.format.read_array(stream, allow_pickle=False)
            except ValueError:
                stream.seek(0)
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    np.lib.format.read_array_header_1_0(stream)
                else:
                    np.lib.format.read_array_header_2_0(stream)
                arrays[member[:-4]] = _ArrayUnpickler(stream).load()
    return arrays


def _keras_ids(seqs: Ragged, num_words: int) -> Ragged:
    """Keras' convention: a start id 1, words shifted by 3, ids >= num_words become 2."""
    values = seqs.values.astype(np.int64) + INDEX_FROM
    values[values >= num_words] = OOV_ID
    lengths = seqs.lengths + 1
    out = Ragged.from_lengths(np.empty(int(lengths.sum()), np.int32), lengths)
    starts = out.offsets[:-1]
    is_start = np.zeros(len(out.values), bool)
    is_start[starts] = True
    out.values[starts] = START_ID
    out.values[~is_start] = values
    return out


@dataclass(frozen=True)
class NpzTextSource:
    """IMDB or Reuters from an ``.npz`` in Keras' format and a word-index JSON.

    The file holds object arrays of word-rank lists (IMDB: x_train, y_train, x_test, y_test;
    Reuters: x, y). ``load`` applies what ``keras.datasets.<layout>.load_data`` does: the
    same seeded shuffle, start id 1, ranks shifted by 3, ids >= num_words replaced by 2,
    and for Reuters the same 80/20 split.
    """

    layout: str  # "imdb" | "reuters"
    data_path: str
    word_index_path: str | None = None

    def check(self, allow_download: bool, roles: tuple[str, ...] = ("data",)) -> None:
        wanted = {"data": self.data_path, "word_index": self.word_index_path}
        for role in roles:
            path = wanted[role]
            if path is None or not Path(path).is_file():
                raise DataError(
                    f"the {role.replace('_', ' ')} file {path!r} for "
                    f"{DATASETS[self.layout].label} does not exist: fix the path."
                )

    def load(self, num_words: int | None = None):
        raw = read_npz(self.data_path)
        rng = np.random.RandomState(KERAS_SEED)
        if self.layout == "imdb":
            parts = []
            for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
                order = np.arange(len(raw[x_key]))
                rng.shuffle(order)
                parts.append((Ragged.from_sequences(raw[x_key][order]), raw[y_key][order]))
        else:
            order = np.arange(len(raw["x"]))
            rng.shuffle(order)
            seqs, labels = Ragged.from_sequences(raw["x"][order]), raw["y"][order]
            cut = int(len(seqs) * (1 - REUTERS_TEST_SPLIT))
            parts = [
                (seqs.take(np.arange(cut)), labels[:cut]),
                (seqs.take(np.arange(cut, len(seqs))), labels[cut:]),
            ]
        if not num_words:
            # Keras' rule: the largest id in either split; that id itself becomes 2.
            num_words = max(int(seqs.values.max(initial=0)) for seqs, _ in parts) + INDEX_FROM
        (x_train, y_train), (x_test, y_test) = parts
        return (
            (_keras_ids(x_train, num_words), np.asarray(y_train)),
            (_keras_ids(x_test, num_words), np.asarray(y_test)),
        )

    def word_index(self) -> dict[str, int]:
        with open(self.word_index_path, encoding="utf-8") as handle:
            return json.load(handle)


SOURCES: dict[str, Source] = {
    name: KerasSource(name) for name, spec in DATASETS.items() if spec.source == "keras"
}


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


@dataclass(frozen=True, eq=False)
class TextData:
    """Word-id sequences (Keras' convention) and integer labels of both splits."""

    train: Ragged
    y_train: np.ndarray
    test: Ragged
    y_test: np.ndarray


@functools.lru_cache(maxsize=4)
def _text(source: Source, num_words: int) -> TextData:
    (x_train, y_train), (x_test, y_test) = source.load(num_words=num_words)
    data = TextData(
        Ragged.from_sequences(x_train),
        np.asarray(y_train, np.int64),
        Ragged.from_sequences(x_test),
        np.asarray(y_test, np.int64),
    )
    _read_only(data.train.values, data.test.values, data.y_train, data.y_test)
    return data


def load_text(name: str, num_words: int, allow_download: bool = False) -> TextData:
    """IMDB or Reuters as Keras gives them with ``num_words``; DataError when unavailable."""
    source = SOURCES[name]
    source.check(allow_download)
    return _text(source, num_words)


@functools.lru_cache(maxsize=4)
def _word_index(source: Source) -> dict[str, int]:
    return source.word_index()


def word_index(name: str, allow_download: bool = False) -> dict[str, int]:
    """The dataset's word -> frequency rank mapping (rank 1 is the most frequent word)."""
    source = SOURCES[name]
    source.check(allow_download, ("word_index",))
    return _word_index(source)


@functools.lru_cache(maxsize=2)
def _arrays(source: Source) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = source.load()
    arrays = (x_train, np.asarray(y_train).reshape(-1), x_test, np.asarray(y_test).reshape(-1))
    _read_only(*arrays)
    return arrays


def load_images(name: str, allow_download: bool = False):
    """(x_train, y_train, x_test, y_test): uint8 images (n, H, W) or (n, H, W, C), int labels."""
    source = SOURCES[name]
    source.check(allow_download)
    return _arrays(source)


def load_boston(allow_download: bool = False):
    """(x_train, y_train, x_test, y_test): Keras' 404/102 split, 13 features, prices in $1000s."""
    source = SOURCES["boston_housing"]
    source.check(allow_download)
    return _arrays(source)
