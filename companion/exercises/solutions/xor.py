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


def polynomial_features(x, degree):
    """Exercise 2.4: every monomial of the two inputs, of degree 1 up to `degree`, as columns.

    x has shape (n, 2), one row (x1, x2) per example; degree is an integer. The monomials of
    degree d are x1^a · x2^(d - a) for a = d, d - 1, ..., 0 (the power of x1 going down): d + 1 of
    them. Put the columns degree by degree, d = 1, 2, ..., degree, each degree in that order: for
    degree 2 that is (x1, x2, x1², x1·x2, x2²), and degree 3 adds (x1³, x1²·x2, x1·x2², x2³). This
    is the order of scikit-learn's PolynomialFeatures(degree, include_bias=False): no constant
    column. Return a float array of shape (n, degree · (degree + 3) / 2), one row per example (5
    columns for degree 2, 9 for 3, 14 for 4), and leave x as it was. Raise ValueError for
    degree < 1. Logistic regression on these features draws curves of that degree in the plane.
    """
    # BEGIN SOLUTION
    if degree < 1:
        raise ValueError(f"Expected degree >= 1. Received: degree={degree!r}")
    x = np.asarray(x, dtype=float)
    columns = []
    for total in range(1, degree + 1):
        for power in range(total, -1, -1):  # the power of x1 goes down, that of x2 up
            columns.append(x[:, 0] ** power * x[:, 1] ** (total - power))
    return np.column_stack(columns)
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
