"""Devices and `tf.distribute` strategies: the one place the course talks to TensorFlow's distribution.

Lectures receive a strategy (or None) and build and compile their models inside `scope(strategy)`,
so the same model code runs on a CPU, one or several GPUs, or a TPU.
"""

import contextlib

from companion.errors import UserError

# No "multiworker": Keras 3's fit fails under tf.distribute.MultiWorkerMirroredStrategy
# (keras-team/keras#20585); tests/test_devices.py keeps a strict expected failure that says when it works.
STRATEGIES = ("auto", "default", "mirrored", "tpu")


def scope(strategy):
    """The context in which to build and compile models: `strategy.scope()`, or nothing for None."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replicas(strategy):
    """How many copies of the model train side by side under `strategy`: 1 without one."""
    return 1 if strategy is None else strategy.num_replicas_in_sync


def global_batch_size(batch_size, strategy):
    """The batch `fit` is given under `strategy`: `batch_size` examples for each replica, so that
    each device's share is the recipe's batch. With 2 replicas a 32-example recipe takes 64 at a
    time, and an epoch (one pass over the data) has half as many steps."""
    return batch_size * replicas(strategy)


def _tpu_resolver():
    """A connected TPU cluster resolver, or None when this machine has no TPU."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        return None
    return resolver


def get_strategy(name="auto"):
    """The `tf.distribute.Strategy` called `name`; "auto" picks TPU, then several GPUs, then default."""
    if name not in STRATEGIES:
        raise UserError(
            f"Unknown strategy {name!r}. Expected one of: {', '.join(STRATEGIES)}. "
            "Use --strategy auto to let the companion pick the best one for this machine."
        )
    import tensorflow as tf

    if name == "auto":
        return get_strategy(auto_strategy_name())
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    resolver = _tpu_resolver()
    if resolver is None:
        raise UserError(
            "--strategy tpu was asked for, but no TPU is reachable from this machine. "
            "Run on a TPU host (for example a Colab or Cloud TPU VM), or use --strategy auto."
        )
    return tf.distribute.TPUStrategy(resolver)


def auto_strategy_name():
    """The strategy "auto" picks here: "tpu" with a TPU, "mirrored" with 2+ GPUs, else "default"."""
    import tensorflow as tf

    if _has_tpu_environment() and _tpu_resolver() is not None:
        return "tpu"
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def _has_tpu_environment():
    """Cheap test for a TPU host, so that CPU machines never wait on a TPU cluster probe."""
    import os

    return any(key in os.environ for key in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE"))


def device_report():
    """(kind, names) for each device kind TensorFlow sees: CPU, GPU, TPU."""
    import tensorflow as tf

    return [(kind, [d.name for d in tf.config.list_logical_devices(kind)]) for kind in ("CPU", "GPU", "TPU")]
