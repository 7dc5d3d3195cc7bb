"""A CSV like a Kaggle file (an id column, names, tickets, empty cells, the target second)
on the Data page, through AppTest: the file in use is named, and the page says which
columns become the model's inputs and which are left out, and why, before training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builder import paths, templates

ROOT = Path(__file__).resolve().parent.parent
PID = "00112233445566aa"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))


def _passengers() -> str:
    rows = ["PassengerId,Survived,Pclass,Name,Sex,Age,Ticket,Embarked"]
    for i in range(1, 151):
        age = "" if i % 5 == 0 else str(20 + i % 40)
        port = "" if i % 10 == 0 else "SCQ"[i % 3]
        rows.append(
            f'{i},{(i * 7) % 3 == 0:d},{1 + i % 3},"Person, Mr. No{i}",'
            f"{('male', 'female')[i % 2]},{age},A/5 {1000 + i},{port}"
        )
    return "\n".join(rows) + "\n"


def test_the_data_page_names_the_file_and_says_which_columns_are_inputs():
    (paths.uploads_dir() / "train.csv").write_text(_passengers())
    project = templates.load(templates.DEFAULT)
    project["data"] = {"dataset": "csv", "options": {"path": "train.csv", "target": "Survived"}}
    (paths.autosave_dir() / f"{PID}.json").write_text(json.dumps(project))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["p"] = PID
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert any(c.value == "train.csv: 150 rows, 8 columns." for c in at.caption)
    inputs = [m.value for m in at.markdown if m.value.startswith("**Inputs (")]
    # Numbers: class, age, one input each; Sex 2 and Embarked 4 (with '(missing)')
    # one-hot; the row ID, Name and Ticket (a different value on each of 120 training
    # rows) left out.
    assert inputs == [
        "**Inputs (8):** Pclass, Age as numbers; Sex (2 categories), "
        "Embarked (4 categories) one-hot. **Left out:** PassengerId (looks like a row ID); "
        "Name (free text/identifier: 120 different text values in 120 training rows); "
        "Ticket (free text/identifier: 120 different text values in 120 training rows)."
    ], inputs
    assert "(8,)" in " ".join(m.value for m in at.markdown)


def test_a_first_guess_target_that_cannot_be_used_points_at_the_column_choice():
    (paths.uploads_dir() / "train.csv").write_text(_passengers())
    project = templates.load(templates.DEFAULT)
    project["data"] = {"dataset": "csv", "options": {"path": "train.csv", "target": "Embarked"}}
    (paths.autosave_dir() / f"{PID}.json").write_text(json.dumps(project))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["p"] = PID
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    assert any("target 'Embarked' is empty on line(s)" in e.value for e in at.error)
    assert any(
        "The column to predict is 'Embarked'" in c.value and "Column to predict" in c.value
        for c in at.caption
    )
    at.selectbox(key="data_opt:csv:target").set_value("Survived").run()
    assert not at.exception, at.exception
    assert not at.error
    assert not any("The column to predict is" in c.value for c in at.caption)
