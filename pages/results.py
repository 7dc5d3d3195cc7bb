"""Results: one run of this session — test scores, curves, predictions, retrain.

Runs come from disk (``builder.training.runs``), newest first, only this session's. The
scores and curves are drawn from the run's files at once; predictions need the saved model
and the data, so TensorFlow is loaded after that first paint, and the model, the prepared
data and the test-set predictions are cached.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import streamlit as st

from builder import edit
from builder.project import ProjectError, validate
from builder.training import runs
from ui import charts, doctor_view, frame, jobs, state
from ui.text import code, md

frame.enter()  # a reload on this page's URL after a restart: see ui.frame

HERE = Path(__file__).resolve().parent
SAMPLES = 4
SEED_KEY = "results_seed"


def _page_link(path: str, label: str) -> None:
    if (HERE.parent / path).exists():
        st.page_link(path, label=label)


def _label(record: dict) -> str:
    return f"{record['id']} · {record.get('name') or 'unnamed'} · {record['state']}"


# --------------------------------------------------------------------------- cached work


@st.cache_resource(max_entries=2, show_spinner=False)
def _model(path: str, mtime: float):
    import keras

    return keras.saving.load_model(path, compile=False)


@st.cache_resource(max_entries=2, show_spinner=False)
def _prepared(project_json: str):
    from builder import data

    return data.prepare(json.loads(project_json), allow_download=True)


@st.cache_data(max_entries=4, show_spinner=False)
def _test_outputs(path: str, mtime: float, project_json: str) -> np.ndarray | dict | None:
    """The model's outputs on the whole test split: {output name: outputs} for a model
    whose outputs each learn their own CSV column, None for another multi-output model."""
    from builder.training import feed

    prepared = _prepared(project_json)
    model = _model(path, mtime)
    outputs = feed.predict(model, prepared.x_test, batch_size=256, verbose=0)
    if not isinstance(outputs, (list, tuple, dict)):
        return np.asarray(outputs)
    if not prepared.output_targets:
        return None
    if isinstance(outputs, dict):
        return {name: np.asarray(value) for name, value in outputs.items()}
    return {name: np.asarray(value) for name, value in zip(model.output_names, outputs)}


def _model_path(run: dict) -> str | None:
    if run["model_path"]:
        return run["model_path"]
    first = Path(run["info"]["path"]) / "folds" / "fold-1.keras"
    return str(first) if first.is_file() else None


def _predict(path: str, x) -> np.ndarray:
    from builder.training import feed

    # through feed: texts reach Keras as TensorFlow strings
    return np.asarray(feed.predict(_model(path, os.path.getmtime(path)), x, verbose=0))


# --------------------------------------------------------------------------- sections


def _scores(run: dict) -> None:
    info, metrics = run["info"], run["metrics"] or {}
    if info["state"] == "failed":
        st.error(f"This run failed: {md(info.get('message') or 'no reason recorded.')}")
    elif info["state"] == "interrupted":
        st.warning(f"This run was interrupted: {md(info.get('message'))}")
    elif info.get("message"):
        st.caption(md(info["message"]))
    st.caption(
        f"Device: {md(info.get('device') or '?')} · started {md(info.get('started', '?'))} · "
        f"{md(info.get('epochs_done', 0))} epoch(s)"
    )
    for part, title in (("test", "Test set"), ("kfold", "K-fold validation (mean of folds)")):
        scores = {k: v for k, v in (metrics.get(part) or {}).items() if v is not None}
        if not scores:
            continue
        st.subheader(md(title))
        columns = st.columns(min(4, len(scores)))
        for i, (name, value) in enumerate(scores.items()):
            columns[i % len(columns)].metric(
                f"{part} {name}".replace("kfold val_", "k-fold "), f"{value:.4g}"
            )
    if not (metrics.get("test") or metrics.get("kfold")):
        st.info("No test-set evaluation was recorded for this run.")


def _segments(run: dict) -> None:
    """Where each stretch of a resumed run started and how it ended."""
    segments = run["info"].get("segments") or []
    if len(segments) < 2:
        return
    lines = []
    for i, seg in enumerate(segments, start=1):
        first, done = seg.get("first_epoch", 1), seg.get("epochs_done")
        span = f"epochs {first}–{done}" if done and done >= first else f"from epoch {first}"
        end = seg.get("state") or "running"
        why = f": {seg['message']}" if seg.get("message") else ""
        lines.append(f"{i}. {md(span)}, started {md(seg.get('started') or '?')} — {md(end + why)}")
    st.markdown("**Trained in segments (resumed):**\n" + "\n".join(lines))  # escaped: above


def _resume(run: dict) -> None:
    device = st.session_state.get("train_device", "auto")
    if jobs.resume_control(run["info"]["id"], key="results_resume", device=device):
        st.switch_page("pages/train.py")


def _curves(run: dict) -> None:
    history = run["history"] or {}
    names = charts.metric_names(history)
    if not names:
        return
    st.subheader("Curves")
    folds = charts.split_folds(run["history_folds"]) if run["history_folds"] else {}
    if folds:
        smoothing = st.toggle(
            "Smooth K-fold curves (leave out the first 10 epochs, moving average 0.9)",
            key="results_smooth",
        )
    columns = st.columns(min(2, len(names)))
    for i, metric in enumerate(names):
        with columns[i % len(columns)]:
            st.plotly_chart(charts.curve_figure(history, metric), key=f"results_curve_{metric}")
            if folds:
                st.plotly_chart(
                    charts.kfold_figure(folds, metric, smoothing), key=f"results_kfold_{metric}"
                )


def _retrain(run: dict) -> None:
    history = run["history"] or {}
    if not any(v is not None for v in history.get("val_loss") or []):
        return
    best = charts.best_epoch(history, "loss")
    st.subheader("Retrain")
    st.caption(
        f"Validation loss was lowest at epoch {md(best)}. The book's last step: train a "
        "fresh model on all the training data (no validation) for that many epochs, "
        "then evaluate it on the test set. It trains as a new project; this one keeps "
        "its runs."
    )
    if st.button(f"Retrain from scratch for {md(best)} epochs", key="results_retrain"):
        try:
            project = validate(edit.retrain(validate(copy.deepcopy(run["project"])), best))
            name = f"{project.get('name') or 'Untitled'} (retrained, {best} epochs)"
            project = validate({**project, "name": name})
            # A project of its own, so the retrained run never mixes with this one's.
            state.new_project(project, "The retrained model")
            jobs.start(state.get_project())
        except (ProjectError, RuntimeError, ValueError) as err:
            st.error(f"Retraining did not start: {md(err)}")
            return
        st.switch_page("pages/train.py")


def _show_sample(sample: dict, output: np.ndarray, prepared) -> None:
    info = prepared.info
    names = info.class_names
    if sample["kind"] == "text":
        text = sample["text"]
        st.markdown(f"> {md(text[:600])}{md('...' if len(text) > 600 else '')}")
    elif sample["kind"] == "image":
        st.image(sample["pixels"], width=96, clamp=True)
    elif sample.get("row"):
        st.caption(
            ", ".join(f"{md(k)} {md(v)}" for k, v in list(sample["row"].items())[:8])
            + (" ..." if len(sample["row"]) > 8 else "")
        )
    if info.task == "regression":
        value = float(np.ravel(output)[0])
        st.markdown(
            f"Predicted **{value:.4g}** · true **{md(sample['label'])}** "
            f"({md(info.target_name or 'value')})"
        )
        return
    probabilities = charts.class_probabilities(np.asarray(output)[None, ...])[0]
    st.markdown(f"True: **{md(sample['label'])}**")
    if info.task == "binary":
        positive = names[1] if names else "class 1"
        st.markdown(f"Probability {md(positive)}: **{probabilities[1]:.2f}**")
    elif sample["kind"] == "image" or len(probabilities) <= 12:
        st.plotly_chart(
            charts.probability_figure(probabilities, names), key=f"results_prob_{sample['index']}"
        )
    else:
        st.markdown(
            "Top 3: "
            + " · ".join(f"{md(name)} {p:.2f}" for name, p in charts.top_k(probabilities, names, 3))
        )


def _output_predictions(prepared, outputs: dict) -> None:
    """Each output against its own CSV column: a chart per output, then test samples
    with every output's prediction beside the true value."""
    st.subheader("Test-set predictions")
    for output, (_, truth) in prepared.output_targets.items():
        info = prepared.info.for_output(output)
        st.markdown(f"**{md(output)}** · column {md(info.target_name)} ({md(info.task)})")
        if info.task == "regression":
            figure = charts.scatter_figure(truth, outputs[output].reshape(-1), info.target_name)
        else:
            classes = info.num_classes or charts.class_probabilities(outputs[output]).shape[1]
            matrix = charts.confusion_matrix(truth, charts.class_indices(outputs[output]), classes)
            figure = charts.confusion_figure(matrix, info.class_names)
        st.plotly_chart(figure, key=f"results_output_{output}")
    st.subheader("Predictions on test samples")
    if st.button("Other samples", key="results_other"):
        st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
    rng = np.random.default_rng(st.session_state.get(SEED_KEY, 0))
    count = len(prepared.test_targets)
    for i in rng.choice(count, size=min(SAMPLES, count), replace=False):
        sample = prepared.sample("test", int(i))
        st.caption(
            ", ".join(f"{md(k)} {md(v)}" for k, v in list(sample["row"].items())[:8])
            + (" ..." if len(sample["row"]) > 8 else "")
        )
        for output, label in sample["labels"].items():
            guess = prepared.predicted_label(outputs[output][int(i)], output)
            st.markdown(
                f"{code(output)} predicted **{md(guess)}** · "
                f"true **{md(label['label'])}** ({md(label['column'])})"
            )
        st.divider()


def _predictions(run: dict) -> None:
    path = _model_path(run)
    if path is None:
        st.info("This run saved no model, so there is nothing to predict with.")
        return
    project = run["project"]
    project_json = json.dumps(project, sort_keys=True)
    try:
        with st.spinner("Loading the model and the data..."):
            prepared = _prepared(project_json)
            outputs = _test_outputs(path, os.path.getmtime(path), project_json)
    except Exception as err:  # data or model problems are shown, never a traceback
        st.warning(f"Predictions are not available: {md(err)}")
        return
    if outputs is None:
        st.info("Predictions are shown for single-output models only.")
        return
    if isinstance(outputs, dict):
        _output_predictions(prepared, outputs)
        return
    info = prepared.info
    st.subheader("Test-set predictions")
    if info.task == "regression":
        st.plotly_chart(
            charts.scatter_figure(
                prepared.test_targets, outputs.reshape(-1), info.target_name or "value"
            ),
            key="results_scatter",
        )
    else:
        classes = info.num_classes or charts.class_probabilities(outputs).shape[1]
        matrix = charts.confusion_matrix(
            prepared.test_targets, charts.class_indices(outputs), classes
        )
        st.plotly_chart(charts.confusion_figure(matrix, info.class_names), key="results_cm")

    st.subheader("Predictions on test samples")
    if st.button("Other samples", key="results_other"):
        st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1
    rng = np.random.default_rng(st.session_state.get(SEED_KEY, 0))
    picks = rng.choice(
        len(prepared.test_targets), size=min(SAMPLES, len(prepared.test_targets)), replace=False
    )
    columns = (
        st.columns(len(picks)) if info.sample_kind == "image" else [st.container()] * len(picks)
    )
    for column, i in zip(columns, picks):
        with column:
            _show_sample(prepared.sample("test", int(i)), outputs[i], prepared)
            if info.sample_kind != "image":
                st.divider()

    if prepared.reads_text:
        st.subheader("Your own text")
        text = st.text_area(
            "Type a review or a newswire",
            key="results_text",
            placeholder="This movie was a wonderful surprise...",
        )
        if st.button("Predict", key="results_predict") and text.strip():
            try:
                output = _predict(path, prepared.encode_text(text))[0]
            except Exception as err:  # e.g. the word index file is missing
                st.warning(f"Cannot encode this text: {md(err)}")
                return
            probabilities = charts.class_probabilities(output[None, ...])[0]
            if info.task == "binary":
                names = info.class_names or ("class 0", "class 1")
                st.markdown(
                    f"Probability {md(names[1])}: **{probabilities[1]:.2f}** "
                    f"({md(names[int(probabilities[1] >= 0.5)])})"
                )
            else:
                st.markdown(
                    "Top 3: "
                    + " · ".join(
                        f"{md(name)} {p:.2f}"
                        for name, p in charts.top_k(probabilities, info.class_names, 3)
                    )
                )


# --------------------------------------------------------------------------- page

st.title("Results")
records = runs.list_runs(jobs.runs_root(), jobs.owner())
if not records:
    st.info("No runs yet in this session: train a model first.")
    _page_link("pages/train.py", "Go to Train")
    frame.end()

by_id = {r["id"]: r for r in records}
if st.session_state.get("results_run") not in by_id:
    st.session_state["results_run"] = records[0]["id"]
run_id = st.selectbox("Run", list(by_id), format_func=lambda i: _label(by_id[i]), key="results_run")
record = by_id[run_id]
jobs.delete_control([run_id], key="results_delete")
if record["state"] == "broken":
    st.error(md(record["message"]))
    frame.end()
try:
    run = runs.load_run(jobs.runs_root(), jobs.owner(), run_id)
except runs.RunError as err:
    st.error(md(str(err)))
    frame.end()
if run["info"]["state"] in ("starting", "running"):
    st.info("This run is still training: its results appear when it ends.")
    _page_link("pages/train.py", "Watch it on Train")
    frame.end()

_scores(run)
_segments(run)
_resume(run)
_curves(run)
if not any(f["kind"] == "overfitting" for f in doctor_view.findings(run, key="results_doctor")):
    _retrain(run)  # the doctor's own Retrain button says it otherwise
if run["project"] is not None:
    _predictions(run)
