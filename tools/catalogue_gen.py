"""Generate builder/catalogue.json from Keras, keeping the curated parts.

`python -m tools.refresh_catalogue --write` calls `generate()`: it walks `keras.layers`,
reads each class' `__init__` signature (names, defaults), classifies every keyword into
a catalogue parameter type, probes the input ranks Keras accepts, and merges the result
with what is curated:

- entries and parameters already in catalogue.json keep their label, help, summary,
  limits and example; they are shown up front in the form;
- parameters Keras has and the catalogue lacked are added with `"advanced": true` (the
  form's "Advanced" section), typed from their name and default, help from Keras'
  docstring;
- layers new to the catalogue get their curation from `CURATED` below (label, help,
  summary, examples for required settings, which settings are shown up front).

Layers that need Python callables or objects (Lambda, RNN with a cell, the backend
wrappers) or string tensors (TextVectorization, StringLookup) are left out: a project file
cannot describe them without code.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "builder" / "catalogue.json"
REQUIRED = object()

# Not config-only: need Python callables/objects, a cell object, or string tensors.
SKIP = {
    "Lambda",
    "Layer",
    "InputLayer",
    "Wrapper",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TFSMLayer",
    "TorchModuleWrapper",
    "JaxLayer",
    "FlaxLayer",
    "Pipeline",
    "TextVectorization",
    "StringLookup",
    "HashedCrossing",
}
# Keywords Keras reads from **kwargs (kwargs.pop) rather than naming in the signature.
EXTRA_KWARGS = {
    "LayerNormalization": {"rms_scaling": False},
    "LSTM": {"implementation": 2},
    "GRU": {"implementation": 2},
    "Embedding": {"input_length": None},
    "IntegerLookup": {"vocabulary_size": None},
}
# Keras keywords that are not settings of a saved layer.
NOT_SETTINGS = {"name", "weights", "gptq_unpacked_column_size"}

CATEGORY = {  # Keras module folder -> catalogue category
    "core": "core",
    "activations": "core",
    "convolutional": "convolution",
    "pooling": "pooling",
    "rnn": "recurrent",
    "normalization": "normalization",
    "regularization": "normalization",
    "reshaping": "reshaping",
    "merging": "merging",
    "preprocessing": "preprocessing",
    "attention": "attention",
}
NEW_CATEGORIES = [
    {"id": "attention", "label": "Attention"},
    {"id": "augmentation", "label": "Augmentation (training only)"},
]
AUGMENTATION = re.compile(r"^(Random|AugMix|CutMix|MixUp|RandAugment)")
TRAINING_ONLY = (
    " Active only while training: at prediction and evaluation it passes inputs through unchanged."
)

# Settings shown up front (beyond required ones) for generated parameters.
UP_FRONT = {
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "activation",
    "rate",
    "pool_size",
    "return_sequences",
    "num_heads",
    "key_dim",
    "dropout",
    "depth_multiplier",
    "size",
    "cropping",
    "factor",
    "height",
    "width",
    "mode",
    "output_mode",
    "num_tokens",
    "groups",
    "axis",
    "merge_mode",
    "use_causal_mask",
    "return_attention_scores",
    "height_factor",
    "width_factor",
    "output_size",
    "interpolation",
    "mask_value",
    "use_scale",
    "score_mode",
    "head_dim",
    "num_query_heads",
    "num_key_value_heads",
    "equation",
    "output_shape",
    "bias_axes",
    "num_bins",
    "bin_boundaries",
    "mean",
    "variance",
    "l1",
    "l2",
}

# Curation of layers new to the catalogue: label/help/summary and examples for required
# settings. Missing entries get Keras' docstring and a plain summary.
CURATED = {
    "Conv1DTranspose": {
        "help": "Learned upsampling of a sequence: the reverse of Conv1D's sliding window.",
        "summary": "{filters} filters, width {kernel_size}, stride {strides}",
    },
    "Conv3D": {
        "help": "Slides learned 3D filters over volumes (depth, height, width), e.g. video or scans.",
        "summary": "{filters} filters {kernel_size}, {activation}",
    },
    "Conv3DTranspose": {
        "help": "Learned upsampling of volumes: the reverse of Conv3D's sliding window.",
        "summary": "{filters} filters {kernel_size}, stride {strides}",
    },
    "SeparableConv1D": {
        "help": "Depthwise then pointwise convolution over a sequence: fewer weights than Conv1D.",
        "summary": "{filters} filters, width {kernel_size}, {activation}",
    },
    "DepthwiseConv1D": {
        "help": "One filter per input channel along a sequence (no mixing of channels).",
        "summary": "width {kernel_size} × {depth_multiplier}",
    },
    "DepthwiseConv2D": {
        "help": "One filter per input channel over an image (no mixing of channels); with a 1×1 Conv2D after it, the MobileNet block.",
        "summary": "{kernel_size} × {depth_multiplier}, {activation}",
    },
    "ConvLSTM1D": {
        "help": "LSTM whose gates are 1D convolutions: reads a sequence of sequences.",
        "summary": "{filters} filters, width {kernel_size}",
    },
    "ConvLSTM2D": {
        "help": "LSTM whose gates are 2D convolutions: reads a sequence of images (video frames).",
        "summary": "{filters} filters {kernel_size}",
    },
    "ConvLSTM3D": {
        "help": "LSTM whose gates are 3D convolutions: reads a sequence of volumes.",
        "summary": "{filters} filters {kernel_size}",
    },
    "MaxPooling3D": {
        "help": "Downsamples volumes by keeping the maximum of each window.",
        "summary": "{pool_size}",
    },
    "AveragePooling3D": {
        "help": "Downsamples volumes by averaging each window.",
        "summary": "{pool_size}",
        "examples": {"pool_size": 2},
    },
    "GlobalMaxPooling3D": {
        "help": "Keeps the maximum of each channel over the whole volume.",
        "summary": "maximum over the volume",
    },
    "GlobalAveragePooling3D": {
        "help": "Averages each channel over the whole volume.",
        "summary": "average over the volume",
    },
    "UpSampling3D": {"help": "Repeats each voxel to enlarge a volume.", "summary": "× {size}"},
    "ZeroPadding3D": {"help": "Adds zeros around a volume.", "summary": "pad {padding}"},
    "Cropping1D": {},
    "Cropping3D": {
        "help": "Removes slices from the borders of a volume.",
        "summary": "crop {cropping}",
    },
    "SpatialDropout3D": {
        "help": "Drops whole channels of a volume at random while training.",
        "summary": "rate {rate}",
        "examples": {"rate": 0.2},
    },
    "TimeDistributed": {
        "help": "Applies one layer (same weights) to every time step of a sequence.",
        "summary": "{layer}",
        "examples": {"layer": {"class_name": "Dense", "config": {"units": 8}}},
    },
    "Masking": {
        "help": "Marks time steps whose features all equal mask_value as padding, so later recurrent layers skip them.",
        "summary": "skip steps equal to {mask_value}",
    },
    "PReLU": {
        "help": "Leaky ReLU whose negative slope is learned, per feature.",
        "summary": "learned slope",
    },
    "GroupNormalization": {
        "help": "Normalizes groups of channels per sample; works with small batches.",
        "summary": "{groups} groups",
        "examples": {"groups": 4},
    },
    "UnitNormalization": {
        "help": "Scales each sample to length 1 along the axis (L2 normalisation).",
        "summary": "axis {axis}",
    },
    "RMSNormalization": {
        "help": "Divides by the root mean square along the axis and learns a scale (no centring).",
        "summary": "axis {axis}",
    },
    "Resizing": {
        "help": "Resizes images to height × width.",
        "summary": "to {height}×{width}",
        "examples": {"height": 32, "width": 32},
    },
    "CenterCrop": {
        "help": "Crops the centre height × width of each image.",
        "summary": "{height}×{width}",
        "examples": {"height": 8, "width": 8},
    },
    "ActivityRegularization": {
        "help": "Adds l1/l2 penalties on the values passing through to the loss; outputs them unchanged.",
        "summary": "l1 {l1}, l2 {l2}",
    },
    "MultiHeadAttention": {
        "help": "Multi-head attention: each query position gathers information from the value sequence, weighted by query-key similarity. Connect query, value (and optionally key); connect the same layer twice for self-attention.",
        "summary": "{num_heads} heads × {key_dim}",
        "examples": {"num_heads": 2, "key_dim": 16},
    },
    "GroupQueryAttention": {
        "help": "Attention in which groups of query heads share key/value heads (cheaper than MultiHeadAttention). Connect query, value (and optionally key).",
        "summary": "{num_query_heads} query / {num_key_value_heads} kv heads × {head_dim}",
        "examples": {"head_dim": 8, "num_query_heads": 4, "num_key_value_heads": 2},
    },
    "Attention": {
        "help": "Dot-product attention (Luong style) of a query sequence over a value sequence. Connect query, value (and optionally key).",
        "summary": "{score_mode}",
    },
    "AdditiveAttention": {
        "help": "Additive attention (Bahdanau style) of a query sequence over a value sequence. Connect query, value (and optionally key).",
        "summary": "additive",
    },
    "EinsumDense": {
        "help": "A Dense layer described by an einsum equation: any axes in, any axes out.",
        "summary": "{equation}",
        "examples": {"equation": "ab,bc->ac", "output_shape": 16},
    },
    "Identity": {
        "help": "Passes its input through unchanged (a named placeholder).",
        "summary": "unchanged",
    },
    "SpectralNormalization": {
        "help": "Wraps a Dense or convolution layer and keeps the spectral norm of its kernel at 1 (stabilises GANs).",
        "summary": "{layer}",
        "examples": {"layer": {"class_name": "Dense", "config": {"units": 8}}},
    },
    "Normalization": {
        "help": "Subtracts the mean and divides by the standard deviation of each feature, learned from the training split before training (adapt), or given as mean and variance.",
        "summary": "axis {axis}",
    },
    "CategoryEncoding": {
        "help": "Turns integer ids into one-hot, multi-hot or count vectors of num_tokens entries.",
        "summary": "{output_mode}, {num_tokens} tokens",
        "examples": {"num_tokens": 10},
        "input_dtype": "int32",
    },
    "Discretization": {
        "help": "Puts each value into a bucket given by bin_boundaries and outputs the bucket id.",
        "summary": "{output_mode}",
        "examples": {"bin_boundaries": [0.0, 1.0, 2.0]},
    },
    "Hashing": {
        "help": "Maps integer ids to num_bins buckets by hashing.",
        "summary": "{num_bins} bins",
        "examples": {"num_bins": 16},
        "input_dtype": "int32",
    },
    "IntegerLookup": {
        "help": "Maps integer ids to consecutive indices through a vocabulary.",
        "summary": "{output_mode}",
        "examples": {"vocabulary": [1, 2, 3]},
        "input_dtype": "int32",
    },
    "ReversibleEmbedding": {
        "help": "An Embedding whose weights can also project vectors back to token scores (tied weights).",
        "summary": "{input_dim} tokens → {output_dim}",
        "examples": {"input_dim": 1000, "output_dim": 16},
        "input_dtype": "int32",
    },
    "RandomFlip": {
        "help": "Flips images horizontally and/or vertically at random.",
        "summary": "{mode}",
    },
    "RandomRotation": {
        "help": "Rotates images by a random angle (factor × 2π).",
        "summary": "± {factor} turns",
        "examples": {"factor": 0.1},
    },
    "RandomZoom": {
        "help": "Zooms images in or out at random.",
        "summary": "± {height_factor}",
        "examples": {"height_factor": 0.2},
    },
    "RandomTranslation": {
        "help": "Shifts images at random by a fraction of their height and width.",
        "summary": "± {height_factor} × {width_factor}",
        "examples": {"height_factor": 0.1, "width_factor": 0.1},
    },
    "RandomContrast": {
        "help": "Changes image contrast by a random factor.",
        "summary": "± {factor}",
        "examples": {"factor": 0.2},
    },
    "RandomCrop": {
        "help": "Crops a random height × width window of each image (the centre at prediction).",
        "summary": "{height}×{width}",
        "examples": {"height": 8, "width": 8},
    },
    "RandomPosterization": {
        "help": "Reduces the number of bits per colour channel at random.",
        "summary": "{factor} bits",
        "examples": {"factor": 4},
    },
    "MelSpectrogram": {
        "help": "Turns raw audio (samples) into a mel-scaled spectrogram.",
        "summary": "{num_mel_bins} mel bins",
    },
    "STFTSpectrogram": {
        "help": "Turns raw audio (samples, channels) into a short-time Fourier spectrogram.",
        "summary": "{mode}",
    },
    "RandomBrightness": {
        "help": "Changes image brightness by a random amount.",
        "summary": "± {factor}",
        "examples": {"factor": 0.2},
    },
}
# keras.layers.Layer's own keywords, accepted by every layer that passes **kwargs on.
BASE_KWARGS = {"activity_regularizer": None, "trainable": True, "dtype": None, "autocast": True}
DEFAULT_EXAMPLES = {
    "units": 8,
    "filters": 4,
    "kernel_size": 3,
    "rate": 0.5,
    "stddev": 0.1,
    "pool_size": 2,
    "output_size": 4,
    "factor": 0.2,
    "height": 8,
    "width": 8,
    "num_bins": 16,
    "n": 3,
    "max_number": 10,
}


def _keras():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def plain(value):
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


def keras_objects() -> dict:
    """Names Keras resolves for initializers, regularizers, constraints and activations."""
    from keras.src import activations, constraints, initializers, regularizers

    def public(d):
        return sorted(
            k
            for k in d
            if k
            not in {
                "Initializer",
                "initializer",
                "Regularizer",
                "regularizer",
                "Constraint",
                "constraint",
            }
        )

    return {
        "initializers": public(initializers.ALL_OBJECTS_DICT),
        "regularizers": public(regularizers.ALL_OBJECTS_DICT),
        "constraints": public(constraints.ALL_OBJECTS_DICT),
        "activations": sorted(activations.ALL_OBJECTS_DICT),
    }


def keras_doc(cls, name: str) -> str:
    doc = inspect.getdoc(cls) or ""
    m = re.search(rf"^\s*{re.escape(name)}:\s*(.+?)(?=^\s*\w+:|^\s*$|\Z)", doc, re.M | re.S)
    if not m:
        return ""
    text = " ".join(m.group(1).split())
    text = text.split(". ")[0].rstrip(".") + "."
    return text.replace("`", "")


def class_doc(cls) -> str:
    doc = inspect.getdoc(cls) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return (
        (first.split(". ")[0].rstrip(".") + ".").replace("`", "") if first else cls.__name__ + "."
    )


def _dims(class_name: str) -> int | None:
    m = re.search(r"([123])D", class_name)
    return int(m.group(1)) if m else None


def classify(class_name: str, name: str, default, objects: dict) -> dict:  # noqa: C901
    """A catalogue parameter spec for Keras keyword `name` with `default` (REQUIRED if none)."""
    p: dict = {"name": name}
    if default is REQUIRED:
        p["required"] = True
    else:
        p["default"] = plain(default)
    n = _dims(class_name)
    if name.endswith("_initializer"):
        p["type"] = "initializer"
    elif name.endswith("_regularizer"):
        p["type"] = "regularizer"
        p["nullable"] = True
    elif name.endswith("_constraint"):
        p["type"] = "constraint"
        p["nullable"] = True
    elif name in ("activation", "recurrent_activation"):
        p.update(
            type="choice",
            choices=[None] + [a for a in objects["activations"]],
            nullable=True,
            null_label="linear",
        )
    elif name == "data_format":
        p.update(
            type="choice",
            choices=[None, "channels_last", "channels_first"],
            nullable=True,
            null_label="Keras' setting (channels_last)",
        )
    elif name == "padding" and default in ("valid", "same"):
        p.update(type="choice", choices=["valid", "same"])
    elif (
        name in ("kernel_size", "strides", "dilation_rate", "pool_size", "size", "output_padding")
        and n
        and class_name not in ("RandomGaussianBlur",)
    ):
        p.update(type="ints", length=n, scalar_ok=True, min=0 if name == "output_padding" else 1)
        if default is None:
            p["nullable"] = True
    elif (
        name in ("padding", "cropping") and n and class_name.startswith(("ZeroPadding", "Cropping"))
    ):
        p.update(type="padding", length=n, min=0)
    elif "factor" in name or (
        name in ("value_range", "scale")
        and default is not REQUIRED
        and not isinstance(default, bool)
    ):
        p["type"] = "any"
    elif name == "axis" and (default is None or isinstance(default, int)):
        p.update(type="axis", list_ok=True)
    elif name == "seed":
        p.update(type="int", nullable=True, min=0)
    elif isinstance(default, bool):
        p["type"] = "bool"
    elif isinstance(default, int) and not isinstance(default, bool):
        p["type"] = "int"
    elif isinstance(default, float):
        p["type"] = "float"
    elif isinstance(default, str):
        p["type"] = "str"
    elif name == "layer" or name == "backward_layer":
        p.update(type="layer", allowed=["*"])
        if default is None:
            p["nullable"] = True
    else:
        p["type"] = "any"
        if default is None:
            p["nullable"] = True
    if p.get("default") is None and "default" in p:
        p["nullable"] = True
    return p


_SCALAR_REQUIRED = {
    "filters",
    "num_heads",
    "key_dim",
    "head_dim",
    "num_query_heads",
    "num_key_value_heads",
    "height",
    "width",
    "num_bins",
    "max_number",
    "input_dim",
    "output_dim",
    "rate",
    "equation",
}


def _type_from_example(p: dict) -> None:
    """A required keyword has no default to type it by: its example does (rate 0.5 is a
    number from 0 to 1, filters 4 a whole number ≥ 1)."""
    if p["type"] != "any" or p["name"] not in _SCALAR_REQUIRED:
        return  # output_size, output_shape, factors: Keras also takes lists
    example = p["example"]
    if isinstance(example, bool):
        p["type"] = "bool"
    elif isinstance(example, int):
        p.update(type="int", min=1)
    elif isinstance(example, float):
        p.update(type="float", min=0.0)
        if p["name"] == "rate":
            p["max"] = 1.0
    elif isinstance(example, str):
        p["type"] = "str"
    p.pop("nullable", None)


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _signature(cls) -> dict:
    """Keyword -> default of the class' __init__, and of the base classes' __init__ it hands
    **kwargs on to (Conv2D -> BaseConv's lora_rank), up to keras.layers.Layer."""
    keras = _keras()
    out: dict = {}
    fixed: set[str] = set()  # keywords a subclass hands its base itself (pool_mode="average")
    for klass in cls.__mro__:
        if klass is keras.layers.Layer or not issubclass(klass, keras.layers.Layer):
            break
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        own = klass is cls or not out
        for p in params:
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in NOT_SETTINGS:
                continue
            if not own and (p.name in fixed or p.default is inspect.Parameter.empty):
                continue
            out.setdefault(p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
        fixed |= _super_keywords(klass)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    for key, default in EXTRA_KWARGS.get(cls.__name__, {}).items():
        out.setdefault(key, default)
    return out


def _super_keywords(klass) -> set[str]:
    """Keyword names klass.__init__ passes to super().__init__ explicitly."""
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass.__init__)))
    except (OSError, TypeError, SyntaxError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
        ):
            names |= {k.arg for k in node.keywords if k.arg}
    return names


def takes_kwargs(cls) -> bool:
    keras = _keras()
    for klass in cls.__mro__:
        if klass is keras.layers.Layer:
            return True
        if "__init__" in vars(klass):
            params = inspect.signature(klass.__init__).parameters.values()
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                return False
    return True


def _module_category(cls) -> str:
    parts = cls.__module__.split(".")
    folder = parts[3] if len(parts) > 3 else "core"
    return CATEGORY.get(folder, "core")


def _try_build(class_name, config, shapes, dtype="float32"):
    from tools.refresh_catalogue import make_layer

    keras = _keras()
    inputs = [keras.KerasTensor((None, *s), dtype=dtype) for s in shapes]
    with keras.StatelessScope():
        layer = make_layer(class_name, config)
        if len(inputs) > 1 and class_name in ("MultiHeadAttention", "GroupQueryAttention"):
            return layer(*inputs)
        return layer(inputs if len(inputs) > 1 else inputs[0])


def _candidates(class_name: str) -> list[list[list[int]]]:
    n = _dims(class_name)
    if class_name in (
        "MultiHeadAttention",
        "GroupQueryAttention",
        "Attention",
        "AdditiveAttention",
    ):
        return [[[6, 16], [6, 16]]]
    if class_name.startswith("ConvLSTM") and n:
        return [[[3] + [8] * n + [2]]]
    if n:
        return [[[8] * n + [3]], [[16] * n + [3]]]
    if AUGMENTATION.match(class_name) or class_name in (
        "Resizing",
        "CenterCrop",
        "AutoContrast",
        "Equalization",
        "Solarization",
        "ContrastLimitedAdaptiveHistogramEqualization",
    ):
        return [[[16, 16, 3]]]
    if class_name == "MelSpectrogram":
        return [[[4096]]]
    if class_name == "STFTSpectrogram":
        return [[[1024, 1]]]
    return [[[16]], [[10, 8]], [[16, 16, 3]], [[1000]]]


def _input_rank(class_name, config, example, dtype) -> dict:
    ok = []
    n_in = len(example)
    for rank in range(1, 8):
        want = rank - 1
        shape = ([8] * max(0, want - len(example[0])) + list(example[0]))[-want:] if want else []
        try:
            _try_build(class_name, config, [shape] * n_in, dtype)
            ok.append(rank)
        except Exception:
            pass
    if not ok:
        return {"min": len(example[0]) + 1, "max": len(example[0]) + 1}
    lo = min(ok)
    hi = max(ok)
    return {"min": lo, "max": None if hi == 7 else hi}


def generate(existing: dict | None = None) -> dict:
    keras = _keras()
    existing = existing or json.loads(CATALOGUE.read_text(encoding="utf-8"))
    objects = keras_objects()
    data = copy.deepcopy(existing)
    data["keras_objects"] = {k: v for k, v in objects.items() if k != "activations"}
    cat_ids = [c["id"] for c in data["categories"]]
    for c in NEW_CATEGORIES:
        if c["id"] not in cat_ids:
            data["categories"].append(c)
    layers = data["layers"]
    by_class = {}
    for cls_name in layers:
        by_class[getattr(keras.layers, cls_name)] = cls_name
    aliases = {}
    # Keras' long names (MaxPooling3D) are the catalogue's; the short ones become aliases.
    for name in sorted(dir(keras.layers), key=lambda n: ("Pool" in n and "Pooling" not in n, n)):
        cls = getattr(keras.layers, name)
        if not (inspect.isclass(cls) and issubclass(cls, keras.layers.Layer)) or name in SKIP:
            continue
        if cls in by_class:
            if by_class[cls] != name:
                aliases[name] = by_class[cls]
            continue
        by_class[cls] = name
        layers[name] = _new_entry(name, cls, objects)
    for cls, name in by_class.items():  # Keras' own class name where it differs
        if cls.__name__ != name and cls.__name__ not in layers:
            aliases.setdefault(cls.__name__, name)
    data["aliases"] = dict(sorted(aliases.items()))
    for name in list(layers):
        _complete_params(name, getattr(keras.layers, name), layers[name], objects)
    return data


def _new_entry(name: str, cls, objects: dict) -> dict:
    cur = CURATED.get(name, {})
    sig = _signature(cls)
    params = []
    examples = {**DEFAULT_EXAMPLES, **cur.get("examples", {})}
    for key, default in sig.items():
        p = classify(name, key, default, objects)
        if p.get("required"):
            if key not in examples:
                raise SystemExit(f"{name}.{key} is required: add an example to CURATED")
            p["example"] = examples[key]
            _type_from_example(p)
        elif key not in UP_FRONT:
            p["advanced"] = True
        p["label"] = _label(key)
        p["help"] = keras_doc(cls, key) or f"Keras' {key} setting."
        params.append(p)
    category = _module_category(cls)
    if AUGMENTATION.match(name):
        category = "augmentation"
    help_text = cur.get("help") or class_doc(cls)
    if category == "augmentation" and TRAINING_ONLY.strip() not in help_text:
        help_text += TRAINING_ONLY
    required = [p["name"] for p in params if p.get("required") and p["type"] != "layer"]
    summary = cur.get("summary") or (", ".join("{" + r + "}" for r in required) or name)
    entry = {
        "category": category,
        "label": name,
        "help": help_text,
        "inputs": {"min": 1, "max": 1},
        "input_rank": {"min": 1, "max": None},
        "summary": summary,
        "example_input": None,
        "params": params,
    }
    if name in ("MultiHeadAttention", "GroupQueryAttention", "Attention", "AdditiveAttention"):
        entry["inputs"] = {"min": 2, "max": 3}
        entry["input_names"] = ["query", "value", "key"]
        if name in ("MultiHeadAttention", "GroupQueryAttention"):
            entry["call_style"] = "positional"
        entry["params"] += _call_params(name)
    dtype = cur.get("input_dtype", "float32")
    if "input_dtype" in cur:
        entry["input_dtype"] = dtype
    config = {p["name"]: p["example"] for p in params if p.get("required")}
    optional = {
        k: v
        for k, v in cur.get("examples", {}).items()
        if any(p["name"] == k and not p.get("required") for p in params)
    }
    if optional:
        entry["example_config"] = optional
        config.update(optional)
    for shapes in _candidates(name):
        try:
            _try_build(name, config, shapes, dtype)
        except Exception:
            continue
        entry["example_input"] = shapes
        break
    if entry["example_input"] is None:
        raise SystemExit(f"{name}: no example input builds; add one to _candidates")
    entry["input_rank"] = _input_rank(name, config, entry["example_input"], dtype)
    for p in params:  # a list of axes only where Keras takes one
        if p["type"] == "axis" and p.get("list_ok"):
            try:
                _try_build(name, {**config, p["name"]: [-1]}, entry["example_input"], dtype)
            except Exception:
                p.pop("list_ok")
    return entry


def _call_params(name: str) -> list[dict]:
    out = [
        {
            "name": "use_causal_mask",
            "type": "bool",
            "default": False,
            "call": True,
            "label": "Causal mask",
            "help": "Each query position attends only to itself and earlier positions (for decoders and language models).",
        }
    ]
    if name != "GroupQueryAttention" or True:
        out.append(
            {
                "name": "return_attention_scores",
                "type": "bool",
                "default": False,
                "call": True,
                "label": "Return attention scores",
                "help": "Also output the attention weights, as a second output.",
            }
        )
    return out


_PROBE = {"activity_regularizer": "l2", "trainable": False, "dtype": "float32", "autocast": False}


def _accepts(cls, config: dict, key: str) -> bool:
    """Whether the constructor takes Layer's keyword `key` (some layers refuse extra kwargs)."""
    from builder.checker import make_layer

    try:
        make_layer(
            cls.__name__,
            {**config, key: _PROBE[key]},
        )
    except (TypeError, ValueError) as exc:
        return key not in str(exc)
    except Exception:
        return True
    return True


def _complete_params(name: str, cls, entry: dict, objects: dict) -> None:
    """Add Keras keywords the entry lacks (as advanced), retype curated initializer/
    regularizer/constraint choices, refresh activation choices."""
    sig = _signature(cls)
    listed = {p["name"] for p in entry["params"]}
    for p in entry["params"]:
        pn = p["name"]
        if pn.endswith("_initializer") and p["type"] == "choice":
            p["type"] = "initializer"
            p.pop("choices", None)
        elif pn.endswith("_regularizer") and p["type"] == "choice":
            p["type"] = "regularizer"
            p.pop("choices", None)
            p.pop("null_label", None)
        elif pn in ("activation", "recurrent_activation") and p["type"] == "choice":
            keep = [c for c in p["choices"] if c is None or c in objects["activations"]]
            p["choices"] = keep + [a for a in objects["activations"] if a not in keep]
            p["nullable"] = True
            p.setdefault("null_label", "linear")
            if None not in p["choices"]:
                p["choices"].insert(0, None)
    if takes_kwargs(cls):
        fixed = set().union(
            *(
                _super_keywords(k)
                for k in cls.__mro__
                if "__init__" in vars(k) and k.__module__.startswith("keras")
            )
        )
        base = {p["name"]: p["example"] for p in entry["params"] if p.get("required")}
        base.update(entry.get("example_config", {}))
        for key, default in BASE_KWARGS.items():
            if key not in fixed and key not in sig and _accepts(cls, base, key):
                sig[key] = default
    call = inspect.signature(cls.call).parameters
    if "training" in call and "training" not in listed:
        default = call["training"].default
        default = None if default is inspect.Parameter.empty else default
        entry["params"].append(
            {
                "name": "training",
                "type": "bool",
                "default": default,
                "nullable": True,
                "null_label": "Keras decides (fit: on, predict: off)",
                "call": True,
                "advanced": True,
                "label": "Training mode",
                "help": "Force training behaviour (dropout, noise, batch statistics) on or off in every call; unset lets Keras decide.",
            }
        )
        listed.add("training")
    for key, default in sig.items():
        if key in listed:
            continue
        p = classify(name, key, default, objects)
        if p.get("required"):
            raise SystemExit(f"{name}.{key} is required but not catalogued")
        p["advanced"] = True
        p["label"] = _label(key)
        p["help"] = keras_doc(cls, key) or f"Keras' {key} setting."
        entry["params"].append(p)


def write(data: dict) -> None:
    CATALOGUE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
