"""Figures and tables for the Train, Results and Compare pages, built from plain data.

Every function here is pure: it takes history dicts (``{"loss": [per epoch], "val_loss":
[...], ...}`` as ``RunHandle.history`` and ``runs.load_run`` give them), arrays or project
dicts, and returns a Plotly figure, numbers or rows. Nothing imports streamlit or
TensorFlow, so each is tested on its own and pages only draw what comes back.

Epochs are 1-based on every x axis, as Keras prints them and as the book plots them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from builder import doctor, settings
from ui.plotting import go
from ui.text import html

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
BEST_COLOR = "#2ca02c"
FOLD_COLORS = (
    "#9ecae1",
    "#fdae6b",
    "#a1d99b",
    "#bcbddc",
    "#fc9272",
    "#c7e9c0",
    "#dadaeb",
    "#fdd0a2",
    "#c6dbef",
    "#d9d9d9",
)
SMOOTHING_FACTOR = 0.9  # the book's exponential moving average (listing 3.32)
SMOOTHING_DROP = 10  # ... after leaving out the first 10 epochs, whose scale differs

# Logs that are not a model metric: plotted nowhere (the learning rate gets no curve).
_NOT_METRICS = {"learning_rate", "lr", "seconds", "epoch", "fold"}
# Metrics where larger is better; every other name (loss, mae, mse, ...) is minimised.

History = Mapping[str, Sequence]


# --------------------------------------------------------------------------- history reading


def metric_names(history: History) -> list[str]:
    """Base metric names in the history, loss first: ``["loss", "accuracy"]``.

    A metric counts when it or its ``val_`` twin has values; ``learning_rate`` is not one.
    """
    names: list[str] = []
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        if base in _NOT_METRICS or base in names or not _values(history, key):
            continue
        names.append(base)
    return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def _values(history: History, key: str) -> list[float | None]:
    """The per-epoch values of ``key`` as floats, ``None`` for missing or non-finite ones."""
    out = []
    for v in history.get(key) or []:
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(f if math.isfinite(f) else None)
    return out


def split_folds(history_folds: History) -> dict[int, dict[str, list]]:
    """``history_folds.csv`` columns (with a ``fold`` column) as ``{fold: history}``."""
    folds = list(history_folds.get("fold") or [])
    out: dict[int, dict[str, list]] = {}
    for name, values in history_folds.items():
        if name in ("fold", "epoch", "seconds"):
            continue
        for fold, value in zip(folds, values):
            out.setdefault(int(fold), {}).setdefault(name, []).append(value)
    for history in out.values():  # a fold stopped early has empty cells at its end
        for values in history.values():
            while values and values[-1] is None:
                values.pop()
    return out


def maximised(metric: str) -> bool:
    """True when a larger value of ``metric`` is better (accuracy, auc...), False for losses."""
    return settings.metric_mode(metric) == "max"


def best_epoch(history: History, metric: str = "loss") -> int | None:
    """The 1-based epoch where the validation ``metric`` is best, else the training one.

    Best is the lowest value for losses and errors, the highest for accuracy-like metrics;
    the first such epoch wins a tie. ``None`` when the history has no value for it.

    >>> best_epoch({"loss": [3, 2, 1], "val_loss": [2.0, 1.5, 1.7]})
    2
    """
    key = f"val_{metric}" if _values(history, f"val_{metric}") else metric
    values = _values(history, key)
    scored = [(v, i) for i, v in enumerate(values) if v is not None]
    if not scored:
        return None
    if maximised(metric):
        best = max(scored, key=lambda p: (p[0], -p[1]))
    else:
        best = min(scored, key=lambda p: (p[0], p[1]))
    return best[1] + 1


def smooth(values: Sequence[float], factor: float = SMOOTHING_FACTOR) -> list[float]:
    """Exponential moving average: each point is ``previous * factor + point * (1 - factor)``.

    The first point is kept as is; missing values (``None``) repeat the previous average.

    >>> smooth([1.0, 2.0], 0.5)
    [1.0, 1.5]
    """
    if not 0 <= factor < 1:
        raise ValueError(f"smoothing factor must be in [0, 1), got {factor!r}.")
    out: list[float] = []
    for v in values:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            if out:
                out.append(out[-1])
            continue
        out.append(float(v) if not out else out[-1] * factor + float(v) * (1 - factor))
    return out


def smoothed_curve(
    values: Sequence[float], drop: int = SMOOTHING_DROP, factor: float = SMOOTHING_FACTOR
) -> tuple[list[int], list[float]]:
    """(epochs, values) of the book's smoothed curve: first ``drop`` epochs left out, then EMA.

    When the run is too short to drop ``drop`` epochs, none are dropped (a curve of a few
    points is still worth showing).
    """
    if len(values) <= drop:
        drop = 0
    return list(range(drop + 1, len(values) + 1)), smooth(values[drop:], factor)


# --------------------------------------------------------------------------- curve figures


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=html(title),
        xaxis_title="Epoch",
        yaxis_title=y_title,
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
    )
    return fig


def curve_figure(history: History, metric: str = "loss", title: str | None = None) -> go.Figure:
    """Training values as dots, validation as a line, the best epoch marked (book fig. 3.7-3.10).

    The best epoch (see ``best_epoch``) gets a dashed vertical line and a ring on its point.
    Works on a partial history while training runs.
    """
    train = _values(history, metric)
    val = _values(history, f"val_{metric}")
    fig = go.Figure()
    if train:
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(train) + 1)),
                y=train,
                mode="markers",
                name=f"Training {_label(metric)}",
                marker={"color": TRAIN_COLOR, "size": 7},
            )
        )
    if any(v is not None for v in val):
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(val) + 1)),
                y=val,
                mode="lines",
                name=f"Validation {_label(metric)}",
                line={"color": VAL_COLOR, "width": 2},
            )
        )
    best = best_epoch(history, metric)
    if best is not None:
        series = val if any(v is not None for v in val) else train
        y = series[best - 1]
        fig.add_vline(x=best, line_dash="dash", line_color=BEST_COLOR)
        fig.add_trace(
            go.Scatter(
                x=[best],
                y=[y],
                mode="markers",
                name=f"Best epoch ({best})",
                marker={
                    "color": "rgba(0,0,0,0)",
                    "size": 16,
                    "line": {"color": BEST_COLOR, "width": 2},
                },
            )
        )
    return _layout(fig, title or f"Training and validation {_label(metric)}", _label(metric))


def kfold_figure(
    fold_histories: Mapping[int, History],
    metric: str = "loss",
    smoothing: bool = False,
    validation: bool = True,
) -> go.Figure:
    """Per-fold curves (thin) and their mean (thick) for one metric (book fig. 3.11-3.12).

    ``validation`` plots ``val_<metric>`` (what K-fold is for), else the training values.
    ``smoothing`` drops the first 10 epochs and applies the 0.9 exponential moving average
    to every curve, as the book does to read the trend of a noisy validation MAE.
    """
    key = f"val_{metric}" if validation else metric
    fig = go.Figure()
    per_fold = []
    for i, fold in enumerate(sorted(fold_histories)):
        values = _values(fold_histories[fold], key)
        if not values:
            continue
        per_fold.append(values)
        xs, ys = _maybe_smooth(values, smoothing)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"Fold {fold}",
                line={"color": FOLD_COLORS[i % len(FOLD_COLORS)], "width": 1},
            )
        )
    mean = mean_curve(per_fold)
    if mean:
        xs, ys = _maybe_smooth(mean, smoothing)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name="Mean of folds",
                line={"color": VAL_COLOR if validation else TRAIN_COLOR, "width": 3},
                marker={"size": 5},
            )
        )
        if not smoothing:
            best = best_epoch({key: mean}, key)
            if best is not None:
                fig.add_vline(
                    x=best,
                    line_dash="dash",
                    line_color=BEST_COLOR,
                    annotation_text=f"best epoch {best}",
                )
    which = "Validation" if validation else "Training"
    title = f"{which} {_label(metric)} per fold" + (
        " (smoothed, first 10 epochs left out)" if smoothing else ""
    )
    return _layout(fig, title, _label(metric))


def _maybe_smooth(values, smoothing: bool) -> tuple[list[int], list]:
    if smoothing:
        return smoothed_curve(values)
    return list(range(1, len(values) + 1)), list(values)


def mean_curve(curves: Iterable[Sequence[float | None]]) -> list[float]:
    """Epoch-wise mean of several curves; an epoch counts the curves that reached it.

    Folds stopped early by EarlyStopping are shorter: their missing epochs are left out of
    the mean rather than counted as zero.
    """
    curves = [list(c) for c in curves]
    length = max((len(c) for c in curves), default=0)
    out = []
    for i in range(length):
        got = [c[i] for c in curves if i < len(c) and c[i] is not None]
        if not got:
            break
        out.append(float(np.mean(got)))
    return out


def overlay_figure(
    histories: Mapping[str, History], metric: str = "loss", validation: bool = True
) -> go.Figure:
    """One line per run (label -> history) for ``metric`` or ``val_<metric>``, for Compare."""
    key = f"val_{metric}" if validation else metric
    fig = go.Figure()
    for label, history in histories.items():
        values = _values(history, key)
        if not any(v is not None for v in values):
            continue
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(values) + 1)),
                y=values,
                mode="lines+markers",
                name=html(label),
                marker={"size": 5},
            )
        )
    which = "Validation" if validation else "Training"
    return _layout(fig, f"{which} {_label(metric)}", _label(metric))


# --------------------------------------------------------------------------- predictions


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], classes: int) -> np.ndarray:
    """(classes, classes) counts: row = true class, column = predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    true = np.asarray(y_true, dtype=np.int64).ravel()
    pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} true labels but {pred.size} predictions.")
    ok = (true >= 0) & (true < classes) & (pred >= 0) & (pred < classes)
    np.add.at(matrix, (true[ok], pred[ok]), 1)
    return matrix


def confusion_figure(matrix: np.ndarray, class_names: Sequence[str] | None = None) -> go.Figure:
    """Plotly heatmap of a confusion matrix, counts written in the cells (up to 20 classes)."""
    n = matrix.shape[0]
    names = [str(c) for c in (class_names or range(n))][:n]
    counts = np.asarray(matrix).tolist()
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=[html(n) for n in names],
            y=[html(n) for n in names],
            colorscale="Blues",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            text=counts if n <= 20 else None,
            texttemplate="%{text}" if n <= 20 else None,
        )
    )
    fig.update_layout(
        title="Confusion matrix (test set)",
        xaxis_title="Predicted class",
        yaxis_title="True class",
        height=max(320, 22 * n + 120),
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category"},
        template="plotly_white",
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig


def scatter_figure(
    y_true: Sequence[float], y_pred: Sequence[float], name: str = "value"
) -> go.Figure:
    """Predicted against true values for a regression, with the y = x line of perfection."""
    true = np.asarray(y_true, dtype=float).ravel()
    pred = np.asarray(y_pred, dtype=float).ravel()
    low = float(min(true.min(initial=0), pred.min(initial=0)))
    high = float(max(true.max(initial=1), pred.max(initial=1)))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=true,
            y=pred,
            mode="markers",
            name="Test samples",
            marker={"color": TRAIN_COLOR, "size": 6, "opacity": 0.7},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="Perfect",
            line={"color": BEST_COLOR, "dash": "dash"},
        )
    )
    fig.update_layout(
        title=f"Predicted vs true {html(name)} (test set)",
        xaxis_title=f"True {html(name)}",
        yaxis_title=f"Predicted {html(name)}",
        height=380,
        template="plotly_white",
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig


def probability_figure(
    probabilities: Sequence[float], class_names: Sequence[str] | None = None
) -> go.Figure:
    """Bar chart of one sample's class probabilities, the predicted class highlighted."""
    p = np.asarray(probabilities, dtype=float).ravel()
    names = [str(c) for c in (class_names or range(len(p)))][: len(p)]
    colors = [VAL_COLOR if i == int(p.argmax()) else TRAIN_COLOR for i in range(len(p))]
    fig = go.Figure(go.Bar(x=[html(n) for n in names], y=p, marker_color=colors))
    fig.update_layout(
        yaxis={"range": [0, 1], "title": "Probability"},
        height=220,
        xaxis={"type": "category"},
        template="plotly_white",
        margin={"l": 40, "r": 10, "t": 10, "b": 30},
    )
    return fig


# Class numbers from outputs or labels: one reading, the doctor's.
class_indices = doctor.class_indices


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """(n, classes) probabilities: a single sigmoid column becomes (1 - p, p)."""
    arr = np.asarray(outputs, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[1] == 1:
        return np.concatenate([1 - arr, arr], axis=1)
    return arr


def top_k(
    probabilities: Sequence[float], class_names: Sequence[str] | None = None, k: int = 3
) -> list[tuple[str, float]]:
    """The ``k`` most probable classes as (name, probability), most probable first."""
    p = np.asarray(probabilities, dtype=float).ravel()
    names = [str(c) for c in (class_names or range(len(p)))]
    order = np.argsort(-p, kind="stable")[:k]
    return [(names[i] if i < len(names) else str(i), float(p[i])) for i in order]


# --------------------------------------------------------------------------- compare table


def layers_summary(project: dict) -> str:
    """``Dense(64, relu) > Dense(10, softmax)``: each layer's type, units or filters, activation."""
    parts = []
    for layer in (project.get("model") or {}).get("layers", []):
        config = layer.get("config") or {}
        args = [str(config[k]) for k in ("units", "filters", "rate", "pool_size") if k in config]
        if config.get("activation") not in (None, "linear"):
            args.append(str(config["activation"]))
        parts.append(
            f"{layer.get('class_name', '?')}({', '.join(args)})"
            if args
            else layer.get("class_name", "?")
        )
    return " > ".join(parts)


def _validation_text(validation: dict) -> str:
    method = validation["method"]
    if method == "holdout":
        return f"hold-out {validation.get('count') or validation.get('fraction')}"
    if method == "split":
        return f"split {validation['fraction']}"
    if method == "kfold":
        return f"{validation['k']}-fold"
    return "none"


def settings_row(run: dict) -> dict:
    """One Compare-table row from a ``runs.load_run`` result: settings, then final metrics.

    Metric columns are ``train <name>``, ``val <name>``, ``test <name>`` (last epoch for
    train/val, evaluation for test) and ``k-fold <name>`` for K-fold runs.
    """
    info, project = run.get("info") or {}, run.get("project") or {}
    metrics = run.get("metrics") or {}
    compile_, fit = settings.sections(project)  # runs hold the project they trained
    optimizer = compile_["optimizer"]
    layers = (project.get("model") or {}).get("layers", [])
    units = [
        str((lay.get("config") or {}).get("units"))
        for lay in layers
        if "units" in (lay.get("config") or {})
    ]
    activations = sorted(
        {
            str((lay.get("config") or {}).get("activation"))
            for lay in layers
            if (lay.get("config") or {}).get("activation")
        }
    )
    history = run.get("history") or {}
    row = {
        "run": info.get("id", ""),
        "name": info.get("name", ""),
        "state": info.get("state", ""),
        "layers": layers_summary(project),
        "units": " / ".join(units),
        "activation": ", ".join(activations),
        "loss": str(compile_["loss"]),
        "optimizer": optimizer["class_name"],
        "learning rate": optimizer["config"]["learning_rate"],
        "epochs": len(history.get("epoch") or []) or fit["epochs"],
        "batch size": fit["batch_size"],
        "validation": _validation_text(fit["validation"]),
    }
    for part, prefix in (("train", "train"), ("val", "val"), ("test", "test"), ("kfold", "k-fold")):
        for name, value in (metrics.get(part) or {}).items():
            if name in _NOT_METRICS:
                continue
            name = name[4:] if name.startswith("val_") else name
            row[f"{prefix} {name}"] = value
    return row


def settings_table(runs: Iterable[dict]):
    """A pandas DataFrame of ``settings_row`` for each run (pandas imported on call)."""
    import pandas as pd

    return pd.DataFrame([settings_row(run) for run in runs])


# Spreadsheets read a cell starting with one of these as a formula (=HYPERLINK(...), +cmd,
# -2+3, @SUM, or after a tab / carriage return); OWASP's advice for CSV exports.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A text cell that a spreadsheet shows as the text itself: one that would start a
    formula gets a leading single quote. Numbers and other values are left unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_csv(table) -> str:
    """A DataFrame as CSV text for download, every text cell ``spreadsheet_safe`` (column
    names too: they can come from a project or a CSV file)."""
    safe = table.map(spreadsheet_safe)
    safe.columns = [spreadsheet_safe(str(c)) for c in safe.columns]
    return safe.to_csv(index=False)
