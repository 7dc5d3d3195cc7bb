import json

import pytest

from builder.project import ProjectError, dumps
from tests.helpers import project
from ui.files import open_upload


def test_project_file_opens():
    p, notes = open_upload("p.json", dumps(project([("d", "Dense", {"units": 3})])).encode())
    assert p["model"]["layers"][0]["name"] == "d" and notes == []


def test_keras_json_is_imported():
    from builder.build import build

    text = build(project([("d", "Dense", {"units": 3})], shape=(64,))).to_json()
    p, _ = open_upload("model.json", text.encode())
    assert p["model"]["layers"][-1]["config"]["units"] == 3


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("p.json", b"{", "not valid JSON"),
        ("p.json", json.dumps({"hello": 1}).encode(), "not a netbuilder project"),
        ("m.keras", b"not a zip", "not a Keras 3 .keras file"),
    ],
)
def test_bad_uploads_are_refused(name, data, words):
    with pytest.raises(ProjectError, match=words):
        open_upload(name, data)
