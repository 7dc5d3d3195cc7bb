"""A regression target far from unit scale is standardised for training; the model's last
step (``build.with_label_units``) turns it back, so the loss, every metric and the
predictions are in the label's own units, and the exported script does the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from builder.data import loader, registry
from builder.data.preprocess import target_scale_fit
from tests.helpers import project

ROWS = 160


@pytest.mark.parametrize(
    "values, mode, scaled",
    [
        ([100.0, 200.0, 300.0], "auto", True),  # mean far from 1
        ([0.001, 0.002, 0.004], "auto", True),  # deviation far below 1
        ([-3.0, 0.5, 4.0], "auto", False),  # near unit scale: left alone
        ([-3.0, 0.5, 4.0], "yes", True),
        ([100.0, 200.0, 300.0], "no", False),
        ([7.0, 7.0, 7.0], "yes", False),  # one value: nothing to divide by
    ],
)
def test_when_the_target_is_standardised(values, mode, scaled):
    fitted = target_scale_fit(values, mode)
    assert (fitted is not None) == scaled
    if scaled:
        assert fitted == pytest.approx((np.mean(values), np.std(values)), rel=1e-6)


def _price_csv(tmp_path) -> str:
    rng = np.random.default_rng(3)
    area = rng.normal(100, 25, ROWS)
    frame = pd.DataFrame(
        {
            "area": area,
            "town": rng.choice(["a", "b"], ROWS),
            "price": 2000 * area + rng.normal(0, 2000, ROWS),
        }
    )
    path = tmp_path / "prices.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _project(path, units=1, **options):
    data = {"dataset": "csv", "options": {"path": path, "target": "price", **options}}
    shape = registry.describe(data).input_spec["shape"]
    layers = [("hidden", "Dense", {"units": 8, "activation": "relu"})]
    layers.append(("out", "Dense", {"units": units}))
    return project(
        layers, shape=shape, loss="mse", metrics=["mae"], dataset="csv", options=data["options"]
    )


def test_prepare_keeps_labels_in_their_units_and_says_how_to_scale(tmp_path):
    path = _price_csv(tmp_path)
    loader.clear_cache()
    prepared = loader.prepare(_project(path))
    raw = pd.read_csv(path)["price"].to_numpy(np.float32)
    assert set(np.round(prepared.y_test, 2)) <= set(np.round(raw, 2))  # label units
    mean, std = prepared.label_scale
    assert mean == pytest.approx(float(np.mean(prepared.y_train)), rel=1e-5)
    assert std == pytest.approx(float(np.std(prepared.y_train)), rel=1e-5)
    assert loader.label_scale(_project(path)) == prepared.label_scale
    assert loader.prepare(_project(path, standardize_target="no")).label_scale is None


def test_classes_are_never_scaled(tmp_path):
    path = _price_csv(tmp_path)
    p = _project(path, units=2)
    p["data"]["options"]["target"] = "town"
    p["compile"]["loss"] = "sparse_categorical_crossentropy"
    p["compile"]["metrics"] = ["accuracy"]
    assert loader.prepare(p).label_scale is None


@pytest.mark.slow  # a subprocess or a training run
def test_training_reports_metrics_and_predictions_in_label_units(tmp_path):
    import keras

    from builder.build import LABEL_UNITS
    from builder.training import runs, worker

    path = _price_csv(tmp_path)
    p = _project(path)
    p["fit"].update(epochs=3, batch_size=16)
    loader.clear_cache()
    prepared = loader.prepare(p)
    folder = runs.create_run(tmp_path / "runs", "t", p, {})
    summary = worker.train(p, folder, device="cpu")
    assert summary["state"] == "finished", summary["message"]
    model = keras.models.load_model(folder / "model.keras")
    last = model.layers[-1]
    assert last.name == LABEL_UNITS
    assert (float(last.offset), float(last.scale)) == pytest.approx(prepared.label_scale)
    predicted = model.predict(prepared.x_test, verbose=0)[:, 0]
    mae = float(np.mean(np.abs(predicted - prepared.y_test)))
    assert summary["test"]["mae"] == pytest.approx(mae, rel=1e-3)
    # what the network says before the last step is the standardised target
    inner = keras.Model(model.inputs, model.layers[-2].output).predict(prepared.x_test, verbose=0)
    mean, std = prepared.label_scale
    assert np.allclose(inner[:, 0] * std + mean, predicted, rtol=1e-4, atol=1e-2)


@pytest.mark.slow  # a subprocess or a training run
def test_exported_script_standardises_the_same_way(tmp_path, monkeypatch):
    from builder import export
    from builder.build import build
    from builder.data import encoding

    path = _price_csv(tmp_path)
    p = _project(path)
    monkeypatch.chdir(tmp_path)
    loader.clear_cache()
    prepared = loader.prepare(p)
    enc = encoding.fit(p)
    assert (enc.target_mean, enc.target_std) == prepared.label_scale
    namespace: dict = {"__name__": "__main__"}
    for section in export._sections(p, for_notebook=True):
        if section.title in ("Imports", "Settings", "Data", "Labels", "Model"):
            exec(compile(section.code, f"<export {section.title}>", "exec"), namespace)
    script_model = namespace["model"]
    app_model = build(p, label_scale=prepared.label_scale)
    assert [type(lay).__name__ for lay in script_model.layers] == [
        type(lay).__name__ for lay in app_model.layers
    ]
    script_model.set_weights(app_model.get_weights())
    x = namespace["x_test"]
    assert np.allclose(x, prepared.x_test)
    assert np.allclose(namespace["y_test"], prepared.y_test)  # labels in their own units
    assert np.allclose(
        script_model.predict(x, verbose=0), app_model.predict(x, verbose=0), rtol=1e-6
    )


def test_a_regression_output_of_the_wrong_width_is_an_error_with_its_fix(tmp_path):
    from builder import fit_check
    from builder.fixes import apply_fix

    p = _project(_price_csv(tmp_path), units=10)
    p["model"]["layers"][-1]["config"]["activation"] = "softmax"
    result = fit_check.check(p)
    out = result.layer("out")
    assert not result.valid
    assert "gives 10 numbers per sample but the data has one number" in out.error
    assert [f.label for f in out.fixes] == ["Set units to 1, no activation"]
    assert "units-vs-regression" not in [w.code for w in out.warnings]
    fixed = apply_fix(p, out.fixes[0].action)
    assert fixed["model"]["layers"][-1]["config"]["activation"] is None
    fixed_result = fit_check.check(fixed)
    assert fixed_result.valid and not fixed_result.layer("out").warnings
    p["model"]["layers"][-1]["config"]["activation"] = None
    plain = fit_check.check(p).layer("out")
    assert [f.label for f in plain.fixes] == ["Set units to 1"]
    assert fit_check.check(apply_fix(p, plain.fixes[0].action)).valid
