"""A shape check builds each distinct layer once, weighted by its catalogue cost, up to
``limits.MAX_CHECK_BUILDS``: past it the layers are reported as not checked (never built),
so no project within the caps costs a check more than seconds. Counted, not timed."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from builder import catalogue, checker, limits
from builder.checker import check
from tests.helpers import project


def _dense_chain(n: int, distinct: bool = True) -> dict:
    def bias(i):
        return {"class_name": "Constant", "config": {"value": i if distinct else 0}}

    layers = [(f"d{i}", "Dense", {"units": 10, "bias_initializer": bias(i)}) for i in range(n)]
    return project(layers, shape=(64,))


def _not_checked(result) -> list[str]:
    return [r.name for r in result.layers if r.error and "was not checked" in r.error]


def test_past_the_budget_layers_are_not_built_and_say_why(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CHECK_BUILDS", 10)
    built = []
    real = checker._run_layer_uncached
    monkeypatch.setattr(checker, "_run_layer_uncached", lambda *a: built.append(a[0]) or real(*a))
    checker._CACHE.clear()
    result = check(_dense_chain(14))
    assert not result.valid
    assert _not_checked(result) == ["d10", "d11", "d12", "d13"]
    assert len(built) == 10  # the four past the budget never reached Keras
    text = next(r.error for r in result.layers if r.name == "d10")
    assert text.startswith("Dense 'd10' was not checked: the model needs more than 10 layer")
    assert "Limits and safety" in text and "same settings" in text
    later = next(r.error for r in result.layers if r.name == "d13")
    assert later == "Dense 'd13' was not checked: past the check's build budget, as from 'd10'."
    # The verdict does not depend on the process' cache: every build counts again.
    again = check(_dense_chain(14))
    assert _not_checked(again) == _not_checked(result) and len(built) == 10


def test_repeated_layers_count_once(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CHECK_BUILDS", 3)
    result = check(_dense_chain(40, distinct=False))
    # d0 reads 64 features, the others 10: two distinct builds for forty layers.
    assert result.valid, [r.error for r in result.layers if r.error][:2]
    assert result.total_params == 64 * 10 + 10 + 39 * (10 * 10 + 10)


def test_a_layer_counts_its_catalogue_cost_and_a_wrapper_its_wrapped_layer(monkeypatch):
    lstm = {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True}}
    cost = catalogue.check_cost("Bidirectional", {"layer": lstm})
    assert (
        cost
        == catalogue.LAYERS["Bidirectional"]["check_cost"] + catalogue.LAYERS["LSTM"]["check_cost"]
    )
    layers = [
        ("b1", "Bidirectional", {"layer": lstm}),
        ("b2", "Bidirectional", {"layer": {**lstm, "config": {"units": 5}}}),
    ]
    layers[1][2]["layer"]["config"]["return_sequences"] = True
    layers.append(("d", "Dense", {"units": 2}))
    doc = project(layers, shape=(6, 3))
    monkeypatch.setattr(limits, "MAX_CHECK_BUILDS", 2 * cost + 1)
    assert check(doc).valid
    # b2 does not fit; d (cost 1) would, but is not built on the shape b2 passed through.
    monkeypatch.setattr(limits, "MAX_CHECK_BUILDS", 2 * cost - 0.5)
    assert _not_checked(check(doc)) == ["b2", "d"]


def test_every_catalogue_cost_is_a_positive_number(tmp_path):
    for cls in catalogue.LAYERS:
        cost = catalogue.check_cost(cls, catalogue.default_config(cls))
        assert 0 < cost <= 100, cls
    assert catalogue.check_cost("NotALayer", None) == 1.0
    data = json.loads(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    for bad in (0, -1, "2", True, 1000):
        data["layers"]["Dense"]["check_cost"] = bad
        path = tmp_path / "catalogue.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(catalogue.CatalogueError, match="Dense: check_cost must be"):
            catalogue._load(path)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_largest_keras_applications_model_checks_in_half_the_budget(monkeypatch):
    """DenseNet201 needs the most distinct builds of keras.applications' models (about
    470 units: its blocks differ in their input's channels)."""
    import keras

    from builder import keras_import

    model = keras.applications.DenseNet201(weights=None, input_shape=(32, 32, 3))
    doc, _ = keras_import.from_keras_json(model.to_json())
    monkeypatch.setattr(limits, "MAX_CHECK_BUILDS", limits.MAX_CHECK_BUILDS / 2)
    result = check(doc)
    assert result.valid, [r.error for r in result.layers if r.error][:2]
    assert result.total_params == model.count_params()
