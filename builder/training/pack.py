"""Several independent models trained side by side as one Keras model (a "pack").

The one implementation behind packed sweep trials and parallel K-fold folds. Each member
is an ordinary compiled Keras model with its *own* optimizer, loss and metrics; the pack
is a thin ``keras.Model`` whose ``train_step`` runs, for every member, exactly the steps
of Keras' own ``train_step`` on that member (forward pass, ``_compute_loss`` with the
member's regularization losses, its loss tracker, its optimizer's ``apply_gradients``,
its ``compute_metrics``). The members share no weights, so nothing one member does
reaches another: after N steps each member holds the weights, optimizer state and metric
values that N steps of ``member.fit`` would leave, while one call into TensorFlow does the
work of all of them (most of a small model's step is fixed cost).

Inputs: ``shared=True`` (sweep trials) feeds every member the same batch ``(x, y)``;
``shared=False`` (K-fold) takes a list of k inputs and k targets, member i reading item i.
Logs come back as ``<prefix><i>_<name>`` (``trial_3_accuracy``, ``val_fold_2_loss``) and
``split_logs`` turns them into each member's own Keras names (``accuracy``, ``val_loss``).

Pitfalls this handles: Keras 3 hands ``train_step`` ``(x, y, sample_weight)``; ``fit``
needs a compiled optimizer (the pack compiles a plain SGD it never applies); metrics of a
sub-model are ignored by ``Model.metrics`` (the pack lists its members' so ``fit`` resets
them each epoch); member optimizers and metrics are built before ``fit`` traces the step
(variables cannot be created inside it).
"""

from __future__ import annotations

import re

TRIAL_PREFIX = "trial_"
FOLD_PREFIX = "fold_"


def build(members: list, sample_batch, *, shared: bool, prefix: str, steps_per_execution=1):
    """The pack of ``members`` (compiled Keras models), compiled and ready for ``fit``.

    ``sample_batch`` is ``(x, y)`` of a few samples as one member sees them (shapes and
    dtypes only), used to build each member's metrics and optimizer before ``fit``.
    ``pack.keep(numbers)`` rebuilds the pack from the members numbered ``numbers`` (from
    1) between two epochs of one ``fit``: the others stop training where they are, the
    survivors go on with their own weights, optimizer state and the same data order, so
    each continues exactly as its own uninterrupted ``fit`` would.
    """
    import keras

    class Pack(keras.Model):
        def __init__(self):
            super().__init__(name="pack")
            self.members = list(members)
            self.numbers = list(range(1, len(members) + 1))
            self.built = True

        @property
        def metrics(self):
            return [m for member in self.members for m in member.metrics]

        def keep(self, numbers) -> None:
            chosen = [n for n in self.numbers if n in set(numbers)]
            self.members = [members[n - 1] for n in chosen]
            self.numbers = chosen
            # The next step traces the smaller pack (fit reads these before every call).
            self.train_function = self.test_function = None
            self.make_train_function(force=True)

        def _inputs(self, x, y):
            if shared:
                return [(x, y)] * len(self.members)
            return [(x[n - 1], y[n - 1]) for n in self.numbers]

        def call(self, x, training=False):
            if shared:
                return [member(x, training=training) for member in self.members]
            return [m(x[n - 1], training=training) for n, m in zip(self.numbers, self.members)]

        def train_step(self, data):
            import tensorflow as tf

            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            logs = {}
            for index, member, (xi, yi) in zip(self.numbers, self.members, self._inputs(x, y)):
                with tf.GradientTape() as tape:
                    y_pred = member(xi, training=True)
                    loss = _tracked_loss(member, xi, yi, y_pred, sample_weight, True)
                    loss = member.optimizer.scale_loss(loss)
                weights = member.trainable_weights
                member.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
                result = member.compute_metrics(xi, yi, y_pred, sample_weight=sample_weight)
                logs.update({f"{prefix}{index}_{k}": v for k, v in result.items()})
            return logs

        def test_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            logs = {}
            for index, member, (xi, yi) in zip(self.numbers, self.members, self._inputs(x, y)):
                y_pred = member(xi, training=False)
                _tracked_loss(member, xi, yi, y_pred, sample_weight, False)
                result = member.compute_metrics(xi, yi, y_pred, sample_weight=sample_weight)
                logs.update({f"{prefix}{index}_{k}": v for k, v in result.items()})
            return logs

    for index, member in enumerate(members):
        batch = sample_batch if shared else (sample_batch[0][index], sample_batch[1][index])
        member._symbolic_build(data_batch=batch)  # metrics, loss and optimizer variables
        if member.optimizer is not None and not member.optimizer.built:
            member.optimizer.build(member.trainable_variables)
    pack = Pack()
    pack.compile(optimizer=keras.optimizers.SGD(), steps_per_execution=steps_per_execution)
    return pack


def _tracked_loss(member, x, y, y_pred, sample_weight, training: bool):
    """``member``'s loss of a batch (its regularization losses included) and its loss
    tracker's update, as Keras' own ``train_step``/``test_step`` do them."""
    import tensorflow as tf
    from keras.src import tree
    from keras.src.losses import loss as loss_module

    loss = member._compute_loss(
        x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
    )
    member._loss_tracker.update_state(
        loss_module.unscale_loss_for_distribution(loss),
        sample_weight=tf.shape(tree.flatten(x)[0])[0],
    )
    return loss


def split_logs(logs: dict, k: int, prefix: str) -> list[dict]:
    """Each member's logs under the names its own ``fit`` would use.

    ``{"trial_1_loss": .., "val_trial_1_accuracy": .., "trial_2_loss": ..}`` ->
    ``[{"loss": .., "val_accuracy": ..}, {"loss": ..}]`` (member 1 first); keys of other
    shapes are left out."""
    pattern = re.compile(rf"^(val_)?{re.escape(prefix)}(\d+)_(.+)$")
    members: list[dict] = [{} for _ in range(k)]
    for key, value in logs.items():
        m = pattern.match(key)
        if m and 1 <= int(m[2]) <= k:
            members[int(m[2]) - 1][(m[1] or "") + m[3]] = value
    return members


def shuffled(x, y, *, batch_size: int, shuffle: bool):
    """A dataset of ``(x, y)`` batches in the order ``model.fit(x, y, shuffle=...)`` would
    draw them (Keras' own array adapter, so the same global seed gives the same orders).

    Made once and handed to every ``fit`` of a pack: a pack rebuilt after some epochs goes
    on with the next epoch's order, as one long ``fit`` of a single model would."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    return ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle).get_tf_dataset()
