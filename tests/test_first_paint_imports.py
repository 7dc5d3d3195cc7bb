"""What the first paint imports loads no framework: TensorFlow, Keras, Ray, NumPy, pandas,
scikit-learn and Plotly arrive later (the background import, a page that needs them). The
import-linter contract in pyproject.toml checks the same modules' own import lines; this
checks what importing them really loads, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PAINT = [
    "builder.recent", "builder.project", "builder.settings", "builder.templates",
    "builder.history", "builder.paths", "builder.experiments.spec",
    "builder.experiments.section", "builder.experiments.apply", "builder.experiments.validate",
    "builder.experiments.suggest", "builder.topology", "builder.limits", "builder.values",
    "builder.errors",
]  # fmt: skip
FRAMEWORKS = ["tensorflow", "keras", "ray", "numpy", "pandas", "sklearn", "plotly"]


def test_first_paint_modules_load_no_framework():
    code = (
        "import importlib, json, sys\n"
        f"for name in {FIRST_PAINT!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
