"""Exercises for the recurrent networks lecture: the pieces of a character language model, in NumPy.

Fill in each function marked "Exercise": replace its `raise NotImplementedError(...)` line with your
code. `companion check rnn --dir .` compares each of them with Keras: keras.layers.SimpleRNN and
LSTM run over a short sequence with the same weights, keras.ops.softmax, and
keras.losses.sparse_categorical_crossentropy; the training windows with
keras.utils.timeseries_dataset_from_array.

Conventions, as in Keras: a batch of inputs at one time step has shape (batch, features), a hidden
state (batch, units); the weights are laid out as the Keras layers store them (`layer.get_weights()`),
so that `x_t @ kernel` and `h_prev @ recurrent_kernel` are the two matrix products of a step.
Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import numpy as np


def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
    """Exercise 1.1: one step of a vanilla RNN (Keras' SimpleRNN) for a batch.

    h_t = tanh(x_t W_xh + h_prev W_hh + b), where x_t has shape (batch, features), h_prev
    (batch, units), W_xh = kernel (features, units), W_hh = recurrent_kernel (units, units) and
    b = bias (units,). Return h_t, shape (batch, units). Run over a sequence, the state of one step
    is the h_prev of the next: that is how the network remembers.
    """
    # BEGIN SOLUTION
    return np.tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias)
    # END SOLUTION


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z), written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """Exercise 1.2: one step of an LSTM (Keras' LSTM) for a batch; return the pair (h_t, c_t).

    x_t has shape (batch, features), h_prev and c_prev (batch, units); kernel (features, 4 units),
    recurrent_kernel (units, 4 units) and bias (4 units,) hold the weights of the four gates side
    by side, in Keras' order i, f, c, o: z = x_t kernel + h_prev recurrent_kernel + bias, and
    z[:, :units] feeds the input gate i, the next `units` columns the forget gate f, then the
    candidate g (Keras calls it c), then the output gate o. i, f and o use the sigmoid, g uses
    tanh; then
        c_t = f ⊙ c_prev + i ⊙ g    (forget some of the old cell, write some of the new)
        h_t = o ⊙ tanh(c_t)         (show some of the cell)
    where ⊙ multiplies entry by entry. `sigmoid` above is yours to use.
    """
    # BEGIN SOLUTION
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias  # (batch, 4 units)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)  # each (batch, units)
    c_t = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    h_t = sigmoid(z_o) * np.tanh(c_t)
    return h_t, c_t
    # END SOLUTION


def softmax_with_temperature(logits, temperature):
    """Exercise 1.3: the probabilities softmax(logits / temperature) along the last axis.

    p_k = exp(z_k) / sum_j exp(z_j) with z = logits / temperature, for every row (every index of
    the other axes): a temperature below 1 sharpens the distribution, above 1 flattens it. It must
    not overflow for large logits such as 1000: subtracting the row's maximum from z first leaves
    the probabilities unchanged and keeps every exp(...) at most 1. Return an array shaped like
    logits. Raise ValueError unless temperature > 0.
    """
    # BEGIN SOLUTION
    if not temperature > 0:
        raise ValueError(f"Expected temperature > 0. Received: temperature={temperature!r}")
    z = np.asarray(logits, dtype=float) / temperature
    exponentials = np.exp(z - z.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)
    # END SOLUTION


def bits_per_char(probabilities, targets):
    """Exercise 1.4: the average number of bits a model spends per character, a float.

    probabilities has shape (n, vocab): row r is the model's distribution over the next character
    at position r; targets (n,) holds the ids of the characters that came. Each character costs
    -log2(probabilities[r, targets[r]]) bits (1 bit for a coin flip, 0 for a certainty);
    return the mean over the n rows. It is the cross-entropy in bits: Keras' loss in nats / ln 2.
    """
    # BEGIN SOLUTION
    probabilities = np.asarray(probabilities, dtype=float)
    targets = np.asarray(targets)
    chosen = probabilities[np.arange(len(targets)), targets]  # (n,)
    return float(np.mean(-np.log2(chosen)))
    # END SOLUTION


def char_windows(ids, length, stride=None):
    """Exercise 1.5: the training pairs of a character language model, a window every `stride` ids.

    ids is a 1-D integer array of character ids, length and stride are positive integers, and
    stride None (the default) means stride = length. Window i starts at id i * stride: its inputs
    are ids[i * stride:i * stride + length], and its targets the same characters shifted by one,
    ids[i * stride + 1:i * stride + length + 1], so that at every position the target is the next
    character. With stride = length the windows do not overlap, as in the lecture; a smaller stride
    makes them overlap (more training pairs from the same text), a larger one leaves out the ids
    between them. Only windows whose last input has a next character count: those with
    i * stride + length < len(ids), so (len(ids) - length - 1) // stride + 1 windows for
    len(ids) > length. Return (inputs, targets), both of shape (n_windows, length) and the dtype of
    ids.
    """
    # BEGIN SOLUTION
    ids = np.asarray(ids)
    if stride is None:
        stride = length
    starts = np.arange(0, len(ids) - length, stride)  # the last input of each has a next character
    positions = starts[:, np.newaxis] + np.arange(length)  # (n_windows, length)
    return ids[positions], ids[positions + 1]
    # END SOLUTION
