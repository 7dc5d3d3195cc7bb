"""The project file: one versioned JSON document (see docs/ARCHITECTURE.md).

The same plain dict is session state, the saved file, the input of the shape checker, the
model builder, code export and training. This module validates it and migrates old
versions; ``graph_order`` gives the layers in ``builder.topology``'s order (each after
everything it reads) and refuses the wiring faults topology finds.

Loading never executes code: only JSON is parsed and every field is checked against a
table of allowed keys and the layer catalogue. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

from builder import fields, limits, settings, topology
from builder.errors import ProblemList, ProjectError
from builder.topology import inbound_of
from builder.values import is_int, is_number

FORMAT = "netbuilder.project"
VERSION = 3
# A source reference: a layer or input name, optionally ":k" for the layer's output k.
REF_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(:[0-9]{1,2})?\Z")
# Call arguments that take tensors, connected by name (``inbound_args``); Keras checks
# that the layer's call accepts the one given.
CALL_TENSOR_ARGS = (
    "initial_state",
    "mask",
    "constants",
    "attention_mask",
    "query_mask",
    "value_mask",
    "key_mask",
)
# \A...\Z: a whole-string match even through .match() (``$`` accepts a final newline).
NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_FILE_BYTES = limits.MAX_PROJECT_BYTES

INPUT_DTYPES = (
    "float32",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float64",
    "int8",
    "int16",
    "uint8",
    "bool",
    "string",
)

_TOP_KEYS = {
    "format",
    "version",
    "name",
    "description",
    "model",
    "compile",
    "data",
    "fit",
    "experiment",
}
_MODEL_KEYS = {"inputs", "layers", "outputs"}
_INPUT_KEYS = {"name", "shape", "dtype", "batch_size", "position"}
_LAYER_KEYS = {"name", "class_name", "config", "inbound", "inbound_args", "shares", "position"}
_DATA_KEYS = {"dataset", "options", "chosen"}


# Validators of optional sections whose rules live in their own package, registered when
# ``builder`` is imported (``builder/__init__.py``): "experiment" ->
# ``builder.experiments.spec.validate_section``. Each takes (project, section) and returns
# ``(field, message)`` problems; it runs once the rest of the project is valid.
SECTION_VALIDATORS: dict = {}


def register_section(name: str, validator) -> None:
    """Let ``validate`` check the optional top-level section ``name`` with ``validator``."""
    SECTION_VALIDATORS[name] = validator


# --------------------------------------------------------------------------- defaults


def default_compile() -> dict:
    return settings.default_compile()


def default_fit() -> dict:
    return settings.default_fit()


def new_project(
    name: str = "Untitled",
    inputs: list[dict] | None = None,
    dataset: str = "digits",
    options: dict | None = None,
) -> dict:
    """An empty model whose input follows the chosen dataset (shape filled in by caller)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "description": "",
        "model": {
            "inputs": inputs or [{"name": "input", "shape": [64], "dtype": "float32"}],
            "layers": [],
            "outputs": [],
        },
        "compile": default_compile(),
        "data": {"dataset": dataset, "options": dict(options or {})},
        "fit": default_fit(),
    }


# --------------------------------------------------------------------------- helpers


_close = fields.did_you_mean


def _unknown_keys(obj: dict, allowed: set, where: str, problems: list) -> None:
    for key in obj:
        if key not in allowed:
            problems.append(
                (
                    f"{where}.{key}" if where else key,
                    f"unknown field '{key}'.{_close(key, allowed)} Remove it; allowed "
                    f"fields here are: {', '.join(sorted(allowed))}.",
                )
            )


def _known(value, table) -> bool:
    """``value in table`` for a name read from a file (a list or object is never a name)."""
    return isinstance(value, str) and value in table


def _need_dict(obj, where: str, problems: list) -> bool:
    if not isinstance(obj, dict):
        problems.append((where, f"must be a JSON object, got {type(obj).__name__}."))
        return False
    return True


# --------------------------------------------------------------------------- migration


def migrate(doc: dict) -> dict:
    """Bring an older project document to the current version (in place; returns it).

    Each step takes one version to the next and is never dropped, so a file of any older
    version opens:

    - 1 -> 2: version 2 adds the optional ``experiment`` section (see
      ``builder.experiments.spec``); a version-1 file has none, so only the number changes.
      A version-1 file that already holds an ``experiment`` section was not written by
      netbuilder and is refused. Version 1 read a missing ``compile.loss`` as ``mse`` and a
      missing ``fit.validation`` as no validation; version 2 fills missing settings from
      ``builder/settings.json``, so this step writes those two down to keep their meaning.
    - 2 -> 3: version 3 adds ``"name:k"`` references to a layer's output k, tensor call
      arguments (``inbound_args``) and shared layers (``shares``). A version-2 file uses
      none of them, so only the number changes; one that does was not written by
      netbuilder and is refused, naming the field.
    """
    version = doc.get("version")
    if is_int(version) and version > VERSION:
        raise ProjectError(
            f"this file is format version {version}, newer than this netbuilder understands "
            f"(up to {VERSION}). Update netbuilder (pip install -U -r requirements.txt) to "
            "open it.",
            "version",
        )
    if version == 1:
        if "experiment" in doc:
            raise ProjectError(
                'an "experiment" section needs format version 2: set '
                '"version": 2 (version-1 files have no experiments).',
                "experiment",
            )
        if isinstance(doc.get("compile"), dict):
            doc["compile"].setdefault("loss", "mse")
        if isinstance(doc.get("fit"), dict):
            doc["fit"].setdefault("validation", {"method": "none"})
        doc["version"] = 2
    if doc.get("version") == 2:
        model = doc.get("model")
        layers = model.get("layers") if isinstance(model, dict) else None
        for i, layer in enumerate(layers if isinstance(layers, list) else []):
            for key in ("inbound_args", "shares"):
                if isinstance(layer, dict) and key in layer:
                    raise ProjectError(
                        f'"{key}" needs format version 3: set "version": 3 (version-2 '
                        "files have no shared layers or tensor call arguments).",
                        f"model.layers[{i}].{key}",
                    )
        doc["version"] = 3
    return doc


# --------------------------------------------------------------------------- validation


def _validate_model(model, problems: list) -> None:  # noqa: C901
    from builder import catalogue

    if not _need_dict(model, "model", problems):
        return
    _unknown_keys(model, _MODEL_KEYS, "model", problems)
    inputs, layers, outputs = model.get("inputs"), model.get("layers"), model.get("outputs")
    names: dict[str, str] = {}

    if not isinstance(inputs, list) or not inputs:
        problems.append(
            (
                "model.inputs",
                'must be a non-empty list of inputs like {"name": "x", "shape": [784]}.',
            )
        )
        inputs = []
    check_counts(model)
    for i, inp in enumerate(inputs):
        where = f"model.inputs[{i}]"
        if not _need_dict(inp, where, problems):
            continue
        _unknown_keys(inp, _INPUT_KEYS, where, problems)
        _check_name(inp.get("name"), where, names, problems)
        shape = inp.get("shape")
        if not shape_ok(shape):
            problems.append(
                (
                    f"{where}.shape",
                    f"must be a list of up to 8 positive integers (or "
                    f"null for any length) without the batch axis, e.g. [784] or "
                    f"[28, 28, 1]; got {_short_json(shape)}.",
                )
            )
        elif math.prod(d for d in shape if d) > limits.MAX_INPUT_ELEMENTS:
            problems.append(
                (
                    f"{where}.shape",
                    f"{_short_json(shape)} is "
                    f"{math.prod(d for d in shape if d):,} numbers per sample; at most "
                    f"{limits.MAX_INPUT_ELEMENTS:,} are supported. Use a smaller input "
                    "(resize images, fewer words).",
                )
            )
        dtype = inp.get("dtype", "float32")
        if not _known(dtype, INPUT_DTYPES):
            problems.append(
                (
                    f"{where}.dtype",
                    f"{_short_json(dtype)} is not supported: use "
                    "'float32' for numbers or 'int32' for token ids fed to Embedding "
                    f"(also: {', '.join(INPUT_DTYPES[2:])}).",
                )
            )
        batch = inp.get("batch_size")
        if batch is not None and not (is_int(batch) and 0 < batch <= limits.MAX_INPUT_ELEMENTS):
            problems.append(
                (
                    f"{where}.batch_size",
                    f"must be a positive integer (a fixed batch "
                    f"size) or absent for any; got {_short_json(batch)}.",
                )
            )
        _check_position(inp, where, problems)

    if not isinstance(layers, list):
        problems.append(("model.layers", "must be a list of layers."))
        layers = []
    _fill_shared(layers, problems)
    for i, layer in enumerate(layers):
        where = f"model.layers[{i}]"
        if not _need_dict(layer, where, problems):
            continue
        _unknown_keys(layer, _LAYER_KEYS, where, problems)
        _check_name(layer.get("name"), where, names, problems)
        cls = layer.get("class_name")
        if not isinstance(cls, str) or cls not in catalogue.LAYERS:
            problems.append(
                (
                    f"{where}.class_name",
                    f"unknown layer type {_short_json(cls)}."
                    f"{_close(cls, catalogue.LAYERS)} Use one of the catalogue's Keras "
                    "class names, e.g. Dense, Conv2D, LSTM.",
                )
            )
        else:
            config = layer.get("config", {})
            if not isinstance(config, dict):
                problems.append(
                    (
                        f"{where}.config",
                        'must be a JSON object of Keras keyword arguments, e.g. {"units": 16}.',
                    )
                )
            else:
                problems.extend(_split(m) for m in catalogue.validate_config(cls, config, where))
        inbound = layer.get("inbound")
        if inbound is not None and (
            not isinstance(inbound, list)
            or not inbound
            or not all(isinstance(n, str) for n in inbound)
        ):
            problems.append(
                (
                    f"{where}.inbound",
                    "must be a non-empty list of layer or input "
                    f"names; got {_short_json(inbound)}. Remove it to take the previous "
                    "layer.",
                )
            )
        elif inbound is not None:
            _check_refs(inbound, f"{where}.inbound", problems)
        _check_call_args(layer.get("inbound_args"), f"{where}.inbound_args", problems)
        _check_position(layer, where, problems)

    if not isinstance(outputs, list) or not all(isinstance(n, str) for n in outputs):
        problems.append(("model.outputs", 'must be a list of layer names, e.g. ["d2"].'))
    elif layers and not outputs:
        problems.append(
            (
                "model.outputs",
                "names no output layer: add the last layer's name, "
                f'e.g. ["{layers[-1].get("name", "dense")}"].',
            )
        )
    else:
        layer_names = {
            lay.get("name")
            for lay in layers
            if isinstance(lay, dict) and isinstance(lay.get("name"), str)
        }
        for j, name in enumerate(outputs):
            if name not in layer_names:
                problems.append(
                    (
                        f"model.outputs[{j}]",
                        f"'{name}' is not a layer of this model.{_close(name, layer_names)}",
                    )
                )
        if len(set(outputs)) != len(outputs):
            problems.append(("model.outputs", "lists the same layer twice."))


def check_counts(model: dict) -> None:
    """ProjectError, before any per-entry work, for a model over a count cap: inputs,
    layers, outputs, what one layer reads (``MAX_INBOUND``) and connections in all
    (``MAX_CONNECTIONS``). Keras' cost grows with each layer and each connection (850 Add
    layers each reading every earlier one took minutes to check); the checker refuses to
    look layer by layer at a model over these caps."""
    for key, cap in (
        ("inputs", limits.MAX_INPUTS),
        ("layers", limits.MAX_LAYERS),
        ("outputs", limits.MAX_LAYERS),
    ):
        items = model.get(key)
        if isinstance(items, list) and len(items) > cap:
            raise ProjectError(
                f"the model has {len(items):,} {key}; netbuilder handles at most "
                f'{cap:,} (README, "Limits and safety"). Is this the right '
                "file?",
                f"model.{key}",
            )
    layers = model.get("layers")
    if not isinstance(layers, list):
        return
    total = 0
    for i, layer in enumerate(layers):
        inbound = layer.get("inbound") if isinstance(layer, dict) else None
        count = len(inbound) if isinstance(inbound, list) else 1
        if count > limits.MAX_INBOUND:
            raise ProjectError(
                f"{layer.get('class_name')} {_short_json(layer.get('name'))} reads "
                f"{count:,} layers; a layer may read at most {limits.MAX_INBOUND} "
                '(README, "Limits and safety"). Merge them in stages (e.g. Add layers '
                "of a few inputs each, then an Add of those).",
                f"model.layers[{i}].inbound",
            )
        total += count
    if total > limits.MAX_CONNECTIONS:
        raise ProjectError(
            f"the model has {total:,} connections between layers; netbuilder handles at "
            f'most {limits.MAX_CONNECTIONS:,} (README, "Limits and safety").',
            "model.layers",
        )


def _check_refs(refs: list, where: str, problems: list) -> None:
    for ref in refs:
        if not REF_RE.fullmatch(ref):
            problems.append(
                (
                    where,
                    f"{_short_json(ref)} is not a source: write a layer or input name, "
                    'or "name:k" for output k of a layer with several outputs (e.g. '
                    '"lstm_enc:1", its state_h).',
                )
            )


def _check_call_args(args, where: str, problems: list) -> None:
    """``inbound_args``: call arguments that take tensors, each one source or a list."""
    if args is None:
        return
    if not isinstance(args, dict) or not args:
        problems.append(
            (
                where,
                "must be an object of call arguments and their sources, e.g. "
                f'{{"initial_state": ["enc:1", "enc:2"]}}; got {_short_json(args)}.',
            )
        )
        return
    for key, value in args.items():
        if key not in CALL_TENSOR_ARGS:
            problems.append(
                (
                    f"{where}.{key}",
                    f"{_short_json(key)} is not a call argument that takes tensors: use "
                    f"one of {', '.join(CALL_TENSOR_ARGS)}.",
                )
            )
        elif isinstance(value, str):
            _check_refs([value], f"{where}.{key}", problems)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            _check_refs(value, f"{where}.{key}", problems)
        else:
            problems.append(
                (
                    f"{where}.{key}",
                    "must be a source name or a non-empty list of them, e.g. "
                    f'["enc:1", "enc:2"]; got {_short_json(value)}.',
                )
            )


def _fill_shared(layers: list, problems: list) -> None:
    """A layer entry with ``"shares": "owner"`` is another call of the layer ``owner``
    (the same weights): its class and settings are the owner's, copied in here so every
    reader sees a whole entry (any the file holds are replaced). The owner is an ordinary
    layer entry: sharing is one level deep."""
    by_name = {
        lay["name"]: lay
        for lay in layers
        if isinstance(lay, dict) and isinstance(lay.get("name"), str)
    }
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or "shares" not in layer:
            continue
        owner = layer["shares"]
        target = by_name.get(owner) if isinstance(owner, str) else None
        if target is None or target is layer or "shares" in target:
            why = (
                "names no layer of this model"
                if target is None
                else "is this layer itself"
                if target is layer
                else f"itself shares '{target.get('shares')}' (name that layer instead)"
            )
            problems.append(
                (
                    f"model.layers[{i}].shares",
                    f'{_short_json(owner)} {why}: "shares" names the layer whose '
                    "weights this call reuses.",
                )
            )
            continue
        layer["class_name"] = target.get("class_name")
        layer["config"] = copy.deepcopy(target.get("config", {}))


def shared_calls(model: dict) -> dict[str, list[str]]:
    """Each shared layer's other call sites: ``{"tower": ["tower_b"]}`` (file order)."""
    calls: dict[str, list[str]] = {}
    for layer in model.get("layers", []):
        if isinstance(layer, dict) and isinstance(layer.get("shares"), str):
            calls.setdefault(layer["shares"], []).append(layer["name"])
    return calls


def shape_ok(shape) -> bool:
    """An input shape without the batch axis: a list of at most 8 whole numbers (null for
    any length). [] is one number per sample, as in Keras. A 0 (an empty axis, which Keras
    builds) is refused: no sample can carry data through it, so training would fail later."""
    return (
        isinstance(shape, list)
        and len(shape) <= 8
        and all(d is None or (is_int(d) and 1 <= d <= limits.MAX_INPUT_ELEMENTS) for d in shape)
    )


_short_json = fields.short


def _split(message: str) -> tuple[str, str]:
    """Catalogue messages start with the field path; keep it as the problem's field."""
    head, sep, tail = message.partition(": ")
    if sep and head.startswith("model."):
        return head, tail
    return "", message


def _check_name(name, where: str, seen: dict, problems: list) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        problems.append(
            (
                f"{where}.name",
                f"{_short_json(name)} is not a valid name: use letters, "
                "digits and underscores, starting with a letter (e.g. dense_1).",
            )
        )
    elif name in seen:
        problems.append(
            (
                f"{where}.name",
                f"'{name}' is already used by {seen[name]}: names "
                "must be unique, rename one of them.",
            )
        )
    else:
        seen[name] = where


def _check_position(obj: dict, where: str, problems: list) -> None:
    pos = obj.get("position")
    if pos is not None and not (
        isinstance(pos, list) and len(pos) == 2 and all(is_number(v) for v in pos)
    ):
        problems.append(
            (
                f"{where}.position",
                "must be [x, y] numbers; remove it to lay the graph out automatically.",
            )
        )


def _validate_data(data, problems: list) -> None:
    if not _need_dict(data, "data", problems):
        return
    _unknown_keys(data, _DATA_KEYS, "data", problems)
    if not isinstance(data.get("dataset"), str):
        problems.append(("data.dataset", 'must name a dataset, e.g. "mnist".'))
        return
    if not isinstance(data.get("options", {}), dict):
        problems.append(("data.options", "must be a JSON object of dataset options."))
        return
    if "chosen" in data and data["chosen"] is not False:
        problems.append(
            (
                "data.chosen",
                "is only ever false (no data chosen yet: the model is checked on its own); "
                "remove it once a dataset is chosen.",
            )
        )
    try:
        from builder.data import registry
    except ImportError:  # the data layer is optional for checking a model alone
        return
    # The CSV file itself is read when data is loaded: a project opens without it.
    for message in registry.validate_data_settings(data):
        problems.append(_split_data(message))


def _split_data(message: str) -> tuple[str, str]:
    head, sep, tail = message.partition(": ")
    if sep and head.startswith("data"):
        return head, tail
    return "data", message


def data_chosen(data: Any) -> bool:
    """False for a project's ``data`` section that only holds a place: a model with no data
    chosen (a Keras import, a file without a ``data`` section). Such a model is checked for
    what it is (does it build), never fitted to data the user did not choose."""
    return not (isinstance(data, dict) and data.get("chosen") is False)


def placeholder_data(model: Any) -> dict:
    """The ``data`` section of a model with no data chosen: the bundled dataset whose
    samples fit its single input (28×28×1 → MNIST, 32×32×3 → CIFAR-10, (64,) → Digits...),
    else Digits, marked ``"chosen": false``."""
    data = None
    inputs = model.get("inputs") if isinstance(model, dict) else None
    try:
        from builder.data.registry import matching_data

        if isinstance(inputs, list) and inputs:
            data = matching_data(inputs)
    except Exception:  # a malformed input is validate's to report
        data = None
    data = data or {"dataset": "digits", "options": {}}
    return {**data, "chosen": False}


def portable_data(data: Any) -> tuple[Any, str | None]:
    """``data`` as the app keeps it: a CSV named by its file name in the uploads folder.

    An absolute or directory-holding path (an older autosave, a project file from another
    machine or from the command line) keeps only its file name, so the app reads nothing
    outside its uploads folder and a saved project holds no folder of this machine.
    Returns the (possibly new) section and a note saying what changed, or None.
    """
    if not isinstance(data, dict) or data.get("dataset") != "csv":
        return data, None
    options = data.get("options")
    if not isinstance(options, dict):
        return data, None
    path = options.get("path")
    if not isinstance(path, str) or not path:
        return data, None
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name == path:
        return data, None
    note = (
        f"The CSV path {path!r} became {name!r}: the app reads CSV files only from its "
        "uploads folder (upload the file on the Data page if it is not there)."
    )
    return {**data, "options": {**options, "path": name}}, note


def with_local_paths(project: dict, project_file: str | Path) -> dict:
    """The command line's reading of a CSV path: relative to the project file, else to the
    working folder, else a file name in the app's uploads folder (a project saved by the
    app); made absolute so every later step reads the same file. The app never calls this:
    it reads only its uploads folder. Returns a new project when the path changed."""
    data = project.get("data")
    if not isinstance(data, dict) or data.get("dataset") != "csv":
        return project
    options = data.get("options")
    if not isinstance(options, dict):
        return project
    path = options.get("path")
    if not isinstance(path, str) or not path or Path(path).is_absolute():
        return project
    from builder import paths

    candidates = [
        Path(project_file).resolve().parent / path,
        Path.cwd() / path,
        paths.uploads_dir() / path,
    ]
    found = next((c for c in candidates if c.is_file()), candidates[0])
    return {**project, "data": {**data, "options": {**options, "path": str(found)}}}


def validate(doc: Any, check_graph: bool = True) -> dict:
    """Check a parsed project document and return it (migrated, normalised copy).

    The compile and fit sections come back in their one spelling with every default filled
    in (``builder.settings``), so readers index them directly. Raises ProjectError listing
    every problem found, each naming its field and the fix.
    ``check_graph=False`` accepts a graph still being drawn (a cycle, a branch that reaches
    no output yet): the autosave of a session in progress is restored that way, and the
    checker then shows those problems on the nodes.
    """
    if not isinstance(doc, dict):
        raise ProjectError(f"a project file must be a JSON object, got {type(doc).__name__}.")
    if doc.get("format") != FORMAT:
        raise ProjectError(
            f'this is not a netbuilder project ("format" is '
            f'{_short_json(doc.get("format"))}, expected "{FORMAT}"). To bring '
            "in a Keras model, use import (Keras JSON or .keras).",
            "format",
        )
    if not is_int(doc.get("version")) or doc["version"] < 1:
        raise ProjectError(
            f'"version" must be a whole number ≥ 1, got {_short_json(doc.get("version"))}.',
            "version",
        )
    doc = migrate(_as_json(doc))
    refuse_unencodable(doc)
    problems = ProblemList()
    try:
        _unknown_keys(doc, _TOP_KEYS, "", problems)
        for key in ("name", "description"):
            if key in doc and not isinstance(doc[key], str):
                problems.append((key, "must be text."))
        _validate_model(doc.get("model"), problems)
        data_given = "data" in doc
        if not data_given:
            doc["data"] = placeholder_data(doc.get("model"))
        _fill_compile(doc, data_given)
        doc.setdefault("fit", default_fit())
        outputs = doc["model"].get("outputs") if isinstance(doc.get("model"), dict) else []
        outputs = [o for o in outputs if isinstance(o, str)] if isinstance(outputs, list) else []
        doc["compile"] = settings.compile_section(doc["compile"], outputs, problems)
        _validate_data(doc["data"], problems)
        doc["fit"] = settings.fit_section(doc["fit"], problems)
    except ProblemList.Full:  # enough to act on: stop checking
        raise ProjectError(problems) from None
    if not problems and check_graph:
        try:
            graph_order(doc)
        except ProjectError as err:
            problems.extend(err.problems)
    try:
        for key, check_section in SECTION_VALIDATORS.items():
            if not problems and doc.get(key) is not None:
                problems.extend(check_section(doc, doc[key]))
    except ProblemList.Full:
        pass  # ProjectError below says that checking stopped
    if problems:
        raise ProjectError(problems)
    return doc


def _fill_compile(doc: dict, data_given: bool) -> None:
    """A missing compile section, or its missing loss or metrics, from what the project
    has (``builder.defaults.compile_for``: the data's recommendation, or what the last
    layer implies), so the defaults agree with the data and the model."""
    comp = doc.get("compile")
    if comp is None:
        comp = doc["compile"] = default_compile()
        missing = {"loss", "metrics"}
    elif isinstance(comp, dict):
        missing = {"loss", "metrics"} - set(comp)
    else:
        return  # compile_section says what is wrong with it
    if not missing:
        return
    from builder import defaults

    chosen = defaults.compile_for(doc, data_given)
    if chosen is None:
        return
    for key in missing:
        comp[key] = chosen[key]


def _as_json(value):
    """A deep copy with tuples as lists: a project built in Python (Keras' own tuples,
    kernel_size=(3, 3)) reads as the same JSON file."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    return copy.deepcopy(value)


# --------------------------------------------------------------------------- graph


def graph_order(project: dict) -> list[dict]:
    """Layers in an order where each comes after everything it reads (``builder.topology``).

    Ties keep the file's order, so a Sequential stack stays as written. Raises ProjectError
    for dangling names, cycles, layers no output depends on, and inputs that feed no output.
    """
    model = project["model"]
    layers = model.get("layers", [])
    topo = topology.analyse(model)
    index = {lay["name"]: k for k, lay in enumerate(layers)}
    known = list(index) + topo.inputs
    problems = ProblemList()
    try:
        _graph_problems(topo, index, known, problems)
    except ProblemList.Full:
        raise ProjectError(problems) from None
    by_name = {lay["name"]: lay for lay in layers}
    return [by_name[name] for name in topo.order]


def _graph_problems(topo, index: dict, known: list, problems: ProblemList) -> None:
    """Raise ProjectError for the first kind of graph problem found (dangling names and
    self-loops, then cycles, then unused layers and inputs)."""
    for name, src in topo.missing:
        problems.append(
            (
                f"model.layers[{index[name]}].inbound",
                topology.missing_source_message(name, src, known),
            )
        )
    for name in topo.self_loops:
        problems.append((f"model.layers[{index[name]}].inbound", topology.self_loop_message(name)))
    if problems:
        raise ProjectError(problems)
    for part in topo.cycles:
        problems.append(("model.layers", topology.cycle_message(part)))
    if problems:
        raise ProjectError(problems)
    for name in topo.unused_layers():
        problems.append((f"model.layers[{index[name]}]", topology.unused_layer_message(name)))
    for name in topo.unused_inputs():
        problems.append(("model.inputs", topology.unused_input_message(name)))
    if problems:
        raise ProjectError(problems)


def is_sequential(project: dict) -> bool:
    """True for a plain stack: one input, each layer reads the one before, one output."""
    model = project["model"]
    layers = model.get("layers", [])
    if len(model["inputs"]) != 1 or len(model.get("outputs", [])) != 1 or not layers:
        return False
    from builder import catalogue

    inbound = inbound_of(model)
    previous = model["inputs"][0]["name"]
    for lay in layers:
        if inbound[lay["name"]] != [previous] or "shares" in lay or "inbound_args" in lay:
            return False
        entry = catalogue.LAYERS.get(lay.get("class_name")) or {}
        config = lay.get("config", {})
        if any(p.get("call") and p["name"] in config for p in entry.get("params", [])):
            return False  # a call argument (training=..., use_causal_mask=...) needs a call
        previous = lay["name"]
    return model["outputs"] == [previous]


# --------------------------------------------------------------------------- I/O


def _refuse_constant(name: str):
    raise ProjectError(
        f"the file holds {name}, which is not a number JSON allows: write a finite number there."
    )


def refuse_unencodable(doc, what: str = "the project"):
    """``doc`` itself, or ProjectError when some text in it cannot be written as UTF-8 (a
    lone surrogate such as ``"\\ud800"``, which JSON escapes allow): such text would
    fail later, when the project is saved, exported or trained. One linear pass in C."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        bad = err.object[err.start : err.end]
        around = err.object[max(0, err.start - 30) : err.end + 30]
        raise ProjectError(
            f"{what} holds text that is not valid Unicode ({bad!a} in "
            f"{around!a}): a lone surrogate escape cannot be saved. Replace it "
            "with the character meant."
        ) from None
    except (TypeError, ValueError, RecursionError):  # not JSON data: validators say why
        pass
    return doc


def parse_json(
    data: str | bytes, what: str = "the file", max_bytes: int = limits.MAX_PROJECT_BYTES
):
    """JSON text parsed with its work bounded first: at most ``max_bytes``, nesting at most
    ``limits.MAX_JSON_DEPTH``, UTF-8, and no NaN/Infinity (Python's json would accept them).
    Raises ProjectError, never anything else."""
    if len(data) > max_bytes:
        raise ProjectError(
            f"{what} is {limits.fmt_bytes(len(data))}; at most "
            f'{limits.fmt_bytes(max_bytes)} is read (README, "Limits and '
            'safety"). Is this the right file?'
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ProjectError(
                f"{what} is not UTF-8 text: a project file is JSON text saved by netbuilder."
            ) from None
    depth = limits.json_depth(data)
    if depth > limits.MAX_JSON_DEPTH:
        raise ProjectError(
            f"{what} nests too deeply (lists or objects {depth:,} levels deep; "
            f"at most {limits.MAX_JSON_DEPTH} are read, and a project or model "
            "needs far fewer)."
        )
    try:
        return refuse_unencodable(json.loads(data, parse_constant=_refuse_constant), what)
    except json.JSONDecodeError as err:
        raise ProjectError(
            f"{what} is not valid JSON (line {err.lineno}, column {err.colno}: "
            f"{err.msg}). Open it in a text editor and fix that spot, or load a "
            "saved copy."
        ) from None
    except ProjectError:  # NaN or Infinity, refused by _refuse_constant
        raise
    except ValueError:  # an integer of more than 4,300 digits (Python's int-from-text cap)
        raise ProjectError(
            f"{what} holds a number too long to read (thousands of digits): "
            "write a number of sensible size there."
        ) from None
    except (RecursionError, MemoryError):  # the depth scan should have caught it
        raise ProjectError(f"{what} is too large or nests too deeply to be read.") from None


def read_capped(path: str | Path, max_bytes: int, what: str = "") -> bytes:
    """A file's bytes, refusing one larger than ``max_bytes`` before reading it whole (the
    size is checked from the file system, and by reading one byte past the cap, in case the
    file is not a regular file or grows)."""
    path = Path(path)
    what = what or f"'{path}'"
    try:
        if path.is_dir():
            raise ProjectError(f"{what} is a folder, not a file: choose the file itself.")
        size = path.stat().st_size
        if size > max_bytes:
            raise ProjectError(
                f"{what} is {limits.fmt_bytes(size)}; at most "
                f'{limits.fmt_bytes(max_bytes)} is read (README, "Limits and '
                'safety"). Is this the right file?'
            )
        with limits.open_binary(path) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise ProjectError(f"cannot read {what}: {err.strerror or err}. Check the path.") from None
    if len(data) > max_bytes:
        raise ProjectError(
            f"{what} is larger than {limits.fmt_bytes(max_bytes)}, the most that is read."
        )
    return data


def loads(text: str | bytes, check_graph: bool = True) -> dict:
    """Parse and validate a project file's text. Raises ProjectError, never anything else."""
    doc = parse_json(text)
    try:
        return validate(doc, check_graph)
    except ProjectError:
        raise
    except (RecursionError, MemoryError):
        raise ProjectError("the project is too large to check.") from None


def load_project_file(path: str | Path, check_graph: bool = True) -> dict:
    """Read and validate a project file from disk (ProjectError on any problem)."""
    return loads(read_capped(path, limits.MAX_PROJECT_BYTES), check_graph)


def dumps(project: dict) -> str:
    """The project as pretty JSON text (stable key order as written)."""
    return json.dumps(project, indent=2, ensure_ascii=False) + "\n"


def save_project_file(project: dict, path: str | Path) -> None:
    """Write atomically so an interrupted save never leaves a broken file."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(project))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
