"""The Graph page in a real browser: draw a two-branch model by dragging connections, see
the merge errors, fix them; move a node and find it there after a reload; delete an edge.

The page is served through a small entry script written to a temporary folder (wide
layout, the Graph page alone), so these tests do not depend on app.py listing the page.
Each test opens a fresh browser context, so it starts from the default template (input
'pixels' of 64 values, Dense 'hidden' 64, Dense 'digit' 10).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect

from tests.browser.nav import go, shot, train

ROOT = Path(__file__).resolve().parents[2]
TF_TIMEOUT = 120_000  # the server imports TensorFlow after the first paint

ENTRY = f"""
import sys
import streamlit as st

sys.path.insert(0, {str(ROOT)!r})
st.set_page_config(page_title="netbuilder graph", layout="wide")
st.navigation([st.Page({str(ROOT / "pages" / "graph.py")!r}, title="Graph")]).run()
"""


@pytest.fixture(scope="session")
def graph_entry(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("graph_entry") / "graph_entry.py"
    path.write_text(ENTRY)
    return str(path)


@pytest.fixture
def page(open_app, graph_entry):
    page = open_app(graph_entry)
    page.set_viewport_size({"width": 1500, "height": 1000})
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("nbg-out-hidden")).to_contain_text("(None, 64)", timeout=TF_TIMEOUT)
    return page


def node(main, name):
    return main.get_by_test_id(f"nbg-node-{name}")


def new_node_name(main, class_name: str) -> str:
    names = main.locator(".nbg-node").evaluate_all("ns => ns.map(n => n.dataset.name)")
    prefix = {"Dense": "dense_", "Add": "add_"}[class_name]
    (name,) = [n for n in names if n.startswith(prefix)]
    return name


def connect(main, source: str, target: str) -> None:
    main.get_by_test_id(f"nbg-outport-{source}").drag_to(main.get_by_test_id(f"nbg-in-{target}"))


def test_draw_two_branches_see_merge_errors_and_fix_them(page, tmp_path, streamlit_server):
    main = page.get_by_test_id("stMain")

    # A second branch from the input: dropped onto the input, so fed by it.
    main.get_by_test_id("nbg-chip-Dense").drag_to(node(main, "pixels"))
    expect(main.locator(".nbg-node")).to_have_count(4)
    side = new_node_name(main, "Dense")
    expect(main.get_by_test_id(f"nbg-edge-pixels-{side}")).to_have_count(1)
    expect(main.get_by_test_id(f"nbg-error-{side}")).to_contain_text("no output depends on")
    # It is selected: make it narrower than 'hidden' in the settings form.
    units = main.get_by_test_id("stNumberInput").filter(has_text="Units").locator("input")
    units.fill("32")
    units.press("Enter")
    expect(main.get_by_test_id(f"nbg-out-{side}")).to_contain_text("(None, 32)")

    # A merge dropped onto 'hidden' reads it; with one input it is an error.
    main.get_by_test_id("nbg-chip-Add").drag_to(node(main, "hidden"))
    expect(main.locator(".nbg-node")).to_have_count(5)
    merge = new_node_name(main, "Add")
    expect(main.get_by_test_id(f"nbg-edge-hidden-{merge}")).to_have_count(1)
    expect(main.get_by_test_id(f"nbg-error-{merge}")).to_contain_text(
        "merges at least 2 inputs but receives 1"
    )

    # Drag connections: the side branch into the merge, the merge into the output.
    connect(main, side, merge)
    expect(main.get_by_test_id(f"nbg-edge-{side}-{merge}")).to_have_count(1)
    expect(main.get_by_test_id(f"nbg-error-{merge}")).not_to_contain_text("merges at least")
    connect(main, merge, "digit")
    expect(main.get_by_test_id(f"nbg-edge-{merge}-digit")).to_have_count(1)
    expect(main.get_by_test_id("nbg-edge-hidden-digit")).to_have_count(0)

    # Now Keras sees the shapes: 64 and 32 cannot be added. The fix widens the branch.
    error = main.get_by_test_id(f"nbg-error-{merge}")
    expect(error).to_contain_text("needs inputs of the same shape")
    expect(main.get_by_test_id(f"nbg-edge-label-{side}-{merge}")).to_have_text("(None, 32)")
    fix = main.get_by_test_id(f"nbg-fix-{merge}-0")
    expect(fix).to_have_text(f"Fix: Set {side}.units to 64")
    page.screenshot(path=str(tmp_path / "merge-error.png"))
    fix.click()
    expect(main.locator(".nbg-error")).to_have_count(0)
    expect(main.get_by_test_id(f"nbg-out-{merge}")).to_have_text("Out (None, 64)")
    expect(main.get_by_test_id(f"nbg-edge-label-{side}-{merge}")).to_have_text("(None, 64)")
    expect(main.get_by_test_id(f"nbg-edge-label-{merge}-digit")).to_have_text("(None, 64)")
    expect(main.get_by_test_id("nbg-out-digit")).to_contain_text("(None, 10)")
    expect(main.get_by_text("No problems")).to_be_visible()

    # The two-branch model trains one epoch: the full app, opened with this tab's session id,
    # restores the autosaved graph.
    session = parse_qs(urlparse(page.url).query)["p"][0]
    app = page.context.new_page()
    app.goto(f"{streamlit_server.url('app.py')}/?p={session}")
    train(app, go(app, "Train"), epochs=1)
    app.close()

    # Select a connection by its label and delete it: the merge is short of an input again.
    main.get_by_test_id(f"nbg-edge-label-hidden-{merge}").click()
    main.get_by_test_id("nbg-disconnect").click()
    expect(main.get_by_test_id(f"nbg-edge-hidden-{merge}")).to_have_count(0)
    expect(main.get_by_test_id(f"nbg-error-{merge}")).to_contain_text(
        "merges at least 2 inputs but receives 1"
    )


def test_moved_node_keeps_its_place_after_a_reload(page):
    main = page.get_by_test_id("stMain")
    hidden = node(main, "hidden")
    before = hidden.evaluate("n => [n.offsetLeft, n.offsetTop]")
    head = hidden.locator(".nbg-head")
    box = head.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 130, box["y"] + box["height"] / 2 + 40, steps=8)
    page.mouse.move(box["x"] + 280, box["y"] + box["height"] / 2 + 60, steps=8)
    page.mouse.up()
    target = [before[0] + 250, before[1] + 60]
    expect(hidden).to_have_attribute("style", f"left: {target[0]}px; top: {target[1]}px;")
    page.wait_for_timeout(500)  # let the rerun store it and autosave
    page.reload()
    main = page.get_by_test_id("stMain")
    expect(node(main, "hidden")).to_have_attribute(
        "style", f"left: {target[0]}px; top: {target[1]}px;", timeout=TF_TIMEOUT
    )
    # The edges follow the node.
    expect(main.get_by_test_id("nbg-edge-label-pixels-hidden")).to_be_visible()


def test_template_draws_every_branch_with_shapes(page, tmp_path):
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Templates").click()
    page.get_by_role("button", name="Digits, inception block").click()
    page.keyboard.press("Escape")
    expect(main.get_by_test_id("nbg-out-block")).to_contain_text(
        "(None, 8, 8, 64)", timeout=TF_TIMEOUT
    )
    for branch in ("branch_1x1", "branch_3x3", "branch_5x5", "branch_pool"):
        expect(main.get_by_test_id(f"nbg-edge-label-{branch}-block")).to_have_text(
            "(None, 8, 8, 16)"
        )
    boxes = [
        node(main, n).bounding_box()
        for n in ("branch_1x1", "branch_3x3", "branch_5x5", "branch_pool")
    ]
    assert len({round(b["x"]) for b in boxes}) == 4  # side by side, not on top of each other
    page.screenshot(path=str(tmp_path / "graph.png"))


def test_canvas_uses_the_page_width_places_new_nodes_in_view_and_zooms(page):
    page.set_viewport_size({"width": 1400, "height": 900})
    main = page.get_by_test_id("stMain")
    canvas = main.get_by_test_id("nbg-canvas")
    expect(canvas).to_be_visible()
    page.wait_for_timeout(500)
    canvas_box = canvas.bounding_box()
    assert canvas_box["width"] >= 700, canvas_box  # was ~430 px beside the settings

    # 'hidden' is selected; a Dense dropped on empty canvas is not connected to it (only a
    # drop onto a node connects): it reads the model's input, as every new layer must.
    node(main, "hidden").locator(".nbg-head").click()
    main.get_by_test_id("nbg-chip-Dense").drag_to(
        canvas, target_position={"x": canvas_box["width"] - 260, "y": 60}
    )
    expect(main.locator(".nbg-node")).to_have_count(4)
    dropped = new_node_name(main, "Dense")
    expect(main.get_by_test_id(f"nbg-edge-hidden-{dropped}")).to_have_count(0)
    expect(main.get_by_test_id(f"nbg-edge-pixels-{dropped}")).to_have_count(1)

    # A click on a chip adds the layer after the selected node, on screen.
    node(main, "digit").locator(".nbg-head").click()
    main.get_by_test_id("nbg-chip-Dropout").click()
    expect(main.locator(".nbg-node")).to_have_count(5)
    names = main.locator(".nbg-node").evaluate_all("ns => ns.map(n => n.dataset.name)")
    (added,) = [n for n in names if n.startswith("dropout")]
    box, view = node(main, added).bounding_box(), canvas.bounding_box()
    assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"], (
        box,
        view,
    )

    # Every node has the same height whatever it says (advice and errors fit in it).
    heights = main.locator(".nbg-node.nbg-kind-layer").evaluate_all(
        "ns => ns.map(n => n.offsetHeight)"
    )
    assert max(heights) <= 170, heights

    # Zoom out and back: the plane is drawn smaller, the positions do not change.
    before = node(main, "hidden").evaluate("n => [n.offsetLeft, n.offsetTop]")
    width = node(main, "hidden").bounding_box()["width"]
    main.get_by_test_id("nbg-zoom-out").click()
    expect(main.get_by_test_id("nbg-zoom-reset")).to_have_text("90%")
    assert node(main, "hidden").bounding_box()["width"] < width
    assert node(main, "hidden").evaluate("n => [n.offsetLeft, n.offsetTop]") == before
    main.get_by_test_id("nbg-zoom-reset").click()
    expect(main.get_by_test_id("nbg-zoom-reset")).to_have_text("100%")


def test_densenet121_draws_folded_finds_a_block_by_name_and_folds_again(
    streamlit_server, new_page, graph_entry, tmp_path
):
    """keras.applications.DenseNet121 (weights=None), imported: 428 layers."""
    keras = pytest.importorskip("keras")
    from builder import keras_import
    from builder.project import dumps

    model = keras.applications.DenseNet121(weights=None, input_shape=(32, 32, 3))
    project, _ = keras_import.from_keras_json(model.to_json())
    url = streamlit_server.url(graph_entry)
    pid = secrets.token_hex(8)
    autosave = streamlit_server.workdir / "home" / "autosave"
    autosave.mkdir(parents=True, exist_ok=True)
    (autosave / f"{pid}.json").write_text(dumps(project))
    page = new_page
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(f"{url}/?p={pid}")
    main = page.get_by_test_id("stMain")
    editor = main.get_by_test_id("nbg-graph-editor")

    # Folded: the stem, four stages of dense blocks, the transitions and the head.
    stage = node(main, "group:conv5")
    expect(stage).to_contain_text("Stage · 16 blocks · 112 layers")
    expect(main.get_by_test_id("nbg-out-group:conv5")).to_contain_text(
        "(None, 1, 1, 1024)", timeout=TF_TIMEOUT
    )
    expect(main.locator(".nbg-node")).to_have_count(27)
    # Drawing time is reported (README, Performance), not asserted: no timed tests.
    print("DenseNet121 folded, draw ms:", float(editor.get_attribute("data-render-ms")))
    page.screenshot(path=str(tmp_path / "densenet-folded.png"))

    # Search: the matches are highlighted, the first one's groups unfold, it is selected
    # (its settings open below) and brought into the canvas' view.
    field = main.get_by_role("textbox", name="Find a layer")
    field.fill("conv5_block16")
    field.press("Enter")
    first = node(main, "conv5_block16_0_bn")
    expect(first).to_have_class(
        re.compile(r"\bnbg-match\b.*\bnbg-selected\b|\bnbg-selected\b.*\bnbg-match\b")
    )
    expect(main.locator(".nbg-node.nbg-match")).to_have_count(7)
    expect(main.get_by_role("textbox", name="Name")).to_have_value("conv5_block16_0_bn")
    canvas = main.get_by_test_id("nbg-canvas").bounding_box()
    box = first.bounding_box()
    assert canvas["y"] <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"]
    assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
    shot(page, tmp_path, "graph")

    # Fold the block: one node holding the 7 matches; a click unfolds it again.
    main.get_by_test_id("nbg-collapse-group:conv5_block16").click()
    block = node(main, "group:conv5_block16")
    expect(main.get_by_test_id("nbg-hits-group:conv5_block16")).to_contain_text("7 matches")
    expect(first).to_have_count(0)
    block.click()
    expect(node(main, "conv5_block16_concat")).to_be_visible()
    # Folding the stage hides its blocks; the project did not change (nothing to undo).
    main.get_by_test_id("nbg-collapse-group:conv5").click()
    expect(stage).to_be_visible()
    expect(main.locator(".nbg-node")).to_have_count(27)
    expect(main.get_by_role("button", name="Undo")).to_be_disabled()

    # Everything unfolded: 429 nodes, still drawn quickly.
    main.get_by_role("button", name="Unfold all").click()
    expect(main.locator(".nbg-node")).to_have_count(429, timeout=60_000)
    print("DenseNet121 unfolded, draw ms:", float(editor.get_attribute("data-render-ms")))


def test_states_ports_call_arguments_and_a_reused_layer(page, tmp_path):
    """The seq2seq template: the encoder has a port per output, labelled with Keras'
    names; its states reach the decoder as initial_state; a state dragged onto another
    layer connects that output; "Reuse this layer here" adds a call sharing the weights."""
    main = page.get_by_test_id("stMain")
    main.get_by_role("button", name="Templates").click()
    page.get_by_role("button", name="Digits, LSTM encoder-decoder (seq2seq)").click()
    page.keyboard.press("Escape")
    expect(main.get_by_test_id("nbg-outport-encoder-2")).to_contain_text(
        "state_c", timeout=TF_TIMEOUT
    )
    expect(main.get_by_test_id("nbg-outport-encoder-1")).to_contain_text("state_h")
    expect(main.get_by_test_id("nbg-edge-label-encoder-1-decoder-initial_state")).to_have_text(
        "state_h → initial_state (None, 32)"
    )
    expect(main.get_by_test_id("nbg-edge-label-encoder-2-decoder-initial_state")).to_have_text(
        "state_c → initial_state (None, 32)"
    )
    connect(main, "encoder-1", "digit")  # drag from the state_h port
    expect(main.get_by_test_id("nbg-edge-label-encoder-1-digit")).to_have_text(
        "state_h (None, 32)", timeout=TF_TIMEOUT
    )
    node(main, "digit").locator(".nbg-head").click()
    main.get_by_role("button", name="Reuse this layer here").click()
    reused = node(main, "digit_2")
    expect(reused).to_contain_text("call of digit (shared weights)", timeout=TF_TIMEOUT)
    expect(reused).to_have_class(re.compile(r"\bnbg-shared\b"))
    expect(main.get_by_test_id("nbg-params-digit_2")).to_contain_text("0", timeout=TF_TIMEOUT)
    page.screenshot(path=str(tmp_path / "graph_states.png"))
