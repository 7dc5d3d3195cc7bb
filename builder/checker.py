"""Shape checking that agrees with Keras, because Keras does it.

``shapes(project)`` walks the graph in ``topology`` order, builds each layer with Keras
on symbolic inputs (no data, no weights initialised) and records the output shape and the
parameter count Keras reports. When Keras refuses a layer, its terse message is translated
into a sentence that names the layer, what it needs, what it received and the fix, and
mechanical fixes are offered as data (``builder.keras_errors``; see ``builder.fixes``).

Layers after an error are still reported: the failing layer is treated as if it passed its
input through unchanged, and everything computed that way is marked ``tentative``.

Each layer's verdict is cached by (class, config, input shapes), so after an edit only the
changed layer and those downstream of it are rebuilt: live feedback stays fast.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from typing import Any

from builder import advice, catalogue, limits, settings, text_layers, topology
from builder.keras_errors import translate
from builder.project import INPUT_DTYPES, ProjectError, check_counts, shape_ok, validate
from builder.results import CheckResult, LayerReport, _full
from builder.results import fmt_shape as fmt_shape  # imported from here by pages and tests

# --------------------------------------------------------------------------- Keras side

_CACHE: OrderedDict[str, tuple] = OrderedDict()
_CACHE_SIZE = 4096
_CACHE_LOCK = threading.Lock()


def _keras():
    import keras  # imported lazily: first paint must not wait for TensorFlow

    return keras


# Values Keras wants as lists (or arrays), not tuples.
_KEEP_LISTS = {
    "dims",
    "axis",
    "axes",
    "vocabulary",
    "idf_weights",
    "bin_boundaries",
    "mean",
    "variance",
}


def keras_class(class_name: str):
    """keras.layers' class for a catalogue name or one of Keras' aliases of it
    (GroupedQueryAttention, the name Keras serialises, is keras.layers.GroupQueryAttention)."""
    layers = _keras().layers
    found = getattr(layers, class_name, None)
    if found is None:
        found = getattr(layers, catalogue.LAYERS.aliases.get(class_name, ""), None)
    if found is None:
        raise ValueError(f"keras.layers has no layer {class_name!r}")
    return found


def split_call(class_name: str, config: dict) -> tuple[dict, dict]:
    """(constructor arguments, call arguments): use_causal_mask and return_attention_scores
    are settings of the project but arguments of the layer's call in Keras."""
    entry = catalogue.LAYERS.get(class_name) or {}
    calls = {p["name"] for p in entry.get("params", []) if p.get("call")}
    init = {k: v for k, v in config.items() if k not in calls}
    return init, {k: v for k, v in config.items() if k in calls}


def make_layer(class_name: str, config: dict, name: str | None = None):
    """A Keras layer from a catalogue class name and JSON config (no code is executed).

    A wrapped layer ({"class_name", "config"} under ``layer`` or ``backward_layer``) is made
    the same way; call arguments are left out (see ``split_call`` and ``call_layer``).
    """
    cls = keras_class(class_name)
    kwargs, _ = split_call(class_name, config)
    kwargs = dict(kwargs)
    for key in ("layer", "backward_layer"):
        inner = kwargs.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("class_name"), str):
            kwargs[key] = make_layer(inner["class_name"], inner.get("config", {}))
    for key, value in list(kwargs.items()):
        if isinstance(value, list) and key not in _KEEP_LISTS:
            kwargs[key] = _tuplify(value)
        elif key == "dims":
            kwargs[key] = tuple(value)
    if name is not None:
        kwargs["name"] = name  # the project's layer name, over a "name" from get_config()
    return cls(**kwargs)


def call_layer(class_name: str, layer, tensors: list, config: dict, call_tensors=None):
    """Call ``layer`` on its inbound tensors as Keras expects: attention layers that take
    (query, value, key) positionally get them so, merge layers a list, others one tensor.
    ``call_tensors`` are the tensors its call takes by keyword (``initial_state``, ``mask``:
    a tensor or a list of them, as the project's ``inbound_args`` holds them)."""
    _, kwargs = split_call(class_name, config)
    kwargs = {**kwargs, **(call_tensors or {})}
    entry = catalogue.LAYERS.get(class_name) or {}
    if entry.get("call_style") == "positional":
        return layer(*tensors, **kwargs)
    return layer(tensors if len(tensors) > 1 else tensors[0], **kwargs)


def pick_output(out, index: int):
    """Output ``index`` of a layer's call (a tensor, or a list/tuple for several)."""
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return outs[index]


def call_refs(layer: dict) -> dict:
    """The project's ``inbound_args`` of ``layer`` (a reference or a list of them per
    argument), or {}."""
    args = layer.get("inbound_args")
    return args if isinstance(args, dict) else {}


def output_names(class_name: str, config: dict, count: int) -> list[str]:
    """Keras' names for a layer's outputs, for ports and messages: an LSTM with
    return_state gives (output, state_h, state_c), a GRU (output, state), attention with
    return_attention_scores (output, attention_scores); otherwise output, output_1, ...

    >>> output_names("LSTM", {"return_state": True}, 3)
    ['output', 'state_h', 'state_c']
    """
    inner = config.get("layer") if isinstance(config.get("layer"), dict) else None
    base = inner.get("class_name") if inner else class_name
    states = ["state_h", "state_c"] if "LSTM" in str(base) else ["state"]
    if count > 1 and class_name == "Bidirectional":
        per = (count - 1) // 2
        names = ["output"] + [f"forward_{n}" for n in states[:per]]
        names += [f"backward_{n}" for n in states[:per]]
    elif count > 1 and config.get("return_attention_scores"):
        names = ["output", "attention_scores"]
    elif count > 1:
        names = ["output"] + states
    else:
        names = ["output"]
    names = names[:count]
    return names + [f"output_{k}" for k in range(len(names), count)]


def _tuplify(value):
    return tuple(_tuplify(v) if isinstance(v, list) else v for v in value)


def _run_layer(
    class_name: str,
    config: dict,
    in_specs: list[tuple],
    call_specs: dict | None,
    first: tuple | None,
    key: str,
) -> tuple:
    """Build one layer on symbolic inputs, or take it from the cache under ``key``
    (``_layer_key`` of the other arguments, which the caller has already counted).

    Returns (out_specs, params, trainable, error_text, exception_kind); out_specs is a list
    of (shape, dtype). Weights are created in a StatelessScope without initialisation, so a
    50-layer check allocates nothing. ``call_specs``: the specs of the tensors the call
    takes by keyword (one spec or a list per argument). ``first``: for a further call of a
    shared layer, the (in_specs, call_specs) of its first call, which builds the weights
    this call must fit, as in Keras.
    """
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = _run_layer_uncached(class_name, config, in_specs, call_specs or {}, first)
    with _CACHE_LOCK:
        _CACHE[key] = result
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _layer_key(class_name, config, in_specs, call_specs, first) -> str:
    """What a layer build depends on: the cache's key, and one build of a check's budget."""
    parts = [class_name, config, in_specs, call_specs, first]
    return json.dumps(parts, sort_keys=True, default=str)


def _run_layer_uncached(class_name, config, in_specs, call_specs, first):
    keras = _keras()

    def tensor(spec):
        shape, dtype, batch = spec
        return keras.KerasTensor(_full(shape, batch), dtype=dtype)

    def tensors_of(specs, by_keyword):
        args = [tensor(s) for s in specs]
        kwargs = {
            k: [tensor(s) for s in v] if isinstance(v, list) else tensor(v)
            for k, v in by_keyword.items()
        }
        return args, kwargs

    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    mark = len(pending)
    try:
        with StatelessScope(initialize_variables=False):
            try:
                layer = make_layer(class_name, config)
            except Exception as exc:  # Keras refuses the settings themselves
                return (None, 0, 0, _clean(exc), "config")
            if first is not None:
                args, kwargs = tensors_of(first[0], first[1] or {})
                try:
                    call_layer(class_name, layer, args, config, kwargs)
                except Exception as exc:  # the first call reports this itself
                    return (None, 0, 0, _clean(exc), "call")
            tensors, kwargs = tensors_of(in_specs, call_specs)
            try:
                out = call_layer(class_name, layer, tensors, config, kwargs)
            except Exception as exc:
                return (None, 0, 0, _clean(exc), "call")
            outs = out if isinstance(out, (list, tuple)) else [out]
            outs = [o for o in outs if o is not None]
            # Some layers (Equalization) hand their input tensor itself back when built
            # symbolically: Keras then refuses them after another layer ("part of a cycle").
            same = any(o is t for o in outs for t in tensors)
            specs = [
                (tuple(o.shape[1:]), str(o.dtype), o.shape[0] if o.shape else None) for o in outs
            ]
            if (
                class_name == "MultiHeadAttention"
                and len(specs) == 2
                and config.get("attention_axes") is None
            ):
                # Keras' symbolic shape of the scores uses the query's length twice; the
                # scores it computes are (heads, query steps, key steps)
                query, key = in_specs[0][0], in_specs[-1][0]
                scores = (layer.num_heads, *query[:-1], *key[:-1])
                specs[1] = (scores, specs[1][1], specs[1][2])
            params = int(sum(math.prod(w.shape) for w in layer.weights))
            trainable = int(sum(math.prod(w.shape) for w in layer.trainable_weights))
            return (specs, params, trainable, None, "passthrough" if same else None)
    finally:
        del pending[mark:]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _clean(exc: Exception) -> str:
    """Keras' message without colour codes, call-site boilerplate and argument dumps."""
    text = _ANSI.sub("", str(exc))
    text = re.sub(r"Exception encountered when calling [\w.]+\(\)\.\s*", "", text)
    text = text.split("Arguments received by")[0]
    return " ".join(text.split()).strip() or type(exc).__name__


# --------------------------------------------------------------------------- the walk


def _problems_by_layer(err: ProjectError, project: dict) -> tuple[dict[int, list[str]], list[str]]:
    per_layer: dict[int, list[str]] = {}
    general: list[str] = []
    for fld, msg in err.problems:
        m = re.match(r"model\.layers\[(\d+)\]", fld or "")
        if m:
            per_layer.setdefault(int(m.group(1)), []).append(
                f"{fld[m.end() + 1 :] or 'layer'}: {msg}" if fld[m.end() :] else msg
            )
        else:
            general.append(f"{fld}: {msg}" if fld else msg)
    return per_layer, general


def _safe_order(project: dict) -> list[dict]:
    """The layers in ``topology`` order (a cycle's layers too, with its closing connection
    ignored); file order when names are too broken to order."""
    model = project["model"]
    layers = [lay for lay in model.get("layers", []) if isinstance(lay, dict)]
    try:
        by_name = {lay["name"]: lay for lay in layers}
        if len(by_name) == len(layers):
            return [by_name[name] for name in topology.analyse(model).order]
    except (AttributeError, KeyError, TypeError):
        pass
    return layers


def _checkable(project) -> bool:
    """Whether an invalid project is still shaped enough to be checked layer by layer: the
    sections are objects, inputs and layers are lists of objects with text names and
    ``inbound`` lists of text. Anything less is reported by its validation problems only."""
    if not isinstance(project, dict) or not isinstance(project.get("model"), dict):
        return False
    model = project["model"]
    entries = model.get("inputs"), model.get("layers")
    if not all(isinstance(items, list) for items in entries):
        return False
    try:
        check_counts(model)  # over a cap, Keras would pay for every layer and connection
    except ProjectError:
        return False
    for item in entries[0] + entries[1]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return False
        inbound = item.get("inbound")
        if inbound is not None and not (
            isinstance(inbound, list) and all(isinstance(n, str) for n in inbound)
        ):
            return False
    if not isinstance(model.get("outputs", []), list):
        return False
    return all(isinstance(project.get(key, {}), dict) for key in ("compile", "data", "fit"))


def check(project: dict, data_info: Any = None) -> CheckResult:
    """Per-layer shapes, parameter counts and errors with fixes (``shapes``), then the
    advice on top (``builder.advice.attach``).

    Never raises for a bad project: every problem becomes a layer error or an entry of
    ``errors``. ``data_info`` (from ``builder.data``) lets the advice compare the last layer
    with the number of classes; when omitted it is looked up from the project's data
    settings when that is cheap.
    """
    result, project = _shapes(project)
    advice.attach(project, result, data_info)
    return result


def shapes(project: dict) -> CheckResult:
    """Per-layer shapes, parameter counts and errors with fixes, from Keras; no advice.

    Never raises for a bad project: every problem becomes a layer error or an entry of
    ``errors``.
    """
    return _shapes(project)[0]


def _shapes(project: dict) -> tuple[CheckResult, dict]:  # noqa: C901
    """``shapes`` and the project it checked (defaults filled in when it is valid)."""
    per_layer: dict[int, list[str]] = {}
    general: list[str] = []
    try:
        project = validate(project)
    except ProjectError as err:
        per_layer, general = _problems_by_layer(err, project)
        if not _checkable(project):
            return (
                CheckResult(valid=False, inputs=[], layers=[], errors=general or [str(err)]),
                project,
            )

    model = project["model"]
    specs: dict[str, tuple[list[tuple], bool]] = {}  # name -> (out specs, tentative)
    inputs_json = []
    for inp in model["inputs"]:
        # An input refused by validate (a negative or absurd dimension, ...) gives no
        # tensor: the layers reading it say so instead of Keras raising.
        if (
            not isinstance(inp, dict)
            or not shape_ok(inp.get("shape"))
            or not isinstance(inp.get("name"), str)
        ):
            continue
        shape = tuple(inp["shape"])
        dtype = inp.get("dtype", "float32")
        dtype = dtype if dtype in INPUT_DTYPES else "float32"
        batch = inp.get("batch_size")
        batch = (
            batch if isinstance(batch, int) and not isinstance(batch, bool) and batch > 0 else None
        )
        specs[inp["name"]] = ([(shape, dtype, batch)], False)
        inputs_json.append({"name": inp["name"], "shape": _full(shape, batch), "dtype": dtype})
    input_names = {inp.get("name") for inp in model["inputs"] if isinstance(inp, dict)}
    index_of = {id(lay): i for i, lay in enumerate(model["layers"])}
    by_name = {lay.get("name"): lay for lay in model["layers"] if isinstance(lay, dict)}
    try:
        inbound = topology.inbound_of(model)
    except (AttributeError, KeyError, TypeError):
        inbound = {}
    reports: list[LayerReport] = []
    # A shared layer's first call checked: (in_specs, call_specs) by the owner's name.
    first_calls: dict[str, tuple] = {}
    budget = _Builds()
    out_of_range: list[str] = []

    def lookup(ref: str):
        return _lookup(specs, ref, out_of_range)

    for lay in _safe_order(project):
        name, cls = lay.get("name"), lay.get("class_name")
        srcs = inbound.get(name, [])
        report = LayerReport(name=str(name), class_name=str(cls), inbound=list(srcs))
        reports.append(report)
        own = per_layer.get(index_of.get(id(lay)), [])
        out_of_range.clear()
        known = [lookup(s) for s in srcs]
        by_keyword = call_refs(lay)
        flat, call_specs = _keyword_specs(by_keyword, lookup)
        in_specs = [k[0] for k in known if k is not None]
        report.tentative = any(k is None or k[1] for k in known + flat)
        report.input_shapes = [_full(s, b) for s, _, b in in_specs]
        entry = catalogue.LAYERS.get(cls) if isinstance(cls, str) else None
        if entry is not None:
            try:
                report.summary = catalogue.summary(cls, lay.get("config", {}))
            except Exception:  # a summary template must never break checking
                report.summary = ""
        if own:
            report.error = f"{cls} '{name}': " + " ".join(own)
        elif entry is None:
            report.error = f"'{name}' has an unknown layer type {cls!r}."
        elif len(in_specs) != len(srcs) or not srcs or None in flat:
            report.error = _unavailable(lay, srcs, known, lookup, out_of_range, specs, by_name)
        else:
            lo, hi = entry["inputs"]["min"], entry["inputs"]["max"]
            text_refusal = text_layers.numbers_into_text_layer(
                lay, [d for _, d, _ in in_specs], srcs, input_names
            )
            if len(in_specs) < lo or (hi is not None and len(in_specs) > hi):
                report.error = topology.arity_message(cls, name, len(in_specs), lo, hi)
            elif text_refusal:
                report.error, report.fixes = text_refusal
            else:
                out, params, trainable, refusal, kind = _run_call(
                    lay, in_specs, call_specs, first_calls, budget
                )
                if kind == "passthrough" and any(s not in input_names for s in srcs):
                    refusal, kind = (
                        "Keras returns its input tensor itself here and cannot "
                        "place it after another layer in a model (it reports a "
                        "cycle); put it first, right after the input.",
                        "call",
                    )
                elif kind == "passthrough" and name in (model.get("outputs") or []):
                    refusal, kind = (
                        "Keras returns its input tensor itself here, so a model cannot "
                        "end with it (it reports a cycle); add a layer after it.",
                        "call",
                    )
                if kind == "budget":
                    report.error = f"{cls} '{name}' was not checked: {refusal}"
                elif refusal is None:
                    specs[name] = (out, report.tentative)
                    out_shapes = [_full(s, b) for s, _, b in out]
                    report.output_shape = out_shapes[0] if len(out_shapes) == 1 else out_shapes
                    report.params = params
                    report.trainable_params = trainable
                    report.non_trainable_params = params - trainable
                    continue
                else:
                    producers = [by_name.get(s) for s in srcs]
                    report.error, report.fixes = translate(
                        lay, [s for s, _, _ in in_specs], refusal, kind, producers
                    )
        # Let the rest of the graph be checked as if this layer passed its input through.
        if in_specs:
            specs[name] = ([in_specs[0]], True)

    errors = list(general)
    result = CheckResult(valid=False, inputs=inputs_json, layers=reports, errors=errors)
    result.total_params = sum(r.params for r in reports)
    result.trainable_params = sum(r.trainable_params for r in reports)
    result.non_trainable_params = result.total_params - result.trainable_params
    if result.total_params > limits.MAX_PARAMS:
        biggest = max(reports, key=lambda r: r.params)
        errors.append(
            f"the model has {result.total_params:,} parameters; netbuilder builds at "
            f'most {limits.MAX_PARAMS:,} (README, "Limits and safety"). The '
            f"largest layer is '{biggest.name}' ({biggest.params:,}): use fewer "
            "units or filters there, or add pooling before it."
        )
    result.valid = (
        not errors and all(r.ok for r in reports) and bool(reports) and bool(model.get("outputs"))
    )
    if not reports:
        result.errors.append(
            "the model has no layers yet: drag a layer from the palette (Dense is a good start)."
        )
    result.memory_bytes = estimate_memory(project, result)
    return result, project


def _unavailable(lay, srcs, known, lookup, out_of_range, specs, by_name) -> str:
    """Why a layer cannot be checked: it reads an output its source lacks, or a source
    refused upstream."""
    cls, name = lay["class_name"], lay["name"]
    if out_of_range:
        return _range_message(cls, name, out_of_range[0], specs, by_name)
    missing = [s for s, k in zip(srcs, known) if k is None]
    missing += [ref for _, ref in topology.call_sources(lay) if lookup(ref) is None]
    return (
        f"{cls} '{name}' cannot be checked: its input "
        f"{', '.join(repr(m) for m in missing) or '(none)'} is not available "
        "(fix the problem upstream first)."
    )


def _lookup(specs: dict, ref: str, out_of_range: list):
    """(spec, tentative) of a source reference, or None when it is not available (a
    reference to an output the layer does not have is added to ``out_of_range``)."""
    node, index = topology.split_ref(ref)
    got = specs.get(node)
    if got is None:
        return None
    if index >= len(got[0]):
        out_of_range.append(ref)
        return None
    return got[0][index], got[1]


class _Builds:
    """The distinct layer builds of one check, each weighted by its catalogue cost, against
    ``limits.MAX_CHECK_BUILDS``. Counted whether or not the process' cache holds the build,
    so a project's verdict does not depend on what was checked before it. Once a build is
    refused every later new one is too: nothing is built on the shapes passed through the
    layers left unchecked."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.spent = 0.0
        self.first_refused: str | None = None

    def refusal(self, key: str, cost: float, name: str, class_name: str) -> str | None:
        """None when the build ``key`` fits (one already counted always does), else why
        the layer ``name`` is not built."""
        if key in self.seen:
            return None
        if self.first_refused is None and self.spent + cost <= limits.MAX_CHECK_BUILDS:
            self.seen.add(key)
            self.spent += cost
            return None
        if self.first_refused is not None:
            return f"past the check's build budget, as from '{self.first_refused}'."
        self.first_refused = name
        return (
            f"the model needs more than {limits.MAX_CHECK_BUILDS:,} layer builds to check "
            f"(each distinct layer setting and input shape is built once by Keras; a "
            f"{class_name} counts {cost:g}), and netbuilder stops there so that a check takes "
            'seconds (README, "Limits and safety"). Give repeated layers the same settings, '
            "or split the model into smaller ones."
        )


def _run_call(
    lay: dict, in_specs: list, call_specs: dict, first_calls: dict, budget: _Builds
) -> tuple:
    """``_run_layer`` for one call of ``lay``; a shared layer's further calls are checked
    on the weights its first call built, and count no parameters of their own. Past the
    check's ``budget`` the layer is not built: (None, 0, 0, why, "budget")."""
    group = lay.get("shares") or lay["name"]
    first = first_calls.get(group)
    class_name, config = lay["class_name"], lay.get("config", {})
    key = _layer_key(class_name, config, in_specs, call_specs, first)
    # A further call of a shared layer builds it for its first call too.
    cost = catalogue.check_cost(class_name, config) * (2 if first is not None else 1)
    refused = budget.refusal(key, cost, lay["name"], class_name)
    if refused:
        return None, 0, 0, refused, "budget"
    out, params, trainable, refusal, kind = _run_layer(
        class_name, config, in_specs, call_specs, first, key
    )
    if refusal is None and first is None:
        first_calls[group] = (in_specs, call_specs)
    if lay.get("shares"):  # the weights are counted once, on the shared layer
        params = trainable = 0
    return out, params, trainable, refusal, kind


def _keyword_specs(by_keyword: dict, lookup) -> tuple[list, dict]:
    """For a layer's tensor call arguments: every source's (spec, tentative) or None, and
    the specs by argument (one or a list, as the call takes them) of those all known."""
    known = {
        key: [lookup(r) for r in refs] if isinstance(refs, list) else lookup(refs)
        for key, refs in by_keyword.items()
    }
    flat = [k for v in known.values() for k in (v if isinstance(v, list) else [v])]
    specs = {
        key: [k[0] for k in v] if isinstance(v, list) else v[0]
        for key, v in known.items()
        if (all(v) if isinstance(v, list) else v)
    }
    return flat, specs


def _range_message(cls, name, ref: str, specs: dict, by_name: dict) -> str:
    """A layer reads output k of a layer that has fewer outputs."""
    node, index = topology.split_ref(ref)
    have = len(specs[node][0])
    producer = by_name.get(node) or {}
    config = producer.get("config") or {}
    known = output_names(str(producer.get("class_name")), config, have)
    entry = catalogue.LAYERS.get(producer.get("class_name")) or {}
    hint = (
        f"set return_state=True on '{node}' to get its states"
        if "return_state" in {p["name"] for p in entry.get("params", [])}
        and not config.get("return_state")
        else f"read '{node}' (its output) instead"
    )
    return (
        f"{cls} '{name}' reads output {index} of '{node}' ('{ref}'), which has "
        f"{have} output{'s' if have != 1 else ''} ({', '.join(known)}): {hint}."
    )


def estimate_memory(project: dict, result: CheckResult) -> int:
    """Rough bytes needed to train: weights, gradients and optimizer slots (float32), plus
    activations kept for backpropagation at the project's batch size."""
    comp, fit = settings.sections(project)
    opt = comp["optimizer"]
    slots = settings.OPTIMIZERS[opt["class_name"]]["slots"]
    if opt["class_name"] == "SGD" and opt["config"]["momentum"]:
        slots += 1
    weights = result.total_params * 4 * (2 + slots)
    batch = fit["batch_size"]
    per_sample = 0
    for r in result.layers:
        shapes = (
            r.output_shape
            if r.output_shape and isinstance(r.output_shape[0], list)
            else [r.output_shape]
            if r.output_shape
            else []
        )
        for s in shapes:
            per_sample += math.prod(d or 1 for d in s[1:])
    return int(weights + per_sample * 4 * 2 * batch)
