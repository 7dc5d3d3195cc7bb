"""The templates that show Keras' reach: a Transformer encoder for IMDB, a MobileNet-style
depthwise-separable convnet and an augmented convnet for CIFAR-10. Each checks, and trains
one epoch on tiny stand-in data given through the loader seam (nothing downloads)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import fixtures_data

from builder import templates
from builder.build import build
from builder.checker import check
from builder.data import clear_cache, keras_sets, prepare
from builder.training import feed


class TinyImages:
    """Twenty 32×32 colour images in 10 classes, in keras.datasets.cifar10's format."""

    def check(self, allow_download, roles=("data",)):
        return None

    def load(self, num_words=None):
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
        y = (np.arange(20) % 10).reshape(-1, 1).astype(np.uint8)
        return (x[:14], y[:14]), (x[14:], y[14:])


@pytest.fixture
def tiny_sources(tmp_path, monkeypatch):
    monkeypatch.setitem(keras_sets.SOURCES, "imdb", fixtures_data.write_imdb(tmp_path))
    monkeypatch.setitem(keras_sets.SOURCES, "cifar10", TinyImages())
    clear_cache()
    yield
    clear_cache()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "name, classes",
    [
        (
            "imdb_transformer",
            {"Embedding", "EinsumDense", "MultiHeadAttention", "Add", "LayerNormalization"},
        ),
        ("cifar10_mobilenet", {"DepthwiseConv2D", "Conv2D", "BatchNormalization", "ReLU"}),
        ("cifar10_augmented", {"RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"}),
    ],
)
def test_template_checks_and_trains_one_epoch(tiny_sources, name, classes):
    project = templates.load(name)
    assert classes <= {lay["class_name"] for lay in project["model"]["layers"]}
    result = check(project)
    assert result.valid, [r.error for r in result.layers if r.error]
    data = prepare(project)
    model = build(project)
    assert model.count_params() == result.total_params
    history = feed.fit(model, data.x_train, data.y_train, batch_size=8, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and math.isfinite(history.history["loss"][0])
    scores = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    assert 0.0 <= scores["accuracy"] <= 1.0


def test_transformer_self_attention_reads_one_sequence_twice():
    project = templates.load("imdb_transformer")
    attention = next(
        lay for lay in project["model"]["layers"] if lay["class_name"] == "MultiHeadAttention"
    )
    assert attention["inbound"] == ["positions", "positions"]
    report = check(project).layer(attention["name"])
    assert report.output_shape == [None, 200, 32]


def test_augmentation_card_says_training_only():
    from builder import catalogue

    for cls in ("RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast"):
        assert "only while training" in catalogue.get(cls)["help"]
        assert catalogue.get(cls)["category"] == "augmentation"


def test_normalization_adapts_to_the_training_data():
    import keras
    from helpers import project

    from builder.build import adapt

    p = project(
        [
            ("scale", "Dense", {"units": 3}),
            ("norm", "Normalization", {}),
            ("out", "Dense", {"units": 1}),
        ],
        shape=(2,),
        loss="mse",
        metrics=(),
    )
    model = build(p)
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, (500, 2)).astype("float32")
    assert adapt(model, x) == ["norm"]
    norm = model.get_layer("norm")
    inner = keras.Model(model.inputs, norm.input).predict(x, verbose=0)
    np.testing.assert_allclose(
        np.asarray(norm.mean).reshape(-1), inner.mean(axis=0), rtol=1e-3, atol=1e-3
    )
    given = project(
        [
            ("norm", "Normalization", {"mean": [1.0, 2.0], "variance": [1.0, 1.0]}),
            ("out", "Dense", {"units": 1}),
        ],
        shape=(2,),
        loss="mse",
        metrics=(),
    )
    assert adapt(build(given), x) == []


def test_exported_script_adapts_normalization_too(tmp_path):
    import subprocess
    import sys

    from helpers import project

    from builder import export

    p = project(
        [("norm", "Normalization", {}), ("out", "Dense", {"units": 3, "activation": "softmax"})],
        shape=(13,),
        loss="sparse_categorical_crossentropy",
        dataset="wine",
    )
    p["fit"]["validation"] = {"method": "holdout", "fraction": 0.2}
    script = tmp_path / "wine_norm.py"
    script.write_text(export.to_script(p), encoding="utf-8")
    assert "adapt_normalization(model, inputs(partial_x_train))" in script.read_text()
    done = subprocess.run(
        [sys.executable, str(script), "--smoke", "--report", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
