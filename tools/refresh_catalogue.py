"""Compare builder/catalogue.json with Keras' own layer classes and print the differences.

The catalogue is typed as data, so this script holds it against the installed Keras:

- every layer is a class in `keras.layers`;
- every parameter is a keyword of the class' `__init__` (or a `get_config()` key for
  classes that take `**kwargs`), required exactly when Keras has no default, and its
  `default` equals Keras' default (tuples compared as JSON lists);
- every layer builds from `default_config` on its `example_input`; every value of every
  `choice` parameter, and each written form of list-like values (3 or [3, 3]), is
  accepted by Keras;
- `input_rank` agrees with Keras: one rank below `min` and one above `max` are refused.

It also lists, for information, the keyword arguments Keras has that the catalogue leaves
out; with `--docs`, Keras' own docstring line for each catalogued parameter, to write help
text from. Layers are built on symbolic inputs only (no data, no forward pass).

Usage (from the repository root):

    python -m tools.refresh_catalogue            # every layer; exit status 1 on differences
    python -m tools.refresh_catalogue Dense LSTM # some layers
    python -m tools.refresh_catalogue --docs Conv2D
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
from typing import Any

from builder import catalogue

REQUIRED = "<required>"

# Keyword arguments every layer has that are internals, not settings a learner picks.
INTERNAL = {
    "name",
    "dtype",
    "trainable",
    "autocast",
    "input_dim_unused",
    "data_format",
    "seed",
    "lora_rank",
    "lora_alpha",
    "quantization_config",
    "weights",
    "noise_shape",
}

# Layers whose parameters depend on the input's size or rank, so that a rank other than
# the example's cannot build with the example config for reasons other than the rank.
SHAPE_DEPENDENT = {"Reshape", "Permute"}


def load_keras():
    """keras, imported on first use (TensorFlow's C++ log kept quiet)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def plain(value: Any) -> Any:
    """Keras defaults as JSON would hold them: tuples become lists, recursively."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


def keras_arguments(layer_cls) -> dict[str, Any]:
    """Keyword -> default (REQUIRED when Keras has none) of a layer class' __init__, with the
    keywords of the base classes it hands **kwargs on to, and those Keras pops from
    **kwargs (see tools.catalogue_gen)."""
    from tools import catalogue_gen

    if layer_cls is load_keras().layers.Layer:
        params = list(inspect.signature(layer_cls.__init__).parameters.values())[1:]
        return {
            p.name: REQUIRED if p.default is inspect.Parameter.empty else plain(p.default)
            for p in params
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
    return {
        k: REQUIRED if v is catalogue_gen.REQUIRED else plain(v)
        for k, v in catalogue_gen._signature(layer_cls).items()
    }


def takes_kwargs(layer_cls) -> bool:
    from tools import catalogue_gen

    return catalogue_gen.takes_kwargs(layer_cls)


def _call_names(class_name: str) -> set[str]:
    try:
        return {p["name"] for p in catalogue.get(class_name)["params"] if p.get("call")}
    except KeyError:
        return set()


def make_layer(class_name: str, config: dict):
    """A Keras layer from a catalogue config; wrapped `layer` dicts become layers, and call
    arguments (use_causal_mask, ...) are left out (see `call_kwargs`)."""
    load_keras()
    calls = _call_names(class_name)
    kwargs = {k: v for k, v in config.items() if k not in calls}
    for key in ("layer", "backward_layer"):
        if isinstance(kwargs.get(key), dict) and "class_name" in kwargs[key]:
            inner = kwargs[key]
            kwargs[key] = make_layer(inner["class_name"], inner.get("config", {}))
    from builder.checker import keras_class

    return keras_class(class_name)(**kwargs)


def call_kwargs(class_name: str, config: dict) -> dict:
    calls = _call_names(class_name)
    return {k: v for k, v in config.items() if k in calls}


def call_layer(class_name: str, layer, inputs: list, config: dict):
    """Call a layer the way the catalogue says: positional (query, value, key) or a list."""
    kwargs = call_kwargs(class_name, config)
    if catalogue.get(class_name).get("call_style") == "positional":
        return layer(*inputs, **kwargs)
    return layer(inputs if len(inputs) > 1 else inputs[0], **kwargs)


def symbolic_inputs(class_name: str, shapes: list[list[int]]):
    """keras.Input tensors for shapes without the batch axis ([] gives a rank-1 input)."""
    keras = load_keras()
    dtype = catalogue.get(class_name).get("input_dtype", "float32")
    return [keras.Input(shape=tuple(s), dtype=dtype) for s in shapes]


def build(class_name: str, config: dict, shapes: list[list[int]] | None = None):
    """Call the layer on symbolic inputs (the example input by default); returns the output."""
    keras = load_keras()
    shapes = catalogue.get(class_name)["example_input"] if shapes is None else shapes
    inputs = symbolic_inputs(class_name, shapes)
    with keras.StatelessScope():  # weights get shapes but no values: nothing is allocated
        return call_layer(class_name, make_layer(class_name, config), inputs, config)


# ---------------------------------------------------------------------------- checks


def check_class(class_name: str) -> list[str]:
    if not hasattr(load_keras().layers, class_name):
        return [f"{class_name}: keras.layers has no class {class_name}"]
    return []


def _default_layer_config(class_name: str) -> dict:
    """get_config() of the layer built from default_config; {} when Keras refuses that config
    (check_builds reports why)."""
    try:
        return make_layer(class_name, catalogue.default_config(class_name)).get_config()
    except Exception:
        return {}


def _config_keys(class_name: str) -> set[str]:
    return set(_default_layer_config(class_name))


def check_names(class_name: str) -> list[str]:
    """Every catalogued parameter is a Keras keyword (or get_config key); required iff Keras
    has no default."""
    keras = load_keras()
    layer_cls = getattr(keras.layers, class_name)
    args = keras_arguments(layer_cls)
    diffs = []
    config_keys = None
    base = keras_arguments(keras.layers.Layer) if takes_kwargs(layer_cls) else {}
    for p in catalogue.get(class_name)["params"]:
        name = p["name"]
        if p.get("call"):
            if name not in inspect.signature(layer_cls.call).parameters:
                diffs.append(f"{class_name}.{name}: not an argument of {class_name}.call")
            continue
        if name not in args and name in base:
            continue
        if name in args:
            if bool(p.get("required")) != (args[name] is REQUIRED):
                keras_says = "requires it" if args[name] is REQUIRED else "has a default"
                diffs.append(
                    f"{class_name}.{name}: catalogue says "
                    f"required={bool(p.get('required'))}, Keras {keras_says}"
                )
            continue
        if config_keys is None:
            config_keys = _config_keys(class_name) if takes_kwargs(layer_cls) else set()
        if name not in config_keys:
            diffs.append(
                f"{class_name}.{name}: not a keyword of keras.layers.{class_name} "
                f"(Keras has: {', '.join(args) or 'only **kwargs'})"
            )
    return diffs


def check_defaults(class_name: str) -> list[str]:
    """Every catalogued default equals Keras' default."""
    layer_cls = getattr(load_keras().layers, class_name)
    args = keras_arguments(layer_cls)
    config = None
    diffs = []
    base = keras_arguments(load_keras().layers.Layer) if takes_kwargs(layer_cls) else {}
    for p in catalogue.get(class_name)["params"]:
        if "default" not in p:
            continue
        if p.get("call"):
            keras_default = plain(inspect.signature(layer_cls.call).parameters[p["name"]].default)
        elif p["name"] not in args and p["name"] in base:
            keras_default = base[p["name"]]
        elif p["name"] in args:
            keras_default = args[p["name"]]
        else:  # only in get_config(): the value a default-built layer reports
            if config is None:
                config = _default_layer_config(class_name)
            keras_default = plain(config.get(p["name"], REQUIRED))
        if keras_default != p["default"] or type(keras_default) is not type(p["default"]):
            diffs.append(
                f"{class_name}.{p['name']}: catalogue default {p['default']!r}, "
                f"Keras default {keras_default!r}"
            )
    return diffs


def check_builds(class_name: str) -> list[str]:
    """The default config builds on the example input and gives a shape tuple."""
    try:
        out = build(class_name, catalogue.default_config(class_name))
    except Exception as exc:  # report, do not stop: the point is to list every difference
        example = catalogue.get(class_name)["example_input"]
        return [
            f"{class_name}: default config does not build on {example}: "
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        ]
    if not isinstance(out.shape, tuple):
        return [f"{class_name}: output shape {out.shape!r} is not a tuple"]
    return []


def _choice_values(class_name: str) -> dict[str, list]:
    """Parameter -> every value to try: choice lists, and each layer Bidirectional may wrap."""
    values = {}
    for p in catalogue.get(class_name)["params"]:
        if p["type"] == "choice":
            values[p["name"]] = list(p["choices"])
        elif p["type"] == "layer":
            allowed = (
                [p["example"]["class_name"]]
                if p["allowed"] == ["*"] and "example" in p
                else []
                if p["allowed"] == ["*"]
                else p["allowed"]
            )
            if allowed:
                values[p["name"]] = [
                    {"class_name": c, "config": catalogue.default_config(c)} for c in allowed
                ]
    return values


def check_choices(class_name: str) -> list[str]:
    """Every value of every choice parameter (and each layer Bidirectional may wrap) builds.

    Values are tried in rounds, all choice parameters at once (round i sets each to its
    i-th value), so a layer with several long lists builds a few times, not dozens; only
    a round Keras refuses is retried one parameter at a time to name the culprit.
    """
    values = _choice_values(class_name)
    base = catalogue.default_config(class_name)
    diffs = []
    # data_format decides which axis is the channel axis, so an example input in one layout
    # cannot show the other: the constructor must accept each value.
    for value in values.pop("data_format", []):
        try:
            make_layer(class_name, {**base, "data_format": value})
        except Exception as exc:
            diffs.append(
                f"{class_name}.data_format={value!r}: Keras refuses it: "
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
            )
    for i in range(max(map(len, values.values()), default=0)):
        round_ = {name: vals[i % len(vals)] for name, vals in values.items()}
        try:
            build(class_name, {**base, **round_})
            continue
        except Exception:  # find which value(s) of this round Keras refuses
            pass
        for name, value in round_.items():
            try:
                build(class_name, {**base, name: value})
            except Exception as exc:
                diffs.append(
                    f"{class_name}.{name}={value!r}: Keras refuses it: "
                    f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
                )
    return sorted(set(diffs))


def _forms(p: dict) -> list:
    """Every written form the catalogue accepts for one value of a list-like parameter:
    kernel_size 3 and [3, 3]; padding 1, [1, 1] and [[1, 1], [1, 1]]; axes 1 and [1, 1]."""
    value = p["example"] if p.get("required") else p["default"]
    if value is None:
        return []
    first = value
    while isinstance(first, list):
        first = first[0]
    n = p.get("length")
    if p["type"] == "ints" and n and p.get("scalar_ok"):
        return [first, [first] * n]
    if p["type"] == "padding":
        return [first, [first] * n, [[first, first]] * n]
    if p["type"] == "axis" and p.get("list_ok"):
        return [first, [first] * (n or 1)]
    return []


def check_value_forms(class_name: str) -> list[str]:
    """Keras accepts each form validate_config accepts (scalar or list, flat or nested)."""
    diffs = []
    for p in catalogue.get(class_name)["params"]:
        for value in _forms(p):
            config = {**catalogue.default_config(class_name), p["name"]: value}
            try:
                build(class_name, config)
            except Exception as exc:
                diffs.append(
                    f"{class_name}.{p['name']}={value!r}: the catalogue accepts this "
                    f"form, Keras refuses it: {type(exc).__name__}: "
                    f"{str(exc).strip().splitlines()[0]}"
                )
    return diffs


def _probe_shape(entry: dict, rank: int) -> list[int]:
    """A shape without the batch axis for a tensor of `rank` (batch included): the example's
    trailing axes, padded with 8s at the front."""
    example = entry["example_input"][0]
    want = rank - 1
    return ([8] * max(0, want - len(example)) + list(example))[-want:] if want else []


def check_input_rank(class_name: str) -> list[str]:
    """Keras refuses one rank below input_rank.min and one above input_rank.max, and
    builds at the bounds themselves (up to rank 5)."""
    entry = catalogue.get(class_name)
    lo, hi = entry["input_rank"]["min"], entry["input_rank"]["max"]
    n = len(entry["example_input"])
    config = catalogue.default_config(class_name)
    diffs = []

    def builds(rank: int) -> str | None:
        try:
            build(class_name, config, [_probe_shape(entry, rank)] * n)
        except Exception as exc:
            return str(exc).strip().splitlines()[0] or type(exc).__name__
        return None

    if lo > 1 and builds(lo - 1) is None:
        diffs.append(f"{class_name}: input_rank.min is {lo} but Keras also builds on rank {lo - 1}")
    if hi is not None and hi < 7 and builds(hi + 1) is None:
        diffs.append(f"{class_name}: input_rank.max is {hi} but Keras also builds on rank {hi + 1}")
    if class_name not in SHAPE_DEPENDENT:
        for rank in sorted({lo, hi if hi is not None else 5}):
            error = builds(rank)
            if error is not None:
                diffs.append(
                    f"{class_name}: input_rank allows rank {rank} but Keras refuses it: {error}"
                )
    return diffs


CHECKS = (
    check_names,
    check_defaults,
    check_builds,
    check_choices,
    check_value_forms,
    check_input_rank,
)


def compare(class_name: str) -> list[str]:
    """Every difference between the catalogue entry and Keras, as sentences."""
    missing = check_class(class_name)
    if missing:
        return missing
    return [d for check in CHECKS for d in check(class_name)]


# ---------------------------------------------------------------------------- information


def missing_classes() -> list[str]:
    """keras.layers classes that are config-only but not in the catalogue (nor an alias)."""
    import inspect as _inspect

    from tools.catalogue_gen import SKIP

    keras = load_keras()
    missing = []
    for name in dir(keras.layers):
        cls = getattr(keras.layers, name)
        if (
            _inspect.isclass(cls)
            and issubclass(cls, keras.layers.Layer)
            and name not in SKIP
            and name not in catalogue.LAYERS
        ):
            missing.append(name)
    return missing


def unexposed(class_name: str) -> list[str]:
    """Keras keyword arguments the catalogue leaves out (internals excluded)."""
    listed = {p["name"] for p in catalogue.get(class_name)["params"]}
    args = keras_arguments(getattr(load_keras().layers, class_name))
    return [
        f"{k}={'required' if v is REQUIRED else repr(v)}"
        for k, v in args.items()
        if k not in listed and k not in INTERNAL
    ]


def keras_doc(class_name: str, name: str) -> str:
    """The first sentence Keras' docstring gives for argument `name` ('' if none)."""
    doc = inspect.getdoc(getattr(load_keras().layers, class_name)) or ""
    m = re.search(rf"^\s*{re.escape(name)}:\s*(.+?)(?=^\s*\w+:|^\s*$|\Z)", doc, re.M | re.S)
    if not m:
        return ""
    text = " ".join(m.group(1).split())
    return text.split(". ")[0].rstrip(".") + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("layers", nargs="*", help="class names (default: every catalogued layer)")
    parser.add_argument(
        "--docs", action="store_true", help="show Keras' docstring for each parameter"
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="regenerate builder/catalogue.json from Keras, keeping the curated parts",
    )
    args = parser.parse_args(argv)
    if args.write:
        from tools import catalogue_gen

        data = catalogue_gen.generate()
        catalogue_gen.write(data)
        print(
            f"wrote {catalogue_gen.CATALOGUE}: {len(data['layers'])} layers, "
            f"{len(data['aliases'])} aliases"
        )
        return 0
    names = args.layers or list(catalogue.LAYERS)
    for name in names:
        try:
            catalogue.get(name)
        except KeyError as exc:
            parser.error(str(exc))
    differences = 0
    for class_name in names:
        diffs = compare(class_name)
        differences += len(diffs)
        status = "differs" if diffs else "agrees with Keras"
        print(f"{class_name}: {status}")
        for d in diffs:
            print(f"  DIFF {d}")
        extra = [] if check_class(class_name) else unexposed(class_name)
        if extra:
            print(f"  not in the catalogue: {', '.join(extra)}")
        if args.docs and not check_class(class_name):
            for p in catalogue.get(class_name)["params"]:
                print(f"  {p['name']}: catalogue: {p['help']}")
                doc = keras_doc(class_name, p["name"]) or "(no docstring)"
                print(f"  {' ' * len(p['name'])}  keras:     {doc}")
    print(f"{len(names)} layers checked, {differences} difference(s).")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
