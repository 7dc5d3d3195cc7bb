"""The main journey, end to end in headless Chromium, on a fresh offline install:
first run shows the default template with shapes → train → live curves → results →
compare → export the script → the exported script runs.

With UPDATE_SCREENSHOTS=1 each page's screenshot is written to docs/screens/ for the
README; otherwise screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.nav import download, go, train
from tests.browser.nav import shot as _shot

REPO = Path(__file__).resolve().parents[2]


def test_first_run_train_results_compare_export(open_app, tmp_path):
    page = open_app("app.py")
    main = page.get_by_test_id("stMain")

    # First run: the offline default template, shapes from Keras.
    expect(main.get_by_role("heading", name="Build", exact=True)).to_be_visible()
    expect(page.get_by_test_id("nb-out-hidden").get_by_text("(None, 64)")).to_be_visible(
        timeout=120_000
    )
    expect(page.get_by_test_id("stSidebar").get_by_text("Valid model")).to_be_visible()
    _shot(page, tmp_path, "build")

    main = go(page, "Data")
    expect(main.get_by_role("heading", name="Preprocessing")).to_be_visible()
    main.get_by_role("button", name="Load the data and show samples").click()
    expect(main.get_by_text(re.compile(r"1,437 training and 360 test samples"))).to_be_visible(
        timeout=120_000
    )
    _shot(page, tmp_path, "data")

    main = go(page, "Train")
    start = train(page, main, epochs=3)
    expect(main.locator(".js-plotly-plot .scatterlayer .trace .point").nth(5)).to_be_attached(
        timeout=60_000
    )
    expect(start).to_be_visible(timeout=60_000)  # the page has settled after the run
    expect(main.get_by_role("button", name="Stop", exact=True)).to_have_count(0, timeout=30_000)
    _shot(page, tmp_path, "train")

    main = go(page, "Results")
    expect(main.get_by_role("heading", name="Test set")).to_be_visible(timeout=60_000)
    expect(main.get_by_role("heading", name="Test-set predictions")).to_be_visible(timeout=120_000)
    _shot(page, tmp_path, "results")

    main = go(page, "Compare")
    expect(main.get_by_text("Download the table (CSV)")).to_be_visible(timeout=60_000)
    _shot(page, tmp_path, "compare")

    main = go(page, "Build")
    main.get_by_test_id("stExpander").filter(has_text="Export").get_by_text("Export").click()
    script = tmp_path / "exported.py"
    download(page, main.get_by_role("button", name="Python script")).save_as(script)
    run = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
