"""Test set-up shared by every test module.

Keras reads KERAS_HOME when it is imported, so it is set here, at import time, to a fresh
temporary folder holding copies of the real dataset files from ../shared/datasets (when
that folder exists: a user's clone has no ../shared and the tests that need the files skip).
Nothing is ever downloaded: the sandbox has no network, and a test that would download is
a bug.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
if not SHARED_DATASETS.is_dir():
    SHARED_DATASETS = None

_KERAS_HOME = Path(tempfile.mkdtemp(prefix="netbuilder-keras-home-"))
os.environ["KERAS_HOME"] = str(_KERAS_HOME)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# No warm training process behind every AppTest and browser app (each would import
# TensorFlow in a process of its own on shared cores); tests/test_training_warm.py turns
# it on where it is the subject.
os.environ.setdefault("NETBUILDER_WARM_WORKER", "0")
if SHARED_DATASETS is not None:
    (_KERAS_HOME / "datasets").mkdir(parents=True, exist_ok=True)
    for item in SHARED_DATASETS.iterdir():
        target = _KERAS_HOME / "datasets" / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        elif item.suffix in (".npz", ".json"):
            shutil.copy2(item, target)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def keras_loaded() -> None:
    """Keras imported, as in a server past its first paint. AppTests of ``app.py`` that
    test the whole frame use it: in a fresh process the first run is the first paint
    (the Build cards alone, then a rerun once the browser says they are on screen; tested
    in test_page_build and the browser tests), so without it a file's result would depend
    on whether an earlier test had imported Keras."""
    import keras  # noqa: F401


@pytest.fixture(scope="session")
def keras_home() -> Path:
    """The temporary KERAS_HOME every test runs with."""
    return _KERAS_HOME


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """../shared/datasets, or a skip saying why the real dataset files are missing."""
    if SHARED_DATASETS is None:
        pytest.skip(
            "../shared/datasets is absent (a clone outside the project workspace): "
            "the real MNIST/Boston/IMDB-index files are not available here."
        )
    return SHARED_DATASETS


# The fast tier (``pytest -m "not slow"``, README) leaves out the test files that start
# browsers, servers, training workers, Ray or exported scripts, or run whole pages or Keras
# models many times over. A new file of that kind goes in this list.
SLOW_FILES = {
    "browser",  # the folder: every Playwright test
    "test_adapt.py", "test_app_frame.py", "test_app_projects.py", "test_cli.py",
    "test_data_keras.py", "test_doctor_fits.py", "test_experiments.py",
    "test_experiments_export.py", "test_export.py", "test_export_data.py", "test_hostile.py",
    "test_hostile_more.py", "test_keras_apps.py", "test_keras_cases.py", "test_keras_examples.py", "test_lifecycle.py",
    "test_newcomer_csv.py", "test_page_build.py", "test_page_compare.py", "test_page_data.py",
    "test_page_doctor.py",
    "test_page_experiments.py", "test_page_graph.py", "test_page_results.py",
    "test_page_resume.py", "test_page_safety.py", "test_page_train.py", "test_preload.py",
    "test_tabs.py", "test_templates_keras.py", "test_training_cli.py",
    "test_training_engine.py", "test_training_kfold.py", "test_training_resume.py",
    "test_validation_fixes.py", "test_autosave_processes.py", "test_data_less.py",
    "test_data_names.py", "test_export_bundle.py", "test_locks.py", "test_page_data_less.py",
    "test_training_faults.py", "test_training_warm.py", "test_training_events.py",
    "test_experiments_packed.py", "test_pack.py", "test_training_feed.py",
    "test_data_bundled.py", "test_layer_form.py", "test_data_targets.py",
}  # fmt: skip


def pytest_addoption(parser):
    parser.addoption(
        "--timing",
        action="store_true",
        help="also run the tests marked 'timing' (wall-clock measurements; benches in "
        "bench/ measure speed, so CI leaves these out)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: left out of the fast tier (-m 'not slow')")
    config.addinivalue_line(
        "markers", "timing: measures wall-clock or CPU time; runs only with --timing"
    )


def pytest_collection_modifyitems(config, items):
    run_timing = config.getoption("--timing")
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts[0] in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        if "timing" in item.keywords and not run_timing:
            item.add_marker(
                pytest.mark.skip(reason="measures time: run with --timing (benches in bench/)")
            )


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_KERAS_HOME, ignore_errors=True)
