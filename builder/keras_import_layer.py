"""One Keras layer config as a catalogue layer, with a note for every setting left out.

``_layer(cls, cfg, name, notes)`` keeps the catalogue parameters of a layer's Keras config
that differ from the catalogue defaults (initializers, regularizers and dtypes written the
way the catalogue spells them, wrapped layers reduced in turn), then rebuilds the layer with
Keras and compares its config with the file's: whatever differs, apart from the name, is a
note, so nothing is dropped silently. Used by ``builder.keras_import_graph`` for each layer
of the model it walks.
"""

from __future__ import annotations

import json
import re

from builder import catalogue
from builder.checker import _clean
from builder.project import ProjectError, _short_json

_MODEL_CLASSES = {"Sequential", "Functional", "Model"}
_IGNORED_KEYS = {"name", "build_config", "layer", "backward_layer", "dtype"}
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


def _layer_config(entry) -> tuple[str, dict]:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ProjectError(
            'a layer entry must be an object with "class_name" and '
            f'"config"; got {_short_json(entry)}.'
        )
    return entry.get("class_name"), entry["config"]


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
    snake = _snake(cls)
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


def _snake(name: str) -> str:
    """A Keras class name in snake case: "GlorotUniform" -> "glorot_uniform"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
