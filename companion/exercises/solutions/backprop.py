"""Exercises for the backpropagation lecture, in plain NumPy.

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check backprop --dir .` (one line per exercise, with a hint when it
fails), or with plain `pytest` in this folder.

A gate computes its output in the forward pass; in the backward pass it receives `upstream`, the
gradient of the final output with respect to the gate's output, and returns the gradients with
respect to its inputs: upstream times the gate's local gradient (the chain rule).

The network, as in the lecture: x holds n examples of d features, shape (n, d); y their labels, 0
or 1, shape (n,). The parameters are a dict with W1 (d, h), b1 (h,), W2 (h, 1) and b2 (1,):

    s1 = x @ W1 + b1      (n, h)      a1 = sigmoid(s1)    (n, h)
    s2 = a1 @ W2 + b2     (n, 1)      p  = sigmoid(s2)    (n, 1), the probability of label 1

and the loss is the mean binary cross-entropy -mean(y log p + (1 - y) log(1 - p)).
"""

import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), written so that it never overflows."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def forward(params, x):
    """The network's forward pass: returns (a1, p), shapes (n, h) and (n, 1)."""
    a1 = sigmoid(x @ params["W1"] + params["b1"])  # (n, h)
    p = sigmoid(a1 @ params["W2"] + params["b2"])  # (n, 1)
    return a1, p


def loss(params, x, y):
    """The mean binary cross-entropy of the network on (x, y), a float."""
    _, p = forward(params, x)
    p = p[:, 0]  # (n,)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def multiply_gate(x, y, upstream):
    """Exercise 1.1: forward and backward pass of the multiply gate z = x * y; return (z, dx, dy).

    dx and dy are the gradients of the final output with respect to x and y: upstream times the
    local gradients ∂z/∂x and ∂z/∂y. Numbers or arrays of one shape (entry by entry).
    """
    # BEGIN SOLUTION
    z = x * y
    dx = upstream * y  # ∂z/∂x = y: the multiply gate swaps its inputs
    dy = upstream * x  # ∂z/∂y = x
    return z, dx, dy
    # END SOLUTION


def sigmoid_gate(x, upstream):
    """Exercise 1.2: forward and backward pass of the sigmoid gate z = sigmoid(x); return (z, dx).

    dx is upstream times the local gradient dσ/dx = σ(x)(1 - σ(x)), which needs only the output
    z. Numbers or arrays of one shape; use the `sigmoid` above, which never overflows.
    """
    # BEGIN SOLUTION
    z = sigmoid(x)
    dx = upstream * z * (1 - z)
    return z, dx
    # END SOLUTION


def network_gradients(params, x, y):
    """Exercise 1.3: backpropagate through the network; return the gradient of the loss as a dict.

    The dict has keys "W1", "b1", "W2", "b2", each gradient with the shape of its parameter. Start
    from ∂L/∂s2 = (p - y) / n, shape (n, 1) (careful: y has shape (n,)), and go backwards one
    layer at a time: through W2 and b2, then the hidden sigmoid, then W1 and b1.
    """
    # BEGIN SOLUTION
    a1, p = forward(params, x)
    delta2 = (p - y.reshape(-1, 1)) / len(x)  # ∂L/∂s2, (n, 1)
    delta1 = (delta2 @ params["W2"].T) * a1 * (1 - a1)  # ∂L/∂s1, (n, h)
    return {
        "W1": x.T @ delta1,  # (d, h)
        "b1": delta1.sum(axis=0),  # (h,)
        "W2": a1.T @ delta2,  # (h, 1)
        "b2": delta2.sum(axis=0),  # (1,)
    }
    # END SOLUTION


def numeric_gradient(f, array, step=1e-5):
    """Exercise 1.4: the gradient of f at `array` by central differences, entry by entry.

    f takes no arguments and returns a float that depends on the current values in `array` (an
    array of any shape). For each entry i, set array[i] to its value + step, call f, set it to its
    value - step, call f again, and put it back; the derivative is (f+ - f-) / (2 step). Return an
    array of the shape of `array`, and leave `array` as you found it.
    """
    # BEGIN SOLUTION
    gradient = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + step
        above = f()
        array[index] = original - step
        below = f()
        array[index] = original
        gradient[index] = (above - below) / (2 * step)
    return gradient
    # END SOLUTION


def gradient_check(params, x, y, gradients):
    """Exercise 1.5: compare `gradients` (e.g. from network_gradients) with numeric gradients.

    For each name in params return the relative error
    norm(g - g_numeric) / (norm(g) + norm(g_numeric)), over all entries of that parameter (0 where
    both are 0), as a dict {name: float}. Get g_numeric from numeric_gradient on params[name] with
    f = lambda: loss(params, x, y). Below 1e-7 is a pass; a bug shows as 1e-2 or more.
    """
    # BEGIN SOLUTION
    errors = {}
    for name, value in params.items():
        numeric = numeric_gradient(lambda: loss(params, x, y), value)
        difference = np.linalg.norm(gradients[name] - numeric)
        scale = np.linalg.norm(gradients[name]) + np.linalg.norm(numeric)
        errors[name] = float(difference / scale) if scale > 0 else 0.0
    return errors
    # END SOLUTION
