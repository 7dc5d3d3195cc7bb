"""builder.values: one rule for numbers in JSON, shared by the project file, the layer
catalogue and the dataset registry (NaN and infinity are not numbers anywhere)."""

from __future__ import annotations

import math

import pytest

from builder import catalogue
from builder.data import validate_data_settings
from builder.project import ProjectError, validate
from builder.values import is_int, is_number
from tests.helpers import project


@pytest.mark.parametrize(
    "value, whole, number",
    [
        (3, True, True),
        (0, True, True),
        (-2, True, True),
        (2.5, False, True),
        (1e300, False, True),
        (True, False, False),
        (False, False, False),
        (math.nan, False, False),
        (math.inf, False, False),
        (-math.inf, False, False),
        ("3", False, False),
        (None, False, False),
        ([1], False, False),
    ],
)
def test_is_int_and_is_number(value, whole, number):
    assert is_int(value) is whole
    assert is_number(value) is number


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_every_validator_refuses_nan_and_infinity(bad):
    doc = project([("d1", "Dense", {"units": 2})])
    doc["model"]["layers"][0]["position"] = [bad, 0]
    with pytest.raises(ProjectError, match="position"):
        validate(doc)
    (refusal,) = catalogue.validate_config("Dropout", {"rate": bad})
    assert refusal.startswith("layer.config.rate: rate=")
    (refusal,) = validate_data_settings({"dataset": "diabetes", "options": {"test_fraction": bad}})
    assert refusal.startswith("data.options.test_fraction: must be a number")
