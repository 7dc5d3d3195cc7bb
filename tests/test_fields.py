"""builder.fields against every real spec: the layer catalogue's parameters, the compile and
fit settings and the dataset options all read their bounds through it, so a bound written
strict is strict everywhere (an exclusive bound once read as inclusive by the sweeps)."""

from __future__ import annotations

import pytest

from builder import catalogue, fields, settings
from builder.data import registry
from builder.experiments import spec as experiment_spec


def _specs() -> list[tuple[str, dict]]:
    found = [
        (f"layer {name}.{p['name']}", p)
        for name, entry in catalogue.LAYERS.items()
        for p in entry.get("params", [])
    ]
    found += [
        (f"optimizer {name}.{p['name']}", p)
        for name, entry in settings.OPTIMIZERS.items()
        for p in entry["params"]
    ]
    found += [
        (f"callback {name}.{p['name']}", p)
        for name, entry in settings.CALLBACKS.items()
        for p in entry["params"]
    ]
    found += [(f"fit.{p['name']}", p) for p in settings.FIT_PARAMS]
    found += [
        (f"dataset {name}.{o['name']}", o)
        for name, ds in registry.DATASETS.items()
        for o in ds.options
    ]
    return [(where, p) for where, p in found if p["type"] in ("int", "float")]


NUMERIC = _specs()


def test_every_source_of_specs_is_read():
    kinds = {where.split()[0] for where, _ in NUMERIC}
    assert {"layer", "optimizer", "callback", "dataset"} <= kinds
    assert any(p.get("min_exclusive") for _, p in NUMERIC)
    assert any(p.get("max_exclusive") for _, p in NUMERIC)


def test_one_spelling_of_exclusive_bounds():
    for where, p in NUMERIC:
        assert not {"exclusive_min", "exclusive_max"} & set(p), where


@pytest.mark.parametrize("where, p", NUMERIC, ids=[w for w, _ in NUMERIC])
def test_bounds_hold_as_written(where, p):
    if p.get("default") is not None:
        assert fields.check_value(p, p["default"]) is None, where
    for bound, strict, outside in (("min", "min_exclusive", -1), ("max", "max_exclusive", 1)):
        value = p.get(bound)
        if value is None:
            continue
        assert fields.in_bounds(p, value) is not bool(p.get(strict)), where
        assert fields.check_value(p, value + outside) is not None, where
        message = fields.check_value(p, value + outside)
        assert fields.bounds_words(p) in message


def test_sweep_suggestions_respect_strict_bounds():
    """A sweep's suggested values around a setting's default stay within its bounds, strict
    ones included (a layer's dropout once got the excluded 1.0)."""
    checked = 0
    for where, p in NUMERIC:
        current = p.get("default", p.get("example"))
        if current is None or not fields.in_bounds(p, current):
            continue
        entry = experiment_spec.suggest(f"layers.x.{p['name']}", current, p)
        values = entry.get("values") or [entry.get("low"), entry.get("high")]
        assert all(fields.in_bounds(p, v) for v in values if v is not None), (where, entry)
        checked += 1
    assert checked > 50


def test_messages_quote_values_briefly():
    assert fields.short("x" * 500).endswith("...") and len(fields.short("x" * 500)) <= 80
    assert fields.cut("a " * 100, 20).endswith("...") and len(fields.cut("a " * 100, 20)) <= 20
    assert fields.did_you_mean("Dens", ["Dense", "Conv2D"]) == " Did you mean 'Dense'?"
    assert fields.closest("x", [str(i) for i in range(fields.MAX_SUGGESTION_OPTIONS + 1)]) is None
