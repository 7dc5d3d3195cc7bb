"""Moving between the app's pages in a real browser."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]


def go(page, title: str):
    """Open a page from the sidebar and return the main area.

    A click that lands while a polling fragment reruns can be dropped by Streamlit (see
    STREAMLIT-NOTES: run_every plus navigation), so the click is repeated until the page's
    heading shows.
    """
    main = page.get_by_test_id("stMain")
    heading = main.get_by_role("heading", name=title, exact=True)
    for _ in range(4):
        page.locator(".st-key-nb_nav").get_by_role("link", name=title, exact=True).click()
        try:
            expect(heading).to_be_visible(timeout=20_000)
            return main
        except AssertionError:
            continue
    expect(heading).to_be_visible(timeout=1)
    return main


def choose(page, box, option) -> None:
    """Pick ``option`` (a name or pattern) in the selectbox ``box``. Like a page link, a
    click that opens the list can be dropped while the page reruns on a loaded machine
    (seen in CI), so the list is opened again until the option shows."""
    item = page.get_by_role("option", name=option)
    for _ in range(4):
        box.click()
        try:
            expect(item).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            continue
    item.click()


def expand(summary, shown) -> None:
    """Open the expander whose header is ``summary`` until ``shown`` (inside it) is visible.

    Like a page link, a click on a header that lands while the page reruns (after a
    download or a widget change) can be lost on a loaded machine, so it is repeated."""
    for _ in range(4):
        if shown.is_visible():
            return
        summary.click()
        try:
            expect(shown).to_be_visible(timeout=20_000)
            return
        except AssertionError:
            continue
    expect(shown).to_be_visible(timeout=1)


def train(page, main, epochs: int, timeout_ms: int = 240_000):
    """On the Train page: set the epochs, press Start and wait until the run has finished."""
    box = main.get_by_label("Epochs", exact=True)
    box.fill(str(epochs))
    box.press("Enter")
    expect(box).to_have_value(str(epochs))
    start = main.get_by_role("button", name="Start training")
    expect(start).to_be_visible(timeout=120_000)  # after the model check (Keras)
    page.wait_for_timeout(1500)  # let the epochs edit settle
    start.click()
    expect(main.get_by_text("Training finished.")).to_be_visible(timeout=timeout_ms)
    return start


def shot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot: into docs/screens/ for the README when UPDATE_SCREENSHOTS=1
    is set, else into the test's temporary folder."""
    folder = REPO / "docs" / "screens" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
