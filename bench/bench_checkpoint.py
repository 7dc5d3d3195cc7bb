"""What the per-epoch resume checkpoint costs: the offline digits default (Dense 64-10).

Run by hand: ``python bench/bench_checkpoint.py [--epochs 20] [--batch-size 32]``.

Trains with ``builder.training.worker.train`` in this process (as the CLI does) and times
the checkpoint callback's work at every epoch end (the ``.keras`` file with the optimizer,
the history, ``checkpoint.json``, deleting the older checkpoint, run.json's epoch count).
Prints the median cost per checkpoint, the median epoch, and the checkpoints' share of
the training time. Batch size 32 gives sub-second epochs (the worst case: a fixed cost per
epoch against little training); batch size 1 gives epochs of seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from builder.project import validate
    from builder.training import runs, worker

    project = validate(json.loads((REPO / "templates" / "offline_default.json").read_text()))
    project["fit"].update(epochs=args.epochs, batch_size=args.batch_size)
    spent: list[float] = []
    make = worker._checkpoint_callback

    def timed(*a, **k):
        callback = make(*a, **k)
        inner = callback.on_epoch_end

        def on_epoch_end(epoch, logs=None):
            started = time.perf_counter()
            inner(epoch, logs)
            spent.append(time.perf_counter() - started)

        callback.on_epoch_end = on_epoch_end
        return callback

    worker._checkpoint_callback = timed
    with tempfile.TemporaryDirectory() as root:
        folder = runs.create_run(root, "bench", project, {})
        summary = worker.train(project, folder, device="cpu")
        seconds = runs.read_history_csv(folder / "history.csv")["seconds"]
    if summary["state"] != "finished":
        sys.exit(f"training {summary['state']}: {summary['message']}")

    def median(values):
        return sorted(values)[len(values) // 2]

    share = sum(spent) / (sum(seconds) + sum(spent))
    print(
        f"digits 64-10, batch {args.batch_size}: {len(spent)} checkpoints, "
        f"median {median(spent) * 1000:.0f} ms each; median epoch {median(seconds):.2f} s; "
        f"checkpoints {share:.1%} of the training time"
    )


if __name__ == "__main__":
    main()
