"""Multi-hot encoding: the book's row-by-row loop against builder.data's vectorised version.

Run by hand: ``python bench/bench_multihot.py [--runs N]``. Uses the real imdb.npz when it
is in Keras' cache, otherwise 25,000 synthetic reviews shaped like IMDB's training set
(lengths log-normal around a mean of ~240 words, Zipf-like word ids below 10,000, start id
1). Times each version (best of ``--runs``) and measures its peak memory with tracemalloc
in a separate run, since tracing slows numpy's allocations down.
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.data.keras_sets import NpzTextSource  # noqa: E402
from builder.data.offline import keras_cache_dir  # noqa: E402
from builder.data.preprocess import Ragged, multi_hot  # noqa: E402

NUM_WORDS = 10_000
REVIEWS = 25_000


def book_vectorize(sequences, dimension=NUM_WORDS):
    """Deep Learning with Python, section 3.4: float64 zeros, then one row at a time."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.
    return results


def imdb_like(seed: int = 0) -> tuple[list[list[int]], str]:
    cached = keras_cache_dir() / "imdb.npz"
    if cached.is_file():
        (train, _), _ = NpzTextSource("imdb", str(cached)).load(num_words=NUM_WORDS)
        return train.tolist(), f"real IMDB training reviews from {cached}"
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(176), 0.75, REVIEWS).astype(int), 10, 2494)
    ids = np.minimum(rng.zipf(1.25, int(lengths.sum())) + 3, NUM_WORDS - 1)
    ids[np.cumsum(lengths) - lengths] = 1
    seqs = [chunk.tolist() for chunk in np.split(ids, np.cumsum(lengths)[:-1])]
    return seqs, f"synthetic IMDB-like reviews (no imdb.npz in {cached.parent})"


def best_time(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        del result
    return best


def peak_bytes(fn) -> int:
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per version (best kept)")
    args = parser.parse_args()

    seqs, origin = imdb_like()
    ragged = Ragged.from_sequences(seqs)
    lengths = ragged.lengths
    print(f"data: {origin}")
    print(f"      {len(seqs):,} reviews, mean length {lengths.mean():.0f} words, "
          f"{lengths.sum():,} ids, num_words {NUM_WORDS:,}")

    reference = book_vectorize(seqs)
    for given in (seqs, ragged):
        if not np.array_equal(multi_hot(given, NUM_WORDS), reference):
            raise SystemExit("multi_hot disagrees with the book's loop")
    del reference

    versions = [
        ("book loop, float64", lambda: book_vectorize(seqs), 1),
        ("multi_hot from lists, float32", lambda: multi_hot(seqs, NUM_WORDS), args.runs),
        ("multi_hot from Ragged, float32", lambda: multi_hot(ragged, NUM_WORDS), args.runs),
        ("multi_hot from Ragged, uint8", lambda: multi_hot(ragged, NUM_WORDS, np.uint8),
         args.runs),
    ]
    rows = []
    for name, fn, runs in versions:
        rows.append((name, best_time(fn, runs), peak_bytes(fn)))
    book_time, book_peak = rows[0][1], rows[0][2]
    print(f"\n{'version':34} {'time':>9} {'peak memory':>13} {'speed-up':>9} {'memory':>8}")
    for name, seconds, peak in rows:
        print(f"{name:34} {seconds:8.3f}s {peak / 1e6:10.1f} MB {book_time / seconds:8.1f}x "
              f"{peak / book_peak:8.3f}")
    lists = rows[1]
    print(f"\nfrom the same lists of ids as the book: {book_time / lists[1]:.1f}x faster, "
          f"{lists[2] / book_peak:.3f} of its peak memory "
          f"(goal: >= 20x faster, <= 0.5 of the memory)")


if __name__ == "__main__":
    main()
