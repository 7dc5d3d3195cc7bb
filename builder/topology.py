"""The model graph's shape as a graph: order, cycles, reachability and depths, in one place.

Every part of netbuilder that walks the wiring reads it from here: the project file
(``project.graph_order``), the graph editor's faults and connection checks
(``builder.graph``), the layered layout (``builder.layout``), the Build page's diagram, the
checker, the model builder and export. ``analyse`` makes one pass in the manner of Keras'
``keras/src/ops/function.py`` (``_build_map``): Kahn's algorithm gives the order and each
node's depth together, and only the nodes Kahn cannot place (those in or behind a cycle)
get a second look, which names the layers in each cycle. Everything is linear in the
number of layers and connections, apart from the order's tie-break (a heap, see
``analyse``).

Wiring problems are worded once, by the ``*_message`` functions below, so the project
file, the graph editor and the checker say the same thing about the same fault.

Nothing here imports TensorFlow or Streamlit; the input is the project's plain
``model`` dict (or just names and links).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from builder import fields

__all__ = [
    "Topology",
    "analyse",
    "arity_message",
    "call_sources",
    "cycle_message",
    "depends_on",
    "edges_of",
    "inbound_of",
    "missing_source_message",
    "self_loop_message",
    "split_ref",
    "unused_input_message",
    "unused_layer_message",
    "would_cycle_message",
]


def inbound_of(model: dict) -> dict[str, list[str]]:
    """Each layer's input names, with the implicit "previous entry" made explicit.

    >>> inbound_of({"inputs": [{"name": "x"}], "layers": [{"name": "a"}, {"name": "b"}]})
    {'a': ['x'], 'b': ['a']}
    """
    inputs = model.get("inputs") or []
    previous = inputs[0]["name"] if inputs else None
    result: dict[str, list[str]] = {}
    for layer in model.get("layers", []):
        result[layer["name"]] = (
            list(layer["inbound"]) if layer.get("inbound") else ([previous] if previous else [])
        )
        previous = layer["name"]
    return result


def split_ref(ref: str) -> tuple[str, int]:
    """A source reference as (layer or input name, output index): ``"enc"`` is output 0
    of ``enc``, ``"enc:1"`` its second output (an LSTM's ``state_h`` with
    ``return_state=True``).

    >>> split_ref("enc:2"), split_ref("x")
    (('enc', 2), ('x', 0))
    """
    name, sep, index = ref.rpartition(":")
    if sep and index.isdigit() and name:
        return name, int(index)
    return ref, 0


def call_sources(layer: dict) -> list[tuple[str, str]]:
    """(argument, reference) for each tensor a layer's call takes by keyword
    (``inbound_args``: ``{"initial_state": ["enc:1", "enc:2"], "mask": "m"}``), in file
    order; anything malformed is left out (``project.validate`` words it)."""
    args = layer.get("inbound_args")
    found: list[tuple[str, str]] = []
    if not isinstance(args, dict):
        return found
    for key, value in args.items():
        refs = value if isinstance(value, list) else [value]
        found += [(key, ref) for ref in refs if isinstance(ref, str)]
    return found


def edges_of(model: dict) -> dict[str, list[str]]:
    """The wiring as names: each layer's sources (``inbound_of``, then the tensors its call
    takes by keyword), output indices dropped (``"enc:1"`` is a connection from ``enc``).
    What the graph walk, the layout and the drawings follow.

    >>> edges_of({"inputs": [{"name": "x"}], "layers": [{"name": "a"},
    ...     {"name": "b", "inbound": ["x"], "inbound_args": {"initial_state": ["a:1"]}}]})
    {'a': ['x'], 'b': ['x', 'a']}
    """
    links = inbound_of(model)
    for layer in model.get("layers", []):
        name = layer["name"]
        extra = [ref for _, ref in call_sources(layer)]
        links[name] = [split_ref(ref)[0] for ref in links[name] + extra]
    return links


# --------------------------------------------------------------------------- wording


def missing_source_message(layer: str, source: str, known: list[str] | None = None) -> str:
    """A layer reads a name that is neither an input nor a layer. No suggestion among more
    than 500 names: one per dangling name would make a hostile file quadratic."""
    close = fields.closest(source, known or [])
    hint = f"Did you mean '{close}'?" if close else "connect it to an existing layer."
    return f"'{layer}' takes its input from '{source}', which does not exist: {hint}"


def self_loop_message(layer: str) -> str:
    return f"'{layer}' cannot take its own output as input."


def cycle_message(names: list[str]) -> str:
    """The layers of one cycle, the first ten named (a cycle of 10,000 stays one line)."""
    listed = ", ".join(f"'{n}'" for n in names[:10]) + (
        f" and {len(names) - 10:,} more" if len(names) > 10 else ""
    )
    return (
        f"the layers {listed} form a cycle (each waits for another's output): remove one "
        "of these connections so data flows from the inputs to the outputs."
    )


def would_cycle_message(src: str, dst: str, path: list[str]) -> str:
    """Connecting ``src`` -> ``dst`` when ``path`` (dst, ..., src) already leads back."""
    loop = " -> ".join(path + [dst])
    return (
        f"connecting '{src}' to '{dst}' would make a cycle ({loop}): data must flow "
        "from the inputs to the outputs."
    )


def arity_message(class_name: str, layer: str, n: int, lo: int, hi: int | None) -> str:
    """A layer with fewer inputs than it merges (``lo``) or more than it takes (``hi``)."""
    who = f"{class_name} '{layer}'"
    from builder import catalogue

    slots = (catalogue.LAYERS.get(class_name) or {}).get("input_names")
    if slots:  # attention: (query, value[, key])
        optional = f" (and optionally {', '.join(slots[lo:hi])})" if hi and hi > lo else ""
        return (
            f"{who} takes its inputs in the order {', '.join(slots[:lo])}{optional} but "
            f"receives {n}: connect {' and '.join(slots[:lo])} (the same layer twice for "
            "self-attention)."
        )
    if n < lo:
        return (
            f"{who} merges {'exactly' if hi == lo else 'at least'} {lo} inputs but "
            f"receives {n}: connect another layer's output to it, or delete it."
        )
    return (
        f"{who} takes {'one input' if hi == 1 else f'at most {hi} inputs'} but receives "
        f"{n}: connect only one layer to it, or merge the branches first (Add, "
        "Concatenate)."
    )


def unused_layer_message(layer: str) -> str:
    return (
        f"no output depends on '{layer}': connect its output to a layer on the way to an "
        "output, mark it as an output, or delete it."
    )


def unused_input_message(name: str) -> str:
    return f"input '{name}' feeds no output: connect it to a layer, or delete it."


# --------------------------------------------------------------------------- analysis


@dataclass
class Topology:
    """What ``analyse`` finds. Names are inputs and layers; edges run source -> reader.

    ``order``: layer names, each after every layer it reads (ties: file order). Layers in
    or behind a cycle come last, in the order they would have with the cycle's closing
    connections ignored, so a drawing or a checker can still visit every layer once.
    ``depth``: inputs 0, a layer 1 + its deepest source (longest path from the inputs),
    computed with the same connections ignored. ``cycles``: the layers of each cycle,
    file order. ``back_edges``: the connections ignored to break the cycles.
    ``missing``: (layer, name) for each name a layer reads that does not exist.
    ``self_loops``: layers reading themselves. ``needed``: inputs and layers some output
    depends on (empty when there are no outputs). ``inputs`` and ``layers``: the names in
    file order.
    """

    inputs: list[str]
    layers: list[str]
    order: list[str]
    depth: dict[str, int]
    cycles: list[list[str]] = field(default_factory=list)
    back_edges: set[tuple[str, str]] = field(default_factory=set)
    missing: list[tuple[str, str]] = field(default_factory=list)
    self_loops: list[str] = field(default_factory=list)
    needed: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)

    @property
    def acyclic(self) -> bool:
        return not self.cycles and not self.self_loops

    def unused_layers(self) -> list[str]:
        """Layers no output depends on, file order (none while the model has no outputs)."""
        if not self.outputs:
            return []
        return [n for n in self.layers if n not in self.needed]

    def unused_inputs(self) -> list[str]:
        if not self.outputs:
            return []
        return [n for n in self.inputs if n not in self.needed]


def analyse(model: dict) -> Topology:
    """Order, depths, cycles, dangling names and reachability of ``model`` in one pass.

    ``model`` is the project's ``model`` dict (``inputs``, ``layers``, ``outputs``).
    Kahn's algorithm takes, among the layers whose sources are all placed, the one listed
    first in the file (a heap keyed by file position), so a stack stays as written and the
    same file always gives the same order: O((V + E) log V).

    >>> t = analyse({"inputs": [{"name": "x"}], "outputs": ["c"], "layers": [
    ...     {"name": "c", "inbound": ["a", "b"]}, {"name": "a", "inbound": ["x"]},
    ...     {"name": "b", "inbound": ["a"]}]})
    >>> t.order, t.depth
    (['a', 'b', 'c'], {'x': 0, 'a': 1, 'b': 2, 'c': 3})
    """
    inputs = [i["name"] for i in model.get("inputs") or []]
    links = edges_of(model)
    outputs = [o for o in model.get("outputs") or [] if isinstance(o, str)]
    return _analyse(inputs, links, outputs)


def _analyse(inputs: list[str], links: dict[str, list[str]], outputs: list[str]) -> Topology:
    layers = list(links)
    position: dict[str, int] = {}
    for name in inputs + layers:
        position.setdefault(name, len(position))
    missing: list[tuple[str, str]] = []
    self_loops: list[str] = []
    readers: dict[str, list[str]] = {name: [] for name in position}
    waiting: dict[str, int] = {}
    for name in layers:
        count = 0
        for src in links[name]:
            if src not in position:
                missing.append((name, src))
            elif src == name:
                self_loops.append(name)
            else:
                readers[src].append(name)
                count += 1
        waiting[name] = count

    depth: dict[str, int] = {name: 0 for name in inputs}
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    ready = [n for n in layers if waiting[n] == 0]
    _kahn(ready, inputs, position, readers, waiting, depth, order, back)
    cycles: list[list[str]] = []
    if len(order) < len(layers):
        placed = set(order)
        rest = [n for n in layers if n not in placed]
        cycles = _cycles(rest, links, position)
        # Break the cycles (ignore each closing connection) and place the rest the same way.
        back = _back_edges(rest, readers)
        for _, dst in back:
            waiting[dst] -= 1
        ready = [n for n in rest if waiting[n] == 0]
        _kahn(ready, [], position, readers, waiting, depth, order, back)
    for name in self_loops:
        if [name] not in cycles:
            cycles.append([name])
    cycles.sort(key=lambda part: position[part[0]])

    needed: set[str] = set()
    todo = [o for o in outputs if o in links]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        todo.extend(s for s in links.get(name, []) if s in position)
    depth = {name: depth.get(name, 0) for name in inputs + order}
    return Topology(
        inputs=inputs,
        layers=layers,
        order=order,
        depth=depth,
        cycles=cycles,
        back_edges=back,
        missing=missing,
        self_loops=self_loops,
        needed=needed,
        outputs=outputs,
    )


def _kahn(ready, sources, position, readers, waiting, depth, order, back) -> None:
    """Kahn's algorithm: ``sources`` (the inputs) release their readers, then the ready
    layer listed first is placed, releasing its own, until none is ready. Fills ``order``
    and ``depth`` in place; connections in ``back`` are not followed."""
    heap = [(position[n], n) for n in ready]
    for name in sources:
        _release(name, readers, waiting, depth, heap, position, back)
    heapq.heapify(heap)
    while heap:
        _, name = heapq.heappop(heap)
        order.append(name)
        depth.setdefault(name, 0)
        _release(name, readers, waiting, depth, heap, position, back)


def _release(name, readers, waiting, depth, heap, position, back):
    for reader in readers[name]:
        if (name, reader) in back:
            continue
        depth[reader] = max(depth.get(reader, 0), depth[name] + 1)
        waiting[reader] -= 1
        if waiting[reader] == 0:
            heapq.heappush(heap, (position[reader], reader))


def _cycles(
    rest: list[str], links: dict[str, list[str]], position: dict[str, int]
) -> list[list[str]]:
    """The strongly connected parts of ``rest`` with a loop (Tarjan, iterative), each in
    file order. Layers merely downstream of a cycle belong to no part and are left out."""
    inside = set(rest)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in rest:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(links[root]))]
        while work:
            node, it = work[-1]
            advanced = False
            for src in it:
                if src not in inside or src == node:
                    continue
                if src not in index:
                    index[src] = low[src] = len(index)
                    stack.append(src)
                    on_stack.add(src)
                    work.append((src, iter(links[src])))
                    advanced = True
                    break
                if src in on_stack:
                    low[node] = min(low[node], index[src])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    part.append(top)
                    if top == node:
                        break
                if len(part) > 1:
                    found.append(sorted(part, key=position.__getitem__))
    return found


def _back_edges(rest: list[str], readers: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Connections among ``rest`` that close a cycle: the back edges of a depth-first walk
    along data flow, started from the unplaced layers in file order."""
    inside = set(rest)
    state: dict[str, int] = {}  # 1 = on the walk's path, 2 = done
    back: set[tuple[str, str]] = set()
    for root in rest:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(readers[root]))]
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in inside:
                    continue
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    work.append((nxt, iter(readers[nxt])))
                    break
            else:
                state[node] = 2
                work.pop()
    return back


def depends_on(links: dict[str, list[str]], start: str, target: str) -> list[str] | None:
    """A path ``[start, ..., target]`` following inbound links (start reads ... reads
    target), or None when ``start`` does not depend on ``target``. Each node is visited
    once: linear in the graph's size."""
    parent: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        name = todo.pop()
        if name == target:
            path = [name]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for src in links.get(name, []):
            if src not in parent:
                parent[src] = name
                todo.append(src)
    return None
