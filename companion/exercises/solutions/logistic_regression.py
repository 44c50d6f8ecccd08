"""Exercises for the logistic regression lecture, in plain NumPy.

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check logistic_regression --dir .` (one line per exercise, with a
hint when it fails), or with plain `pytest` in this folder.

Notation, as in the lecture: `x` holds n examples of d features, shape (n, d); `y` holds their
labels, 0 or 1, shape (n,); the model has weights `w`, shape (d,), and a bias `b`, a float; it
predicts p = sigmoid(x @ w + b), the probability that each label is 1.
"""

import numpy as np

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before taking logs, as Keras does.
EPSILON = 1e-7


def sigmoid(z):
    """Exercise 1.1: compute the logistic function 1 / (1 + exp(-z)) without overflow.

    `z` is a number or an array of any shape; return an array of the same shape (a 0-d array for a
    number). Written as above, sigmoid(-1000) computes exp(1000), which overflows (a RuntimeWarning,
    then inf). For negative z use the equal form exp(z) / (1 + exp(z)), which exponentiates only
    numbers <= 0.
    """
    # BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    # END SOLUTION


def binary_cross_entropy(y_true, p):
    """Exercise 1.2: compute the mean binary cross-entropy of probabilities p for labels y_true.

    loss = -mean(y_true * log(p) + (1 - y_true) * log(1 - p)), a float. Clip p to
    [EPSILON, 1 - EPSILON] first, as Keras does: a confident wrong prediction (p = 0 for a label 1)
    then costs a large finite loss instead of inf.
    """
    # BEGIN SOLUTION
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
    # END SOLUTION


def gradient(w, b, x, y):
    """Exercise 1.3: compute the gradient of the loss with respect to w and b; return (dw, db).

    The loss is binary_cross_entropy(y, sigmoid(x @ w + b)). dw has the shape of w, (d,), and db is
    a float. Derive it with the chain rule: the derivative of the loss with respect to the logit
    z_i = x_i . w + b of example i is (p_i - y_i) / n.
    """
    # BEGIN SOLUTION
    error = sigmoid(x @ w + b) - y  # (n,)
    dw = x.T @ error / len(y)  # (d,)
    db = float(np.mean(error))
    return dw, db
    # END SOLUTION


def gradient_descent_step(w, b, x, y, learning_rate):
    """Exercise 1.4: take one step of gradient descent; return the new (w, b).

    Move against your gradient(): w - learning_rate * dw and b - learning_rate * db. Return new
    values and leave the arguments as they were (`w = w - ...`, not `w -= ...`): the caller may
    still need the old weights.
    """
    # BEGIN SOLUTION
    dw, db = gradient(w, b, x, y)
    return w - learning_rate * dw, b - learning_rate * db
    # END SOLUTION


def predict(w, b, x, threshold=0.5):
    """Exercise 1.5: predict labels: 1 where sigmoid(x @ w + b) >= threshold, else 0.

    Return an integer array of shape (n,) (True/False are not labels: convert them).
    """
    # BEGIN SOLUTION
    p = sigmoid(x @ w + b)
    return (p >= threshold).astype(int)
    # END SOLUTION
