"""Checkpoints that survive a kill: Keras' BackupAndRestore, written so that no moment of a write leaves
a broken one.

Keras' callback overwrites its weights file in place, then its metadata (the epoch): a kill in the
middle leaves a half-written weights file, or weights one epoch ahead of the epoch they claim.
`Checkpoint` writes each epoch's weights to a new file, then replaces the metadata that names that
file and its epoch in one step (`os.replace`), then removes the previous weights: whatever moment
a kill lands, the metadata names complete weights of the epoch it says. The weights file holds the
optimizer's state too (its step count, Adam's moments), so a learning-rate schedule continues where
it stopped.
"""

import json
import os

import keras


class Checkpoint(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore(backup_dir)`, every epoch, with safe writes (see the module)."""

    def __init__(self, backup_dir):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=True)

    def saved_epoch(self):
        """The last epoch whose checkpoint is complete, or None when there is none."""
        metadata = self._metadata()
        return None if metadata is None else metadata["epoch"]

    def _metadata(self):
        try:
            with open(self._training_metadata_path, encoding="utf-8") as file:
                return json.load(file)
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return None

    def _load_model(self):
        metadata = self._metadata()
        if metadata is None:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)  # its state is in the file
        self.model.load_weights(os.path.join(self.backup_dir, metadata["weights"]))
        self.model._initial_epoch = metadata["epoch"]  # how BackupAndRestore resumes `fit`

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._metadata()
        name = f"epoch_{self._current_epoch}.weights.h5"
        self.model.save_weights(os.path.join(self.backup_dir, name), overwrite=True)
        written = f"{self._training_metadata_path}.new"
        with open(written, "w", encoding="utf-8") as file:
            json.dump({"epoch": self._current_epoch, "weights": name}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(written, self._training_metadata_path)  # the switch to the new checkpoint
        if previous is not None and previous.get("weights") != name:
            try:
                os.remove(os.path.join(self.backup_dir, previous["weights"]))
            except FileNotFoundError:
                pass
