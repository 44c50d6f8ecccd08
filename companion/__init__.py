"""companion: the runnable side of the deep-learning lecture course.

Importing this package is cheap: TensorFlow is imported only by the modules that need it.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "check"]


def check(topic, dir=None, *, solutions=False, verbose=False, timeout=60):
    """Run the exercise checks for `topic`, print one line per exercise, return True when all pass.

    An exercise is stopped after `timeout` seconds of its own running time (an endless loop?)."""
    from companion.exercises import check as _check

    return _check(topic, dir=dir, solutions=solutions, verbose=verbose, timeout=timeout)
