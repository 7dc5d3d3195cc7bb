"""A person's own CSV file as a dataset: inspect it, pick a target, encode it for Keras.

One row is one sample and one column is the target. Numeric columns become features
normalised with the training split's mean and standard deviation; text columns are one-hot
encoded with the categories seen in the training split; empty numeric cells are filled
with the training median. Every problem raises ``DataError`` with a message that names the
column, row or line and says what to change. pandas and scikit-learn are imported inside
the functions that need them.
"""

from __future__ import annotations

import collections
import csv
import functools
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder import limits
from builder.data.errors import DataError
from builder.data.preprocess import standardize, standardize_fit
from builder.data.splits import SPLIT_SEED

__all__ = [
    "MAX_BYTES",
    "MAX_CATEGORIES",
    "MAX_CLASSES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MIN_ROWS",
    "CsvSummary",
    "CsvTable",
    "CsvTarget",
    "TableEncoder",
    "encode_columns",
    "inspect_csv",
    "load_table",
    "load_table_cached",
    "read_header",
    "read_rows",
    "resolve_path",
    "split_rows",
    "target_codes",
]

MAX_BYTES = limits.MAX_CSV_BYTES
MAX_ROWS = limits.MAX_CSV_ROWS
MAX_COLUMNS = limits.MAX_CSV_COLUMNS
MIN_ROWS = 10
# A text column with more distinct values than this is an identifier or free text: one-hot
# encoding it would add that many mostly-zero inputs and teach the model nothing.
MAX_CATEGORIES = 100
# So is one with more distinct values than this share of the training rows (a Name column
# of a 400-row file), once it has more than ``MIN_FREE_TEXT`` of them.
MAX_CATEGORY_SHARE = 0.5
MIN_FREE_TEXT = 10
# Column names that say "row ID": id, ID, Id, index, row_id, PassengerId, customer_id...
_ID_CAMEL = re.compile(r"[a-z](?:Id|ID)$")
LEFT_OUT_BY_USER = "left out on the Data page"
# Classifying into more classes than this means the target is really a number.
MAX_CLASSES = 1000
# "auto" calls a column of whole numbers with at most this many distinct values classes.
AUTO_CLASS_LIMIT = 10
MISSING = "(missing)"

Source = str | os.PathLike | bytes


@dataclass(frozen=True)
class CsvSummary:
    """A first look at a CSV file, before choosing the target.

    ``dtypes`` maps each column to "integer", "number", "bool" or "text"; ``missing`` maps
    columns to their count of empty cells (columns without any are left out); ``preview``
    holds the first rows as dicts.
    """

    columns: list[str]
    dtypes: dict[str, str]
    rows: int
    suggested_target: str
    suggested_task: str
    missing: dict[str, int]
    preview: list[dict]
    delimiter: str


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "number" | "category"
    fill: float | None = None  # numbers: the training median for empty cells
    categories: tuple[str, ...] = ()  # categories: one input per category

    def literal(self) -> dict:
        """The column as plain values, what ``encode_columns`` reads."""
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
    """
    import pandas as pd

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
            if col.kind == "number":
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


# --------------------------------------------------------------------------- reading


def _check_size(source: Source) -> None:
    size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
    if size > MAX_BYTES:
        raise DataError(
            f"the file is {size / 1024**2:,.0f} MB, more than the "
            f"{MAX_BYTES // 1024**2} MB this app reads: keep fewer rows or columns "
            "(a sample of the rows trains just as well to start with)."
        )
    if size == 0:
        raise DataError("the file is empty: choose a CSV with a header line and data rows.")


def resolve_path(path: str | os.PathLike) -> str:
    """Where the file named by a project's ``data.options.path`` is.

    A relative path (what the app stores: the file's name in its uploads folder) is
    resolved against ``builder.paths.uploads_dir()`` and refused when it leads outside it
    (``..``, a symbolic link pointing elsewhere); a missing file says how to fix it. An
    absolute path is used as given: the command line turns the paths a user gives it into
    absolute ones (relative to the project file or the working folder), and the app never
    keeps one (``registry.portable_data``).
    """
    text = os.fspath(path)
    if "\0" in text:
        raise DataError(f"the CSV path {text!r} holds a NUL character: choose the file again.")
    if os.path.isabs(text):
        return text
    from builder import paths

    root = paths.uploads_dir().resolve()
    full = (root / text).resolve()
    if full != root and root not in full.parents:
        raise DataError(
            f"the CSV file {text!r} is outside the app's uploads folder, so it "
            "is not read: upload the file on the Data page."
        )
    if not full.is_file():
        raise DataError(f"the CSV file {text!r} is missing: upload it on the Data page.")
    return str(full)


def _check_path(source: Source) -> None:
    if isinstance(source, bytes):
        return
    path = Path(source)
    if not path.exists():
        raise DataError(f"no file at {str(path)!r}: upload the CSV again or fix the path.")
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file (a device or a pipe)"
        raise DataError(f"{str(path)!r} is {what}, not a CSV file: choose the file itself.")


_SNIFF_BYTES = 65536


def _head_text(source: Source) -> str:
    """The file's first line (the header) and up to 64 KB after it, reading at most
    ``limits.MAX_CSV_HEADER_BYTES`` + 64 KB whatever the file holds."""
    limit = limits.MAX_CSV_HEADER_BYTES + _SNIFF_BYTES
    if isinstance(source, bytes):
        head = source[:limit]
    else:
        with open(source, "rb") as handle:
            head = handle.read(limit)
    first_line = re.search(rb"[\r\n]", head)
    if (first_line is None and len(head) == limit) or (
        first_line is not None and first_line.start() > limits.MAX_CSV_HEADER_BYTES
    ):
        sep_counts = max(head.count(s) for s in (b",", b";", b"\t", b"|"))
        raise DataError(
            f"the header line is longer than "
            f"{limits.fmt_bytes(limits.MAX_CSV_HEADER_BYTES)} (at least "
            f"{sep_counts + 1:,} columns); at most {MAX_COLUMNS:,} columns are "
            'read (README, "Limits and safety"): keep fewer columns.'
        )
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start > len(head) - 4:  # a character cut in half at the end of the sample
            return head[: err.start].decode("utf-8-sig")
        raise DataError(
            "the file is not UTF-8 text (is it a spreadsheet or an image?): save "
            "it as 'CSV UTF-8' and upload it again."
        ) from None


def _delimiter_and_header(source: Source) -> tuple[str, list[str]]:
    """The separator (comma, semicolon, tab or bar) guessed from the first lines, and the
    header's names as written (pandas would rename a repeated name, hiding the mistake).
    DataError for more than ``MAX_COLUMNS`` columns, before pandas reads anything."""
    head = _head_text(source)
    sample = "\n".join(head[:_SNIFF_BYTES].splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        header = next(csv.reader(io.StringIO(head), delimiter=sep), [])
    except csv.Error as err:
        raise DataError(
            f"the header line cannot be read as CSV ({err}): check the first line of the file."
        ) from None
    if len(header) > MAX_COLUMNS:
        raise DataError(
            f"the file has {len(header):,} columns; at most {MAX_COLUMNS:,} are "
            'read (README, "Limits and safety"): keep fewer columns.'
        )
    return sep, [name.strip() for name in header]


def _parser_message(err: Exception) -> str:
    text = str(err)
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        want, line, saw = found.groups()
        return (
            f"line {line} has {saw} values but the header has {want} columns: fix or "
            "remove that line (a value that contains the separator needs quotes)."
        )
    if "EOF inside string" in text:
        row = re.search(r"starting at row (\d+)", text)
        where = f" (it starts in data row {int(row.group(1)) + 1})" if row else ""
        return f"a quoted value is never closed{where}: add the missing closing quote."
    return f"the file could not be read as CSV ({text.strip()}): check it opens as a table."


def read_rows(source, sep, nrows=None):
    """The CSV as pandas reads it for this app: blank lines kept as all-empty rows (so a
    row's index + 2 is its line in the file), a UTF-8 byte-order mark ignored, column
    names stripped. The exported script carries this very function."""
    import pandas as pd

    frame = pd.read_csv(
        source, sep=sep, nrows=nrows, skip_blank_lines=False, encoding="utf-8-sig", index_col=False
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_frame(source: Source, header_only: bool = False):
    """The file as a DataFrame (blank lines kept as all-empty rows, so a row's index + 2 is
    its line in the file), and the separator; DataError for anything unreadable."""
    import pandas as pd

    # One row past the limit tells a file at the limit from one above it.
    nrows = 0 if header_only else MAX_ROWS + 1

    if not isinstance(source, bytes):
        source = resolve_path(source)
    _check_path(source)
    _check_size(source)
    sep, header = _delimiter_and_header(source)
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        # Rows longer than the header are an error (read_rows passes index_col=False, and
        # pandas warns), not silently turned into an index that shifts every column.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = read_rows(handle, sep, nrows)
    except pd.errors.ParserWarning:
        raise DataError(
            f"the data rows have more values than the header has columns "
            f"({len(header)}): name every column in the first line, or remove the "
            "extra separators at the ends of the rows."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file is empty: choose a CSV with a header line and data rows."
        ) from None
    except pd.errors.ParserError as err:
        raise DataError(_parser_message(err)) from None
    except UnicodeDecodeError:
        raise DataError(
            "the file is not UTF-8 text (is it a spreadsheet or an image?): save "
            "it as 'CSV UTF-8' and upload it again."
        ) from None
    if len(frame) > MAX_ROWS:
        raise DataError(
            f"the file has more than {MAX_ROWS:,} rows, the most this app reads: "
            "keep a sample of the rows."
        )
    counts = collections.Counter(header)
    duplicated = sorted(c for c, n in counts.items() if c and n > 1)
    unnamed = [c for c in frame.columns if c.startswith("Unnamed: ")]
    if duplicated:
        raise DataError(
            f"the header names {', '.join(map(repr, duplicated))} more than once: "
            "give every column its own name."
        )
    if unnamed:
        raise DataError(
            f"the header has {len(unnamed)} empty column name(s) (columns "
            f"{', '.join(str(frame.columns.get_loc(c) + 1) for c in unnamed)}): "
            "name every column in the first line."
        )
    return frame, sep


@functools.lru_cache(maxsize=16)
def _header_cached(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    frame, _ = _read_frame(path, header_only=True)
    return tuple(frame.columns)


def _stat_key(path: str | os.PathLike) -> tuple[str, int, int]:
    path = resolve_path(path)
    _check_path(path)
    stat = os.stat(path)
    return os.path.abspath(path), stat.st_mtime_ns, stat.st_size


def read_header(path: str | os.PathLike) -> list[str]:
    """The column names of the CSV at ``path`` (reads only the first line; cached)."""
    return list(_header_cached(*_stat_key(path)))


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


def inspect_csv(source: Source) -> CsvSummary:
    """Columns, their kinds, row count and a suggested target (the last column).

    ``source`` is a path or the file's bytes (an upload not yet saved). Raises DataError
    for files that are empty, too big, not UTF-8 or not well-formed CSV.
    """
    frame, sep = _read_frame(source)
    frame = frame.dropna(how="all")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError("the file has a header but no data rows: add rows below the header.")
    target = frame.columns[-1]
    missing = {c: int(n) for c, n in frame.isna().sum().items() if n}
    preview = frame.head(5).astype(object).where(frame.head(5).notna(), None)
    return CsvSummary(
        columns=list(frame.columns),
        dtypes={c: _kind(frame[c]) for c in frame.columns},
        rows=len(frame),
        suggested_target=target,
        suggested_task=_infer_task(frame[target]),
        missing=missing,
        preview=preview.to_dict("records"),
        delimiter=sep,
    )


# --------------------------------------------------------------------------- encoding


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
        many = len(categories) > MIN_FREE_TEXT and len(categories) > MAX_CATEGORY_SHARE * len(train)
        if len(categories) > MAX_CATEGORIES or many:
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
    last column); DataError naming a column the file lacks or one with empty cells."""
    pairs = list(targets) or [(target or frame.columns[-1], task)]
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


def load_table(
    source: Source,
    target: str = "",
    task: str = "auto",
    test_fraction: float = 0.2,
    normalize: bool = True,
    targets: tuple[tuple[str, str], ...] = (),
    exclude: tuple[str, ...] = (),
) -> CsvTable:
    """Read, split (seeded, stratified for classes) and encode a CSV file.

    ``target`` empty means the last column. ``task`` is "auto", "binary", "multiclass" or
    "regression". ``targets`` ((column, task), ...) replaces both with several target
    columns, each encoded on its own; the split keeps their rows aligned and stratifies on
    the first. ``exclude`` names columns that are not inputs; columns that number the rows
    (row IDs), free text and empty columns are left out too (``encoder.dropped`` says
    why). Returns x as (rows, features) float32 with statistics from the training
    split only. Raises DataError for every problem a person can fix in the file or settings.
    """
    frame, sep = _read_frame(source)
    notes: list[str] = []
    frame = frame.dropna(how="all")
    if len(frame) == 0:
        raise DataError("the file has a header but no data rows: add rows below the header.")
    if frame.shape[1] < 2:
        raise DataError(
            f"the file has one column ({frame.columns[0]!r}); it needs the target "
            "and at least one feature column. If the values are separated by "
            "something other than , ; tab or |, save it as a comma-separated CSV."
        )
    pairs = _target_columns(frame, target, task, targets)
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"the file has {len(frame)} data rows; at least {MIN_ROWS} are needed "
            "to train on some and test on the others."
        )
    _refuse_infinities(frame)
    encoded = [(column, *_target(frame, column, column_task)) for column, column_task in pairs]
    features = frame.drop(columns=[column for column, _ in pairs])
    dropped: list[tuple[str, str]] = []
    features = _leave_out(features, exclude, notes, dropped)
    features = features.reset_index(drop=True)
    _, first_task, first_y, *_ = encoded[0]
    train_idx, test_idx = split_rows(len(features), first_y, first_task, test_fraction, SPLIT_SEED)
    raw_train, raw_test = features.iloc[train_idx], features.iloc[test_idx]
    encoder = _fit_encoder(raw_train, normalize, notes, dropped, rows=len(features))
    for col in encoder.columns:
        blanks = int(features[col.name].isna().sum())
        if not blanks:
            continue
        if col.kind == "number":
            notes.append(
                f"Column {col.name!r}: {blanks:,} empty cell(s) filled with the "
                f"training median {col.fill:g}."
            )
        else:
            notes.append(
                f"Column {col.name!r}: {blanks:,} empty cell(s) treated as the "
                f"category {MISSING!r}."
            )
    unseen = {}
    for col in encoder.columns:
        if col.kind == "category":
            text = raw_test[col.name].astype(object).where(raw_test[col.name].notna(), MISSING)
            count = int((~text.astype(str).isin(col.categories)).sum())
            if count:
                unseen[col.name] = count
    for name, count in unseen.items():
        notes.append(
            f"Column {name!r}: {count:,} test row(s) hold a value never seen in "
            "training; they are encoded as all zeros for that column."
        )
    x_train, x_test = encoder.encode(raw_train), encoder.encode(raw_test)
    columns = tuple(
        CsvTarget(
            column=column,
            task=column_task,
            y_train=y[train_idx],
            y_test=y[test_idx],
            num_classes=num_classes,
            class_names=class_names,
            classes=classes,
            is_text=classes is not None and _kind(frame[column]) == "text",
        )
        for column, column_task, y, num_classes, class_names, classes in encoded
    )
    first = columns[0]
    return CsvTable(
        x_train=x_train,
        y_train=first.y_train,
        x_test=x_test,
        y_test=first.y_test,
        feature_names=encoder.feature_names,
        target=first.column,
        task=first.task,
        num_classes=first.num_classes,
        class_names=first.class_names,
        encoder=encoder,
        raw_train=raw_train.reset_index(drop=True),
        raw_test=raw_test.reset_index(drop=True),
        notes=notes,
        delimiter=sep,
        target_classes=first.classes,
        target_is_text=first.is_text,
        targets=columns,
    )


@functools.lru_cache(maxsize=4)
def _load_cached(
    path: str,
    mtime_ns: int,
    size: int,
    target: str,
    task: str,
    test_fraction: float,
    normalize: bool,
    targets: tuple[tuple[str, str], ...] = (),
    exclude: tuple[str, ...] = (),
) -> CsvTable:
    table = load_table(path, target, task, test_fraction, normalize, targets, exclude)
    arrays = [table.x_train, table.x_test]
    arrays += [y for col in table.targets for y in (col.y_train, col.y_test)]
    for array in arrays:
        array.flags.writeable = False  # shared between callers: nobody may change it
    return table


def load_table_cached(options: dict) -> CsvTable:
    """``load_table`` for the csv dataset's options, cached until the file changes."""
    return _load_cached(
        *_stat_key(options["path"]),
        options["target"],
        options["task"],
        float(options["test_fraction"]),
        bool(options["normalize"]),
        tuple((t["column"], t.get("task", "auto")) for t in options.get("targets") or ()),
        tuple(options.get("exclude") or ()),
    )
