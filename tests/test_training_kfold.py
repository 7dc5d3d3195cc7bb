"""K-fold: per-fold logs, averaged curves, and parallel folds that match the sequential loop."""

import types

import numpy as np
import pytest

from builder.project import validate
from builder.training import kfold, runs, worker
from tests.helpers import project


def _regression(epochs=4, shuffle=False, k=4, callbacks=(), batch_size=8):
    p = project(
        [("d1", "Dense", {"units": 8, "activation": "relu"}), ("out", "Dense", {"units": 1})],
        shape=(5,),
        loss="mse",
        metrics=["mae"],
    )
    p["compile"]["optimizer"] = {"class_name": "RMSprop", "config": {"learning_rate": 0.01}}
    p["fit"].update(
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=7,
        validation={"method": "kfold", "k": k},
        callbacks=list(callbacks),
    )
    return validate(p)


def _data(n=82):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n + 10, 5)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(0, 0.1, n + 10)).astype("float32")
    return types.SimpleNamespace(x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:])


def _train(tmp_path, p, parallel, n=82):
    folder = runs.create_run(tmp_path, "t", p, {})
    events = []
    summary = worker.train(
        p, folder, events.append, prepared=_data(n), device="cpu", parallel_folds=parallel
    )
    assert summary["state"] == "finished", summary["message"]
    return summary, events, folder


def test_split_logs_renames_per_fold_keys():
    logs = {
        "fold_1_loss": 1.0,
        "fold_1_mae": 0.5,
        "val_fold_1_loss": 2.0,
        "val_fold_1_mae": 0.7,
        "fold_2_loss": 3.0,
        "fold_2_mae": 0.9,
        "val_fold_2_loss": 4.0,
        "val_fold_2_mae": 1.2,
        "fold_3_mae": 9.0,  # no third fold: left out
    }
    assert kfold.split_logs(logs, 2) == [
        {"loss": 1.0, "mae": 0.5, "val_loss": 2.0, "val_mae": 0.7},
        {"loss": 3.0, "mae": 0.9, "val_loss": 4.0, "val_mae": 1.2},
    ]


def test_mean_history_averages_folds_that_reached_each_epoch():
    mean = kfold.mean_history([{"val_mae": [4.0, 2.0, 1.0]}, {"val_mae": [2.0, 1.0]}])
    assert mean == {"val_mae": [3.0, 1.5, 1.0]}


@pytest.mark.parametrize(
    "change, reason",
    [
        (
            lambda p: p["fit"]["callbacks"].append(
                {"class_name": "EarlyStopping", "config": {"monitor": "val_loss"}}
            ),
            "EarlyStopping",
        ),
        (
            lambda p: p["model"]["inputs"].append({"name": "x2", "shape": [3], "dtype": "float32"}),
            "multi-input",
        ),
        (lambda p: None, None),
    ],
)
def test_parallel_reason(change, reason):
    p = _regression()
    change(p)
    got = kfold.parallel_reason(p)
    assert (got is None) if reason is None else (reason in got)


def _same(par, seq):
    for name in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose(
            par["history"][name], seq["history"][name], rtol=1e-4, err_msg=name
        )
    np.testing.assert_allclose(par["kfold"]["val_mae"], seq["kfold"]["val_mae"], rtol=1e-4)
    np.testing.assert_allclose(par["test"]["mae"], seq["test"]["mae"], rtol=1e-4)


def test_parallel_folds_equal_sequential_folds(tmp_path):
    """Same per-fold seeds and no shuffling: each copy must follow its sequential twin."""
    p = _regression(epochs=3, k=3)
    par, par_events, par_folder = _train(tmp_path, p, parallel=True)
    seq, seq_events, _ = _train(tmp_path, p, parallel=False)
    assert "training 3 folds side by side" in [e.get("message") for e in par_events]
    assert "one after the other" in " ".join(e.get("message", "") for e in seq_events)
    _same(par, seq)
    epochs = [e for e in par_events if e["type"] == "epoch"]
    assert sorted({e["fold"] for e in epochs}) == [1, 2, 3] and len(epochs) == 9
    assert all(e["folds"] == 3 for e in epochs)
    folds_csv = runs.read_history_csv(par_folder / "history_folds.csv")
    assert folds_csv["fold"] == [1] * 3 + [2] * 3 + [3] * 3
    assert sorted(p.name for p in (par_folder / "folds").iterdir()) == [
        f"fold-{i}.keras" for i in range(1, 4)
    ]
    assert runs.read_json(par_folder / "metrics.json")["kfold"]["val_mae"] == pytest.approx(
        par["kfold"]["val_mae"]
    )


def test_parallel_folds_with_several_batches_per_call_equal_sequential(tmp_path):
    """Batch size 1 (the book's Boston run): 16 batches per TensorFlow call, same updates."""
    p = _regression(epochs=1, k=2, batch_size=1)
    par, par_events, _ = _train(tmp_path, p, parallel=True, n=140)
    seq, _, _ = _train(tmp_path, p, parallel=False, n=140)
    assert "training 2 folds side by side (16 batches per TensorFlow call)" in [
        e.get("message") for e in par_events
    ]
    assert max(e["batch"] for e in par_events if e["type"] == "batch") <= 70
    _same(par, seq)


def test_early_stopping_falls_back_to_sequential_folds(tmp_path):
    p = _regression(
        epochs=3,
        k=2,
        callbacks=[
            {
                "class_name": "EarlyStopping",
                "config": {"monitor": "val_loss", "patience": 1, "restore_best_weights": True},
            }
        ],
    )
    summary, events, _ = _train(tmp_path, p, parallel=True)
    assert any("EarlyStopping" in e.get("message", "") for e in events if e["type"] == "status")
    assert set(summary["kfold"]) == {"val_loss", "val_mae"}
