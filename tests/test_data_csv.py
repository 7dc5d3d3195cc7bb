"""builder.data.csv_data: a person's CSV file inspected, encoded, and every bad input refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from builder.data import DataError, csv_data, describe, inspect_csv, prepare, recommend
from builder.data.csv_data import load_table

CITIES = ["Lyon", "Oslo", "Pune"]


def people_csv(rows: int = 40, blanks: bool = True) -> str:
    """age (numbers, a few blank), city (text), income (float), bought (yes/no)."""
    lines = ["age,city,income,bought"]
    for i in range(rows):
        age = "" if blanks and i in (3, 17) else str(20 + (i * 7) % 45)
        lines.append(f"{age},{CITIES[i % 3]},{1000 + 37.5 * i},{'yes' if i % 2 else 'no'}")
    return "\n".join(lines) + "\n"


def houses_csv(rows: int = 30) -> str:
    lines = ["rooms,area,price"]
    for i in range(rows):
        lines.append(f"{1 + i % 5},{50 + 3.5 * i},{100.25 + 11.1 * i}")
    return "\n".join(lines) + "\n"


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def csv_settings(path, **options):
    return {"dataset": "csv", "options": {"path": path, **options}}


# --------------------------------------------------------------------------- inspect


def test_inspect_summary(tmp_path):
    summary = inspect_csv(write(tmp_path, people_csv()))
    assert summary.columns == ["age", "city", "income", "bought"]
    assert summary.dtypes == {
        "age": "integer",
        "city": "text",
        "income": "number",
        "bought": "text",
    }
    assert summary.rows == 40 and summary.suggested_target == "bought"
    assert summary.suggested_task == "binary" and summary.missing == {"age": 2}
    assert summary.delimiter == "," and len(summary.preview) == 5
    json.dumps(summary.preview)  # plain Python values for the page


def test_inspect_accepts_bytes_and_semicolons():
    summary = inspect_csv(houses_csv().replace(",", ";").encode())
    assert summary.columns == ["rooms", "area", "price"] and summary.delimiter == ";"
    assert summary.suggested_task == "regression"


# --------------------------------------------------------------------------- tasks


@pytest.mark.parametrize(
    "body, target, task, expect, classes",
    [
        (people_csv(), "", "auto", "binary", ("no", "yes")),
        (people_csv(), "city", "auto", "multiclass", tuple(CITIES)),
        (houses_csv(), "", "auto", "regression", None),
        (houses_csv(), "rooms", "auto", "multiclass", ("1", "2", "3", "4", "5")),
        (houses_csv(), "rooms", "regression", "regression", None),
        (people_csv(), "", "multiclass", "multiclass", ("no", "yes")),
    ],
    ids=[
        "yes-no",
        "text-classes",
        "float-target",
        "few-whole-numbers",
        "forced-regression",
        "forced-multiclass",
    ],
)
def test_task_inferred_and_overridable(tmp_path, body, target, task, expect, classes):
    table = load_table(write(tmp_path, body), target, task)
    assert table.task == expect and table.class_names == classes
    assert table.num_classes == (len(classes) if classes else None)


def test_classification_table(tmp_path):
    table = load_table(write(tmp_path, people_csv()))
    assert table.feature_names == ["age", "city=Lyon", "city=Oslo", "city=Pune", "income"]
    assert table.x_train.shape == (32, 5) and table.x_test.shape == (8, 5)
    assert table.x_train.dtype == np.float32 and table.y_train.dtype == np.int32
    assert sorted(np.bincount(table.y_test)) == [4, 4]  # stratified
    onehot = table.x_train[:, 1:4]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(axis=1) == 1).all()
    assert any("'age': 2 empty cell(s) filled with the training median" in n for n in table.notes)
    assert not np.isnan(table.x_train).any() and not np.isnan(table.x_test).any()


def test_numbers_normalised_with_training_rows_only(tmp_path):
    table = load_table(write(tmp_path, houses_csv()))
    raw = table.raw_train[["rooms", "area"]].to_numpy(np.float64)
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    np.testing.assert_allclose(table.encoder.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(table.x_train.mean(axis=0), 0, atol=1e-5)
    test_raw = table.raw_test[["rooms", "area"]].to_numpy(np.float64)
    np.testing.assert_allclose(table.x_test, (test_raw - mean) / std, rtol=1e-4, atol=1e-5)
    assert table.y_train.dtype == np.float32


def test_without_normalize_values_stay(tmp_path):
    table = load_table(write(tmp_path, houses_csv()), normalize=False)
    assert table.encoder.mean is None
    np.testing.assert_array_equal(table.x_train[:, 0], table.raw_train["rooms"].to_numpy())


def test_notes_for_dropped_and_constant_columns(tmp_path):
    lines = ["id,colour,const,score,label"]
    for i in range(150):
        lines.append(f"user{i},{['red', 'blue'][i % 2]},7,{i % 13},{i % 2}")
    table = load_table(write(tmp_path, "\n".join(lines)))
    notes = " ".join(table.notes)
    assert "Column 'id' was left out: it holds 120 different text values" in notes
    assert "Column(s) 'const' hold one value in every training row" in notes
    assert table.feature_names == ["colour=blue", "colour=red", "const", "score"]
    np.testing.assert_array_equal(table.x_train[:, 2], 0)


def test_category_unseen_in_training_encodes_as_zeros(tmp_path, monkeypatch):
    # The last ten rows are the test split, so "teal" (row 149) is never seen in training.
    monkeypatch.setattr(
        csv_data,
        "split_rows",
        lambda n, y, task, fraction, seed: (np.arange(n - 10), np.arange(n - 10, n)),
    )
    lines = ["colour,score,label"]
    for i in range(150):
        lines.append(f"{'teal' if i == 149 else ['red', 'blue'][i % 2]},{i % 13},{i % 2}")
    table = load_table(write(tmp_path, "\n".join(lines)))
    assert "Column 'colour': 1 test row(s) hold a value never seen in training" in table.notes[0]
    assert table.feature_names == ["colour=blue", "colour=red", "score"]
    np.testing.assert_array_equal(table.x_test[-1, :2], [0, 0])


def test_prepare_csv_end_to_end(tmp_path):
    path = write(tmp_path, people_csv())
    settings = csv_settings(path)
    info = describe(settings)
    assert (info.task, info.num_classes, info.class_names) == ("binary", 2, ("no", "yes"))
    assert info.input_spec == {"shape": [5], "dtype": "float32"}
    assert recommend(settings)["loss"] == "binary_crossentropy"
    prepared = prepare({"data": settings, "compile": {"loss": "binary_crossentropy"}})
    assert prepared.y_train.dtype == np.float32 and prepared.x_train.shape == (32, 5)
    sample = prepared.sample("train", 0)
    assert set(sample["row"]) == {"age", "city", "income"} and sample["label"] in ("no", "yes")
    assert sample["row"]["city"] in CITIES
    np.testing.assert_allclose(prepared.encode_row(sample["row"]), prepared.x_train[:1], atol=1e-5)
    assert prepared.encode_row({"city": "Oslo"}).shape == (1, 5)  # blanks -> median
    multi = prepare(
        {
            "data": csv_settings(path, target="city", label_encoding="integer"),
            "compile": {"loss": "sparse_categorical_crossentropy"},
        }
    )
    assert multi.y_train.dtype == np.int32 and multi.info.class_names == tuple(CITIES)


def test_csv_cache_follows_the_file(tmp_path):
    path = write(tmp_path, houses_csv(30))
    assert (
        len(csv_data.load_table_cached(csv_settings(path)["options"] | _defaults()).x_train) == 24
    )
    write(tmp_path, houses_csv(50))
    assert (
        len(csv_data.load_table_cached(csv_settings(path)["options"] | _defaults()).x_train) == 40
    )


def _defaults():
    return {"target": "", "task": "auto", "test_fraction": 0.2, "normalize": True}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "body, kwargs, match",
    [
        ("", {}, "the file is empty"),
        ("\n\n", {}, "the file is empty"),
        ("a,b,c\n", {}, "header but no data rows"),
        ("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n", {}, "line 4 has 4 values but the header has 3 columns"),
        ('a,b\n"1,2\n3,4\n', {}, "quoted value is never closed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfa", {}, "not UTF-8 text.*CSV UTF-8"),
        ("a,b,a\n1,2,3\n", {}, "names 'a' more than once"),
        ("a,,c\n1,2,3\n", {}, r"empty column name\(s\) \(columns 2\)"),
        ("only\n1\n2\n", {}, "one column .'only'.; it needs the target"),
        (
            houses_csv(),
            {"target": "prize"},
            "no column 'prize': its columns are rooms, area, price",
        ),
        (
            "x,y\n" + "1,a\n" * 5 + "2,\n3,b\n,\n4,\n" + "5,b\n" * 5,
            {},
            r"target 'y' is empty on line\(s\) 7, 10 of the file",
        ),  # line 9 is all empty: skipped
        ("x,y\n" + "1,same\n" * 20, {}, "same value 'same' in all 20 rows: a classifier needs"),
        (
            people_csv(),
            {"target": "city", "task": "regression"},
            "target 'city' holds text .'Lyon', 'Oslo', 'Pune'.*choose task 'binary' or 'multiclass'",
        ),
        (
            people_csv(),
            {"target": "city", "task": "binary"},
            "has 3 classes, and task 'binary' needs exactly 2",
        ),
        (houses_csv(5), {}, "the file has 5 data rows; at least 10"),
        (
            "x,y\n" + "".join(f"{i},{i * 1.5}\n" for i in range(1200)),
            {"task": "multiclass"},
            "1,200 distinct values, too many to be classes: choose task 'regression'",
        ),
        ("e,y\n" + ",1\n,2\n" * 10, {}, "no usable feature columns"),
    ],
    ids=[
        "empty",
        "blank-lines",
        "header-only",
        "extra-field",
        "open-quote",
        "binary",
        "dup-name",
        "unnamed",
        "one-column",
        "unknown-target",
        "empty-target",
        "one-class",
        "text-regression",
        "binary-3-classes",
        "few-rows",
        "too-many-classes",
        "no-features",
    ],
)
def test_bad_files_are_refused_with_a_message(tmp_path, body, kwargs, match):
    with pytest.raises(DataError, match=match):
        load_table(write(tmp_path, body), **kwargs)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(DataError, match=r"no file at .*upload the CSV again"):
        load_table(str(tmp_path / "gone.csv"))
    with pytest.raises(DataError, match="is a folder, not a CSV file"):
        load_table(str(tmp_path))


def test_size_and_row_limits(tmp_path, monkeypatch):
    path = write(tmp_path, houses_csv(30))
    monkeypatch.setattr(csv_data, "MAX_BYTES", 100)
    with pytest.raises(DataError, match="more than the 0 MB this app reads"):
        load_table(path)
    monkeypatch.setattr(csv_data, "MAX_BYTES", 10**9)
    monkeypatch.setattr(csv_data, "MAX_ROWS", 20)
    with pytest.raises(DataError, match="more than 20 rows, the most this app reads"):
        inspect_csv(path)


def test_validate_and_describe_name_the_csv_fields(tmp_path):
    from builder.data import validate_data_settings

    bad = write(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8,9\n", "bad.csv")
    assert validate_data_settings(csv_settings(bad)) == []  # the header is fine
    with pytest.raises(DataError, match="line 4 has 4 values"):
        describe(csv_settings(bad))
    empty = write(tmp_path, "", "empty.csv")
    assert validate_data_settings(csv_settings(empty)) == []  # validation reads no file
    with pytest.raises(DataError, match="the file is empty: choose a CSV with a header line"):
        describe(csv_settings(empty))


# --------------------------------------------------------------------------- columns left out

NAMES = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"]


def passengers_csv(rows: int = 400) -> str:
    """PassengerId (1..rows), Name (unique text), Sex, Age, Fare, Survived: a Titanic-like
    file, whose ID and names would otherwise become inputs."""
    lines = ["PassengerId,Name,Sex,Age,Fare,Survived"]
    for i in range(rows):
        name = f"{NAMES[i % 8]} {NAMES[(i // 8) % 8]}-{i}"
        lines.append(
            f"{i + 1},{name},{'male' if i % 3 else 'female'},{18 + i % 50},"
            f"{7.25 + (i * 13) % 90},{int(i % 3 == 0 or i % 7 == 0)}"
        )
    return "\n".join(lines) + "\n"


def test_a_row_id_and_unique_names_are_not_inputs(tmp_path):
    table = load_table(write(tmp_path, passengers_csv()))
    assert table.feature_names == ["Sex=female", "Sex=male", "Age", "Fare"]
    dropped = dict(table.encoder.dropped)
    assert dropped["PassengerId"] == "looks like a row ID"
    # 400 rows, 320 of them training: 320 names, fewer than the old 100-value limit would
    # have let through only by luck; here every name is unique.
    assert dropped["Name"].startswith("free text/identifier: 320 different text values")
    assert "look like row IDs" in " ".join(table.notes)


@pytest.mark.parametrize(
    "name, values, is_id",
    [
        ("id", [5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 11, 12], True),  # named so, in any order
        ("customer_id", [50, 30, 90, 10, 70, 20, 80, 40, 60, 100, 110, 120], True),
        ("CustomerID", [50, 30, 90, 10, 70, 20, 80, 40, 60, 100, 110, 120], True),
        ("row", list(range(12)), True),
        ("n", list(range(12)), True),  # numbers the rows from 0
        ("n", list(range(1, 13)), True),  # or from 1
        ("year", list(range(1990, 2002)), False),  # counts up by one but is a value
        ("n", list(range(12, 0, -1)), False),
        ("valid", [5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 11, 12], False),  # not "...id" as a word
        ("size", [5, 3, 9, 1, 7, 2, 8, 4, 6, 10, 11, 12], False),  # unique, not in order
        ("step", [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22], False),  # in order, not by one
        ("id", [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], False),  # repeats: a group, not a row
        ("id", [1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], False),  # not whole numbers
    ],
)
def test_which_columns_look_like_row_ids(tmp_path, name, values, is_id):
    lines = [f"{name},x,y"] + [f"{v},{(i * 7) % 5},{i % 2}" for i, v in enumerate(values)]
    table = load_table(write(tmp_path, "\n".join(lines)))
    assert (name not in [c.name for c in table.encoder.columns]) == is_id
    assert (dict(table.encoder.dropped).get(name) == "looks like a row ID") == is_id


def test_few_repeated_words_stay_and_free_text_of_a_small_file_goes(tmp_path):
    # 40 rows (32 training): 3 cities stay; 32 different notes (> half the rows) go.
    lines = ["city,note,score,label"]
    for i in range(40):
        lines.append(f"{CITIES[i % 3]},note number {i},{(i * 7) % 11},{i % 2}")
    table = load_table(write(tmp_path, "\n".join(lines)))
    assert [c.name for c in table.encoder.columns] == ["city", "score"]
    assert "free text/identifier" in dict(table.encoder.dropped)["note"]


def test_columns_the_user_leaves_out(tmp_path):
    path = write(tmp_path, people_csv())
    table = load_table(path, exclude=("city", "income"))
    assert table.feature_names == ["age"]
    assert dict(table.encoder.dropped) == {
        "city": csv_data.LEFT_OUT_BY_USER,
        "income": csv_data.LEFT_OUT_BY_USER,
    }
    # A name the file lacks (or the target) is said, not an error.
    table = load_table(path, exclude=("nope", "bought"))
    assert table.feature_names[:1] == ["age"] and "'nope', 'bought'" in " ".join(table.notes)
    with pytest.raises(DataError, match=r"no usable feature columns.*'age', left out on the Data"):
        load_table(path, exclude=("age", "city", "income"))


def test_the_exclude_option_is_validated_cached_and_described(tmp_path):
    from builder.data import validate_data_settings

    path = write(tmp_path, people_csv())
    assert validate_data_settings(csv_settings(path)) == []  # old files: no exclude, fine
    assert validate_data_settings(csv_settings(path, exclude=["city"])) == []
    (problem,) = validate_data_settings(csv_settings(path, exclude="city"))
    assert problem.startswith("data.options.exclude: must be a list of column names")
    assert describe(csv_settings(path)).input_spec["shape"] == [5]
    assert describe(csv_settings(path, exclude=["city"])).input_spec["shape"] == [2]
