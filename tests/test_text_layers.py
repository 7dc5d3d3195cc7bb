"""The checker's words for text layers: numbers into a text layer, and a layer after a
vocabulary-wide output whose width is known only once adapt() has run."""

from __future__ import annotations

import pytest
from helpers import project

from builder.checker import check
from builder.fixes import apply_fix


def _model(shape, dtype, config):
    return project(
        [("tv", "TextVectorization", config), ("out", "Dense", {"units": 1})],
        shape=shape,
        dtype=dtype,
        loss="mse",
        metrics=(),
    )


def test_numbers_into_a_text_layer_say_so_and_the_fix_makes_a_text_input():
    config = {"max_tokens": 100, "output_mode": "multi_hot", "pad_to_max_tokens": True}
    p = _model((64,), "float32", config)
    result = check(p)
    tv = result.layers[0]
    assert not result.valid
    assert tv.error.startswith("TextVectorization 'tv' reads text (strings) but receives float32")
    (fix,) = tv.fixes
    assert fix.action == {"op": "set_input", "target": "x", "shape": [], "dtype": "string"}
    fixed = check(apply_fix(p, fix))
    assert fixed.valid and fixed.layers[0].output_shape == [None, 100]


@pytest.mark.parametrize(
    "config, fixable",
    [
        ({"max_tokens": 100, "output_mode": "multi_hot"}, True),
        ({"output_mode": "count"}, False),
    ],
)
def test_a_width_known_only_after_adapt_is_named_on_the_layer_keras_refuses(config, fixable):
    result = check(_model((), "string", config))
    tv, out = result.layers
    assert tv.error is None and tv.output_shape == [None, None]  # Keras builds it so
    assert "outputs" in out.error and "as wide as the vocabulary it learns" in out.error
    assert "pad_to_max_tokens on 'tv'" in out.error
    assert bool(out.fixes) == fixable
    if fixable:
        fixed = check(apply_fix(_model((), "string", config), out.fixes[0]))
        assert fixed.valid and fixed.layers[1].output_shape == [None, 1]


def test_int_output_and_given_vocabularies_need_no_word():
    for config in (
        {"max_tokens": 100, "output_sequence_length": 5},
        {"vocabulary": ["good", "bad"], "output_mode": "multi_hot"},
    ):
        result = check(_model((), "string", config))
        assert result.valid, [r.error for r in result.layers]
