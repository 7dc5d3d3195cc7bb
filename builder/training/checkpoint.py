"""Checkpoints of a single run: written after every completed epoch, read to resume it.

``_checkpoint_callback`` is the Keras callback, last in ``worker.train``'s list. The first
checkpoint of a run is Keras' whole file, ``checkpoint-<epoch>.keras`` (architecture,
assets such as a vocabulary, weights and optimizer): the run's *base*. Every later epoch
writes only what training changes, the weights and the optimizer's variables, to
``checkpoint-<epoch>.npz`` (a few milliseconds where Keras' file takes ~30 ms: a sweep
writes one per trial and epoch). Each file goes to a temporary name and is moved into
place, the best weights of EarlyStopping(restore_best_weights) the same way, then
``checkpoint.json`` names them (``runs.CHECKPOINT``: ``file``, and ``base`` when ``file``
holds variables only); the older files go last, so a kill at any moment leaves a usable
checkpoint. A resume loads the base and puts the variables back (``_load_checkpoint``;
a record without ``base``, as older runs wrote, names a whole ``.keras`` file), puts back
the callbacks' and the random-seed state, and checks that the data is still what the run
trained on (``_data_digest``); ``_Refused`` carries why it cannot go on.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from . import runs

_CALLBACK_STATE = {
    "EarlyStopping": ("wait", "best", "best_epoch", "stopped_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
}


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _checkpoint_callback(folder: Path, recorder, progress, callbacks: list, info: dict, restore):
    """A Keras callback, last in the list, that checkpoints every completed epoch.

    Written in an order that a kill at any moment leaves a usable checkpoint:
    ``checkpoint-<epoch>.keras`` the first time, ``checkpoint-<epoch>.npz`` (the variables
    over that base) after it (temporary name, then ``os.replace``), the best weights
    of EarlyStopping(restore_best_weights) the same way, history.csv, then
    ``checkpoint.json`` naming them (atomic too), and only then the older files go.
    Skipped for a partial epoch (Stop mid-epoch) and a non-finite loss. ``restore`` (a
    checkpoint record) puts the callbacks' state back after their own ``on_train_begin``
    reset it. ``info`` goes into every checkpoint.json (data digest, epochs asked for).
    """
    import keras

    class Checkpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.saved: str | None = restore["file"] if restore else None
            self.base: str | None = (restore.get("base") or restore["file"]) if restore else None

        def rewind(self, model) -> None:
            """Put ``model``'s weights and optimizer state back to the last checkpoint
            (Stop came mid-epoch)."""
            if self.saved is None:
                return
            if self.saved.endswith(".npz"):
                _load_variables(model, folder / self.saved)
            else:
                model.load_weights(folder / self.saved)

        def on_train_begin(self, logs=None):
            if not restore:
                return
            states = restore.get("callbacks") or []
            for cb, state in zip(callbacks, states):
                if state and state.get("class_name") == type(cb).__name__:
                    for name, value in state.items():
                        if name != "class_name":
                            setattr(cb, name, value)
            best = restore.get("best_weights")
            if best:
                weights = _series(_read_arrays(folder / best), "w")
                for cb in callbacks:
                    if isinstance(cb, keras.callbacks.EarlyStopping) and cb.restore_best_weights:
                        cb.best_weights = weights

        def on_epoch_end(self, epoch, logs=None):
            if progress.partial or progress.nan_at:
                return
            if any(not math.isfinite(float(v)) for v in (logs or {}).values()):
                return
            number = epoch + 1
            if self.base is None:
                name = f"checkpoint-{number:05d}.keras"
                save_model(self.model, folder / name)
                self.base, files = name, {"file": name}
            else:
                name = f"checkpoint-{number:05d}.npz"
                _save_variables(self.model, folder / name)
                files = {"file": name, "base": self.base}
            kept = sorted({self.base, name})
            record = {
                "epoch": number,
                **files,
                "best_weights": None,
                "saved": runs.now_iso(),
                "history": recorder.histories.get(None, {}),
                "seconds": recorder.seconds.get(None, []),
                "callbacks": [_callback_state(cb) for cb in callbacks],
                "seed_states": [np.asarray(v).tolist() for v in _seed_states(self.model)],
                **info,
            }
            for cb in callbacks:
                if isinstance(cb, keras.callbacks.EarlyStopping) and cb.best_weights is not None:
                    best = f"checkpoint-{number:05d}-best.npz"
                    weights = {f"w{i}": w for i, w in enumerate(cb.best_weights)}
                    _write_arrays(folder / best, weights)
                    record["best_weights"] = best
                    kept.append(best)
                    break
            recorder.write()
            runs.write_json_atomic(folder / runs.CHECKPOINT, record)
            runs.drop_checkpoint(folder, keep=kept)
            runs.update_run_info(folder, epochs_done=number)
            self.saved = name

    return Checkpoint()


def _seed_states(model) -> list:
    """The model's random-seed state (Dropout and the like), which Keras' files leave out:
    ``model.variables`` holds it beside the weights."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _restore_seed_states(model, saved) -> None:
    states = _seed_states(model)
    if saved and len(saved) == len(states):
        for variable, value in zip(states, saved):
            variable.assign(np.asarray(value, dtype=variable.dtype))


def _callback_state(cb) -> dict | None:
    names = _CALLBACK_STATE.get(type(cb).__name__)
    if names is None:
        return None
    return {"class_name": type(cb).__name__, **{n: _plain(getattr(cb, n, None)) for n in names}}


def _data_digest(*parts) -> str:
    """A digest of the samples a run trains and validates on (arrays, multi-hot ids), so a
    resumed run can tell that its data is still the same (a CSV may have been edited)."""
    import hashlib

    from builder.data.preprocess import MultiHotRows
    from builder.data.splits import leaves

    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        for leaf in leaves(part):
            if isinstance(leaf, MultiHotRows):
                arrays = [leaf.sequences.values, leaf.sequences.offsets]
                digest.update(f"multihot{leaf.num_words}".encode())
            elif leaf is None:
                arrays = []
                digest.update(b"none")
            else:
                arrays = [np.asarray(leaf)]
            if arrays and arrays[0].dtype.kind == "O":  # texts: their characters, not pointers
                digest.update(f"text{arrays[0].shape}".encode())
                digest.update("\0".join(map(str, arrays[0].ravel())).encode("utf-8"))
                continue
            for array in arrays:
                digest.update(f"{array.dtype.str}{array.shape}".encode())
                digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def _write_arrays(path: Path, arrays: dict) -> None:
    """``np.savez`` through a temporary name. Arrays of a dtype numpy does not know itself
    (bfloat16, float8: ``ml_dtypes``, which numpy would write as raw bytes that cannot be
    read back as numbers) are stored as their bits, their dtype's name in ``_dtypes``."""
    plain: dict = {}
    kinds: dict[str, str] = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        if array.dtype.type.__module__ != "numpy":
            kinds[key] = array.dtype.name
            array = array.view(f"u{array.dtype.itemsize}")
        plain[key] = array
    if kinds:
        plain["_dtypes"] = np.array(json.dumps(kinds))
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(tmp, **plain)
    os.replace(tmp, path)


def _read_arrays(path: Path) -> dict:
    """What ``_write_arrays`` wrote (never a pickle: ``np.load`` refuses objects)."""
    with np.load(path) as stored:
        kinds = json.loads(str(stored["_dtypes"])) if "_dtypes" in stored.files else {}
        arrays = {key: stored[key] for key in stored.files if key != "_dtypes"}
    if kinds:
        import ml_dtypes  # noqa: F401  (gives numpy the names bfloat16, float8_*, ...)

        arrays.update({key: arrays[key].view(np.dtype(name)) for key, name in kinds.items()})
    return arrays


def _series(arrays: dict, prefix: str) -> list:
    """``arrays[prefix + "0"]``, ``arrays[prefix + "1"]``, ... in order."""
    return [arrays[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in arrays))]


def _save_variables(model, path: Path) -> None:
    """The weights (``w0``, ``w1``, ... in ``get_weights`` order) and the optimizer's
    variables (``o0``, ...) of ``model`` to ``path`` (.npz), through a temporary name."""
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        arrays.update({f"o{i}": np.asarray(v) for i, v in enumerate(optimizer.variables)})
    _write_arrays(path, arrays)


def _load_variables(model, path: Path) -> None:
    """Put the variables ``_save_variables`` wrote back into ``model`` (built from the same
    project: the same weights and optimizer variables, in the same order). ValueError when
    they do not fit."""
    stored = _read_arrays(path)
    weights, slots = _series(stored, "w"), _series(stored, "o")
    model.set_weights(weights)
    target = getattr(model, "optimizer", None)
    if target is None or not slots:
        return
    if not target.built:
        target.build(model.trainable_variables)
    variables = list(target.variables)
    if len(variables) != len(slots):
        raise ValueError(
            f"the optimizer has {len(variables)} variables, the checkpoint {len(slots)}"
        )
    for variable, value in zip(variables, slots):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"optimizer variable {variable.path}: shape {value.shape}")
        variable.assign(value)


def _load_checkpoint(folder: Path, checkpoint: dict):
    """The run's own model and optimizer as the checkpoint saved them: its base ``.keras``
    file with the variables of the checkpoint's epoch put back (or, for a record without a
    base, the whole ``.keras`` file it names)."""
    import keras

    try:
        model = keras.saving.load_model(folder / (checkpoint.get("base") or checkpoint["file"]))
        if checkpoint.get("base"):
            _load_variables(model, folder / checkpoint["file"])
        return model
    except Exception as err:  # a damaged file or a Keras that cannot read it
        raise _Refused(
            f"could not resume: the checkpoint {checkpoint['file']} cannot be loaded "
            f"({type(err).__name__}: {' '.join(str(err).split())[:300]})."
        ) from None


class _Refused(Exception):
    """A resume that cannot go on; the message is shown as it is."""


def save_model(model, path: Path) -> None:
    """``model.save(path)`` through a temporary name, so ``path`` is whole or absent."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)
