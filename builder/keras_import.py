"""Bring a Keras model (its JSON or a ``.keras`` file) into a netbuilder project.

``from_keras_json(text)`` and ``from_keras_file(path)`` return ``(project, notes)``: the
project holds the model's inputs, layers (catalogue parameters only, Keras defaults left
out), connections and outputs, plus its compile settings when the file has them (else the
loss and metrics of the built-in dataset whose samples fit the input, when one does); ``notes``
lists, one sentence each, every setting of the Keras model that the project cannot hold
(a regulariser factor, a constraint, a seeded initializer...), so nothing is dropped
silently.

Nothing from the file is executed or unpacked beyond its description: the JSON is read as
data (size and nesting checked before parsing, README "Limits and safety"), and each layer
is checked against the catalogue before Keras sees it. Code-carrying layers (Lambda) and
references to functions or classes outside Keras (``{"module": "os", ...}``) are refused,
naming the layer. Of a ``.keras`` file only ``config.json`` is read: its size and
compression ratio are checked from the zip directory first, and the weights (which a
project does not hold) are never decompressed, so a zip bomb costs nothing. Keras'
``load_model`` is never called on an upload.

To know which settings differ from Keras' defaults, each mapped layer is rebuilt with Keras
and its config compared with the file's: whatever differs, apart from the name, is a note.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

from builder import catalogue, limits, settings
from builder.checker import _clean
from builder.keras_ops import layers_for, op_name
from builder.project import (
    CALL_TENSOR_ARGS,
    NAME_RE,
    ProjectError,
    _short_json,
    new_project,
    parse_json,
    shape_ok,
    validate,
)

MAX_CONFIG_BYTES = limits.MAX_KERAS_JSON_BYTES
_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_IGNORED_KEYS = {"name", "build_config", "layer", "backward_layer", "dtype"}
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
_INITIALIZERS = {
    "GlorotUniform": "glorot_uniform",
    "GlorotNormal": "glorot_normal",
    "HeUniform": "he_uniform",
    "HeNormal": "he_normal",
    "LecunUniform": "lecun_uniform",
    "LecunNormal": "lecun_normal",
    "Orthogonal": "orthogonal",
    "RandomNormal": "random_normal",
    "RandomUniform": "random_uniform",
    "TruncatedNormal": "truncated_normal",
    "Zeros": "zeros",
    "Ones": "ones",
}
# The Keras string each regulariser choice stands for, with its factor.
_REGULARIZERS = {"L1": ("l1", {"l1": 0.01}), "L2": ("l2", {"l2": 0.01})}


# --------------------------------------------------------------------------- entry points


def from_keras_json(text: str | bytes) -> tuple[dict, list[str]]:
    """A project from ``model.to_json()`` text; ProjectError when it cannot be one."""
    doc = parse_json(text, "the Keras model JSON", limits.MAX_KERAS_JSON_BYTES)
    return from_keras_config(doc)


def from_keras_file(path: str | Path | bytes, name: str = "") -> tuple[dict, list[str]]:
    """A project from a ``.keras`` file, given by its path or its bytes (an upload; ``name``
    is then the file's name for messages). Architecture and compile settings only: weights
    are not part of a project, and are never read."""
    name = name or (Path(path).name if not isinstance(path, bytes) else "the file")
    return from_keras_config(
        parse_json(
            read_keras_config(path, name), f"{name}'s config.json", limits.MAX_KERAS_JSON_BYTES
        )
    )


def _not_keras_file(name: str) -> ProjectError:
    return ProjectError(
        f"{name} is not a Keras 3 .keras file (a zip archive with "
        "config.json). Save the model with model.save('name.keras'); for .h5 "
        "files, load them in Keras and save again as .keras."
    )


def _zip_directory_size(handle) -> tuple[int, int]:
    """(entries, bytes) of a zip file's central directory, read from its end record (or the
    zip64 one) before ``zipfile`` builds an object per entry. ValueError when there is none."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_len = min(size, 65536 + 22)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ValueError("no end record")
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:  # zip64: the counts are in its record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            raise ValueError("no zip64 locator")
        (record_at,) = struct.unpack("<Q", locator[8:16])
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise ValueError("no zip64 end record")
        entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


def read_keras_config(source: str | Path | bytes, name: str = "") -> bytes:
    """The bytes of a ``.keras`` archive's ``config.json`` (``source``: a path, or the
    file's bytes), after checking from the zip directory (never decompressing anything
    else) that the archive and the entry are of a size a model description has.
    ProjectError otherwise."""
    if isinstance(source, bytes):
        name = name or "the file"
        size = len(source)
    else:
        path = Path(source)
        name = name or path.name
        try:
            if path.is_dir():
                raise _not_keras_file(name)
            size = path.stat().st_size
        except FileNotFoundError:
            raise ProjectError(f"{path}: no such file.") from None
        except OSError as err:
            raise ProjectError(f"{path}: cannot be read ({err.strerror or err}).") from None
    if size > limits.MAX_KERAS_FILE_BYTES:
        raise ProjectError(
            f"{name} is {limits.fmt_bytes(size)}; at most "
            f"{limits.fmt_bytes(limits.MAX_KERAS_FILE_BYTES)} is accepted "
            '(README, "Limits and safety").'
        )
    try:
        with (
            io.BytesIO(source) if isinstance(source, bytes) else limits.open_binary(source)
        ) as handle:
            entries, directory = _zip_directory_size(handle)
            if entries > limits.MAX_ZIP_ENTRIES or directory > limits.MAX_ZIP_DIRECTORY_BYTES:
                raise ProjectError(
                    f"{name} lists {entries:,} files; a .keras file has a few "
                    f"(at most {limits.MAX_ZIP_ENTRIES:,} are accepted)."
                )
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                try:
                    info = archive.getinfo("config.json")
                except KeyError:
                    raise _not_keras_file(name) from None
                if info.file_size > limits.MAX_KERAS_JSON_BYTES:
                    raise ProjectError(
                        f"{name}: its config.json is "
                        f"{limits.fmt_bytes(info.file_size)}, too large for a "
                        "model description (at most "
                        f"{limits.fmt_bytes(limits.MAX_KERAS_JSON_BYTES)})."
                    )
                if info.file_size > 1024**2 and info.file_size > limits.MAX_ZIP_RATIO * max(
                    info.compress_size, 1
                ):
                    raise ProjectError(
                        f"{name}: its config.json expands "
                        f"{info.file_size // max(info.compress_size, 1):,} "
                        "times when unpacked; a model description never does "
                        "(is the file damaged or crafted?)."
                    )
                with archive.open(info) as entry:
                    data = entry.read(limits.MAX_KERAS_JSON_BYTES + 1)
    except ProjectError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        EOFError,
        struct.error,
        NotImplementedError,
        RuntimeError,
        zlib.error,
    ):
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression
        raise _not_keras_file(name) from None
    except OSError as err:
        raise ProjectError(f"{name}: cannot be read ({err.strerror or err}).") from None
    if len(data) > limits.MAX_KERAS_JSON_BYTES:
        raise ProjectError(f"{name}: its config.json is larger than it says; the file is damaged.")
    return data


def _layer_name(item: dict, current: str) -> str:
    config = item.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    if isinstance(name, str) and "DTypePolicy" not in str(item.get("class_name")):
        return name
    return current


def _foreign_module(module) -> bool:
    """A serialised object's ``module`` that is not Keras' own (``builtins`` is how Keras
    writes its own functions, e.g. a loss passed as a function)."""
    return not (
        isinstance(module, str) and (module in ("keras", "builtins") or module.startswith("keras."))
    )


def _refuse_code(node) -> None:
    """Refuse any layer that carries Python code, or names a function or class outside
    Keras, anywhere in the config; the message names the layer."""
    stack = [(node, "")]
    while stack:
        item, layer = stack.pop()
        if isinstance(item, dict):
            cls = item.get("class_name")
            layer = _layer_name(item, layer)
            where = f"layer {layer!r}" if layer else "the model"
            if cls in _CODE_LAYERS or cls == "__lambda__":
                raise ProjectError(
                    f"{where} is a {cls} layer: it runs Python code stored in the file, "
                    "which netbuilder never executes. Replace it with catalogue layers (e.g. "
                    "Rescaling, Reshape, Activation) in Keras and export the model again."
                )
            if "module" in item and _foreign_module(item["module"]) and "inbound_nodes" in item:
                raise _custom_layer(layer, cls, item.get("module"))
            if "module" in item and _foreign_module(item["module"]):
                target = ".".join(
                    str(v)
                    for v in (
                        item.get("module"),
                        item.get("config") if isinstance(item.get("config"), str) else cls,
                    )
                    if v is not None
                )
                raise ProjectError(
                    f"{where} refers to {_quoted(target)}, which is not part of Keras: "
                    "netbuilder imports Keras' own layers, activations and initializers only, "
                    "and never loads other code. Use a Keras built-in in its place and "
                    "export the model again."
                )
            stack.extend((value, layer) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, layer) for value in item)


# --------------------------------------------------------------------------- the model


def from_keras_config(doc) -> tuple[dict, list[str]]:
    """A project from a parsed Keras model config (``json.loads(model.to_json())``).
    Raises ProjectError, never anything else."""
    try:
        return _from_keras_config(doc)
    except ProjectError:
        raise
    except (RecursionError, MemoryError):
        raise ProjectError(
            "the Keras model description is too large or nests too deeply to import."
        ) from None
    except Exception as exc:  # a malformed entry this importer does not phrase yet
        raise ProjectError(
            f"the Keras model description is malformed and cannot be imported "
            f"({type(exc).__name__}: {_short_json(str(exc), 120)}). Export the "
            "model again with model.to_json() or model.save('name.keras')."
        ) from None


def _from_keras_config(doc) -> tuple[dict, list[str]]:
    if (
        not isinstance(doc, dict)
        or "class_name" not in doc
        or not isinstance(doc.get("config"), dict)
    ):
        raise ProjectError(
            "this is not a Keras model description: expected an object with "
            '"class_name" (Sequential or Functional) and "config", as written '
            "by model.to_json()."
        )
    cls = doc["class_name"]
    if cls not in _MODEL_CLASSES:
        raise ProjectError(
            f"the JSON describes a {cls!r}, not a model: import the JSON of a "
            "keras.Sequential or functional keras.Model."
        )
    _refuse_code(doc)
    _refuse_custom(doc)
    config = doc["config"]
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ProjectError(
            'the model config has no "layers" list; is it a subclassed model? '
            "Only Sequential and functional models can be imported."
        )
    if len(layers) > limits.MAX_LAYERS:
        raise ProjectError(
            f"the model has {len(layers):,} layers; netbuilder handles at most "
            f'{limits.MAX_LAYERS:,} (README, "Limits and safety").'
        )
    notes: list[str] = []
    names = _Names(notes)
    if cls == "Sequential":
        inputs, entries, outputs = _sequential(config, layers, names, notes)
    else:
        inputs, entries, outputs = _functional(config, layers, names, notes)
    name = config.get("name") if isinstance(config.get("name"), str) else "Imported model"
    project = new_project(name=name, inputs=inputs)
    project["model"]["layers"] = entries
    project["model"]["outputs"] = outputs
    from builder.data.registry import matching_data

    data = matching_data(inputs)
    # No data is chosen: the model is checked for what it is, never fitted to data the
    # user did not pick (the matching dataset is offered, see fit_check).
    project["data"] = {**(data or {"dataset": "digits", "options": {}}), "chosen": False}
    if data is not None:
        notes.append(
            f"No data is chosen yet: {data['dataset']} has samples that fit the model's "
            "input (offered on Build and Data); the training settings are netbuilder's "
            "defaults."
        )
    else:
        notes.append(
            "No data is chosen yet (no bundled dataset fits the model's input): choose "
            "data on the Data page to train it; the training settings are netbuilder's "
            "defaults."
        )
    project["compile"] = _compile(
        doc.get("compile_config"), outputs, names, notes, _default_compile(project, data)
    )
    try:
        return validate(project), notes
    except ProjectError as err:
        raise ProjectError(
            [("", "the imported model is not a valid netbuilder project:")] + err.problems
        ) from None


def _refuse_custom(doc) -> None:
    """Refuse, by layer name and class, the first layer (nested models included) that is
    neither a catalogue layer, a model, an InputLayer nor a keras.ops operation."""
    layers = doc.get("config", {}).get("layers") if isinstance(doc.get("config"), dict) else None
    for entry in layers if isinstance(layers, list) else []:
        if not isinstance(entry, dict):
            continue
        cls = entry.get("class_name")
        name = entry.get("name") or (entry.get("config") or {}).get("name")
        module = str(entry.get("module") or "keras.layers")
        if cls in _MODEL_CLASSES:
            _refuse_custom(entry)
            continue
        if (
            cls == "InputLayer"
            or _is_op(entry)
            or (cls in catalogue.LAYERS and module.startswith("keras.layers"))
        ):
            continue
        raise _custom_layer(name, cls, module)


# Keras' preprocessing layers, whose state (a vocabulary, statistics) is adapted to data.
_PREPROCESSING = {
    "TextVectorization",
    "StringLookup",
    "IntegerLookup",
    "Hashing",
    "Normalization",
    "Discretization",
    "CategoryEncoding",
}


def _quoted(text, limit: int = 120) -> str:
    """``text`` in closed single quotes, cut (inside the quotes) only past ``limit``."""
    text = str(text)
    return f"'{text}'" if len(text) <= limit else f"'{text[: limit - 1]}…'"


def _custom_layer(name, cls, module) -> ProjectError:
    """Why a layer entry of class ``cls`` from ``module`` cannot be imported: it is a
    custom layer (the model's own code), or a Keras layer the catalogue does not hold."""
    module = str(module or "keras.layers")
    who = f"layer {_quoted(name)}"
    if module.startswith(("keras.layers", "keras.src.layers")):
        kind = (
            "a built-in preprocessing layer (its state is adapted to data)"
            if cls in _PREPROCESSING
            else "a built-in Keras layer"
        )
        return ProjectError(
            f"{who} is {_quoted(cls)}, {kind} that netbuilder's catalogue does not "
            "have: replace it with catalogue layers in Keras, or remove it, and export "
            "again."
        )
    return ProjectError(
        f"{who} is a custom layer of class {_quoted(cls)} (defined in {_quoted(module)}): "
        "netbuilder imports models built from Keras' built-in layers only, and never runs "
        "a model's own code. Replace it with built-in layers in Keras, or remove it, and "
        "export again."
    )


def _is_op(entry: dict) -> bool:
    return str(entry.get("module") or "").startswith(("keras.src.ops", "keras.ops"))


def _default_compile(project: dict, data: dict | None) -> dict:
    """The loss and metrics that suit the matched dataset, else netbuilder's defaults."""
    from builder.data import registry

    if data is None or len(project["model"]["outputs"]) != 1:
        return project["compile"]
    advice = registry.recommend(data)
    return {**project["compile"], "loss": advice["loss"], "metrics": advice["metrics"]}


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


def _layer_config(entry) -> tuple[str, dict]:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ProjectError(
            'a layer entry must be an object with "class_name" and '
            f'"config"; got {_short_json(entry)}.'
        )
    return entry.get("class_name"), entry["config"]


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


# --------------------------------------------------------------------------- one layer


def _layer(cls, cfg: dict, name: str, notes: list[str]) -> dict:
    if cls in _MODEL_CLASSES:
        raise ProjectError(
            f"layer {name!r} is a nested {cls} model: the catalogue does not "
            "have models as layers. Flatten it into the outer model in Keras "
            "first."
        )
    if not isinstance(cls, str) or cls not in catalogue.LAYERS:
        raise ProjectError(
            f"layer {name!r} is a {cls!r} layer, and netbuilder's catalogue does "
            f"not have {cls!r}: only catalogue layers (e.g. Dense, Conv2D, LSTM) "
            "can be imported. Replace it in Keras, or remove it, and export "
            "again."
        )
    config = _reduce(cls, cfg, name, notes)
    _compare_with_keras(cls, cfg, config, name, notes)
    _note_adapted(cls, config, name, notes)
    return {"name": name, "class_name": cls, "config": config}


def _note_adapted(cls: str, config: dict, name: str, notes: list[str]) -> None:
    """Say what happens to state a layer learnt with adapt() in Keras: a vocabulary or
    mean and variance stored beside the config (assets, weights) is not read from the
    file; the layer adapts again to the project's training data when a run starts.
    State given as settings (a vocabulary list, mean, bin_boundaries) is kept."""
    from builder.adapt import STATE_KEYS

    if cls not in STATE_KEYS or config.get(STATE_KEYS[cls]) is not None:
        return
    if cls == "Normalization":
        notes.append(
            f"layer {name!r} (Normalization) has no mean and variance among its settings: "
            "any it learnt with adapt() in Keras are not read from the file; it adapts "
            "again to the project's training data when a run starts."
        )
    elif cls != "Discretization":
        size = config.get("vocabulary_size")
        width = f" (vocabulary_size {size} is kept, so its output keeps its width)" if size else ""
        notes.append(
            f"layer {name!r} ({cls}) has no vocabulary among its settings: a vocabulary it "
            "learnt with adapt() in Keras is not read from the file; it adapts again to "
            f"the project's training data when a run starts{width}."
        )


def _reduce(cls: str, cfg: dict, name: str, notes: list[str], wrapped: bool = False) -> dict:
    """The catalogue parameters of ``cfg`` that differ from the catalogue defaults."""
    config = {}
    for p in catalogue.get(cls)["params"]:
        key = p["name"]
        if key not in cfg:
            continue
        if p["type"] == "layer":
            if cfg[key] is None:
                continue
            inner_cls, inner_cfg = _layer_config(cfg[key])
            if p["allowed"] == ["*"] and inner_cls in catalogue.LAYERS:
                pass
            elif inner_cls not in p["allowed"]:
                raise ProjectError(
                    f"layer {name!r} ({cls}) wraps a {inner_cls!r} layer; the "
                    f"catalogue's {cls} wraps {', '.join(p['allowed'])} only."
                )
            config[key] = {
                "class_name": inner_cls,
                "config": _reduce(inner_cls, inner_cfg, name, notes, wrapped=True),
            }
            continue
        if key == "data_format" and cfg[key] == "channels_last":
            continue  # Keras' global setting, written out by get_config()
        if key == "zero_output_for_mask" and wrapped:
            continue  # Bidirectional sets it on the layers it wraps
        if key == "dtype":
            value = _dtype_name(cfg[key])
            if value not in (None, "float32"):
                config[key] = value
            continue
        value = _normal(p, _from_keras(p, cfg[key]))
        if value is _UNMAPPED:
            continue  # the comparison with Keras' own config notes it
        if p.get("required"):
            config[key] = value
            continue
        if value == _normal(p, p.get("default")) or (
            key == "strides" and value == _normal(p, cfg.get("pool_size"))
        ):
            continue
        if key == "activation" and value == "linear" and p.get("default") is None:
            continue
        config[key] = value
    back, fwd = config.get("backward_layer"), config.get("layer")
    if (
        isinstance(back, dict)
        and isinstance(fwd, dict)
        and back.get("class_name") == fwd.get("class_name")
    ):
        flipped = dict(fwd.get("config", {}))
        flipped["go_backwards"] = not flipped.get("go_backwards", False)
        if not flipped["go_backwards"]:
            flipped.pop("go_backwards")
        if flipped == back.get("config", {}):
            del config["backward_layer"]  # the copy Bidirectional makes by itself
    problems = catalogue.validate_config(cls, config, name)
    if problems:
        raise ProjectError(
            f"layer {name!r} ({cls}) has settings the catalogue does not "
            "allow: " + " ".join(problems)
        )
    return config


class _Unmapped:
    def __repr__(self):
        return "<unmapped>"


_UNMAPPED = _Unmapped()


def _dtype_name(value):
    """A layer's dtype as a string: Keras writes a DTypePolicy object."""
    if isinstance(value, dict):
        return (value.get("config") or {}).get("name")
    return value


_OBJECT_MODULES = {
    "initializer": "initializers",
    "regularizer": "regularizers",
    "constraint": "constraints",
}


def _keras_object(p: dict, value):
    """An initializer/regularizer/constraint as the catalogue writes it: the short name
    when the object is that name's default (GlorotUniform() -> 'glorot_uniform', the
    parameter's default spelling first), else {"class_name", "config"}."""
    if not isinstance(value, dict):
        return value
    cls, cfg = value.get("class_name"), dict(value.get("config") or {})
    import keras

    module = getattr(keras, _OBJECT_MODULES[p["type"]])
    names = catalogue.KERAS_OBJECTS.get(_OBJECT_MODULES[p["type"]], [])
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", str(cls)).lower()
    spellings = [n for n in names if n.islower()]
    spellings = [
        n for n in (p.get("default"), snake) if isinstance(n, str) and n in names
    ] + sorted(spellings, key=len, reverse=True)
    for short in spellings:
        try:
            obj = module.get(short)
        except Exception:
            continue
        if type(obj).__name__ == cls and _plain(obj.get_config()) == _plain(cfg):
            return short
    return {"class_name": cls, "config": _plain(cfg)}


def _from_keras(p: dict, value):
    """A Keras serialised value as the catalogue writes it (initializer -> 'he_normal')."""
    if p["type"] in _OBJECT_MODULES:
        return _keras_object(p, value)
    if p["type"] == "any":
        return _plain(value)
    if isinstance(value, dict) and "class_name" in value:
        cls, cfg = value.get("class_name"), value.get("config") or {}
        if (
            cls == "function"
            and isinstance(cfg, str)
            and p["type"] == "choice"
            and cfg in p.get("choices", [])
        ):
            return cfg  # a Keras function written as a reference, e.g. activation "relu"
        if not isinstance(cfg, dict) or not isinstance(cls, str):
            return _UNMAPPED
        if cls in _INITIALIZERS and p["type"] == "choice":
            plain = _INITIALIZERS[cls]
            if cfg.get("seed") is None:  # Keras' "uniform" is RandomUniform too
                spellings = [
                    c
                    for c in (plain, {"random_uniform": "uniform"}.get(plain))
                    if c in p.get("choices", [])
                ]
                if spellings:
                    return p["default"] if p.get("default") in spellings else spellings[0]
        if cls in _REGULARIZERS and p["type"] == "choice":
            choice, factor = _REGULARIZERS[cls]
            if choice in p.get("choices", []) and cfg == factor:
                return choice
        return _UNMAPPED
    if p["type"] == "choice" and value not in p.get("choices", []):
        return _UNMAPPED
    return value


def _normal(p: dict, value):
    """One spelling per value: (3,) -> 3 where a scalar is allowed, [[1, 1], [2, 2]] -> [1, 2]."""
    if value is _UNMAPPED or value is None:
        return value
    if isinstance(value, tuple):
        value = list(value)
    if (
        p["type"] == "ints"
        and isinstance(value, list)
        and p.get("scalar_ok")
        and value
        and all(v == value[0] for v in value)
        and (len(value) == 1 or p.get("start_end"))
    ):
        return value[0]
    if p["type"] == "axis" and isinstance(value, list) and len(value) == 1:
        return value[0]
    if (
        p["type"] == "padding"
        and isinstance(value, list)
        and all(isinstance(v, list) and len(v) == 2 and v[0] == v[1] for v in value)
    ):
        return [v[0] for v in value]
    if p["type"] == "float" and isinstance(value, float) and value.is_integer() is False:
        return float(f"{value:.7g}")
    return value


def _plain(value):
    """A Keras config value as JSON data (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


_REBUILT: dict[tuple[str, str], dict] = {}  # (class, settings) -> the Keras layer's config


def _compare_with_keras(cls: str, cfg: dict, config: dict, name: str, notes: list[str]) -> None:
    """Note every setting of the file's layer that the reduced config builds differently."""
    from builder.checker import make_layer

    # Building a Keras layer costs milliseconds; a model repeats the same settings often
    # (10,000 Dense(1) layers would take half a minute), so each one is built once.
    key = (cls, json.dumps(config, sort_keys=True))
    rebuilt = _REBUILT.get(key)
    if rebuilt is None:
        try:
            rebuilt = _plain(make_layer(cls, config).get_config())
        except Exception as exc:  # Keras refuses the mapped settings
            raise ProjectError(
                f"layer {name!r} ({cls}): Keras refuses the imported settings "
                f"{json.dumps(config)}: {_clean(exc)}"
            ) from None
        if len(_REBUILT) >= 4096:
            _REBUILT.clear()
        _REBUILT[key] = rebuilt
    ours = {**rebuilt, "name": name} if "name" in rebuilt else rebuilt
    theirs = _plain(cfg)
    if "vocabulary_size" in config:
        # get_config() of a layer not yet adapted reports its current vocabulary (1 or 2
        # entries), not the vocabulary_size it was made with: the setting itself is kept.
        ours = {**ours, "vocabulary_size": config["vocabulary_size"]}
    _note_differences(cls, name, theirs, ours, notes)
    if isinstance(theirs.get("layer"), dict):
        for key in ("layer", "backward_layer"):
            mine, file = ours.get(key), theirs.get(key)
            if isinstance(file, dict) and isinstance(mine, dict):
                _note_differences(
                    f"{cls} {key}", name, file.get("config", {}), mine.get("config", {}), notes
                )
    if _dtype_name(theirs.get("dtype")) != _dtype_name(ours.get("dtype")):
        notes.append(
            f"layer {name!r} ({cls}) computes in {_dtype_name(theirs.get('dtype'))}; "
            f"the project uses {_dtype_name(ours.get('dtype'))}."
        )


def _note_differences(what: str, name: str, theirs: dict, ours: dict, notes: list[str]) -> None:
    for key, value in theirs.items():
        if key in _IGNORED_KEYS or key not in ours:
            if key not in _IGNORED_KEYS and value not in (None, False, {}, []):
                notes.append(
                    f"layer {name!r} ({what}): setting {key}={_short(value)} is "
                    "not known to netbuilder and was left out."
                )
            continue
        if _same(value, ours[key]):
            continue
        notes.append(
            f"layer {name!r} ({what}): {key}={_short(value)} cannot be set in "
            f"netbuilder and was left out (the project uses {_short(ours[key])})."
        )


def _same(a, b) -> bool:
    """Equal as Keras means them: floats to 1e-6, and [x] the same as x (a built layer's
    axis=-1 reads [-1])."""
    if isinstance(a, list) and len(a) == 1 and not isinstance(b, list):
        a = a[0]
    if isinstance(b, list) and len(b) == 1 and not isinstance(a, list):
        b = b[0]
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
        except (TypeError, ValueError):
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _short(value) -> str:
    if (
        isinstance(value, dict)
        and "class_name" in value
        and isinstance(value.get("config"), (dict, type(None)))
    ):
        cfg = {k: v for k, v in (value.get("config") or {}).items() if v is not None}
        text = f"{value['class_name']}({', '.join(f'{k}={v}' for k, v in cfg.items())})"
        return text if len(text) <= 80 else text[:77] + "..."
    return _short_json(value)


# --------------------------------------------------------------------------- compile


def _compile(  # noqa: C901
    compile_config, outputs: list[str], names: _Names, notes: list[str], default: dict
) -> dict:
    """Compile settings from the file's compile_config, where the project can hold them."""
    if not isinstance(compile_config, dict) or not compile_config:
        return default
    result = dict(default)
    opt = compile_config.get("optimizer")
    if isinstance(opt, str):
        opt = {"class_name": opt, "config": {}}
    if isinstance(opt, dict):
        cls = opt.get("class_name")
        if cls in settings.OPTIMIZERS:
            allowed = settings.optimizer_defaults(cls)
            cfg = {}
            for key, value in (opt.get("config") or {}).items():
                if (
                    key in allowed
                    and isinstance(value, (int, float))
                    and not isinstance(value, bool)
                ):
                    value = float(f"{value:.7g}")
                    if not _same(value, allowed[key]):
                        cfg[key] = value
                elif key in allowed and isinstance(value, bool) and value != allowed[key]:
                    cfg[key] = value
                elif key in allowed and isinstance(value, dict):
                    notes.append(
                        f"optimizer {key} is a schedule ({_short(value)}); the project "
                        f"uses a constant {allowed[key]}."
                    )
            result["optimizer"] = {"class_name": cls, "config": cfg}
        else:
            notes.append(
                f"optimizer {cls!r} is not offered by netbuilder; the project uses RMSprop."
            )

    def one(value, what, check):
        if (
            isinstance(value, dict)
            and value.get("class_name") == "function"
            and isinstance(value.get("config"), str)
        ):
            value = value["config"]  # a Keras loss or metric written as a function reference
        elif isinstance(value, dict) and "class_name" in value:
            value = _snake(value["class_name"])
        if check(value):
            return value
        notes.append(
            f"{what} {_short(value)} is not offered by netbuilder; set it on the compile page."
        )
        return None

    loss = compile_config.get("loss")
    if isinstance(loss, dict) and "class_name" not in loss:
        mapped = {}
        for key, value in loss.items():
            v = one(value, "loss", lambda x: x in settings.LOSSES)
            if v is not None and key in names.map:
                mapped[names.map[key]] = v
        if set(mapped) == set(outputs):
            result["loss"] = mapped
    elif isinstance(loss, list) and len(loss) == len(outputs):
        mapped = [one(v, "loss", lambda x: x in settings.LOSSES) for v in loss]
        if None not in mapped:
            result["loss"] = dict(zip(outputs, mapped)) if len(outputs) > 1 else mapped[0]
    elif loss is not None:
        v = one(loss, "loss", lambda x: x in settings.LOSSES)
        if v is not None:
            result["loss"] = v
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list):
        kept = [
            m for m in (one(v, "metric", lambda x: x in settings.METRICS) for v in metrics) if m
        ]
        result["metrics"] = kept
    weights = compile_config.get("loss_weights")
    if isinstance(weights, dict):
        mapped = {names.map.get(k, k): v for k, v in weights.items()}
        if all(k in outputs for k in mapped) and not all(v == 1 for v in mapped.values()):
            result["loss_weights"] = mapped
    elif (
        isinstance(weights, list)
        and len(weights) == len(outputs)
        and not all(v == 1 for v in weights)
    ):
        result["loss_weights"] = dict(zip(outputs, weights))
    return result


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
