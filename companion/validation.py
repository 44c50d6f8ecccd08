"""Checks on the arrays a user passes to `train`: clear ValueErrors instead of deep Keras errors."""

import numbers

import numpy as np


def binary_labels(x, y):
    """x as float32 (n, d) and y as float32 (n,) of 0s and 1s, or a ValueError saying what is wrong."""
    x, y = _features_and_labels(x, y)
    if not np.isin(y, (0, 1)).all():
        raise ValueError(
            "Expected binary labels y in {0, 1}. "
            f"Received: y with values {np.unique(y)[:5].tolist()}")
    return x, y.astype("float32")


def class_labels(x, y):
    """x as float32 (n, d) and y as int64 (n,) class indices 0, 1, ..., or a ValueError."""
    return _class_indices(*_features_and_labels(x, y))


def _class_indices(x, y):
    if y.dtype.kind not in "biuf" or not np.all(y == np.round(y)) or np.any(y < 0):
        raise ValueError(
            "Expected integer class labels 0, 1, ..., num_classes - 1. "
            f"Received: y with values {np.unique(y)[:5].tolist()}")
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"Expected labels of at least 2 classes. Received: only class {np.unique(y).tolist()}")
    return x, y.astype("int64")


def images(x, *, at_least=1):
    """x as float32 images (n, height, width, channels), finite, with values in [0, 1]; at least
    `at_least` of them (a recipe that trains in batches needs a batch or two)."""
    x = np.asarray(x, dtype="float32")
    if x.ndim != 4 or len(x) == 0 or min(x.shape[1:]) < 1:
        hint = " (add the channel axis: x[..., None])" if x.ndim == 3 else ""
        raise ValueError(
            f"Expected x with shape (n_images, height, width, channels){hint}. Received: x.shape={x.shape}")
    if len(x) < at_least:
        raise ValueError(f"Expected at least {at_least} images. Received: {len(x)} images")
    if not np.isfinite(x).all():
        raise ValueError("Expected finite x. Received: x with NaN or infinite values")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(
            "Expected pixel values in [0, 1] (divide 8-bit images by 255). "
            f"Received: x with values from {x.min():g} to {x.max():g}")
    return x


def image_labels(x, y):
    """x as float32 images (n, height, width, channels) in [0, 1] and y as int64 class indices."""
    return _class_indices(*_features_and_labels(images(x), y, images=True))


def _features_and_labels(x, y, images=False):
    """x as finite float32 (n, d), or (n, height, width, channels) with `images`; y as an array of
    shape (n,), a column (n, 1) being flattened."""
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != (4 if images else 2) or len(x) == 0:
        hint = " (flatten images first: x.reshape(len(x), -1))" if x.ndim > 2 else ""
        raise ValueError(
            f"Expected x with shape (n_samples, n_features){hint}. Received: x.shape={x.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (len(x),):
        raise ValueError(
            f"Expected y with shape ({len(x)},): one label per row of x. Received: y.shape={y.shape}")
    if not np.isfinite(x).all():
        raise ValueError("Expected finite x. Received: x with NaN or infinite values")
    return x, y


def training_options(epochs, seed, callbacks, *, default_epochs):
    """The options every recipe takes, checked one way: returns (epochs, callbacks), epochs an int
    >= 1 (`default_epochs` for None) and callbacks a list of Keras callbacks; seed an int >= 0."""
    epochs = default_epochs if epochs is None else positive_integer("epochs", epochs)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"Expected seed >= 0 (an integer). Received: seed={seed!r}")
    import keras

    callbacks = [callbacks] if isinstance(callbacks, keras.callbacks.Callback) else list(callbacks or ())
    strangers = [c for c in callbacks if not isinstance(c, keras.callbacks.Callback)]
    if strangers:
        raise ValueError(f"Expected callbacks to be Keras callbacks (keras.callbacks.Callback). "
                         f"Received: {strangers[0]!r}")
    return epochs, callbacks


def positive_integer(name, value):
    """`value` as an int >= 1 (bools and floats refused), or a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected {name} >= 1 (an integer). Received: {name}={value!r}")
    return int(value)
