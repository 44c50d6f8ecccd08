"""Checks for the training tricks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with the
Keras implementation it re-creates: gradients of keras.activations by tf.GradientTape,
keras.layers.BatchNormalization and keras.layers.Dropout in training mode, and keras.optimizers.SGD
and Adam applied to a keras.Variable.
"""

import numpy as np
import pytest

from companion.exercises._expect import expect_close, expect_tuple, expect_unchanged
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


def test_activation_derivative():
    """Exercise 1.1: activation_derivative, g'(z) for sigmoid, tanh, relu, leaky_relu, elu, softplus.

    Hint: sigmoid' = s(1 - s), tanh' = 1 - tanh², relu' = 1 for z > 0 else 0, leaky_relu' = 1 or
    0.2, elu' = 1 or e^z, and softplus' is the sigmoid.
    """
    activation_derivative = exercises().activation_derivative
    z = np.array([-6.0, -2.5, -0.7, -1e-3, 0.3, 1.0, 2.5, 6.0])
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"):
        expect_close(activation_derivative(name, z), keras_derivative(name, z), rtol=1e-6, atol=1e-9,
                     what=f"activation_derivative({name!r}, z) vs Keras by GradientTape, z = {z.tolist()}")
    grid = np.linspace(-3, 3, 12).reshape(3, 4)
    expect_close(activation_derivative("tanh", grid), keras_derivative("tanh", grid), rtol=1e-6,
                 what="activation_derivative('tanh', z) for z of shape (3, 4)")
    with pytest.raises(ValueError):
        activation_derivative("swish-ish", z)


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
        expect_close(received, expected, rtol=1e-6, atol=1e-8,
                     what=f"batch_norm_forward(x, gamma, beta, epsilon={epsilon}) vs "
                     "keras.layers.BatchNormalization(...)(x, training=True), x of shape (8, 3)")
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
    expect_close(np.unique(out[kept]), np.unique(by_keras[by_keras != 0]), rtol=1e-6,
                 what="the values of the kept entries of ones (Keras' Dropout(0.3) keeps 1 / (1 - 0.3))")
    expect_close(kept.mean(), 1 - rate, atol=0.02,
                 what="the fraction of entries kept by inverted_dropout(ones((200, 50)), 0.3)")
    expect_close(out.mean(), 1.0, atol=0.03,
                 what="the mean of inverted_dropout(ones((200, 50)), 0.3): the expectation is preserved")
    expect_close(inverted_dropout(x, rate, seed=1), out, atol=0, rtol=0,
                 what="inverted_dropout(x, 0.3, seed=1) twice: the same seed gives the same mask")
    if np.array_equal(np.asarray(inverted_dropout(x, rate, seed=2)), out):
        raise AssertionError("the mask does not depend on the seed: seeds 1 and 2 gave the same "
                             "output\ncase: inverted_dropout(x, 0.3, seed=...)")
    z = np.arange(6.0).reshape(2, 3)
    expect_close(inverted_dropout(z, 0.0), z, what="inverted_dropout(z, 0.0): no dropout, z unchanged")
    with pytest.raises(ValueError):
        inverted_dropout(z, 1.0)


def keras_steps(optimizer, w, gradients):
    """The weights after `optimizer` applied each gradient in turn to a keras.Variable holding w."""
    import keras

    variable = keras.Variable(w, dtype="float32")
    trajectory = []
    for gradient in gradients:
        optimizer.apply([keras.ops.convert_to_tensor(gradient, dtype="float32")], [variable])
        trajectory.append(keras.ops.convert_to_numpy(variable).astype(float))
    return trajectory


def test_momentum_step():
    """Exercise 1.4: momentum_step, one step of SGD with momentum (Keras' convention).

    Hint: the velocity first: momentum * velocity - learning_rate * gradient; then add it to w.
    """
    momentum_step = exercises().momentum_step
    w = np.array([1.0, -2.0, 0.5])
    gradients = [np.array([0.3, -1.0, 2.0]), np.array([0.1, 0.5, -1.0]), np.array([-0.4, 0.2, 0.0])]
    momentum_step(w.copy(), np.zeros(3), gradients[0])  # an unfinished stub fails before Keras loads
    import keras

    expected = keras_steps(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), w, gradients)
    velocity, current = np.zeros(3), w.copy()
    for step, gradient in enumerate(gradients, start=1):
        current, velocity = expect_tuple(
            momentum_step(current, velocity, gradient, learning_rate=0.1, momentum=0.9), 2,
            what="momentum_step(w, velocity, gradient, 0.1, 0.9)", names="new_w, new_velocity")
        expect_close(current, expected[step - 1], rtol=1e-5, atol=1e-6,
                     what=f"w after {step} step(s) vs keras.optimizers.SGD(0.1, momentum=0.9)")
    w_before, gradient = w.copy(), gradients[0]
    momentum_step(w, np.ones(3), gradient)
    expect_unchanged(w_before, w, what="w (the argument of momentum_step)")


def test_adam_step():
    """Exercise 1.5: adam_step, one Adam step with bias correction, as keras.optimizers.Adam.

    Hint: update both moving averages first; then divide each by one minus its decay rate to the power of
    the step count t (the bias correction); without it the first steps are far too small or too large.
    """
    adam_step = exercises().adam_step
    w = np.array([1.0, -2.0, 0.5, 3.0])
    gradients = [np.array([0.3, -1.0, 2.0, 0.05]), np.array([0.1, 0.5, -1.0, 0.05]),
                 np.array([-0.4, 0.2, 0.7, 0.05])]
    adam_step(w.copy(), np.zeros(4), np.zeros(4), gradients[0], 1)  # a stub fails before Keras loads
    import keras

    expected = keras_steps(keras.optimizers.Adam(learning_rate=0.1), w, gradients)
    m, v, current = np.zeros(4), np.zeros(4), w.copy()
    for t, gradient in enumerate(gradients, start=1):
        current, m, v = expect_tuple(
            adam_step(current, m, v, gradient, t, learning_rate=0.1), 3,
            what=f"adam_step(w, m, v, gradient, t={t}, learning_rate=0.1)", names="new_w, new_m, new_v")
        expect_close(current, expected[t - 1], rtol=1e-5, atol=1e-5,
                     what=f"w after {t} step(s) vs keras.optimizers.Adam(learning_rate=0.1)")
    expect_close(m, 0.9**2 * 0.1 * gradients[0] + 0.9 * 0.1 * gradients[1] + 0.1 * gradients[2], rtol=1e-6,
                 what="m after 3 steps (the running average of gradients, without bias correction)")
    w_before = w.copy()
    adam_step(w, np.zeros(4), np.zeros(4), gradients[0], 1)
    expect_unchanged(w_before, w, what="w (the argument of adam_step)")
