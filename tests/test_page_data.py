"""AppTest of the Data page: choosing data updates the project and the model input."""

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


def test_choosing_a_dataset_sets_the_input_shape(app):
    app.selectbox(key="data_dataset").set_value("breast_cancer").run()
    project = app.session_state["project"]
    assert project["data"]["dataset"] == "breast_cancer"
    assert project["model"]["inputs"][0]["shape"] == [30]
    assert any("now takes (30,)" in s.value for s in app.success)


def test_image_layout_option_reshapes_the_input(app):
    app.selectbox(key="data_opt:digits:image_layout").set_value("image").run()
    assert app.session_state["project"]["model"]["inputs"][0]["shape"] == [8, 8, 1]


def test_bad_option_value_is_refused_at_the_field(app):
    app.selectbox(key="data_dataset").set_value("imdb").run()
    app.number_input(key="data_opt:imdb:num_words").set_value(3).run()
    assert app.session_state["project"]["data"]["options"].get("num_words") != 3
    assert app.error, "a message at the field"
    assert not app.exception


def test_samples_of_the_offline_default(app):
    app.button(key="data_load").click().run()
    assert not app.exception
    assert any("training and" in c.value for c in app.caption)
    assert len(app.get("image")) >= 1  # three digit images


def test_recommended_loss_button(app):
    app.selectbox(key="data_dataset").set_value("diabetes").run()
    app.button(key="data_use_rec").click().run()
    assert app.session_state["project"]["compile"]["loss"] == "mse"


def test_choosing_your_csv_shows_the_uploader_and_keeps_the_data(app):
    app.selectbox(key="data_dataset").set_value("csv").run()
    assert not app.exception
    assert app.selectbox(key="data_dataset").value == "csv"  # no jump back to Digits
    assert len(app.get("file_uploader")) == 1
    assert not app.error
    assert app.session_state["project"]["data"]["dataset"] == "digits"
    assert any("Upload a CSV file to use it" in i.value for i in app.info)
    app.selectbox(key="data_dataset").set_value("wine").run()
    assert app.session_state["project"]["data"]["dataset"] == "wine"
    assert not app.get("file_uploader")


@pytest.fixture
def two_heads(app, tmp_path):
    """The Data page on a two-output model whose CSV (in the uploads folder) still has one
    target, "size", as an old project file would."""
    from builder import paths
    from builder.data import loader
    from tests.fixtures_data import two_target_project, write_two_target_csv

    loader.clear_cache()
    write_two_target_csv(paths.uploads_dir() / "two.csv")
    project = two_target_project(tmp_path)
    project["data"]["options"] = {"path": "two.csv", "target": "size", "task": "regression"}
    project["compile"]["loss"] = "mse"
    project["compile"]["metrics"] = ["mae"]
    app.session_state["project"] = project
    app.run()
    assert not app.exception, app.exception
    return app


def _targets(app) -> list[tuple]:
    targets = app.session_state["project"]["data"]["options"].get("targets") or []
    return [(t["column"], t["output"], t.get("task", "auto")) for t in targets]


def test_several_columns_map_to_outputs_by_order_then_by_choice(two_heads):
    app = two_heads
    assert app.multiselect(key="data_csv_targets").value == ["size"]
    app.multiselect(key="data_csv_targets").set_value(["kind", "size"]).run()
    assert not app.exception, app.exception
    assert _targets(app) == [("kind", "kind", "auto"), ("size", "size", "auto")]
    # Each column has its own task now: the single target's widgets are gone.
    assert "data_opt:csv:target" not in [s.key for s in app.selectbox]
    app.selectbox(key="data_target_output:0").set_value("size").run()
    assert _targets(app) == [("kind", "size", "auto"), ("size", "kind", "auto")]
    app.selectbox(key="data_target_output:0").set_value("kind").run()
    app.selectbox(key="data_target_task:1").set_value("regression").run()
    assert _targets(app) == [("kind", "kind", "auto"), ("size", "size", "regression")]
    text = " ".join(m.value for m in app.markdown)
    assert "**kind** → output `kind`: multiclass, 3 classes" in text
    assert "loss `mse`" in text
    assert "**Inputs (5):** a, b as numbers; colour (3 categories) one-hot." in text
    app.button(key="data_use_rec").click().run()
    app.button(key="data_load").click().run()
    assert not app.exception, app.exception
    assert any(m.value.startswith("kind: **") and " · size: **" in m.value for m in app.markdown)
    comp = app.session_state["project"]["compile"]
    assert comp["loss"] == {"kind": "categorical_crossentropy", "size": "mse"}
    assert comp["metrics"] == {"kind": ["accuracy"], "size": ["mae"]}
    app.multiselect(key="data_csv_targets").set_value(["kind"]).run()
    options = app.session_state["project"]["data"]["options"]
    assert "targets" not in options and options["target"] == "kind"


def test_more_columns_than_outputs_is_said_beside_the_mapping(two_heads):
    app = two_heads
    app.multiselect(key="data_csv_targets").set_value(["kind", "size", "a"]).run()
    assert not app.exception, app.exception
    assert _targets(app)[2] == ("a", "output_1", "auto")
    assert any("2 output(s) and 3 columns" in w.value for w in app.warning)


def test_columns_can_be_left_out_and_the_input_follows(app):
    """A Titanic-like upload: the row ID and names are left out by themselves (with why);
    the user leaves out one more column, and the model's input narrows to match."""
    from builder import paths
    from builder.data import loader

    loader.clear_cache()
    lines = ["PassengerId,Name,Sex,Age,Fare,Survived"]
    for i in range(60):
        lines.append(
            f"{i + 1},Person {i},{'male' if i % 3 else 'female'},{18 + i % 50},"
            f"{7.25 + (i * 13) % 90},{int(i % 3 == 0)}"
        )
    (paths.uploads_dir() / "train.csv").write_text("\n".join(lines) + "\n")
    project = dict(app.session_state["project"])
    project["data"] = {"dataset": "csv", "options": {"path": "train.csv", "target": "Survived"}}
    app.session_state["project"] = project
    app.run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "**Inputs (4):** Age, Fare as numbers; Sex (2 categories) one-hot." in text
    assert "PassengerId (looks like a row ID)" in text and "Name (free text/identifier" in text
    leave_out = app.multiselect(key="data_csv_exclude")
    assert leave_out.value == [] and "Survived" not in leave_out.options
    leave_out.set_value(["Fare"]).run()
    assert not app.exception, app.exception
    project = app.session_state["project"]
    assert project["data"]["options"]["exclude"] == ["Fare"]
    assert project["model"]["inputs"][0]["shape"] == [3]
    text = " ".join(m.value for m in app.markdown)
    assert "**Inputs (3):** Age as numbers" in text and "Fare (left out on the Data page)" in text
    # Back again: the option goes, as an old file never had it.
    app.multiselect(key="data_csv_exclude").set_value([]).run()
    assert "exclude" not in app.session_state["project"]["data"]["options"]
    assert app.session_state["project"]["model"]["inputs"][0]["shape"] == [4]


def test_the_target_guess_is_shown_with_why_and_a_number_has_no_label_form(app):
    """A regression export with the target not last: the page names the guessed column,
    its reason and the alternatives; it offers no "Labels as" for a number to predict,
    and says the target is standardised for training."""
    from builder import paths
    from builder.data import loader

    loader.clear_cache()
    lines = ["house_id,area,price,rooms,notes"]
    for i in range(60):
        lines.append(f"{i + 1},{50 + i * 3},{90_000 + 1500 * i},{1 + i % 5},visit {i} by agent")
    (paths.uploads_dir() / "houses.csv").write_text("\n".join(lines) + "\n")
    project = dict(app.session_state["project"])
    project["data"] = {"dataset": "csv", "options": {"path": "houses.csv"}}
    project["compile"] = {**project["compile"], "loss": "mse", "metrics": ["mae"]}
    app.session_state["project"] = project
    app.run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "**Column to predict: price** (guessed: its name, 'price'" in text
    assert "Other columns it could be: rooms, area" in text
    keys = {w.key for w in app.selectbox}
    assert "data_opt:csv:label_encoding" not in keys
    assert "data_opt:csv:standardize_target" in keys
    assert any("The target is standardised for training" in c.value for c in app.caption)


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
