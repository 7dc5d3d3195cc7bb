"""A CSV table encoded for Keras: targets, the seeded split and the fitted input encoder.

Numeric columns become features normalised with the training split's mean and standard
deviation; text columns are one-hot encoded with the categories seen in the training
split; empty numeric cells are filled with the training median. ``csv_data.load_table``
reads the file and calls these; ``encode_columns``, ``target_codes`` and ``split_rows``
are also carried verbatim by the exported script, so the app and the script encode alike.
pandas and scikit-learn are imported inside the functions that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder import limits
from builder.data.csv_columns import (
    _infer_task,
    _kind,
    _looks_like_row_id,
    _too_many_categories,
    guess_target,
)
from builder.data.errors import DataError
from builder.data.preprocess import standardize, standardize_fit

LEFT_OUT_BY_USER = "left out on the Data page"
# Classifying into more classes than this means the target is really a number.
MAX_CLASSES = 1000
MISSING = "(missing)"


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "number" | "category" | "text"
    fill: float | None = None  # numbers: the training median for empty cells
    categories: tuple[str, ...] = ()  # categories: one input per category

    def literal(self) -> dict:
        """The column as plain values, what ``encode_columns`` reads."""
        if self.kind == "text":
            return {"name": self.name, "kind": "text"}
        if self.kind == "number":
            return {"name": self.name, "kind": "number", "fill": float(self.fill)}
        return {"name": self.name, "kind": "category", "categories": list(self.categories)}


def encode_columns(frame, columns):
    """(rows, features) float32 inputs of a table, before normalisation.

    ``columns`` lists the kept columns as plain dicts: {"name", "kind": "number", "fill"}
    (empty or non-numeric cells become the training median ``fill``) or {"name", "kind":
    "category", "categories"} (one 0/1 input per category; an empty cell is the category
    "(missing)", a value never seen in training encodes as all zeros). The app trains
    with this function and the exported script carries it, so both encode alike.
    A {"name", "kind": "text"} column is the model's one input, its raw text: (rows,)
    strings (an empty cell is the empty text), for a TextVectorization in the model.
    """
    import pandas as pd

    texts = [col for col in columns if col["kind"] == "text"]
    if texts:
        values = frame[texts[0]["name"]]
        return values.astype(object).where(values.notna(), "").astype(str).to_numpy(object)
    parts = []
    for col in columns:
        values = frame[col["name"]]
        if col["kind"] == "number":
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            parts.append(numbers.fillna(col["fill"]).to_numpy(np.float32)[:, None])
        else:
            text = values.astype(object).where(values.notna(), "(missing)").astype(str)
            codes = pd.Categorical(text, categories=list(col["categories"])).codes
            onehot = np.zeros((len(codes), len(col["categories"])), np.float32)
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
    if not parts:
        return np.zeros((len(frame), 0), np.float32)
    return np.concatenate(parts, axis=1)


@dataclass(frozen=True)
class TableEncoder:
    """Turns rows of the original columns into model inputs, the same way for every split.

    Fitted on the training split only: medians, categories, mean and standard deviation
    all come from it, so the test split and new rows are encoded without looking at them.
    ``dropped`` lists the columns left out, each with why: (name, reason).
    """

    columns: tuple[_Column, ...]
    mean: np.ndarray | None = None  # (features,), None when not normalising
    std: np.ndarray | None = None
    dropped: tuple[tuple[str, str], ...] = ()

    @property
    def feature_names(self) -> list[str]:
        names = []
        for col in self.columns:
            if col.kind in ("number", "text"):
                names.append(col.name)
            else:
                names.extend(f"{col.name}={cat}" for cat in col.categories)
        return names

    def encode_raw(self, frame) -> np.ndarray:
        """(rows, features) float32 before normalisation; unknown categories encode as zeros."""
        return encode_columns(frame, [col.literal() for col in self.columns])

    def encode(self, frame) -> np.ndarray:
        """(rows, features) float32 model inputs for a DataFrame of the original columns."""
        x = self.encode_raw(frame)
        if x.dtype.kind == "O":  # a text column: the model's input is its raw text
            return x
        if self.mean is not None:
            x = standardize(x, self.mean, self.std)
        return x.astype(np.float32, copy=False)


@dataclass(frozen=True, eq=False)
class CsvTarget:
    """One target column, encoded: class numbers (int32) or values (float32) per split.

    ``classes``: the column's values in class order as pandas read them (None for
    regression); ``is_text``: the column is read as text before matching its classes.
    """

    column: str
    task: str
    y_train: np.ndarray
    y_test: np.ndarray
    num_classes: int | None
    class_names: tuple[str, ...] | None
    classes: tuple | None
    is_text: bool


@dataclass
class CsvTable:
    """A CSV file encoded for Keras.

    x_*: (rows, features) float32. y_*: class numbers (int32) for classification, values
    (float32) for regression; the data layer turns them into what the loss needs.
    raw_*: the original feature columns of each split, for showing samples.
    ``delimiter``: the separator the file uses. ``target_classes``: the target's values in
    class order, as pandas read them (numbers, bools or text), None for regression;
    ``target_is_text``: the target is read as text before matching its classes.
    ``targets``: every target column in order (one unless the file has several, each for
    its own model output); the fields above are the first one's.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    target: str
    task: str
    num_classes: int | None
    class_names: tuple[str, ...] | None
    encoder: TableEncoder
    raw_train: Any
    raw_test: Any
    notes: list[str] = field(default_factory=list)
    delimiter: str = ","
    target_classes: tuple | None = None
    target_is_text: bool = False
    targets: tuple[CsvTarget, ...] = ()


def _lines(index) -> str:
    """File line numbers (header is line 1) of DataFrame rows, at most ten of them."""
    lines = [str(i + 2) for i in list(index)[:10]]
    more = f" and {len(index) - 10} more" if len(index) > 10 else ""
    return ", ".join(lines) + more


def _refuse_infinities(frame) -> None:
    """DataError naming the column and lines of an infinite number (``inf``, ``-Infinity``,
    ``1e400``): pandas reads them as numbers, and one of them turns a column's mean, every
    normalised input and then the loss into NaN."""
    import pandas as pd

    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            continue
        bad = frame.index[np.isinf(series.to_numpy(np.float64, na_value=np.nan))]
        if len(bad):
            raise DataError(
                f"column {name!r} holds an infinite number (inf, or one too large "
                f"for a float such as 1e400) on line(s) {_lines(bad)} of the file: "
                "write a finite number there, or leave the cell empty."
            )


def _class_label(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def target_codes(values, classes):
    """Class numbers (int32) of target values: each value's place in ``classes``, -1 for a
    value that is not one of them. The exported script carries this very function."""
    import pandas as pd

    return pd.Categorical(values, categories=list(classes)).codes.astype(np.int32)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (a literal the exported script can hold)."""
    return value.item() if isinstance(value, np.generic) else value


def _target(
    frame, target: str, task: str
) -> tuple[str, np.ndarray, int | None, tuple | None, tuple | None]:
    """Resolve the task and encode the target:
    (task, y, num_classes, class_names, classes as pandas read them)."""
    import pandas as pd

    series = frame[target]
    kind = _kind(series)
    if task == "auto":
        task = _infer_task(series)
    if task == "regression":
        if kind in ("text", "bool"):
            examples = ", ".join(repr(v) for v in series.astype(str).unique()[:3])
            raise DataError(
                f"target {target!r} holds text ({examples}...), and regression "
                "needs numbers: choose task 'binary' or 'multiclass', or another "
                "target column."
            )
        return task, series.to_numpy(np.float32), None, None, None
    values = series.astype(str) if kind == "text" else series
    classes = pd.unique(values)
    classes = sorted(classes, key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataError(
            f"target {target!r} has the same value {_class_label(classes[0])!r} in "
            f"all {len(frame):,} rows: a classifier needs at least two classes."
        )
    if task == "binary" and len(classes) != 2:
        raise DataError(
            f"target {target!r} has {len(classes)} classes, and task 'binary' "
            "needs exactly 2: choose task 'multiclass' (or 'auto')."
        )
    if len(classes) > MAX_CLASSES:
        raise DataError(
            f"target {target!r} has {len(classes):,} distinct values, too many to "
            "be classes: choose task 'regression' (or 'auto') to predict the number."
        )
    codes = target_codes(values, classes)
    return (
        task,
        codes,
        len(classes),
        tuple(_class_label(c) for c in classes),
        tuple(_plain(c) for c in classes),
    )


def split_rows(n, y, task, test_fraction, seed):
    """(train rows, test rows), sorted: a seeded split keeping ``test_fraction`` (rounded
    up) for testing, stratified by class when every class can be on both sides. The
    exported script carries this very function."""
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    n_test = int(np.ceil(n * test_fraction))
    stratify = None
    if task != "regression":
        counts = np.bincount(y)
        classes = np.count_nonzero(counts)
        # Stratifying needs every class twice and room for each class on both sides.
        if counts[counts > 0].min() >= 2 and classes <= n_test and classes <= n - n_test:
            stratify = y
    train, test = train_test_split(index, test_size=n_test, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


def _check_encoded_size(rows: int, columns) -> None:
    """DataError before encoding when rows x inputs (text columns one-hot) is more than
    ``limits.MAX_CSV_ENCODED_VALUES`` or than the machine's free memory can hold (about
    three float32 copies exist while encoding)."""
    inputs = sum(1 if col.kind == "number" else len(col.categories) for col in columns)
    values = rows * inputs
    need = 3 * 4 * values
    free = limits.available_memory()
    if values > limits.MAX_CSV_ENCODED_VALUES or (
        free is not None and need > free * limits.MEMORY_HEADROOM
    ):
        texts = sorted(
            (col for col in columns if col.kind == "category"), key=lambda col: -len(col.categories)
        )[:3]
        hint = (
            " The text columns with the most values: "
            + ", ".join(f"{col.name!r} ({len(col.categories)})" for col in texts)
            + "."
            if texts
            else ""
        )
        room = f"; this machine has {limits.fmt_bytes(free)} free" if free is not None else ""
        raise DataError(
            f"the table would become {rows:,} rows x {inputs:,} inputs once each "
            f"text value is an input of its own: {limits.fmt_bytes(need)} to "
            f"encode, more than netbuilder allows (at most "
            f'{limits.MAX_CSV_ENCODED_VALUES:,} values, README "Limits and '
            f'safety"{room}). Leave out text columns with many different '
            f"values (Data page, Leave out columns), or keep fewer rows.{hint}"
        )


def _leave_out(features, exclude, notes: list[str], dropped: list[tuple[str, str]]):
    """``features`` without the columns the user left out (``exclude``), row IDs and
    all-empty columns, each added to ``dropped`` with why."""
    chosen = [c for c in exclude if c in features.columns]
    missing = [c for c in exclude if c not in features.columns]
    if missing:
        notes.append(
            "Column(s) " + ", ".join(map(repr, missing)) + " to leave out are not features "
            "of this file (not in it, or a column to predict): nothing to leave out there."
        )
    dropped.extend((c, LEFT_OUT_BY_USER) for c in chosen)
    features = features.drop(columns=chosen)
    ids = [c for c in features.columns if _looks_like_row_id(c, features[c])]
    if ids:
        notes.append(
            "Column(s) " + ", ".join(map(repr, ids)) + " look like row IDs (a different whole "
            "number in every row) and were left out: an ID tells the model nothing about "
            "new rows."
        )
        dropped.extend((c, "looks like a row ID") for c in ids)
        features = features.drop(columns=ids)
    empty = [c for c in features.columns if features[c].isna().all()]
    if empty:
        notes.append(
            "Column(s) " + ", ".join(map(repr, empty)) + " are empty in every row and "
            "were left out."
        )
        dropped.extend((c, "empty in every row") for c in empty)
        features = features.drop(columns=empty)
    return features


def _text_input(features, text: str, target_columns, notes: list[str], dropped) -> Any:
    """``features`` reduced to the free-text column ``text``, the model's one input (for a
    TextVectorization in the model); every other column is left out, saying why."""
    if text in target_columns:
        raise DataError(
            f"column {text!r} is the column to predict, so it cannot also be the text the "
            "model reads: choose another text column or another target."
        )
    if text not in features.columns:
        raise DataError(
            f"the file has no column {text!r} to read as text: its columns are "
            f"{', '.join(map(str, features.columns))}."
        )
    others = [c for c in features.columns if c != text]
    if others:
        notes.append(
            f"The model reads the text of column {text!r} alone; "
            + ", ".join(map(repr, others))
            + " are left out (a model with one text input)."
        )
        dropped.extend((c, f"the model reads the text column {text!r} alone") for c in others)
    return features[[text]]


def _fit_encoder(
    train,
    normalize: bool,
    notes: list[str],
    dropped: list[tuple[str, str]],
    rows: int | None = None,
) -> TableEncoder:
    import pandas as pd

    columns = []
    for name in train.columns:
        series = train[name]
        kind = _kind(series)
        if kind in ("integer", "number", "bool"):
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            median = float(numbers.median())
            if np.isnan(median):
                notes.append(f"Column {name!r} was left out: it is empty in every training row.")
                dropped.append((name, "empty in every training row"))
                continue
            columns.append(_Column(name, "number", fill=median))
            continue
        text = series.astype(object).where(series.notna(), MISSING).astype(str)
        categories = tuple(sorted(text.unique()))
        if _too_many_categories(len(categories), len(train)):
            numeric = pd.to_numeric(series, errors="coerce")
            hint = ""
            if numeric.notna().mean() >= 0.9:
                bad = series[numeric.isna() & series.notna()].astype(str).unique()[:3]
                hint = (
                    " It is mostly numbers with some text ("
                    + ", ".join(map(repr, bad))
                    + "): clean those cells to use it as a number."
                )
            notes.append(
                f"Column {name!r} was left out: it holds {len(categories):,} "
                f"different text values in {len(train):,} training rows (an identifier "
                f"or free text?), which would become {len(categories):,} inputs.{hint}"
            )
            dropped.append(
                (
                    name,
                    f"free text/identifier: {len(categories):,} different text values "
                    f"in {len(train):,} training rows",
                )
            )
            continue
        columns.append(_Column(name, "category", categories=categories))
    if not columns:
        why = (
            " (left out: " + "; ".join(f"{name!r}, {reason}" for name, reason in dropped) + ")"
            if dropped
            else ""
        )
        raise DataError(
            f"no usable feature columns are left besides the target{why}: the model "
            "needs at least one column of numbers or of a few repeated words (on the "
            "Data page, leave fewer columns out)."
        )
    _check_encoded_size(len(train) if rows is None else rows, columns)
    encoder = TableEncoder(tuple(columns), dropped=tuple(dropped))
    if not normalize:
        return encoder
    raw = encoder.encode_raw(train)
    names = encoder.feature_names
    is_number = np.concatenate(
        [
            [c.kind == "number"] if c.kind == "number" else [False] * len(c.categories)
            for c in columns
        ]
    )
    same = raw.min(axis=0, initial=np.inf) == raw.max(axis=0, initial=-np.inf)
    constant = [names[i] for i in np.flatnonzero(is_number & same)]
    if constant:
        notes.append(
            "Column(s) " + ", ".join(map(repr, constant)) + " hold one value in every "
            "training row, so they tell the model nothing; kept as zeros."
        )
    # One-hot inputs stay 0/1: only number columns are normalised.
    mean, std = standardize_fit(raw, only=is_number)
    return TableEncoder(tuple(columns), mean=mean, std=std, dropped=tuple(dropped))


def _target_columns(frame, target: str, task: str, targets) -> list[tuple[str, str]]:
    """[(column, task), ...]: ``targets`` when given, else the one ``target`` (empty: the
    guessed column, ``guess_target``); DataError naming a column the file lacks or one
    with empty cells."""
    pairs = list(targets) or [(target or guess_target(frame).column, task)]
    for column, _ in pairs:
        if column not in frame.columns:
            raise DataError(
                f"the file has no column {column!r}: its columns are {', '.join(frame.columns)}."
            )
        empty_target = frame.index[frame[column].isna()]
        if len(empty_target):
            raise DataError(
                f"target {column!r} is empty on line(s) {_lines(empty_target)} of the "
                "file: fill those cells or delete those rows."
            )
    if len(pairs) >= frame.shape[1]:
        raise DataError(
            f"all {frame.shape[1]} columns of the file are targets: at least one column "
            "must be left as a feature to predict them from."
        )
    return pairs
