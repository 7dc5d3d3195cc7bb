"""The fitted encoder of a project's dataset: everything training learnt or chose about
turning the raw data into model inputs and labels, as plain values.

``fit(project)`` asks the same code that prepares data for training (``loader``,
``csv_data``, ``preprocess``) and copies its result into a ``FittedEncoder``, whose
``literals()`` are JSON-like values (str, int, float, bool, None, lists, dicts). The
exported script and notebook write these literals into their data section, next to the
functions training itself uses (``standardize``, ``encode_columns``, ...), so they rebuild
exactly the inputs the app trains on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from builder.data.preprocess import labels_for_loss
from builder.data.registry import DATASETS, describe, resolved_options
from builder.data.splits import SPLIT_SEED

__all__ = ["FittedEncoder", "fit", "label_form"]


@dataclass(frozen=True)
class FittedEncoder:
    """A dataset's encoding, fitted on its training split.

    Every dataset: ``dataset``, ``source`` ("keras", "sklearn", "csv"), ``sample_kind``,
    ``options`` (the preprocessing choices, defaults filled in), ``task``, ``num_classes``,
    ``class_names``, ``split_seed``, ``labels`` ({output: "one_hot" | "integer" | "binary" |
    "value"}, how each output's loss receives the labels).
    Tables: ``feature_names``; ``mean``/``std`` per feature (None without normalisation).
    CSV: ``file_name``, ``delimiter``, ``target``, ``target_classes`` (the target's values
    in class order, None for regression), ``target_is_text``, ``columns`` (kept columns as
    ``csv_data.encode_columns`` reads them: name, kind, fill or categories), ``dropped``
    ([name, why] per column left out: named in the ``exclude`` option, a row ID, free
    text, empty; the script leaves out the same, as it encodes ``columns`` only).
    Images: ``pixel_scale`` (what a pixel is divided by), ``input_shape``.
    Text: ``multi_hot_dimension`` (multi-hot) or ``maxlen`` (padded sequences).
    A regression target standardised for training: ``target_mean``/``target_std`` (the
    model's last step multiplies by std and adds the mean: ``loader.label_scale``).
    """

    dataset: str
    source: str
    sample_kind: str
    options: dict
    task: str
    num_classes: int | None
    class_names: list[str] | None
    split_seed: int
    labels: dict[str, str] = field(default_factory=dict)
    feature_names: list[str] | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    file_name: str | None = None
    delimiter: str | None = None
    target: str | None = None
    target_classes: list | None = None
    target_is_text: bool = False
    columns: list[dict] | None = None
    dropped: list[list[str]] | None = None
    pixel_scale: float | None = None
    input_shape: list[int] | None = None
    multi_hot_dimension: int | None = None
    maxlen: int | None = None
    targets: list[dict] | None = None
    target_mean: float | None = None
    target_std: float | None = None

    def literals(self) -> dict[str, Any]:
        """The encoder as plain JSON-like values."""
        return asdict(self)


def _floats(array: np.ndarray | None) -> list[float] | None:
    """float32 statistics as Python floats: float(x) of a float32 is exact, and turning the
    literal back into float32 gives the same number."""
    return None if array is None else [float(v) for v in np.asarray(array, np.float32)]


def label_form(loss: Any, info) -> str:
    """How labels reach ``loss`` for the dataset described by ``info`` (a DataInfo):
    "one_hot", "integer", "binary" or "value", the decision ``labels_for_loss`` makes
    when training. DataError for a classification loss on a regression dataset."""
    _, form, _ = labels_for_loss(
        np.zeros(0, np.int32),
        loss,
        task=info.task,
        num_classes=info.num_classes or 2,
        label_encoding=info.label_encoding,
        dataset=DATASETS[info.dataset].label,
    )
    return form


def fit(project: dict, allow_download: bool = False) -> FittedEncoder:
    """The fitted encoder of the project's dataset, for its model's outputs and losses.

    Images and text need no data (their encoding is the options); tables are loaded and
    fitted as for training (cached), so a Keras table (Boston Housing) must be in Keras'
    cache unless ``allow_download``. Raises DataError for what a person can fix.
    """
    from builder.data import csv_data, loader

    data = project.get("data")
    options = resolved_options(data)
    info = describe(data)
    name = info.dataset
    spec = DATASETS[name]
    loss = (project.get("compile") or {}).get("loss")
    outputs = list((project.get("model") or {}).get("outputs") or ["output"])
    labels = {
        out: label_form(loss[out] if isinstance(loss, dict) else loss, info.for_output(out))
        for out in outputs
    }
    common: dict[str, Any] = dict(
        dataset=name,
        source=spec.source,
        sample_kind=spec.sample_kind,
        options=dict(options),
        task=info.task,
        num_classes=info.num_classes,
        class_names=list(info.class_names) if info.class_names else None,
        split_seed=SPLIT_SEED,
        labels=labels,
    )
    if spec.sample_kind == "image":
        return FittedEncoder(
            **common,
            pixel_scale=loader.pixel_scale(name),
            input_shape=list(loader.image_shape(name, options)),
        )
    if spec.sample_kind == "text":
        if options["encoding"] == "multi_hot":
            return FittedEncoder(**common, multi_hot_dimension=int(options["num_words"]))
        return FittedEncoder(**common, maxlen=int(options["maxlen"]))
    scale = loader.label_scale(project, allow_download) if spec.sample_kind == "table" else None
    if scale is not None:
        common.update(target_mean=scale[0], target_std=scale[1])
    if spec.source == "csv":
        table = csv_data.load_table_cached(options)
        enc = table.encoder
        # Only the file's name: an exported script holds no folder of the machine that made it.
        file_name = str(options["path"]).replace("\\", "/").rsplit("/", 1)[-1]
        return FittedEncoder(
            **common,
            feature_names=list(table.feature_names),
            mean=_floats(enc.mean),
            std=_floats(enc.std),
            file_name=file_name,
            delimiter=table.delimiter,
            target=table.target,
            target_classes=list(table.target_classes) if table.target_classes else None,
            target_is_text=table.target_is_text,
            columns=[col.literal() for col in enc.columns],
            dropped=[[col, why] for col, why in enc.dropped],
            targets=[
                {
                    "column": col.column,
                    "output": target.output,
                    "task": col.task,
                    "num_classes": col.num_classes,
                    "class_names": list(col.class_names) if col.class_names else None,
                    "classes": list(col.classes) if col.classes else None,
                    "is_text": col.is_text,
                }
                for target, col in zip(info.targets, table.targets)
            ]
            or None,
        )
    if not options.get("normalize"):
        return FittedEncoder(**common, feature_names=list(spec.feature_names or ()) or None)
    feats = loader._features(name, options, lambda fraction, message: None, allow_download)
    return FittedEncoder(
        **common,
        feature_names=list(feats.feature_names or ()) or None,
        mean=_floats(feats.mean),
        std=_floats(feats.std),
    )
