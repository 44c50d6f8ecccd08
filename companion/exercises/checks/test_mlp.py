"""Checks for the neurons, layers and networks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: explicit loops over units and examples, SciPy's softmax, scikit-learn's
log_loss, and the parameter count of the same layers built in Keras. Where a typical mistake (a missing
ReLU or bias, the wrong axis, a lost axis, a sum for a mean, labels indexing whole columns) explains the
received values, the failure names it.
"""


import numpy as np

from companion.exercises._expect import call_strictly, expect_close, expect_unchanged, fail_if_close
from companion.exercises._loader import load_exercises

EPSILON = 1e-7  # the clipping of probabilities that the exercises ask for


def exercises():
    return load_exercises("mlp", __file__)


def reference_dense(x, weights, biases):
    """Unit by unit, example by example: max(0, sum_i x[n, i] W[i, j] + b[j])."""
    n, k = len(x), weights.shape[1]
    out = np.zeros((n, k))
    for example in range(n):
        for unit in range(k):
            total = biases[unit]
            for i in range(weights.shape[0]):
                total += x[example, i] * weights[i, unit]
            out[example, unit] = max(0.0, total)
    return out


def test_dense_forward():
    """Exercise 3.1: dense_forward, a dense ReLU layer for a whole batch.

    Hint: the matrix product of x and the weights has shape (n, k), one column per unit; add the biases
    (they broadcast over the rows), then keep the positive part of each sum (np.maximum) for the ReLU.
    """
    dense_forward = exercises().dense_forward
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    weights = rng.uniform(-1, 1, size=(3, 2))
    biases = np.array([0.5, -0.25])
    before = x.copy(), weights.copy(), biases.copy()
    what = "dense_forward(x, weights, biases): 4 examples, 3 inputs, 2 units"
    expected = reference_dense(x, weights, biases)
    without_biases = reference_dense(x, weights, np.zeros(2))
    received = dense_forward(x, weights, biases)
    if np.shape(received) == expected.shape:
        received_array = np.asarray(received, dtype=float)
        if np.any(received_array < 0):
            raise AssertionError(
                f"negative outputs: apply the ReLU, max(0, z), to the weighted sums\ncase: {what}\n"
                f"expected: {expected}\nreceived: {received_array}"
            )
        if np.allclose(received_array, without_biases):
            raise AssertionError(
                f"the biases are missing: add b to x @ W before the ReLU\ncase: {what}\n"
                f"expected: {expected}\nreceived: {received_array}"
            )
    expect_close(received, expected, what=what)
    for name, old, new in zip(("x", "weights", "biases"), before, (x, weights, biases)):
        expect_unchanged(old, new, what=f"{name} (an argument of dense_forward)")

    x = rng.normal(size=(1, 5))  # one example, one unit
    weights, biases = rng.normal(size=(5, 1)), np.array([0.1])
    expect_close(dense_forward(x, weights, biases), reference_dense(x, weights, biases),
                 what="dense_forward for 1 example of 5 inputs and 1 unit: shape (1, 1)")

    x = rng.normal(size=(6, 8))  # the weights are (inputs, units), not (units, inputs)
    weights, biases = rng.normal(size=(8, 3)), rng.normal(size=3)
    expect_close(dense_forward(x, weights, biases), reference_dense(x, weights, biases),
                 what="dense_forward for 6 examples of 8 inputs and 3 units: shape (6, 3)")


def test_softmax():
    """Exercise 3.2: softmax, row by row and numerically stable.

    Hint: subtract each row's largest logit before np.exp, then divide by each row's sum; take both along
    axis 1 and keep that axis (keepdims), so that they have shape (n, 1) and line up with the rows. Make
    new arrays; do not change `logits` in place.
    """
    from scipy.special import softmax as reference

    softmax = exercises().softmax
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0], [2.0, 2.0, 2.0], [-3.0, 0.0, 4.0]])
    before = logits.copy()
    what = f"softmax(logits) for logits = {logits.tolist()}"
    expected, by_column = reference(logits, axis=1), reference(logits, axis=0)
    try:
        received = softmax(logits)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise AssertionError(
            f"a row's maximum or sum lost its axis: of shape (n,), it does not line up with the rows of the "
            f"(n, K) logits; keep the axis (keepdims) so that it has shape (n, 1)\ncase: {what}\n"
            f"ValueError: {error}"
        ) from None
    if np.shape(received) == logits.shape and np.allclose(received, by_column):
        raise AssertionError(
            f"normalised over the wrong axis: each column sums to 1, but each row (one example) "
            f"should\ncase: {what}\nexpected: {expected}\nreceived: {np.asarray(received)}"
        )
    expect_close(received, expected, what=what, rtol=1e-7)
    expect_unchanged(before, logits, what="logits (the argument of softmax)")
    expect_close(np.sum(received, axis=1), np.ones(4), what=f"the row sums of {what}")

    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
    what = f"softmax(logits) for logits = {logits.tolist()}"
    received = call_strictly(
        softmax, logits, what=what,
        fix="exp(1000) overflows: subtract each row's largest logit first, so every exponent is <= 0",
    )
    expect_close(received, reference(logits, axis=1), what=what, rtol=1e-7)
    expect_close(np.sum(received, axis=1), np.ones(3), what=f"the row sums of {what}")


def test_cross_entropy():
    """Exercise 3.3: cross_entropy, the mean of -log(probability of the true class).

    Hint: pick each example's true-class probability, pairing row i with the label of example i: index
    the table with the row numbers (np.arange) and the labels together, not with the labels alone. Clip
    those to [EPSILON, 1 - EPSILON], take minus the log, and average over the examples (one number).
    """
    cross_entropy = exercises().cross_entropy
    y = np.array([0, 2, 1, 2])
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.8, 0.1, 0.1]])
    what = f"cross_entropy(y, probabilities) for y = {y.tolist()}, probabilities = {probabilities.tolist()}"
    received = cross_entropy(y, probabilities)
    from sklearn.metrics import log_loss  # after the student's call: a stub fails without loading it

    expected = log_loss(y, probabilities, labels=[0, 1, 2])
    if np.ndim(received) == 0 and np.isfinite(received):
        if np.isclose(received, 3 * expected, rtol=1e-6):
            raise AssertionError(
                f"3 times too large (the number of classes): the loss is a mean over the examples, "
                f"each contributing -log of one probability\ncase: {what}\n"
                f"expected: {expected}\nreceived: {received}"
            )
        if np.isclose(received, len(y) * expected, rtol=1e-6):
            raise AssertionError(
                f"sum instead of mean: the loss is the average over the {len(y)} examples, not their total "
                f"({len(y)} times too large)\ncase: {what}\nexpected: {expected}\nreceived: {received}"
            )
        if np.isclose(received, expected / 3, rtol=1e-6):
            raise AssertionError(
                f"3 times too small: average over the {len(y)} examples, not over all "
                f"{probabilities.size} entries of the table\ncase: {what}\n"
                f"expected: {expected}\nreceived: {received}"
            )
    fail_if_close(received, -np.mean(np.log(probabilities[:, y])), expected, "the labels picked whole "
                  "columns: indexing the table with the labels alone gives an (n, n) table of every "
                  "example's probability of every label; pair each row with its own label", what)
    fail_if_close(received, -expected, expected, "sign flipped: the loss is minus the mean log-probability "
                  "of the true classes, a positive number", what)
    expect_close(received, expected, what=what, rtol=1e-6)

    probabilities = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    y = np.array([0, 1, 2])  # the first is a confident mistake, the last a confident success
    what = f"cross_entropy(y, probabilities) for y = {y.tolist()}, probabilities = {probabilities.tolist()}"
    received = call_strictly(
        cross_entropy, y, probabilities, what=what,
        fix="log(0) is -inf: clip the probabilities to [EPSILON, 1 - EPSILON] before the log",
    )
    p_true = np.clip(np.array([0.0, 0.5, 1.0]), EPSILON, 1 - EPSILON)
    expect_close(received, -np.mean(np.log(p_true)), rtol=1e-6,
                 what=f"{what}, probabilities clipped to [1e-7, 1 - 1e-7]")


def test_count_parameters():
    """Exercise 3.4: count_parameters of a stack of dense layers, as Keras counts them.

    Hint: pair each layer's number of inputs with its number of units (zip the list without its last
    entry with the list without its first); a layer of k units on m inputs has m times k weights plus k
    biases.
    """
    count_parameters = exercises().count_parameters
    stacks = [[2, 3], [784, 64, 64, 10], [2, 128, 128, 3], [64, 32, 10], [5, 1]]
    received = {tuple(stack): count_parameters(list(stack)) for stack in stacks}
    for stack in stacks:  # a known mistake is named before Keras loads, which takes seconds
        got, biases = received[tuple(stack)], sum(stack[1:])
        no_biases = sum(m * k for m, k in zip(stack[:-1], stack[1:]))
        if np.ndim(got) == 0 and got == no_biases:
            raise AssertionError(
                f"the biases are missing: each unit also has one bias, {biases} in all here"
                f"\ncase: count_parameters({stack})\nexpected: {no_biases + biases}\nreceived: {got}"
            )
    import keras

    for stack in stacks:
        model = keras.Sequential(
            [keras.Input(shape=(stack[0],))] + [keras.layers.Dense(units) for units in stack[1:]]
        )
        what = f"count_parameters({stack}) vs Keras' count_params() of the same Dense layers"
        expect_close(received[tuple(stack)], model.count_params(), what=what, atol=0, rtol=0, dtype="integer")
