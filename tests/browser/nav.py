"""Moving between the app's pages in a real browser."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]


def _click_until(target, shown, timeout_ms: int = 20_000) -> None:
    """Click ``target`` until ``shown`` is visible. A click that lands while the page
    reruns (a polling fragment, a download, a widget change) can be dropped by Streamlit on
    a loaded machine (see STREAMLIT-NOTES: run_every plus navigation), so it is repeated."""
    for _ in range(4):
        target.click()
        try:
            expect(shown).to_be_visible(timeout=timeout_ms)
            return
        except AssertionError:
            continue
    expect(shown).to_be_visible(timeout=1)


def go(page, title: str):
    """Open a page from the sidebar (until its heading shows) and return the main area."""
    main = page.get_by_test_id("stMain")
    link = page.locator(".st-key-nb_nav").get_by_role("link", name=title, exact=True)
    _click_until(link, main.get_by_role("heading", name=title, exact=True))
    return main


def choose(page, box, option) -> None:
    """Pick ``option`` (a name or pattern) in the selectbox ``box``, opening the list until
    the option shows."""
    item = page.get_by_role("option", name=option)
    _click_until(box, item, timeout_ms=10_000)
    item.click()


def expand(summary, shown) -> None:
    """Open the expander whose header is ``summary`` (unless open) until ``shown``, inside
    it, is visible."""
    if not shown.is_visible():
        _click_until(summary, shown)


def start_training(main, timeout_ms: int = 30_000):
    """On the Train page: press Start until the run is under way (its Stop button shows);
    return the Start button. A click that lands while the page reruns after an edit can be
    dropped; a click that counted is never repeated (Start is gone while a run trains)."""
    start = main.get_by_role("button", name="Start training")
    stop = main.get_by_role("button", name="Stop", exact=True)
    expect(start).to_be_visible(timeout=120_000)  # after the model check (Keras)
    for _ in range(4):
        try:
            start.click(timeout=5_000)
        except PlaywrightTimeout:  # gone: the last click started the run after all
            pass
        try:
            expect(stop).to_be_visible(timeout=timeout_ms)
            return start
        except AssertionError:
            continue
    expect(stop).to_be_visible(timeout=1)
    return start


def train(page, main, epochs: int, timeout_ms: int = 240_000):
    """On the Train page: set the epochs, press Start and wait until the run has finished."""
    box = main.get_by_label("Epochs", exact=True)
    box.fill(str(epochs))
    box.press("Enter")
    expect(box).to_have_value(str(epochs))
    start = start_training(main)
    expect(main.get_by_text("Training finished.")).to_be_visible(timeout=timeout_ms)
    return start


def shot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot: into docs/screens/ for the README when UPDATE_SCREENSHOTS=1
    is set, else into the test's temporary folder."""
    folder = REPO / "docs" / "screens" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def download(page, button, timeout_ms: int = 20_000, tries: int = 3):
    """Click ``button`` until the browser receives its download; return the download. A
    click that lands while the page reruns (an expander just opened) can be dropped."""
    for _ in range(tries - 1):
        try:
            with page.expect_download(timeout=timeout_ms) as event:
                button.click()
            return event.value
        except PlaywrightTimeout:
            continue
    with page.expect_download(timeout=timeout_ms) as event:
        button.click()
    return event.value
