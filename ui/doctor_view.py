"""The doctor's findings on a page: each in words with its one-click fix (Results, Compare),
and what is already clear while a run trains (Train). ``builder.doctor`` decides."""

from __future__ import annotations

import copy
import re

import streamlit as st

from builder import doctor, fixes
from builder.project import ProjectError, validate
from ui import data_status, jobs, state

_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$])")


def _text(message: str) -> str:
    """A finding as literal text (class names come from the user's file)."""
    return _MARKDOWN.sub(r"\\\1", message)


def apply(run: dict, fix: dict) -> bool:
    """Carry out ``fix`` for ``run``: resume the run itself, or apply the edit to the run's
    project, make it the open project and start training it. False (said on the page)
    when it cannot start."""
    action = fix["action"]
    device = st.session_state.get("train_device", "auto")
    dataset = ((run.get("project") or {}).get("data") or {}).get("dataset")
    downloads = bool(dataset) and data_status.availability(dataset).downloads
    try:
        if action.get("op") == "resume":
            jobs.resume(action["run"], action["epochs"], device=device, allow_download=downloads)
        else:
            project = validate(fixes.apply_fix(validate(copy.deepcopy(run["project"])), action))
            state.set_project(project)
            jobs.start(project, device, allow_download=downloads)
    except (ProjectError, RuntimeError, ValueError) as err:
        st.error(f"{fix['label']} did not start: {err}")
        return False
    return True


def findings(run: dict, key: str) -> list[dict]:
    """The doctor's reading of a run that ended, with a button per fix (which starts
    training and shows Train); returns the findings."""
    found = doctor.diagnose_run(run)
    if not found:
        return found
    st.subheader("What to do next")
    for i, finding in enumerate(found):
        st.warning(_text(finding["message"]))
        fix = finding["fix"]
        if fix is not None and st.button(
            fix["label"],
            key=f"{key}_{i}",
            help="Starts training with this change (a Resume continues this run; any other "
            "fix trains this run's project, changed, which becomes the open project).",
        ):
            if apply(run, fix):
                st.switch_page("pages/train.py")
    return found


def live(history: dict) -> None:
    """What the curves already say while the run trains (no buttons: Stop first)."""
    for finding in doctor.diagnose(history, final=False):
        st.warning(_text(finding["message"]))
