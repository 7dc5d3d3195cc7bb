"""builder.codegen: user text reaches generated code only through one quoting module, and
every export (script, notebook, Ray Tune script) compiles whatever names and values a user
or a file puts in; a payload in a name never runs."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import codegen, export
from builder.experiments.export import to_ray_tune_script
from tests.helpers import project

HOSTILE = [
    "C:\\Users\\new\\xfiles \\N{oops}",
    "nul \x00 byte",
    'triple """ quotes \'\'\' and a trailing quote"',
    "trailing backslash \\",
    "line\nbreak\r\nand \u2028 separator \x0c",
    "\ud800 lone surrogate",
    "ünïcödé ✓",
    '"""\nimport os; os.system("touch PWNED")  #',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_inline_text_is_a_docstring_that_reads_back_as_the_text(text):
    source = f'"""Exported: {codegen.inline(text)}"""\n# {codegen.inline(text)}\nx = 1\n'
    tree = ast.parse(source)
    assert ast.get_docstring(tree, clean=False) == f"Exported: {text}"
    assert len(tree.body) == 2  # the docstring and x = 1: nothing else became code
    assert source.count("\n") == 3


@pytest.mark.parametrize(
    "text",
    [
        "![i](http://127.0.0.1:9/x.png)",
        "<img src=x onerror=alert(1)> [lnk](javascript:alert(1))",
        "**bold** _em_ `code` # head :red[red] $x$ &amp;",
    ],
)
def test_markdown_leaves_no_markup(text):
    import markdown_it

    html = markdown_it.MarkdownIt("commonmark").render(codegen.markdown(text))
    assert "<img" not in html and "<a " not in html and "<strong" not in html
    assert "<em" not in html and "<code" not in html and "<h1" not in html


def test_markdown_is_one_line():
    assert "\n" not in codegen.markdown("a\n# b\r\n\n- c")


@pytest.mark.parametrize(
    "name", ["__debug__", "class", "None", "print", "len", "range", "dict", "lambda"]
)
def test_reserved_names_become_other_variables(name):
    var = codegen.variables([name, f"{name}_"])[name]
    assert var != name and var.isidentifier()
    exec(compile(f"{var} = 1", "<test>", "exec"), {})


def test_variables_keep_free_names_and_never_collide():
    names = ["x", "print", "print_", "print__", "model"]
    found = codegen.variables(names, {"model"})
    assert found["x"] == "x" and found["print_"] == "print_"
    assert len(set(found.values())) == len(names)


# --------------------------------------------------------------------------- every export

# Names a layer or input may take (NAME_RE), the reserved ones included.
_NAMES = st.one_of(
    st.sampled_from(
        [
            "__debug__",
            "print",
            "len",
            "range",
            "model",
            "keras",
            "np",
            "build_model",
            "inputs",
            "targets",
            "class",
            "None",
            "x_train",
            "_",
        ]
    ),
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z"),
)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def _graph(names: list[str], title: str) -> dict:
    """Two branches merged by Concatenate: the functional API path, where every layer and
    input is a Python variable."""
    inp, a, b, merge, out = names
    p = project(
        [
            (a, "Dense", {"units": 8, "activation": "relu"}, [inp]),
            (b, "Dense", {"units": 8, "activation": "relu"}, [inp]),
            (merge, "Concatenate", {}, [a, b]),
            (out, "Dense", {"units": 10, "activation": "softmax"}, [merge]),
        ],
        shape=(64,),
        inputs=[{"name": inp, "shape": [64], "dtype": "float32"}],
    )
    p["name"] = title
    p["description"] = title
    p["version"] = 2
    p["experiment"] = {
        "parameters": [{"setting": f"layers.{a}.units", "values": [4, 8]}],
        "search": "grid",
        "metric": "loss",
    }
    return p


def _compiles(code: str, what: str) -> None:
    compile(code, what, "exec")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(names=st.lists(_NAMES, min_size=5, max_size=5, unique=True), title=_TEXT)
def test_every_export_of_any_names_compiles(names, title):
    p = _graph(names, title)
    single = {k: v for k, v in p.items() if k != "experiment"}
    _compiles(export.to_script(single), "script")
    notebook = nbformat.reads(export.to_notebook(single), as_version=4)
    code = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    _compiles(code, "notebook")
    heading = notebook.cells[0].source.splitlines()[0]
    assert "\n" not in heading and "<" not in heading.replace("\\<", "")
    _compiles(to_ray_tune_script(p), "ray-tune")


def _csv_project(folder: Path, target: str, feature: str, words: list[str]) -> dict:
    """A classifier on a small CSV whose target column name, feature column name and text
    values are ``target``, ``feature`` and ``words``."""
    import csv

    from builder.data import registry

    path = folder / "data.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["size", feature, target])
        for i in range(60):
            writer.writerow([i % 7, words[i % len(words)], words[(i // 2) % len(words)]])
    options = {"path": str(path), "target": target, "task": "classification"}
    data = {"dataset": "csv", "options": options}
    info = registry.describe(data)
    p = project(
        [("hidden", "Dense", {"units": 4}), ("out", "Dense", {"units": info.num_classes})],
        shape=info.input_spec["shape"],
        loss="sparse_categorical_crossentropy",
        dataset="csv",
        options=options,
    )
    p["model"]["layers"][-1]["config"]["activation"] = "softmax"
    return p


_COLUMN = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s not in ("size",))


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    target=_COLUMN,
    feature=_COLUMN,
    words=st.lists(_COLUMN, min_size=2, max_size=3, unique=True),
)
def test_csv_names_and_values_stay_data_in_every_export(tmp_path_factory, target, feature, words):
    if target == feature:
        return
    from builder.data.errors import DataError

    folder = tmp_path_factory.mktemp("csv")
    try:
        p = _csv_project(folder, target, feature, words)
    except DataError:
        return  # a file the app refuses to read is refused with a message; nothing exported
    _compiles(export.to_script(p), "script")
    notebook = nbformat.reads(export.to_notebook(p), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            _compiles(cell.source, "cell")
        else:
            assert "<img" not in cell.source and "](" not in cell.source


MARKER = "PWNED_MARKER"
PAYLOAD = f'x"""\n__import__("pathlib").Path("{MARKER}").touch()  # \'\'\' \\N{{x}} \\'


def test_an_exported_script_runs_with_hostile_names_and_never_runs_them(tmp_path):
    p = _graph(["__debug__", "print", "len", "class_", "model"], PAYLOAD)
    p.pop("experiment")
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    script = tmp_path / "exported.py"
    script.write_text(export.to_script(p), encoding="utf-8")
    report = tmp_path / "report.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, str(script), "--smoke", "--report", str(report)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / MARKER).exists()
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["project"] == PAYLOAD
    # Keras keeps the user's names; only the Python variables were renamed.
    assert {lay["name"] for lay in result["layers"]} == {"print", "len", "class_", "model"}
