"""The training tricks exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py. The checks compare with Keras, so the first case loads TensorFlow.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

ACTIVATION = """
    def activation_derivative(name, z):
        z = np.asarray(z, dtype=float)
        sigmoid = 0.5 * (1.0 + np.tanh(0.5 * z))
        if name == "sigmoid":
            return sigmoid * (1.0 - sigmoid)
        if name == "tanh":
            return {tanh}
        if name == "relu":
            return (z > 0).astype(float)
        if name == "leaky_relu":
            return {leaky_relu}
        if name == "elu":
            return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
        if name == "softplus":
            return sigmoid
        {otherwise}
    """


def activation(tanh="1.0 - np.tanh(z) ** 2", leaky_relu="np.where(z > 0, 1.0, 0.2)",
               otherwise="raise ValueError(name)"):
    """An activation_derivative with one piece replaced by a typical mistake."""
    return ACTIVATION.format(tanh=tanh, leaky_relu=leaky_relu, otherwise=otherwise)


BATCH_NORM = "def batch_norm_forward(x, gamma, beta, epsilon=1e-3):\n"

DROPOUT = """
    def inverted_dropout(x, rate, seed=0):
        {check}
        rng = np.random.default_rng({seed})
        keep = rng.random(np.shape(x)) {keep}
        {result}
    """


def dropout(check="if not 0 <= rate < 1:\n            raise ValueError(rate)", seed="seed", keep=">= rate",
            result="return np.where(keep, x / (1.0 - rate), 0.0)"):
    """An inverted_dropout with one piece replaced by a typical mistake."""
    return DROPOUT.format(check=check, seed=seed, keep=keep, result=result)


MOMENTUM = "def momentum_step(w, velocity, gradient, learning_rate=0.01, momentum=0.9):\n"
ADAM = ("def adam_step(w, m, v, gradient, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):\n"
        "    m = beta_1 * m + (1 - beta_1) * gradient\n"
        "    v = beta_2 * v + (1 - beta_2) * gradient**2\n"
        "    m_hat = m / (1 - beta_1**t)\n"
        "    v_hat = v / (1 - beta_2**t)\n")


@pytest.mark.parametrize(
    "exercise, code, first_line",
    [
        ("activation_derivative", activation(tanh="np.tanh(z)"),
         "the activation tanh(z) itself, not its derivative"),
        ("activation_derivative", activation(leaky_relu="np.where(z > 0, 1.0, 0.01)"),
         "leaky_relu with slope 0.01 for z < 0"),
        ("activation_derivative", activation(otherwise="return np.zeros_like(z)"),
         "no ValueError raised: activation_derivative('swish-ish', z)"),
        ("batch_norm_forward", BATCH_NORM + "    mean = x.mean(axis=1, keepdims=True)\n"
         "    return gamma * (x - mean) / np.sqrt(x.var(axis=1, keepdims=True) + epsilon) + beta",
         "normalised over the wrong axis"),
        ("batch_norm_forward", BATCH_NORM
         + "    return gamma * (x - x.mean(axis=0)) / (np.sqrt(x.var(axis=0)) + epsilon) + beta",
         "epsilon added outside the square root"),
        ("batch_norm_forward", BATCH_NORM
         + "    return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + epsilon) + beta",
         "the unbiased variance (divided by n - 1)"),
        ("batch_norm_forward", BATCH_NORM + "    x -= x.mean(axis=0)\n"
         "    return gamma * x / np.sqrt(x.var(axis=0) + epsilon) + beta",
         "x (the argument of batch_norm_forward) was modified in place"),
        ("inverted_dropout", dropout(result="np.where(keep, x / (1.0 - rate), 0.0)"),
         "received None, expected an array (a missing `return`?)"),
        ("inverted_dropout", dropout(result="x *= keep / (1.0 - rate)\n        return x"),
         "x (the argument of inverted_dropout) was modified in place"),
        ("inverted_dropout", dropout(result="return np.where(keep, x, 0.0)"),
         "the kept entries are not scaled"),
        ("inverted_dropout", dropout(result="return np.where(keep, x * (1.0 - rate), 0.0)"),
         "the kept entries are multiplied by 1 - rate"),
        ("inverted_dropout", dropout(keep="< rate"), "rate is the fraction of entries dropped, not kept"),
        ("inverted_dropout", dropout(seed=""), "the mask does not come from the seed"),
        ("inverted_dropout", dropout(seed="0"), "the mask does not depend on the seed"),
        ("inverted_dropout", dropout(check="pass"), "no ValueError raised: inverted_dropout(z, 1.0)"),
        ("momentum_step", MOMENTUM + "    return w + momentum * velocity - learning_rate * gradient",
         "type mismatch: expected a tuple (new_w, new_velocity), received ndarray"),
        ("momentum_step", MOMENTUM + "    velocity = momentum * velocity + learning_rate * gradient\n"
         "    return w + velocity, velocity", "gradient ascent"),
        ("momentum_step", MOMENTUM
         + "    return w + velocity, momentum * velocity - learning_rate * gradient",
         "w moved with the old velocity"),
        ("momentum_step", MOMENTUM + "    velocity = momentum * velocity - learning_rate * gradient\n"
         "    w += velocity\n    return w, velocity",
         "w (the argument of momentum_step) was modified in place"),
        ("adam_step", ADAM + "    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m",
         "type mismatch: expected a tuple (new_w, new_m, new_v), received tuple of length 2"),
        ("adam_step", ADAM + "    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v",
         "no bias correction"),
        ("adam_step",
         ADAM + "    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m_hat, v_hat",
         "the bias-corrected averages were returned"),
        ("adam_step",
         ADAM + "    w -= learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)\n    return w, m, v",
         "w (the argument of adam_step) was modified in place"),
    ],
    ids=["activation-itself", "leaky-slope-0.01", "activation-no-value-error", "batch-norm-by-row",
         "batch-norm-epsilon-outside", "batch-norm-unbiased", "batch-norm-in-place", "dropout-none",
         "dropout-in-place", "dropout-not-scaled", "dropout-times-keep", "dropout-keeps-rate",
         "dropout-unseeded", "dropout-seed-ignored", "dropout-no-value-error", "momentum-not-a-pair",
         "momentum-ascent", "momentum-old-velocity", "momentum-in-place", "adam-not-a-triple",
         "adam-no-bias-correction", "adam-returns-corrected", "adam-in-place"],
)
@pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")  # a student's x / (1 - 1)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # and 0 / (1 - 1)
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("training_tricks", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
