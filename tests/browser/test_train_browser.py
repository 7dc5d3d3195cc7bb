"""Train in a real browser: a 2-epoch run draws its curve point by point, a long run stops
on Stop, and both runs are listed on Compare.

Locators are scoped to ``stMain``: Streamlit's own toolbar also has a "Stop" button.
Each run starts a worker that imports TensorFlow, so waits are generous.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.nav import go, start_training

TRAIN_TIMEOUT_MS = 240_000


def _set_epochs(main, epochs: int) -> None:
    box = main.get_by_label("Epochs", exact=True)
    box.fill(str(epochs))
    box.press("Enter")
    expect(box).to_have_value(str(epochs))


def test_train_curve_stop_and_compare(open_app):
    page = open_app("app.py")
    main = go(page, "Train")
    _set_epochs(main, 2)
    start_training(main)

    points = main.locator(".js-plotly-plot .scatterlayer .trace .point")
    expect(main.get_by_text("Training finished.")).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    # Two charts (loss, accuracy), each with 2 training dots and the best-epoch ring.
    expect(points.nth(5)).to_be_attached(timeout=60_000)

    _set_epochs(main, 500)
    start_training(main)
    expect(main.get_by_text(re.compile(r"batch \d+/\d+"))).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    main.get_by_role("button", name="Stop", exact=True).click()
    expect(main.get_by_text(re.compile(r"^Stopped: stopped by request"))).to_be_visible(
        timeout=60_000
    )

    main = go(page, "Compare")
    expect(main.get_by_text("Download the table (CSV)")).to_be_visible(timeout=60_000)
    chosen = main.get_by_test_id("stMultiSelect").get_by_text(
        re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6} · Handwritten digits")
    )
    expect(chosen).to_have_count(2)  # both runs, picked by default
