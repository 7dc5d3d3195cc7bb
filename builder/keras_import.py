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

This module is the entry: it refuses code and custom layers and puts the project together.
The parts live beside it: ``keras_import_archive`` (a ``.keras`` file's config.json),
``keras_import_graph`` (layers and calls as the project's layers and links),
``keras_import_layer`` (one layer's settings) and ``keras_import_compile`` (compile settings).
"""

from __future__ import annotations

from pathlib import Path

from builder import catalogue, limits
from builder.keras_import_archive import read_keras_config
from builder.keras_import_compile import _compile
from builder.keras_import_graph import _functional, _is_op, _Names, _sequential
from builder.keras_import_layer import _MODEL_CLASSES
from builder.project import (
    ProjectError,
    _short_json,
    new_project,
    parse_json,
    validate,
)

MAX_CONFIG_BYTES = limits.MAX_KERAS_JSON_BYTES
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}

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


def _default_compile(project: dict, data: dict | None) -> dict:
    """The loss and metrics that suit the matched dataset, else netbuilder's defaults."""
    from builder.data import registry

    if data is None or len(project["model"]["outputs"]) != 1:
        return project["compile"]
    advice = registry.recommend(data)
    return {**project["compile"], "loss": advice["loss"], "metrics": advice["metrics"]}
