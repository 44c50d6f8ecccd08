"""Checks on the arrays a user passes to `train`: clear ValueErrors instead of deep Keras errors."""

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
    x, y = _features_and_labels(x, y)
    if y.dtype.kind not in "biuf" or not np.all(y == np.round(y)) or np.any(y < 0):
        raise ValueError(
            "Expected integer class labels 0, 1, ..., num_classes - 1. "
            f"Received: y with values {np.unique(y)[:5].tolist()}")
    if len(np.unique(y)) < 2:
        raise ValueError(
            f"Expected labels of at least 2 classes. Received: only class {np.unique(y).tolist()}")
    return x, y.astype("int64")


def _features_and_labels(x, y):
    """x as finite float32 (n, d); y as an array of shape (n,), a column (n, 1) being flattened."""
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y)
    if x.ndim != 2 or len(x) == 0:
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
