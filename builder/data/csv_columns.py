"""What each column of a CSV table is: its kind, and the column a person would predict.

Pure functions over the pandas DataFrame that ``csv_data`` reads (no file access): a
column's kind ("integer", "number", "bool", "text"), the task it suggests, whether it is a
row ID or free text, and ``guess_target``. Both reading (``csv_data.inspect_csv``) and
encoding (``csv_encode``) ask these questions, so they live here, below both. pandas is
imported inside the functions that need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# A text column with more distinct values than this is an identifier or free text: one-hot
# encoding it would add that many mostly-zero inputs and teach the model nothing.
MAX_CATEGORIES = 100
# So is one with more distinct values than this share of the training rows (a Name column
# of a 400-row file), once it has more than ``MIN_FREE_TEXT`` of them.
MAX_CATEGORY_SHARE = 0.5
MIN_FREE_TEXT = 10
# Column names that say "row ID": id, ID, Id, index, row_id, PassengerId, customer_id...
_ID_CAMEL = re.compile(r"[a-z](?:Id|ID)$")
# "auto" calls a column of whole numbers with at most this many distinct values classes.
AUTO_CLASS_LIMIT = 10


@dataclass(frozen=True)
class TargetGuess:
    """The column a person would predict, why, and the other columns that could be it.

    ``alternatives`` are the other usable columns (neither row ID, free text, empty nor
    one value), those named like a target first, then from the last column backwards.
    """

    column: str
    reason: str
    alternatives: tuple[str, ...]


def _kind(series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        values = series.dropna().to_numpy()
        with np.errstate(invalid="ignore"):  # inf % 1 is NaN: not whole
            whole = values.size > 0 and bool(np.all(np.mod(values, 1) == 0))
        return "integer" if whole else "number"
    return "text"


def _infer_task(series) -> str:
    kind = _kind(series)
    distinct = series.nunique(dropna=True)
    if kind in ("text", "bool") or (kind == "integer" and distinct <= AUTO_CLASS_LIMIT):
        return "binary" if distinct <= 2 else "multiclass"
    return "regression"


# Names people give the column to predict, most telling first (compared without case,
# spaces, "_" or "-"): an exact name, then a name made of words one of which is here.
TARGET_NAMES = (
    "target",
    "label",
    "labels",
    "class",
    "y",
    "outcome",
    "response",
    "price",
    "saleprice",
    "medv",
    "survived",
    "churn",
    "diagnosis",
    "species",
    "quality",
    "result",
    "output",
    "goal",
    "default",
    "grade",
    "progression",
    "charges",
    "medhouseval",
    "medianhousevalue",
    "heartdisease",
    "mpg",
)
_TARGET_WORDS = {"target", "label", "class", "outcome", "response", "price"}


def _words(name: str) -> list[str]:
    """A column name's words, lower case: "SalePrice" -> ["sale", "price"], "is_default"
    -> ["is", "default"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _target_rank(name: str) -> int | None:
    """How strongly the name says "the column to predict": a smaller number is stronger,
    None when it does not say it."""
    plain = "".join(_words(name))
    if plain in TARGET_NAMES:
        return TARGET_NAMES.index(plain)
    if any(word in _TARGET_WORDS for word in _words(name)):
        return len(TARGET_NAMES)
    return None


def _too_many_categories(distinct: int, rows: int) -> bool:
    """A text column with this many different values in ``rows`` rows is free text or an
    identifier: one-hot encoding it would add that many inputs and teach nothing."""
    return distinct > MAX_CATEGORIES or (
        distinct > MIN_FREE_TEXT and distinct > MAX_CATEGORY_SHARE * rows
    )


def _unusable_target(name: str, series) -> str | None:
    """Why a column cannot be the one to predict (row ID, free text, empty, one value),
    or None when it can."""
    values = series.dropna()
    if values.empty:
        return "empty"
    if _looks_like_row_id(name, series):
        return "a row ID"
    distinct = values.nunique()
    if distinct < 2:
        return "one value in every row"
    if _kind(series) == "text" and _too_many_categories(distinct, len(series)):
        return "free text"
    return None


def guess_target(frame) -> TargetGuess:
    """The column a person would choose to predict in ``frame`` (a DataFrame of the file).

    Never a row ID, free text, an empty column or one holding one value. A column named
    like a target (``TARGET_NAMES``: target, label, class, y, outcome, price, ...) wins;
    otherwise the last usable column without empty cells (training refuses empty targets,
    naming the lines; a column named like a target is still chosen, and that says where).
    """
    reasons = {name: _unusable_target(name, frame[name]) for name in frame.columns}
    usable = [name for name in frame.columns if reasons[name] is None]
    full = [name for name in usable if not frame[name].isna().any()]
    pool = full or usable or list(frame.columns)
    position = {name: i for i, name in enumerate(frame.columns)}  # not list.index: linear
    named = sorted(
        (name for name in usable or pool if _target_rank(name) is not None),
        key=lambda name: (_target_rank(name), -position[name]),
    )
    if named:
        column = named[0]
        reason = f"its name, '{column}', is what people call the column to predict"
    else:
        column = pool[-1]
        later = list(frame.columns[position[column] + 1 :])
        why = "; ".join(
            f"'{name}' is {reasons[name] or 'empty in some rows'}" for name in later[:3]
        )
        reason = (
            "the last column"
            + (f" that can be predicted ({why})" if later else "")
            + "; no column is named like a target (target, label, class, y, price, ...)"
        )
    others = [name for name in usable if name != column]
    ranked = sorted(
        others,
        key=lambda name: (
            _target_rank(name) is None,
            _target_rank(name) or 0,
            -position[name],
        ),
    )
    return TargetGuess(column, reason, tuple(ranked))


def _id_named(name: str) -> bool:
    """The name says "row ID" (id, ID, row_id, customer_id, PassengerId; not "valid")."""
    plain = re.fullmatch(r"(?:id|index|row|row_?id|row_?num(?:ber)?)", name, re.I)
    return bool(plain or re.search(r"[_ .-]id$", name, re.I) or _ID_CAMEL.search(name))


def _looks_like_row_id(name: str, series) -> bool:
    """A column of whole numbers, a different one in every row, that is named like an ID or
    numbers the rows (0, 1, 2, ... or 1, 2, 3, ... from the first row): it predicts nothing.
    Other columns that count up by one (a year per row, rooms 2 to 15) stay inputs."""
    if _kind(series) != "integer" or series.isna().any() or len(series) < 2:
        return False
    if not series.is_unique:
        return False
    if _id_named(name):
        return True
    values = series.to_numpy(np.float64)
    return bool(values[0] in (0, 1) and np.all(np.diff(values) == 1))
