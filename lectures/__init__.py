"""The lectures, one module per topic, in course order.

Each module builds its models in plain sight with Keras and registers its steps with a
`companion.lecture.Lecture`; importing this package imports none of them.
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m lectures.TOPIC`: Python is locating TOPIC, which imports
    from companion.native_logs import import_keras_quietly  # Keras first: keep its start-up noise out

    import_keras_quietly()

TOPICS = (
    "logistic_regression",
    "xor",
    "mlp",
    "backprop",
    "training_tricks",
    "cnn",
    "rnn",
    "autoencoders",
    "gans",
    "frontiers",
)
