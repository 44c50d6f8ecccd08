"""Checks for the training tricks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with the
Keras implementation it re-creates: gradients of keras.activations by tf.GradientTape,
keras.layers.BatchNormalization and keras.layers.Dropout in training mode, and keras.optimizers.SGD
and Adam applied to a keras.Variable. Where a typical mistake (the activation for its derivative, the
wrong axis or variance, unscaled or unseeded dropout, a stale velocity, a missing bias correction)
explains the received values, the failure names it.
"""

import numpy as np

from companion.exercises._expect import (
    expect_close,
    expect_tuple,
    expect_unchanged,
    expect_value_error,
    fail_if_close,
)
from companion.exercises._loader import load_exercises


def exercises():
    return load_exercises("training_tricks", __file__)


def keras_derivative(name, z):
    """g'(z) of the Keras activation `name`, by automatic differentiation (float64)."""
    import keras
    import tensorflow as tf

    functions = {
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "relu": keras.activations.relu,
        "leaky_relu": lambda t: keras.activations.leaky_relu(t, negative_slope=0.2),
        "elu": keras.activations.elu,
        "softplus": keras.activations.softplus,
    }
    variable = tf.constant(z, dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(variable)
        total = tf.reduce_sum(functions[name](variable))
    return tape.gradient(total, variable).numpy()


ACTIVATIONS = {  # the functions themselves, g(z), in NumPy: a derivative that equals one is a mistake
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
    "softplus": lambda z: np.logaddexp(0.0, z),
}


def test_activation_derivative():
    """Exercise 1.1: activation_derivative, g'(z) for sigmoid, tanh, relu, leaky_relu, elu, softplus.

    Hint: the derivative of the sigmoid s is s times (1 - s), of tanh it is 1 - tanh², of relu 1 for
    z > 0 and 0 otherwise, of leaky_relu 1 or 0.2, of elu 1 or e^z, and the derivative of softplus is the
    sigmoid. Any other name raises ValueError.
    """
    activation_derivative = exercises().activation_derivative
    z = np.array([-6.0, -2.5, -0.7, -1e-3, 0.3, 1.0, 2.5, 6.0])
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"):
        received = activation_derivative(name, z)
        expected = keras_derivative(name, z)
        what = f"activation_derivative({name!r}, z) vs Keras by GradientTape, z = {z.tolist()}"
        fail_if_close(received, ACTIVATIONS[name](z), expected, f"the activation {name}(z) itself, not "
                      "its derivative", what)
        if name == "leaky_relu":
            fail_if_close(received, np.where(z > 0, 1.0, 0.01), expected, "leaky_relu with slope 0.01 "
                          "for z < 0: Keras' default negative slope is 0.2", what)
        expect_close(received, expected, rtol=1e-6, atol=1e-9, what=what)
    grid = np.linspace(-3, 3, 12).reshape(3, 4)
    expect_close(activation_derivative("tanh", grid), keras_derivative("tanh", grid), rtol=1e-6,
                 what="activation_derivative('tanh', z) for z of shape (3, 4)")
    expect_value_error(activation_derivative, "swish-ish", z,
                       what="activation_derivative('swish-ish', z): an unknown name")


def batch_norm_mistakes(x, gamma, beta, epsilon):
    """{problem: what batch_norm_forward returns with that mistake}."""
    def normalised(axis=0, ddof=0, outside=False):
        mean = x.mean(axis=axis, keepdims=True)
        variance = x.var(axis=axis, ddof=ddof, keepdims=True)
        scale = np.sqrt(variance) + epsilon if outside else np.sqrt(variance + epsilon)
        return gamma * (x - mean) / scale + beta

    return {
        "normalised over the wrong axis: each example (row) was standardised; standardise each feature "
        "(column) over the batch, axis 0": normalised(axis=1),
        "epsilon added outside the square root: it goes inside, added to the variance":
            normalised(outside=True),
        "the unbiased variance (divided by n - 1): batch normalisation divides by n, the mean of the squared "
        "deviations (np.var's default)": normalised(ddof=1),
    }


def test_batch_norm_forward():
    """Exercise 1.2: batch_norm_forward, batch normalisation in training mode with gamma and beta.

    Hint: mean and variance over axis 0 (the batch), np.var's default (biased) variance, epsilon
    inside the square root, then gamma * x_hat + beta.
    """
    batch_norm_forward = exercises().batch_norm_forward
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[0.0, 3.0, -2.0], scale=[1.0, 0.1, 5.0], size=(8, 3))
    gamma, beta = np.array([1.5, 0.5, -1.0]), np.array([0.0, 2.0, 0.3])
    x_before = x.copy()
    for epsilon in (1e-3, 0.1):
        received = batch_norm_forward(x, gamma, beta, epsilon=epsilon)
        import keras  # after the student's call: an unfinished stub fails without loading Keras

        layer = keras.layers.BatchNormalization(epsilon=epsilon, dtype="float64")
        layer.build(x.shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
        expected = keras.ops.convert_to_numpy(layer(x, training=True))
        what = (f"batch_norm_forward(x, gamma, beta, epsilon={epsilon}) vs "
                "keras.layers.BatchNormalization(...)(x, training=True), x of shape (8, 3)")
        for problem, wrong in batch_norm_mistakes(x, gamma, beta, epsilon).items():
            fail_if_close(received, wrong, expected, problem, what)
        expect_close(received, expected, rtol=1e-6, atol=1e-8, what=what)
    expect_unchanged(x_before, x, what="x (the argument of batch_norm_forward)")


def test_inverted_dropout():
    """Exercise 1.3: inverted_dropout, zero entries with probability rate and scale the rest.

    Hint: draw the mask from a generator made with the given seed, keeping each unit with probability 1 -
    rate; divide the kept units by 1 - rate so that the expected output equals the input, and set the
    others to 0.
    """
    inverted_dropout = exercises().inverted_dropout
    x = np.ones((200, 50))
    rate = 0.3
    out = inverted_dropout(x, rate, seed=1)
    if out is None:
        raise AssertionError("received None, expected an array (a missing `return`?)\n"
                             "case: inverted_dropout(ones((200, 50)), 0.3, seed=1)")
    out = np.asarray(out)
    expect_close(out.shape, x.shape, what="the shape of inverted_dropout(x, 0.3) for x of shape (200, 50)")
    expect_unchanged(np.ones((200, 50)), x, what="x (the argument of inverted_dropout)")
    import keras  # after the student's call: an unfinished stub fails without loading Keras

    by_keras = keras.ops.convert_to_numpy(keras.layers.Dropout(rate, seed=1)(x, training=True))
    kept = out != 0
    values, expected_values = np.unique(out[kept]), np.unique(by_keras[by_keras != 0])
    what = "the values of the kept entries of ones (Keras' Dropout(0.3) keeps 1 / (1 - 0.3))"
    fail_if_close(values, np.array([1.0]), expected_values, "the kept entries are not scaled: divide them "
                  "by 1 - rate, so that the expected value of every entry is unchanged", what)
    fail_if_close(values, np.array([1 - rate]), expected_values, "the kept entries are multiplied by "
                  "1 - rate: divide them by it (inverted dropout scales up at training time)", what)
    expect_close(values, expected_values, rtol=1e-6, what=what)
    what = "the fraction of entries kept by inverted_dropout(ones((200, 50)), 0.3)"
    if abs(kept.mean() - rate) <= 0.02:
        raise AssertionError(f"rate is the fraction of entries dropped, not kept: {kept.mean():.1%} were "
                             f"kept, expected about {1 - rate:.0%}\ncase: {what}")
    expect_close(kept.mean(), 1 - rate, atol=0.02, what=what)
    expect_close(out.mean(), 1.0, atol=0.03,
                 what="the mean of inverted_dropout(ones((200, 50)), 0.3): the expectation is preserved")
    if not np.array_equal(np.asarray(inverted_dropout(x, rate, seed=1)), out):
        raise AssertionError("the mask does not come from the seed: two calls with seed=1 gave different "
                             "masks; draw it from a generator made with the given seed "
                             "(np.random.default_rng)\ncase: inverted_dropout(x, 0.3, seed=1) twice")
    if np.array_equal(np.asarray(inverted_dropout(x, rate, seed=2)), out):
        raise AssertionError("the mask does not depend on the seed: seeds 1 and 2 gave the same "
                             "output\ncase: inverted_dropout(x, 0.3, seed=...)")
    z = np.arange(6.0).reshape(2, 3)
    expect_close(inverted_dropout(z, 0.0), z, what="inverted_dropout(z, 0.0): no dropout, z unchanged")
    expect_value_error(inverted_dropout, z, 1.0, what="inverted_dropout(z, 1.0): rate must be in [0, 1)")


def keras_steps(optimizer, w, gradients):
    """The weights after `optimizer` applied each gradient in turn to a keras.Variable holding w."""
    import keras

    variable = keras.Variable(w, dtype="float32")
    trajectory = []
    for gradient in gradients:
        optimizer.apply([keras.ops.convert_to_tensor(gradient, dtype="float32")], [variable])
        trajectory.append(keras.ops.convert_to_numpy(variable).astype(float))
    return trajectory


def momentum_trajectory(w, gradients, learning_rate=0.1, momentum=0.9, *, sign=-1, old_velocity=False):
    """The weights after each momentum step, or with a mistake: the gradient added (sign=1), or w moved
    with the velocity of the step before."""
    velocity, trajectory = np.zeros_like(w), []
    for gradient in gradients:
        new_velocity = momentum * velocity + sign * learning_rate * gradient
        w = w + (velocity if old_velocity else new_velocity)
        velocity = new_velocity
        trajectory.append(w)
    return trajectory


def test_momentum_step():
    """Exercise 1.4: momentum_step, one step of SGD with momentum (Keras' convention).

    Hint: update the velocity first: keep momentum times the old velocity and subtract the learning rate
    times the gradient; then add the new velocity to w. Return new arrays.
    """
    momentum_step = exercises().momentum_step
    w = np.array([1.0, -2.0, 0.5])
    gradients = [np.array([0.3, -1.0, 2.0]), np.array([0.1, 0.5, -1.0]), np.array([-0.4, 0.2, 0.0])]
    momentum_step(w.copy(), np.zeros(3), gradients[0])  # an unfinished stub fails before Keras loads
    import keras

    expected = keras_steps(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), w, gradients)
    mistakes = {
        "gradient ascent: the velocity adds the learning rate times the gradient; subtract it, so that "
        "the step goes downhill": momentum_trajectory(w, gradients, sign=1),
        "w moved with the old velocity: update the velocity first, then add the new one to w":
            momentum_trajectory(w, gradients, old_velocity=True),
    }
    exact = momentum_trajectory(w, gradients)  # in float64: a mistake is named where it differs from this
    velocity, current = np.zeros(3), w.copy()
    for step, gradient in enumerate(gradients, start=1):
        current, velocity = expect_tuple(
            momentum_step(current, velocity, gradient, learning_rate=0.1, momentum=0.9), 2,
            what="momentum_step(w, velocity, gradient, 0.1, 0.9)", names="new_w, new_velocity")
        what = f"w after {step} step(s) vs keras.optimizers.SGD(0.1, momentum=0.9)"
        for problem, trajectory in mistakes.items():
            fail_if_close(current, trajectory[step - 1], exact[step - 1], problem, what)
        expect_close(current, expected[step - 1], rtol=1e-5, atol=1e-6, what=what)
    w_before, gradient = w.copy(), gradients[0]
    momentum_step(w, np.ones(3), gradient)
    expect_unchanged(w_before, w, what="w (the argument of momentum_step)")


def adam_trajectory(w, gradients, learning_rate=0.1, *, correct=True, return_corrected=False):
    """The weights after each Adam step (defaults beta_1 0.9, beta_2 0.999, epsilon 1e-7), or with a
    mistake: no bias correction, or the corrected averages carried on to the next step."""
    m, v, trajectory = np.zeros_like(w), np.zeros_like(w), []
    for t, gradient in enumerate(gradients, start=1):
        m, v = 0.9 * m + 0.1 * gradient, 0.999 * v + 0.001 * np.square(gradient)
        m_hat, v_hat = (m / (1 - 0.9**t), v / (1 - 0.999**t)) if correct else (m, v)
        w = w - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-7)
        if return_corrected:
            m, v = m_hat, v_hat
        trajectory.append(w)
    return trajectory


def test_adam_step():
    """Exercise 1.5: adam_step, one Adam step with bias correction, as keras.optimizers.Adam.

    Hint: update both moving averages first; then divide each by one minus its decay rate to the power of
    the step count t (the bias correction); without it the first steps are far too small or too large.
    Return the running averages themselves, not their corrected copies.
    """
    adam_step = exercises().adam_step
    w = np.array([1.0, -2.0, 0.5, 3.0])
    gradients = [np.array([0.3, -1.0, 2.0, 0.05]), np.array([0.1, 0.5, -1.0, 0.05]),
                 np.array([-0.4, 0.2, 0.7, 0.05])]
    adam_step(w.copy(), np.zeros(4), np.zeros(4), gradients[0], 1)  # a stub fails before Keras loads
    import keras

    expected = keras_steps(keras.optimizers.Adam(learning_rate=0.1), w, gradients)
    mistakes = {
        "no bias correction: divide m by 1 - beta_1 to the power t and v by 1 - beta_2 to the power t "
        "before the step (both averages start at 0)": adam_trajectory(w, gradients, correct=False),
        "the bias-corrected averages were returned: return m and v as they are, and correct copies "
        "of them only for the step": adam_trajectory(w, gradients, return_corrected=True),
    }
    exact = adam_trajectory(w, gradients)  # in float64, with epsilon where the exercise puts it
    m, v, current = np.zeros(4), np.zeros(4), w.copy()
    for t, gradient in enumerate(gradients, start=1):
        current, m, v = expect_tuple(
            adam_step(current, m, v, gradient, t, learning_rate=0.1), 3,
            what=f"adam_step(w, m, v, gradient, t={t}, learning_rate=0.1)", names="new_w, new_m, new_v")
        what = f"w after {t} step(s) vs keras.optimizers.Adam(learning_rate=0.1)"
        for problem, trajectory in mistakes.items():
            fail_if_close(current, trajectory[t - 1], exact[t - 1], problem, what)
        expect_close(current, expected[t - 1], rtol=1e-5, atol=1e-5, what=what)
    expect_close(m, 0.9**2 * 0.1 * gradients[0] + 0.9 * 0.1 * gradients[1] + 0.1 * gradients[2], rtol=1e-6,
                 what="m after 3 steps (the running average of gradients, without bias correction)")
    w_before = w.copy()
    adam_step(w, np.zeros(4), np.zeros(4), gradients[0], 1)
    expect_unchanged(w_before, w, what="w (the argument of adam_step)")
