// Graph editor: a palette of layer types and a canvas of nodes joined by connections.
//
// Streamlit calls the default export again every time Python sends new data, on the
// same parentElement, without running the previous cleanup. So the listeners are
// attached once, to the root element, and read the latest view and trigger setter
// from `root.__nbg`; every call only redraws from `data`.
//
// Python owns the graph (nodes, connections, positions). This code never edits it: it
// sends one action per user gesture (trigger "action") and waits for the next view. A
// node being moved is drawn where the pointer is until that view arrives.
//
// Python prepends common.js (ICONS, el, the palette, send) to this file.

const NODE_W = 200;
const MAX_NODE_H = 170; // the tallest a node gets (tests/browser/test_graph_browser.py)
const MOVE_THRESHOLD = 4; // pixels before a press on a node becomes a move

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

function normalise(data) {
  const view = data && typeof data === "object" ? data : {};
  return {
    nodes: Array.isArray(view.nodes) ? view.nodes : [],
    edges: Array.isArray(view.edges) ? view.edges : [],
    palette: Array.isArray(view.palette) ? view.palette : [],
    categories: Array.isArray(view.categories) ? view.categories : [],
    frames: Array.isArray(view.frames) ? view.frames : [],
    selected: view.selected ?? null,
    focus: view.focus && typeof view.focus === "object" ? view.focus : null,
  };
}

// ---------------------------------------------------------------- nodes

// A folded group (a Keras block, a stage of blocks, a long chain): one node without ports;
// a click unfolds it.
function renderGroup(node) {
  const name = String(node.name);
  const status = node.status || "ok";
  const hits = Number(node.match_count) || 0;
  const box = el("div", {
    className: `nbg-node nbg-kind-group nbg-status-${status}${hits ? " nbg-match" : ""}`,
    tabindex: "0",
    title: `${node.label}: ${node.summary}. Click to unfold.`,
    "aria-label": `Folded ${String(node.class_name).toLowerCase()} ${node.label}, ${node.summary}`,
    "data-testid": `nbg-node-${name}`,
    "data-name": name,
    "data-kind": "group",
    "data-status": status,
  });
  box.style.left = `${Number(node.x) || 0}px`;
  box.style.top = `${Number(node.y) || 0}px`;
  // The head holds the unfold button, so a group is no taller than a layer's node.
  box.append(el("div", { className: "nbg-head" },
    el("span", { className: "nbg-name", title: node.label }, node.label),
    node.is_output ? el("span", { className: "nbg-output-tag" }, "Output") : null,
    el("span", { className: "nbg-spacer" }),
    el("button", { type: "button", className: "nbg-unfold", "data-act": "expand",
      "aria-label": `Unfold ${node.label}`, "data-testid": `nbg-expand-${name}` }, "Unfold")));
  box.append(el("div", { className: "nbg-summary", title: node.summary },
    `${node.class_name} · ${node.summary}`,
    hits ? el("span", { className: "nbg-hits", "data-testid": `nbg-hits-${name}` },
      ` · ${hits} match${hits > 1 ? "es" : ""}`) : null));
  const pending = status === "tentative";
  box.append(el("div", { className: "nbg-meta" },
    el("span", { className: "nbg-out", "data-testid": `nbg-out-${name}` },
      el("span", { className: "nbg-meta-label" }, "Out "), node.output_shape || (pending ? "pending" : "?")),
    el("span", { className: "nbg-params" },
      el("span", { className: "nbg-meta-label" }, "Params "), node.params ?? (pending ? "pending" : "?"))));
  if (node.error) {
    box.append(el("div", { className: "nbg-error", role: "alert", title: node.error,
      "data-testid": `nbg-error-${name}` },
    el("span", { className: "nbg-error-text" }, el("span", { className: "nbg-badge" }, "Error"), node.error)));
  }
  return box;
}

// The name; inside a block ("conv5_block16_0_bn" in "conv5_block16") the block's part
// is the one cut short, so the end that tells the layers apart stays readable.
function nameTag(name, prefix) {
  if (!prefix || !name.startsWith(`${prefix}_`)) return el("span", { className: "nbg-name", title: name }, name);
  return el("span", { className: "nbg-name nbg-name-split", title: name },
    el("span", { className: "nbg-name-prefix" }, prefix),
    el("span", { className: "nbg-name-rest" }, name.slice(prefix.length)));
}

function renderNode(node, selected) {
  if (node.kind === "group") return renderGroup(node);
  const name = String(node.name);
  const isInput = node.kind === "input";
  const status = node.status || "ok";
  const pending = status === "tentative";
  const box = el("div", {
    className: `nbg-node nbg-kind-${isInput ? "input" : "layer"} nbg-status-${status}` +
      (name === selected ? " nbg-selected" : "") + (node.match_count ? " nbg-match" : "") +
      (node.shares ? " nbg-shared" : ""),
    tabindex: "0",
    "aria-current": name === selected ? "true" : null,
    "aria-label": `${isInput ? "Input" : "Layer"} ${name}, ${node.class_name || "Input"}`,
    "data-testid": `nbg-node-${name}`,
    "data-name": name,
    "data-kind": isInput ? "input" : "layer",
    "data-status": status,
  });
  box.style.left = `${Number(node.x) || 0}px`;
  box.style.top = `${Number(node.y) || 0}px`;
  if (!isInput) {
    box.append(el("span", {
      className: `nbg-port nbg-port-in${node.multi ? " nbg-multi" : ""}`,
      title: node.multi ? "Inputs: drop connections here (several allowed)"
        : "Input: drop a connection here (replaces the current one)",
      "data-testid": `nbg-in-${name}`,
    }));
  }
  box.append(el("div", { className: "nbg-head", title: "Drag to move" },
    nameTag(name, node.prefix),
    el("span", { className: "nbg-class" }, isInput ? "Input" : node.class_name),
    node.is_output ? el("span", { className: "nbg-output-tag", "data-testid": `nbg-output-${name}` },
      "Output") : null,
    el("span", { className: "nbg-spacer" }),
    el("button", {
      type: "button",
      className: "nbg-icon nbg-delete",
      "data-act": "delete",
      "aria-label": `Delete ${name}`,
      title: `Delete ${name}`,
      "data-testid": `nbg-delete-${name}`,
      html: ICONS.trash,
    })));
  if (node.summary) box.append(el("div", { className: "nbg-summary", title: node.summary }, node.summary));
  const shape = node.output_shape || (pending ? "pending" : "?");
  const meta = el("div", { className: "nbg-meta" },
    el("span", { className: "nbg-out", "data-testid": `nbg-out-${name}` },
      el("span", { className: "nbg-meta-label" }, "Out "), shape));
  if (!isInput) {
    meta.append(el("span", { className: "nbg-params", "data-testid": `nbg-params-${name}` },
      el("span", { className: "nbg-meta-label" }, "Params "), node.params ?? (pending ? "pending" : "?")));
  }
  box.append(meta);
  if (node.error) {
    box.append(el("div", {
      className: "nbg-error", role: "alert", title: node.error, "data-testid": `nbg-error-${name}`,
    }, el("span", { className: "nbg-error-text" }, el("span", { className: "nbg-badge" }, "Error"),
      node.error)));
  }
  // One line of advice whatever its length or number (the node keeps its size); the
  // whole text is the tooltip, and the Problems list under the canvas.
  const warnings = Array.isArray(node.warnings) ? node.warnings : [];
  if (warnings.length) {
    const more = warnings.length > 1 ? ` (+${warnings.length - 1} more)` : "";
    box.append(el("div", { className: "nbg-warning", title: warnings.join("\n\n"),
      "data-testid": `nbg-warning-${name}` }, `Advice: ${warnings[0]}${more}`));
  }
  const fixes = (Array.isArray(node.fixes) ? node.fixes : []).map((fix, k) => el("button", {
    type: "button",
    className: `nbg-fix${node.error ? "" : " nbg-fix-warning"}`,
    "data-act": "apply_fix",
    "data-fix": k,
    "aria-label": `Fix ${name}: ${fix.label}`,
    title: fix.label,
    "data-testid": `nbg-fix-${name}-${k}`,
  }, `Fix: ${fix.label}`));
  if (fixes.length) box.append(el("div", { className: "nbg-fixes" }, ...fixes));
  // A layer with several outputs (an LSTM with return_state) has a port per output,
  // labelled with Keras' name for it (output, state_h, state_c).
  const ports = Array.isArray(node.ports) && node.ports.length > 1 ? node.ports : [null];
  box.dataset.ports = String(ports.length);
  ports.forEach((label, k) => {
    const port = el("span", {
      className: `nbg-port nbg-port-out${label ? " nbg-port-many" : ""}`,
      title: label ? `Output ${k}, ${label}: drag from here to another layer's input`
        : "Output: drag from here to another layer's input",
      "aria-label": label ? `Output ${label} of ${name}` : null,
      "data-port": String(k),
      "data-testid": k ? `nbg-outport-${name}-${k}` : `nbg-outport-${name}`,
    }, label ? el("span", { className: "nbg-port-label" }, label) : null);
    if (label) port.style.left = `${((k + 1) * 100) / (ports.length + 1)}%`;
    box.append(port);
  });
  return box;
}

// Frames around unfolded groups, behind the nodes: the name runs down the left strip,
// whose button folds the group again.
function renderFrames(root, st) {
  root.querySelector(".nbg-frames").replaceChildren(...st.view.frames.map((f) => {
    const id = String(f.id);
    const frame = el("div", { className: "nbg-frame", "data-testid": `nbg-frame-${id}`,
      "data-group": id },
    el("button", { type: "button", className: "nbg-fold", "data-group": id,
      title: `Fold ${f.label} (${f.summary}) into one node`, "aria-label": `Fold ${f.label}`,
      "data-testid": `nbg-collapse-${id}` }, el("span", { className: "nbg-fold-label" }, `\u25B4 ${f.label}`)));
    frame.style.left = `${Number(f.x) || 0}px`;
    frame.style.top = `${Number(f.y) || 0}px`;
    frame.style.width = `${Number(f.w) || 0}px`;
    frame.style.height = `${Number(f.h) || 0}px`;
    return frame;
  }));
}

function renderNodes(root, st) {
  const layer = root.querySelector(".nbg-nodes");
  layer.replaceChildren(...st.view.nodes.map((n) => renderNode(n, st.view.selected)));
  renderFrames(root, st);
  if (st.focusId) {
    const target = root.querySelector(`[data-testid="${CSS.escape(st.focusId)}"]`);
    if (target) target.focus({ preventScroll: true });
    st.focusId = null;
  }
}

// ---------------------------------------------------------------- edges

function nodeBox(root, name) {
  const node = root.querySelector(`.nbg-node[data-name="${CSS.escape(name)}"]`);
  if (!node) return null;
  return { x: node.offsetLeft, y: node.offsetTop, w: node.offsetWidth, h: node.offsetHeight };
}

function curve(x0, y0, x1, y1) {
  const bend = Math.max(30, Math.abs(y1 - y0) / 2);
  return `M${x0} ${y0} C${x0} ${y0 + bend} ${x1} ${y1 - bend} ${x1} ${y1}`;
}

// Through the bend points of a long edge (vertical tangents at every point), so it
// passes between the nodes of the rows it crosses.
function route(points) {
  let d = `M${points[0][0]} ${points[0][1]}`;
  for (let k = 1; k < points.length; k += 1) {
    const [x0, y0] = points[k - 1];
    const [x1, y1] = points[k];
    const bend = Math.max(20, Math.abs(y1 - y0) / 2);
    d += ` C${x0} ${y0 + bend} ${x1} ${y1 - bend} ${x1} ${y1}`;
  }
  return d;
}

// A plain connection is "source-target"; one from a layer's output k or into a call
// argument names both ("encoder-1-decoder-initial_state"), so two states into one layer
// stay two edges.
function edgeId(edge) {
  const port = Number(edge.port) || 0;
  if (!edge.arg && !port) return `${edge.source}-${edge.target}`;
  return `${edge.source}-${port}-${edge.target}${edge.arg ? `-${edge.arg}` : ""}`;
}

function renderEdges(root, st) {
  const group = root.querySelector(".nbg-edge-paths");
  const labels = root.querySelector(".nbg-labels");
  group.replaceChildren();
  labels.replaceChildren();
  const slots = {};
  for (const edge of st.view.edges) slots[edge.target] = (slots[edge.target] || 0) + 1;
  // Every node's box read at once, before anything is written: reading one after each
  // written edge would lay the page out again per edge (slow with hundreds of nodes).
  const boxes = new Map();
  for (const node of root.querySelectorAll(".nbg-node")) {
    boxes.set(node.dataset.name, { x: node.offsetLeft, y: node.offsetTop, w: node.offsetWidth,
      h: node.offsetHeight, ports: Number(node.dataset.ports) || 1 });
  }
  const paths = [];
  const tags = [];
  for (const edge of st.view.edges) {
    const a = boxes.get(String(edge.source));
    const b = boxes.get(String(edge.target));
    if (!a || !b) continue;
    const count = slots[edge.target];
    const slot = Number(edge.slot) || 0;
    const port = Math.min(Number(edge.port) || 0, a.ports - 1);
    const x0 = a.x + (a.w * (port + 1)) / (a.ports + 1);
    const y0 = a.y + a.h + 6;
    const x1 = b.x + (b.w * (slot + 1)) / (count + 1);
    const y1 = b.y - 8;
    const bends = Array.isArray(edge.bends) ? edge.bends : [];
    const points = [[x0, y0], ...bends.map((b) => [Number(b[0]), Number(b[1])]), [x1, y1]];
    const d = route(points);
    // The label sits on the last stretch, just above the target, where it is read.
    const [lx0, ly0] = points[points.length - 2];
    const id = edgeId(edge);
    const selected = st.selectedEdge === id;
    const g = svg("g", {
      class: `nbg-edge nbg-status-${edge.status || "ok"}${selected ? " nbg-selected" : ""}` +
        (edge.folded ? " nbg-folded" : ""),
      "data-testid": `nbg-edge-${id}`,
      "data-source": edge.source,
      "data-target": edge.target,
    });
    // An edge from or to a folded group stands for several connections: not selectable.
    if (!edge.folded) g.append(svg("path", { class: "nbg-edge-hit", d }));
    g.append(svg("path", { class: "nbg-edge-line", d, "marker-end": "url(#nbg-arrow)" }));
    paths.push(g);
    const label = el("div", {
      className: `nbg-edge-label${selected ? " nbg-selected" : ""}${edge.folded ? " nbg-folded" : ""}`,
      title: edge.folded ? `${edge.shape || "shape unknown"} (unfold the group to edit this connection)`
        : `${edge.ref || edge.source} to ${edge.target}${edge.label ? ` (${edge.label})` : ""}: ` +
          `${edge.shape || "shape unknown"} (click to select)`,
      "data-testid": `nbg-edge-label-${id}`,
      "data-source": edge.source,
      "data-target": edge.target,
    }, edge.label ? `${edge.label} ${edge.shape || "?"}` : edge.shape || "?");
    label.style.left = `${(lx0 + x1) / 2}px`;
    label.style.top = `${(ly0 + y1) / 2}px`;
    tags.push(label);
  }
  group.append(...paths);
  labels.append(...tags);
  const button = root.querySelector(".nbg-disconnect");
  const chosen = st.view.edges.find((e) => edgeId(e) === st.selectedEdge);
  button.hidden = !chosen;
  if (chosen) button.textContent = `Delete connection ${chosen.source} to ${chosen.target}`;
}

function sizePlane(root, st) {
  let width = 0;
  let height = 0;
  for (const node of root.querySelectorAll(".nbg-node")) {
    width = Math.max(width, node.offsetLeft + node.offsetWidth);
    height = Math.max(height, node.offsetTop + node.offsetHeight);
  }
  const canvas = root.querySelector(".nbg-canvas");
  const plane = root.querySelector(".nbg-plane");
  const zoom = st.zoom || 1;
  // Room below and to the right for new nodes and for dragging nodes further out.
  plane.style.width = `${Math.max(canvas.clientWidth / zoom, width + NODE_W + 40)}px`;
  plane.style.height = `${Math.max(canvas.clientHeight / zoom, height + 220)}px`;
  const edges = root.querySelector(".nbg-edges");
  edges.setAttribute("width", plane.style.width);
  edges.setAttribute("height", plane.style.height);
}

function redraw(root, st) {
  sizePlane(root, st);
  renderEdges(root, st);
}

// Scroll the canvas so node `name` is in the middle of it (a search's match), at a
// readable zoom.
function bringOnScreen(root, st, name) {
  const node = root.querySelector(`.nbg-node[data-name="${CSS.escape(name)}"]`);
  if (!node) return;
  if ((st.zoom || 1) < 0.75) setZoom(root, st, 1); // zoomed far out, a match is unreadable
  const canvas = root.querySelector(".nbg-canvas");
  const zoom = st.zoom || 1;
  canvas.scrollLeft = Math.max(0, (node.offsetLeft + node.offsetWidth / 2) * zoom - canvas.clientWidth / 2);
  canvas.scrollTop = Math.max(0, (node.offsetTop + node.offsetHeight / 2) * zoom - canvas.clientHeight / 2);
}

// ---------------------------------------------------------------- actions

// The plane is drawn at st.zoom (CSS zoom): a pointer position on screen is divided by
// it to get plane coordinates, the ones nodes and the project's positions use.
function planePoint(root, clientX, clientY) {
  const rect = root.querySelector(".nbg-plane").getBoundingClientRect();
  const zoom = root.__nbg?.zoom || 1;
  return { x: (clientX - rect.left) / zoom, y: (clientY - rect.top) / zoom };
}

const ZOOMS = [0.4, 0.5, 0.6, 0.75, 0.9, 1, 1.1, 1.25, 1.5];

function setZoom(root, st, zoom, anchor) {
  const canvas = root.querySelector(".nbg-canvas");
  const old = st.zoom || 1;
  const next = Math.min(ZOOMS[ZOOMS.length - 1], Math.max(ZOOMS[0], zoom));
  // Keep the plane point under the anchor (the pointer, or the canvas centre) in place.
  const rect = canvas.getBoundingClientRect();
  const ax = anchor ? anchor.x - rect.left : canvas.clientWidth / 2;
  const ay = anchor ? anchor.y - rect.top : canvas.clientHeight / 2;
  const px = (canvas.scrollLeft + ax) / old;
  const py = (canvas.scrollTop + ay) / old;
  st.zoom = next;
  root.querySelector(".nbg-plane").style.setProperty("--nbg-zoom", String(next));
  root.querySelector(".nbg-zoom-level").textContent = `${Math.round(next * 100)}%`;
  redraw(root, st);
  canvas.scrollLeft = px * next - ax;
  canvas.scrollTop = py * next - ay;
}

function stepZoom(root, st, direction, anchor) {
  const now = st.zoom || 1;
  const next = direction > 0 ? ZOOMS.find((z) => z > now + 1e-6)
    : [...ZOOMS].reverse().find((z) => z < now - 1e-6);
  if (next) setZoom(root, st, next, anchor);
}

function nodeAt(root, clientX, clientY) {
  const scope = root.getRootNode();
  const hit = (scope.elementFromPoint ? scope : document).elementFromPoint(clientX, clientY);
  return hit && root.contains(hit) ? hit.closest(".nbg-node") : null;
}

function select(root, st, name) {
  root.querySelectorAll(".nbg-node.nbg-selected").forEach((n) => n.classList.remove("nbg-selected"));
  const node = root.querySelector(`.nbg-node[data-name="${CSS.escape(name)}"]`);
  if (node) node.classList.add("nbg-selected");
  if (name !== st.view.selected) send(st, { type: "select", name });
}

function selectEdge(root, st, id) {
  st.selectedEdge = id;
  renderEdges(root, st);
}

// Where a new node from the palette goes when clicked rather than dropped: below the
// selected node when that spot is on screen, else in the middle of what is on screen
// (Python moves it to the nearest free place). Never off screen.
function freeSpot(root, st) {
  const canvas = root.querySelector(".nbg-canvas");
  const zoom = st.zoom || 1;
  const view = { x: canvas.scrollLeft / zoom, y: canvas.scrollTop / zoom,
    w: canvas.clientWidth / zoom, h: canvas.clientHeight / zoom };
  const chosen = st.view.nodes.find((n) => n.name === st.view.selected);
  if (chosen) {
    const box = nodeBox(root, chosen.name);
    const spot = { x: box.x, y: box.y + box.h + 60 };
    // All of the new node must be on screen, however tall its text makes it (nodes are
    // at most MAX_NODE_H high; the selected one may be shorter than the new one).
    if (spot.x >= view.x && spot.x + NODE_W <= view.x + view.w && spot.y >= view.y &&
        spot.y + Math.max(box.h, MAX_NODE_H) + 10 <= view.y + view.h) return spot;
  }
  return { x: Math.max(0, view.x + view.w / 2 - NODE_W / 2), y: Math.max(0, view.y + view.h / 3) };
}

function attach(root, st) {
  const canvas = root.querySelector(".nbg-canvas");
  const wire = root.querySelector(".nbg-wire");

  root.querySelector(".nb-filter").addEventListener("input", () => applyFilter(root));

  root.addEventListener("click", (event) => {
    if (st.suppressClick) {
      st.suppressClick = false;
      return;
    }
    const chip = event.target.closest(".nb-chip");
    if (chip) {
      const spot = freeSpot(root, st);
      send(st, { type: "add", class_name: chip.dataset.className, x: Math.round(spot.x),
        y: Math.round(spot.y), source: st.view.selected || "" });
      return;
    }
    const zoomButton = event.target.closest(".nbg-zoom-btn");
    if (zoomButton) {
      const how = zoomButton.dataset.zoom;
      if (how === "reset") setZoom(root, st, 1);
      else stepZoom(root, st, how === "in" ? 1 : -1);
      return;
    }
    if (event.target.closest(".nbg-disconnect")) {
      const edge = st.view.edges.find((e) => edgeId(e) === st.selectedEdge);
      if (edge) send(st, { type: "disconnect", source: edge.ref || edge.source, target: edge.target });
      st.selectedEdge = null;
      return;
    }
    const fold = event.target.closest(".nbg-fold");
    if (fold) {
      send(st, { type: "collapse", name: fold.dataset.group });
      return;
    }
    const edgeEl = event.target.closest(".nbg-edge, .nbg-edge-label");
    if (edgeEl && !edgeEl.classList.contains("nbg-folded")) {
      selectEdge(root, st, `${edgeEl.dataset.source}-${edgeEl.dataset.target}`);
      canvas.focus({ preventScroll: true });
      return;
    }
    const node = event.target.closest(".nbg-node");
    const button = event.target.closest("button[data-act]");
    if (node && button) {
      st.focusId = button.dataset.testid;
      const name = node.dataset.name;
      if (button.dataset.act === "apply_fix") {
        send(st, { type: "apply_fix", name, fix: Number(button.dataset.fix) });
      } else {
        send(st, { type: button.dataset.act, name });
      }
      return;
    }
    if (node && node.dataset.kind === "group") {
      send(st, { type: "expand", name: node.dataset.name });
      return;
    }
    if (!node && st.selectedEdge && event.target.closest(".nbg-canvas")) {
      selectEdge(root, st, null);
    }
  });

  root.addEventListener("keydown", (event) => {
    if (st.selectedEdge && (event.key === "Delete" || event.key === "Backspace")) {
      const edge = st.view.edges.find((e) => edgeId(e) === st.selectedEdge);
      if (edge) {
        event.preventDefault();
        send(st, { type: "disconnect", source: edge.ref || edge.source, target: edge.target });
        st.selectedEdge = null;
      }
      return;
    }
    const node = event.target.closest?.(".nbg-node");
    if (node && event.target === node && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      if (node.dataset.kind === "group") {
        send(st, { type: "expand", name: node.dataset.name });
        return;
      }
      st.focusId = node.dataset.testid;
      select(root, st, node.dataset.name);
    }
  });

  // ---- pointer gestures: connect (from an output port) and move (a node)
  root.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const port = event.target.closest(".nbg-port-out");
    const node = event.target.closest(".nbg-node");
    if (port && node) {
      event.preventDefault();
      const k = Number(port.dataset.port) || 0;
      const count = Number(node.dataset.ports) || 1;
      st.gesture = { kind: "connect", source: k ? `${node.dataset.name}:${k}` : node.dataset.name };
      root.classList.add("nbg-connecting");
      const box = nodeBox(root, node.dataset.name);
      st.gesture.from = { x: box.x + (box.w * (k + 1)) / (count + 1), y: box.y + box.h + 6 };
      return;
    }
    if (node && node.dataset.kind !== "group" && !event.target.closest("button") &&
        !event.target.closest(".nbg-port")) {
      const box = nodeBox(root, node.dataset.name);
      st.gesture = { kind: "move", name: node.dataset.name, node, startX: event.clientX,
        startY: event.clientY, x: box.x, y: box.y, moved: false };
      return;
    }
    // On the background (not a scrollbar, whose events target the canvas itself): pan.
    if ((!node || node.dataset.kind === "group") && event.target !== canvas &&
        event.target.closest(".nbg-canvas") && !event.target.closest("button") &&
        !event.target.closest(".nbg-edge:not(.nbg-folded), .nbg-edge-label:not(.nbg-folded)")) {
      st.gesture = { kind: "pan", startX: event.clientX, startY: event.clientY,
        left: canvas.scrollLeft, top: canvas.scrollTop, moved: false };
    }
  });

  canvas.addEventListener("wheel", (event) => {
    if (!(event.ctrlKey || event.metaKey)) return;   // a plain wheel scrolls (pans)
    event.preventDefault();
    stepZoom(root, st, event.deltaY < 0 ? 1 : -1, { x: event.clientX, y: event.clientY });
  }, { passive: false });

  window.addEventListener("pointermove", (event) => {
    const g = st.gesture;
    if (!g) return;
    if (g.kind === "connect") {
      const p = planePoint(root, event.clientX, event.clientY);
      wire.setAttribute("d", curve(g.from.x, g.from.y, p.x, p.y));
      wire.hidden = false;
      root.querySelectorAll(".nbg-drop-ok").forEach((n) => n.classList.remove("nbg-drop-ok"));
      const over = nodeAt(root, event.clientX, event.clientY);
      if (over && over.dataset.kind === "layer" && over.dataset.name !== g.source) {
        over.classList.add("nbg-drop-ok");
      }
      return;
    }
    const dx = event.clientX - g.startX;
    const dy = event.clientY - g.startY;
    if (!g.moved && Math.hypot(dx, dy) < MOVE_THRESHOLD) return;
    g.moved = true;
    if (g.kind === "pan") {
      canvas.classList.add("nbg-panning");
      canvas.scrollLeft = g.left - dx;
      canvas.scrollTop = g.top - dy;
      return;
    }
    const zoom = st.zoom || 1;
    g.node.classList.add("nbg-moving");
    g.node.style.left = `${Math.max(0, g.x + dx / zoom)}px`;
    g.node.style.top = `${Math.max(0, g.y + dy / zoom)}px`;
    redraw(root, st);
  });

  window.addEventListener("pointerup", (event) => {
    const g = st.gesture;
    if (!g) return;
    st.gesture = null;
    if (g.kind === "connect") {
      wire.hidden = true;
      root.classList.remove("nbg-connecting");
      root.querySelectorAll(".nbg-drop-ok").forEach((n) => n.classList.remove("nbg-drop-ok"));
      const over = nodeAt(root, event.clientX, event.clientY);
      if (over && over.dataset.kind === "layer" && over.dataset.name !== g.source.split(":")[0]) {
        send(st, { type: "connect", source: g.source, target: over.dataset.name });
      }
      st.suppressClick = true;
      setTimeout(() => { st.suppressClick = false; }, 0);
      return;
    }
    if (g.kind === "pan") {
      canvas.classList.remove("nbg-panning");
      if (g.moved) {
        st.suppressClick = true;
        setTimeout(() => { st.suppressClick = false; }, 0);
      }
      return;
    }
    g.node.classList.remove("nbg-moving");
    if (g.moved) {
      st.suppressClick = true;
      setTimeout(() => { st.suppressClick = false; }, 0);
      send(st, { type: "move", name: g.name, x: Math.round(g.node.offsetLeft),
        y: Math.round(g.node.offsetTop) });
    } else {
      select(root, st, g.name);
    }
  });

  // ---- palette: HTML5 drag onto the canvas (onto a node: the new layer reads it)
  root.addEventListener("dragstart", (event) => {
    const chip = event.target.closest?.(".nb-chip");
    if (!chip) return;
    st.dragging = { class_name: chip.dataset.className };
    event.dataTransfer.effectAllowed = "copy";
    event.dataTransfer.setData("text/plain", chip.dataset.className);
  });
  root.addEventListener("dragend", () => {
    st.dragging = null;
    canvas.classList.remove("nbg-drop-target");
  });
  canvas.addEventListener("dragover", (event) => {
    if (!st.dragging) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    canvas.classList.add("nbg-drop-target");
  });
  canvas.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget || !canvas.contains(event.relatedTarget)) {
      canvas.classList.remove("nbg-drop-target");
    }
  });
  canvas.addEventListener("drop", (event) => {
    const dragging = st.dragging;
    st.dragging = null;
    canvas.classList.remove("nbg-drop-target");
    if (!dragging) return;
    event.preventDefault();
    const hit = event.target.closest(".nbg-node");
    const onto = hit && hit.dataset.kind !== "group" ? hit : null; // a group reads nothing
    const p = planePoint(root, event.clientX, event.clientY);
    let x = p.x - NODE_W / 2;
    let y = p.y - 20;
    if (onto) { // place the new layer below the one it reads
      x = onto.offsetLeft;
      y = onto.offsetTop + onto.offsetHeight + 60;
    }
    // Only a drop on a node connects the new layer to that node: dropped on empty canvas
    // it reads the first input (Python's default), whatever happens to be selected.
    send(st, { type: "add", class_name: dragging.class_name, x: Math.max(0, Math.round(x)),
      y: Math.max(0, Math.round(y)), source: onto ? onto.dataset.name : "" });
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".nbg");
  if (!root) throw new Error("graph editor: the component HTML is missing its .nbg root");
  if (!root.__nbg) {
    root.__nbg = { seq: 0, gesture: null, dragging: null, focusId: null, selectedEdge: null,
      paletteSignature: null, suppressClick: false, zoom: 1 };
    attach(root, root.__nbg);
  }
  const st = root.__nbg;
  st.setTriggerValue = setTriggerValue;
  listenForUndo(st);
  st.view = normalise(data);
  if (st.selectedEdge && !st.view.edges.some((e) => edgeId(e) === st.selectedEdge)) {
    st.selectedEdge = null;
  }
  const started = performance.now();
  renderPalette(root, st, "nbg");
  renderNodes(root, st);
  redraw(root, st);
  const focus = st.view.focus;
  if (focus && focus.seq !== st.focusSeq) {
    st.focusSeq = focus.seq;
    bringOnScreen(root, st, String(focus.name));
  }
  // How long this view took to draw (read by tests/browser/test_graph_browser.py).
  root.dataset.renderMs = (performance.now() - started).toFixed(1);
}
