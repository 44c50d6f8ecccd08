"""Activations of a Keras model's layers: read once (`layer_activations`) or during training
(`ActivationRecorder`, a callback), for the histograms of `companion.plots`."""

import keras
import numpy as np

from companion.tensors import to_numpy


class ActivationRecorder(keras.callbacks.Callback):
    """Record the activations that the batch `x` produces in chosen layers at chosen epochs.

    Epoch 0 is before training, epoch k after k completed epochs. `activations` maps
    {epoch: {layer_name: flat float array}}; `figure()` draws them as a grid (rows = epochs,
    columns = layers, one x-range per column) to compare the start, middle and end of training.
    """

    def __init__(self, x, epochs, layers=None):
        super().__init__()
        self.x = x
        self.epochs = check_epochs(epochs)
        self.layers = layers
        self.activations = {}

    def on_train_begin(self, logs=None):
        if 0 in self.epochs:
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self._record(epoch + 1)

    def _record(self, epoch):
        chosen = choose_layers(self.model, self.layers)
        self.activations[epoch] = layer_activations(self.model, self.x, chosen)

    @property
    def records(self):
        """What a run directory's checkpoint keeps: the activations recorded so far."""
        return self.activations

    @records.setter
    def records(self, records):
        self.activations = records

    def figure(self, bins=50, title=None):
        """Histogram grid: one row per recorded epoch, one column per layer."""
        from companion.plots import activation_grid

        return activation_grid(self.activations, bins=bins, title=title)


def check_epochs(epochs):
    """The epochs to record as a set of non-negative ints."""
    epochs = [epochs] if isinstance(epochs, int) else list(epochs)
    if not epochs or any(not isinstance(e, (int, np.integer)) or e < 0 for e in epochs):
        raise ValueError(
            "Expected epochs to be a non-empty list of integers >= 0 (0 = before training). "
            f"Received: epochs={epochs}"
        )
    return {int(e) for e in epochs}


def choose_layers(model, layers):
    """The layers to inspect: given by name or object, or else every hidden Dense/Conv layer."""
    if layers is None:
        chosen = [layer for layer in model.layers[:-1] if hasattr(layer, "activation")]
        if not chosen:
            raise ValueError(
                "Expected a model with a layer that has an `activation` before its output layer. "
                f"Received: layers={[layer.name for layer in model.layers]}"
            )
        return chosen
    if isinstance(layers, str) or not hasattr(layers, "__iter__"):
        layers = [layers]
    by_name = {layer.name: layer for layer in model.layers}
    chosen = []
    for layer in layers:
        name = layer if isinstance(layer, str) else getattr(layer, "name", None)
        if name not in by_name or not (isinstance(layer, str) or by_name[name] is layer):
            raise ValueError(
                f"Expected layers of the model, from {list(by_name)}. Received: {layer!r}"
            )
        chosen.append(by_name[name])
    if not chosen:
        raise ValueError(f"Expected at least one layer, from {list(by_name)}. Received: layers=[]")
    return chosen


def layer_activations(model, x, layers):
    """{layer name: flat float32 array}: outputs of `layers` for the batch `x`, inference mode."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):  # a Sequential model without keras.Input, not yet built
        inputs = None
    if inputs:
        extractor = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs,
                                outputs=[layer.output for layer in layers])
        outputs = extractor(x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    elif isinstance(model, keras.Sequential):
        outputs, h = {}, x
        for layer in model.layers:  # run the stack layer by layer, keeping the chosen outputs
            h = layer(h, training=False)
            outputs[id(layer)] = h
        outputs = [outputs[id(layer)] for layer in layers]
    else:
        raise ValueError(
            "Expected a Functional or Sequential model, or a model with defined inputs. "
            f"Received: {type(model).__name__} with no inputs; build it by calling it on a batch."
        )
    return {
        layer.name: to_numpy(out).astype(np.float32).ravel()
        for layer, out in zip(layers, outputs)
    }
