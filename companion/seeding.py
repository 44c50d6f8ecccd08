"""One seeding helper, so that every run of a lecture, test or figure is repeatable."""


def set_seed(seed=0, *, deterministic=False):
    """Seed Python, NumPy and the Keras backend; `deterministic=True` also makes TensorFlow's ops
    deterministic (bit-identical reruns, slightly slower), which the figure gallery uses."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Expected seed to be an integer >= 0. Received: seed={seed!r}")
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
