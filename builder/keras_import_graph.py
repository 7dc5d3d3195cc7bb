"""A Keras model config's layers and their calls as the project's inputs, layers and links.

``_sequential`` and ``_functional`` turn the "layers" of a Keras model config into the
project's inputs, layers (by ``builder.keras_import_layer``), connections and outputs.
Keras names become project names (``_Names``); each further call of a shared layer becomes
a layer that ``shares`` the first; nested Sequential and functional models are flattened
into the outer graph; keras.ops operations recorded between layers become the catalogue
layers that compute them (``builder.keras_ops``); an output that is one output of a layer
with several gets an Identity layer of its own.
"""

from __future__ import annotations

import json
import re

from builder import catalogue
from builder.keras_import_layer import _MODEL_CLASSES, _layer, _layer_config
from builder.keras_ops import layers_for, op_name
from builder.project import CALL_TENSOR_ARGS, NAME_RE, ProjectError, _short_json, shape_ok


def _is_op(entry: dict) -> bool:
    return str(entry.get("module") or "").startswith(("keras.src.ops", "keras.ops"))


class _Names:
    """Keras names made into project names (letters, digits, underscores; unique)."""

    def __init__(self, notes: list[str]):
        self.map: dict[str, str] = {}
        self.used: set[str] = set()
        self.suffix: dict[str, int] = {}  # base name -> last number tried, so renaming n
        self.notes = notes  # copies of one name stays linear
        # a nested model's layers, by their Keras name, as its first call named them: the
        # project layers its further calls share
        self.nested: dict[str, dict[str, str]] = {}

    def add(self, keras_name, key: str | None = None) -> str:
        """A project name for ``keras_name``; ``key`` (default: the Keras name) is how the
        graph refers to it (``"dense@1"``: the second call of a shared layer)."""
        raw = str(keras_name) if keras_name is not None else "layer"
        name = re.sub(r"\W", "_", raw, flags=re.ASCII)
        if not NAME_RE.fullmatch(name):
            name = "l_" + name
        base, k = name, self.suffix.get(name, 1)
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.suffix[base] = k
        if name != raw:
            self.notes.append(
                f"{raw!r} is named {name!r}: project names use letters, digits "
                "and underscores only, and are unique."
            )
        self.used.add(name)
        self.map[key if key is not None else raw] = name
        return name

    def get(self, key) -> str:
        """The project reference for a tensor key (``_tensor_key``): ``"enc:1"`` is output
        1 of the layer the project calls ``enc``'s name, a nested model's output k what its
        flattening mapped."""
        key = str(key)
        if key in self.map:
            return self.map[key]
        layer, at, rest = key.partition("@")
        if at and f"{layer}@{rest.partition(':')[0]}" not in self.map:
            # Keras numbers a nested model's calls after the node that built it (in a
            # model's output list): a call the layer does not have is its only one
            key = layer + (":" + rest.partition(":")[2] if ":" in rest else "")
            if key in self.map:
                return self.map[key]
        base, sep, index = key.rpartition(":")
        if sep and index.isdigit() and base in self.map and ":" not in self.map[base]:
            return f"{self.map[base]}:{index}"
        raise ProjectError(f"a layer reads from {key!r}, which is not a layer of the model.")


def _input(config: dict, name: str, notes: list[str]) -> dict:
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(shape, list) or len(shape) < 1:  # [None]: a scalar per sample
        raise ProjectError(
            f"input {name!r} has no shape; build the model on "
            "keras.Input(shape=...) before saving it."
        )
    if not shape_ok(list(shape[1:])):
        raise ProjectError(
            f"input {name!r} has shape {_short_json(shape[1:])}: each dimension "
            "must be a whole number ≥ 1 (or null for any length)."
        )
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    if dtype not in ("float32", "int32", "string"):  # string: raw text, for TextVectorization
        mapped = "int32" if "int" in str(dtype) else "float32"
        notes.append(f"input {name!r} has dtype {dtype}; the project uses {mapped}.")
        dtype = mapped
    for flag in ("sparse", "ragged", "optional"):
        if config.get(flag):
            notes.append(f"input {name!r} is {flag}; the project's input is a plain dense tensor.")
    return {"name": name, "shape": list(shape[1:]), "dtype": dtype}


def _sequential(config, layers, names, notes):
    entries = []
    inp = None
    for k, entry in enumerate(layers):
        cls, cfg = _layer_config(entry)
        if cls == "InputLayer":
            if k != 0:
                raise ProjectError(
                    "an InputLayer in the middle of a Sequential model cannot be imported."
                )
            inp = _input(cfg, names.add(cfg.get("name", "input")), notes)
            continue
        if inp is None:
            shape = cfg.get(
                "batch_shape", cfg.get("batch_input_shape", config.get("build_input_shape"))
            )
            if shape is None:
                raise ProjectError(
                    "the Sequential model has no input shape: build it with "
                    "keras.Input(shape=...) as its first layer, then export it "
                    "again."
                )
            inp = _input({"batch_shape": shape, "dtype": "float32"}, names.add("input"), notes)
        entries.append(_layer(cls, cfg, names.add(cfg.get("name")), notes))
    if inp is None or not entries:
        raise ProjectError("the Sequential model has no layers to import.")
    return [inp], entries, [entries[-1]["name"]]


def _history_names(node) -> list[str]:
    """Layer names of every Keras tensor in an inbound node's args, in order (a depth-first
    walk with a reversed stack: linear in the node's size)."""
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            config = item.get("config")
            history = config.get("keras_history") if isinstance(config, dict) else None
            if isinstance(history, list) and history:
                found.append(_tensor_key(history))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _endpoints(value) -> list[str]:
    """Names in input_layers/output_layers: ["a", 0, 0], [["a", 0, 0], ...] or a dict."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, list) and v for v in value):
        raise ProjectError(
            f"the model's input/output list {_short_json(value)} is not in Keras 3's format."
        )
    return [_tensor_key(v) for v in value]


def _tensor_key(history: list) -> str:
    """The key of one Keras tensor ([layer, node, index]): the layer's name for output 0
    of its first call, ``name@n`` for its call n (a shared layer), ``:k`` added for output
    k (an LSTM's states with return_state, a nested model's outputs)."""
    node = history[1] if len(history) > 1 and isinstance(history[1], int) else 0
    index = history[2] if len(history) > 2 and isinstance(history[2], int) else 0
    return f"{history[0]}{f'@{node}' if node else ''}{f':{index}' if index else ''}"


# keras.ops operations a functional model records when tensors are combined with + - * /,
# as the catalogue layer that computes the same: with a constant, Rescaling; with tensors,
# the merge layer.
_OPS = {
    "Add": "Add",
    "Subtract": "Subtract",
    "Multiply": "Multiply",
    "Divide": None,
    "TrueDivide": None,
}


def _op_layers(entry: dict, name: str, node, names, notes) -> list[dict]:
    """An operation on tensors as the catalogue layer(s) computing it: x + 3.0 and x * y
    here, the others by ``keras_ops.layers_for`` (relu -> Activation, mean over the steps
    -> GlobalAveragePooling1D, a slice -> Cropping1D ...); refused by the operation's name
    when no layer computes it."""
    cls = entry.get("class_name")
    args = node.get("args", []) if isinstance(node, dict) else []
    tensors = _history_names(args)
    consts = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    if cls in _OPS and len(tensors) == 1 and len(consts) == 1 and len(args) == 2:
        c = float(consts[0])
        first = not isinstance(args[0], (int, float))
        if cls == "Add":
            config = {"scale": 1.0, "offset": c}
        elif cls == "Subtract" and first:
            config = {"scale": 1.0, "offset": -c}
        elif cls == "Multiply":
            config = {"scale": c}
        elif cls in ("Divide", "TrueDivide") and first and c != 0:
            config = {"scale": 1.0 / c}
        else:
            config = None
        if config is not None:
            config = {k: float(f"{v:.7g}") for k, v in config.items()}
            notes.append(
                f"layer {name!r} is the operation {cls.lower()} with {consts[0]:g}; "
                "the project computes it with a Rescaling layer."
            )
            return [
                {
                    "name": name,
                    "class_name": "Rescaling",
                    "config": config,
                    "inbound": [names.get(tensors[0])],
                }
            ]
    if cls in _OPS and _OPS[cls] and len(tensors) >= 2 and len(tensors) == len(args):
        notes.append(
            f"layer {name!r} is the operation {cls.lower()} of tensors; the project "
            f"uses the {_OPS[cls]} layer."
        )
        return [
            {
                "name": name,
                "class_name": _OPS[cls],
                "config": {},
                "inbound": [names.get(t) for t in tensors],
            }
        ]
    if not tensors:
        raise ProjectError(f"layer {name!r} (keras.ops.{op_name(cls)}) reads no tensor.")
    op_config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    mapped = layers_for(str(cls), op_config, _tensor_shapes(args), args, name)
    notes.append(
        f"layer {name!r} is the operation keras.ops.{op_name(cls)}; the project computes "
        f"it with {' and '.join(c for c, _ in mapped)}."
    )
    result, sources = [], [names.get(t) for t in tensors]
    for k, (layer_cls, layer_config) in enumerate(mapped):
        last = k == len(mapped) - 1
        part = name if last else names.add(f"{name}_{op_name(layer_cls)}", f"{name}#{k}")
        result.append(
            {"name": part, "class_name": layer_cls, "config": layer_config, "inbound": sources}
        )
        sources = [part]
    return result


def _tensor_shapes(args) -> list[list]:
    """The recorded shapes (batch axis included) of the tensors in a node's arguments."""
    shapes = []
    stack = [args]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            shape = (item.get("config") or {}).get("shape")
            shapes.append(list(shape) if isinstance(shape, list) else [])
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return shapes


def _node_refs(node, names) -> tuple[list[str], dict]:
    """A call's sources: positional tensors, then query/value/key given by keyword; and the
    tensors it takes by other keywords (``initial_state``, ``mask``: the project's
    ``inbound_args``, a reference or a list of them as the call had them)."""
    args = node.get("args", []) if isinstance(node, dict) else node
    found = _history_names(args)
    kwargs = node.get("kwargs") or {} if isinstance(node, dict) else {}
    for key in ("query", "value", "key", "inputs"):
        if key in kwargs:
            found += _history_names([kwargs[key]])
    by_keyword = {}
    for key, value in kwargs.items():
        if key in ("query", "value", "key", "inputs") or key not in CALL_TENSOR_ARGS:
            continue
        refs = [names.get(t) for t in _history_names([value])]
        if refs:
            by_keyword[key] = refs if isinstance(value, list) else refs[0]
    return [names.get(s) for s in found], by_keyword


def _node_sources(node, entry_cls: str, names) -> list[str]:
    """Inbound layer names: positional tensors, then query/value/key given by keyword."""
    return _node_refs(node, names)[0]


def _call_settings(cls: str, node, name: str, notes: list[str]) -> dict:
    """Call arguments recorded in the inbound node that the catalogue holds as settings
    (use_causal_mask, return_attention_scores, training). A tensor given by a keyword the
    project cannot connect is refused, naming it."""
    kwargs = node.get("kwargs") or {} if isinstance(node, dict) else {}
    calls = (
        {p["name"]: p for p in catalogue.get(cls)["params"] if p.get("call")}
        if cls in catalogue.LAYERS
        else {}
    )
    settings, dropped = {}, []
    for key, value in kwargs.items():
        if key in ("query", "value", "key", "inputs") or value is None:
            continue
        if key in CALL_TENSOR_ARGS:
            continue  # connected as inbound_args
        if key in calls and isinstance(value, (bool, int, float, str)):
            if value != calls[key].get("default"):
                settings[key] = value
        elif "__keras_tensor__" in json.dumps(value, default=str):
            raise ProjectError(
                f"layer {name!r} ({cls}) is called with a tensor as {key!r}: a project "
                f"connects tensors by call argument only as {', '.join(CALL_TENSOR_ARGS)}."
            )
        else:
            dropped.append(key)
    if dropped:
        notes.append(
            f"layer {name!r} is called with {', '.join(sorted(dropped))}; the project "
            "calls it with its inputs and settings only."
        )
    return settings


def _nested_sequential(entry, node, names, notes, call: int = 0) -> tuple[list[dict], str]:
    """A Sequential model used as a layer, flattened: its layers in a chain from the
    outer source. Its call ``call`` > 0 (a shared model) is a chain of layers sharing the
    first call's. Returns the layers and the project name of the last one."""
    cls, cfg = _layer_config(entry)
    keras_name = entry.get("name", cfg.get("name"))
    sources = _node_sources(node, cls, names)
    if len(sources) != 1:
        raise ProjectError(
            f"nested model {keras_name!r} takes {len(sources)} inputs; only a "
            "nested Sequential with one input can be flattened."
        )
    owners = names.nested.setdefault(str(keras_name), {}) if call else None
    firsts: dict[str, str] = {}
    chain, previous = [], sources[0]
    for inner in cfg.get("layers", []):
        icls, icfg = _layer_config(inner)
        if icls == "InputLayer":
            continue
        if icls in _MODEL_CLASSES:
            raise ProjectError(
                f"nested model {keras_name!r} holds another model "
                f"{icfg.get('name')!r}: flatten it in Keras first."
            )
        inner_name = str(icfg.get("name"))
        if owners is not None and inner_name in owners:
            lay = {
                "name": names.add(f"{inner_name}_{call + 1}", f"{keras_name}@{call}/{inner_name}"),
                "shares": owners[inner_name],
            }
        else:
            lay = _layer(icls, icfg, names.add(icfg.get("name")), notes)
        firsts[inner_name] = lay["name"]
        lay["inbound"] = [previous]
        chain.append(lay)
        previous = lay["name"]
    if not chain:
        raise ProjectError(f"nested model {keras_name!r} has no layers.")
    if not call:
        names.nested[str(keras_name)] = firsts
    names.map[str(keras_name) + (f"@{call}" if call else "")] = previous
    notes.append(
        f"the nested Sequential model {keras_name!r} is flattened into its "
        f"{len(chain)} layers ({chain[0]['name']} … {chain[-1]['name']})"
        + (f", sharing the weights of its first call (call {call + 1})." if call else ".")
    )
    return chain, previous


def _nested_functional(entry, node, names, notes, call: int = 0) -> list[dict]:
    """A functional model used as a layer, flattened: its inputs read the outer sources,
    its layers join the project; its name stands for its first output and ``name:k``
    for output k (``name@n`` for its call n > 0, whose layers share the first call's)."""
    cls, cfg = _layer_config(entry)
    keras_name = entry.get("name", cfg.get("name"))
    sources = _node_sources(node, cls, names)
    inner_inputs = _endpoints(cfg.get("input_layers"))
    inner_outputs = _endpoints(cfg.get("output_layers"))
    if len(sources) != len(inner_inputs) or not inner_outputs:
        raise ProjectError(
            f"nested model {keras_name!r} has {len(inner_inputs)} input(s) fed by "
            f"{len(sources)} and {len(inner_outputs)} output(s): only a nested "
            "model with outputs, called on all its inputs, can be flattened."
        )
    outer = dict(names.map)  # inner names live only inside the nested model
    for inner_name, source in zip(inner_inputs, sources):
        names.map[str(inner_name)] = source
    owners = names.nested.get(str(keras_name)) if call else None
    chain = []
    for inner in cfg.get("layers", []):
        icls, _icfg = _layer_config(inner)
        if icls == "InputLayer":
            continue
        chain += _graph_entry(inner, names, notes, owners, call)
    ends = [names.get(out) for out in inner_outputs]
    inner_map = dict(names.map)
    names.map.clear()
    names.map.update(outer)
    if not call:
        names.nested[str(keras_name)] = inner_map
    key = str(keras_name) + (f"@{call}" if call else "")
    names.map[key] = ends[0]
    for index, end in enumerate(ends[1:], start=1):
        names.map[f"{key}:{index}"] = end
    notes.append(
        f"the nested model {keras_name!r} is flattened into its {len(chain)} layers"
        + (f", sharing the weights of its first call (call {call + 1})." if call else ".")
    )
    return chain


def _graph_entry(entry, names, notes, owners=None, outer_call: int = 0) -> list[dict]:
    """The project layers for one entry of a functional model's "layers" (not an input):
    one per call of the layer; every call after the first ``shares`` the first's layer.
    ``owners`` (inside the further call ``outer_call`` of a nested model): the first call's
    project names, by Keras name, which these calls share."""
    cls, cfg = _layer_config(entry)
    keras_name = entry.get("name", cfg.get("name"))
    nodes = entry.get("inbound_nodes", [])
    if not isinstance(nodes, list) or not nodes:
        raise ProjectError(
            f"layer {keras_name!r} ({cls}) is not called in the model's graph: call it on "
            "a tensor or remove it in Keras, and export again."
        )
    result: list[dict] = []
    for call, node in enumerate(nodes):
        key = str(keras_name) + (f"@{call}" if call else "")
        suffix = call + 1 + outer_call
        label = keras_name if not call and owners is None else f"{keras_name}_{suffix}"
        if _is_op(entry):
            result += _op_layers(entry, names.add(label, key), node, names, notes)
            continue
        if cls == "Sequential":
            result += _nested_sequential(entry, node, names, notes, call)[0]
            continue
        if cls in ("Functional", "Model"):
            result += _nested_functional(entry, node, names, notes, call)
            continue
        sources, by_keyword = _node_refs(node, names)
        if not sources:
            raise ProjectError(f"layer {keras_name!r} has no input in the model's graph.")
        owner = (
            owners.get(str(keras_name))
            if owners is not None
            else names.map.get(str(keras_name))
            if call
            else None
        )
        if owner is not None:
            layer = {"name": names.add(label, key), "shares": owner}
            settings = _call_settings(cls, node, layer["name"], notes)
            if settings:
                notes.append(
                    f"layer {layer['name']!r} shares {owner!r} and is called with "
                    f"{', '.join(sorted(settings))}; the project calls it with the "
                    "settings of its first call."
                )
        else:
            layer = _layer(cls, cfg, names.add(label, key), notes)
            layer["config"].update(_call_settings(cls, node, layer["name"], notes))
        layer["inbound"] = sources
        if by_keyword:
            layer["inbound_args"] = by_keyword
        result.append(layer)
    if len(nodes) > 1 and owners is None and cls in catalogue.LAYERS:
        notes.append(
            f"layer {keras_name!r} is called {len(nodes)} times (shared weights): the "
            "project holds one layer and its further call sites, which share it."
        )
    return result


def _functional(config, layers, names, notes):
    inputs, entries = [], []
    for entry in layers:
        cls, cfg = _layer_config(entry)
        keras_name = entry.get("name", cfg.get("name"))
        if cls == "InputLayer":
            inputs.append(_input(cfg, names.add(keras_name), notes))
        else:
            entries += _graph_entry(entry, names, notes)
    if not inputs:
        raise ProjectError("the functional model has no InputLayer.")
    by_name = {i["name"]: i for i in inputs}
    order = [names.get(n) for n in _endpoints(config.get("input_layers"))]
    listed = set(order)
    inputs = [by_name[n] for n in order if n in by_name] + [
        i for i in inputs if i["name"] not in listed
    ]
    outputs = [names.get(n) for n in _endpoints(config.get("output_layers"))]
    for out in outputs:
        if out in by_name:
            raise ProjectError(
                f"output {out!r} is an input passed straight through: a project's "
                "outputs are layers."
            )
    entries, outputs = _single_outputs(entries, outputs, names, notes)
    previous = inputs[0]["name"]
    for layer in entries:  # leave out "inbound" where it is the implicit previous entry
        if layer["inbound"] == [previous]:
            del layer["inbound"]
        previous = layer["name"]
    return inputs, entries, outputs


def _single_outputs(entries: list[dict], outputs: list[str], names, notes):
    """A project's output is a whole layer, all its outputs. A model output that is one
    output of a layer with several (an LSTM's state_h with return_state, ``"enc:1"``) is
    given its own Identity layer reading it, so the model's outputs stay the same."""
    from builder.checker import output_names

    by_name = {lay["name"]: lay for lay in entries}
    result = []
    for out in outputs:
        node, _, index = out.partition(":")
        lay = by_name.get(node) or {}
        config = lay.get("config") or {}
        several = config.get("return_state") or config.get("return_attention_scores")
        if not index and not several:
            result.append(out)
            continue
        k = int(index or 0)
        label = output_names(lay.get("class_name", ""), config, k + 1)[k]
        name = names.add(f"{node}_{label}", f"{out}#output")
        entries.append({"name": name, "class_name": "Identity", "config": {}, "inbound": [out]})
        notes.append(
            f"the model's output {label} of {node!r} ({out!r}) is the output of an "
            f"Identity layer {name!r}: a project's outputs are whole layers."
        )
        result.append(name)
    return entries, result
