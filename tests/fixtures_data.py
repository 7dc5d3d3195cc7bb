"""Tiny IMDB- and Reuters-like files in Keras' own format, for tests that never download.

Keras keeps IMDB and Reuters as ``.npz`` files of object arrays (one Python list of word
ranks per text) plus a word-index JSON mapping each word to its frequency rank from 1.
A made-up file cannot be put into Keras' cache (Keras deletes files whose hash does not
match), so tests point ``builder.data.keras_sets.SOURCES`` at these files instead.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from builder.data.keras_sets import NpzTextSource

# Frequency ranks are positions in this list + 1 ("the" is rank 1, as in IMDB).
WORDS = ["the", "movie", "a", "was", "and", "great", "bad", "plot", "acting", "not", "film",
         "good", "boring", "it's", "story", "i", "loved", "hated", "music", "ending"]
RANK = {word: i + 1 for i, word in enumerate(WORDS)}


def ranks(text: str) -> list[int]:
    """The word ranks of a text made of WORDS."""
    return [RANK[word] for word in text.split()]


IMDB_TRAIN = [
    ("the movie was great and the acting was good", 1),
    ("bad plot and bad acting", 0),
    ("i loved the music and the ending", 1),
    ("boring film i hated it's ending", 0),
    ("a great story", 1),
    ("not good not great", 0),
    ("the film was not boring", 1),
    ("hated the plot hated the acting hated the music", 0),
]
IMDB_TEST = [
    ("loved it's story", 1),
    ("the ending was bad", 0),
    ("great great great film", 1),
    ("a boring boring movie", 0),
]
# Reuters keeps one array of texts and one of topics; Keras splits 80/20 after shuffling.
REUTERS = [(text, topic) for (text, _), topic in
           zip(IMDB_TRAIN + IMDB_TEST + IMDB_TRAIN[:3], [3, 4, 19, 3, 1, 4, 3, 20, 4, 3, 19, 1,
                                                         3, 4, 19])]


def _objects(texts: list[str]) -> np.ndarray:
    """A 1-D object array of lists, as Keras stores ragged sequences."""
    out = np.empty(len(texts), dtype=object)
    for i, text in enumerate(texts):
        out[i] = ranks(text)
    return out


def write_word_index(path: Path) -> Path:
    path.write_text(json.dumps(RANK), encoding="utf-8")
    return path


def write_imdb(folder: Path) -> NpzTextSource:
    """imdb.npz + imdb_word_index.json in ``folder``; returns a source reading them."""
    data = folder / "tiny_imdb.npz"
    np.savez(data, x_train=_objects([t for t, _ in IMDB_TRAIN]),
             y_train=np.array([y for _, y in IMDB_TRAIN], np.int64),
             x_test=_objects([t for t, _ in IMDB_TEST]),
             y_test=np.array([y for _, y in IMDB_TEST], np.int64))
    index = write_word_index(folder / "tiny_imdb_word_index.json")
    return NpzTextSource("imdb", str(data), str(index))


def write_reuters(folder: Path) -> NpzTextSource:
    """reuters.npz (x, y) + reuters_word_index.json in ``folder``; returns a source."""
    data = folder / "tiny_reuters.npz"
    np.savez(data, x=_objects([t for t, _ in REUTERS]),
             y=np.array([y for _, y in REUTERS], np.int64))
    index = write_word_index(folder / "tiny_reuters_word_index.json")
    return NpzTextSource("reuters", str(data), str(index))


def naive_multi_hot(sequences, num_words: int) -> np.ndarray:
    """The book's vectorize_sequences, one row at a time: the reference to compare with."""
    out = np.zeros((len(sequences), num_words))
    for i, seq in enumerate(sequences):
        for word_id in seq:
            if word_id < num_words:
                out[i, word_id] = 1.0
    return out


def text_project(dataset: str, loss, **options) -> dict:
    """The smallest project dict ``prepare`` needs."""
    return {"data": {"dataset": dataset, "options": options}, "compile": {"loss": loss}}
