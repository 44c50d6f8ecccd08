"""Checkpoints that survive a kill: Keras' BackupAndRestore, written so that no moment of a write leaves
a broken one, and kept once a training has finished so that a re-run reuses it.

Keras' callback overwrites its weights file in place, then its metadata (the epoch): a kill in the
middle leaves a half-written weights file, or weights one epoch ahead of the epoch they claim.
`Checkpoint` writes each epoch's weights to a new file, then replaces the metadata that names that
file and its epoch in one step (`os.replace`), then removes the previous weights: whatever moment
a kill lands, the metadata names complete weights of the epoch it says. The weights file holds the
optimizer's state too (its step count, Adam's moments), so a learning-rate schedule continues where
it stopped; the metadata holds the state of the model's random generators (dropout masks, random
shifts draw on from where they were) and every completed epoch's logs, so the `History` that `fit`
returns has the whole training's curves, however many runs it took. With the data in the same
order (`datasets.pipeline(first_epoch=)`), a resumed training ends with the weights an
uninterrupted one would have had.

Keras deletes its backup when `fit` ends, so a run interrupted in a later step would train every
earlier model again. `Checkpoint` keeps it and marks it finished: the same `fit` run again loads
the trained weights and curves and trains no further epoch. What other callbacks recorded during
training (snapshots of a GAN, activation histograms) is kept with each epoch too, for the callbacks
given as `keep`: each has a `records` dict, saved as JSON plus NumPy arrays (no pickle).
"""

import json
import os

import keras
import numpy as np


class Checkpoint(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore(backup_dir)`, every epoch, with safe writes, the curves, and
    a finished training kept (see the module)."""

    def __init__(self, backup_dir, keep=()):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=False)
        self.keep = tuple(keep)  # callbacks whose `records` are checkpointed with the weights
        self._curves = {}  # each logged value, one entry per completed epoch (restored ones first)

    def saved_epoch(self):
        """The last epoch whose checkpoint is complete, or None when there is none."""
        metadata = self._metadata()
        return None if metadata is None else metadata["epoch"]

    def finished(self):
        """Whether a training ran to its end with this checkpoint (its `fit` then trains no further)."""
        metadata = self._metadata()
        return metadata is not None and metadata.get("finished", False)

    def _metadata(self):
        try:
            with open(self._training_metadata_path, encoding="utf-8") as file:
                return json.load(file)
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return None

    def on_train_begin(self, logs=None):
        self._curves = {}
        super().on_train_begin(logs)  # calls _load_model

    def _load_model(self):
        metadata = self._metadata()
        if metadata is None:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)  # its state is in the file
        try:
            self.model.load_weights(os.path.join(self.backup_dir, metadata["weights"]))
        except ValueError as error:
            from companion.errors import UserError

            raise UserError(
                f"The checkpoint in {self.backup_dir} does not fit the model being trained (it was made "
                f"by another version of this training: {str(error).splitlines()[0]}). Delete that "
                "folder, or the whole run directory, to train afresh."
            ) from error
        for variable, state in zip(_random_states(self.model), metadata.get("random", [])):
            variable.assign(np.asarray(state, dtype=variable.dtype))
        self._curves = {key: list(values) for key, values in metadata.get("curves", {}).items()}
        if self.keep and "records" in metadata:
            with np.load(os.path.join(self.backup_dir, metadata["arrays"]), allow_pickle=False) as file:
                arrays = [file[f"arr_{i}"] for i in range(len(file.files))]
            for callback, records in zip(self.keep, metadata["records"]):
                callback.records = _decode(records, arrays)
        epoch = metadata["epoch"]
        if metadata.get("finished"):  # train no further, even if it stopped early
            epoch = max(epoch, self.params.get("epochs") or epoch)
        self.model._initial_epoch = epoch  # how BackupAndRestore resumes `fit`

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self._curves.setdefault(key, []).append(float(value))
        super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        metadata = self._metadata()
        if metadata is not None:
            self._write_metadata(dict(metadata, finished=True))
        self.model._initial_epoch = None  # a later `fit` of the same model starts at its own epoch 0
        history = self.model.history  # this fit's History (Keras sets it before training begins)
        history.history = {key: list(values) for key, values in self._curves.items()}
        history.epoch = list(range(len(next(iter(self._curves.values()), []))))

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._metadata()
        name = f"epoch_{self._current_epoch}"
        metadata = {"epoch": self._current_epoch, "weights": f"{name}.weights.h5", "curves": self._curves,
                    "random": [np.asarray(variable).tolist() for variable in _random_states(self.model)]}
        self.model.save_weights(os.path.join(self.backup_dir, metadata["weights"]), overwrite=True)
        if self.keep:
            arrays = []
            metadata["records"] = [_encode(callback.records, arrays) for callback in self.keep]
            metadata["arrays"] = f"{name}.records.npz"
            np.savez(os.path.join(self.backup_dir, metadata["arrays"]), *arrays)
        self._write_metadata(metadata)
        for key in ("weights", "arrays"):
            if previous is not None and previous.get(key) not in (None, metadata.get(key)):
                try:
                    os.remove(os.path.join(self.backup_dir, previous[key]))
                except FileNotFoundError:
                    pass

    def _write_metadata(self, metadata):
        """Replace the metadata in one step (`os.replace`): a kill leaves the old or the new, whole."""
        written = f"{self._training_metadata_path}.new"
        with open(written, "w", encoding="utf-8") as file:
            json.dump(metadata, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(written, self._training_metadata_path)


def _random_states(model):
    """The states of the model's random number generators (dropout, random shifts, a GAN's noise):
    Keras' weights files leave them out, and without them a resumed training draws other masks."""
    return [variable for variable in model.variables if variable.path.endswith("seed_generator_state")]


def completed_epochs(callbacks):
    """How many epochs of a training the `Checkpoint` among `callbacks` has already done (0 without
    one): where the data order of a resumed training continues (`datasets.pipeline(first_epoch=)`)."""
    return max((callback.saved_epoch() or 0 for callback in callbacks if isinstance(callback, Checkpoint)),
               default=0)


def _encode(value, arrays):
    """`value` (dicts, lists, tuples, NumPy arrays, numbers, strings, None) as JSON, its arrays
    appended to `arrays` and named by their index."""
    if isinstance(value, dict):
        return {"dict": [[_encode(key, arrays), _encode(item, arrays)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [_encode(item, arrays) for item in value]}
    if hasattr(value, "__array__"):  # NumPy arrays and scalars, backend tensors
        arrays.append(np.asarray(value))
        return {"array": len(arrays) - 1}
    return {"value": value}


def _decode(encoded, arrays):
    """The value that `_encode` turned into `encoded`."""
    (kind, content), = encoded.items()
    if kind == "dict":
        return {_decode(key, arrays): _decode(item, arrays) for key, item in content}
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays) for item in content]
        return items if kind == "list" else tuple(items)
    return arrays[content] if kind == "array" else content
