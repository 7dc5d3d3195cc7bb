"""Data: choose the dataset and its preprocessing, upload a CSV, look at samples.

The choice is written into the project's ``data`` section; the model's input shape follows
it (the builder learns it), and the recommended last layer and loss are offered.
"""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import streamlit as st

from builder import edit, paths, settings
from builder.data import DATASETS, DataError, describe, inspect_csv, offline, recommend
from builder.data.registry import recommend_for, validate_data_settings
from ui import data_choice, data_status, forms, frame, state
from ui.text import code, md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

ERRORS = "data_field_errors"
PENDING_CSV = "data_pending_csv"  # "Your CSV file" chosen, no file uploaded yet
NONE_CHOSEN = ""  # the picker's entry while a model has no data chosen
GROUPS = [
    (
        "From the book (Keras datasets)",
        ["imdb", "reuters", "boston_housing", "mnist", "fashion_mnist", "cifar10"],
    ),
    ("Offline (ship with scikit-learn)", ["digits", "breast_cancer", "wine", "diabetes"]),
    ("Your own", ["csv"]),
]


def _errors() -> dict:
    return st.session_state.setdefault(ERRORS, {})


def _commit_data(data: dict) -> None:
    """Validate new data settings; apply them (and the input shape) or show why not."""
    problems = validate_data_settings(data)
    if problems:
        _errors()["_data"] = " ".join(p.split(": ", 1)[-1] for p in problems)
        return
    _errors().pop("_data", None)
    project = {**state.get_project(), "data": data}
    project, note = edit.follow_data(project)
    state.set_project(project)
    if note:
        st.session_state["data_note"] = note


def _on_dataset() -> None:
    name = st.session_state["data_dataset"]
    st.session_state[ERRORS] = {}
    if name == NONE_CHOSEN:
        return
    if name == "csv":
        # A CSV needs its file first: show the uploader and keep the current data in the
        # project until a file is chosen (committing a CSV without a path is refused).
        st.session_state[PENDING_CSV] = True
        return
    st.session_state.pop(PENDING_CSV, None)
    _commit_data({"dataset": name, "options": {}})


def _on_option(spec: dict, key: str) -> None:
    errors = _errors()
    try:
        value = forms.widget_value(spec, key)
    except ValueError as err:
        errors[key] = str(err)
        return
    data = state.get_project()["data"]
    options = dict(data.get("options", {}))
    if value is None:
        options.pop(spec["name"], None)
    else:
        options[spec["name"]] = value
    candidate = {"dataset": data["dataset"], "options": options}
    problems = validate_data_settings(candidate)
    if problems:
        errors[key] = " ".join(p.split(": ", 1)[-1] for p in problems)
        return
    errors.pop(key, None)
    _commit_data(candidate)


def _dataset_picker(project: dict) -> str:
    names = [n for _, group in GROUPS for n in group if n in DATASETS]
    current = project["data"].get("dataset")
    if project["data"].get("chosen") is False:
        current = NONE_CHOSEN
        names.insert(0, NONE_CHOSEN)
    if st.session_state.get(PENDING_CSV) and current != "csv":
        current = "csv"
    if current not in names:
        names.append(current)
    st.session_state["data_dataset"] = current
    group_of = {n: g for g, members in GROUPS for n in members}
    st.selectbox(
        "Dataset",
        names,
        key="data_dataset",
        on_change=_on_dataset,
        format_func=lambda n: (
            f"{DATASETS[n].label} — {group_of.get(n, '')}"
            if n in DATASETS
            else ("No data chosen yet: pick a dataset" if n == NONE_CHOSEN else str(n))
        ),
    )
    return current


def _cache_status(spec) -> None:
    if spec.source != "keras":
        return
    avail = data_status.availability(spec.name)
    if avail.ready:
        st.caption(f"Cached in {md(offline.keras_cache_dir())}.")
    data_status.show(avail)


def _safe_file_name(name: str) -> str:
    """The uploaded file's base name with only letters, digits, '.', '_' and '-'."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name or "")).strip("._")
    return base if base else "data.csv"


def _csv_section(project: dict) -> None:
    upload = st.file_uploader(
        "Upload a CSV file",
        type=["csv", "txt"],
        key="data_csv_upload",
        help="First row: column names. Up to 200 MB.",
    )
    if upload is not None and st.session_state.get("data_csv_id") != upload.file_id:
        raw = upload.getvalue()
        try:
            summary = inspect_csv(raw)
        except DataError as err:
            st.error(f"This file cannot be used: {md(err)}")
            return
        # Kept under the user's own file name, so Train, Results and the exported script
        # name the file the user knows; another file of that name gets its hash added.
        name = _safe_file_name(upload.name)
        path = paths.uploads_dir() / name
        if path.exists() and path.read_bytes() != raw:
            stem, dot, ext = name.rpartition(".")
            tag = hashlib.sha256(raw).hexdigest()[:8]
            path = paths.uploads_dir() / (f"{stem}-{tag}.{ext}" if dot else f"{name}-{tag}")
        path.write_bytes(raw)
        st.session_state["data_csv_id"] = upload.file_id
        _commit_data(
            {
                "dataset": "csv",
                "options": {"path": path.name, "target": summary.suggested_target, "task": "auto"},
            }
        )
        if "_data" not in _errors():
            st.session_state.pop(PENDING_CSV, None)
        st.rerun()
    if project["data"].get("dataset") != "csv":
        st.info(
            f"Upload a CSV file to use it: the model keeps its current data "
            f"({md(DATASETS[project['data']['dataset']].label)}) until you do."
        )
        return
    path = project["data"].get("options", {}).get("path")
    if path:
        try:
            summary = inspect_csv(path)
        except DataError as err:
            # A missing file: the project still opens; say what is missing and the fix.
            st.warning(f"{md(err)} The model and settings are kept; training needs the file.")
            return
        st.caption(f"{md(path)}: {summary.rows:,} rows, {len(summary.columns)} columns.")
        st.dataframe(summary.preview, width="stretch")
        if summary.missing:
            st.caption(
                "Empty cells: " + ", ".join(f"{md(c)} ({n:,})" for c, n in summary.missing.items())
            )
        _target_pick(project, summary)


def _target_pick(project: dict, summary) -> None:
    """The column to predict, the guess's reason, and the other columns it could be."""
    options = project["data"].get("options", {})
    if options.get("targets"):
        return
    chosen = options.get("target") or summary.suggested_target
    others = [c for c in summary.target_alternatives if c != chosen][:5]
    st.markdown(
        f"**Column to predict: {md(chosen)}** ("
        + (
            "guessed: "
            if chosen == summary.suggested_target
            else f"your choice; the guess was {md(summary.suggested_target)}: "
        )
        + f"{md(summary.target_reason)})."
        + (
            f" Other columns it could be: {', '.join(map(md, others))}; choose under Preprocessing."
            if others
            else ""
        )
    )


def _commit_targets(targets: list[dict], column: str | None = None) -> None:
    """Several target columns (``targets``), or back to one (``column``, no list)."""
    data = state.get_project()["data"]
    options = {k: v for k, v in data.get("options", {}).items() if k != "targets"}
    if targets:
        options["targets"] = targets
    elif column:
        options["target"] = column
    _commit_data({"dataset": data["dataset"], "options": options})


def _on_target_columns() -> None:
    """The columns to predict changed: keep each kept column's output and task, give a
    new column the first output no column trains yet (so by default the i-th column
    trains the i-th output)."""
    chosen = list(st.session_state["data_csv_targets"])
    project = state.get_project()
    if len(chosen) < 2:
        _commit_targets([], chosen[0] if chosen else None)
        return
    old = {t["column"]: t for t in project["data"].get("options", {}).get("targets") or []}
    outputs = list(project["model"].get("outputs", []))
    kept = [dict(old[c]) for c in chosen if c in old]
    used = {t["output"] for t in kept}
    free = [out for out in outputs if out not in used]
    targets = []
    for column in chosen:
        if column in old:
            targets.append(dict(old[column]))
            continue
        taken = used | {t["output"] for t in targets}
        output = free.pop(0) if free else _unused_name(taken)
        used.add(output)
        targets.append({"column": column, "output": output, "task": "auto"})
    _commit_targets(targets)


def _unused_name(taken: set) -> str:
    """A placeholder output name for a column beyond the model's outputs (fit_check and
    the warning below say to add the output or choose fewer columns)."""
    n = 1
    while f"output_{n}" in taken:
        n += 1
    return f"output_{n}"


def _on_target_entry(i: int, key: str, widget: str) -> None:
    targets = [dict(t) for t in state.get_project()["data"]["options"]["targets"]]
    value = st.session_state[widget]
    if key == "output":
        # The output another column had: that column takes this one's old output.
        for other in targets:
            if other["output"] == value:
                other["output"] = targets[i]["output"]
    targets[i][key] = value
    _commit_targets(targets)


def _targets_form(project: dict, columns: list[str]) -> None:
    """Several columns to predict, each mapped to a model output with its own task."""
    options = project["data"].get("options", {})
    targets = options.get("targets") or []
    outputs = list(project["model"].get("outputs", []))
    chosen = [t["column"] for t in targets] or [options.get("target") or columns[-1]]
    st.session_state["data_csv_targets"] = [c for c in chosen if c in columns]
    st.multiselect(
        "Columns to predict, one per model output",
        columns,
        key="data_csv_targets",
        on_change=_on_target_columns,
        help="Each column trains its own output of the model, with its own task, loss "
        "and metrics (set per output on the Build page). The first column chosen trains "
        "the first output, the second the second, unless you map them otherwise below.",
    )
    if not targets:
        return
    tasks = ["auto", "binary", "multiclass", "regression"]
    for i, target in enumerate(targets):
        out_key, task_key = f"data_target_output:{i}", f"data_target_task:{i}"
        choices = outputs + ([target["output"]] if target["output"] not in outputs else [])
        with st.container(border=True):
            st.session_state[out_key] = target["output"]
            st.selectbox(
                f"Column '{target['column']}' trains output",
                choices,
                key=out_key,
                on_change=_on_target_entry,
                args=(i, "output", out_key),
            )
            st.session_state[task_key] = target.get("task", "auto")
            st.selectbox(
                "as task",
                tasks,
                key=task_key,
                on_change=_on_target_entry,
                args=(i, "task", task_key),
                help="auto: text or up to 10 distinct whole numbers are classes (2 "
                "classes: binary), anything else is regression.",
            )
    mapped = {t["output"] for t in targets}
    unmapped = [out for out in outputs if out not in mapped]
    if unmapped or len(outputs) != len(targets):
        st.warning(
            f"The model has {len(outputs)} output(s) and {len(targets)} columns to "
            "predict: each output needs its own column"
            + (f" (no column for {', '.join(map(md, map(repr, unmapped)))})" if unmapped else "")
            + ". Add outputs on the Graph page, or choose fewer columns."
        )


def _options_form(project: dict, spec) -> None:
    options = project["data"].get("options", {})
    errors = _errors()
    several = bool(options.get("targets"))
    columns = None
    texts: list[str] = []
    if spec.source == "csv" and options.get("path"):
        try:
            summary = inspect_csv(options["path"])
            columns = summary.columns
            predicted = {t.get("column") for t in options.get("targets") or []} or {
                options.get("target") or columns[-1]
            }
            texts = [c for c in columns if summary.dtypes.get(c) == "text" and c not in predicted]
        except DataError:
            pass
    regression = _is_regression(project)
    for opt in spec.options:
        if spec.source == "csv" and opt["name"] in ("path", "targets", "exclude"):
            continue  # their own widgets, below
        if several and opt["name"] in ("target", "task"):
            continue  # each column to predict has its own, below
        if opt["name"] == "label_encoding" and regression and not several:
            continue  # numbers to predict have no label form to choose
        if opt["name"] == "standardize_target" and not regression:
            continue
        key = f"data_opt:{spec.name}:{opt['name']}"
        spec_opt = dict(opt)
        value = options.get(opt["name"], opt["default"])
        if opt["name"] == "target" and columns:
            spec_opt.update(type="choice", choices=columns)
        if opt["name"] == "text":
            if not texts and not value:
                continue  # no column of text to read
            # a text column read as raw text: the model's one input (TextVectorization)
            spec_opt.update(type="choice", choices=[None, *texts], null_label="none")
            value = value or None
        forms.param_widget(
            spec_opt,
            value,
            key,
            errors,
            _on_option,
            (spec_opt, key),
            keras_name=False,
        )
    several_outputs = len(project["model"].get("outputs", [])) > 1
    if columns and (several or several_outputs):
        _targets_form(project, columns)
    if columns:
        _exclude_form(project, columns)


def _is_regression(project: dict) -> bool:
    """The data's (first) target is a number to predict (False when it cannot be read)."""
    try:
        return describe(project["data"]).task == "regression"
    except DataError:
        return False


def _on_exclude() -> None:
    data = state.get_project()["data"]
    options = {k: v for k, v in data.get("options", {}).items() if k != "exclude"}
    chosen = list(st.session_state["data_csv_exclude"])
    if chosen:
        options["exclude"] = chosen
    _commit_data({"dataset": data["dataset"], "options": options})


def _exclude_form(project: dict, columns: list[str]) -> None:
    """The columns the user leaves out of the inputs (the project's ``exclude`` option);
    "What the model needs" beside it lists them with every column left out and why."""
    options = project["data"].get("options", {})
    targets = {t.get("column") for t in options.get("targets") or []} or {
        options.get("target") or columns[-1]
    }
    choices = [c for c in columns if c not in targets]
    st.session_state["data_csv_exclude"] = [c for c in options.get("exclude") or [] if c in choices]
    st.multiselect(
        "Leave out columns",
        choices,
        key="data_csv_exclude",
        on_change=_on_exclude,
        help="Columns that are not inputs to the model: a name, a ticket number, a note. "
        "Row IDs and free text are left out without being chosen here; What the model "
        "needs lists every column left out and why.",
    )


def _recommended(rec: dict) -> str:
    """A recommendation (``builder.advice.recommend_for``) in words: the last layer, the
    loss and the metrics."""
    last = rec["last_layer"]["config"]
    act = last.get("activation") or "no activation"
    return (
        f"Dense({last['units']}, {md(act)}), loss {code(rec['loss'])}, metrics "
        f"{md(', '.join(rec['metrics']))}"
    )


def _recommend_targets(project: dict, info) -> None:
    """Several columns to predict: each one's task and the last layer, loss and metrics
    that suit it, on its own output; one button sets every output's loss and metrics."""
    outputs = list(project["model"].get("outputs", []))
    st.markdown(f"**Input:** {md(tuple(info.input_spec['shape']))} {md(info.input_spec['dtype'])}")
    _csv_inputs(project)
    losses, metrics = {}, {}
    for target in info.targets:
        rec = recommend_for(info.for_output(target.output))
        classes = f", {target.num_classes} classes" if target.num_classes else ""
        st.markdown(
            f"**{md(target.column)}** → output {code(target.output)}: "
            f"{md(target.task)}{md(classes)} · "
            f"**recommended:** {_recommended(rec)}"
        )
        if target.output in outputs:
            losses[target.output], metrics[target.output] = rec["loss"], rec["metrics"]
    comp = project["compile"]
    if not losses or set(losses) != set(outputs):
        return
    have_loss = settings.per_output(comp, "loss", outputs)
    have_metrics = settings.per_output(comp, "metrics", outputs)
    if have_loss != losses or {k: list(v) for k, v in have_metrics.items()} != metrics:
        if st.button("Use the recommended loss and metrics per output", key="data_use_rec"):
            new = {**project, "compile": {**comp, "loss": losses, "metrics": metrics}}
            state.set_project(new)
            st.rerun()


def _csv_inputs(project: dict) -> None:
    """Which columns of the CSV become the model's inputs and which are left out (and why),
    said before anything is trained (the table is the one ``describe`` already read)."""
    from builder import starter
    from builder.data import csv_data
    from builder.data.registry import resolved_options

    try:
        table = csv_data.load_table_cached(resolved_options(project["data"]))
    except DataError:
        return  # said above, by describe
    report = starter.columns_report(table)
    numbers = report["numbers"]
    categories = [f"{name} ({n} categories)" for name, n in report["categories"].items()]
    parts = [
        f"{name} as raw text (one string per row, for a TextVectorization first in the model)"
        for name in report["text"]
    ]
    if numbers:
        parts.append(f"{md(', '.join(numbers))} as numbers")
    if categories:
        parts.append(f"{md(', '.join(categories))} one-hot")
    text = f"**Inputs ({len(table.feature_names)}):** " + "; ".join(parts) + "."
    if report["left_out"]:
        text += " **Left out:** " + "; ".join(
            f"{md(name)} ({md(why)})" for name, why in report["left_out"].items()
        )
        text += "."
    st.markdown(text)  # escaped: user text piece by piece above


def _recommendation(project: dict) -> None:
    try:
        rec = recommend(project["data"])
        info = describe(project["data"])
    except DataError as err:
        st.error(md(str(err)))
        options = project["data"].get("options") or {}
        target = options.get("target")
        if project["data"].get("dataset") == "csv" and options.get("targets"):
            st.caption(
                "The columns to predict are "
                + ", ".join(f"'{md(t.get('column'))}'" for t in options["targets"])
                + ": choose others under Preprocessing (Columns to predict)."
            )
        elif project["data"].get("dataset") == "csv" and target:
            # The guess may not be the column the person wants.
            st.caption(
                f"The column to predict is '{md(target)}'. If the answer is in another column "
                "of your file, choose it under Preprocessing (Column to predict)."
            )
        return
    if info.targets:
        _recommend_targets(project, info)
        return
    classes = f", {info.num_classes} classes" if info.num_classes else ""
    st.markdown(
        f"**Task:** {md(info.task)}{md(classes)} · "
        f"**input:** {md(tuple(info.input_spec['shape']))} "
        f"{md(info.input_spec['dtype'])} · **recommended:** last layer {_recommended(rec)}"
    )
    if project["data"].get("dataset") == "csv":
        _csv_inputs(project)
    if info.task == "regression":
        _target_scale(project)
    comp = project["compile"]
    if comp["loss"] != rec["loss"] or comp["metrics"] != rec["metrics"]:
        if st.button("Use the recommended loss and metrics", key="data_use_rec"):
            new = {**project, "compile": {**comp, "loss": rec["loss"], "metrics": rec["metrics"]}}
            state.set_project(new)
            st.rerun()


def _target_scale(project: dict) -> None:
    """Whether the number to predict is standardised for training, in words."""
    from builder.data import loader

    try:
        scale = loader.label_scale(project)
    except DataError:
        return
    if scale is None:
        return
    mean, std = scale
    st.caption(
        f"The target is standardised for training (training split: mean {mean:.4g}, "
        f"deviation {std:.4g}); the model's last step turns it back, so predictions, loss "
        "and metrics are in the target's own units (Standardise the target, under "
        "Preprocessing)."
    )


def _show_sample(sample: dict) -> None:
    if "labels" in sample:  # several columns to predict, each for its own output
        labels = " · ".join(
            f"{md(v['column'])}: **{md(v['label'])}**" for v in sample["labels"].values()
        )
        st.markdown(f"{labels} (sample {sample['index']:,})")  # escaped: above
    else:
        st.markdown(
            f"**{md(sample['target'])}: {md(sample['label'])}** (sample {sample['index']:,})"
        )
    if sample["kind"] == "text":
        st.write(sample["text"])
    elif sample["kind"] == "image":
        pixels = sample["pixels"]
        scale = max(1, 140 // pixels.shape[0])
        st.image(
            np.kron(pixels, np.ones((scale, scale) + (1,) * (pixels.ndim - 2), dtype=np.uint8)),
            clamp=True,
        )
    else:
        st.dataframe([sample["row"]], width="stretch")


def _preview(project: dict) -> None:
    st.subheader("Samples")
    if not st.button("Load the data and show samples", key="data_load"):
        return
    from builder.data import prepare

    bar = st.progress(0.0, text="Preparing the data…")
    try:
        prepared = prepare(
            project, lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m), allow_download=True
        )
    except DataError as err:
        bar.empty()
        st.error(md(str(err)))
        return
    bar.empty()
    st.caption(
        f"{len(prepared.train_targets):,} training and {len(prepared.test_targets):,} "
        f"test samples; model input {md(prepared.x_train.shape[1:])} "
        f"{md(prepared.x_train.dtype)}."
    )
    for note in prepared.notes:
        st.info(md(note))
    cols = st.columns(3)
    for i, col in enumerate(cols):
        with col:
            try:
                _show_sample(prepared.sample("train", i))
            except DataError as err:
                st.warning(md(str(err)))


st.title("Data")
project = state.get_project()
data_choice.offer(project, "data_use_suggested")
name = _dataset_picker(project)
if name == NONE_CHOSEN:
    frame.end()  # nothing to describe until a dataset is chosen
note = " ".join(
    n for n in (st.session_state.pop(k, None) for k in ("data_note", "data_names_note")) if n
)
if note:
    st.success(md(note))
if "_data" in _errors():
    st.error(md(_errors()["_data"]))
spec = DATASETS.get(name)
if spec is None:
    st.error(f"Unknown dataset {md(repr(name))}: pick one from the list.")
    frame.end()
st.write(spec.description)
_cache_status(spec)
if spec.source == "csv":
    _csv_section(project)
if spec.source == "csv" and project["data"].get("dataset") != "csv":
    frame.end()  # nothing to preprocess before a file is chosen
left, right = st.columns([1, 2])
with left:
    st.subheader("Preprocessing")
    _options_form(project, spec)
with right:
    st.subheader("What the model needs")
    if spec.source != "csv" or project["data"].get("options", {}).get("path"):
        _recommendation(project)
    _preview(project)
