"""Exercises for the training tricks lecture: the pieces behind Keras' layers and optimizers, in NumPy.

Fill in each function marked "Exercise". `companion check training_tricks` compares each of them with
the Keras implementation (keras.activations, BatchNormalization, Dropout, SGD with momentum, Adam).
Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import numpy as np


def activation_derivative(name, z):
    """Exercise 1.1: the derivative g'(z) of the non-linearity `name`, entry by entry.

    `name` is one of "sigmoid", "tanh", "relu", "leaky_relu" (slope 0.2 for z < 0, as in Keras),
    "elu" (alpha = 1: z for z > 0, e^z - 1 otherwise) and "softplus" (log(1 + e^z)). At the
    kink z = 0 of relu, leaky_relu and elu use the left-hand slope. Return an array shaped like z.
    Raise ValueError for any other name.
    """
    # BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * z))
    if name == "sigmoid":
        return sigmoid * (1.0 - sigmoid)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.2)
    if name == "elu":
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    if name == "softplus":
        return sigmoid
    raise ValueError(
        "Expected name to be one of sigmoid, tanh, relu, leaky_relu, elu, softplus. "
        f"Received: name={name!r}")
    # END SOLUTION


def batch_norm_forward(x, gamma, beta, epsilon=1e-3):
    """Exercise 1.2: batch normalisation of a mini-batch x of shape (batch, features), training mode.

    Standardise each feature (column) with the batch's own mean and variance (the biased variance,
    mean of squared deviations), x̂ = (x - mean) / sqrt(variance + epsilon), then scale and shift:
    gamma * x̂ + beta (gamma and beta have shape (features,)). Return the (batch, features) result.
    """
    # BEGIN SOLUTION
    mean = x.mean(axis=0)
    variance = x.var(axis=0)
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta
    # END SOLUTION


def inverted_dropout(x, rate, seed=0):
    """Exercise 1.3: inverted dropout at training time.

    Draw a mask with `rng = np.random.default_rng(seed)`: keep each entry with probability
    1 - rate (`rng.random(x.shape) >= rate`), zero the others, and divide the kept entries by
    1 - rate so that the expected value of every entry is unchanged. rate = 0 returns x as it is
    (a copy); rate must be in [0, 1), otherwise raise ValueError.
    """
    # BEGIN SOLUTION
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received: rate={rate}")
    rng = np.random.default_rng(seed)
    keep = rng.random(np.shape(x)) >= rate
    return np.where(keep, x / (1.0 - rate), 0.0)
    # END SOLUTION


def momentum_step(w, velocity, gradient, learning_rate=0.01, momentum=0.9):
    """Exercise 1.4: one step of SGD with momentum, as Keras' SGD(momentum=...) takes it.

    velocity ← momentum * velocity - learning_rate * gradient, then w ← w + velocity.
    Return the pair (new_w, new_velocity), as new arrays.
    """
    # BEGIN SOLUTION
    velocity = momentum * velocity - learning_rate * gradient
    return w + velocity, velocity
    # END SOLUTION


def adam_step(w, m, v, gradient, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Exercise 1.5: one Adam step; `t` is the number of this step, 1 for the first.

    m ← beta_1 m + (1 - beta_1) g and v ← beta_2 v + (1 - beta_2) g² are running averages of the
    gradient and its square; both start at 0, so divide them by 1 - beta_1**t and 1 - beta_2**t
    (bias correction) before w ← w - learning_rate * m̂ / (sqrt(v̂) + epsilon).
    Return the triple (new_w, new_m, new_v) (m and v without the bias correction).
    """
    # BEGIN SOLUTION
    m = beta_1 * m + (1 - beta_1) * gradient
    v = beta_2 * v + (1 - beta_2) * gradient**2
    m_hat = m / (1 - beta_1**t)
    v_hat = v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
    # END SOLUTION
