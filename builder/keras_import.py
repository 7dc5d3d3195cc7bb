"""Bring a Keras model (its JSON or a ``.keras`` file) into a netbuilder project.

``from_keras_json(text)`` and ``from_keras_file(path)`` return ``(project, notes)``: the
project holds the model's inputs, layers (catalogue parameters only, Keras defaults left
out), connections and outputs, plus its compile settings when the file has them (else the
loss and metrics of the built-in dataset whose samples fit the input, when one does); ``notes``
lists, one sentence each, every setting of the Keras model that the project cannot hold
(a regulariser factor, a constraint, a seeded initializer...), so nothing is dropped
silently.

Nothing from the file is executed: the JSON is read as data and each layer is checked
against the catalogue before Keras sees it. A ``.keras`` file's ``config.json`` is read
first, so a Lambda layer (which carries Python bytecode) is refused before Keras opens the
file; only then is it loaded with ``safe_mode=True``.

To know which settings differ from Keras' defaults, each mapped layer is rebuilt with Keras
and its config compared with the file's: whatever differs, apart from the name, is a note.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from builder import catalogue
from builder.checker import _clean
from builder.project import (
    LOSSES,
    METRICS,
    NAME_RE,
    OPTIMIZERS,
    ProjectError,
    new_project,
    validate,
)

MAX_CONFIG_BYTES = 20 * 1024 * 1024
_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_IGNORED_KEYS = {"name", "trainable", "dtype", "build_config", "layer", "backward_layer"}
_CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
_INITIALIZERS = {
    "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
    "HeUniform": "he_uniform", "HeNormal": "he_normal",
    "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
    "Orthogonal": "orthogonal", "RandomNormal": "random_normal",
    "RandomUniform": "random_uniform", "TruncatedNormal": "truncated_normal",
    "Zeros": "zeros", "Ones": "ones",
}
# The Keras string each regulariser choice stands for, with its factor.
_REGULARIZERS = {"L1": ("l1", {"l1": 0.01}), "L2": ("l2", {"l2": 0.01})}


# --------------------------------------------------------------------------- entry points

def from_keras_json(text: str | bytes) -> tuple[dict, list[str]]:
    """A project from ``model.to_json()`` text; ProjectError when it cannot be one."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProjectError("the Keras model JSON is not UTF-8 text.") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ProjectError(f"the Keras model JSON is {len(text) // 1024} KB; at most "
                           f"{MAX_CONFIG_BYTES // 1024 // 1024} MB is read.")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        where = (f" (line {err.lineno}, column {err.colno}: {err.msg})"
                 if isinstance(err, json.JSONDecodeError) else "")
        raise ProjectError(f"this is not valid JSON{where}: paste the text of "
                           "model.to_json(), or import the .keras file instead.") from None
    return from_keras_config(doc)


def from_keras_file(path: str | Path) -> tuple[dict, list[str]]:
    """A project from a ``.keras`` file (architecture and compile settings; weights are not
    part of a project)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ProjectError(f"{path.name}: its config.json is {info.file_size // 1024} "
                                   "KB, too large for a model description.")
            config = json.loads(archive.read(info).decode("utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file.") from None
    except OSError as err:
        raise ProjectError(f"{path}: cannot be read ({err.strerror or err}).") from None
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError,
            RecursionError):
        raise ProjectError(f"{path.name} is not a Keras 3 .keras file (a zip archive with "
                           "config.json). Save the model with model.save('name.keras'); "
                           "for .h5 files, load them in Keras and save again as .keras.") \
            from None
    project, notes = from_keras_config(config)  # refuses code-carrying layers first
    _load_safely(path)
    return project, notes


def _load_safely(path: Path) -> None:
    """Let Keras itself open the file with safe_mode (it refuses any embedded code)."""
    import keras

    try:
        keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras' own refusal, said in its words
        raise ProjectError(f"Keras cannot load {path.name}: {_clean(exc)}") from None


def _refuse_code(node) -> None:
    """Refuse any layer that carries Python code, anywhere in the config."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            cls = item.get("class_name")
            if cls in _CODE_LAYERS:
                name = item.get("config", {}).get("name", "?") if isinstance(
                    item.get("config"), dict) else "?"
                raise ProjectError(
                    f"layer {name!r} is a {cls} layer: it runs Python code stored in the file, "
                    "which netbuilder never executes. Replace it with catalogue layers (e.g. "
                    "Rescaling, Reshape, Activation) in Keras and export the model again.")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --------------------------------------------------------------------------- the model

def from_keras_config(doc) -> tuple[dict, list[str]]:
    """A project from a parsed Keras model config (``json.loads(model.to_json())``)."""
    if not isinstance(doc, dict) or "class_name" not in doc or not isinstance(
            doc.get("config"), dict):
        raise ProjectError("this is not a Keras model description: expected an object with "
                           "\"class_name\" (Sequential or Functional) and \"config\", as written "
                           "by model.to_json().")
    cls = doc["class_name"]
    if cls not in _MODEL_CLASSES:
        raise ProjectError(f"the JSON describes a {cls!r}, not a model: import the JSON of a "
                           "keras.Sequential or functional keras.Model.")
    _refuse_code(doc)
    config = doc["config"]
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ProjectError("the model config has no \"layers\" list; is it a subclassed model? "
                           "Only Sequential and functional models can be imported.")
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
    data = _matching_data(inputs)
    if data is not None:
        project["data"] = data
        notes.append(f"The dataset is {data['dataset']}, whose samples fit the model's input; "
                     "the training settings are netbuilder's defaults.")
    else:
        notes.append("The dataset and training settings are netbuilder's defaults: choose "
                     "the dataset that fits the model's input.")
    project["compile"] = _compile(doc.get("compile_config"), outputs, names, notes,
                                  _default_compile(project, data))
    try:
        return validate(project), notes
    except ProjectError as err:
        raise ProjectError([("", "the imported model is not a valid netbuilder project:")]
                           + err.problems) from None


def _matching_data(inputs: list[dict]) -> dict | None:
    """The first built-in dataset (default options, or the other image layout) whose
    samples have the model's input shape and dtype; None for several inputs or no match."""
    from builder.data import registry

    if len(inputs) != 1:
        return None
    want = {"shape": inputs[0]["shape"], "dtype": inputs[0]["dtype"]}
    for name, spec in registry.DATASETS.items():
        if spec.source == "csv":
            continue
        variants = [{}] + [{"image_layout": c} for c in
                           (spec.option("image_layout") or {}).get("choices") or []]
        shape = want["shape"]
        if spec.option("encoding") and len(shape) == 1 and shape[0] and shape[0] <= 2500:
            variants.append({"encoding": "sequence", "maxlen": shape[0]})
        for options in variants:
            data = {"dataset": name, "options": options}
            if registry.input_spec(data) == want:
                return data
    return None


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
        self.notes = notes

    def add(self, keras_name) -> str:
        raw = str(keras_name) if keras_name is not None else "layer"
        name = re.sub(r"\W", "_", raw, flags=re.ASCII)
        if not NAME_RE.match(name):
            name = "l_" + name
        base, k = name, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        if name != raw:
            self.notes.append(f"{raw!r} is named {name!r}: project names use letters, digits "
                              "and underscores only, and are unique.")
        self.used.add(name)
        self.map[raw] = name
        return name

    def get(self, keras_name) -> str:
        try:
            return self.map[str(keras_name)]
        except KeyError:
            raise ProjectError(f"a layer reads from {keras_name!r}, which is not a layer of the "
                               "model.") from None


def _layer_config(entry) -> tuple[str, dict]:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ProjectError("a layer entry must be an object with \"class_name\" and "
                           f"\"config\"; got {json.dumps(entry)[:80]}.")
    return entry.get("class_name"), entry["config"]


def _input(config: dict, name: str, notes: list[str]) -> dict:
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(shape, list) or len(shape) < 2:
        raise ProjectError(f"input {name!r} has no shape; build the model on "
                           "keras.Input(shape=...) before saving it.")
    dtype = config.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    if dtype not in ("float32", "int32"):
        mapped = "int32" if "int" in str(dtype) else "float32"
        notes.append(f"input {name!r} has dtype {dtype}; the project uses {mapped}.")
        dtype = mapped
    for flag in ("sparse", "ragged", "optional"):
        if config.get(flag):
            notes.append(f"input {name!r} is {flag}; the project's input is a plain dense "
                         "tensor.")
    return {"name": name, "shape": list(shape[1:]), "dtype": dtype}


def _sequential(config, layers, names, notes):
    entries = []
    inp = None
    for k, entry in enumerate(layers):
        cls, cfg = _layer_config(entry)
        if cls == "InputLayer":
            if k != 0:
                raise ProjectError("an InputLayer in the middle of a Sequential model cannot be "
                                   "imported.")
            inp = _input(cfg, names.add(cfg.get("name", "input")), notes)
            continue
        if inp is None:
            shape = cfg.get("batch_shape", cfg.get("batch_input_shape",
                                                   config.get("build_input_shape")))
            if shape is None:
                raise ProjectError("the Sequential model has no input shape: build it with "
                                   "keras.Input(shape=...) as its first layer, then export it "
                                   "again.")
            inp = _input({"batch_shape": shape, "dtype": "float32"}, names.add("input"), notes)
        entries.append(_layer(cls, cfg, names.add(cfg.get("name")), notes))
    if inp is None or not entries:
        raise ProjectError("the Sequential model has no layers to import.")
    return [inp], entries, [entries[-1]["name"]]


def _history_names(node) -> list[str]:
    """Layer names of every Keras tensor in an inbound node's args, in order."""
    found = []
    stack = [node]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            history = item.get("config", {}).get("keras_history")
            if isinstance(history, list) and history:
                if history[1:] and (history[1] != 0 or history[2] != 0):
                    raise ProjectError(f"a layer reads output {history[1:]} of {history[0]!r}: "
                                       "only layers with a single output can be imported.")
                found.append(history[0])
        elif isinstance(item, dict):
            stack[:0] = list(item.values())
        elif isinstance(item, list):
            stack[:0] = item
    return found


def _endpoints(value) -> list[str]:
    """Names in input_layers/output_layers: ["a", 0, 0], [["a", 0, 0], ...] or a dict."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, list) and v for v in value):
        raise ProjectError(f"the model's input/output list {json.dumps(value)[:80]} is not in "
                           "Keras 3's format.")
    return [v[0] for v in value]


def _functional(config, layers, names, notes):
    inputs, entries = [], []
    for entry in layers:
        cls, cfg = _layer_config(entry)
        keras_name = entry.get("name", cfg.get("name"))
        nodes = entry.get("inbound_nodes", [])
        if cls == "InputLayer":
            inputs.append(_input(cfg, names.add(keras_name), notes))
            continue
        if not isinstance(nodes, list) or len(nodes) != 1:
            count = len(nodes) if isinstance(nodes, list) else 0
            raise ProjectError(f"layer {keras_name!r} is used {count} times (shared "
                               "weights or unused): a project calls each layer once. Give each "
                               "use its own layer in Keras, or rebuild the model in netbuilder.")
        node = nodes[0]
        extra = sorted(k for k, v in (node.get("kwargs") or {}).items()
                       if v is not None) if isinstance(node, dict) else []
        if extra:
            notes.append(f"layer {keras_name!r} is called with {', '.join(extra)}; the "
                         "project calls it with its inputs only.")
        sources = [names.get(s) for s in _history_names(
            node.get("args", []) if isinstance(node, dict) else node)]
        if not sources:
            raise ProjectError(f"layer {keras_name!r} has no input in the model's graph.")
        layer = _layer(cls, cfg, names.add(keras_name), notes)
        layer["inbound"] = sources
        entries.append(layer)
    if not inputs:
        raise ProjectError("the functional model has no InputLayer.")
    by_name = {i["name"]: i for i in inputs}
    order = [names.get(n) for n in _endpoints(config.get("input_layers"))]
    inputs = [by_name[n] for n in order if n in by_name] + [
        i for i in inputs if i["name"] not in order]
    outputs = [names.get(n) for n in _endpoints(config.get("output_layers"))]
    for out in outputs:
        if out in by_name:
            raise ProjectError(f"output {out!r} is an input passed straight through: a project's "
                               "outputs are layers.")
    previous = inputs[0]["name"]
    for layer in entries:  # leave out "inbound" where it is the implicit previous entry
        if layer["inbound"] == [previous]:
            del layer["inbound"]
        previous = layer["name"]
    return inputs, entries, outputs


# --------------------------------------------------------------------------- one layer

def _layer(cls, cfg: dict, name: str, notes: list[str]) -> dict:
    if cls in _MODEL_CLASSES:
        raise ProjectError(f"layer {name!r} is a nested {cls} model: the catalogue does not "
                           "have models as layers. Flatten it into the outer model in Keras "
                           "first.")
    if not isinstance(cls, str) or cls not in catalogue.LAYERS:
        raise ProjectError(f"layer {name!r} is a {cls!r} layer, and netbuilder's catalogue does "
                           f"not have {cls!r}: only catalogue layers (e.g. Dense, Conv2D, LSTM) "
                           "can be imported. Replace it in Keras, or remove it, and export "
                           "again.")
    config = _reduce(cls, cfg, name, notes)
    _compare_with_keras(cls, cfg, config, name, notes)
    return {"name": name, "class_name": cls, "config": config}


def _reduce(cls: str, cfg: dict, name: str, notes: list[str]) -> dict:
    """The catalogue parameters of ``cfg`` that differ from the catalogue defaults."""
    config = {}
    for p in catalogue.get(cls)["params"]:
        key = p["name"]
        if key not in cfg:
            continue
        if p["type"] == "layer":
            inner_cls, inner_cfg = _layer_config(cfg[key])
            if inner_cls not in p["allowed"]:
                raise ProjectError(f"layer {name!r} ({cls}) wraps a {inner_cls!r} layer; the "
                                   f"catalogue's {cls} wraps {', '.join(p['allowed'])} only.")
            config[key] = {"class_name": inner_cls,
                           "config": _reduce(inner_cls, inner_cfg, name, notes)}
            continue
        value = _normal(p, _from_keras(p, cfg[key]))
        if value is _UNMAPPED:
            continue  # the comparison with Keras' own config notes it
        if p.get("required"):
            config[key] = value
            continue
        if value == _normal(p, p.get("default")) or (
                key == "strides" and value == _normal(p, cfg.get("pool_size"))):
            continue
        if key == "activation" and value == "linear" and p.get("default") is None:
            continue
        config[key] = value
    problems = catalogue.validate_config(cls, config, name)
    if problems:
        raise ProjectError(f"layer {name!r} ({cls}) has settings the catalogue does not "
                           "allow: " + " ".join(problems))
    return config


class _Unmapped:
    def __repr__(self):
        return "<unmapped>"


_UNMAPPED = _Unmapped()


def _from_keras(p: dict, value):
    """A Keras serialised value as the catalogue writes it (initializer -> 'he_normal')."""
    if isinstance(value, dict) and "class_name" in value:
        cls, cfg = value.get("class_name"), value.get("config") or {}
        if cls in _INITIALIZERS and p["type"] == "choice":
            plain = _INITIALIZERS[cls]
            if cfg.get("seed") is None:  # Keras' "uniform" is RandomUniform too
                spellings = [c for c in (plain, {"random_uniform": "uniform"}.get(plain))
                             if c in p.get("choices", [])]
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
    if p["type"] == "ints" and isinstance(value, list) and p.get("scalar_ok") and value \
            and all(v == value[0] for v in value) and (len(value) == 1 or p.get("start_end")):
        return value[0]
    if p["type"] == "axis" and isinstance(value, list) and len(value) == 1:
        return value[0]
    if p["type"] == "padding" and isinstance(value, list) and all(
            isinstance(v, list) and len(v) == 2 and v[0] == v[1] for v in value):
        return [v[0] for v in value]
    if p["type"] == "float" and isinstance(value, float) and value.is_integer() is False:
        return float(f"{value:.7g}")
    return value


def _plain(value):
    """A Keras config value as JSON data (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


def _compare_with_keras(cls: str, cfg: dict, config: dict, name: str, notes: list[str]) -> None:
    """Note every setting of the file's layer that the reduced config builds differently."""
    from builder.checker import make_layer

    try:
        rebuilt = make_layer(cls, config, name)
    except Exception as exc:  # Keras refuses the mapped settings
        raise ProjectError(f"layer {name!r} ({cls}): Keras refuses the imported settings "
                           f"{json.dumps(config)}: {_clean(exc)}") from None
    ours = _plain(rebuilt.get_config())
    theirs = _plain(cfg)
    _note_differences(cls, name, theirs, ours, notes)
    if cls == "Bidirectional":
        for key in ("layer", "backward_layer"):
            mine, file = ours.get(key), theirs.get(key)
            if isinstance(file, dict) and isinstance(mine, dict):
                _note_differences(f"{cls} {key}", name, file.get("config", {}),
                                  mine.get("config", {}), notes)
    dtype = theirs.get("dtype")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    if dtype not in (None, "float32"):
        notes.append(f"layer {name!r} ({cls}) computes in {dtype}; the project uses float32.")
    if theirs.get("trainable") is False:
        notes.append(f"layer {name!r} ({cls}) is frozen (trainable=False) in the file; the "
                     "project trains every layer.")


def _note_differences(what: str, name: str, theirs: dict, ours: dict, notes: list[str]) -> None:
    for key, value in theirs.items():
        if key in _IGNORED_KEYS or key not in ours:
            if key not in _IGNORED_KEYS and value not in (None, False, {}, []):
                notes.append(f"layer {name!r} ({what}): setting {key}={_short(value)} is "
                             "not known to netbuilder and was left out.")
            continue
        if _same(value, ours[key]):
            continue
        notes.append(f"layer {name!r} ({what}): {key}={_short(value)} cannot be set in "
                     f"netbuilder and was left out (the project uses {_short(ours[key])}).")


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
    if isinstance(value, dict) and "class_name" in value:
        cfg = {k: v for k, v in (value.get("config") or {}).items() if v is not None}
        return f"{value['class_name']}({', '.join(f'{k}={v}' for k, v in cfg.items())})"
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- compile

def _compile(compile_config, outputs: list[str], names: _Names, notes: list[str],
             default: dict) -> dict:
    """Compile settings from the file's compile_config, where the project can hold them."""
    if not isinstance(compile_config, dict) or not compile_config:
        return default
    result = dict(default)
    opt = compile_config.get("optimizer")
    if isinstance(opt, str):
        opt = {"class_name": opt, "config": {}}
    if isinstance(opt, dict):
        cls = opt.get("class_name")
        if cls in OPTIMIZERS:
            allowed = OPTIMIZERS[cls]
            cfg = {}
            for key, value in (opt.get("config") or {}).items():
                if key in allowed and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    value = float(f"{value:.7g}")
                    if not _same(value, allowed[key]):
                        cfg[key] = value
                elif key in allowed and isinstance(value, dict):
                    notes.append(f"optimizer {key} is a schedule ({_short(value)}); the project "
                                 f"uses a constant {allowed[key]}.")
            result["optimizer"] = {"class_name": cls, "config": cfg}
        else:
            notes.append(f"optimizer {cls!r} is not offered by netbuilder; the project uses "
                         "RMSprop.")

    def one(value, what, check):
        if isinstance(value, dict) and "class_name" in value:
            value = _snake(value["class_name"])
        if check(value):
            return value
        notes.append(f"{what} {_short(value)} is not offered by netbuilder; set it on the "
                     "compile page.")
        return None

    loss = compile_config.get("loss")
    if isinstance(loss, dict) and "class_name" not in loss:
        mapped = {}
        for key, value in loss.items():
            v = one(value, "loss", lambda x: x in LOSSES)
            if v is not None and key in names.map:
                mapped[names.map[key]] = v
        if set(mapped) == set(outputs):
            result["loss"] = mapped
    elif isinstance(loss, list) and len(loss) == len(outputs):
        mapped = [one(v, "loss", lambda x: x in LOSSES) for v in loss]
        if None not in mapped:
            result["loss"] = dict(zip(outputs, mapped)) if len(outputs) > 1 else mapped[0]
    elif loss is not None:
        v = one(loss, "loss", lambda x: x in LOSSES)
        if v is not None:
            result["loss"] = v
    metrics = compile_config.get("metrics")
    if isinstance(metrics, list):
        kept = [m for m in (one(v, "metric", lambda x: x in METRICS) for v in metrics) if m]
        result["metrics"] = kept
    weights = compile_config.get("loss_weights")
    if isinstance(weights, dict):
        mapped = {names.map.get(k, k): v for k, v in weights.items()}
        if all(k in outputs for k in mapped) and not all(v == 1 for v in mapped.values()):
            result["loss_weights"] = mapped
    elif isinstance(weights, list) and len(weights) == len(outputs) \
            and not all(v == 1 for v in weights):
        result["loss_weights"] = dict(zip(outputs, weights))
    return result


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
