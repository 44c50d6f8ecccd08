"""Exercises for the neurons, layers and networks lecture, in plain NumPy.

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check mlp --dir .` (one line per exercise, with a hint when it
fails), or with plain `pytest` in this folder.

Notation, as in the lecture: `x` holds a batch of n examples of d features, shape (n, d); a dense
layer of k units has weights `W` of shape (d, k) (one column per unit, as Keras stores its kernel)
and biases `b` of shape (k,); its outputs for the batch have shape (n, k). For K classes a network
outputs logits or probabilities of shape (n, K), and the labels `y` are integers 0 ... K - 1.
"""

import numpy as np

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before taking logs, as Keras does.
EPSILON = 1e-7


def dense_forward(x, weights, biases):
    """Exercise 3.1: compute the outputs ReLU(x W + b) of a dense layer for a batch x.

    `x` has shape (n, d), `weights` (d, k), `biases` (k,); return an array of shape (n, k). Each
    unit j computes the weighted sum x_i . W[:, j] + b[j] for every example i, and ReLU(z) = max(0, z)
    keeps the positive sums. One matrix product does all units for all examples at once; no loops.
    """
    # BEGIN SOLUTION
    z = x @ weights + biases  # (n, k)
    return np.maximum(0.0, z)
    # END SOLUTION


def softmax(logits):
    """Exercise 3.2: turn each row of logits into probabilities: exp(z_k) / sum_j exp(z_j).

    `logits` has shape (n, K); return an array of the same shape whose rows are positive and sum
    to 1. Written as above, a logit of 1000 makes exp overflow (inf / inf = nan). Subtracting the
    row's largest logit first changes nothing in the result (the factor cancels) and keeps every
    exponent <= 0.
    """
    # BEGIN SOLUTION
    shifted = logits - np.max(logits, axis=1, keepdims=True)  # every entry <= 0
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=1, keepdims=True)
    # END SOLUTION


def cross_entropy(y, probabilities):
    """Exercise 3.3: the mean categorical cross-entropy of predicted class probabilities.

    `y` holds n integer labels in 0 ... K - 1, shape (n,); `probabilities` has shape (n, K) and
    rows that sum to 1. The loss of example i is -log(probabilities[i, y[i]]), minus the log of the
    probability given to its true class; return the mean over the n examples, a float. Clip the
    probabilities to [EPSILON, 1 - EPSILON] first, as Keras does, so that a probability of 0 for
    the true class costs a large finite loss instead of inf.
    """
    # BEGIN SOLUTION
    p_true = probabilities[np.arange(len(y)), y]  # (n,): the probability of each true class
    p_true = np.clip(p_true, EPSILON, 1 - EPSILON)
    return float(-np.mean(np.log(p_true)))
    # END SOLUTION


def count_parameters(layer_sizes):
    """Exercise 3.4: count the weights and biases of a stack of dense layers.

    `layer_sizes` lists the number of inputs and then the units of each layer, for example
    [784, 64, 64, 10]: 784 inputs, two hidden layers of 64 units, 10 outputs. A dense layer from
    m inputs to k units has an m x k weight matrix and k biases. Return the total, an int, as
    Keras' `model.count_params()` counts it.
    """
    # BEGIN SOLUTION
    return int(sum((n_in + 1) * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])))
    # END SOLUTION
