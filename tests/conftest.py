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


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_KERAS_HOME, ignore_errors=True)
