"""Packs (builder.training.pack): members trained side by side are their own fits.

Keras is the oracle: each member of a pack must end with exactly the weights and the
history that ``model.fit`` of that member alone gives (same seed, same data order), with
different optimizers and learning rates per member, Dropout drawing random numbers, and
a pack rebuilt from its survivors between epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

from builder.training import pack

OPTIMIZERS = [
    ("Adam", {"learning_rate": 1e-3}),
    ("RMSprop", {"learning_rate": 3e-3}),
    ("SGD", {"learning_rate": 1e-2, "momentum": 0.9}),
]
UNITS = [16, 32, 8]


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 6)).astype("float32")
    y = rng.integers(0, 3, 160)
    return x, y, (x[:40], y[:40])


def _model(units: int, optimizer: tuple[str, dict]):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(3, activation="softmax", kernel_regularizer="l2"),
        ]
    )
    name, config = optimizer
    model.compile(
        optimizer=getattr(keras.optimizers, name)(**config),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _alone(epochs: int):
    import keras

    x, y, val = _data()
    out = []
    for units, optimizer in zip(UNITS, OPTIMIZERS):
        model = _model(units, optimizer)
        keras.utils.set_random_seed(0)
        history = model.fit(
            x, y, batch_size=32, epochs=epochs, shuffle=True, validation_data=val, verbose=0
        )
        out.append((model, history.history))
    return out


def _same_weights(a, b) -> float:
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a.get_weights(), b.get_weights()))


def test_packed_members_equal_separate_fits(keras_loaded):
    import keras

    alone = _alone(3)
    x, y, val = _data()
    members = [_model(u, o) for u, o in zip(UNITS, OPTIMIZERS)]
    keras.utils.set_random_seed(0)
    wrapper = pack.build(members, (x[:2], y[:2]), shared=True, prefix=pack.TRIAL_PREFIX)
    logs = wrapper.fit(
        x, y, batch_size=32, epochs=3, shuffle=True, validation_data=val, verbose=0
    ).history
    histories = pack.split_logs(logs, len(members), pack.TRIAL_PREFIX)
    for (model, history), member, got in zip(alone, members, histories):
        assert _same_weights(model, member) == 0.0
        assert [model.optimizer.iterations.numpy()] == [member.optimizer.iterations.numpy()]
        assert got == history


def test_a_pack_rebuilt_from_survivors_continues_each_exactly(keras_loaded):
    import keras

    alone = _alone(4)
    x, y, val = _data()
    members = [_model(u, o) for u, o in zip(UNITS, OPTIMIZERS)]
    keras.utils.set_random_seed(0)
    wrapper = pack.build(members, (x[:2], y[:2]), shared=True, prefix=pack.TRIAL_PREFIX)

    class Rung(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.keep([1, 3])  # member 2 leaves after two epochs

    logs = wrapper.fit(
        x,
        y,
        batch_size=32,
        epochs=4,
        shuffle=True,
        validation_data=val,
        verbose=0,
        callbacks=[Rung()],
    ).history
    for index in (0, 2):
        model, history = alone[index]
        assert _same_weights(model, members[index]) == 0.0
        assert logs[f"val_trial_{index + 1}_loss"] == history["val_loss"]
    # The member that left keeps its weights as after epoch 2, not those of epoch 4.
    assert len(logs["trial_2_loss"]) == 2  # its history ends where it left
    assert _same_weights(alone[1][0], members[1]) > 0.0


def test_split_logs_keeps_each_members_keras_names():
    logs = {
        "trial_1_loss": 1.0,
        "trial_1_accuracy": 0.5,
        "val_trial_1_loss": 2.0,
        "trial_12_loss": 3.0,
        "val_trial_12_accuracy": 0.25,
        "trial_13_loss": 9.0,
        "loss": 4.0,
    }
    split = pack.split_logs(logs, 12, pack.TRIAL_PREFIX)
    assert split[0] == {"loss": 1.0, "accuracy": 0.5, "val_loss": 2.0}
    assert split[11] == {"loss": 3.0, "val_accuracy": 0.25}
    assert all(s == {} for s in split[1:11])


@pytest.mark.parametrize("share, size", [(0.4, 5), (0.95, 1)])
def test_pack_size_follows_the_measured_share(share, size):
    from builder.experiments import packed
    from tests.helpers import project

    projects = [project([("d", "Dense", {"units": 4})], shape=(3,))] * 5
    assert packed.pack_size(projects, {"share": share}) == size
