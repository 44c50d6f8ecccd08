"""Checks for the logistic regression exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: SciPy's expit, scikit-learn's log_loss, a numeric gradient by central
differences, and closed forms written out here. Where a typical mistake (a sum for a mean, a flipped
sign, gradient ascent, an ignored argument, > for >=) explains the received values, the failure names it.
"""


import numpy as np

from companion.exercises._expect import call_strictly, expect_close, expect_unchanged, fail_if_close
from companion.exercises._loader import load_exercises

EPSILON = 1e-7  # the clipping of probabilities that the exercises ask for


def exercises():
    return load_exercises("logistic_regression", __file__)


def reference_loss(w, b, x, y):
    """Mean cross-entropy from the logits, log(1 + exp(z)) - y z, computed stably."""
    z = x @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def reference_gradient(w, b, x, y):
    p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w + b)))  # sigmoid, written another way
    return x.T @ (p - y) / len(y), float(np.mean(p - y))


def numeric_gradient(loss, w, b, step=1e-5):
    """Central differences of loss(w, b): ((loss(w + h e_i) - loss(w - h e_i)) / 2h, ...)."""
    dw = np.zeros_like(w)
    for i in range(len(w)):
        shift = np.zeros_like(w)
        shift[i] = step
        dw[i] = (loss(w + shift, b) - loss(w - shift, b)) / (2 * step)
    db = (loss(w, b + step) - loss(w, b - step)) / (2 * step)
    return dw, db


def expect_pair(result, what):
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != 2:
        shape = f" of shape {np.shape(result)}" if isinstance(result, np.ndarray) else ""
        raise AssertionError(
            f"type mismatch: expected a pair like (dw, db), received {type(result).__name__}{shape}"
            f"\ncase: {what}\nreceived: {result!r}"
        )
    return result


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6, 3))
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    w = rng.normal(size=3)
    return w, 0.3, x, y


def test_sigmoid():
    """Exercise 1.1: sigmoid, a numerically stable logistic function.

    Hint: exponentiate only numbers that are not positive: the exponential of minus the absolute value
    of z never overflows, and both forms of the sigmoid can be written with it. Pick a form per entry
    by the sign of z (np.where), knowing that np.where computes both of its branches on every entry.
    """
    from scipy.special import expit

    sigmoid = exercises().sigmoid
    z = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    expect_close(sigmoid(z), expit(z), what=f"sigmoid(z) for z = {z.tolist()}", rtol=1e-7)

    z = np.array([[-2.0, 0.0, 1.0], [3.0, -0.5, 4.0]])
    expect_close(sigmoid(z), expit(z), what="sigmoid(z) for z of shape (2, 3)", rtol=1e-7)
    expect_close(sigmoid(0.0), 0.5, what="sigmoid(0.0) (a number in, a number out)", rtol=1e-7)

    z = np.array([-1000.0, -40.0, 40.0, 1000.0])
    received = call_strictly(
        sigmoid, z,
        what=f"sigmoid(z) for z = {z.tolist()}",
        fix="exp(-z) overflows for z = -1000; exponentiate only numbers <= 0 (np.where computes "
            "both of its branches on every entry, so neither branch may overflow)",
    )
    expect_close(received, expit(z), what=f"sigmoid(z) for z = {z.tolist()}", rtol=1e-7)


def test_binary_cross_entropy():
    """Exercise 1.2: binary_cross_entropy, the mean loss, finite even for p = 0 or 1.

    Hint: clip p into the interval from EPSILON to 1 - EPSILON (np.clip) before taking logs, so that a
    confident wrong prediction costs a large finite loss. The loss is one positive number: the average,
    over the examples, of minus the log of the probability given to the true label.
    """
    binary_cross_entropy = exercises().binary_cross_entropy
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.2, 0.6, 0.4])
    received = binary_cross_entropy(y_true, p)
    from sklearn.metrics import log_loss

    expected = log_loss(y_true, p, labels=[0, 1])
    what = f"binary_cross_entropy(y_true, p) for y_true = {y_true.tolist()}, p = {p.tolist()}"
    n = len(y_true)
    fail_if_close(received, n * expected, expected, f"sum instead of mean: the loss is the average over "
                  f"the {n} examples, not their total", what)
    fail_if_close(received, -expected, expected, "sign flipped: the cross-entropy is minus the mean "
                  "log-probability of the true labels, a positive number", what)
    expect_close(received, expected, rtol=1e-6, what=what)

    p = np.array([0.0, 1.0, 1.0, 0.0])  # the first two confidently wrong, the last two right
    what = f"binary_cross_entropy(y_true, p) for y_true = {y_true.tolist()}, p = {p.tolist()}"
    received = call_strictly(
        binary_cross_entropy, y_true, p,
        what=what, fix="log(0) is -inf: clip p to [EPSILON, 1 - EPSILON] before the logs",
    )
    expected = log_loss(y_true, np.clip(p, EPSILON, 1 - EPSILON), labels=[0, 1])
    expect_close(received, expected, what=f"{what}, p clipped to [1e-7, 1 - 1e-7]", rtol=1e-4)


def test_gradient():
    """Exercise 1.3: gradient of the loss with respect to w and b.

    Hint: the loss changes with logit i at rate (p_i - y_i) / n, where p_i is the predicted probability of
    example i; the chain rule through the logit, a linear function of w and b, multiplies that by each
    example's features for w and by 1 for b: one matrix product and one sum.
    """
    gradient = exercises().gradient
    w, b, x, y = small_problem()
    dw, db = expect_pair(gradient(w, b, x, y), what="gradient(w, b, x, y)")
    numeric_dw, numeric_db = numeric_gradient(lambda w, b: reference_loss(w, b, x, y), w, b)

    exact_dw, exact_db = reference_gradient(w, b, x, y)  # the mistakes are named from the closed form
    n = len(y)
    for name, received, exact, numeric in (("dw", dw, exact_dw, numeric_dw),
                                           ("db", db, exact_db, numeric_db)):
        what = f"{name} vs a numeric gradient (central differences), 6 examples of 3 features"
        fail_if_close(received, -exact, exact, f"wrong sign: received -1 times the expected {name} (the "
                      "error of each example is its probability minus its label, not the reverse)", what)
        fail_if_close(received, n * exact, exact, f"{name} is n = {n} times too large: the loss is a mean, "
                      "so divide the sum over the examples by n", what)
        expect_close(received, numeric, what=what, atol=1e-6, rtol=1e-4)


def test_gradient_descent_step():
    """Exercise 1.4: gradient_descent_step, one step against the gradient.

    Hint: step against the gradient: subtract the learning rate times each gradient from the old w and
    the old b. Build new values rather than updating the arguments in place; the step uses your
    gradient, so make 1.3 pass first.
    """
    gradient_descent_step = exercises().gradient_descent_step
    w, b, x, y = small_problem(seed=1)
    w_before = w.copy()
    new_w, new_b = expect_pair(
        gradient_descent_step(w, b, x, y, 0.1), what="gradient_descent_step(w, b, x, y, 0.1)"
    )
    expect_unchanged(w_before, w, what="w (the argument of gradient_descent_step)")
    dw, db = reference_gradient(w, b, x, y)
    for name, received, old, gradient in (("w", new_w, w, dw), ("b", new_b, b, db)):
        what = f"new {name} after one step with learning_rate = 0.1"
        fail_if_close(received, old + 0.1 * gradient, old - 0.1 * gradient, "gradient ascent: the step "
                      "moves uphill, along the gradient; subtract the learning rate times the gradient",
                      what)
        expect_close(received, old - 0.1 * gradient, what=what)
    faster_w, _ = expect_pair(gradient_descent_step(w, b, x, y, 0.5),
                              what="gradient_descent_step(w, b, x, y, 0.5)")
    fail_if_close(faster_w, new_w, w - 0.5 * dw, "the learning_rate argument is ignored: a step with "
                  "learning_rate 0.5 moved w as far as one with 0.1",
                  "new w after one step with learning_rate = 0.5")

    # Two overlapping blobs of labels 0 and 1: 50 steps from zero weights must lower the loss.
    rng = np.random.default_rng(2)
    y = np.repeat([0.0, 1.0], 20)
    x = rng.normal(scale=0.7, size=(40, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    w, b = np.zeros(2), 0.0
    losses = [reference_loss(w, b, x, y)]
    for _ in range(50):
        w, b = gradient_descent_step(w, b, x, y, 0.5)
        losses.append(reference_loss(w, b, x, y))
    what = "50 steps with learning_rate = 0.5 from w = 0, b = 0 on 40 points in two blobs"
    rises = [step for step in range(1, 51) if losses[step] > losses[step - 1] + 1e-12]
    if rises:
        step = rises[0]
        raise AssertionError(
            f"the loss went up at step {step}, from {losses[step - 1]:.6f} to {losses[step]:.6f}: each "
            f"step goes downhill, and in the same way on every call (does the step keep something from "
            f"one call to the next?)\ncase: {what}"
        )
    if not losses[-1] < 0.5 * losses[0]:
        raise AssertionError(
            f"the loss fell too little: from {losses[0]:.4f} to {losses[-1]:.4f}, expected below "
            f"{0.5 * losses[0]:.4f}: each step moves learning_rate times the gradient, on every call (does "
            f"the step keep something from one call to the next?)\ncase: {what}"
        )


def test_predict():
    """Exercise 1.5: predict, integer labels from probabilities and a threshold.

    Hint: a label is 1 where the probability is at least the threshold (a probability equal to it
    counts as 1), else 0; turn the booleans of the comparison into integers (look up the astype method
    of NumPy arrays).
    """
    predict = exercises().predict
    w, b = np.array([2.0, -1.0]), 1.0
    x = np.array([[-1.0, 2.0], [0.0, 1.0], [0.25, 1.0], [0.5, 0.5], [1.0, 0.0]])
    p = 1 / (1 + np.exp(-(x @ w + b)))  # [0.047, 0.5, 0.622, 0.818, 0.953]
    p_text = np.round(p, 3).tolist()
    expected = np.array([0, 1, 1, 1, 1])
    received = predict(w, b, x)
    what = f"predict(w, b, x) for p = {p_text} (threshold 0.5; p = 0.5 counts as 1)"
    if np.asarray(received).dtype != bool:  # booleans are named first, as a dtype mismatch
        fail_if_close(received, np.array([0, 0, 1, 1, 1]), expected, "p = 0.5 predicted as 0: a "
                      "probability equal to the threshold counts as 1 (at least the threshold, not above "
                      "it)", what)
    expect_close(received, expected, atol=0, rtol=0, dtype="integer", what=what)

    received = predict(w, b, x, threshold=0.9)
    what = f"predict(w, b, x, threshold=0.9) for p = {p_text}"
    fail_if_close(received, np.array([0, 1, 1, 1, 1]), np.array([0, 0, 0, 0, 1]), "the threshold "
                  "argument is ignored: with threshold 0.9 the labels are those of threshold 0.5", what)
    expect_close(received, np.array([0, 0, 0, 0, 1]), atol=0, rtol=0, dtype="integer", what=what)
