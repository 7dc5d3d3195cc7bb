"""Graph-mode edits of a project's model (the functional API), as pure functions.

``builder.edit`` covers what a stack and a graph share (add, insert, delete with rewiring,
rename, settings). This module adds what only a graph has: explicit connections between
nodes, several inputs and outputs, node positions on the canvas, and the switch between a
plain stack (implicit links: each layer reads the one before) and a graph (every layer
names its ``inbound``). Each function returns a new project dict and raises ProjectError
with a sentence for the user when the edit cannot be made.

``faults(project)`` lists what makes a graph unusable (cycles, layers no output depends
on, inputs feeding nothing, merges with too few inputs, dangling names) as plain data,
each naming the nodes it concerns, so the page can mark them on the canvas.

Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from builder import catalogue, edit, topology
from builder.project import CALL_TENSOR_ARGS, INPUT_DTYPES, NAME_RE, ProjectError
from builder.topology import inbound_of

__all__ = [
    "Fault",
    "add_input",
    "add_node",
    "checkable",
    "clear_positions",
    "connect",
    "connect_arg",
    "delete_input",
    "delete_node",
    "disconnect",
    "faults",
    "is_chain",
    "move_node",
    "node_names",
    "readers",
    "reuse",
    "set_outputs",
    "sync_compile",
    "to_graph",
    "to_stack",
]


# --------------------------------------------------------------------------- helpers


def _model(project: dict) -> dict:
    return project["model"]


def _layer(project: dict, name: str) -> dict | None:
    return next((lay for lay in _model(project)["layers"] if lay.get("name") == name), None)


def _input(project: dict, name: str) -> dict | None:
    return next((inp for inp in _model(project)["inputs"] if inp.get("name") == name), None)


def node_names(project: dict) -> list[str]:
    """Inputs first, then layers, in file order."""
    model = _model(project)
    return [i["name"] for i in model["inputs"]] + [lay["name"] for lay in model["layers"]]


def _need_node(project: dict, name: str, what: str = "node") -> None:
    if name not in node_names(project):
        known = ", ".join(node_names(project)) or "none"
        raise ProjectError(f"there is no {what} named '{name}' (nodes: {known}).", "model")


def readers(project: dict, name: str) -> list[str]:
    """The layers that take ``name``'s output as (one of) their inputs, in file order."""
    links = inbound_of(_model(project))
    return [lay for lay, srcs in links.items() if name in srcs]


def _arity(class_name: str) -> tuple[int, int | None]:
    entry = catalogue.get(class_name)["inputs"]
    return entry["min"], entry["max"]


# --------------------------------------------------------------------------- mode switch


def to_graph(project: dict) -> dict:
    """The same model with every link written as ``inbound`` (nothing else changes).

    After this, the order of ``model.layers`` no longer carries meaning, so layers can be
    connected freely. ``to_stack`` undoes it while the model is still a chain.
    """
    p = copy.deepcopy(project)
    links = inbound_of(_model(p))
    for lay in _model(p)["layers"]:
        lay["inbound"] = list(links[lay["name"]])
    return p


def _chain_problems(project: dict) -> tuple[list[str], list[dict]]:
    """Why the model is not a single chain input -> ... -> output (empty when it is), and
    its layers in chain order when it is."""
    model = _model(project)
    inputs, layers, outputs = model["inputs"], model["layers"], model.get("outputs", [])
    why: list[str] = []
    if len(inputs) != 1:
        why.append(
            f"it has {len(inputs)} inputs ({', '.join(i['name'] for i in inputs)}); "
            "a stack has exactly one: delete the others"
        )
    if len(outputs) > 1:
        why.append(
            f"it has {len(outputs)} outputs ({', '.join(outputs)}); a stack has one: "
            "keep only the last layer as output"
        )
    links = inbound_of(model)
    feeds: dict[str, list[str]] = {}  # name -> the layers reading it, file order
    for reader, srcs in links.items():
        for src in dict.fromkeys(srcs):
            feeds.setdefault(src, []).append(reader)
    for lay in layers:
        srcs = links[lay["name"]]
        if len(srcs) > 1:
            why.append(
                f"'{lay['name']}' reads {len(srcs)} layers ({', '.join(srcs)}); a stack "
                "layer reads only the one before it"
            )
    for name in node_names(project):
        outs = feeds.get(name, [])
        if len(outs) > 1:
            why.append(
                f"'{name}' feeds {len(outs)} layers ({', '.join(outs)}); in a stack each "
                "layer feeds only the next"
            )
    if why or not inputs:
        return why, []
    # One input, one reader per node, one source per layer: follow the chain from the input.
    order: list[dict] = []
    current = inputs[0]["name"]
    by_name = {lay["name"]: lay for lay in layers}
    placed: set[str] = set()
    while True:
        nxt = feeds.get(current, [])
        if not nxt:
            break
        current = nxt[0]
        if current in placed:
            break
        placed.add(current)
        order.append(by_name[current])
    missing = [lay["name"] for lay in layers if lay["name"] not in placed]
    if missing:
        why.append(
            f"{', '.join(repr(m) for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not on the path from the input "
            "to the output: connect or delete "
            f"{'it' if len(missing) == 1 else 'them'}"
        )
    elif order and outputs and outputs != [order[-1]["name"]]:
        why.append(
            f"the output is '{outputs[0]}', not the last layer of the chain '{order[-1]['name']}'"
        )
    return why, order


def is_chain(project: dict) -> bool:
    """True when ``to_stack`` would succeed: one input, one output, a single path."""
    return not _chain_problems(project)[0]


def to_stack(project: dict) -> dict:
    """Back to a plain stack: layers in chain order, no ``inbound`` (implicit links).

    Only a chain (one input, each layer reading the one before, one output at the end) can
    be a stack; otherwise ProjectError says what keeps it a graph. Node positions are kept,
    so switching back to graph mode shows the same drawing. A per-output loss or metrics
    dict of the single output becomes a plain value.
    """
    why, order = _chain_problems(project)
    if why:
        raise ProjectError("this model cannot be a stack: " + "; ".join(why) + ".", "model.layers")
    p = copy.deepcopy(project)
    by_name = {lay["name"]: lay for lay in _model(p)["layers"]}
    _model(p)["layers"] = [by_name[lay["name"]] for lay in order]
    for lay in _model(p)["layers"]:
        lay.pop("inbound", None)
    if order:
        _model(p)["outputs"] = [order[-1]["name"]]
    return sync_compile(p)


# --------------------------------------------------------------------------- connections


def connect(project: dict, src: str, dst: str, slot: int | None = None) -> dict:
    """Feed ``src``'s output into layer ``dst``.

    ``slot`` is the position in ``dst``'s inputs: an existing slot is replaced, ``len``
    appends. Without it, a layer that takes one input has that input replaced (dragging a
    new connection onto it rewires it) and a merge layer gets one more input. Refused:
    unknown names, an input as ``dst``, a connection that exists already, one that would
    make a cycle, and more inputs than the layer takes. ``src`` may be ``"name:k"``, the
    layer's output k (an LSTM's state_h with return_state is ``"enc:1"``).
    """
    node = _source_node(project, src, dst)
    if _input(project, dst) is not None:
        raise ProjectError(
            f"'{dst}' is an input: inputs receive data, not other layers. Drag "
            "from an output port (bottom) to a layer's input port (top).",
            "model.layers",
        )
    p = _checked_link(project, node, dst)
    lay = _layer(p, dst)
    current = list(lay["inbound"])
    _lo, hi = _arity(lay["class_name"])
    repeatable = bool(catalogue.get(lay["class_name"]).get("input_names"))  # (x, x) attention
    if (
        src in current
        and not repeatable
        and (slot is None or slot >= len(current) or current[slot] != src)
    ):
        raise ProjectError(f"'{src}' already feeds '{dst}'.", "model.layers")
    if slot is None:
        if hi == 1:
            slot = 0
        else:
            slot = len(current)
    if not 0 <= slot <= len(current):
        raise ProjectError(
            f"'{dst}' has {len(current)} input(s); slot {slot} does not exist "
            f"(use 0 to {len(current)}).",
            "model.layers",
        )
    if slot == len(current):
        if hi is not None and len(current) >= hi:
            raise ProjectError(
                f"{lay['class_name']} '{dst}' takes "
                f"{'one input' if hi == 1 else f'at most {hi} inputs'} and has "
                f"{len(current)}: remove one of its connections first.",
                "model.layers",
            )
        current.append(src)
    else:
        current[slot] = src
    lay["inbound"] = current
    return p


def _source_node(project: dict, src: str, dst: str) -> str:
    """The node a source reference names (``"enc:1"`` -> ``enc``), both names checked."""
    node = topology.split_ref(src)[0]
    _need_node(project, node)
    _need_node(project, dst)
    if node != src and _input(project, node) is not None:
        raise ProjectError(
            f"'{node}' is an input: it has one output, read it as '{node}'.", "model.layers"
        )
    return node


def _checked_link(project: dict, node: str, dst: str) -> dict:
    """The project in graph form, once ``node`` -> ``dst`` is known to make no cycle."""
    if node == dst:
        raise ProjectError(topology.self_loop_message(node), "model.layers")
    p = to_graph(project)
    cycle = topology.depends_on(topology.edges_of(_model(p)), node, dst)
    if cycle is not None:
        raise ProjectError(topology.would_cycle_message(node, dst, cycle[::-1]), "model.layers")
    return p


# Call arguments that take a list of tensors (the others take one).
_LIST_ARGS = ("initial_state", "constants")


def connect_arg(project: dict, src: str, dst: str, arg: str) -> dict:
    """Feed ``src`` (``"name"`` or ``"name:k"``) into layer ``dst``'s call argument
    ``arg`` (``initial_state``: appended to the list of states; ``mask`` and the others:
    replaced). Keras says at check time whether the layer's call takes it."""
    if arg not in CALL_TENSOR_ARGS:
        raise ProjectError(
            f"'{arg}' is not a call argument that takes tensors: use one of "
            f"{', '.join(CALL_TENSOR_ARGS)}.",
            "model.layers",
        )
    node = _source_node(project, src, dst)
    if _input(project, dst) is not None:
        raise ProjectError(f"'{dst}' is an input: only layers take call arguments.", "model")
    p = _checked_link(project, node, dst)
    lay = _layer(p, dst)
    args = lay.setdefault("inbound_args", {})
    if arg in _LIST_ARGS:
        current = args.get(arg) or []
        current = current if isinstance(current, list) else [current]
        if src in current:
            raise ProjectError(f"'{src}' already feeds {arg} of '{dst}'.", "model.layers")
        args[arg] = current + [src]
    else:
        args[arg] = src
    return p


def reuse(
    project: dict, name: str, position: tuple[float, float] | None = None
) -> tuple[dict, str]:
    """A further call of layer ``name`` (shared weights: ``"shares"``), reading what the
    layer reads until it is connected elsewhere. Returns (project, the new call's name)."""
    p = to_graph(project)
    lay = _layer(p, name)
    if lay is None:
        raise ProjectError(f"there is no layer named '{name}' to reuse.", "model.layers")
    owner = lay.get("shares") or name
    used = set(node_names(p))
    k = 2
    while f"{owner}_{k}" in used:
        k += 1
    call = {
        "name": f"{owner}_{k}",
        "shares": owner,
        "class_name": lay["class_name"],
        "config": copy.deepcopy(lay.get("config", {})),
        "inbound": list(lay["inbound"]),
    }
    if position is not None:
        call["position"] = [round(float(position[0]), 1), round(float(position[1]), 1)]
    _model(p)["layers"].append(call)
    return p, call["name"]


def disconnect(project: dict, src: str, dst: str) -> dict:
    """Remove the connection ``src`` -> ``dst`` (an input of the layer, else a call
    argument it reads ``src`` for).

    A layer must keep at least one input (the project file cannot hold a layer that reads
    nothing): to rewire a one-input layer, drag a new connection onto it instead.
    """
    _source_node(project, src, dst)
    links = inbound_of(_model(project))
    lay = _layer(project, dst)
    if src not in links.get(dst, []) and lay is not None:
        calls = [ref for _, ref in topology.call_sources(lay)]
        if src in calls:
            p = copy.deepcopy(project)
            target = _layer(p, dst)
            for key, refs in list(target["inbound_args"].items()):
                if isinstance(refs, list) and src in refs:
                    refs.remove(src)
                if refs == src or refs == []:
                    del target["inbound_args"][key]
            if not target["inbound_args"]:
                del target["inbound_args"]
            return p
    if src not in links.get(dst, []):
        raise ProjectError(
            f"'{src}' does not feed '{dst}': there is no such connection.", "model.layers"
        )
    if links[dst] == [src]:
        raise ProjectError(
            f"'{src}' is the only input of '{dst}': connect another layer to "
            f"'{dst}' first (dropping a connection on a one-input layer replaces "
            "its input), or delete the layer.",
            "model.layers",
        )
    p = to_graph(project)
    lay = _layer(p, dst)
    lay["inbound"] = [s for s in lay["inbound"] if s != src]
    return p


# --------------------------------------------------------------------------- nodes


def add_node(
    project: dict,
    class_name: str,
    source: str | None = None,
    position: tuple[float, float] | None = None,
    config: dict | None = None,
) -> tuple[dict, str]:
    """A new layer fed by ``source`` (default: the first input), at ``position``.

    The new layer is not an output yet: ``faults`` reports it until it is connected on
    towards an output or marked as one.
    """
    catalogue.get(class_name)
    source = source or _model(project)["inputs"][0]["name"]
    _need_node(project, source)
    p = to_graph(project)
    entry = catalogue.get(class_name)
    # attention reads (query, value): a new one attends over its source (self-attention)
    inbound = [source] * entry["inputs"]["min"] if entry.get("input_names") else [source]
    p, name = edit.add_layer(p, class_name, None, config, inbound=inbound)
    if position is not None:
        p = move_node(p, name, *position)
    return p, name


def delete_node(project: dict, name: str) -> dict:
    """Delete a layer (its readers take its first input instead) or an extra input."""
    if _input(project, name) is not None:
        return delete_input(project, name)
    p = edit.delete_layer(to_graph(project), name)
    return sync_compile(p)


def add_input(
    project: dict, shape: list, dtype: str = "float32", name: str | None = None
) -> tuple[dict, str]:
    """A new model input (``shape`` without the batch axis); returns (project, name).

    Links are made explicit first, so the existing layers keep reading what they read.
    """
    shape = list(shape)
    if not shape or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    ):
        raise ProjectError(
            f"an input shape is a list of positive whole numbers (null for any "
            f"length) without the batch axis, e.g. [784] or [28, 28, 1]; got "
            f"{shape}.",
            "model.inputs",
        )
    if dtype not in INPUT_DTYPES:
        raise ProjectError(
            f"dtype '{dtype}' is not supported: use 'float32' for numbers or "
            "'int32' for token ids.",
            "model.inputs",
        )
    used = set(node_names(project))
    if name is None:
        k = 1
        while f"input_{k}" in used:
            k += 1
        name = f"input_{k}"
    elif not NAME_RE.fullmatch(name):
        raise ProjectError(
            f"'{name}' is not a valid name: use letters, digits and "
            "underscores, starting with a letter.",
            "model.inputs",
        )
    elif name in used:
        raise ProjectError(f"'{name}' is already used: pick another name.", "model.inputs")
    p = to_graph(project)
    _model(p)["inputs"].append({"name": name, "shape": shape, "dtype": dtype})
    return p, name


def delete_input(project: dict, name: str) -> dict:
    """Remove an input; refused for the only input or while a layer reads nothing else."""
    model = _model(project)
    if _input(project, name) is None:
        raise ProjectError(f"there is no input named '{name}'.", "model.inputs")
    if len(model["inputs"]) == 1:
        raise ProjectError(
            f"'{name}' is the model's only input: a model needs one. Change its shape instead.",
            "model.inputs",
        )
    p = to_graph(project)
    stranded = [lay["name"] for lay in _model(p)["layers"] if lay["inbound"] == [name]]
    if stranded:
        one = len(stranded) == 1
        them = "it" if one else "them"
        raise ProjectError(
            f"{', '.join(repr(s) for s in stranded)} read{'s' if one else ''} "
            f"only '{name}': connect {them} to another source first, or delete "
            f"{them}.",
            "model.inputs",
        )
    _model(p)["inputs"] = [i for i in _model(p)["inputs"] if i["name"] != name]
    for lay in _model(p)["layers"]:
        lay["inbound"] = [s for s in lay["inbound"] if s != name]
    return p


def move_node(project: dict, name: str, x: float, y: float) -> dict:
    """Store a node's canvas position (pixels, top-left corner; kept by the layout)."""
    _need_node(project, name)
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ProjectError(f"a position is two finite numbers, got ({x!r}, {y!r}).", "model")
    p = copy.deepcopy(project)
    node = _layer(p, name) or _input(p, name)
    node["position"] = [round(float(x), 1), round(float(y), 1)]
    return p


def clear_positions(project: dict) -> dict:
    """Forget every stored position, so the automatic layout places all nodes again."""
    p = copy.deepcopy(project)
    for node in _model(p)["inputs"] + _model(p)["layers"]:
        node.pop("position", None)
    return p


# --------------------------------------------------------------------------- outputs, compile


def set_outputs(project: dict, names: list[str]) -> dict:
    """Make ``names`` (layers, in this order) the model's outputs.

    Per-output compile settings follow: a loss, metrics or loss-weight dict drops removed
    outputs and gives new ones the first output's loss (metrics: none; weight: 1.0). With
    one output left the dicts become plain values again.
    """
    names = list(names)
    if not names:
        raise ProjectError(
            "a model needs at least one output: mark a layer as output.", "model.outputs"
        )
    if len(set(names)) != len(names):
        raise ProjectError("an output is listed twice.", "model.outputs")
    layers = {lay["name"] for lay in _model(project)["layers"]}
    for name in names:
        if name not in layers:
            hint = (
                "an input cannot be an output"
                if _input(project, name)
                else f"layers: {', '.join(sorted(layers)) or 'none'}"
            )
            raise ProjectError(f"'{name}' is not a layer of this model ({hint}).", "model.outputs")
    p = to_graph(project) if names != _model(project).get("outputs") else copy.deepcopy(project)
    _model(p)["outputs"] = names
    return sync_compile(p)


def sync_compile(project: dict) -> dict:
    """Per-output compile dicts keyed by exactly the current outputs (see set_outputs)."""
    p = copy.deepcopy(project)
    outputs = list(_model(p).get("outputs", []))
    comp = p.get("compile")
    if not isinstance(comp, dict) or not outputs:
        return p
    loss = comp.get("loss")
    if isinstance(loss, dict):
        first = next(iter(loss.values()), "mse")
        loss = {o: loss.get(o, first) for o in outputs}
        comp["loss"] = loss if len(outputs) > 1 else loss[outputs[0]]
    metrics = comp.get("metrics")
    if isinstance(metrics, dict):
        metrics = {o: list(metrics.get(o, [])) for o in outputs}
        comp["metrics"] = metrics if len(outputs) > 1 else metrics[outputs[0]]
    weights = comp.get("loss_weights")
    if isinstance(weights, dict):
        weights = {o: weights.get(o, 1.0) for o in outputs}
        comp["loss_weights"] = weights if len(outputs) > 1 else None
    return p


# --------------------------------------------------------------------------- faults


def checkable(project: dict) -> dict:
    """The project with every layer that no output uses added as an extra output.

    A branch being drawn is not connected to an output yet, and the project file calls
    that an error before any shape is computed; checking this copy instead lets the
    checker show the branch's shapes while ``faults`` still reports it as unconnected.
    Only for showing shapes: never save or build it.
    """
    unused = [n for f in faults(project) if f.kind == "unused" for n in f.nodes]
    if not unused:
        return project
    p = copy.deepcopy(project)
    _model(p)["outputs"] = list(_model(p).get("outputs", [])) + unused
    return p


@dataclass
class Fault:
    """A graph problem: ``kind`` is cycle | unused | unused_input | missing_source |
    too_few_inputs | too_many_inputs | no_output; ``nodes`` are the nodes it concerns."""

    kind: str
    message: str
    nodes: list[str] = field(default_factory=list)


def faults(project: dict) -> list[Fault]:
    """Everything that keeps the graph from being a model, each naming its nodes.

    Shape problems are the checker's business; these are the wiring problems a person
    drawing a graph runs into: a cycle, a layer whose output no output uses, an input that
    feeds nothing, a merge layer with one input, a layer with more inputs than it takes, a
    connection from a name that does not exist, and a model without outputs.
    """
    model = _model(project)
    layers = model["layers"]
    links = inbound_of(model)
    topo = topology.analyse(model)
    known = topo.inputs + topo.layers
    found: list[Fault] = [
        Fault("missing_source", topology.missing_source_message(name, src, known), [name])
        for name, src in topo.missing
    ]
    found += [
        Fault(
            "cycle",
            topology.self_loop_message(part[0]) if len(part) == 1 else topology.cycle_message(part),
            part,
        )
        for part in topo.cycles
    ]
    for lay in layers:
        cls = lay.get("class_name")
        if cls not in catalogue.LAYERS:
            continue
        lo, hi = _arity(cls)
        n = len(links[lay["name"]])
        if n < lo or (hi is not None and n > hi):
            found.append(
                Fault(
                    "too_few_inputs" if n < lo else "too_many_inputs",
                    topology.arity_message(cls, lay["name"], n, lo, hi),
                    [lay["name"]],
                )
            )
    if layers and not [o for o in topo.outputs if o in links]:
        found.append(
            Fault(
                "no_output",
                "the model has no output: mark the last layer of each head as an output.",
                [],
            )
        )
    else:
        found += [
            Fault("unused", topology.unused_layer_message(name), [name])
            for name in topo.unused_layers()
        ]
        if layers:
            found += [
                Fault("unused_input", topology.unused_input_message(name), [name])
                for name in topo.unused_inputs()
            ]
    return found
