"""companion: the runnable side of the deep-learning lecture course.

Importing this package is cheap: TensorFlow is imported only by the modules that need it.
"""

import os as _os

__version__ = "0.1.0"

# A lecture takes GPU memory as it needs it rather than all of the card at start, so that a notebook,
# a second lecture or a classmate's job fits beside it (read when TensorFlow or JAX first sees the
# GPU, so set here, before either is imported; a value already set by the user is kept).
GPU_MEMORY_VARIABLES = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
for _name, _value in GPU_MEMORY_VARIABLES.items():
    _os.environ.setdefault(_name, _value)

__all__ = ["__version__", "check"]


def check(topic, dir=None, *, solutions=False, verbose=False, timeout=60):
    """Run the exercise checks for `topic`, print one line per exercise, return True when all pass.

    An exercise is stopped after `timeout` seconds of its own running time (an endless loop?)."""
    from companion.exercises import check as _check

    return _check(topic, dir=dir, solutions=solutions, verbose=verbose, timeout=timeout)
