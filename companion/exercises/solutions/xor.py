"""Exercises for the XOR lecture, in plain NumPy: logic gates as neurons, features, composition.

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check xor --dir .` (one line per exercise, with a hint when it
fails), or with plain `pytest` in this folder.

Notation, as in the lecture: a neuron with weights `w`, shape (d,), and bias `b`, a float, outputs
1 where x @ w + b >= 0 and 0 elsewhere, for inputs `x` of shape (n, d); `neuron(x, w, b)` below
computes that. The four inputs of a two-input gate are the rows of CORNERS.
"""

import numpy as np

CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def neuron(x, w, b):
    """A threshold neuron (given, not an exercise): 1 where x @ w + b >= 0, else 0; shape (n,)."""
    return (np.asarray(x) @ np.asarray(w) + b >= 0).astype(int)


def and_weights():
    """Exercise 2.1: return (w, b) for a neuron that computes AND of its two inputs.

    w is an array of shape (2,) and b a float, such that x @ w + b is positive on the corner
    (1, 1) and negative on the other three corners. Keep every corner off the line itself
    (x @ w + b == 0 there would leave the output to a tie).
    """
    # BEGIN SOLUTION
    return np.array([1.0, 1.0]), -1.5
    # END SOLUTION


def or_weights():
    """Exercise 2.2: return (w, b) for a neuron that computes OR of its two inputs.

    As for AND: x @ w + b positive on the three corners with at least one input on, negative on
    (0, 0), and never 0 on a corner.
    """
    # BEGIN SOLUTION
    return np.array([1.0, 1.0]), -0.5
    # END SOLUTION


def nand_weights():
    """Exercise 2.3: return (w, b) for a neuron that computes NAND (NOT AND) of its two inputs.

    NAND is 1 except on (1, 1). Flipping the sign of a neuron's weights and bias flips its output.
    """
    # BEGIN SOLUTION
    w, b = and_weights()
    return -w, -b
    # END SOLUTION


def expand_features(x):
    """Exercise 2.4: map each row (x1, x2) of x, shape (n, 2), to (x1², x2², x1·x2, x1, x2).

    Return a float array of shape (n, 5), columns in exactly that order, and leave x as it was.
    Logistic regression on these features draws quadratic curves in the (x1, x2) plane.
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    x1, x2 = x[:, 0], x[:, 1]
    return np.column_stack([x1**2, x2**2, x1 * x2, x1, x2])
    # END SOLUTION


def xor_from_gates(x):
    """Exercise 2.5: compute XOR of the rows of x, shape (n, 2) of 0s and 1s, from gate neurons.

    No single neuron computes XOR, but XOR = AND(OR, NAND): feed x to your OR and NAND neurons
    (`neuron(x, *or_weights())`, ...), stack their two outputs as the columns of an (n, 2) array,
    and feed that to your AND neuron. Return the integer array of shape (n,) that it outputs.
    """
    # BEGIN SOLUTION
    hidden = np.column_stack([neuron(x, *or_weights()), neuron(x, *nand_weights())])  # (n, 2)
    return neuron(hidden, *and_weights())
    # END SOLUTION
