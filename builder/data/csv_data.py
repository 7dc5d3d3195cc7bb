"""A person's own CSV file as a dataset: inspect it, pick a target, encode it for Keras.

One row is one sample and one column is the target. Numeric columns become features
normalised with the training split's mean and standard deviation; text columns are one-hot
encoded with the categories seen in the training split; empty numeric cells are filled
with the training median. Every problem raises ``DataError`` with a message that names the
column, row or line and says what to change. pandas and scikit-learn are imported inside
the functions that need them.

This module reads the file (size, path, separator and header checks, then pandas) and
ties reading to encoding in ``load_table``; what each column is lives in
``csv_columns`` and the encoding in ``csv_encode``. Their public names are
re-exported here, the one place the rest of the app imports from.
"""

from __future__ import annotations

import collections
import csv
import functools
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from builder import limits
from builder.data.csv_columns import (
    AUTO_CLASS_LIMIT,
    MAX_CATEGORIES,
    MAX_CATEGORY_SHARE,
    MIN_FREE_TEXT,
    TARGET_NAMES,
    TargetGuess,
    _infer_task,
    _kind,
    guess_target,
)
from builder.data.csv_encode import (
    LEFT_OUT_BY_USER,
    MAX_CLASSES,
    MISSING,
    CsvTable,
    CsvTarget,
    TableEncoder,
    _Column,
    _fit_encoder,
    _leave_out,
    _refuse_infinities,
    _target,
    _target_columns,
    _text_input,
    encode_columns,
    split_rows,
    target_codes,
)
from builder.data.errors import DataError
from builder.data.splits import SPLIT_SEED

__all__ = [
    "AUTO_CLASS_LIMIT",
    "LEFT_OUT_BY_USER",
    "MAX_BYTES",
    "MAX_CATEGORIES",
    "MAX_CATEGORY_SHARE",
    "MAX_CLASSES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MIN_FREE_TEXT",
    "MIN_ROWS",
    "MISSING",
    "TARGET_NAMES",
    "CsvSummary",
    "CsvTable",
    "CsvTarget",
    "TableEncoder",
    "TargetGuess",
    "encode_columns",
    "guess_target",
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
    target_reason: str = ""
    target_alternatives: tuple[str, ...] = ()


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


def inspect_csv(source: Source) -> CsvSummary:
    """Columns, their kinds, row count and a suggested target (``guess_target``).

    ``source`` is a path or the file's bytes (an upload not yet saved). Raises DataError
    for files that are empty, too big, not UTF-8 or not well-formed CSV.
    """
    frame, sep = _read_frame(source)
    frame = frame.dropna(how="all")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError("the file has a header but no data rows: add rows below the header.")
    guess = guess_target(frame)
    target = guess.column
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
        target_reason=guess.reason,
        target_alternatives=guess.alternatives,
    )


def load_table(
    source: Source,
    target: str = "",
    task: str = "auto",
    test_fraction: float = 0.2,
    normalize: bool = True,
    targets: tuple[tuple[str, str], ...] = (),
    exclude: tuple[str, ...] = (),
    text: str = "",
) -> CsvTable:
    """Read, split (seeded, stratified for classes) and encode a CSV file.

    ``target`` empty means the guessed column (``guess_target``). ``task`` is "auto",
    "binary", "multiclass" or "regression". ``targets`` ((column, task), ...) replaces
    both with several target columns, each encoded on its own; the split keeps their rows
    aligned and stratifies on the first. ``exclude`` names columns that are not inputs;
    columns that number the rows (row IDs), free text and empty columns are left out too
    (``encoder.dropped`` says why). Returns x as (rows, features) float32 with
    statistics from the training split only. Raises DataError for every problem a
    person can fix in the file or settings. ``text`` names a free-text column that is the
    model's one input: x is then (rows,) strings, the column's raw text (see
    ``_text_input``).
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
    if text:
        features = _text_input(features, text, [column for column, _ in pairs], notes, dropped)
    else:
        features = _leave_out(features, exclude, notes, dropped)
    features = features.reset_index(drop=True)
    _, first_task, first_y, *_ = encoded[0]
    train_idx, test_idx = split_rows(len(features), first_y, first_task, test_fraction, SPLIT_SEED)
    raw_train, raw_test = features.iloc[train_idx], features.iloc[test_idx]
    if text:
        encoder = TableEncoder((_Column(text, "text"),), dropped=tuple(dropped))
    else:
        encoder = _fit_encoder(raw_train, normalize, notes, dropped, rows=len(features))
    for col in encoder.columns:
        blanks = int(features[col.name].isna().sum())
        if not blanks:
            continue
        if col.kind == "text":
            notes.append(f"Column {col.name!r}: {blanks:,} empty cell(s) read as empty text.")
        elif col.kind == "number":
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
            cells = raw_test[col.name].astype(object).where(raw_test[col.name].notna(), MISSING)
            count = int((~cells.astype(str).isin(col.categories)).sum())
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
    text: str = "",
) -> CsvTable:
    table = load_table(path, target, task, test_fraction, normalize, targets, exclude, text)
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
        options.get("text") or "",
    )
