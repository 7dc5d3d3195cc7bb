"""Multi-hot encoding: the book's row-by-row loop against builder.data's vectorised version.

Run by hand: ``python bench/bench_multihot.py [--runs N]``. Uses the real imdb.npz when it
is in Keras' cache, otherwise 25,000 synthetic reviews shaped like IMDB's training set
(lengths log-normal around a mean of ~240 words, Zipf-like word ids below 10,000, start id
1). Times each version (best of ``--runs``; the book's loop once, it is slow) as wall
time and as CPU time of this process: on a busy machine the wall time mostly measures
waiting for a core, so speed-ups are computed from CPU time. Peak memory is measured with
tracemalloc in a separate run, since tracing slows numpy's allocations down.

Training does not build the matrix at all: it keeps the ids (``MultiHotRows``) and
``builder.training.feed`` encodes one batch at a time inside TensorFlow. TensorFlow's
memory is invisible to tracemalloc, so the second table measures each way in a fresh
process by its peak resident memory (VmHWM, reset just before the step) above what the
process held before it: the book's loop, the whole float32 matrix, and one training epoch
of per-batch batches (batch 512, shuffled, every batch read). Linux only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.data.keras_sets import NpzTextSource
from builder.data.offline import keras_cache_dir
from builder.data.preprocess import Ragged, multi_hot

NUM_WORDS = 10_000
REVIEWS = 25_000


def book_vectorize(sequences, dimension=NUM_WORDS):
    """Deep Learning with Python, section 3.4: float64 zeros, then one row at a time."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        results[i, sequence] = 1.0
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


def best_time(fn, runs: int) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, last result) of the fastest of ``runs`` calls."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(runs):
        del result  # free the previous 1-2 GB result before making the next one
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_wall, best_cpu, result


def peak_bytes(fn) -> int:
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def _status_kb(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M)[1])


RSS_WAYS = {
    "book": "book loop, float64 matrix",
    "float32": "multi_hot, float32 matrix",
    "per_batch": "per batch during fit (1 epoch)",
}


def measure_rss(way: str) -> dict:
    """In this (fresh) process: peak resident bytes and CPU seconds of one way, above what
    the process held just before it (data loaded, libraries imported)."""
    seqs, _ = imdb_like()
    ragged = Ragged.from_sequences(seqs)
    if way == "per_batch":
        del seqs
        from builder.data.preprocess import MultiHotRows
        from builder.training import feed

        importlib.import_module("tensorflow")  # imported before the measured step
        labels = np.zeros(len(ragged), np.float32)

        def step():
            total = 0.0
            ds = feed.dataset(MultiHotRows(ragged, NUM_WORDS), labels, batch_size=512, shuffle=True)
            for x, _ in ds:
                total += float(x[0, 1])  # read every batch; the start id is always set
            return total
    elif way == "book":

        def step():
            return book_vectorize(seqs)
    else:

        def step():
            return multi_hot(ragged, NUM_WORDS)

    gc.collect()
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    cpu = time.process_time()
    result = step()
    cpu = time.process_time() - cpu
    peak = _status_kb("VmHWM")
    del result
    return {"peak_bytes": (peak - before) * 1024, "cpu_s": cpu}


def rss_table() -> None:
    rows = []
    for way, label in RSS_WAYS.items():
        out = subprocess.run(
            [sys.executable, __file__, "--measure-rss", way],
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        if out.returncode:
            raise SystemExit(f"{label}: failed\n{out.stderr[-2000:]}")
        rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    book = rows[0][1]
    print(
        f"\n{'peak resident memory (fresh process)':38} {'above start':>12} {'CPU':>8} "
        f"{'memory':>7}"
    )
    for label, got in rows:
        print(
            f"{label:38} {got['peak_bytes'] / 1e6:9.1f} MB {got['cpu_s']:7.2f}s "
            f"{got['peak_bytes'] / book['peak_bytes']:7.3f}"
        )
    per_batch = rows[-1][1]
    print(
        f"training feeds batches encoded one at a time: "
        f"{per_batch['peak_bytes'] / book['peak_bytes']:.3f} of the book loop's peak "
        f"resident memory; encoding an epoch costs {per_batch['cpu_s']:.2f} s of CPU "
        f"(the book encodes once in {book['cpu_s']:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per version (best kept)")
    parser.add_argument("--measure-rss", choices=sorted(RSS_WAYS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_rss:
        print(json.dumps(measure_rss(args.measure_rss)))
        return

    seqs, origin = imdb_like()
    ragged = Ragged.from_sequences(seqs)
    lengths = ragged.lengths
    print(f"data: {origin}")
    print(
        f"      {len(seqs):,} reviews, mean length {lengths.mean():.0f} words, "
        f"{lengths.sum():,} ids, num_words {NUM_WORDS:,}"
    )
    # Other work on the machine slows the book's loop and page faults unevenly.
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    book_wall, book_cpu, reference = best_time(lambda: book_vectorize(seqs), 1)
    rows = [("book loop, float64", book_wall, book_cpu, peak_bytes(lambda: book_vectorize(seqs)))]
    versions = [
        ("multi_hot from lists, float32", lambda: multi_hot(seqs, NUM_WORDS)),
        ("multi_hot from Ragged, float32", lambda: multi_hot(ragged, NUM_WORDS)),
        ("multi_hot from Ragged, uint8", lambda: multi_hot(ragged, NUM_WORDS, np.uint8)),
    ]
    for name, fn in versions:
        wall, cpu, result = best_time(fn, args.runs)
        if not np.array_equal(result, reference):
            raise SystemExit(f"{name} disagrees with the book's loop")
        del result
        rows.append((name, wall, cpu, peak_bytes(fn)))
    del reference
    book_peak = rows[0][3]
    print(
        f"\n{'version':32} {'wall':>8} {'CPU':>8} {'peak memory':>12} {'speed-up':>9} {'memory':>7}"
    )
    for name, wall, cpu, peak in rows:
        print(
            f"{name:32} {wall:7.3f}s {cpu:7.3f}s {peak / 1e6:9.1f} MB {book_cpu / cpu:8.1f}x "
            f"{peak / book_peak:7.3f}"
        )
    for name, _, cpu, peak in rows[1:3]:
        print(
            f"{name}: {book_cpu / cpu:.1f}x less CPU time than the book's loop, "
            f"{peak / book_peak:.3f} of its peak memory"
        )
    if Path("/proc/self/clear_refs").exists():
        rss_table()
    else:
        print("\n(peak resident memory needs Linux' /proc; skipped)")
    print("goal: >= 20x faster, <= 0.5 of the memory")


if __name__ == "__main__":
    main()
