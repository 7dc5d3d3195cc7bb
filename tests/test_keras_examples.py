"""The official Keras examples, opened in netbuilder (``tests/keras_examples.py``).

Each built-in-layer model is saved with ``model.save``, imported from the ``.keras`` file,
checked, built, and exported back (Keras JSON and the Python script). With the original's
weights copied in by layer name, every one of them must compute the same outputs as the
original on the same random inputs, with the same parameter count and output shapes.
Models with custom layers (or a Lambda, or an operation no layer computes) must be
refused with a message naming what was refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from builder import export
from builder.build import build
from builder.checker import check
from builder.keras_import import from_keras_file
from builder.project import ProjectError, validate
from tests import keras_examples


def _layers(model) -> dict:
    """Every layer with weights, by name, nested models' layers included."""
    import keras

    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.update(_layers(layer))
        elif layer.weights:
            found[layer.name] = layer
    return found


def _copy_weights(source, target) -> None:
    """The source model's weights into the target's layers of the same name; every
    weighted layer of both must find its partner."""
    theirs, ours = _layers(source), _layers(target)
    assert set(theirs) == set(ours), (sorted(theirs), sorted(ours))
    for name, layer in ours.items():
        layer.set_weights(theirs[name].get_weights())


def _sample(model, n: int = 3) -> list:
    rng = np.random.default_rng(0)
    data = []
    for tensor in model.inputs:
        shape = [n] + [d if d is not None else 30 for d in tensor.shape[1:]]
        dtype = str(tensor.dtype)
        if "int" in dtype:
            data.append(rng.integers(1, 12, shape).astype(dtype))
        elif dtype == "bool":
            data.append(rng.random(shape) > 0.3)
        else:
            data.append(rng.normal(size=shape).astype(dtype))
    return data


def _outputs(model, data) -> list:
    # node2vec's model takes a dict by input name, the project's a list in the same order
    if isinstance(getattr(model, "_inputs_struct", None), dict):
        args = {t._keras_history.operation.name: d for t, d in zip(model.inputs, data)}
    else:
        args = data if len(data) > 1 else data[0]
    out = model(args, training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    flat = []
    for item in out:
        flat += list(item) if isinstance(item, (list, tuple)) else [item]
    return [np.asarray(o) for o in flat]


def _script_model(project: dict):
    """The model the exported script's ``build_model()`` makes (its model section run
    alone)."""
    # An imported model has no data chosen (export of a whole script refuses it until data
    # is chosen); the script's model section is written from the model alone.
    p = validate({**project, "data": {"dataset": "digits", "options": {}}})
    _, code = export._model_code(p, export._Data(p))
    start = code.index("def build_model():")
    end = code.index("model = build_model()") if "model = build_model()" in code else len(code)
    scope: dict = {}
    exec("import keras\n" + code[start:end], scope)
    return scope["build_model"]()


def _assert_same(original, rebuilt, data, what: str) -> None:
    _copy_weights(original, rebuilt)
    want, got = _outputs(original, data), _outputs(rebuilt, data)
    assert [w.shape for w in want] == [g.shape for g in got], what
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=what)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (original model, path of its .keras file)."""
    folder = tmp_path_factory.mktemp("keras-examples")
    found = {}
    for name, make in keras_examples.BUILT_IN.items():
        model = make()
        path = folder / f"{name}.keras"
        model.save(path)
        found[name] = (model, path)
    return found


@pytest.mark.parametrize("name", list(keras_examples.BUILT_IN))
def test_example_opens_and_computes_what_keras_does(saved, name):
    import keras

    original, path = saved[name]
    project, _ = from_keras_file(path)
    result = check(project)
    assert result.valid, (result.errors, [(r.name, r.error) for r in result.layers if r.error])
    assert result.total_params == original.count_params()
    want_shapes = [list(t.shape) for t in original.outputs]
    got_shapes = []
    for out in project["model"]["outputs"]:
        shape = result.layer(out).output_shape
        got_shapes += shape if isinstance(shape[0], list) else [shape]
    assert got_shapes == want_shapes
    data = _sample(original)
    _assert_same(original, build(project, compile=False), data, "build")
    _assert_same(
        original, keras.models.model_from_json(export.to_keras_json(project)), data, "json"
    )
    _assert_same(original, _script_model(project), data, "script")


@pytest.mark.parametrize("name", list(keras_examples.REFUSED))
def test_custom_example_is_refused_by_name(tmp_path, name):
    make, words = keras_examples.REFUSED[name]
    path = tmp_path / f"{name}.keras"
    make().save(path)
    with pytest.raises(ProjectError) as err:
        from_keras_file(path)
    message = str(err.value)
    for word in words:
        assert word in message, message
    assert "{" not in message and "..." not in message, message  # no JSON dump, nothing cut
    assert message.count("'") % 2 == 0, message  # every quote closed
