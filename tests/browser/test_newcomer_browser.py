"""A newcomer's first hour in a real browser (issue 13): their own CSV from upload to a
trained model, leaving and coming back through a bare URL to find the project and its
runs, renaming it, and validation settings that survive a switch of method."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.nav import choose, go, train

TF_TIMEOUT = 120_000


def _csv(path):
    """120 flowers, 3 kinds told apart by two measurements, a text column, the kind last."""
    rows = ["petal_length,petal_width,colour,kind"]
    for i in range(120):
        kind = ("setosa", "versicolor", "virginica")[i % 3]
        base = {"setosa": 1.4, "versicolor": 4.2, "virginica": 5.6}[kind]
        rows.append(
            f"{base + (i % 7) * 0.05:.2f},{base / 3 + (i % 5) * 0.03:.2f},"
            f"{('blue', 'white')[i % 2]},{kind}"
        )
    path.write_text("\n".join(rows) + "\n")
    return path


def test_own_csv_from_upload_to_a_trained_model(open_app, tmp_path):
    page = open_app("app.py")
    main = go(page, "Data")
    choose(page, main.get_by_test_id("stSelectbox").filter(has_text="Dataset"), "Your CSV file")
    # The uploader is there (no jump back to Digits) and the model keeps its data meanwhile.
    expect(main.get_by_text("Upload a CSV file to use it")).to_be_visible()
    main.locator('input[type="file"]').set_input_files(_csv(tmp_path / "flowers.csv"))
    expect(main.get_by_text("120 rows, 4 columns.")).to_be_visible(timeout=60_000)
    expect(main.get_by_text(re.compile(r"now takes \(4,\)"))).to_be_visible()
    # Two measurements and the colour one-hot: 4 inputs. The CSV keeps its file name.
    expect(page.get_by_test_id("stSidebar").get_by_text("Data: flowers.csv")).to_be_visible()

    # The digits model's last layer (10 units) does not fit 3 kinds: Train says so, with
    # the fix; one click and it trains.
    main = go(page, "Train")
    fix = main.get_by_role("button", name="Set units to 3")
    expect(fix).to_be_visible(timeout=TF_TIMEOUT)
    fix.click()
    expect(fix).to_have_count(0, timeout=60_000)
    train(page, main, epochs=1)
    main = go(page, "Results")
    expect(main.get_by_role("heading", name="Test set")).to_be_visible(timeout=60_000)


def test_bare_url_reopens_the_last_project_with_its_runs_and_rename(
    open_app, chromium, streamlit_server
):
    page = open_app("app.py")
    sidebar = page.get_by_test_id("stSidebar")
    name = sidebar.get_by_label("Project name", exact=True)
    name.fill("My digits study")
    name.press("Enter")
    main = go(page, "Train")
    train(page, main, epochs=1)
    page.context.close()

    # Coming back the next day: localhost:8501, no ?p=.
    again = chromium.new_context(viewport={"width": 1400, "height": 900}).new_page()
    again.goto(streamlit_server.url("app.py"))
    expect(
        again.get_by_test_id("stSidebar").get_by_label("Project name", exact=True)
    ).to_have_value("My digits study", timeout=60_000)
    main = go(again, "Compare")
    expect(main.get_by_text("Download the table (CSV)")).to_be_visible(timeout=60_000)
    expect(
        main.get_by_test_id("stMultiSelect").get_by_text(re.compile(r"My digits study"))
    ).to_have_count(1)
    again.context.close()


def test_kfold_then_validation_split_keeps_its_fraction(open_app):
    page = open_app("app.py")
    main = go(page, "Train")
    expect(main.get_by_role("button", name="Start training")).to_be_visible(timeout=TF_TIMEOUT)
    method = main.get_by_test_id("stSelectbox").filter(has_text="Validation")
    choose(page, method, "K-fold")
    expect(main.get_by_label("k (folds)", exact=True)).to_have_value("4", timeout=30_000)
    choose(page, method, re.compile("validation_split"))
    expect(main.get_by_label("Fraction held out", exact=True)).to_have_value(
        re.compile(r"^0\.20?$"), timeout=30_000
    )
