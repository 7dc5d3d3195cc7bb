"""Stop at a chosen epoch, then Resume, in a real browser.

The digits default with batch size 1 (1,149 steps an epoch, about 2.5 s each here). The
test presses Stop as soon as the run's folder says epoch ``CHOSEN`` is complete (its
checkpoint is written at the end of every epoch), so the request usually lands early in the
next epoch. On a loaded machine the click's rerun can take longer than an epoch, so the test
reads the count the page reports and checks that everything agrees on it: the run records
whole epochs only (never the partial one), at least ``CHOSEN`` and fewer than ``EPOCHS``, and
Resume continues the same run from there to all ``EPOCHS``. (The page's progress bars lag the worker by a
second or two, the fragment's poll and redraw: pressing Stop by what the bars show may
count an epoch the bars had not reached yet; the message says the true count.)
Locators are scoped to ``stMain``: Streamlit's own toolbar also has a "Stop" button.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.browser.nav import go

TRAIN_TIMEOUT_MS = 300_000
CHOSEN = 2  # Stop once this many epochs are complete
EPOCHS = 6  # room for a Stop that lands an epoch or two late on a loaded machine


def _set(main, label: str, value: int) -> None:
    box = main.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def _checkpointed(folder) -> int:
    try:
        return json.loads((folder / "checkpoint.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_stop_at_a_chosen_epoch_then_resume_to_the_full_count(open_app, streamlit_server):
    page = open_app("app.py")
    main = go(page, "Train")
    _set(main, "Epochs", EPOCHS)
    _set(main, "Batch size", 1)
    start = main.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=120_000)  # after the model check (Keras)
    page.wait_for_timeout(1500)  # let the edits settle
    start.click()
    stop = main.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible(timeout=60_000)
    expect(page).to_have_url(re.compile(r"[?&]job="))
    run_id = parse_qs(urlparse(page.url).query)["job"][0]
    (folder,) = (streamlit_server.workdir / "home" / "runs").glob(f"*/{run_id}")

    deadline = time.monotonic() + TRAIN_TIMEOUT_MS / 1000
    while _checkpointed(folder) < CHOSEN and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _checkpointed(folder) == CHOSEN
    stop.click()
    stopped = main.get_by_text(re.compile(r"^Stopped: stopped by request after \d+ epoch\(s\)"))
    expect(stopped).to_be_visible(timeout=60_000)
    done = int(re.search(r"after (\d+) epoch", stopped.inner_text()).group(1))
    assert CHOSEN <= done < EPOCHS, done
    record = json.loads((folder / "run.json").read_text())
    assert record["state"] == "stopped" and record["epochs_done"] == done
    assert (folder / "history.csv").read_text().count("\n") == done + 1  # header + epochs
    assert _checkpointed(folder) == done

    resume = main.get_by_role("button", name=re.compile(r"^Resume run "))
    expect(resume).to_be_visible(timeout=60_000)
    expect(main.get_by_text(re.compile(rf"stopped after epoch {done} of {EPOCHS}"))).to_be_visible()
    resume.click()
    expect(main.get_by_text("Training finished.")).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    lines = (folder / "history.csv").read_text().splitlines()[1:]
    assert [int(line.split(",")[0]) for line in lines] == list(range(1, EPOCHS + 1))
    assert json.loads((folder / "run.json").read_text())["epochs_done"] == EPOCHS

    main = go(page, "Results")
    expect(main.get_by_text(re.compile(rf"· {EPOCHS} epoch\(s\)"))).to_be_visible(timeout=60_000)
    expect(main.get_by_text("Trained in segments (resumed):")).to_be_visible()
    expect(main.get_by_text(re.compile(rf"epochs 1–{done}, started .* stopped"))).to_be_visible()
    expect(
        main.get_by_text(re.compile(rf"epochs {done + 1}–{EPOCHS}, started .* finished"))
    ).to_be_visible()
    expect(main.get_by_role("button", name=re.compile(r"^Resume run "))).to_have_count(0)
