// Shared by the layer stack editor (stack.js) and the graph editor (graph.js).
//
// Python prepends this file to each component's own script (ui/component_actions.py),
// so everything here is a top-level declaration the component's module can call; the
// component's file keeps the one `export default`. The palette uses the same classes
// (nb-palette, nb-chip, ...) in both components, styled by common.css; its test ids
// carry the component's own prefix ("nb" or "nbg").

const ICONS = {
  grip: '<svg viewBox="0 0 10 16" width="8" height="14" aria-hidden="true">' +
    '<g fill="currentColor"><circle cx="2" cy="3" r="1.4"/><circle cx="8" cy="3" r="1.4"/>' +
    '<circle cx="2" cy="8" r="1.4"/><circle cx="8" cy="8" r="1.4"/>' +
    '<circle cx="2" cy="13" r="1.4"/><circle cx="8" cy="13" r="1.4"/></g></svg>',
  up: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' +
    '<path d="M8 4l5 6H3z" fill="currentColor"/></svg>',
  down: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' +
    '<path d="M8 12l5-6H3z" fill="currentColor"/></svg>',
  copy: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' +
    '<g fill="none" stroke="currentColor" stroke-width="1.5"><rect x="5" y="5" width="8" height="9" rx="1"/>' +
    '<path d="M3 11V3a1 1 0 0 1 1-1h6"/></g></svg>',
  trash: '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' +
    '<g fill="none" stroke="currentColor" stroke-width="1.5"><path d="M2.5 4h11M6 4V2.5h4V4"/>' +
    '<path d="M4 4l.8 9.5h6.4L12 4M6.8 6.5v5M9.2 6.5v5"/></g></svg>',
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "html") node.innerHTML = value; // only ever our own ICONS
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---------------------------------------------------------------- palette

// Redraws the palette chips when the view's palette changed; `testPrefix` names the
// component in the chips' test ids ("nb-chip-Dense", "nbg-chip-Dense").
function renderPalette(root, st, testPrefix) {
  const signature = JSON.stringify([st.view.palette, st.view.categories]);
  if (signature === st.paletteSignature) return; // keep filter text and scroll
  st.paletteSignature = signature;

  const groups = root.querySelector(".nb-groups");
  groups.replaceChildren();
  const order = st.view.categories.map((c) => c.id);
  for (const item of st.view.palette) {
    if (!order.includes(item.category)) order.push(item.category);
  }
  const labels = Object.fromEntries(st.view.categories.map((c) => [c.id, c.label]));
  for (const category of order) {
    const items = st.view.palette.filter((p) => p.category === category);
    if (!items.length) continue;
    const chips = items.map((p) => el("button", {
      type: "button",
      className: "nb-chip",
      draggable: "true",
      title: p.help || p.class_name,
      "aria-label": `Add ${p.label || p.class_name} layer`,
      "data-testid": `${testPrefix}-chip-${p.class_name}`,
      "data-class-name": p.class_name,
      "data-search": `${p.label || ""} ${p.class_name}`.toLowerCase(),
    }, p.label || p.class_name));
    groups.append(el("div", { className: "nb-group", "data-category": category },
      el("h4", { className: "nb-group-title" }, labels[category] || category),
      el("div", { className: "nb-chips" }, ...chips)));
  }
  applyFilter(root);
}

function applyFilter(root) {
  const query = root.querySelector(".nb-filter").value.trim().toLowerCase();
  for (const group of root.querySelectorAll(".nb-group")) {
    let shown = 0;
    for (const chip of group.querySelectorAll(".nb-chip")) {
      const match = !query || chip.dataset.search.includes(query);
      chip.hidden = !match;
      if (match) shown += 1;
    }
    group.hidden = shown === 0;
  }
}

// ---------------------------------------------------------------- actions

// One gesture to Python as the trigger "action" (see ui/component_actions.py).
function send(st, action) {
  // Date-based so that a remounted component (fresh counter) still moves forward.
  st.seq = Math.max(Date.now(), st.seq + 1);
  st.setTriggerValue("action", { ...action, seq: st.seq });
}

// Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y; Cmd on a Mac) anywhere on the page except in a text
// field: Undo and Redo, as the toolbar buttons. One listener per page, sending through
// the editor drawn last.
function listenForUndo(st) {
  window.__nbUndoTarget = st;
  if (window.__nbUndoListening) return;
  window.__nbUndoListening = true;
  document.addEventListener("keydown", (event) => {
    const target = window.__nbUndoTarget;
    if (!target || !(event.ctrlKey || event.metaKey) || event.altKey) return;
    const key = event.key.toLowerCase();
    if (key !== "z" && key !== "y") return;
    const origin = event.composedPath()[0];
    if (origin && (origin.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(origin.tagName))) {
      return;   // the field's own undo
    }
    event.preventDefault();
    send(target, { type: key === "y" || event.shiftKey ? "redo" : "undo" });
  });
}
