"""Devices and distribution strategies: the one place the course talks to a distribution engine.

Lectures receive a strategy (or None) and build and compile their models inside `scope(strategy)`,
so the same model code runs on a CPU, one or several GPUs, a TPU, or several machines. A strategy is
a `tf.distribute.Strategy`, or for several machines Keras' own distribution API on the JAX backend
(a `keras.distribution.DataParallel`): TensorFlow's multi-worker strategy does not work with Keras 3's
`fit` (keras-team/keras#20585).
"""

import contextlib
import contextvars
import math
import os
from pathlib import Path

from companion.errors import UserError

# The strategies of `--strategy`. Several machines are not among them: a whole lecture cannot run
# across processes (its steps read predictions, which Keras' JAX distribution does not gather from
# other processes), while the recipes can, through `multiworker()`.
STRATEGIES = ("auto", "default", "mirrored", "tpu")
# How each process of a multi-machine run learns the cluster: Keras' own variables, read by
# keras.distribution.initialize (the first address is process 0's, the coordinator).
CLUSTER_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                     "KERAS_DISTRIBUTION_PROCESS_ID")


# The precisions of `--precision`: float32 everywhere, or Keras' mixed precision (layers compute in
# 16 bits, weights stay float32, and each recipe's output layer is float32).
PRECISIONS = ("float32", "mixed")


def mixed_policy_name():
    """The mixed policy for this machine's accelerator: "mixed_float16" on GPUs without fast
    bfloat16 (before NVIDIA's Ampere), else "mixed_bfloat16" (TPUs, newer GPUs, CPUs), which needs
    no loss scaling."""
    for kind, names in device_report():
        if kind == "GPU" and names and not _gpus_have_bfloat16():
            return "mixed_float16"
    return "mixed_bfloat16"


def _gpus_have_bfloat16():
    """Whether the first GPU computes in bfloat16 natively (compute capability 8.0 or more)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        capability = getattr(jax.devices("gpu")[0], "compute_capability", "0")
        return float(capability) >= 8.0
    import tensorflow as tf

    details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
    return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)


@contextlib.contextmanager
def precision(name):
    """Build models in the precision called `name` (None or "float32": Keras' default; "mixed":
    `mixed_policy_name()`) until the block ends, then restore the policy that was set before."""
    if name not in (None, *PRECISIONS):
        raise UserError(f"Unknown precision {name!r}. Expected one of: {', '.join(PRECISIONS)}.")
    import keras

    previous = keras.config.dtype_policy()
    if name == "mixed":
        keras.config.set_dtype_policy(mixed_policy_name())
    try:
        yield keras.config.dtype_policy().name
    finally:
        keras.config.set_dtype_policy(previous)


# The precision of the trainings of the run in progress (`training_precision`), read by `scope`.
_TRAINING_PRECISION = contextvars.ContextVar("training_precision", default=None)


@contextlib.contextmanager
def training_precision(name):
    """While the block runs, models built in `scope(...)` (the trainings: each recipe, and the
    steps' own trainings) get the precision called `name`. The rest of a lecture (its small
    models checked against NumPy to 1e-6, its arrays handed to scikit-learn) stays float32."""
    with precision(name) as policy:  # checks the name and says which policy "mixed" means here
        pass
    token = _TRAINING_PRECISION.set(name)
    try:
        yield policy
    finally:
        _TRAINING_PRECISION.reset(token)


@contextlib.contextmanager
def scope(strategy):
    """The context in which to build and compile models: `strategy.scope()` (or nothing for None),
    in the precision of the run's trainings (`training_precision`)."""
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        with precision(_TRAINING_PRECISION.get()):
            yield


def replicas(strategy):
    """How many copies of the model train side by side under `strategy`: 1 without one."""
    if strategy is None:
        return 1
    if hasattr(strategy, "device_mesh"):  # a keras.distribution setting: every device of every process
        return math.prod(strategy.device_mesh.shape)
    return strategy.num_replicas_in_sync


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
    import keras

    if keras.backend.backend() != "tensorflow":
        if name in ("auto", "default"):
            return None  # Keras on JAX trains on the default device, as without a strategy
        raise UserError(
            f"--strategy {name} is a tf.distribute strategy, which needs the TensorFlow backend (this "
            f"is {keras.backend.backend()}): run without KERAS_BACKEND, or use --strategy default."
        )
    import tensorflow as tf

    if name == "auto":
        return get_strategy(auto_strategy_name())
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    resolver = _tpu_resolver() if _may_have_tpu() else None  # no TPU hint: say so at once
    if resolver is None:
        raise UserError(
            "--strategy tpu was asked for, but no TPU is reachable from this machine. "
            "Run on a TPU host (for example a Colab or Cloud TPU VM), or use --strategy auto."
        )
    return tf.distribute.TPUStrategy(resolver)


def multiworker():
    """The strategy for training a recipe on several machines: join the cluster that the
    KERAS_DISTRIBUTION_* variables describe and train data-parallel over every device of every
    process, with Keras' distribution API on the JAX backend. Pass it as `train(..., strategy=...)`
    in a script that every process runs. Each process feeds its own share of the recipe's tf.data
    pipeline (Keras shards it); after every step all processes hold the same weights. To predict
    with the trained model or save it, take `leave_cluster(model)` once training is over."""
    import keras

    if keras.backend.backend() != "jax":
        raise UserError(
            "Training on several machines goes through Keras' distribution API, which "
            f"needs the JAX backend (this is {keras.backend.backend()}): install it with "
            "`pip install -e \".[jax]\"` and run every worker with KERAS_BACKEND=jax. (TensorFlow's "
            "MultiWorkerMirroredStrategy does not work with Keras 3's fit: keras-team/keras#20585.)"
        )
    missing = [variable for variable in CLUSTER_VARIABLES if not os.environ.get(variable)]
    if missing:
        raise UserError(
            f"Training on several machines needs the cluster described in {', '.join(CLUSTER_VARIABLES)}; "
            f"missing: {', '.join(missing)}. On every machine run the same script with "
            "KERAS_DISTRIBUTION_JOB_ADDRESSES=host0:port,host1:port (process 0's address first), "
            "KERAS_DISTRIBUTION_NUM_PROCESSES=2 and KERAS_DISTRIBUTION_PROCESS_ID=0 on the first "
            "machine, 1 on the second."
        )
    if keras.distribution.distribution() is None:  # join once per process
        keras.distribution.initialize()
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=keras.distribution.list_devices()))
    return keras.distribution.distribution()


def leave_cluster(model):
    """After the last training on several processes: turn the distribution off in this process and
    return its own copy of `model`, with the trained weights, which predicts, evaluates and saves
    like any model. (The trained model's variables span every process: its own `predict` refuses
    NumPy input, and its `save_weights` would wait for the other processes forever.)"""
    import keras

    weights = model.get_weights()  # the same on every process
    keras.distribution.set_distribution(None)
    copy = keras.models.clone_model(model)  # built on this process's devices only
    copy.set_weights(weights)
    return copy


def processes():
    """How many processes train together: more than 1 only after `multiworker()` has joined them."""
    import keras

    if keras.backend.backend() != "jax":
        return 1
    import jax

    return jax.process_count()


def is_chief():
    """False in the processes of a multi-machine run other than process 0: they train, but leave
    the figures and files to process 0."""
    import keras

    if keras.backend.backend() != "jax":
        return True
    import jax

    return jax.process_index() == 0


def auto_strategy_name():
    """The strategy "auto" picks here: "tpu" with a TPU, "mirrored" with 2+ GPUs, else "default"."""
    import tensorflow as tf

    if _has_tpu_environment() and _tpu_resolver() is not None:
        return "tpu"
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def _may_have_tpu():
    """Whether this machine may reach a TPU: Colab's or Cloud's TPU variables, or a TPU VM's
    device files (/dev/accel*, /dev/vfio/N). Without any, asking the cluster resolver takes seconds."""
    devices = [*Path("/dev").glob("accel*"), *Path("/dev/vfio").glob("[0-9]*")]
    return _has_tpu_environment() or bool(devices)


def _has_tpu_environment():
    """Cheap test for a TPU host, so that CPU machines never wait on a TPU cluster probe."""
    import os

    return any(key in os.environ for key in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE"))


def device_report():
    """(kind, names) for each device kind the Keras backend trains on: CPU, GPU, TPU (TensorFlow's
    logical devices, or JAX's devices on the JAX backend)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        found = jax.devices()
        return [(kind, [str(d) for d in found if d.platform.upper() == kind])
                for kind in ("CPU", "GPU", "TPU")]
    import tensorflow as tf

    return [(kind, [d.name for d in tf.config.list_logical_devices(kind)]) for kind in ("CPU", "GPU", "TPU")]
