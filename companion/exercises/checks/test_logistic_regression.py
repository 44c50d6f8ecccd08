"""Checks for the logistic regression exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: SciPy's expit, scikit-learn's log_loss, a numeric gradient by central
differences, and closed forms written out here.
"""


import numpy as np

from companion.exercises._expect import call_strictly, expect_close, expect_unchanged
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

    Hint: compute e = exp(-|z|), which never overflows; both forms of sigmoid follow from it, and
    np.where(z >= 0, ..., ...) picks one per entry.
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
        fix="exp(-z) overflows for z = -1000; exponentiate only numbers <= 0",
    )
    expect_close(received, expit(z), what=f"sigmoid(z) for z = {z.tolist()}", rtol=1e-7)


def test_binary_cross_entropy():
    """Exercise 1.2: binary_cross_entropy, the mean loss, finite even for p = 0 or 1.

    Hint: np.clip(p, EPSILON, 1 - EPSILON) before the logs; the loss is one number, a mean.
    """
    binary_cross_entropy = exercises().binary_cross_entropy
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.2, 0.6, 0.4])
    received = binary_cross_entropy(y_true, p)
    from sklearn.metrics import log_loss

    expect_close(
        received, log_loss(y_true, p, labels=[0, 1]), rtol=1e-6,
        what=f"binary_cross_entropy(y_true, p) for y_true = {y_true.tolist()}, p = {p.tolist()}",
    )

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

    what = "dw vs a numeric gradient (central differences), 6 examples of 3 features"
    if np.shape(dw) == np.shape(w) and np.allclose(dw, -numeric_dw, rtol=1e-4, atol=1e-6):
        raise AssertionError(
            f"wrong sign: received -1 times the expected dw (p - y, not y - p)\ncase: {what}\n"
            f"expected: {numeric_dw}\nreceived: {np.asarray(dw)}"
        )
    if np.shape(dw) == np.shape(w) and np.allclose(dw, len(y) * numeric_dw, rtol=1e-4, atol=1e-6):
        raise AssertionError(
            f"n = {len(y)} times too large: the loss is a mean, so divide the sum by n\n"
            f"case: {what}\nexpected: {numeric_dw}\nreceived: {np.asarray(dw)}"
        )
    expect_close(dw, numeric_dw, what=what, atol=1e-6, rtol=1e-4)
    expect_close(
        db, numeric_db, atol=1e-6, rtol=1e-4,
        what="db vs a numeric gradient (central differences), 6 examples of 3 features",
    )


def test_gradient_descent_step():
    """Exercise 1.4: gradient_descent_step, one step against the gradient.

    Hint: new = old - learning_rate * gradient, as new arrays (w - ..., not w -= ...); it uses
    your gradient, so make 1.3 pass first.
    """
    gradient_descent_step = exercises().gradient_descent_step
    w, b, x, y = small_problem(seed=1)
    w_before = w.copy()
    new_w, new_b = expect_pair(
        gradient_descent_step(w, b, x, y, 0.1), what="gradient_descent_step(w, b, x, y, 0.1)"
    )
    expect_unchanged(w_before, w, what="w (the argument of gradient_descent_step)")
    dw, db = reference_gradient(w, b, x, y)
    expect_close(new_w, w - 0.1 * dw, what="new w after one step with learning_rate = 0.1")
    expect_close(new_b, b - 0.1 * db, what="new b after one step with learning_rate = 0.1")

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
            f"the loss went up at step {step}, from {losses[step - 1]:.6f} to {losses[step]:.6f} "
            f"(step against the gradient)\ncase: {what}"
        )
    if not losses[-1] < 0.5 * losses[0]:
        raise AssertionError(
            f"the loss fell too little: from {losses[0]:.4f} to {losses[-1]:.4f}, expected below "
            f"{0.5 * losses[0]:.4f}\ncase: {what}"
        )


def test_predict():
    """Exercise 1.5: predict, integer labels from probabilities and a threshold.

    Hint: compare probabilities with >= threshold, and turn the booleans into 0/1 with .astype(int).
    """
    predict = exercises().predict
    w, b = np.array([2.0, -1.0]), 1.0
    x = np.array([[-1.0, 2.0], [0.0, 1.0], [0.25, 1.0], [0.5, 0.5], [1.0, 0.0]])
    p = 1 / (1 + np.exp(-(x @ w + b)))  # [0.047, 0.5, 0.622, 0.818, 0.953]
    p_text = np.round(p, 3).tolist()
    expect_close(
        predict(w, b, x), np.array([0, 1, 1, 1, 1]), atol=0, rtol=0, dtype="integer",
        what=f"predict(w, b, x) for p = {p_text} (threshold 0.5; p = 0.5 counts as 1)",
    )
    expect_close(
        predict(w, b, x, threshold=0.9), np.array([0, 0, 0, 0, 1]), atol=0, rtol=0,
        dtype="integer", what=f"predict(w, b, x, threshold=0.9) for p = {p_text}",
    )
