"""Automatic layered layout of a model graph, for imported or large graphs.

Pure Python on the project's links (no drawing, no Streamlit): the graph (``inbound``) is
kept apart from where its nodes are drawn. The method is the classic layered one
(Sugiyama): cycles are broken by ignoring back edges, each node gets a row by longest path
from the inputs (row 0; both from ``builder.topology``), edges spanning several rows get
invisible waypoints so they take part in crossing reduction, and the nodes of each row are
ordered by the barycentre of their neighbours in the row above / below, sweeping down and
up and keeping the order with the fewest crossings. Data flows top to bottom.

Positions are pixels of the node box's top-left corner. A node that has a stored
``position`` (the person moved it) keeps it; only the others are placed, and an automatic
node that would land on a kept one is pushed aside.
"""

from __future__ import annotations

from builder import topology

NODE_W = 200  # node box used for spacing (the component draws nodes this wide)
NODE_H = 104
GAP_X = 40
GAP_Y = 64
MARGIN = 24
SWEEPS = 12


def _graph(project: dict) -> tuple[list[str], list[tuple[str, str]], dict[str, int]]:
    """Node names (inputs, then layers, file order), the edges (src, dst) between them with
    the connections closing a cycle left out, and each node's row (``topology.analyse``)."""
    model = project["model"]
    topo = topology.analyse(model)
    nodes = topo.inputs + topo.layers
    known = set(nodes)
    links = topology.edges_of(model)
    edges = [
        (src, dst)
        for dst, srcs in links.items()
        for src in srcs
        if src in known and src != dst and (src, dst) not in topo.back_edges
    ]
    return nodes, edges, {n: topo.depth.get(n, 0) for n in nodes}


def ranks(project: dict) -> dict[str, int]:
    """Each node's row: 0 for nodes reading nothing (inputs), else 1 + the deepest source.

    >>> from builder.project import new_project
    >>> p = new_project()
    >>> p["model"]["layers"] = [{"name": "a", "class_name": "Dense", "config": {"units": 2}}]
    >>> ranks(p)
    {'input': 0, 'a': 1}
    """
    return _graph(project)[2]


def crossings(order: list[list[str]], edges: list[tuple[str, str]]) -> int:
    """Edge crossings between consecutive rows of ``order`` (edges join adjacent rows)."""
    where = {n: (r, i) for r, row in enumerate(order) for i, n in enumerate(row)}
    total = 0
    by_row: dict[int, list[tuple[int, int]]] = {}
    for src, dst in edges:
        (r0, i0), (r1, i1) = where[src], where[dst]
        if r1 == r0 + 1:
            by_row.setdefault(r0, []).append((i0, i1))
        elif r0 == r1 + 1:
            by_row.setdefault(r1, []).append((i1, i0))
    for pairs in by_row.values():
        for k, (a0, a1) in enumerate(pairs):
            for b0, b1 in pairs[k + 1 :]:
                if (a0 - b0) * (a1 - b1) < 0:
                    total += 1
    return total


def rows(project: dict) -> list[list[str]]:
    """Node names row by row, ordered to reduce crossings (waypoints left out)."""
    order, _ = _ordered(project)
    return [[n for n in row if not n.startswith("\0")] for row in order]


def _ordered(project: dict) -> tuple[list[list[str]], list[tuple[str, str]]]:
    return _order(*_graph(project))


def _order(
    nodes: list[str], edges: list[tuple[str, str]], rank: dict[str, int]
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Rows of ``nodes`` (waypoints included) ordered to reduce crossings, and the edges
    split at the waypoints. ``edges`` go from a lower row to a higher one."""
    # Waypoints ("\0" names cannot clash with layer names) split edges spanning rows.
    proper: list[tuple[str, str]] = []
    rank_of = dict(rank)
    file_pos: dict[str, float] = {n: k for k, n in enumerate(nodes)}
    for src, dst in edges:
        prev = src
        for r in range(rank[src] + 1, rank[dst]):
            way = f"\0{src}\0{dst}\0{r}"
            rank_of[way] = r
            file_pos[way] = file_pos[src] + 0.5
            proper.append((prev, way))
            prev = way
        proper.append((prev, dst))
    depth = max(rank_of.values(), default=-1) + 1
    order: list[list[str]] = [[] for _ in range(depth)]
    for name in sorted(rank_of, key=lambda n: file_pos[n]):
        order[rank_of[name]].append(name)
    preds: dict[str, list[str]] = {n: [] for n in rank_of}
    succs: dict[str, list[str]] = {n: [] for n in rank_of}
    for src, dst in proper:
        succs[src].append(dst)
        preds[dst].append(src)

    best, best_count = [list(r) for r in order], crossings(order, proper)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        down = sweep % 2 == 0
        span = range(1, depth) if down else range(depth - 2, -1, -1)
        for r in span:
            ref = order[r - 1] if down else order[r + 1]
            pos = {n: i for i, n in enumerate(ref)}
            neighbours = preds if down else succs

            def key(item, pos=pos, neighbours=neighbours):
                i, name = item
                linked = [pos[n] for n in neighbours[name] if n in pos]
                return sum(linked) / len(linked) if linked else i

            order[r] = [n for _, n in sorted(enumerate(order[r]), key=key)]
        count = crossings(order, proper)
        if count < best_count:
            best, best_count = [list(r) for r in order], count
    return best, proper


def _auto(project: dict) -> dict[str, tuple[float, float]]:
    """Automatic top-left positions of every node and waypoint ("\0" names)."""
    return _slots(_ordered(project)[0])


def _slots(order: list[list[str]], left: float = MARGIN) -> dict[str, tuple[float, float]]:
    """Top-left pixel position of each name of ``order`` (rows, each centred), the
    widest row ``left`` pixels from the left edge."""
    step_x, step_y = NODE_W + GAP_X, NODE_H + GAP_Y
    widest = max((len(row) for row in order), default=0)
    auto: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(order):
        offset = (widest - len(row)) * step_x / 2
        for i, name in enumerate(row):
            auto[name] = (left + offset + i * step_x, MARGIN + r * step_y)
    return auto


def edge_routes(project: dict) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Bend points (pixel centres of the waypoint slots, top to bottom) of the edges that
    span several rows, so they pass between the nodes of the rows they cross instead of
    through them. Only for edges whose two ends sit where the layout put them: once a
    person has moved either end, the edge is drawn straight to it.
    """
    model = project["model"]
    moved = {n["name"] for n in model["inputs"] + model["layers"] if n.get("position")}
    auto = _auto(project)
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for name, (x, y) in sorted(auto.items(), key=lambda item: item[1][1]):
        if not name.startswith("\0"):
            continue
        _, src, dst, _ = name.split("\0")
        if src in moved or dst in moved:
            continue
        routes.setdefault((src, dst), []).append((x + NODE_W / 2, y + NODE_H / 2))
    return routes


def layout(project: dict, keep: bool = True) -> dict[str, tuple[float, float]]:
    """Top-left pixel position of every node (inputs and layers).

    With ``keep`` (the default) nodes with a stored ``position`` stay there and the others
    avoid them; ``keep=False`` places every node automatically.
    """
    model = project["model"]
    stored = {}
    if keep:
        for node in model["inputs"] + model["layers"]:
            pos = node.get("position")
            if isinstance(pos, list) and len(pos) == 2:
                stored[node["name"]] = (float(pos[0]), float(pos[1]))
    auto = _auto(project)
    step_x = NODE_W + GAP_X
    result: dict[str, tuple[float, float]] = {}
    taken = list(stored.values())
    for name in [i["name"] for i in model["inputs"]] + [lay["name"] for lay in model["layers"]]:
        if name in stored:
            result[name] = stored[name]
            continue
        x, y = auto.get(name, (MARGIN, MARGIN))
        while any(abs(x - tx) < NODE_W + GAP_X / 2 and abs(y - ty) < NODE_H for tx, ty in taken):
            x += step_x
        result[name] = (x, y)
        if stored:
            taken.append((x, y))
    return result


def free_spot(positions: dict[str, tuple[float, float]], x: float, y: float) -> tuple[float, float]:
    """(x, y), moved right as far as needed so a new node there covers no node of
    ``positions`` (a layout's result)."""
    x, y = max(0.0, float(x)), max(0.0, float(y))
    while any(
        abs(x - nx) < NODE_W + GAP_X / 2 and abs(y - ny) < NODE_H for nx, ny in positions.values()
    ):
        x += NODE_W + GAP_X
    return x, y
