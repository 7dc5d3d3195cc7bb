// Layer stack editor: a palette of layer types and a vertical stack of layer cards.
//
// Streamlit calls the default export again every time Python sends new data, on the
// same parentElement, without running the previous cleanup. So the listeners are
// attached once, to the root element, and read the latest view and trigger setter
// from `root.__nb`; every call only redraws from `data`.
//
// Python owns the layer list. This code never edits it: it sends one action per
// user gesture (trigger "action") and waits for the next view.

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

function normalise(data) {
  const view = data && typeof data === "object" ? data : {};
  return {
    inputs: Array.isArray(view.inputs) ? view.inputs : [],
    palette: Array.isArray(view.palette) ? view.palette : [],
    categories: Array.isArray(view.categories) ? view.categories : [],
    layers: Array.isArray(view.layers) ? view.layers : [],
    selected: view.selected ?? null,
  };
}

// ---------------------------------------------------------------- palette

function renderPalette(root, st) {
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
      "data-testid": `nb-chip-${p.class_name}`,
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

// ---------------------------------------------------------------- stack

function iconButton(act, icon, label, name, disabled) {
  return el("button", {
    type: "button",
    className: `nb-icon nb-${act}`,
    "data-act": act,
    "aria-label": label,
    title: label,
    disabled: disabled,
    "data-testid": `nb-${act}-${name}`,
    html: ICONS[icon],
  });
}

function renderCard(layer, index, count, selected) {
  const name = String(layer.name);
  const status = layer.status || "ok";
  const pending = status === "tentative";
  const card = el("li", {
    className: `nb-card nb-status-${status}${name === selected ? " nb-selected" : ""}`,
    draggable: "true",
    tabindex: "0",
    "aria-current": name === selected ? "true" : null,
    "aria-label": `Layer ${name}, ${layer.class_name}`,
    "data-testid": `nb-card-${name}`,
    "data-name": name,
    "data-class-name": layer.class_name,
    "data-index": index,
    "data-status": status,
  });
  const head = el("div", { className: "nb-card-head" },
    el("span", { className: "nb-grip", html: ICONS.grip, title: "Drag to reorder" }),
    el("span", { className: "nb-name" }, name),
    el("span", { className: "nb-class" }, layer.class_name),
    el("span", { className: "nb-spacer" }),
    iconButton("up", "up", `Move ${name} up`, name, index === 0),
    iconButton("down", "down", `Move ${name} down`, name, index === count - 1),
    iconButton("duplicate", "copy", `Duplicate ${name}`, name, false),
    iconButton("delete", "trash", `Delete ${name}`, name, false));
  card.append(head);
  if (layer.summary) card.append(el("div", { className: "nb-summary" }, layer.summary));

  const shape = layer.output_shape || (pending ? "pending" : "?");
  const params = layer.params ?? (pending ? "pending" : "?");
  card.append(el("div", { className: "nb-meta" },
    el("span", { className: "nb-out", "data-testid": `nb-out-${name}` },
      el("span", { className: "nb-meta-label" }, "Output "), shape),
    el("span", { className: "nb-params", "data-testid": `nb-params-${name}` },
      el("span", { className: "nb-meta-label" }, "Params "), params)));

  if (layer.error) {
    card.append(el("div", { className: "nb-error", role: "alert", "data-testid": `nb-error-${name}` },
      el("span", { className: "nb-badge" }, "Error"),
      el("span", { className: "nb-error-text" }, layer.error)));
  }
  for (const warning of Array.isArray(layer.warnings) ? layer.warnings : []) {
    card.append(el("div", { className: "nb-warning", "data-testid": `nb-warning-${name}` },
      el("span", { className: "nb-warning-mark", "aria-hidden": "true" }, "!"), warning));
  }
  // Fixes repair the error or act on a warning; their index is what Python applies.
  const fixes = (Array.isArray(layer.fixes) ? layer.fixes : []).map((fix, k) => el("button", {
    type: "button",
    className: `nb-fix${layer.error ? "" : " nb-fix-warning"}`,
    "data-act": "apply_fix",
    "data-fix": k,
    "aria-label": `Fix ${name}: ${fix.label}`,
    "data-testid": `nb-fix-${name}-${k}`,
  }, `Fix: ${fix.label}`));
  if (fixes.length) card.append(el("div", { className: "nb-fixes" }, ...fixes));
  return card;
}

function renderStack(root, st) {
  const inputs = root.querySelector(".nb-inputs");
  inputs.replaceChildren(...st.view.inputs.map((input) => el("div", {
    className: "nb-input",
    "data-testid": `nb-input-${input.name}`,
    "data-name": input.name,
  },
  el("span", { className: "nb-input-kind" }, "Input"),
  el("span", { className: "nb-name" }, input.name),
  el("span", { className: "nb-out" }, input.shape ?? ""))));

  const layers = st.view.layers;
  const cards = root.querySelector(".nb-cards");
  cards.replaceChildren(...layers.map((layer, i) =>
    renderCard(layer, i, layers.length, st.view.selected)));
  root.querySelector(".nb-empty").hidden = layers.length > 0;

  if (st.focusId) {
    const target = root.querySelector(`[data-testid="${CSS.escape(st.focusId)}"]`);
    if (target && !target.disabled) target.focus({ preventScroll: true });
    st.focusId = null;
  }
}

// ---------------------------------------------------------------- actions

function send(st, action) {
  // Date-based so that a remounted component (fresh counter) still moves forward.
  st.seq = Math.max(Date.now(), st.seq + 1);
  st.setTriggerValue("action", { ...action, seq: st.seq });
}

function gapAt(root, clientY) {
  const cards = [...root.querySelectorAll(".nb-card")];
  for (let i = 0; i < cards.length; i += 1) {
    const box = cards[i].getBoundingClientRect();
    if (clientY < box.top + box.height / 2) return i;
  }
  return cards.length;
}

// Final position of a moved card when dropped into `gap` (0..n), or null when it
// would land where it already is.
function moveTarget(from, gap) {
  const to = gap > from ? gap - 1 : gap;
  return to === from ? null : to;
}

function showDropLine(root, gap) {
  const line = root.querySelector(".nb-drop-line");
  const stack = root.querySelector(".nb-stack").getBoundingClientRect();
  const cards = root.querySelectorAll(".nb-card");
  let y;
  if (!cards.length) y = root.querySelector(".nb-cards").getBoundingClientRect().top - stack.top;
  else if (gap < cards.length) y = cards[gap].getBoundingClientRect().top - stack.top - 4;
  else y = cards[cards.length - 1].getBoundingClientRect().bottom - stack.top + 3;
  line.style.top = `${Math.round(y)}px`;
  line.hidden = false;
  line.dataset.gap = gap;
}

function hideDropLine(root) {
  const line = root.querySelector(".nb-drop-line");
  line.hidden = true;
  delete line.dataset.gap;
}

function attach(root, st) {
  const stack = root.querySelector(".nb-stack");

  root.querySelector(".nb-filter").addEventListener("input", () => applyFilter(root));

  root.addEventListener("click", (event) => {
    const chip = event.target.closest(".nb-chip");
    if (chip) {
      send(st, { type: "add", class_name: chip.dataset.className, index: st.view.layers.length });
      return;
    }
    const card = event.target.closest(".nb-card");
    if (!card) return;
    const name = card.dataset.name;
    const button = event.target.closest("button[data-act]");
    if (!button) {
      if (name !== st.view.selected) {
        root.querySelectorAll(".nb-selected").forEach((c) => c.classList.remove("nb-selected"));
        card.classList.add("nb-selected");
        send(st, { type: "select", name });
      }
      return;
    }
    st.focusId = button.dataset.testid;
    const index = Number(card.dataset.index);
    const act = button.dataset.act;
    if (act === "up") send(st, { type: "move", name, index: index - 1 });
    else if (act === "down") send(st, { type: "move", name, index: index + 1 });
    else if (act === "apply_fix") send(st, { type: "apply_fix", name, fix: Number(button.dataset.fix) });
    else send(st, { type: act, name });
  });

  root.addEventListener("keydown", (event) => {
    const card = event.target.closest?.(".nb-card");
    if (!card || event.target !== card) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      st.focusId = card.dataset.testid;
      send(st, { type: "select", name: card.dataset.name });
    }
  });

  root.addEventListener("dragstart", (event) => {
    const chip = event.target.closest?.(".nb-chip");
    const card = event.target.closest?.(".nb-card");
    if (chip) {
      st.dragging = { kind: "palette", class_name: chip.dataset.className };
      event.dataTransfer.effectAllowed = "copy";
      event.dataTransfer.setData("text/plain", chip.dataset.className);
    } else if (card) {
      st.dragging = { kind: "card", name: card.dataset.name, from: Number(card.dataset.index) };
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.name);
      card.classList.add("nb-dragging");
    }
  });

  root.addEventListener("dragend", () => {
    st.dragging = null;
    root.querySelectorAll(".nb-dragging").forEach((c) => c.classList.remove("nb-dragging"));
    hideDropLine(root);
  });

  stack.addEventListener("dragover", (event) => {
    if (!st.dragging) return;
    event.preventDefault();
    const gap = gapAt(root, event.clientY);
    if (st.dragging.kind === "card" && moveTarget(st.dragging.from, gap) === null) {
      event.dataTransfer.dropEffect = "none";
      hideDropLine(root);
      return;
    }
    event.dataTransfer.dropEffect = st.dragging.kind === "palette" ? "copy" : "move";
    showDropLine(root, gap);
  });

  stack.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget || !stack.contains(event.relatedTarget)) hideDropLine(root);
  });

  stack.addEventListener("drop", (event) => {
    const dragging = st.dragging;
    st.dragging = null;
    hideDropLine(root);
    if (!dragging) return;
    event.preventDefault();
    const gap = gapAt(root, event.clientY);
    if (dragging.kind === "palette") {
      send(st, { type: "add", class_name: dragging.class_name, index: gap });
    } else {
      const to = moveTarget(dragging.from, gap);
      if (to !== null) send(st, { type: "move", name: dragging.name, index: to });
    }
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".nb");
  if (!root) throw new Error("stack editor: the component HTML is missing its .nb root");
  if (!root.__nb) {
    root.__nb = { seq: 0, dragging: null, focusId: null, paletteSignature: null };
    attach(root, root.__nb);
  }
  const st = root.__nb;
  st.setTriggerValue = setTriggerValue;
  st.view = normalise(data);
  renderPalette(root, st);
  renderStack(root, st);
}
