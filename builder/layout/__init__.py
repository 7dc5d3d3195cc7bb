"""Where the nodes of a model graph are drawn: the layered layout and, for big graphs, folding.

``builder.layout.layered`` places the nodes of a graph in rows (the classic layered method,
data flowing top to bottom; a node the person moved keeps its place);
``builder.layout.folding`` draws a graph of hundreds of layers with its blocks, modules and
chains folded into one node each. Both are pure Python on the project's links, with no
drawing and no Streamlit; this package is their one entry (``from builder import layout``).
"""

from __future__ import annotations

from builder.layout.folding import (
    CHAIN_MIN,
    GROUP_FROM,
    SECTION_MAX,
    SECTION_MIN,
    Group,
    View,
    ancestors,
    block_of,
    groups,
    search,
    view,
)
from builder.layout.layered import (
    GAP_X,
    GAP_Y,
    MARGIN,
    NODE_H,
    NODE_W,
    crossings,
    edge_routes,
    free_spot,
    layout,
    ranks,
    rows,
)

__all__ = [
    "CHAIN_MIN",
    "GAP_X",
    "GAP_Y",
    "GROUP_FROM",
    "MARGIN",
    "NODE_H",
    "NODE_W",
    "SECTION_MAX",
    "SECTION_MIN",
    "Group",
    "View",
    "ancestors",
    "block_of",
    "crossings",
    "edge_routes",
    "free_spot",
    "groups",
    "layout",
    "ranks",
    "rows",
    "search",
    "view",
]
