"""The layer catalogue: every layer type the builder offers, and its parameters, as data.

`catalogue.json` (next to this module) holds one entry per Keras layer class, keyed by the
class name exactly. Each entry says how many inputs the layer takes, which input rank Keras
accepts (rank *including* the batch axis), a card summary template, an example input and
its parameters. Parameters use Keras keyword names exactly and carry their own type,
default (Keras' default) or `required` + `example`, limits, label and help; forms are
generated from them.

Parameter types and the keys they use (beyond name, type, label, help, and `default` or
`required: true` + `example`; `nullable: true` also allows null, shown as `null_label`):

    int, float   min, max (inclusive; min_exclusive / max_exclusive make them strict)
    bool         -
    choice       choices (strings, may include null)
    str          -
    ints         list of ints: length, min (per element), scalar_ok (3 means [3, 3]),
                 permutation (Permute dims: 1..n once each), start_end ([start, end] pair)
    shape        list of positive ints; allow_infer lets one entry be -1 (Reshape)
    padding      int, [rows, cols] or [[top, bottom], [left, right]]: length, min
    axis         non-zero int (0 is the batch axis); list_ok allows a list, length fixes it
    layer        {"class_name": one of allowed, "config": {...}}, validated recursively

Entry keys: category, label, help, inputs {min, max}, input_rank {min, max} (null = no
limit), summary (a str.format template over parameter names), example_input (one shape
per input, without the batch axis), input_dtype (only Embedding: "int32"), params,
check_cost (what building the layer once costs a check, a Dense layer being 1: measured by
``python bench/bench_caps.py --costs``; absent = 1; a wrapper's own part, its wrapped
layer counted on top; see ``check_cost`` and ``limits.MAX_CHECK_BUILDS``).

This module only reads JSON: it never imports Keras, TensorFlow or Streamlit and never
evaluates anything it reads. Treat `LAYERS` and `CATEGORIES` as read-only; functions that
hand out configs return fresh copies.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from builder import fields, limits
from builder.errors import ProblemList
from builder.values import is_int, is_number

__all__ = [
    "CATEGORIES",
    "LAYERS",
    "PARAM_TYPES",
    "CatalogueError",
    "CatalogueKeyError",
    "categories",
    "default_config",
    "get",
    "input_description",
    "palette",
    "param",
    "summary",
    "validate_config",
]

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")

PARAM_TYPES = (
    "int",
    "float",
    "bool",
    "choice",
    "str",
    "ints",
    "shape",
    "padding",
    "axis",
    "layer",
    "initializer",
    "regularizer",
    "constraint",
    "values",
    "any",
)
_PARAM_KEYS = {
    "name",
    "type",
    "default",
    "required",
    "example",
    "min",
    "max",
    "min_exclusive",
    "max_exclusive",
    "choices",
    "nullable",
    "null_label",
    "label",
    "help",
    "length",
    "scalar_ok",
    "allow_infer",
    "permutation",
    "list_ok",
    "allowed",
    "start_end",
    "advanced",
    "call",
}
_LAYER_KEYS = {
    "category",
    "label",
    "help",
    "inputs",
    "input_rank",
    "summary",
    "example_input",
    "input_dtype",
    "params",
    "input_names",
    "call_style",
    "example_config",
    "check_cost",
}


class CatalogueError(ValueError):
    """catalogue.json itself is malformed (a bug in the data, not in a user's project)."""


class CatalogueKeyError(KeyError):
    """A layer class name or parameter name that the catalogue does not know.

    A KeyError so that `except KeyError` works, but printed as a plain sentence
    (KeyError would otherwise show the message in quotes).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------- loading


def _param_problems(cls: str, entry: dict) -> list[str]:
    """What is malformed in the parameter specs of one catalogue entry."""
    names = set()
    problems: list[str] = []
    for p in entry.get("params", []):
        where = f"{cls}.{p.get('name')}"
        if p.get("name") in names:
            problems.append(f"{where}: listed twice")
        names.add(p.get("name"))
        if set(p) - _PARAM_KEYS:
            problems.append(f"{where}: unknown keys {sorted(set(p) - _PARAM_KEYS)}")
        if p.get("type") not in PARAM_TYPES:
            problems.append(f"{where}: type {p.get('type')!r} is not one of {PARAM_TYPES}")
        if p.get("required") is True:
            if "example" not in p or "default" in p:
                problems.append(f"{where}: a required parameter needs an example and no default")
        elif "default" not in p:
            problems.append(f"{where}: needs a default or required: true")
        if p.get("type") == "choice" and not p.get("choices"):
            problems.append(f"{where}: a choice needs choices")
        if not p.get("label") or not p.get("help"):
            problems.append(f"{where}: label and help must not be empty")
    return problems


def _load(path: Path = CATALOGUE_PATH) -> tuple[list[dict], _Layers]:
    """Read and structurally check the catalogue. Pure JSON: nothing is executed."""
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    if data.get("version") != 1:
        raise CatalogueError(
            f"{path.name}: unsupported version {data.get('version')!r}, expected 1"
        )
    cats = data["categories"]
    cat_ids = [c["id"] for c in cats]
    layers = data["layers"]
    problems: list[str] = []
    for cls, entry in layers.items():
        extra = set(entry) - _LAYER_KEYS
        if extra:
            problems.append(f"{cls}: unknown keys {sorted(extra)}")
        if entry.get("category") not in cat_ids:
            problems.append(f"{cls}: category {entry.get('category')!r} is not one of {cat_ids}")
        for key in ("label", "help", "summary"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                problems.append(f"{cls}: {key} must be a non-empty string")
        for key in ("inputs", "input_rank"):
            if set(entry.get(key, {})) != {"min", "max"}:
                problems.append(f"{cls}: {key} must have exactly min and max")
        if not entry.get("example_input"):
            problems.append(f"{cls}: example_input is missing")
        cost = entry.get("check_cost", 1)
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 < cost <= 100:
            problems.append(f"{cls}: check_cost must be a number in (0, 100]")
        problems += _param_problems(cls, entry)
    if problems:
        raise CatalogueError(f"{path.name} is malformed: " + "; ".join(problems))
    return cats, _Layers(layers, data.get("aliases", {}))


class _Layers(dict):
    """The catalogue's entries by Keras class name. Keras' aliases (MaxPool2D for
    MaxPooling2D, Convolution2D for Conv2D, ...) are found too, but iteration, len and
    the palette list each class once, under its catalogue name."""

    def __init__(self, entries: dict, aliases: dict):
        super().__init__(entries)
        self.aliases = {a: c for a, c in aliases.items() if c in entries}

    def _key(self, key):
        return self.aliases.get(key, key) if isinstance(key, str) else key

    def __contains__(self, key) -> bool:
        return super().__contains__(self._key(key))

    def __getitem__(self, key):
        return super().__getitem__(self._key(key))

    def get(self, key, default=None):
        return super().get(self._key(key), default)


def _load_extras(path: Path = CATALOGUE_PATH) -> tuple[dict, dict]:
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    return data.get("keras_objects", {}), data.get("aliases", {})


CATEGORIES, LAYERS = _load()
KERAS_OBJECTS, ALIASES = _load_extras()


# ---------------------------------------------------------------------------- lookup


def _did_you_mean(word: str, options) -> str:
    close = fields.closest(word, options)
    return f"did you mean '{close}'?" if close else ""


def _unknown_layer_message(class_name: Any) -> str:
    hint = _did_you_mean(class_name, LAYERS)
    if hint:
        return f"Unknown layer type {class_name!r}: {hint}"
    return f"Unknown layer type {class_name!r}: choose one of {', '.join(LAYERS)}."


def get(class_name: str) -> dict:
    """The catalogue entry for a Keras layer class name; CatalogueKeyError (a KeyError) if
    unknown."""
    try:
        return LAYERS[class_name]
    except (KeyError, TypeError):
        raise CatalogueKeyError(_unknown_layer_message(class_name)) from None


def param(class_name: str, name: str) -> dict:
    """The parameter spec `name` of a layer; KeyError naming the known parameters if absent."""
    entry = get(class_name)
    for p in entry["params"]:
        if p["name"] == name:
            return p
    known = [p["name"] for p in entry["params"]]
    hint = _did_you_mean(name, known)
    raise CatalogueKeyError(
        f"{class_name} has no parameter {name!r}"
        + (f"; {hint}" if hint else ".")
        + f" Known parameters: {', '.join(known) or 'none'}."
    )


def categories() -> list[dict]:
    """[{id, label}] in display order."""
    return [dict(c) for c in CATEGORIES]


def palette() -> list[dict]:
    """[{class_name, label, category, help}] grouped by category, in catalogue order within one."""
    return [
        {"class_name": cls, "label": e["label"], "category": e["category"], "help": e["help"]}
        for cat in CATEGORIES
        for cls, e in LAYERS.items()
        if e["category"] == cat["id"]
    ]


def check_cost(class_name: str, config: Any) -> float:
    """What building this layer once costs a shape check, a Dense layer being 1: the
    entry's ``check_cost`` (measured; 1 when absent or the class is unknown), plus that of
    the layers it wraps (``layer``, ``backward_layer``).

    >>> check_cost("Bidirectional", {"layer": {"class_name": "LSTM", "config": {"units": 4}}})
    7.0
    """
    entry = LAYERS.get(class_name) if isinstance(class_name, str) else None
    cost = float((entry or {}).get("check_cost", 1))
    for key in ("layer", "backward_layer"):
        inner = config.get(key) if isinstance(config, dict) else None
        if isinstance(inner, dict):
            cost += check_cost(inner.get("class_name"), inner.get("config"))
    return cost


def default_config(class_name: str) -> dict:
    """A small valid config for a new layer: required parameters set to their examples.

    Optional parameters are omitted (Keras applies its own default), e.g.
    default_config("Dense") == {"units": 64}.
    """
    entry = get(class_name)
    config = {p["name"]: copy.deepcopy(p["example"]) for p in entry["params"] if p.get("required")}
    # settings whose Keras default is None but which need a value (num_tokens)
    config.update(copy.deepcopy(entry.get("example_config", {})))
    return config


_RANK_WORDS = {
    1: "single numbers (one per sample)",
    2: "vectors (features)",
    3: "sequences (steps, features)",
    4: "images (height, width, channels)",
    5: "volumes (depth, height, width, channels)",
}


def input_description(rank: int) -> str:
    """Plain words for a tensor rank *including* the batch axis: 4 -> 'images (height, width,
    channels)'."""
    return _RANK_WORDS.get(rank, f"rank-{rank} tensors")


# ---------------------------------------------------------------------------- display


def _fmt_number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _fmt_value(p: dict, v: Any) -> str:
    """How one parameter value is shown on a card: [3, 3] -> '3×3', True -> 'yes'."""
    ptype = p.get("type")
    if v is None:
        return p.get("null_label", "none")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if ptype == "layer" and isinstance(v, dict):
        inner = v.get("class_name", "?")
        if isinstance(inner, str) and inner in LAYERS and isinstance(v.get("config"), dict):
            return f"{inner} ({summary(inner, v['config'])})"
        return str(inner)
    if ptype == "ints" and is_int(v) and p.get("length") and not p.get("start_end"):
        v = [v] * p["length"]  # kernel_size 5 on Conv2D means 5×5
    if not isinstance(v, (list, tuple)):
        return _fmt_number(v)
    if p.get("start_end"):
        return "/".join(_fmt_number(x) for x in v)
    if p.get("permutation"):
        return "(" + ", ".join(_fmt_number(x) for x in v) + ")"
    if ptype == "axis":
        return ", ".join(_fmt_number(x) for x in v)
    if ptype == "padding" and any(isinstance(x, (list, tuple)) for x in v):
        return "×".join(
            "/".join(_fmt_number(y) for y in x) if isinstance(x, (list, tuple)) else _fmt_number(x)
            for x in v
        )
    return "×".join(_fmt_number(x) for x in v)


class _CardValues(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def summary(class_name: str, config: dict) -> str:
    """Short card text from the entry's template, e.g. Conv2D -> '32 filters 3×3, relu'.

    Parameters missing from `config` show their default; missing required ones show '?'.
    """
    entry = get(class_name)
    config = config if isinstance(config, dict) else {}
    values = _CardValues()
    for p in entry["params"]:
        if p["name"] in config:
            values[p["name"]] = _fmt_value(p, config[p["name"]])
        elif "default" in p:
            values[p["name"]] = _fmt_value(p, p["default"])
    # Templates say "{units} units": one of anything is singular ("1 unit", "1 filter").
    return re.sub(r"(?<![\d.])1 (\w+?)s\b", r"1 \1", entry["summary"].format_map(values))


# ---------------------------------------------------------------------------- validation


def _show(v: Any) -> str:
    """A received value as the user wrote it in the project JSON."""
    try:
        return json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(v)


def _bounds(p: dict) -> str:
    """' ≥ 1', ' from 0 to 1', ' ≥ 0 and < 1' for the parameter's limits ('' when unlimited)."""
    lo, hi = p.get("min"), p.get("max")
    lo_op = ">" if p.get("min_exclusive") else "≥"
    hi_op = "<" if p.get("max_exclusive") else "≤"
    if lo is not None and hi is not None:
        if lo_op == "≥" and hi_op == "≤":
            return f" from {_fmt_number(lo)} to {_fmt_number(hi)}"
        return f" {lo_op} {_fmt_number(lo)} and {hi_op} {_fmt_number(hi)}"
    if lo is not None:
        return f" {lo_op} {_fmt_number(lo)}"
    if hi is not None:
        return f" {hi_op} {_fmt_number(hi)}"
    return ""


_in_bounds = fields.in_bounds


def _expected(p: dict) -> str:
    """What a valid value looks like, as words: 'an integer ≥ 1', 'a list of 2 integers ≥ 1'."""
    t = p["type"]
    if t == "int":
        return "an integer" + _bounds(p)
    if t == "float":
        return "a number" + _bounds(p)
    if t == "bool":
        return "true or false"
    if t == "str":
        return "a text"
    if t == "choice":
        return "one of " + ", ".join(_show(c) for c in p["choices"])
    if t == "ints":
        n = p.get("length")
        each = "integers" + _bounds({"min": p.get("min")})
        lst = f"a list of {n} {each}" if n else f"a list of {each}"
        return f"an integer{_bounds({'min': p.get('min')})} or {lst}" if p.get("scalar_ok") else lst
    if t == "shape":
        infer = " (one entry may be -1)" if p.get("allow_infer") else ""
        return "a list of positive integers" + infer
    if t == "padding":
        m = _bounds({"min": p.get("min")})
        return f"an integer{m}, [rows, columns] or [[top, bottom], [left, right]] of integers{m}"
    if t == "axis":
        if p.get("list_ok"):
            n = p.get("length")
            return "a non-zero integer axis or a list of " + (f"{n} " if n else "") + "such axes"
        return "a non-zero integer axis (negative counts from the end)"
    if t == "layer":
        allowed = (
            "any catalogue layer" if p["allowed"] == ["*"] else "one of " + ", ".join(p["allowed"])
        )
        return '{"class_name": ..., "config": {...}} with class_name ' + allowed
    if t in _OBJECT_KINDS:
        kind = _OBJECT_KINDS[t]
        names = KERAS_OBJECTS.get(kind, [])
        snake = [n for n in names if n.islower()]
        return (
            f"the name of a Keras {t} (e.g. {', '.join(_show(n) for n in snake[:4])}) or "
            f'{{"class_name": ..., "config": {{...}}}} with a keras.{kind} class name'
        )
    if t == "values":
        return (
            'a list of values such as ["the", "a", "movie"] (never a file path: '
            "netbuilder reads no file a project names)"
        )
    if t == "any":
        return "a JSON value Keras accepts"
    raise CatalogueError(f"unknown parameter type {t!r}")


_OBJECT_KINDS = {
    "initializer": "initializers",
    "regularizer": "regularizers",
    "constraint": "constraints",
}


def _keras_object_ok(kind: str, v: Any) -> bool:
    """A Keras initializer/regularizer/constraint as JSON: its registered name, or the
    serialised {"class_name", "config"} form (module keras.*, as Keras writes it)."""
    names = KERAS_OBJECTS.get(kind, [])
    if isinstance(v, str):
        return v in names
    if not isinstance(v, dict) or set(v) - {"class_name", "config", "module", "registered_name"}:
        return False
    if v.get("class_name") not in names or not isinstance(v.get("config", {}), dict):
        return False
    module = v.get("module", "keras")
    registered = v.get("registered_name")
    return (
        isinstance(module, str)
        and (module == "keras" or module.startswith("keras."))
        and (registered is None or registered == v["class_name"])
    )


def _value_ok(p: dict, v: Any) -> bool:  # noqa: C901
    """Whether `v` fits the parameter's type and limits (layer values are checked separately)."""
    if v is None:
        return bool(p.get("nullable"))
    t = p["type"]
    if t == "int":
        return is_int(v) and _in_bounds(p, v)
    if t == "float":
        return is_number(v) and _in_bounds(p, v)
    if t == "bool":
        return isinstance(v, bool)
    if t == "str":
        return isinstance(v, str)
    if t == "choice":
        return any(v == c and type(v) is type(c) for c in p["choices"])
    lo = p.get("min")
    if t == "ints":
        if is_int(v):
            return bool(p.get("scalar_ok")) and (lo is None or v >= lo)
        if (
            not isinstance(v, list)
            or not v
            or not all(is_int(x) and (lo is None or x >= lo) for x in v)
        ):
            return False
        if p.get("length") is not None and len(v) != p["length"]:
            return False
        return not p.get("permutation") or sorted(v) == list(range(1, len(v) + 1))
    if t == "shape":
        if not isinstance(v, list) or not v or not all(is_int(x) for x in v):
            return False
        infer = [x for x in v if x == -1]
        if len(infer) > (1 if p.get("allow_infer") else 0):
            return False
        return all(x >= 1 for x in v if x != -1)
    if t == "padding":

        def ok(x):
            return is_int(x) and (lo is None or x >= lo)

        if ok(v):
            return True
        n = p.get("length", 2)
        if not isinstance(v, list) or len(v) != n:
            return False
        if all(ok(x) for x in v):
            return True
        return all(isinstance(x, list) and len(x) == 2 and all(ok(y) for y in x) for x in v)
    if t == "axis":
        if is_int(v):
            return v != 0
        if not p.get("list_ok") or not isinstance(v, list) or not v:
            return False
        if not all(is_int(x) and x != 0 for x in v):
            return False
        if p.get("length") is not None:  # one axis per input (Dot): they may repeat
            return len(v) == p["length"]
        return len(set(v)) == len(v)  # axes normalized together (LayerNormalization): distinct
    if t == "layer":
        return isinstance(v, dict)
    if t in _OBJECT_KINDS:
        return _keras_object_ok(_OBJECT_KINDS[t], v)
    if t == "values":
        # A vocabulary or weights as data. Keras also takes a file path here and would
        # read that file: a project must never make the app read a file it names.
        return (
            isinstance(v, list)
            and len(v) <= limits.MAX_VOCABULARY
            and all(isinstance(x, (str, int, float)) and _json_value(x) for x in v)
        )
    if t == "any":
        return _json_value(v)
    raise CatalogueError(f"unknown parameter type {t!r}")


def _json_value(v: Any, depth: int = 0) -> bool:
    """Plain JSON data (what a project file can hold), nested at most 8 deep."""
    if depth > 8:
        return False
    if v is None or isinstance(v, (bool, str)):
        return True
    if isinstance(v, (int, float)):
        return is_number(v) or isinstance(v, bool)
    if isinstance(v, list):
        return all(_json_value(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _json_value(x, depth + 1) for k, x in v.items())
    return False


def _fix(p: dict, v: Any) -> str:
    """The fix for an invalid value: a close match, a hint about the form, or an example."""
    t = p["type"]
    if t == "choice" and isinstance(v, str):
        close = fields.closest(v, [c for c in p["choices"] if isinstance(c, str)])
        if close:
            return f"did you mean {_show(close)}?"
    if t == "int" and isinstance(v, float) and v.is_integer() and _in_bounds(p, v):
        return f"write {int(v)} without the decimal point"
    if t == "ints" and p.get("permutation") and isinstance(v, list):
        return f"list each axis 1…{len(v)} exactly once, e.g. {_show(p.get('example'))}"
    if t == "shape" and isinstance(v, list) and v.count(-1) > 1:
        return "only one entry may be -1"
    if t == "axis" and (v == 0 or (isinstance(v, list) and 0 in v)):
        return "axis 0 is the batch axis; count feature axes from 1, or use -1 for the last axis"
    if p.get("required"):
        return f"e.g. {_show(p['example'])}"
    return f"Keras' default is {_show(p['default'])}"


def _received(v: Any) -> str:
    if isinstance(v, bool):
        return " (true/false is not a number)"
    if isinstance(v, str):
        return " (a text)"
    return ""


def _check_param(class_name: str, p: dict, v: Any, path: str) -> list[str]:
    name = p["name"]
    if p["type"] == "layer" and isinstance(v, dict):
        return _check_wrapped_layer(class_name, p, v, path)
    if _value_ok(p, v):
        return []
    nullable = " or null" if p.get("nullable") and p["type"] != "choice" else ""
    received = _received(v) if p["type"] not in ("bool", "choice", "str") else ""
    fix = _fix(p, v)
    end = "" if fix.endswith("?") else "."
    return [
        f"{path}: {name}={_show(v)} is not allowed{received}: {class_name} {name} must be "
        f"{_expected(p)}{nullable}; {fix}{end}"
    ]


def _check_wrapped_layer(class_name: str, p: dict, v: dict, path: str) -> list[str]:
    """Bidirectional's `layer`: {"class_name": one of allowed, "config": {...}}, validated
    recursively."""
    allowed = p["allowed"]
    errors = []
    extra = sorted(set(v) - {"class_name", "config", "module", "registered_name", "build_config"})
    if extra:
        errors.append(
            f"{path}: unexpected key(s) {', '.join(extra)}; the wrapped layer is "
            f'{{"class_name": ..., "config": {{...}}}} only.'
        )
    inner = v.get("class_name")
    if allowed == ["*"]:
        if not isinstance(inner, str) or inner not in LAYERS:
            hint = _did_you_mean(inner, LAYERS)
            errors.append(
                f"{path}.class_name: {class_name} wraps a catalogue layer, got "
                f"{_show(inner)}; {hint or 'e.g. ' + _show(p['example']) + '.'}"
            )
            return errors
    elif inner not in allowed:
        errors.append(
            f"{path}.class_name: {class_name} wraps a recurrent layer "
            f"({', '.join(allowed)}), got {_show(inner)}; e.g. "
            f"{_show(p['example'])}."
        )
        return errors
    inner_config = v.get("config", {})
    errors += validate_config(inner, inner_config, path)
    return errors


def validate_config(class_name: str, config: Any, where: str = "layer") -> list[str]:
    """Check a layer config against the catalogue without running anything.

    Returns one sentence per problem, each starting with the field path
    (`where` + `.config.<name>`, e.g. `model.layers[2].config.units`), what was received
    and how to fix it. An empty list means the config is valid.
    """
    if not isinstance(class_name, str) or class_name not in LAYERS:
        return [f"{where}.class_name: {_unknown_layer_message(class_name)}"]
    entry = LAYERS[class_name]
    base = f"{where}.config"
    if not isinstance(config, dict):
        return [
            f"{base}: must be an object mapping parameter names to values, got "
            f"{_show(config)}; e.g. {_show(default_config(class_name))}."
        ]
    specs = {p["name"]: p for p in entry["params"]}
    errors = ProblemList(cap=limits.MAX_PROBLEMS + 1)
    try:
        for key in config:
            if key == "name" and isinstance(config[key], str):
                continue  # Keras' own layer name, as get_config() writes it: the project's wins
            if key not in specs:
                hint = _did_you_mean(key, specs)
                known = ", ".join(specs) if specs else "none (it has no settings)"
                errors.append(
                    f"{base}.{key}: {class_name} has no parameter {str(key)!r}"
                    + (f"; {hint}" if hint else ".")
                    + f" Known parameters: {known}."
                )
        for name, p in specs.items():
            path = f"{base}.{name}"
            if name not in config:
                if p.get("required"):
                    errors.append(
                        f"{path}: missing; {class_name} needs {name} "
                        f"({p['help'].rstrip('.')}), e.g. "
                        f"{name}={_show(p['example'])}."
                    )
                continue
            errors.extend(_check_param(class_name, p, config[name], path))
    except ProblemList.Full:  # a config with thousands of unknown keys: enough said
        pass
    return list(errors)
