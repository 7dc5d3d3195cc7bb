"""Issue 19 items 1 and 2 in a real browser, each on a fresh app (its own server and an
empty NETBUILDER_HOME): nothing the user made is replaced or hidden.

- a template over a trained project opens as a new project: both listed, each with its runs;
- "Open" on an experiment's trial opens it as a new project, the experiment's stays;
- train the default, New project, change it: the first project and its run stay listed
  and open; Compare picks runs of both projects.
"""

from __future__ import annotations

import copy
import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import StreamlitServer
from tests.browser.nav import choose, download, expand, go, train

TF_TIMEOUT = 120_000


@pytest.fixture
def fresh_server(tmp_path):
    server = StreamlitServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def _name_box(page):
    return page.get_by_test_id("stSidebar").get_by_label("Project name", exact=True)


def _projects(page, count: int):
    """The sidebar's Projects list, opened; it says how many projects there are."""
    sidebar = page.get_by_test_id("stSidebar")
    header = sidebar.get_by_text(f"Projects ({count})", exact=True)
    expect(header).to_be_visible(timeout=60_000)
    if count > 1:  # the search box shows from two projects on
        expand(header, sidebar.get_by_label("Find a project", exact=True))
    return sidebar


def _seed(home, pid: str, name: str, runs_count: int = 1, template: str = "offline_default"):
    """Project ``pid`` as the app keeps it: an autosave and finished runs with a history."""
    from builder import templates
    from builder.project import save_project_file
    from builder.training import runs

    project = {**templates.load(template), "name": name}
    (home / "autosave").mkdir(parents=True, exist_ok=True)
    save_project_file(project, home / "autosave" / f"{pid}.json")
    made = []
    for i in range(runs_count):
        folder = runs.create_run(home / "runs", pid, project, {})
        runs.write_text_atomic(
            folder / "history.csv", f"epoch,loss,val_loss\n1,{0.9 - i / 10},{1.0 - i / 10}\n"
        )
        runs.update_run_info(folder, state="finished", epochs_done=1)
        made.append(folder)
    return project, made


def test_template_over_a_trained_project_keeps_both_with_their_runs(fresh_server, page, tmp_path):
    from builder import templates

    pid = secrets.token_hex(8)
    _, (run,) = _seed(tmp_path / "home", pid, "Wine study")
    url = fresh_server.url("app.py")
    page.goto(f"{url}/?p={pid}")
    main = page.get_by_test_id("stMain")
    expect(_name_box(page)).to_have_value("Wine study", timeout=60_000)

    main.get_by_role("button", name="Templates").click()
    title = templates.describe("mnist_dense")[0]
    page.get_by_role("button", name=re.compile("^" + re.escape(title))).click()
    expect(_name_box(page)).to_have_value(title, timeout=60_000)
    expect(
        page.get_by_test_id("stToast").filter(has_text="'Wine study' stays in Projects")
    ).to_be_visible()
    expect(page).not_to_have_url(re.compile(f"p={pid}"))

    sidebar = _projects(page, 2)
    wine = sidebar.get_by_role("button", name="Wine study", exact=True)
    expect(wine).to_be_visible()
    expect(sidebar.get_by_text(re.compile(r"· 1 run$"))).to_have_count(1)
    expect(sidebar.get_by_text(re.compile(r"· 0 runs$"))).to_have_count(1)
    wine.click()
    expect(_name_box(page)).to_have_value("Wine study", timeout=60_000)
    main = go(page, "Results")
    expect(main.get_by_role("combobox", name="Run")).to_have_value(
        re.compile(rf"^{run.name} · Wine study · finished$"), timeout=60_000
    )


def test_opening_a_trial_makes_a_new_project(fresh_server, page, tmp_path):
    from builder.experiments import runner
    from builder.training import runs

    home = tmp_path / "home"
    pid = secrets.token_hex(8)
    experiment, _ = _seed(home, pid, "Digits sweep", runs_count=0, template="experiment_digits")
    folder = runner.create(experiment, home / "runs", pid)
    trials = []
    for i, units in enumerate((32, 128)):
        trial = copy.deepcopy(experiment)
        del trial["experiment"]
        hidden = next(lay for lay in trial["model"]["layers"] if lay["name"] == "hidden")
        hidden["config"]["units"] = units
        run = runs.create_run(home / "runs", pid, trial, {})
        runs.update_run_info(run, state="finished", epochs_done=1)
        trials.append(
            {
                "id": f"t{i}",
                "params": {"layers.hidden.units": units},
                "state": "finished",
                "metric": 0.5 + i / 10,
                "epochs": 1,
                "run": str(run),
                "curve": [0.5 + i / 10],
                "message": "",
            }
        )
    record = runs.read_json(folder / "experiment.json")
    best = {"id": "t1", "params": trials[1]["params"], "metric": trials[1]["metric"]}
    record.update(state="finished", trials=trials, best=best, ended=runs.now_iso())
    runs.write_json_atomic(folder / "experiment.json", record)

    url = fresh_server.url("app.py")
    page.goto(f"{url}/?p={pid}")
    expect(_name_box(page)).to_have_value("Digits sweep", timeout=60_000)
    main = go(page, "Experiments")
    main.get_by_text("Earlier experiments").click()
    main.get_by_role("button", name="Show this experiment").click()
    expect(main.get_by_text(re.compile(r"^Best:"))).to_be_visible(timeout=60_000)
    # The selectboxes' arrows are buttons named "Open" too, and a copy of the page's last
    # run may stay in the page hidden: the visible button is the one.
    main.get_by_test_id("stBaseButton-secondary").filter(has_text=re.compile(r"^Open$")).filter(
        visible=True
    ).click()
    expect(_name_box(page)).to_have_value("Digits sweep (trial t1)", timeout=60_000)
    sidebar = _projects(page, 2)
    expect(sidebar.get_by_role("button", name="Digits sweep", exact=True)).to_be_visible()
    expect(sidebar.get_by_text(re.compile(r"· 2 runs$"))).to_have_count(1)  # the trials' runs
    main = go(page, "Build")
    expect(page.get_by_test_id("nb-out-hidden").get_by_text("(None, 128)")).to_be_visible(
        timeout=TF_TIMEOUT
    )


@pytest.mark.timeout(1500)  # a cold server and two trainings, on a loaded machine
def test_train_then_new_keeps_the_first_and_compare_spans_both(fresh_server, page):
    url = fresh_server.url("app.py")
    page.goto(url)  # a fresh install, a bare URL
    first = "Handwritten digits, dense 64-10 (offline)"
    # A cold server's first paint: the sidebar's name comes once Keras is imported.
    expect(_name_box(page)).to_have_value(first, timeout=2 * TF_TIMEOUT)
    main = go(page, "Train")
    train(page, main, epochs=1, timeout_ms=480_000)

    trained = re.search(r"p=([0-9a-f]{16})", page.url).group(1)
    sidebar = page.get_by_test_id("stSidebar")
    new = sidebar.get_by_role("button", name="New project")
    expand(sidebar.get_by_text("New / Open / Save"), new)
    new.click()
    expect(page).not_to_have_url(re.compile(f"p={trained}"), timeout=60_000)
    sidebar = _projects(page, 2)  # the trained project is listed, the new one too
    name = _name_box(page)
    name.fill("Second try")  # change anything
    name.press("Enter")
    expect(sidebar.get_by_text("Second try (open)")).to_be_visible(timeout=30_000)
    expect(sidebar.get_by_role("button", name=first, exact=True)).to_be_visible()
    expect(sidebar.get_by_text(re.compile(r"· 1 run$"))).to_be_visible()

    main = go(page, "Train")
    train(page, main, epochs=1, timeout_ms=480_000)
    main = go(page, "Compare")
    runs_box = main.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Runs", exact=True))
    expect(runs_box).to_contain_text("Second try", timeout=60_000)
    other = main.get_by_test_id("stMultiSelect").filter(has_text="Also compare runs")
    choose(page, other, re.compile("^" + re.escape(first)))
    # A multiselect's list stays open after a pick, and while it is open the rest of the
    # page is hidden from the accessibility tree (where role locators look): close it.
    page.keyboard.press("Escape")
    expect(runs_box).to_contain_text(first, timeout=60_000)
    # The settings table, read from its CSV download (the same rows as the grid, which
    # draws on a canvas from code Streamlit loads on first use: slow on a loaded machine).
    button = main.get_by_role("button", name="Download the table (CSV)")
    expect(button).to_be_visible(timeout=60_000)
    rows = open(download(page, button, timeout_ms=30_000).path(), encoding="utf-8").read()
    assert "Second try" in rows and first in rows, rows

    # Later, the bare URL opens the latest project; the first one still opens with its run.
    page.goto(url)
    expect(_name_box(page)).to_have_value("Second try", timeout=60_000)
    sidebar = _projects(page, 2)
    sidebar.get_by_role("button", name=first, exact=True).click()
    expect(_name_box(page)).to_have_value(first, timeout=60_000)
    main = go(page, "Results")
    expect(main.get_by_role("combobox", name="Run")).to_have_value(
        re.compile(rf" · {re.escape(first)} · finished$"), timeout=60_000
    )
