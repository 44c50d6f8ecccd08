"""The lectures, one module per topic, in course order.

Each module builds its models in plain sight with Keras and registers its steps with a
`companion.lecture.Lecture`; importing this package imports none of them.
"""

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
