"""csv_data.guess_target: the column a person would predict, on messy column sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from builder.data import csv_data, inspect_csv

ROWS = 60


def _frame(columns: dict[str, str]) -> pd.DataFrame:
    """A table of ROWS rows, each column made from a kind: "id" (1, 2, 3...), "bigid"
    (different large numbers), "text" (free text), "cat" (3 words), "num" (floats),
    "int" (0-4), "blank" (numbers with empty cells), "empty", "same" (one value)."""
    rng = np.random.default_rng(0)
    make = {
        "id": lambda: np.arange(1, ROWS + 1),
        "bigid": lambda: rng.permutation(np.arange(80_000, 80_000 + ROWS)) * 7,
        "text": lambda: [f"note {i}: {rng.integers(1000)}" for i in range(ROWS)],
        "cat": lambda: rng.choice(["red", "green", "blue"], ROWS),
        "num": lambda: rng.normal(50, 10, ROWS),
        "int": lambda: rng.integers(0, 5, ROWS),
        "blank": lambda: np.where(rng.random(ROWS) < 0.2, np.nan, rng.normal(size=ROWS)),
        "empty": lambda: np.full(ROWS, np.nan),
        "same": lambda: np.ones(ROWS),
    }
    return pd.DataFrame({name: make[kind]() for name, kind in columns.items()})


@pytest.mark.parametrize(
    "columns, expected, why",
    [
        # named like a target, wherever it stands
        ({"id": "id", "target": "int", "a": "num", "notes": "text"}, "target", "its name"),
        (
            {"PassengerId": "id", "Survived": "int", "Age": "num", "Name": "text"},
            "Survived",
            "name",
        ),
        ({"row": "id", "price": "num", "rooms": "int", "area": "num"}, "price", "its name"),
        ({"SalePrice": "num", "LotArea": "num", "Street": "cat"}, "SalePrice", "its name"),
        ({"class": "cat", "x1": "num", "x2": "num", "comment": "text"}, "class", "its name"),
        ({"a": "num", "y": "num", "b": "num"}, "y", "its name"),
        ({"a": "num", "house_price": "num", "b": "int"}, "house_price", "its name"),
        # an exact name beats a name with a target word in it
        ({"label": "cat", "a": "num", "class_size": "int"}, "label", "its name"),
        # otherwise the last usable column: never free text, a row ID, empty or constant
        ({"a": "num", "b": "cat", "notes": "text"}, "b", "the last column"),
        ({"a": "num", "b": "int", "customer_id": "bigid"}, "b", "the last column"),
        ({"a": "num", "b": "int", "nothing": "empty", "k": "same"}, "b", "the last column"),
        ({"idx": "num", "b": "cat", "gap": "blank"}, "b", "the last column"),
        ({"x": "num", "z": "num"}, "z", "the last column"),
    ],
)
def test_guess_is_a_column_a_person_would_predict(columns, expected, why):
    guess = csv_data.guess_target(_frame(columns))
    assert guess.column == expected
    assert why in guess.reason
    assert expected not in guess.alternatives
    bad = {"id", "bigid", "text", "empty", "same"}
    assert not {c for c, kind in columns.items() if kind in bad} & set(guess.alternatives)


def test_last_column_reason_names_what_was_passed_over():
    guess = csv_data.guess_target(_frame({"a": "num", "b": "cat", "notes": "text"}))
    assert "'notes' is free text" in guess.reason


def test_named_target_with_blanks_is_still_chosen_and_loading_names_the_lines(tmp_path):
    frame = _frame({"a": "num", "target": "blank", "b": "num"})
    assert csv_data.guess_target(frame).column == "target"
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(csv_data.DataError, match="target 'target' is empty on line"):
        csv_data.load_table(str(path))


def test_inspect_and_an_empty_target_option_use_the_guess(tmp_path):
    path = tmp_path / "wine.csv"
    _frame({"Id": "id", "class": "cat", "alcohol": "num", "taster_notes": "text"}).to_csv(
        path, index=False
    )
    summary = inspect_csv(str(path))
    assert summary.suggested_target == "class" and summary.suggested_task == "multiclass"
    assert summary.target_alternatives == ("alcohol",)
    table = csv_data.load_table(str(path))  # target "": the guess, not taster_notes
    assert table.target == "class" and table.num_classes == 3
