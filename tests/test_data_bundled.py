"""Boston housing ships with netbuilder: on a machine that has never been online, with an
empty Keras cache, the book's regression example loads and trains."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from builder.data import offline

ROOT = Path(__file__).resolve().parent.parent


def _keras_hash() -> str:
    """The sha256 Keras' own loader checks (read from Keras' source, the oracle)."""
    import importlib.util

    spec = importlib.util.find_spec("keras")
    source = Path(spec.origin).parent / "src" / "datasets" / "boston_housing.py"
    return re.search(r'"([0-9a-f]{64})"', source.read_text()).group(1)


def test_shipped_file_is_byte_identical_to_keras_download():
    shipped = offline.BUNDLED_DIR / "boston_housing.npz"
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert digest == _keras_hash() == offline.BUNDLED["boston_housing.npz"]


def test_empty_keras_home_gets_the_file_and_says_ready(tmp_path, monkeypatch):
    if "keras" in sys.modules:  # Keras fixed its home already: check the rule only
        pytest.skip("Keras already imported in this process; the subprocess test covers it")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert offline.availability("boston_housing", reachable=lambda url: False).ready
    assert (tmp_path / "datasets" / "boston_housing.npz").stat().st_size == 57_026


def test_other_datasets_keep_their_download_message(tmp_path, monkeypatch):
    if "keras" in sys.modules:
        pytest.skip("Keras already imported in this process")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    avail = offline.availability("imdb", reachable=lambda url: False)
    assert not avail.usable and "imdb.npz" in avail.message and "no connection" in avail.message
    avail = offline.availability("imdb", reachable=lambda url: True)
    assert avail.downloads and "downloaded the first time" in avail.message


def test_the_book_example_trains_offline_on_a_fresh_keras_home(tmp_path):
    script = (
        "from builder import templates\n"
        "from builder.training import worker\n"
        "from builder.training import runs\n"
        "p = templates.load('boston_regression')\n"
        "p['fit'].update(epochs=1, validation={'method': 'none'})\n"
        "folder = runs.create_run(r'%s', 'cli', p, {})\n"
        "s = worker.train(p, folder, device='cpu')\n"
        "print(s['state'], s.get('message'))\n" % (tmp_path / "runs")
    )
    env = dict(
        os.environ,
        KERAS_HOME=str(tmp_path / "keras"),
        TF_CPP_MIN_LOG_LEVEL="3",
        NETBUILDER_HOME=str(tmp_path / "home"),
        # no network: a proxy that does not exist makes any download fail fast
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith("finished"), done.stdout
    assert (tmp_path / "keras" / "datasets" / "boston_housing.npz").exists()
