"""Validation settings that cannot split the training set come with one-click fixes.

``fit_check.validation_problem`` says why a hold-out, validation_split or K-fold cannot
split ``n`` training samples and offers ``set_fit`` fixes. Each fix, applied through
``fixes.apply_fix``, must leave a project that validates, that the check accepts for the
same ``n``, and that the splitters training uses (the worker's hold-out and K-fold, Keras'
own ``validation_split``) accept on ``n`` samples: those are the oracle, not this check.
"""

from __future__ import annotations

import numpy as np
import pytest

from builder import edit, fit_check, fixes, templates
from builder import project as projectlib
from builder.project import ProjectError

SIZES = [1, 2, 3, 4, 5, 7, 19, 404, 1437]


def _with(validation: dict) -> dict:
    project = templates.load("offline_default")  # Digits: 1,437 training samples
    project["fit"]["validation"] = validation
    return project


def _splits_on(n: int, validation: dict) -> None:
    """Split ``n`` samples as training would; raises what the worker or Keras raises."""
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    from builder.data.splits import holdout, kfold_splits

    x = np.zeros((n, 1), "float32")
    method = validation["method"]
    if method == "holdout":
        holdout(x, x, count=validation.get("count"), fraction=validation.get("fraction"))
    elif method == "split":
        train_validation_split((x, x), validation["fraction"])
    elif method == "kfold":
        list(kfold_splits(n, validation["k"]))


CASES = [
    *(({"method": "holdout", "count": c}, n) for n in SIZES for c in (n, n + 1, 5000) if c >= 1),
    *(({"method": "holdout", "fraction": 0.2}, 1),),
    *(({"method": "split", "fraction": f}, n) for n in SIZES for f in (0.9999, 1e-17)),
    *(({"method": "split", "fraction": 0.2}, 1),),
    *(({"method": "kfold", "k": k}, n) for n in SIZES for k in (2, 4, 20) if k > n),
]


@pytest.mark.parametrize("validation, n", CASES)
def test_every_offered_fix_clears_the_problem(validation, n):
    project = _with(validation)
    with pytest.raises(ValueError):  # the setting really cannot split n samples (Keras, worker)
        _splits_on(n, validation)
    problem = fit_check.validation_problem(project, n)
    assert problem is not None
    message, offered = problem
    assert message.startswith("fit.validation") and offered
    for fix in offered:
        assert fix.action["op"] == "set_fit" and fix.action["key"] == "validation"
        fixed = fixes.apply_fix(project, fix)
        projectlib.validate(fixed)
        assert fit_check.validation_problem(fixed, n) is None, fix.label
        _splits_on(n, fixed["fit"]["validation"])
        assert fixed["model"] == project["model"] and fixed["data"] == project["data"]


@pytest.mark.parametrize(
    "validation, n, labels",
    [
        (
            {"method": "holdout", "count": 5000},
            1437,
            ["Hold out 20 % instead", "Hold out 287 samples"],
        ),
        ({"method": "holdout", "count": 3}, 3, ["Hold out 20 % instead", "Hold out 1 sample"]),
        ({"method": "holdout", "count": 5000}, 1, ["Train without validation"]),
        ({"method": "split", "fraction": 0.9999}, 3, ["Use validation_split 0.2"]),
        ({"method": "split", "fraction": 1e-17}, 1437, ["Use validation_split 0.2"]),
        ({"method": "split", "fraction": 0.5}, 1, ["Train without validation"]),
        ({"method": "kfold", "k": 20}, 7, ["Use 7 folds"]),
        ({"method": "kfold", "k": 4}, 1, ["Train without validation"]),
    ],
)
def test_the_fixes_say_what_they_set(validation, n, labels):
    _, offered = fit_check.validation_problem(_with(validation), n)
    assert [f.label for f in offered] == labels


def test_the_checks_result_carries_the_fixes_of_its_model_level_error():
    project = _with({"method": "holdout", "count": 5000})
    result = fit_check.check(project)
    assert not result.valid
    (message,) = [m for layer, m in fit_check.problems(result) if layer is None]
    offered = result.fixes_for(message)
    assert [f.label for f in offered] == ["Hold out 20 % instead", "Hold out 287 samples"]
    assert result.to_json()["error_fixes"] == {
        message: [{"label": f.label, "action": f.action} for f in offered]
    }
    for fix in offered:
        assert fit_check.check(fixes.apply_fix(project, fix)).valid


def test_errors_without_a_fix_have_none():
    result = fit_check.check(_with({"method": "split", "fraction": 0.2}))
    assert result.valid and result.error_fixes == {} and result.to_json()["error_fixes"] == {}
    assert result.fixes_for("anything") == []


def test_set_fit_refuses_what_a_project_file_would_refuse():
    project = _with({"method": "none"})
    with pytest.raises(ProjectError, match=r"fit\.validation\.k"):
        edit.set_fit(project, "validation", {"method": "kfold", "k": 1})
    with pytest.raises(ProjectError, match="hold-out needs either 'count'"):
        edit.set_fit(project, "validation", {"method": "holdout", "count": 5, "fraction": 0.2})
    with pytest.raises(ProjectError, match="no fit setting 'validaton'"):
        edit.set_fit(project, "validaton", {"method": "none"})
    assert project["fit"]["validation"] == {"method": "none"}  # unchanged: edits copy


def test_set_fit_fills_defaults_like_validate():
    fixed = edit.set_fit(_with({"method": "none"}), "validation", {"method": "kfold"})
    assert fixed["fit"]["validation"] == {"method": "kfold", "k": 4}
    assert fixed == projectlib.validate(fixed)
