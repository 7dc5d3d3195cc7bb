"""The project file's optional ``experiment`` section: what varies, how it is searched.

An experiment runs the project several times (trials), each with some settings changed. A
setting is addressed the way the project file addresses it::

    layers.<layer name>.<Keras argument>   e.g. layers.hidden.units, layers.hidden.activation
    layers.<name>+<name>.<Keras argument>  the same value in several layers at once
    layers.<layer name>.repeat             0, 1, 2, 3 copies of the layer (0 omits it):
                                           the book's one, two or three hidden layers
    layers.<layer name>.include            true / false: keep or omit the layer
    compile.optimizer                      the optimizer's class name (RMSprop, Adam, ...)
    compile.optimizer.<argument>           e.g. compile.optimizer.learning_rate
    compile.loss                           a loss name
    fit.batch_size, fit.seed
    data.options.<option>                  e.g. data.options.num_words

Each parameter is a list of ``values`` (a choice) or a range ``low``..``high`` (``"type"``
``"int"`` or ``"float"``, inferred from the bounds; ``"log": true`` samples on a log scale).
The section::

    "experiment": {
      "parameters": [{"setting": "layers.hidden.units", "values": [32, 64, 128]},
                     {"setting": "compile.optimizer.learning_rate",
                      "low": 0.0001, "high": 0.01, "log": true}],
      "search": "grid" | "random" | "tpe",      # tpe: Optuna's Bayesian search
      "trials": 8,              # grid: at most this many of its combinations (default all)
      "max_minutes": 30,        # wall-time budget (null: none)
      "concurrency": 2,         # trials at the same time
      "metric": "val_loss", "mode": "min",
      "early_stopping": {"method": "asha", "grace_period": 3, "reduction_factor": 2} | null,
                                # grace_period absent: a tenth of the epochs (asha_settings)
      "cpus_per_trial": 1, "gpus_per_trial": 0
    }

Every value is checked by applying it to the project and validating the result exactly as a
single run is validated, so a sweep never starts a trial the project file would refuse.
Nothing here imports TensorFlow or Ray.
The section's keys, defaults and caps are in ``section``, applying values in ``apply``,
validation in ``validate`` and the suggestions of the forms' "vary" boxes in ``suggest``;
this module gathers their names, the one place the rest of the app imports from, and
registers the section's validator with ``builder.project``.
"""

from __future__ import annotations

import copy as copy  # tests count deepcopy calls through spec.copy

from builder.experiments.apply import _drop_implicit_inbound as _drop_implicit_inbound
from builder.experiments.apply import _layer_index as _layer_index
from builder.experiments.apply import _make_inbound_explicit as _make_inbound_explicit
from builder.experiments.apply import _omit as _omit
from builder.experiments.apply import _repeat as _repeat
from builder.experiments.apply import _split_setting as _split_setting
from builder.experiments.apply import apply
from builder.experiments.section import (
    FIT_SETTINGS,
    MAX_GRID,
    MAX_REPEAT,
    MAX_TRIALS,
    MODES,
    OPTIMIZERS,
    SEARCHES,
    asha_settings,
    default_mode,
    defaults,
    grid,
    grid_size,
)
from builder.experiments.suggest import (
    compile_setting,
    describe,
    fit_setting,
    layer_setting,
    mark_varied,
    suggest,
    unmark_varied,
    varied,
)
from builder.experiments.validate import metric_names, validate_section
from builder.project import register_section

__all__ = [
    "FIT_SETTINGS",
    "MAX_GRID",
    "MAX_REPEAT",
    "MAX_TRIALS",
    "MODES",
    "OPTIMIZERS",
    "SEARCHES",
    "apply",
    "asha_settings",
    "compile_setting",
    "default_mode",
    "defaults",
    "describe",
    "fit_setting",
    "grid",
    "grid_size",
    "layer_setting",
    "mark_varied",
    "metric_names",
    "suggest",
    "unmark_varied",
    "validate_section",
    "varied",
]

register_section("experiment", validate_section)
