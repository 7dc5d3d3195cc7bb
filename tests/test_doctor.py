"""The doctor's rules on synthetic histories and prediction summaries, one table row per
rule and a pair of cases on either side of each threshold; its fixes applied to projects
and checked by Keras. Real fits are in test_doctor_fits.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from builder import doctor, fixes
from builder.doctor import THRESHOLDS as T
from builder.project import ProjectError, validate
from tests.helpers import project


def _project(lr=0.001, layers=None, loss="mse", **data):
    p = project(
        layers
        or [
            ("hidden", "Dense", {"units": 8, "activation": "relu"}),
            ("out", "Dense", {"units": 1}),
        ],
        shape=(4,),
        loss=loss,
        metrics=("mae",),
        dataset="diabetes",
        options=data or None,
    )
    p["compile"]["optimizer"] = {"class_name": "Adam", "config": {"learning_rate": lr}}
    p["fit"].update(epochs=5, validation={"method": "holdout", "fraction": 0.2})
    return validate(p)


def _kinds(findings) -> list[str]:
    return [f["kind"] for f in findings]


FINISHED = {"id": "20261207-120000-000001", "state": "finished", "resumable": True}
FALLING = [1.0, 0.8, 0.6, 0.5, 0.4]  # a training loss that learns
REGRESSION = {
    "split": "validation",
    "samples": 100,
    "task": "regression",
    "labels": {"min": 25.0, "max": 346.0, "mean": 150.0, "std": 75.0, "median": 140.0},
    "predicted": {"min": 100.0, "max": 300.0, "mean": 150.0, "std": 60.0},
    "mae": 40.0,
    "median_mae": 65.0,
    "input_abs_max": 3.0,
    "dead_relu": {},
}
BINARY = {
    "split": "validation",
    "samples": 100,
    "task": "binary",
    "label_counts": [50, 50],
    "predicted_counts": [48, 52],
    "class_names": ["no", "yes"],
    "input_abs_max": 2.0,
    "dead_relu": {},
}


def _with(summary: dict, **changes) -> dict:
    out = {**summary}
    for key, value in changes.items():
        out[key] = (
            {**summary[key], **value} if isinstance(value, dict) and key in summary else value
        )
    return out


CASES = [
    # (case, history, predictions, expected kinds)
    ("healthy", {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]}, REGRESSION, []),
    ("nan", {"loss": [1.0, math.nan]}, None, ["nan"]),
    ("nan as None (history.csv of a JSON copy)", {"loss": [1.0, None]}, None, ["nan"]),
    ("diverging", {"loss": [1.0, 0.5, 0.9, 1.4]}, None, ["diverging"]),
    (
        "overfitting",
        {"loss": FALLING + [0.3, 0.2], "val_loss": [1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0]},
        REGRESSION,
        ["overfitting"],
    ),
    ("underfitting", {"loss": FALLING, "val_loss": FALLING}, REGRESSION, ["underfitting"]),
    ("underfitting without validation", {"loss": FALLING}, None, ["underfitting"]),
    ("no progress", {"loss": [1.0, 1.0, 0.999, 1.0]}, None, ["no_progress"]),
    (
        "collapsed regression",
        {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]},
        _with(REGRESSION, predicted={"min": 149.0, "max": 151.0, "std": 0.5}),
        ["collapsed"],
    ),
    (
        "raw-scale regression: range, not also collapse",
        {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]},
        _with(REGRESSION, predicted={"min": 0.0, "max": 15.0, "mean": 5.0, "std": 3.0}, mae=145.0),
        ["range"],
    ),
    (
        "majority class",
        {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]},
        _with(BINARY, label_counts=[70, 30], predicted_counts=[100, 0]),
        ["majority_class"],
    ),
    (
        "imbalance",
        {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]},
        _with(BINARY, label_counts=[90, 10], predicted_counts=[88, 12]),
        ["imbalance"],
    ),
    (
        "constant labels say only that",
        {"loss": FALLING, "val_loss": FALLING},
        _with(BINARY, label_counts=[0, 100], predicted_counts=[0, 100]),
        ["constant_labels"],
    ),
    (
        "no progress explains a collapse once",
        {"loss": [1.0, 1.0, 1.0, 1.0]},
        _with(BINARY, label_counts=[70, 30], predicted_counts=[100, 0]),
        ["no_progress"],
    ),
]


@pytest.mark.parametrize(
    "history, predictions, kinds", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rules(history, predictions, kinds):
    found = doctor.diagnose(history, _project(), predictions, run=FINISHED)
    assert _kinds(found) == kinds
    for finding in found:
        assert finding["message"] and set(finding) == {"kind", "message", "fix"}


def test_every_finding_but_constant_labels_has_a_fix():
    for _, history, predictions, _expected in CASES:
        for finding in doctor.diagnose(history, _project(), predictions, run=FINISHED):
            if finding["kind"] != "constant_labels":
                assert finding["fix"] is not None, finding


# --------------------------------------------------------------------------- thresholds


def _overfit(rise: float, after: int) -> dict:
    val = [1.0, 0.8, 0.5] + [0.5 * (1 + rise)] * after
    return {"loss": [1.0 - 0.05 * i for i in range(len(val))], "val_loss": val}


def _relative_window(drop: float) -> dict:
    window = int(T["improving_window"])
    values = [2.0, 1.5] + [1.0 * (1 - drop) ** (i / window) for i in range(window + 1)]
    return {"loss": values}


def _diverge(ratio: float) -> dict:
    return {"loss": [1.0, 0.5, 0.5 * ratio]}


def _flat(drop: float) -> dict:
    return {"loss": [1.0, 1.0 - drop, 1.0 - drop, 1.0 - drop]}


def _spread(share: float) -> dict:
    return _with(REGRESSION, predicted={"std": REGRESSION["labels"]["std"] * share})


def _imbalance(ratio: float) -> dict:
    return _with(BINARY, label_counts=[int(20 * ratio), 20], predicted_counts=[50, 50])


def _predicted_share(share: float) -> dict:
    return _with(
        BINARY,
        label_counts=[60, 40],
        predicted_counts=[round(100 * share), 100 - round(100 * share)],
    )


STEADY = {"loss": FALLING, "val_loss": [1.0, 0.8, 0.7, 0.69, 0.69]}

BOUNDARIES = [
    # (threshold, kind, history above, history below, predictions above, predictions below)
    (
        "overfit_rise",
        "overfitting",
        _overfit(T["overfit_rise"] + 0.01, 3),
        _overfit(T["overfit_rise"] - 0.01, 3),
        None,
        None,
    ),
    (
        "overfit_epochs_after_best",
        "overfitting",
        _overfit(0.5, int(T["overfit_epochs_after_best"])),
        _overfit(0.5, int(T["overfit_epochs_after_best"]) - 1),
        None,
        None,
    ),
    (
        "improving_drop",
        "underfitting",
        _relative_window(T["improving_drop"] * 1.5),
        _relative_window(T["improving_drop"] * 0.5),
        None,
        None,
    ),
    (
        "diverge_ratio",
        "diverging",
        _diverge(T["diverge_ratio"] * 1.01),
        _diverge(T["diverge_ratio"] * 0.99),
        None,
        None,
    ),
    (
        "no_progress_drop",
        "no_progress",
        _flat(T["no_progress_drop"] * 0.5),
        _flat(T["no_progress_drop"] * 1.5),
        None,
        None,
    ),
    (
        "collapse_spread",
        "collapsed",
        STEADY,
        STEADY,
        _spread(T["collapse_spread"] * 0.9),
        _spread(T["collapse_spread"] * 1.1),
    ),
    (
        "imbalance_ratio",
        "imbalance",
        STEADY,
        STEADY,
        _imbalance(T["imbalance_ratio"]),
        _imbalance(T["imbalance_ratio"] - 0.5),
    ),
    (
        "collapse_class_share",
        "majority_class",
        STEADY,
        STEADY,
        _predicted_share(T["collapse_class_share"] + 0.02),
        _predicted_share(T["collapse_class_share"] - 0.02),
    ),
]


@pytest.mark.parametrize("case", BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_threshold_sides(case):
    _, kind, above, below, p_above, p_below = case
    assert kind in _kinds(doctor.diagnose(above, _project(), p_above, run=FINISHED))
    assert kind not in _kinds(doctor.diagnose(below, _project(), p_below, run=FINISHED))


def test_range_needs_both_little_overlap_and_a_far_mean():
    far = _with(REGRESSION, predicted={"min": 0.0, "max": 15.0, "mean": 5.0, "std": 3.0})
    assert "range" in _kinds(doctor.diagnose(STEADY, _project(), far, run=FINISHED))
    # The same narrow predictions, centred on the labels' mean: not a scale problem.
    centred = _with(far, predicted={"min": 143.0, "max": 158.0, "mean": 150.0, "std": 3.0})
    assert "range" not in _kinds(doctor.diagnose(STEADY, _project(), centred, run=FINISHED))


def test_no_progress_names_the_cause_and_its_fix():
    flat = _flat(0.0)
    raw = {**REGRESSION, "input_abs_max": T["unscaled_input"] * 2}
    (finding,) = doctor.diagnose(flat, _project(normalize=False), raw, run=FINISHED)
    assert finding["fix"]["action"] == {"op": "set_data_option", "key": "normalize", "value": True}
    # Scaled inputs, but most units of 'hidden' never fire.
    dead = {**REGRESSION, "dead_relu": {"hidden": T["dead_relu_share"] + 0.1}}
    (finding,) = doctor.diagnose(flat, _project(), dead, run=FINISHED)
    assert finding["fix"]["action"]["target"] == "hidden"
    assert finding["fix"]["action"]["value"] == "leaky_relu"
    # Neither: the learning rate, lowered when high and raised when low.
    (high,) = doctor.diagnose(flat, _project(lr=T["lr_high"]), None, run=FINISHED)
    (low,) = doctor.diagnose(flat, _project(lr=T["lr_high"] / 100), None, run=FINISHED)
    assert high["fix"]["action"]["value"]["config"]["learning_rate"] == pytest.approx(
        T["lr_high"] / T["lr_step"]
    )
    assert low["fix"]["action"]["value"]["config"]["learning_rate"] == pytest.approx(
        T["lr_high"] / 100 * T["lr_step"]
    )


def test_underfitting_resumes_a_run_with_a_checkpoint_else_trains_longer():
    history = {"loss": FALLING, "val_loss": FALLING}
    (resume,) = doctor.diagnose(history, _project(), None, run=FINISHED)
    more = max(int(T["more_epochs_min"]), math.ceil(5 * T["more_epochs_share"]))
    assert resume["fix"]["action"] == {
        "op": "resume",
        "run": FINISHED["id"],
        "epochs": 5 + more,
        "more": more,
    }
    assert resume["fix"]["label"] == f"Resume for {more} more epochs"
    (again,) = doctor.diagnose(history, _project(), None, run={**FINISHED, "resumable": False})
    assert again["fix"]["action"] == {"op": "set_fit", "key": "epochs", "value": 5 + more}


def test_a_run_early_stopping_ended_is_not_told_to_train_longer():
    history = {"loss": FALLING, "val_loss": FALLING}
    p = validate({**_project(), "fit": {**_project()["fit"], "epochs": 20}})
    assert doctor.diagnose(history, p, None, run=FINISHED) == []
    # Stopped by hand before its 20 epochs: it may go on.
    stopped = {**FINISHED, "state": "stopped"}
    assert _kinds(doctor.diagnose(history, p, None, run=stopped)) == ["underfitting"]


def test_a_run_still_training_hears_only_what_is_clear():
    overfit = _overfit(0.5, 3)
    assert _kinds(doctor.diagnose(overfit, final=False)) == ["overfitting"]
    assert doctor.diagnose({"loss": FALLING, "val_loss": FALLING}, final=False) == []
    assert _kinds(doctor.diagnose({"loss": [1.0, math.nan]}, final=False)) == ["nan"]


def test_short_runs_say_nothing_about_curves():
    assert doctor.diagnose({"loss": [1.0, 1.0]}, _project(), None, run=FINISHED) == []
    assert doctor.diagnose({}, _project(), None, run=FINISHED) == []


def test_summarise_regression_and_classes():
    y = np.array([1.0, 2.0, 3.0, 10.0])
    s = doctor.summarise("regression", y, np.array([[1.0], [1.0], [1.0], [1.0]]))
    assert s["labels"]["median"] == 2.5 and s["predicted"]["std"] == 0.0
    assert s["mae"] == pytest.approx(np.abs(y - 1).mean())
    assert s["median_mae"] == pytest.approx(np.abs(y - 2.5).mean())
    one_hot = np.eye(3)[[0, 1, 1, 2]]
    s = doctor.summarise("multiclass", one_hot, np.eye(3)[[1, 1, 1, 1]], num_classes=3)
    assert s["label_counts"] == [1, 2, 1] and s["predicted_counts"] == [0, 4, 0]
    s = doctor.summarise("binary", np.array([0.0, 1.0, 1.0]), np.array([[0.2], [0.7], [0.4]]))
    assert s["label_counts"] == [1, 2] and s["predicted_counts"] == [2, 1]
    s = doctor.summarise("multiclass", np.array([0, 2, 2]), np.eye(3)[[2, 2, 2]])
    assert s["label_counts"] == [1, 0, 2] and s["predicted_counts"] == [0, 0, 3]


# --------------------------------------------------------------------------- fixes


def _fix(kind: str, history, predictions, p):
    (finding,) = [
        f for f in doctor.diagnose(history, p, predictions, run=FINISHED) if f["kind"] == kind
    ]
    return finding["fix"]["action"]


def test_retrain_fix_trains_on_everything_for_the_best_epochs():
    p = _project()
    p["fit"]["callbacks"] = [
        {"class_name": "EarlyStopping", "config": {"monitor": "val_loss", "patience": 2}},
        {"class_name": "TerminateOnNaN", "config": {}},
    ]
    p = validate(p)
    action = _fix("overfitting", _overfit(0.5, 3), None, p)
    assert action == {"op": "retrain", "epochs": 3}
    fixed = validate(fixes.apply_fix(p, action))
    assert fixed["fit"]["epochs"] == 3 and fixed["fit"]["validation"] == {"method": "none"}
    assert [cb["class_name"] for cb in fixed["fit"]["callbacks"]] == ["TerminateOnNaN"]


def test_lower_learning_rate_fix_keeps_the_optimizer():
    p = _project(lr=0.5)
    fixed = validate(fixes.apply_fix(p, _fix("nan", {"loss": [1.0, None]}, None, p)))
    assert fixed["compile"]["optimizer"]["class_name"] == "Adam"
    assert fixed["compile"]["optimizer"]["config"]["learning_rate"] == pytest.approx(0.05)


def test_normalise_fix_sets_the_data_option():
    p = _project(normalize=False)
    raw = {**REGRESSION, "input_abs_max": 500.0}
    fixed = validate(fixes.apply_fix(p, _fix("no_progress", _flat(0.0), raw, p)))
    assert fixed["data"]["options"]["normalize"] is True


def test_metrics_fix_adds_precision_and_recall():
    p = _project(loss="binary_crossentropy")
    imbalanced = _with(BINARY, label_counts=[90, 10], predicted_counts=[88, 12])
    fixed = validate(fixes.apply_fix(p, _fix("imbalance", STEADY, imbalanced, p)))
    assert fixed["compile"]["metrics"] == ["mae", "precision", "recall"]


def _keras_output(p: dict):
    import keras  # noqa: F401  (the builder imports it too; here it is the oracle)

    from builder.build import build

    model = build(p)
    x = np.zeros((2, 4), dtype="float32")
    return model, np.asarray(model(x))


def test_rescaling_fix_puts_outputs_in_the_labels_units_in_a_stack():
    p = _project()
    far = _with(REGRESSION, predicted={"min": 0.0, "max": 15.0, "mean": 5.0, "std": 3.0})
    action = _fix("range", STEADY, far, p)
    fixed = validate(fixes.apply_fix(p, action))
    assert [lay["class_name"] for lay in fixed["model"]["layers"]] == [
        "Dense",
        "Dense",
        "Rescaling",
    ]
    model, out = _keras_output(fixed)
    assert model.layers[-1].__class__.__name__ == "Rescaling"
    # Zero input: the hidden layer gives relu(bias 0) = 0, the output its bias 0; the
    # Rescaling maps 0 to the offset, the labels' mean.
    assert out == pytest.approx(REGRESSION["labels"]["mean"], rel=1e-3)


def test_rescaling_fix_in_a_graph():
    p = _project()
    p["model"]["layers"][1]["inbound"] = ["hidden"]
    p = validate(p)
    far = _with(REGRESSION, predicted={"min": 0.0, "max": 15.0, "mean": 5.0, "std": 3.0})
    fixed = validate(fixes.apply_fix(p, _fix("range", STEADY, far, p)))
    (new,) = fixed["model"]["outputs"]
    assert new.startswith("rescaling")
    _, out = _keras_output(fixed)
    assert out == pytest.approx(REGRESSION["labels"]["mean"], rel=1e-3)


def test_add_after_one_of_two_outputs_renames_its_compile_settings():
    from builder import edit

    p = project(
        [
            ("hidden", "Dense", {"units": 8, "activation": "relu"}),
            ("a", "Dense", {"units": 1}, ["hidden"]),
            ("b", "Dense", {"units": 1}, ["hidden"]),
        ],
        shape=(4,),
        outputs=["a", "b"],
        loss={"a": "mse", "b": "mae"},
        metrics=(),
        dataset="diabetes",
    )
    p = validate(p)
    fixed, name = edit.add_after(p, "a", "Rescaling", {"scale": 2.0, "offset": 1.0})
    fixed = validate(fixed)
    assert fixed["model"]["outputs"] == [name, "b"]
    assert fixed["compile"]["loss"] == {name: "mse", "b": "mae"}
    model, _ = _keras_output(fixed)
    assert model.output_names == [name, "b"]


def test_dead_relu_fix_is_a_keras_activation():
    p = _project()
    dead = {**REGRESSION, "dead_relu": {"hidden": 1.0}}
    fixed = validate(fixes.apply_fix(p, _fix("no_progress", _flat(0.0), dead, p)))
    model, _ = _keras_output(fixed)
    assert model.get_layer("hidden").activation.__name__ == "leaky_relu"


def test_resume_is_not_a_project_edit():
    with pytest.raises(ProjectError, match="--resume"):
        fixes.apply_fix(_project(), {"op": "resume", "run": FINISHED["id"], "epochs": 10})
