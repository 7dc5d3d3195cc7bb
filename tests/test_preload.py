"""ui.preload: Keras imported in the background, held for the first paint, without the
optional integrations the server process does not use, and checking exactly as a full
import does. Each case runs in a fresh interpreter (the import happens once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Templates with convolutions, recurrent layers, attention, branches and several outputs.
TEMPLATES = [
    "offline_default",
    "mnist_convnet",
    "imdb_lstm",
    "imdb_transformer",
    "residual_block",
    "multi_head",
    "inception_block",
]

_CHECK = """
import dataclasses, json, sys
from builder import checker, templates
names = [n for n in {names!r} if n in templates.names()]
out = {{}}
for name in names:
    r = checker.check(templates.load(name))
    out[name] = [r.valid, r.total_params, r.errors,
                 [[l.name, l.output_shape, l.params, l.error] for l in r.layers]]
print("RESULT" + json.dumps(out))
"""

_LEAN = """
import sys, threading
from ui import preload


class _Watched(threading.Event):
    waiting = threading.Event()  # set once the import thread waits for the first paint

    def wait(self, timeout=None):
        _Watched.waiting.set()
        return super().wait(timeout)


preload.HOLD_S = 30
preload._painted = _Watched()
preload.start()
assert _Watched.waiting.wait(600), "the import thread never waited for the first paint"
held = "import_begin" not in preload.timings and not preload.ready()
preload.painted()
ok = preload.wait(timeout=900)
skipped = sorted(m for m in preload.SKIPPED if m in sys.modules)
import pandas, sklearn  # the app's own imports still work afterwards
print("LEAN" + json.dumps([held, ok, skipped]))
"""


def _run(code: str) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _tagged(stdout: str, tag: str):
    (line,) = [x for x in stdout.splitlines() if x.startswith(tag)]
    return json.loads(line[len(tag) :])


def test_lean_background_import_is_held_then_checks_as_a_full_import():
    check = _CHECK.format(names=TEMPLATES)
    lean = _run("import json\n" + _LEAN + check)
    held, ok, skipped = _tagged(lean, "LEAN")
    assert held, "the import started before the page said it was on screen"
    assert ok
    assert skipped == [], f"imported although skipped: {skipped}"
    full = _run("import keras\n" + check)
    assert _tagged(lean, "RESULT") == _tagged(full, "RESULT")
    assert len(_tagged(full, "RESULT")) >= 2
