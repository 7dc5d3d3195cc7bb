"""``prepare(project)``: the project's dataset loaded and encoded for its model and loss.

Loading and encoding (the slow part: files, multi-hot vectors, normalisation) is cached
per dataset and options, so a second training run or a change of loss is instant; labels
are then shaped for the loss in ``project["compile"]["loss"]``. Everything a person can
fix raises ``DataError``; TensorFlow is imported only when a Keras dataset is loaded.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from builder.data import csv_data, keras_sets, sklearn_sets
from builder.data.errors import DataError
from builder.data.preprocess import (
    MultiHotRows,
    Ragged,
    TextCodec,
    labels_for_loss,
    multi_hot,
    pad_sequences,
    scale_pixels,
    standardize,
    standardize_fit,
)
from builder.data.registry import DATASETS, DataInfo, describe, resolved_options

__all__ = ["Prepared", "Progress", "clear_cache", "prepare"]

Progress = Callable[[float, str], None]


@dataclass(eq=False)
class Prepared:
    """A dataset ready for ``model.fit``; the test split is untouched until evaluation.

    x_*: model inputs, (samples, *info.input_spec["shape"]) of info.input_spec["dtype"];
    multi-hot text is a ``MultiHotRows`` (word ids, encoded per batch by
    ``builder.training.feed``), every other input a NumPy array.
    y_*: labels in the form the loss needs (``info.label_encoding``); a dict keyed by output
    name when ``compile.loss`` is a dict. *_targets: the same labels as class numbers
    (int32) or values (float32), for confusion matrices and for showing samples.
    ``options``: the dataset options with defaults filled in. ``notes``: what a person
    should know (labels changed to suit the loss, blanks filled, columns left out).
    Tables: ``feature_names`` names the model's inputs (a CSV's text columns become
    ``column=value`` inputs); ``mean``/``std`` are (features,) statistics of the training
    split used to normalise them (None when not normalised); ``raw_tables`` holds both
    splits' rows before encoding. Text: ``*_sequences`` are the word ids of every text
    before padding (``Ragged``). Arrays are shared with the cache, hence read-only.
    A CSV with several target columns (``info.targets``): y_* are dicts keyed by output
    name, each output's own column shaped for its loss; ``output_targets`` maps each output
    to its column's (train, test) class numbers or values; *_targets are the first one's.
    """

    x_train: np.ndarray
    y_train: Any
    x_test: np.ndarray
    y_test: Any
    info: DataInfo
    train_targets: np.ndarray
    test_targets: np.ndarray
    options: dict
    notes: list[str] = field(default_factory=list)
    feature_names: list[str] | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    train_sequences: Ragged | None = None
    test_sequences: Ragged | None = None
    allow_download: bool = False
    raw_tables: tuple[Any, Any] | None = field(default=None, repr=False)
    table_encoder: csv_data.TableEncoder | None = field(default=None, repr=False)
    output_targets: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _codec: TextCodec | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ samples

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return self.x_train, self.train_targets
        if split == "test":
            return self.x_test, self.test_targets
        raise DataError(f"split must be 'train' or 'test', got {split!r}.")

    def label_name(self, target: Any, output: str | None = None) -> str:
        """A label as a person reads it: the class name, or the value for regression
        (of ``output``'s own target column when the file has several)."""
        info = self.info if output is None else self.info.for_output(output)
        if info.task == "regression":
            return f"{float(target):.4g}"
        return info.class_names[int(target)]

    def predicted_label(self, values: Any, output: str | None = None) -> str:
        """One sample's model output as a person reads it (of ``output``'s own column when
        the file has several): the value for regression, else the most probable class and
        its probability (one sigmoid unit is the probability of the second class)."""
        info = self.info if output is None else self.info.for_output(output)
        flat = np.asarray(values, np.float64).ravel()
        if info.task == "regression":
            return f"{float(flat[0]):.4g}"
        probabilities = np.array([1 - flat[0], flat[0]]) if flat.size == 1 else flat
        best = int(np.argmax(probabilities))
        names = info.class_names or ()
        name = names[best] if best < len(names) else f"class {best}"
        return f"{name} ({float(probabilities[best]):.2f})"

    def sample(self, split: str, i: int) -> dict:
        """One sample to show a person.

        Always has "kind", "split", "index", "label" (friendly) and "target" (what the
        label is). Text adds "text" (decoded words) and "ids"; images add "pixels" (uint8,
        (H, W) for grayscale, (H, W, 3) for colour); tables add "row" ({column: value} in
        the file's units, before normalisation). Several target columns add "labels":
        {output: {"column", "label"}}; "label" and "target" then list them all.
        """
        x, targets = self._split(split)
        n = len(targets)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            raise DataError(
                f"there is no sample {i!r}: the {split} split has {n:,} samples, "
                f"numbered 0 to {n - 1:,}."
            )
        i = int(i)
        out = {
            "kind": self.info.sample_kind,
            "split": split,
            "index": i,
            "label": self.label_name(targets[i]),
            "target": self.info.target_name,
        }
        if self.output_targets:
            labels = {
                out: {
                    "column": self.info.target_of(out).column,
                    "label": self.label_name(pair[0 if split == "train" else 1][i], out),
                }
                for out, pair in self.output_targets.items()
            }
            out["labels"] = labels
            out["target"] = ", ".join(v["column"] for v in labels.values())
            out["label"] = " · ".join(f"{v['column']} {v['label']}" for v in labels.values())
        if self.info.sample_kind == "text":
            seqs = self.train_sequences if split == "train" else self.test_sequences
            out["ids"] = seqs[i].tolist()
            out["text"] = self.decode_text(seqs[i])
        elif self.info.sample_kind == "image":
            h, w, c = DATASETS[self.info.dataset].sample_shape
            pixels = np.rint(np.asarray(x[i], np.float32).reshape(h, w, c) * 255)
            pixels = np.clip(pixels, 0, 255).astype(np.uint8)
            out["pixels"] = pixels[..., 0] if c == 1 else pixels
        else:
            raw = self.raw_tables[0 if split == "train" else 1]
            if hasattr(raw, "iloc"):
                values = raw.iloc[i].tolist()
                names = list(raw.columns)
            else:
                values = raw[i].tolist()
                names = self.feature_names
            out["row"] = {
                name: (None if isinstance(v, float) and math.isnan(v) else v)
                for name, v in zip(names, values)
            }
        return out

    # ------------------------------------------------------------------ text

    @property
    def codec(self) -> TextCodec:
        """Word ids <-> words; loads the word index on first use (DataError when missing)."""
        if self.info.sample_kind != "text":
            raise DataError(
                f"{DATASETS[self.info.dataset].label} is not text: it has no "
                "words to encode or decode."
            )
        if self._codec is None:
            index = keras_sets.word_index(self.info.dataset, self.allow_download)
            self._codec = TextCodec(index, self.options["num_words"])
        return self._codec

    def decode_text(self, ids: Any) -> str:
        """The words of a sequence of ids ("?" for words outside the vocabulary)."""
        return self.codec.decode(ids)

    def encode_text(self, text: str) -> np.ndarray:
        """Your own text as model input, (1, num_words) float32 multi-hot or (1, maxlen) int32.

        Same convention as the data: start id 1, each word's rank + 3, 2 for unknown words.
        """
        ids = self.codec.encode(text)
        if self.options["encoding"] == "multi_hot":
            return multi_hot([ids], self.options["num_words"])
        return pad_sequences([ids], self.options["maxlen"])

    # ------------------------------------------------------------------ tables

    def encode_row(self, row: Mapping[str, Any]) -> np.ndarray:
        """One new table row ({column: value}) as model input, (1, features) float32,
        encoded and normalised with the training split's statistics."""
        if self.info.sample_kind != "table":
            raise DataError(
                f"{DATASETS[self.info.dataset].label} is not a table: encode_row "
                "takes a row of column values."
            )
        if self.table_encoder is not None:
            import pandas as pd

            columns = [col.name for col in self.table_encoder.columns]
            return self.table_encoder.encode(pd.DataFrame([{c: row.get(c) for c in columns}]))
        missing = [name for name in self.feature_names if name not in row]
        if missing:
            raise DataError(
                f"the row has no value for {', '.join(map(repr, missing))}: give "
                f"all of {', '.join(self.feature_names)}."
            )
        try:
            x = np.array([[float(row[name]) for name in self.feature_names]], np.float32)
        except (TypeError, ValueError) as err:
            raise DataError(f"every value of the row must be a number: {err}.") from None
        return standardize(x, self.mean, self.std) if self.mean is not None else x


# --------------------------------------------------------------------------- feature cache


@dataclass(frozen=True, eq=False)
class _Features:
    """Inputs and targets of both splits, before labels are shaped for a loss."""

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    notes: tuple[str, ...] = ()
    feature_names: tuple[str, ...] | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    sequences: tuple[Ragged, Ragged] | None = None
    raw_tables: tuple[Any, Any] | None = None
    encoder: csv_data.TableEncoder | None = None
    # A CSV with several target columns: (train, test) targets of each, in their order.
    targets: tuple[tuple[np.ndarray, np.ndarray], ...] = ()


class _FeatureCache:
    """The last few encoded datasets, safe to share between Streamlit's script threads."""

    def __init__(self, size: int = 2):
        self._size = size
        self._items: OrderedDict[tuple, _Features] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Features | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: tuple, value: _Features) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# Two entries: the dataset in use and the one before it (MNIST as float32 is 220 MB).
_FEATURES = _FeatureCache(size=2)


def clear_cache() -> None:
    """Forget every loaded and encoded dataset (Keras' downloaded files stay on disk)."""
    _FEATURES.clear()
    keras_sets._text.cache_clear()
    keras_sets._word_index.cache_clear()
    keras_sets._arrays.cache_clear()
    sklearn_sets.load_split.cache_clear()
    csv_data._load_cached.cache_clear()
    csv_data._header_cached.cache_clear()


def _cache_key(name: str, options: dict) -> tuple:
    shaped = tuple(
        sorted(
            (k, json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v)
            for k, v in options.items()
            if k != "label_encoding"
        )
    )
    spec = DATASETS[name]
    if spec.source == "keras":
        return name, shaped, keras_sets.SOURCES[name]
    if spec.source == "csv":
        return name, shaped, csv_data._stat_key(options["path"])
    return name, shaped


def _read_only(*arrays: np.ndarray | MultiHotRows | None) -> None:
    for array in arrays:
        if isinstance(array, MultiHotRows):
            _read_only(array.sequences.values, array.sequences.offsets)
        elif array is not None:
            array.flags.writeable = False


def _text_features(name: str, options: dict, report: Progress, allow_download: bool):
    spec = DATASETS[name]
    num_words = options["num_words"]
    report(0.05, f"Loading {spec.label} ({spec.files[0]['name']})...")
    data = keras_sets.load_text(name, num_words, allow_download)
    count = len(data.train) + len(data.test)
    if options["encoding"] == "multi_hot":
        # Kept as word ids and encoded batch by batch while training (MultiHotRows).
        report(
            0.6,
            f"Keeping {count:,} texts as word ids for multi-hot vectors of "
            f"{num_words:,} words (encoded batch by batch while training)...",
        )
        x_train = MultiHotRows(data.train, num_words)
        x_test = MultiHotRows(data.test, num_words)
    else:
        maxlen = options["maxlen"]
        report(0.6, f"Padding {count:,} texts to {maxlen} word ids...")
        x_train, x_test = pad_sequences(data.train, maxlen), pad_sequences(data.test, maxlen)
        cut = int((data.train.lengths > maxlen).sum() + (data.test.lengths > maxlen).sum())
        notes = (
            (
                f"{cut:,} of {count:,} texts are longer than maxlen={maxlen} and keep only "
                "their last words.",
            )
            if cut
            else ()
        )
        return _Features(
            x_train,
            data.y_train,
            x_test,
            data.y_test,
            notes=notes,
            sequences=(data.train, data.test),
        )
    return _Features(x_train, data.y_train, x_test, data.y_test, sequences=(data.train, data.test))


def pixel_scale(name: str) -> float:
    """What a pixel is divided by to lie in [0, 1]: scikit-learn's digits count 0..16 dark
    cells per pixel block, Keras' images 0..255."""
    return 16.0 if DATASETS[name].source == "sklearn" else 255.0


def image_shape(name: str, options: dict) -> tuple[int, ...]:
    """One image's input shape: (height, width, channels), or flat for Dense."""
    spec = DATASETS[name]
    if options["image_layout"] == "image":
        return tuple(spec.sample_shape)
    return (math.prod(spec.sample_shape),)


def _image_features(name: str, options: dict, report: Progress, allow_download: bool):
    spec = DATASETS[name]
    report(0.05, f"Loading {spec.label}...")
    if spec.source == "sklearn":
        x_train, y_train, x_test, y_test, _ = sklearn_sets.load_split(
            name, options["test_fraction"]
        )
    else:
        x_train, y_train, x_test, y_test = keras_sets.load_images(name, allow_download)
    report(0.6, "Scaling pixels to 0-1...")
    top, shape = pixel_scale(name), image_shape(name, options)
    return _Features(
        scale_pixels(x_train, top, shape), y_train, scale_pixels(x_test, top, shape), y_test
    )


def _table_features(name: str, options: dict, report: Progress, allow_download: bool):
    spec = DATASETS[name]
    report(0.05, f"Loading {spec.label}...")
    if spec.source == "csv":
        table = csv_data.load_table_cached(options)
        enc = table.encoder
        return _Features(
            table.x_train,
            table.y_train,
            table.x_test,
            table.y_test,
            notes=tuple(table.notes),
            feature_names=tuple(table.feature_names),
            mean=enc.mean,
            std=enc.std,
            raw_tables=(table.raw_train, table.raw_test),
            encoder=enc,
            targets=tuple((col.y_train, col.y_test) for col in table.targets)
            if options.get("targets")
            else (),
        )
    if spec.source == "sklearn":
        x_train, y_train, x_test, y_test, names = sklearn_sets.load_split(
            name, options["test_fraction"]
        )
    else:
        x_train, y_train, x_test, y_test = keras_sets.load_boston(allow_download)
        names = spec.feature_names
    mean = std = None
    features_train = np.asarray(x_train, np.float32)
    features_test = np.asarray(x_test, np.float32)
    if options["normalize"]:
        report(0.6, "Normalising features with the training split's mean and deviation...")
        mean, std = standardize_fit(features_train)
        features_train = standardize(features_train, mean, std)
        features_test = standardize(features_test, mean, std)
    return _Features(
        features_train,
        y_train,
        features_test,
        y_test,
        feature_names=names,
        mean=mean,
        std=std,
        raw_tables=(x_train, x_test),
    )


def _features(name: str, options: dict, report: Progress, allow_download: bool) -> _Features:
    key = _cache_key(name, options)
    cached = _FEATURES.get(key)
    if cached is not None:
        return cached
    build = {"text": _text_features, "image": _image_features, "table": _table_features}[
        DATASETS[name].sample_kind
    ]
    feats = build(name, options, report, allow_download)
    _read_only(feats.x_train, feats.x_test, feats.t_train, feats.t_test, feats.mean, feats.std)
    _FEATURES.put(key, feats)
    return feats


# --------------------------------------------------------------------------- prepare


def _labels(feats: _Features, loss: Any, info: DataInfo, outputs: list[str]):
    """(y_train, y_test, info, notes) for a loss name or a {output: loss} dict; ``info``
    with the label forms the losses chose. Several target columns give each output its own
    column's labels, keyed by output name."""
    if info.targets:
        return _target_labels(feats, loss, info, outputs)
    kwargs = {
        "task": info.task,
        "num_classes": info.num_classes,
        "label_encoding": info.label_encoding,
        "dataset": DATASETS[info.dataset].label,
    }
    if not isinstance(loss, dict):
        y_train, encoding, notes = labels_for_loss(feats.t_train, loss, **kwargs)
        y_test, _, _ = labels_for_loss(feats.t_test, loss, **kwargs)
        return y_train, y_test, replace(info, label_encoding=encoding), notes
    y_train, y_test, encodings, notes = {}, {}, [], []
    for output, output_loss in loss.items():
        y_train[output], encoding, output_notes = labels_for_loss(
            feats.t_train, output_loss, **kwargs
        )
        y_test[output], _, _ = labels_for_loss(feats.t_test, output_loss, **kwargs)
        encodings.append(encoding)
        notes.extend(f"Output {output!r}: {note}" for note in output_notes)
    encoding = encodings[0] if encodings else info.label_encoding
    return y_train, y_test, replace(info, label_encoding=encoding), notes


def _target_labels(feats: _Features, loss: Any, info: DataInfo, outputs: list[str]):
    """``_labels`` for several target columns: each output's column shaped for its loss."""
    missing = [out for out in outputs if info.target_of(out) is None]
    unknown = [t for t in info.targets if outputs and t.output not in outputs]
    if unknown:
        target = unknown[0]
        raise DataError(
            f"target column {target.column!r} is mapped to output {target.output!r}, "
            f"which the model does not have (its outputs: {', '.join(outputs)}): map it "
            "to one of them on the Data page."
        )
    if missing:
        raise DataError(
            f"output {missing[0]!r} has no target column: map a column to it on the "
            "Data page (each output of the model learns its own column)."
        )
    y_train, y_test, notes, targets = {}, {}, [], []
    for target, (t_train, t_test) in zip(info.targets, feats.targets):
        output_loss = loss.get(target.output) if isinstance(loss, dict) else loss
        kwargs = {
            "task": target.task,
            "num_classes": target.num_classes,
            "label_encoding": target.label_encoding,
            "dataset": f"column {target.column!r} (output {target.output!r})",
        }
        y_train[target.output], encoding, output_notes = labels_for_loss(
            t_train, output_loss, **kwargs
        )
        y_test[target.output], _, _ = labels_for_loss(t_test, output_loss, **kwargs)
        targets.append(replace(target, label_encoding=encoding))
        notes.extend(f"Output {target.output!r}: {note}" for note in output_notes)
    first = targets[0]
    return (
        y_train,
        y_test,
        replace(info, label_encoding=first.label_encoding, targets=tuple(targets)),
        notes,
    )


def _as_targets(task: str, t_train, t_test) -> tuple[np.ndarray, np.ndarray]:
    """Both splits' targets as class numbers (int32) or values (float32, regression)."""
    kind = np.float32 if task == "regression" else np.int32
    return (
        np.asarray(t_train).astype(kind, copy=False),
        np.asarray(t_test).astype(kind, copy=False),
    )


NO_DATA_MESSAGE = (
    "no data is chosen for this model, so there is nothing to train on: choose a dataset "
    'on the Data page, or add a "data" section to the project file (for example '
    '{"dataset": "mnist", "options": {}}).'
)


def prepare(
    project: dict, progress: Progress | None = None, *, allow_download: bool = False
) -> Prepared:
    """Load and encode the project's dataset for its model and loss.

    ``progress(fraction, message)`` hears about the slow steps (fraction from 0 to 1).
    Without ``allow_download`` a Keras dataset must already be in Keras' cache; the UI
    passes True, and a failed download becomes the same "where to put the file" message.
    Raises DataError for invalid settings, missing files, unreadable CSVs, or a loss that
    cannot fit the data (a classification loss on a regression dataset).
    """

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    data = project.get("data") if isinstance(project, dict) else None
    if isinstance(data, dict) and data.get("chosen") is False:
        raise DataError(NO_DATA_MESSAGE)
    options = resolved_options(data)
    info = describe(data)
    name = info.dataset
    feats = _features(name, options, report, allow_download)
    loss = (project.get("compile") or {}).get("loss")
    outputs = list((project.get("model") or {}).get("outputs") or [])
    y_train, y_test, info, label_notes = _labels(feats, loss, info, outputs)
    _read_only(
        *(y_train.values() if isinstance(y_train, dict) else [y_train]),
        *(y_test.values() if isinstance(y_test, dict) else [y_test]),
    )
    train_targets, test_targets = _as_targets(info.task, feats.t_train, feats.t_test)
    output_targets = {
        target.output: _as_targets(target.task, t_train, t_test)
        for target, (t_train, t_test) in zip(info.targets, feats.targets)
    }
    report(1.0, f"Ready: {len(train_targets):,} training and {len(test_targets):,} test samples.")
    return Prepared(
        x_train=feats.x_train,
        y_train=y_train,
        x_test=feats.x_test,
        y_test=y_test,
        info=info,
        train_targets=train_targets,
        test_targets=test_targets,
        output_targets=output_targets,
        options=options,
        notes=list(feats.notes) + label_notes,
        feature_names=list(feats.feature_names) if feats.feature_names is not None else None,
        mean=feats.mean,
        std=feats.std,
        train_sequences=feats.sequences[0] if feats.sequences else None,
        test_sequences=feats.sequences[1] if feats.sequences else None,
        allow_download=allow_download,
        raw_tables=feats.raw_tables,
        table_encoder=feats.encoder,
    )
