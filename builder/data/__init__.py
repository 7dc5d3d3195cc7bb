"""The data layer: dataset metadata, loading, preprocessing, CSV files, validation splits.

Importing ``builder.data`` is cheap (no NumPy): the registry is plain data; NumPy, Keras,
scikit-learn and pandas are imported when data is loaded.

    from builder.data import describe, prepare
    info = describe(project["data"])          # task, classes, input spec: no loading
    prepared = prepare(project, progress)     # arrays ready for model.fit
"""

from builder.data.errors import DataError
from builder.data.registry import (
    DATASETS,
    DataInfo,
    DatasetSpec,
    describe,
    input_spec,
    recommend,
    resolved_options,
    validate_data_settings,
)

# Loading, CSV reading and splitting need NumPy: imported on first use, so that reading
# a project (the app's first paint) does not import it.
_LAZY = {
    "CsvSummary": "csv_data",
    "inspect_csv": "csv_data",
    "Prepared": "loader",
    "clear_cache": "loader",
    "prepare": "loader",
    "holdout": "splits",
    "kfold_splits": "splits",
    "num_samples": "splits",
    "subset": "splits",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'builder.data' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"builder.data.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DATASETS",
    "CsvSummary",
    "DataError",
    "DataInfo",
    "DatasetSpec",
    "Prepared",
    "clear_cache",
    "describe",
    "holdout",
    "input_spec",
    "inspect_csv",
    "kfold_splits",
    "num_samples",
    "prepare",
    "recommend",
    "resolved_options",
    "subset",
    "validate_data_settings",
]
