"""Tensors of any Keras backend as NumPy arrays, for the NumPy, scikit-learn and matplotlib code of
the lectures."""

import numpy as np


def to_numpy(tensor):
    """`tensor` (TensorFlow, JAX or NumPy) as a NumPy array. 16-bit floats (a model trained with
    `--precision mixed`) come back as float32, which scikit-learn and matplotlib understand."""
    import keras

    array = keras.ops.convert_to_numpy(tensor)
    if array.dtype.name in ("float16", "bfloat16"):
        array = array.astype(np.float32)
    return array
