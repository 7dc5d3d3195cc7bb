"""A new project for a CSV file: the Data page's decisions as one function.

``new_csv_project(path)`` makes what a careful person would choose for a table they have
not seen: the column to predict (``csv_data.guess_target``), which columns become inputs
and which are left out and why (row IDs, free text, empty columns), the task, the
preprocessing (numbers standardised, text one-hot, a regression target standardised when
its scale is far from 1), the last layer, loss and metrics the data needs
(``registry.recommend_for``), and a network and fit settings sized to the data. The Data
page and ``python -m builder new`` both call it, so they decide alike.

No TensorFlow: the file is read with pandas (cached), the model is plain project data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder import edit, recent, settings, templates
from builder import project as project_file
from builder.data import DataError, csv_data, registry

__all__ = [
    "EPOCH_STEPS",
    "NewProject",
    "columns_report",
    "default_fit",
    "hidden_units",
    "new_csv_project",
]

# About this many optimiser steps in all (then EarlyStopping on the validation loss keeps
# the best epoch): a few hundred rows get many epochs, a large table few.
EPOCH_STEPS = 2000
MIN_EPOCHS, MAX_EPOCHS = 20, 100
BATCH_SIZE = 32
VALIDATION_FRACTION = 0.2


@dataclass
class NewProject:
    """A new project and what was decided for it, in the shape ``new --json`` prints."""

    project: dict
    target: str
    targets: list[str]
    task: str
    tasks: dict[str, str]
    why_target: str
    alternatives: list[str]
    kept: list[str]
    left_out: dict[str, str]
    notes: list[str] = field(default_factory=list)


def columns_report(table: csv_data.CsvTable) -> dict[str, Any]:
    """Which columns of a loaded CSV become inputs and which are left out, and why:
    {"numbers": [name], "categories": {name: count}, "text": [name], "kept": [name],
    "left_out": {name: reason}} ("text": a column read as raw strings, the model's one
    input). What the Data page lists and ``new --json`` prints."""
    enc = table.encoder
    return {
        "numbers": [c.name for c in enc.columns if c.kind == "number"],
        "categories": {c.name: len(c.categories) for c in enc.columns if c.kind == "category"},
        "text": [c.name for c in enc.columns if c.kind == "text"],
        "kept": [c.name for c in enc.columns],
        "left_out": {name: why for name, why in enc.dropped},
    }


def hidden_units(features: int, rows: int) -> int:
    """Units of each of the two hidden Dense layers: 64 as the book's Boston network, 128
    for many inputs or a large table, 32 for a tiny one."""
    if rows < 150:
        return 32
    if features > 64 or rows > 20_000:
        return 128
    return 64


def default_fit(train_rows: int) -> dict:
    """Fit settings sized to the training split: batches of 32, 20 % of it for validation,
    about ``EPOCH_STEPS`` steps (20 to 100 epochs) and EarlyStopping that restores the best
    epoch's weights."""
    steps = max(1, math.ceil(train_rows * (1 - VALIDATION_FRACTION) / BATCH_SIZE))
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, round(EPOCH_STEPS / steps)))
    fit = settings.default_fit()
    fit.update(
        epochs=epochs,
        batch_size=BATCH_SIZE,
        validation={"method": "split", "fraction": VALIDATION_FRACTION},
        callbacks=[
            {
                "class_name": "EarlyStopping",
                "config": {
                    "monitor": "val_loss",
                    "patience": max(10, epochs // 10),
                    "restore_best_weights": True,
                },
            }
        ],
    )
    return fit


def _output_name(column: str, taken: set[str]) -> str:
    """A layer name (``[A-Za-z_][A-Za-z0-9_]*``) for the output predicting ``column``."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", column).strip("_") or "output"
    if not re.match(r"[A-Za-z_]", base):
        base = f"c_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _network(features: int, rows: int, outputs: dict[str, dict]) -> dict:
    """Two hidden Dense(relu) layers and one recommended last layer per output (a stack
    for one output, a shared trunk with one head per column for several)."""
    units = hidden_units(features, rows)
    layers: list[dict] = [
        {
            "name": "hidden_1",
            "class_name": "Dense",
            "config": {"units": units, "activation": "relu"},
        },
        {
            "name": "hidden_2",
            "class_name": "Dense",
            "config": {"units": units, "activation": "relu"},
        },
    ]
    for name, rec in outputs.items():
        last = rec["last_layer"]
        layer = {"name": name, "class_name": last["class_name"], "config": dict(last["config"])}
        if len(outputs) > 1:
            layer["inbound"] = ["hidden_2"]
        layers.append(layer)
    return {
        "inputs": [{"name": "features", "shape": [features], "dtype": "float32"}],
        "layers": layers,
        "outputs": list(outputs),
    }


def _from_template(name: str, data: dict, columns: int) -> dict:
    """The template's project on this data: input shape from the data, each output's last
    Dense layer set to the recommended units and activation; the template's fit kept."""
    project = templates.load(name)
    project["data"] = data
    project, _ = edit.follow_data(project)
    outputs = list(project["model"]["outputs"])
    if len(outputs) < columns:
        raise DataError(
            f"template {name!r} has {len(outputs)} output(s) and {columns} columns "
            "are to be predicted: choose fewer --target columns or a template with more outputs."
        )
    return project


def new_csv_project(
    path: str | Path,
    targets: list[str] | tuple[str, ...] = (),
    template: str | None = None,
    name: str | None = None,
) -> NewProject:
    """A valid project training on the CSV at ``path`` with every decision made.

    ``targets``: the column(s) to predict (none: the guess); several train one output
    each. ``template``: a template's network instead of the default one (its inputs and
    last layers follow the data). DataError for a file or column that cannot be used,
    KeyError for an unknown template.
    """
    summary = csv_data.inspect_csv(str(path))
    chosen = list(targets) or [summary.suggested_target]
    for column in chosen:
        if column not in summary.columns:
            raise DataError(
                f"the file has no column {column!r}: its columns are {', '.join(summary.columns)}."
            )
    why = summary.target_reason if not targets else "chosen by you"
    base = Path(path)
    options: dict[str, Any] = {"path": str(path), "task": "auto"}
    taken: set[str] = set()
    if len(chosen) == 1:
        options["target"] = chosen[0]
        output_names = ["prediction"]
    else:
        output_names = [_output_name(c, taken) for c in chosen]
        options["target"] = chosen[0]
        options["targets"] = [
            {"column": c, "output": out, "task": "auto"} for c, out in zip(chosen, output_names)
        ]
    data = {"dataset": "csv", "options": options}
    problems = registry.validate_data_settings(data)
    if problems:
        raise DataError(" ".join(problems))
    info = registry.describe(data)
    table = csv_data.load_table_cached(registry.resolved_options(data))
    rows = len(table.y_train)
    features = len(table.feature_names)
    if template is not None:
        project = _from_template(template, data, len(chosen))
        output_names = list(project["model"]["outputs"])[: len(chosen)]
        if len(chosen) > 1:
            data["options"]["targets"] = [
                {"column": c, "output": out, "task": "auto"} for c, out in zip(chosen, output_names)
            ]
            info = registry.describe(data)
        recs = registry.recommend_outputs(info, list(project["model"]["outputs"]))
        for out, rec in recs.items():
            layer = next(lay for lay in project["model"]["layers"] if lay["name"] == out)
            if layer["class_name"] == "Dense":
                layer["config"].update(rec["last_layer"]["config"])
                if "activation" not in rec["last_layer"]["config"]:
                    layer["config"]["activation"] = None
    else:
        recs = registry.recommend_outputs(info, output_names)
        project = project_file.new_project(name="Untitled", dataset="csv", options=options)
        project["model"] = _network(features, rows, recs)
        project["fit"] = default_fit(rows)
    comp = project["compile"]
    if len(recs) == 1:
        rec = next(iter(recs.values()))
        comp.update(loss=rec["loss"], metrics=list(rec["metrics"]), loss_weights=None)
    else:
        comp.update(
            loss={out: rec["loss"] for out, rec in recs.items()},
            metrics={out: list(rec["metrics"]) for out, rec in recs.items()},
            loss_weights=None,
        )
    project["data"] = data
    project["name"] = name or recent.automatic_name(project)
    project["description"] = f"Made by netbuilder from {base.name}: {', '.join(chosen)} predicted."
    project = project_file.validate(project)
    report = columns_report(table)
    tasks = {col.column: col.task for col in table.targets}
    return NewProject(
        project=project,
        target=chosen[0],
        targets=chosen,
        task=table.task,
        tasks=tasks,
        why_target=why,
        alternatives=list(summary.target_alternatives),
        kept=report["kept"],
        left_out=report["left_out"],
        notes=list(table.notes),
    )
