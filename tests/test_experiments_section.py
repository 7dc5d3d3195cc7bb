"""builder/experiments/section.json: the experiment section's keys, defaults and caps as
data. Every case below is drawn from that file, so validation, ``defaults`` and the schema
cannot drift apart."""

from __future__ import annotations

import pytest

from builder.experiments import section, spec
from tests.test_experiments_spec import _digits

FIELDS = section.FIELDS
STATIC = {n: f["default"] for n, f in FIELDS.items() if "default" in f and "derived" not in f}
BOUNDED = [
    (name, f)
    for name, f in FIELDS.items()
    if f["type"] in ("int", "float") and section.upper_bound(f) is not None
]


def _problems(**experiment) -> list[tuple[str, str]]:
    p = _digits(**experiment)
    return spec.validate_section(p, p["experiment"])


def test_the_schema_names_every_key_validation_accepts():
    assert section._KEYS == set(FIELDS)
    assert _problems() == []
    assert [f for f, _ in _problems(trial=3)] == ["experiment.trial"]


@pytest.mark.parametrize("name", sorted(STATIC))
def test_defaults_fill_each_static_default(name):
    filled = spec.defaults({"parameters": [{"setting": "fit.seed", "values": [1, 2]}]})
    assert filled[name] == STATIC[name]
    assert _problems(**{name: STATIC[name]}) == []


def test_derived_defaults_are_valid():
    filled = spec.defaults(_digits()["experiment"])
    assert set(filled) == set(FIELDS)
    assert _problems(**filled) == []


@pytest.mark.parametrize("name, field", BOUNDED, ids=[n for n, _ in BOUNDED])
def test_bounds_are_the_ones_validation_applies(name, field):
    low, high = field["min"], section.upper_bound(field)
    whole = field["type"] == "int"
    step = 1 if whole else 0.5
    assert _problems(**{name: int(high) if whole else high}) == []
    assert [f for f, _ in _problems(**{name: high + step})] == [f"experiment.{name}"]
    below = [f for f, _ in _problems(**{name: low if field.get("min_exclusive") else low - step})]
    assert below == [f"experiment.{name}"]
    if not field.get("min_exclusive"):
        assert _problems(**{name: low}) == []
    if field.get("nullable"):
        assert _problems(**{name: None}) == []


@pytest.mark.parametrize("name", [n for n, f in FIELDS.items() if f["type"] == "choice"])
def test_each_choice_is_accepted_and_others_are_not(name):
    for choice in FIELDS[name]["choices"]:
        extra = {"metric": "val_loss"} if name == "mode" else {}
        assert not [f for f, _ in _problems(**{name: choice}, **extra) if f.endswith(name)]
    assert [f for f, _ in _problems(**{name: "neither"})] == [f"experiment.{name}"]


def test_early_stopping_keys_and_bounds_come_from_the_schema():
    asha = section.SCHEMA["early_stopping"]
    assert section._ASHA_KEYS == set(asha)
    factor = asha["reduction_factor"]
    ok = {"method": "asha", "grace_period": asha["grace_period"]["min"], "reduction_factor": 2}
    assert _problems(early_stopping=ok) == []
    for bad in (factor["min"] - 1, factor["max"] + 1):
        found = _problems(early_stopping={**ok, "reduction_factor": bad})
        assert [f for f, _ in found] == ["experiment.early_stopping.reduction_factor"]
    found = _problems(early_stopping={**ok, "grace_period": asha["grace_period"]["min"] - 1})
    assert [f for f, _ in found] == ["experiment.early_stopping.grace_period"]
