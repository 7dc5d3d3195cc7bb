"""ui.charts: best epoch, smoothing, curve figures, confusion matrix, compare rows; and
ui.jobs.progress_summary (pure). No streamlit session, no TensorFlow."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from builder import settings
from builder.experiments import spec
from ui import charts
from ui.jobs import progress_summary

HISTORY = {
    "loss": [0.9, 0.6, 0.4, 0.3],
    "accuracy": [0.6, 0.7, 0.8, 0.9],
    "val_loss": [0.8, 0.5, 0.55, 0.7],
    "val_accuracy": [0.6, 0.75, 0.8, 0.78],
    "learning_rate": [0.001] * 4,
}


@pytest.mark.parametrize(
    "history, metric, expected",
    [
        (HISTORY, "loss", 2),  # lowest val_loss
        (HISTORY, "accuracy", 3),  # highest val_accuracy
        ({"loss": [3.0, 1.0, 2.0]}, "loss", 2),  # no validation: training values
        ({"loss": [1.0, 1.0]}, "loss", 1),  # a tie: the first epoch
        ({"loss": [1.0], "val_mae": [3.0, 2.0, 2.5]}, "mae", 2),
        ({"loss": [float("nan"), 2.0, 1.0], "val_loss": [None, 2.0, 3.0]}, "loss", 2),
        ({"loss": []}, "loss", None),
    ],
)
def test_best_epoch(history, metric, expected):
    assert charts.best_epoch(history, metric) == expected


@pytest.mark.parametrize(
    "metric, larger_is_better",
    [
        ("loss", False),
        ("val_loss", False),
        ("kind_loss", False),
        ("val_r2_score", True),  # Results once marked r2_score's worst epoch as its best
        ("kind_accuracy", True),
        ("val_weight_mae", False),
        ("custom_thing", False),
    ],
)
def test_maximised(metric, larger_is_better):
    assert charts.maximised(metric) is larger_is_better
    assert spec.default_mode(metric) == ("max" if larger_is_better else "min")


def _keras_metrics() -> list[str]:
    return sorted({*settings.METRICS, *settings.METRIC_MODES} - {"loss"})


@pytest.mark.parametrize("name", _keras_metrics())
def test_every_metric_direction_agrees_with_keras(name):
    """Keras' metric objects know their direction (``_direction``, which its callbacks read
    for ``mode="auto"``): the settings table, the charts and the sweeps agree with it."""
    import keras

    try:
        metric = keras.metrics.get(name)
        metric = metric() if isinstance(metric, type) else metric
    except (ValueError, TypeError):
        pytest.skip(f"keras.metrics.get({name!r}) needs arguments to make the metric")
    direction = getattr(metric, "_direction", None)
    if direction is None:  # a plain function (mae, mse...): Keras treats it as a loss-like
        direction = "down"
    expected = "max" if direction == "up" else "min"
    assert settings.metric_mode(name) == expected
    assert settings.metric_mode("val_" + name) == expected
    assert charts.maximised("out_" + name) is (expected == "max")


def test_metric_names_loss_first_without_learning_rate():
    history = {
        "accuracy": [1],
        "val_accuracy": [1],
        "loss": [1],
        "learning_rate": [1],
        "val_mae": [2],
    }
    assert charts.metric_names(history) == ["loss", "accuracy", "mae"]


def test_smooth_is_the_books_moving_average():
    assert charts.smooth([1.0, 2.0, 4.0], 0.5) == [1.0, 1.5, 2.75]
    assert charts.smooth([1.0, None, 3.0], 0.5) == [1.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=re.escape("got 1.0")):
        charts.smooth([1.0], 1.0)


def test_smoothed_curve_drops_the_first_10_epochs():
    values = [100.0] * 10 + [1.0, 2.0, 3.0]
    epochs, smoothed = charts.smoothed_curve(values)
    assert epochs == [11, 12, 13]
    assert smoothed[0] == 1.0 and smoothed[1] == pytest.approx(1.1)
    epochs, _ = charts.smoothed_curve([1.0, 2.0])  # too short to drop 10
    assert epochs == [1, 2]


def test_curve_figure_training_dots_validation_line_best_marked():
    fig = charts.curve_figure(HISTORY, "loss")
    by_name = {t.name: t for t in fig.data}
    train, val = by_name["Training loss"], by_name["Validation loss"]
    assert train.mode == "markers" and list(train.x) == [1, 2, 3, 4]
    assert val.mode == "lines" and list(val.y) == HISTORY["val_loss"]
    best = by_name["Best epoch (2)"]
    assert list(best.x) == [2] and list(best.y) == [0.5]
    assert [shape.x0 for shape in fig.layout.shapes] == [2]


def test_curve_figure_of_a_partial_history_without_validation():
    fig = charts.curve_figure({"loss": [0.5]}, "loss")
    assert [t.name for t in fig.data] == ["Training loss", "Best epoch (1)"]


def test_kfold_figure_folds_and_mean():
    folds = {1: {"val_mae": [3.0, 2.0]}, 2: {"val_mae": [5.0, 4.0, 1.0]}}
    fig = charts.kfold_figure(folds, "mae")
    mean = next(t for t in fig.data if t.name == "Mean of folds")
    assert list(mean.y) == [4.0, 3.0, 1.0]  # epoch 3 counts only the fold that reached it
    assert len(fig.data) == 3


def test_kfold_figure_smoothed_starts_at_epoch_11():
    folds = {f: {"val_mae": [float(e) for e in range(20)]} for f in (1, 2)}
    fig = charts.kfold_figure(folds, "mae", smoothing=True)
    assert all(t.x[0] == 11 for t in fig.data)
    assert "first 10 epochs" in fig.layout.title.text


def test_split_folds_from_history_folds_csv_columns():
    columns = {
        "fold": [1, 1, 2, 2, 2],
        "epoch": [1, 2, 1, 2, 3],
        "val_mae": [3.0, 2.0, 5.0, 4.0, 1.0],
        "loss": [1.0, 0.5, 2.0, 1.0, None],
    }
    folds = charts.split_folds(columns)
    assert folds == {
        1: {"val_mae": [3.0, 2.0], "loss": [1.0, 0.5]},
        2: {"val_mae": [5.0, 4.0, 1.0], "loss": [2.0, 1.0]},
    }


def test_overlay_skips_runs_without_the_curve():
    fig = charts.overlay_figure({"a": HISTORY, "b": {"loss": [1.0]}}, "loss", validation=True)
    assert [t.name for t in fig.data] == ["a"]
    fig = charts.overlay_figure({"a": HISTORY, "b": {"loss": [1.0]}}, "loss", validation=False)
    assert [t.name for t in fig.data] == ["a", "b"]


def test_confusion_matrix_rows_true_columns_predicted():
    matrix = charts.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    fig = charts.confusion_figure(matrix, ["a", "b", "c"])
    assert fig.data[0].type == "heatmap" and list(fig.data[0].x) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="3 true labels but 2 predictions"):
        charts.confusion_matrix([0, 1, 2], [0, 1], 3)


@pytest.mark.parametrize(
    "outputs, expected",
    [
        (np.array([[0.1, 0.9], [0.8, 0.2]]), [1, 0]),  # softmax
        (np.array([[0.7], [0.2]]), [1, 0]),  # one sigmoid unit
        (np.array([0.7, 0.2]), [1, 0]),
        (np.array([3, 1]), [3, 1]),  # class numbers
    ],
)
def test_class_indices(outputs, expected):
    assert charts.class_indices(outputs).tolist() == expected


def test_class_probabilities_and_top_k():
    assert charts.class_probabilities(np.array([[0.75]])).tolist() == [[0.25, 0.75]]
    assert charts.top_k([0.1, 0.6, 0.3], ["a", "b", "c"], 2) == [("b", 0.6), ("c", 0.3)]


def test_scatter_and_probability_figures():
    fig = charts.scatter_figure([1.0, 2.0], [1.5, 2.5], "price")
    assert fig.data[0].mode == "markers" and fig.layout.xaxis.title.text == "True price"
    bar = charts.probability_figure([0.2, 0.8], ["no", "yes"])
    assert list(bar.data[0].x) == ["no", "yes"] and bar.data[0].marker.color[1] == charts.VAL_COLOR


def _run(**fit):
    project = {
        "model": {
            "layers": [
                {
                    "name": "d1",
                    "class_name": "Dense",
                    "config": {"units": 16, "activation": "relu"},
                },
                {"name": "drop", "class_name": "Dropout", "config": {"rate": 0.5}},
                {
                    "name": "d2",
                    "class_name": "Dense",
                    "config": {"units": 1, "activation": "sigmoid"},
                },
            ]
        },
        "compile": {
            "optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 0.001}},
            "loss": "binary_crossentropy",
        },
        "fit": {"epochs": 20, "batch_size": 512, **fit},
    }
    return {
        "info": {"id": "20260101-000000-abcdef", "name": "imdb", "state": "finished"},
        "project": project,
        "history": {"epoch": [1, 2, 3], "loss": [3, 2, 1]},
        "metrics": {
            "train": {"loss": 0.1, "learning_rate": 0.001},
            "val": {"val_loss": 0.3},
            "test": {"accuracy": 0.88},
        },
    }


def test_settings_row_names_settings_and_final_metrics():
    row = charts.settings_row(_run(validation={"method": "holdout", "count": 10000}))
    assert row["layers"] == "Dense(16, relu) > Dropout(0.5) > Dense(1, sigmoid)"
    assert (row["units"], row["activation"]) == ("16 / 1", "relu, sigmoid")
    assert (row["optimizer"], row["learning rate"], row["loss"]) == (
        "RMSprop",
        0.001,
        "binary_crossentropy",
    )
    assert (row["epochs"], row["batch size"], row["validation"]) == (3, 512, "hold-out 10000")
    assert (row["train loss"], row["val loss"], row["test accuracy"]) == (0.1, 0.3, 0.88)
    assert "train learning_rate" not in row


def test_settings_table_is_a_dataframe_that_writes_csv():
    table = charts.settings_table([_run(validation={"method": "kfold", "k": 4})])
    assert table.loc[0, "validation"] == "4-fold"
    assert table.to_csv(index=False).startswith("run,name,state,layers")


@pytest.mark.parametrize(
    "progress, seconds, epochs, done, folds, epoch, batch, eta",
    [
        (None, [], 10, 0, None, 0.0, 0.0, None),
        (
            {"epoch": 3, "epochs": 10, "batch": 5, "batches": 10, "logs": {"loss": 0.5}},
            [2.0, 2.0],
            10,
            2,
            None,
            0.25,
            0.5,
            15.0,
        ),
        # sequential K-fold, fold 2 of 2, epoch 1 of 4 half done: 4.5 epochs of 8 done
        (
            {"fold": 2, "folds": 2, "epoch": 1, "epochs": 4, "batch": 1, "batches": 2, "logs": {}},
            [1.0],
            4,
            4,
            2,
            4.5 / 8,
            0.5,
            3.5,
        ),
    ],
)
def test_progress_summary(progress, seconds, epochs, done, folds, epoch, batch, eta):
    info = progress_summary(progress, seconds, epochs, done, folds)
    assert info["epoch"] == pytest.approx(epoch)
    assert info["batch"] == pytest.approx(batch)
    assert (info["eta"] is None and eta is None) or math.isclose(info["eta"], eta)
    assert info["eta_text"].startswith("about") == (eta is not None)


def test_progress_summary_words():
    info = progress_summary(
        {
            "fold": 2,
            "folds": 4,
            "epoch": 3,
            "epochs": 20,
            "batch": 7,
            "batches": 13,
            "logs": {"loss": 0.25},
        },
        [65.0],
        20,
        2,
        4,
    )
    assert info["epoch_text"] == "fold 2/4 · epoch 3/20"
    assert info["batch_text"] == "batch 7/13 · loss 0.2500"
    assert info["eta_text"].startswith("about 1:")  # (80 - 22.54) epochs x 65 s > 1 hour
