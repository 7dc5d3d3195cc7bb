// Layer stack editor: a palette of layer types and a vertical stack of layer cards.
//
// Streamlit calls the default export again every time Python sends new data, on the
// same parentElement, without running the previous cleanup. So the listeners are
// attached once, to the root element, and read the latest view and trigger setter
// from `root.__nb`; every call only redraws from `data`.
//
// Python owns the layer list. This code never edits it: it sends one action per
// user gesture (trigger "action") and waits for the next view.
//
// Python prepends common.js (ICONS, el, the palette, send) to this file.

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
  listenForUndo(st);
  st.view = normalise(data);
  renderPalette(root, st, "nb");
  renderStack(root, st);
  if (data && data.announce_paint && !st.announced) {
    // Two frames later the cards are painted: tell Python, so that the Keras import
    // held for the first paint may start (ui/preload.py).
    st.announced = true;
    requestAnimationFrame(() => requestAnimationFrame(() => send(st, { type: "painted" })));
  }
}
