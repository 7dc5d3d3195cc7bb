"""The data layer: dataset metadata, loading, preprocessing, CSV files, validation splits.

Importing ``builder.data`` is cheap (numpy only): the registry is plain data and Keras,
scikit-learn and pandas are imported inside the functions that load data.

    from builder.data import describe, prepare
    info = describe(project["data"])          # task, classes, input spec: no loading
    prepared = prepare(project, progress)     # arrays ready for model.fit
"""

from builder.data.csv_data import CsvSummary, inspect_csv
from builder.data.errors import DataError
from builder.data.loader import Prepared, clear_cache, prepare
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
from builder.data.splits import holdout, kfold_splits, num_samples, subset

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
