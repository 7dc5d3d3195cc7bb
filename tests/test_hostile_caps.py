"""Only ProjectError escapes a loader, export refuses what check refuses, and every cap
bounds the work behind it (issue #21): each test here failed on the code before."""

from __future__ import annotations

import json

import pytest

from builder import limits, project, recent
from builder.errors import ProjectError
from builder.experiments import spec
from builder.training import runs
from tests.helpers import cli_in_process
from tests.helpers import project as make_project


def _dense(units: int = 10) -> dict:
    p = make_project(
        [
            ("hidden", "Dense", {"units": 16, "activation": "relu"}),
            ("out", "Dense", {"units": units}),
        ],
        shape=(64,),
    )
    p["version"] = 2
    return p


# --------------------------------------------------------------------------- loaders


def test_more_bad_experiment_values_than_the_problem_cap_is_a_project_error():
    p = _dense()
    p["experiment"] = {
        "parameters": [{"setting": "layers.hidden.units", "values": list(range(-80, 0))}]
    }
    with pytest.raises(ProjectError, match="checking stopped after 50 problems"):
        project.loads(json.dumps(p))


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_lone_surrogate_is_refused_when_parsed_and_when_validated(field):
    text = json.dumps({**_dense(), field: "a\ud800b"})  # json writes it as \ud800
    with pytest.raises(ProjectError, match="not valid Unicode"):
        project.parse_json(text)
    with pytest.raises(ProjectError, match="not valid Unicode"):
        project.validate({**_dense(), field: "a\ud800b"})


def test_a_surrogate_pair_is_still_text():
    doc = project.loads(json.dumps({**_dense(), "name": "smile \U0001f600"}))
    assert doc["name"] == "smile \U0001f600"


def _deep(depth: int) -> str:
    return '{"format": "netbuilder.project", "name": ' + "[" * depth + "]" * depth + "}"


def test_recent_projects_read_a_deeply_nested_autosave_as_a_problem(tmp_path):
    autosave = tmp_path / "autosave"
    autosave.mkdir()
    (autosave / "0123456789abcdef.json").write_text(_deep(200_000), encoding="utf-8")
    (found,) = recent.list_projects(autosave, tmp_path / "runs")
    assert found.problem and "nests too deeply" in found.problem


def test_recent_projects_do_not_read_an_oversized_autosave(tmp_path):
    autosave = tmp_path / "autosave"
    autosave.mkdir()
    big = autosave / "0123456789abcdef.json"
    big.write_text('{"name": "' + "x" * (limits.MAX_PROJECT_BYTES + 10) + '"}', encoding="utf-8")
    (found,) = recent.list_projects(autosave, tmp_path / "runs")
    assert found.problem and "at most" in found.problem


@pytest.mark.parametrize("text", [_deep(200_000), '{"a": "\\ud800"}', "[1, 2]"])
def test_run_records_are_read_under_the_upload_caps(tmp_path, text):
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):  # ProjectError is one; never RecursionError
        runs.read_json(path)


def test_a_missing_run_record_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        runs.read_json(tmp_path / "run.json")


# --------------------------------------------------------------------------- export


def test_export_refuses_what_check_refuses_with_the_same_message(tmp_path, capfd):
    p = _dense()
    p["model"]["inputs"][0]["shape"] = [63]  # digits have 64 features: builds, does not fit
    path = tmp_path / "p.json"
    path.write_text(json.dumps(p), encoding="utf-8")
    check = cli_in_process(capfd, "check", path, "--json", cwd=tmp_path)
    assert check.returncode == 1
    result = json.loads(check.stdout.strip().splitlines()[-1])
    messages = result["errors"] + [lay["error"] for lay in result["layers"] if lay.get("error")]
    assert messages
    for to in ("script", "notebook", "keras-json"):
        done = cli_in_process(
            capfd, "export", path, "--to", to, "-o", tmp_path / "out", cwd=tmp_path
        )
        assert done.returncode == 1, (to, done.stderr)
        assert all(m in done.stderr for m in messages), done.stderr
        assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- cost caps


def test_experiment_values_are_checked_without_copying_the_project(monkeypatch):
    p = _dense()
    p["experiment"] = {
        "parameters": [
            {"setting": "layers.hidden.units", "values": list(range(1, 400))},
            {"setting": "fit.seed", "values": list(range(400))},
            {"setting": "compile.optimizer.learning_rate", "low": 0.0001, "high": 0.1},
        ],
        "search": "random",
        "metric": "loss",
    }
    valid = project.validate(p)
    calls = []
    monkeypatch.setattr(project, "validate", lambda *a, **k: calls.append(1))
    real_deepcopy = spec.copy.deepcopy

    def counted(obj, *args):
        calls.append(obj)
        return real_deepcopy(obj, *args)

    monkeypatch.setattr(spec.copy, "deepcopy", counted)
    assert spec.validate_section(valid, valid["experiment"]) == []
    assert not any(isinstance(c, dict) and "model" in c and c["model"]["layers"] for c in calls)


def test_a_bad_value_is_still_named_with_its_setting():
    p = _dense()
    p["experiment"] = {"parameters": [{"setting": "layers.hidden.units", "values": [8, 0]}]}
    with pytest.raises(ProjectError, match=r"values\[1\].*units=0 makes the project invalid"):
        project.validate(p)


def test_listed_experiment_values_are_capped():
    p = _dense()
    values = list(range(1, limits.MAX_EXPERIMENT_VALUES + 2))
    p["experiment"] = {
        "parameters": [{"setting": "fit.seed", "values": values}],
        "search": "random",
    }
    with pytest.raises(ProjectError, match="values in all; at most"):
        project.validate(p)


def _fan_in(n: int) -> dict:
    layers = [("d0", "Dense", {"units": 4}), ("d1", "Dense", {"units": 4}, ["d0"])]
    for k in range(2, n):
        layers.append((f"a{k}", "Add", {}, [name for name, *_ in layers]))
    return make_project(layers, shape=(64,))


def test_a_layer_reading_more_than_the_cap_is_refused_before_keras(monkeypatch):
    from builder import checker, fit_check

    p = _fan_in(limits.MAX_INBOUND + 3)
    with pytest.raises(ProjectError, match=f"at most {limits.MAX_INBOUND}"):
        project.validate(p)

    def no_keras(*args):
        raise AssertionError("Keras was asked to build a layer of a model over the caps")

    monkeypatch.setattr(checker, "_run_layer", no_keras)
    result = fit_check.check(p)
    assert not result.valid and any("at most" in e for e in result.errors)


def test_connections_in_all_are_capped(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CONNECTIONS", 50)
    with pytest.raises(ProjectError, match="connections between layers"):
        project.validate(_fan_in(12))


@pytest.mark.parametrize(
    ("requested", "cpus", "per_trial", "expected"),
    [(1024, 2, None, 2), (2, 16, None, 2), (8, 16, 4, 4), (3, 1, None, 1), (4, 2, 8, 1)],
)
def test_concurrency_is_capped_by_the_cpus(requested, cpus, per_trial, expected):
    assert limits.max_concurrency(requested, cpus, per_trial) == expected
