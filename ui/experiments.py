"""Experiments of this browser session: start one in the background, find it again, draw it.

An experiment runs in its own Python process (``python -m builder.experiments.runner``),
which starts Ray (or connects to a cluster) and keeps ``experiment.json`` current; the page
only reads that file, so a refresh re-attaches by the experiment id kept in the URL
(``?exp=...``), and only the session that owns it (``ui.state.session_id()``) finds it.

The figures and the list of settings a project offers are plain functions (no Streamlit).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import streamlit as st

from builder import catalogue, paths, settings
from builder.experiments import runner, spec
from builder.training import lifecycle, runs
from ui import state
from ui.plotting import go
from ui.text import html

EXP_KEY = "experiment_id"
EXP_PARAM = "exp"
ROOT = Path(__file__).resolve().parent.parent
ACTIVE = ("starting", "running")


# --------------------------------------------------------------------------- processes


@st.cache_resource(show_spinner=False)
def _processes() -> dict:
    """Popen handles of the experiments this server started (reaped when they end)."""
    return {}


def runs_root() -> Path:
    return paths.runs_root()


def start(project: dict, address: str | None) -> Path:
    """Create the experiment folder and run it in a new process; remember its id."""
    state.ensure_saved()  # listed in Projects under its name, also if never edited
    owner = state.session_id()
    folder = runner.create(project, runs_root(), owner)
    command = [
        sys.executable,
        "-m",
        "builder.experiments.runner",
        str(folder),
        "--runs",
        str(runs_root()),
    ]
    if address:
        command += ["--ray", address]
    # Packed trials train in the runner's own process: tie it to this server like a worker.
    command += ["--parent", f"{os.getpid()}:{lifecycle.start_token(os.getpid()) or ''}"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(folder / "driver.log", "w", encoding="utf-8") as log:
        # Started from the launcher thread: the runner's parent-death signal is tied to the
        # thread that started it, and this script run's thread ends after the rerun.
        process = lifecycle.launch(
            lambda: subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    _processes()[folder.name] = process
    record = runs.read_json(folder / "experiment.json")
    record["pid"] = process.pid
    runs.write_json_atomic(folder / "experiment.json", record)
    remember(folder.name)
    return folder


def _reap() -> None:
    for exp_id, process in list(_processes().items()):
        if process.poll() is not None:
            del _processes()[exp_id]


def remember(exp_id: str) -> None:
    st.session_state[EXP_KEY] = exp_id
    if st.query_params.get(EXP_PARAM) != exp_id:
        st.query_params[EXP_PARAM] = exp_id


def forget() -> None:
    st.session_state.pop(EXP_KEY, None)
    if EXP_PARAM in st.query_params:
        del st.query_params[EXP_PARAM]


def folder_of(exp_id: str) -> Path | None:
    try:
        runs.check_run_id(exp_id)
    except runs.RunError:
        return None
    folder = runner.experiments_dir(runs_root(), state.session_id()) / exp_id
    return folder if (folder / "experiment.json").is_file() else None


def current() -> dict | None:
    """This session's remembered experiment (session or URL), read from its folder."""
    _reap()
    exp_id = st.session_state.get(EXP_KEY) or st.query_params.get(EXP_PARAM)
    folder = folder_of(exp_id) if exp_id else None
    if folder is None:
        if exp_id:
            forget()
        return None
    try:
        record = runner.read(folder)
    except (OSError, ValueError):
        return None
    remember(folder.name)
    return record


def past() -> list[dict]:
    return runner.list_experiments(runs_root(), state.session_id())


def stop(record: dict) -> None:
    runner.request_stop(record["path"])


# --------------------------------------------------------------------------- settings


def setting_choices(project: dict) -> dict[str, str]:
    """Settings an experiment can vary in ``project``: {setting: label with current value}."""
    choices: dict[str, str] = {}
    model = project.get("model", {})
    outputs = set(model.get("outputs", []))
    for layer in model.get("layers", []):
        name, cls = layer.get("name"), layer.get("class_name")
        config = layer.get("config", {})
        if name not in outputs:
            choices[f"layers.{name}.repeat"] = f"{name}: number of copies (depth; 0 omits it)"
            choices[f"layers.{name}.include"] = f"{name}: keep or omit the layer"
        for param in catalogue.LAYERS.get(cls, {}).get("params", []):
            now = config.get(param["name"], param.get("default"))
            choices[f"layers.{name}.{param['name']}"] = (
                f"{name} ({cls}): {param['name']} (now {json.dumps(now)})"
            )
    compile_, fit = settings.sections(project)
    opt = compile_["optimizer"]
    choices["compile.optimizer"] = f"optimizer (now {opt['class_name']})"
    for key, now in opt["config"].items():
        choices[f"compile.optimizer.{key}"] = f"optimizer: {key} (now {json.dumps(now)})"
    if len(outputs) <= 1:
        choices["compile.loss"] = f"loss (now {compile_['loss']})"
    for key in spec.FIT_SETTINGS:
        choices[f"fit.{key}"] = f"fit: {key} (now {fit[key]})"
    for key, value in (project.get("data", {}).get("options") or {}).items():
        if key != "path":
            choices[f"data.options.{key}"] = f"data: {key} (now {json.dumps(value)})"
    return choices


def suggested_values(setting: str) -> str:
    """A starting text for the values box."""
    if setting.endswith(".repeat"):
        return "1, 2, 3"
    if setting.endswith(".include"):
        return "true, false"
    if setting == "compile.optimizer":
        return "RMSprop, Adam"
    if setting == "compile.loss":
        return ", ".join(list(settings.LOSSES)[:2])
    if setting.endswith(".units"):
        return "16, 32, 64"
    if setting.endswith(".activation"):
        return "relu, tanh"
    return ""


def parse_values(text: str) -> list:
    """``"16, 32, relu, true"`` -> ``[16, 32, "relu", True]`` (JSON where it parses)."""
    values = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        try:
            values.append(json.loads(token))
        except ValueError:
            values.append(token)
    return values


# --------------------------------------------------------------------------- figures


def _short(setting: str) -> str:
    parts = setting.split(".")
    return ".".join(parts[1:]) if parts[0] in ("layers", "compile", "fit") else setting


def trial_rows(record: dict) -> list[dict]:
    """One row per trial for the table: state, metric, epochs, the metric per epoch
    (``curve``, drawn as a small line), each setting, and the best mark."""
    best = (record.get("best") or {}).get("id")
    rows = []
    for t in record["trials"]:
        row = {
            "trial": t["id"],
            "best": "best" if t["id"] == best else "",
            "state": t["state"],
            record["metric"]: t["metric"],
            "epochs": t["epochs"],
            "curve": [v for v in t.get("curve", []) if v is not None],
        }
        row.update(
            {
                _short(k): (json.dumps(v) if isinstance(v, bool) or v is None else v)
                for k, v in t["params"].items()
            }
        )
        rows.append(row)
    return rows


def curves_figure(record: dict) -> go.Figure:
    """The metric per epoch of every trial; the best trial drawn thick."""
    best = (record.get("best") or {}).get("id")
    fig = go.Figure()
    for t in record["trials"]:
        if not t.get("curve"):
            continue
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(t["curve"]) + 1)),
                y=t["curve"],
                mode="lines+markers",
                name=t["id"],
                line={"width": 4 if t["id"] == best else 1.5},
            )
        )
    fig.update_layout(
        height=280,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=f"{record['metric']} per epoch",
        xaxis_title="epoch",
        yaxis_title=record["metric"],
    )
    return fig


def parallel_figure(record: dict) -> go.Figure | None:
    """Parallel coordinates: each setting and the metric, one line per scored trial."""
    scored = [
        t
        for t in record["trials"]
        if isinstance(t["metric"], (int, float)) and math.isfinite(t["metric"])
    ]
    if not scored:
        return None
    dims = []
    for setting in scored[0]["params"]:
        values = [t["params"].get(setting) for t in scored]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dims.append({"label": _short(setting), "values": values})
        else:
            labels = sorted({json.dumps(v) if not isinstance(v, str) else v for v in values})
            index = {label: i for i, label in enumerate(labels)}
            dims.append(
                {
                    "label": _short(setting),
                    "tickvals": list(range(len(labels))),
                    "ticktext": [html(label) for label in labels],
                    "values": [
                        index[json.dumps(v) if not isinstance(v, str) else v] for v in values
                    ],
                }
            )
    metric = [t["metric"] for t in scored]
    dims.append({"label": record["metric"], "values": metric})
    reverse = record["mode"] == "min"  # the best trial is always the brightest line
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": metric,
                "colorscale": "Viridis",
                "reversescale": reverse,
                "showscale": True,
            },
            dimensions=dims,
        )
    )
    fig.update_layout(height=320, margin={"l": 60, "r": 60, "t": 40, "b": 20})
    return fig
