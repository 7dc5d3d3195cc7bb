"""Exports that travel (#19 item 7): a CSV project's script finds its CSV beside it, says
plainly which file it needs and where when it is missing (never a pandas traceback), and
the zip holds the script, the notebook and the CSV together."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from builder import export
from builder.__main__ import main
from builder.data import loader
from builder.export_bundle import csv_zip
from builder.project import ProjectError
from tests.fixtures_data import mixed_csv_project

ROOT = Path(__file__).resolve().parent.parent


def _data_section(code: str) -> str:
    head = code.split("# --- Data ")[0]
    imports = head.split("# --- Imports")[1].split("\n", 1)[1].split("# --- Settings")[0]
    imports = "\n".join(line for line in imports.splitlines() if "keras" not in line)
    return imports + "\n" + code.split("# --- Data ")[1].split("\n", 1)[1].split("# --- Labels ")[0]


def test_the_script_finds_its_csv_beside_it_wherever_it_runs(tmp_path, monkeypatch):
    p = mixed_csv_project(tmp_path, "csv_multiclass")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "csv_multiclass.csv").write_bytes((tmp_path / "csv_multiclass.csv").read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    namespace = {"__file__": str(unpacked / "model.py"), "__name__": "__main__"}
    exec(compile(_data_section(export.to_script(p)), "<data>", "exec"), namespace)
    loader.clear_cache()
    assert np.array_equal(namespace["x_train"], loader.prepare(p).x_train)


def test_the_script_says_which_file_it_needs_and_where(tmp_path, monkeypatch):
    p = mixed_csv_project(tmp_path, "csv_regression")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    namespace = {"__file__": str(elsewhere / "model.py"), "__name__": "__main__"}
    with pytest.raises(SystemExit, match=r"trains on the CSV file 'csv_regression.csv'") as err:
        exec(compile(_data_section(export.to_script(p)), "<data>", "exec"), namespace)
    assert str(elsewhere) in str(err.value) and "full path" in str(err.value)


def test_the_zip_runs_anywhere_and_says_when_the_csv_is_gone(tmp_path, capsys):
    p = mixed_csv_project(tmp_path, "csv_binary")
    project_file = tmp_path / "p.json"
    project_file.write_text(json.dumps(p), encoding="utf-8")
    assert main(["export", str(project_file), "--to", "zip", "-o", str(tmp_path / "m.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        assert sorted(archive.namelist()) == [
            "m/README.txt",
            "m/csv_binary.csv",
            "m/m.ipynb",
            "m/m.py",
        ]
        assert archive.read("m/csv_binary.csv") == (tmp_path / "csv_binary.csv").read_bytes()
        archive.extractall(tmp_path / "out")
    script = tmp_path / "out" / "m" / "m.py"
    run = [sys.executable, str(script), "--smoke"]
    cwd = tmp_path / "out"  # not where the CSV is: the script finds it beside itself
    done = subprocess.run(run, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (tmp_path / "out" / "m" / "csv_binary.csv").unlink()
    done = subprocess.run(run, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "trains on the CSV file 'csv_binary.csv', which is not here" in done.stderr
    assert "Traceback" not in done.stderr


def test_only_a_csv_project_is_zipped():
    from builder import templates

    with pytest.raises(ProjectError, match="only a project trained on a CSV"):
        csv_zip(templates.load(templates.DEFAULT), "m")


def test_build_page_offers_the_zip_for_a_csv_project(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("NETBUILDER_HOME", str(tmp_path / "home"))
    p = mixed_csv_project(tmp_path, "csv_multiclass")
    uploads = tmp_path / "home" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "csv_multiclass.csv").write_bytes((tmp_path / "csv_multiclass.csv").read_bytes())
    p["data"]["options"]["path"] = "csv_multiclass.csv"
    pid = "00000000000000bb"
    (tmp_path / "home" / "autosave").mkdir()
    (tmp_path / "home" / "autosave" / f"{pid}.json").write_text(json.dumps(p), encoding="utf-8")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["_pid"] = pid
    at.run()
    for _ in range(20):  # the page reruns once Keras is imported
        buttons = [b for b in at.get("download_button") if "zip" in str(b.proto.label)]
        if buttons:
            break
        at.run()
    assert not at.exception
    assert [b.proto.label for b in buttons] == ["Script and notebook with csv_multiclass.csv (zip)"]
