"""AppTest of the Data page's text input: a CSV's free-text column chosen as the model's
raw-text input (string input), and back."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def test_a_text_column_becomes_the_models_text_input(app):
    from builder import paths
    from builder.data import loader
    from tests.test_adapt import _reviews_csv

    loader.clear_cache()
    _reviews_csv(paths.uploads_dir())
    project = dict(app.session_state["project"])
    project["data"] = {"dataset": "csv", "options": {"path": "reviews.csv", "target": "sentiment"}}
    app.session_state["project"] = project
    app.run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "review (free text/identifier" in text  # left out until chosen
    choice = app.selectbox(key="data_opt:csv:text")
    assert choice.options == ["none", "review"]
    choice.set_value(1).run()
    assert not app.exception, app.exception
    project = app.session_state["project"]
    assert project["data"]["options"]["text"] == "review"
    assert project["model"]["inputs"][0]["shape"] == [] and (
        project["model"]["inputs"][0]["dtype"] == "string"
    )
    text = " ".join(m.value for m in app.markdown)
    assert "**Inputs (1):** review as raw text" in text
    assert "stars (the model reads the text column 'review' alone)" in text
    app.selectbox(key="data_opt:csv:text").set_value(0).run()
    project = app.session_state["project"]
    assert "text" not in project["data"]["options"]
    assert project["model"]["inputs"][0]["dtype"] == "float32"
