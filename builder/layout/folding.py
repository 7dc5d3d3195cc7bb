"""Big graphs folded: repeated blocks, branching modules and long chains drawn as one node.

``groups(project)`` finds the groups of a graph of ``GROUP_FROM`` nodes or more (Keras'
block naming, branching regions between layers every path passes through, chains,
sections), in linear time; ``view(project, unfolded)`` is what is drawn with every group
folded except the ``unfolded`` ones: which node stands for which, the positions (the
layered layout of ``builder.layout.layered``, run on the folded graph), the edges, and the
frames around unfolded groups. ``search`` and ``ancestors`` find a layer and the groups
holding it. Folding is a way of looking at the graph: the project does not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from builder import topology
from builder.layout.layered import (
    GAP_X,
    MARGIN,
    NODE_H,
    NODE_W,
    _order,
    _slots,
    edge_routes,
    layout,
)

# --------------------------------------------------------------------------- big graphs
#
# A graph of hundreds of layers (DenseNet121 has 428) is drawn with its repeated blocks
# and long chains folded into one node each. Folding is a way of looking at the graph: the
# project does not change. Two kinds of group are found, both in linear time:
#
# - blocks by Keras' naming: ``conv2_block1_0_bn`` belongs to block ``conv2_block1`` of
#   stage ``conv2`` (keras.applications names DenseNet, ResNet, VGG, Xception,
#   EfficientNet and MobileNetV2 layers this way). A block is the run of the model's
#   topological order from its first layer to its last (unnamed layers in between, such
#   as a shortcut's pooling, included; another block's layers there, and it is no block);
#   a stage, its blocks when it has two or more and they follow each other. Being runs of
#   that order keeps the folded graph free of cycles: every edge between folded nodes
#   still runs forwards in it.
# - modules: the branching region between two layers that every path passes through
#   (an Inception module, a residual block not named the Keras way), when none of its
#   layers is in a block; it is consecutive in the topological order, as blocks are.
# - chains: ``CHAIN_MIN`` or more ungrouped layers in a row, each the only reader of the
#   one before, which is its only source (folding such a chain cannot create a cycle).
# - sections: what is still a long run of ungrouped layers in the topological order is
#   cut where the fewest connections cross (NASNet's cells).
#
# Graphs of fewer than ``GROUP_FROM`` nodes are drawn whole: no groups at all.
#
# Folding is the view; the layout below it is the layered one above, run on the folded
# graph.

GROUP_FROM = 60
CHAIN_MIN = 8
MODULE_MIN, MODULE_MAX = 3, 80  # layers in a branching region folded as one module
SECTION_MIN, SECTION_MAX = 12, 60  # layers in a section of a graph without such regions
FRAME_PAD = 10  # pixels between an unfolded group's frame and its nodes
FRAME_STRIP = 22  # the frame's left strip, which holds its name and the fold button

_BLOCK_RE = re.compile(r"\A(?P<stage>(?:[A-Za-z0-9]+_)*?)(?P<block>block_?\d+[a-z]?)_")


@dataclass(frozen=True)
class Group:
    """Layers drawn as one node while folded.

    ``id`` never clashes with a layer name ("group:conv2_block1", "module:mixed0",
    "chain:pool2_bn", "section:normal_concat_3"); ``kind`` is "stage", "block",
    "module", "chain" or "section"; ``members`` are all its layers (nested groups' too),
    topological order; ``children`` the group ids and layer names directly inside;
    ``parent`` the enclosing group's id.
    """

    id: str
    label: str
    kind: str
    members: tuple[str, ...]
    children: tuple[str, ...]
    parent: str | None = None

    def summary(self, groups: dict[str, Group]) -> str:
        """What is inside, in words: "6 blocks · 42 layers", "7 layers"."""
        blocks = sum(1 for c in self.children if c in groups)
        layers = f"{len(self.members):,} layers"
        return f"{blocks} blocks · {layers}" if blocks else layers


def block_of(name: str) -> tuple[str, str] | None:
    """(stage, block) of a layer named the keras.applications way, else None.

    >>> block_of("conv2_block1_0_bn"), block_of("block1_conv1"), block_of("dense_3")
    (('conv2', 'conv2_block1'), ('', 'block1'), None)
    """
    m = _BLOCK_RE.match(name)
    if not m:
        return None
    stage = m.group("stage")
    return stage.rstrip("_"), stage + m.group("block")


def _consecutive(names: list[str], pos: dict[str, int]) -> bool:
    return pos[names[-1]] - pos[names[0]] + 1 == len(names)


def groups(project: dict) -> list[Group]:
    """The groups of a big graph, outer ones before the groups inside them, each level in
    topological order; [] for a graph of fewer than ``GROUP_FROM`` nodes or with a cycle.
    O(V + E) after the topological sort.
    """
    model = project["model"]
    topo = topology.analyse(model)
    if len(topo.inputs) + len(topo.layers) < GROUP_FROM or not topo.acyclic:
        return []
    order = [n for n in topo.order if n in topo.depth]
    pos = {n: k for k, n in enumerate(order)}

    blocks: dict[str, list[str]] = {}
    stage_of: dict[str, str] = {}
    stage_block: dict[str, str] = {}  # layer -> the block its name puts it in
    for name in order:
        found = block_of(name)
        if found:
            stage, block = found
            blocks.setdefault(block, []).append(name)
            stage_of[block] = stage
            stage_block[name] = block
    # A block spans its first to its last layer in that order; layers in between named
    # no block's way (a shortcut's "max_pooling2d") belong to it too, another block's
    # layers there mean it is not a block.
    spans: dict[str, list[str]] = {}
    for block, names in blocks.items():
        span = order[pos[names[0]] : pos[names[-1]] + 1]
        if len(names) >= 2 and all(stage_block.get(n, block) == block for n in span):
            spans[block] = span
    blocks = spans
    stages: dict[str, list[str]] = {}
    for block in blocks:
        if stage_of[block]:
            stages.setdefault(stage_of[block], []).append(block)
    result: list[Group] = []
    owner: dict[str, str] = {}  # layer -> the outermost group holding it
    for stage, names in stages.items():
        members = [m for b in names for m in blocks[b]]
        members.sort(key=pos.__getitem__)
        if len(names) < 2 or not _consecutive(members, pos):
            continue
        gid = f"group:{stage}"
        result.append(
            Group(gid, stage, "stage", tuple(members), tuple(f"group:{b}" for b in names))
        )
        for m in members:
            owner[m] = gid
    for block, members in blocks.items():
        parent = owner.get(members[0])
        gid = f"group:{block}"
        result.append(Group(gid, block, "block", tuple(members), tuple(members), parent))
        if parent is None:
            for m in members:
                owner[m] = gid
    for group in _modules(topology.edges_of(model), order, pos, owner):
        result.append(group)
        for m in group.members:
            owner[m] = group.id
    chains = _chains(model, topo, order, owner)
    result.extend(chains)
    for group in chains:
        for m in group.members:
            owner[m] = group.id
    result.extend(_sections(topology.edges_of(model), order, pos, owner))
    top = [g for g in result if g.parent is None]
    top.sort(key=lambda g: pos[g.members[0]])
    inner = [g for g in result if g.parent is not None]
    inner.sort(key=lambda g: pos[g.members[0]])
    return top + inner


def _modules(
    links: dict[str, list[str]], order: list[str], pos: dict[str, int], owner: dict[str, str]
) -> list[Group]:
    """Branching regions between two layers that every path passes through (an Inception
    module between ``mixed0`` and ``mixed1``), of ``MODULE_MIN`` to ``MODULE_MAX`` layers,
    none of them in another group; each named after the layer that closes it.

    A layer is such a cut when no connection jumps over it in the topological order (a
    connection from before it to after it is a path around it): one pass with a running
    maximum of how far the connections seen so far reach.
    """
    n = len(order)
    far = [-1] * (n + 1)  # far[i]: the furthest reader of a node placed before i
    for dst, srcs in links.items():
        if dst not in pos:
            continue
        for src in srcs:
            start = pos.get(src, -1) + 1  # inputs come before every layer
            far[start] = max(far[start], pos[dst])
    cuts, reach = [], -1
    for i in range(n):
        reach = max(reach, far[i])
        if reach <= i:
            cuts.append(i)
    found: list[Group] = []
    start = 0
    ends = [(end, True) for end in cuts]
    if not cuts or cuts[-1] != n - 1:
        ends.append((n - 1, False))  # the layers after the last cut: no layer closes them
    for end, closed in ends:
        members = order[start : end + 1]
        start = end + 1
        if not MODULE_MIN <= len(members) <= MODULE_MAX or any(m in owner for m in members):
            continue
        closing = members[-1] if closed else members[0]
        label = closing if closed else f"{closing} …"
        found.append(Group(f"module:{closing}", label, "module", tuple(members), tuple(members)))
    return found


def _sections(
    links: dict[str, list[str]], order: list[str], pos: dict[str, int], owner: dict[str, str]
) -> list[Group]:
    """What is left: runs of more than ``SECTION_MAX`` ungrouped layers in a row of the
    topological order (NASNet's cells, which each read the two before, have no layer all
    paths pass through) are cut into sections of ``SECTION_MIN`` to ``SECTION_MAX``
    layers where the fewest connections cross the cut; each named by its first and last.
    """
    n = len(order)
    # width[i]: connections from position <= i to position > i (a difference array).
    delta = [0] * (n + 1)
    for dst, srcs in links.items():
        if dst not in pos:
            continue
        for src in srcs:
            start = max(pos.get(src, -1), 0)
            if pos[dst] > start:
                delta[start] += 1
                delta[pos[dst]] -= 1
    width, running = [0] * n, 0
    for i in range(n):
        running += delta[i]
        width[i] = running
    found: list[Group] = []
    i = 0
    while i < n:
        if order[i] in owner:
            i += 1
            continue
        end = i
        while end + 1 < n and order[end + 1] not in owner:
            end += 1
        if end - i + 1 > SECTION_MAX:
            start = i
            while start <= end:
                if end - start + 1 <= SECTION_MAX:
                    cut = end
                else:
                    window = range(start + SECTION_MIN - 1, start + SECTION_MAX)
                    cut = min(window, key=lambda k: (width[k], -k))
                members = order[start : cut + 1]
                if len(members) >= MODULE_MIN:
                    found.append(
                        Group(f"section:{members[-1]}", f"{members[0]} … {members[-1]}",
                              "section", tuple(members), tuple(members))
                    )  # fmt: skip
                start = cut + 1
        i = end + 1
    return found


def _chains(
    model: dict, topo: topology.Topology, order: list[str], owner: dict[str, str]
) -> list[Group]:
    """Runs of ``CHAIN_MIN`` or more ungrouped layers, each the only source of the next,
    which is its only reader; a model output ends a run."""
    links = topology.edges_of(model)
    readers: dict[str, set[str]] = {}
    for dst, srcs in links.items():
        for src in srcs:
            readers.setdefault(src, set()).add(dst)
    outputs = set(topo.outputs)
    layers = set(links)

    def next_of(name: str) -> str | None:
        """The layer that ``name`` alone feeds and that reads ``name`` alone."""
        if name in outputs:
            return None
        after = readers.get(name, ())
        if len(after) != 1:
            return None
        (nxt,) = after
        if nxt in owner or set(links[nxt]) != {name}:
            return None
        return nxt

    found: list[Group] = []
    for name in order:
        if name in owner:
            continue
        srcs = set(links[name])
        if len(srcs) == 1:
            (src,) = srcs
            if src in layers and src not in owner and next_of(src) == name:
                continue  # inside a run that starts further up
        run = [name]
        nxt = next_of(name)
        while nxt is not None:
            run.append(nxt)
            nxt = next_of(nxt)
        if len(run) >= CHAIN_MIN:
            found.append(
                Group(f"chain:{run[0]}", f"{run[0]} … {run[-1]}", "chain", tuple(run), tuple(run))
            )
    return found


def ancestors(all_groups: list[Group], name: str) -> list[str]:
    """Ids of the groups holding layer ``name``, outermost first."""
    return [g.id for g in all_groups if name in g.members]


def search(project: dict, text: str) -> list[str]:
    """Node names (inputs, then layers, file order) containing ``text``, ignoring case.

    >>> from builder.project import new_project
    >>> search(new_project(), "INP")
    ['input']
    """
    needle = text.strip().lower()
    if not needle:
        return []
    model = project["model"]
    names = [n["name"] for n in model["inputs"]] + [lay["name"] for lay in model["layers"]]
    return [n for n in names if needle in n.lower()]


@dataclass
class View:
    """What is drawn for a set of unfolded groups.

    ``item_of``: every node name -> the name drawn for it (itself, or its outermost folded
    group's id). ``items``: the drawn names, topological order. ``positions``: their
    top-left pixels. ``edges``: (source item, target item) -> the project's connections
    (source, target) it stands for, in order. ``routes``: bend points of long edges, as in
    ``edge_routes``. ``frames``: unfolded group id -> (x, y, width, height) around its
    drawn nodes. ``groups``: every group by id.
    """

    item_of: dict[str, str]
    items: list[str]
    positions: dict[str, tuple[float, float]]
    edges: dict[tuple[str, str], list[tuple[str, str]]]
    routes: dict[tuple[str, str], list[tuple[float, float]]]
    frames: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)


def view(
    project: dict,
    unfolded: Iterable[str] = (),
    keep: bool = True,
    found: list[Group] | None = None,
) -> View:
    """The drawing of ``project`` with every group folded except those in ``unfolded``
    (ids; a group inside a folded one stays hidden). ``found`` is ``groups(project)``
    when the caller has it already. Without groups this is ``layout`` / ``edge_routes``.
    """
    model = project["model"]
    all_groups = groups(project) if found is None else found
    by_id = {g.id: g for g in all_groups}
    names = [i["name"] for i in model["inputs"]] + [lay["name"] for lay in model["layers"]]
    links = topology.edges_of(model)
    unfolded = {g for g in unfolded if g in by_id}
    folded_tops = [g for g in all_groups if g.id not in unfolded and _shown(g, by_id, unfolded)]
    item_of = {n: n for n in names}
    for g in folded_tops:
        for m in g.members:
            item_of[m] = g.id
    edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for dst, srcs in links.items():
        for src in srcs:
            if src in item_of and item_of[src] != item_of[dst]:
                edges.setdefault((item_of[src], item_of[dst]), []).append((src, dst))
    if not all_groups:
        positions, routes = layout(project, keep), edge_routes(project)
        items = names
    else:
        # Room on the left for the frames of unfolded groups (a stage's around its blocks').
        levels = 2 if any(g.parent for g in all_groups) else 1
        left = MARGIN + levels * (FRAME_PAD + FRAME_STRIP)
        items, positions, routes = _folded_layout(model, item_of, edges, keep, left)
    frames = _frames(all_groups, by_id, unfolded, item_of, positions)
    return View(item_of, items, positions, edges, routes, frames, by_id)


def _shown(group: Group, by_id: dict[str, Group], unfolded: set[str]) -> bool:
    """Whether every group around ``group`` is unfolded (so ``group`` itself is drawn)."""
    parent = group.parent
    while parent is not None:
        if parent not in unfolded:
            return False
        parent = by_id[parent].parent
    return True


def _folded_layout(
    model: dict,
    item_of: dict[str, str],
    edges: dict[tuple[str, str], list[tuple[str, str]]],
    keep: bool,
    left: float,
) -> tuple[
    list[str], dict[str, tuple[float, float]], dict[tuple[str, str], list[tuple[float, float]]]
]:
    """Layered layout of the folded graph: rows by longest path over the items in
    topological order (folded groups are consecutive there, or chains), then as ``layout``."""
    topo = topology.analyse(model)
    order = topo.inputs + [n for n in topo.order if n in topo.depth]
    items: list[str] = []
    seen: set[str] = set()
    for n in order:
        item = item_of[n]
        if item not in seen:
            seen.add(item)
            items.append(item)
    preds: dict[str, list[str]] = {i: [] for i in items}
    for src, dst in edges:
        preds[dst].append(src)
    rank: dict[str, int] = {}
    for item in items:
        rank[item] = 1 + max((rank[p] for p in preds[item]), default=-1)
    ordered, _ = _order(items, list(edges), rank)
    auto = _slots(ordered, left)
    stored = {}
    if keep:
        for node in model["inputs"] + model["layers"]:
            spot = node.get("position")
            if item_of[node["name"]] == node["name"] and isinstance(spot, list) and len(spot) == 2:
                stored[node["name"]] = (float(spot[0]), float(spot[1]))
    positions: dict[str, tuple[float, float]] = {}
    taken = list(stored.values())
    for item in items:
        if item in stored:
            positions[item] = stored[item]
            continue
        x, y = auto[item]
        while stored and any(
            abs(x - tx) < NODE_W + GAP_X / 2 and abs(y - ty) < NODE_H for tx, ty in taken
        ):
            x += NODE_W + GAP_X
        positions[item] = (x, y)
        if stored:
            taken.append((x, y))
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for name, (x, y) in sorted(auto.items(), key=lambda kv: kv[1][1]):
        if name.startswith("\0"):
            _, src, dst, _ = name.split("\0")
            if src not in stored and dst not in stored:
                routes.setdefault((src, dst), []).append((x + NODE_W / 2, y + NODE_H / 2))
    return items, positions, routes


def _frames(
    all_groups: list[Group],
    by_id: dict[str, Group],
    unfolded: set[str],
    item_of: dict[str, str],
    positions: dict[str, tuple[float, float]],
) -> dict[str, tuple[float, float, float, float]]:
    """Frames around the drawn nodes of each unfolded group whose outer groups are
    unfolded too, outer ones first; a frame holding others is wider by a strip per level."""
    frames: dict[str, tuple[float, float, float, float]] = {}
    # Inner groups come after outer ones in ``all_groups``: size the inner ones first.
    for g in reversed(all_groups):
        if g.id not in unfolded or not _shown(g, by_id, unfolded):
            continue
        boxes = [
            (x, y, x + NODE_W, y + NODE_H)
            for x, y in (positions[i] for i in {item_of[m] for m in g.members})
        ]
        boxes += [
            (x, y, x + w, y + h) for c, (x, y, w, h) in frames.items() if by_id[c].parent == g.id
        ]
        if not boxes:
            continue
        x0 = min(b[0] for b in boxes) - FRAME_PAD - FRAME_STRIP
        y0 = min(b[1] for b in boxes) - FRAME_PAD
        x1 = max(b[2] for b in boxes) + FRAME_PAD
        y1 = max(b[3] for b in boxes) + FRAME_PAD
        frames[g.id] = (x0, y0, x1 - x0, y1 - y0)
    return dict(reversed(frames.items()))  # outer frames first: drawn first, so below
