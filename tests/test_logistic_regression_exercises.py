"""The logistic regression exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

SIGMOID = "def sigmoid(z):\n"
BCE = "def binary_cross_entropy(y_true, p):\n"
GRADIENT = "def gradient(w, b, x, y):\n    error = sigmoid(x @ w + b) - y\n"
STEP = "def gradient_descent_step(w, b, x, y, learning_rate):\n    dw, db = gradient(w, b, x, y)\n"
PREDICT = "def predict(w, b, x, threshold=0.5):\n    p = sigmoid(x @ w + b)\n"

# A step that is right on its first call and then changes its learning rate by itself, call after call
# (a schedule kept in the module): only the 50 steps on the two blobs can tell.
SCHEDULED = """
    calls = [0]


    def gradient_descent_step(w, b, x, y, learning_rate):
        dw, db = gradient(w, b, x, y)
        rate = learning_rate * {factor}
        calls[0] += 1
        return w - rate * dw, b - rate * db
    """


@pytest.mark.parametrize(
    "exercise, code, first_line",
    [
        ("sigmoid", SIGMOID + "    return 1 / (1 + np.exp(-z))",
         "not numerically stable: FloatingPointError: overflow"),
        ("sigmoid", SIGMOID + "    z = np.asarray(z, dtype=float)\n"
         "    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))",
         "not numerically stable: FloatingPointError: overflow"),
        ("binary_cross_entropy", BCE + "    p = np.clip(p, EPSILON, 1 - EPSILON)\n"
         "    return float(-np.sum(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))",
         "sum instead of mean: the loss is the average over the 4 examples"),
        ("binary_cross_entropy", BCE + "    p = np.clip(p, EPSILON, 1 - EPSILON)\n"
         "    return float(np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))",
         "sign flipped"),
        ("binary_cross_entropy",
         BCE + "    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))",
         "not numerically stable: FloatingPointError: divide by zero"),
        ("gradient", GRADIENT + "    return x.T @ error / len(y)",
         "type mismatch: expected a pair like (dw, db), received ndarray of shape (3,)"),
        ("gradient", GRADIENT + "    return x.T @ -error / len(y), float(np.mean(-error))", "wrong sign"),
        ("gradient", GRADIENT + "    return x.T @ error, float(np.mean(error))",
         "dw is n = 6 times too large"),
        ("gradient", GRADIENT + "    return x.T @ error / len(y), float(np.sum(error))",
         "db is n = 6 times too large"),
        ("gradient_descent_step", STEP + "    w -= learning_rate * dw\n    return w, b - learning_rate * db",
         "w (the argument of gradient_descent_step) was modified in place"),
        ("gradient_descent_step", STEP + "    return w + learning_rate * dw, b + learning_rate * db",
         "gradient ascent: the step moves uphill"),
        ("gradient_descent_step", STEP + "    return w - 0.1 * dw, b - 0.1 * db",
         "the learning_rate argument is ignored"),
        ("gradient_descent_step", SCHEDULED.format(factor="3 ** calls[0]"), "the loss went up at step"),
        ("gradient_descent_step", SCHEDULED.format(factor="0.5 ** calls[0]"), "the loss fell too little"),
        ("predict", PREDICT + "    return p >= threshold",
         "dtype mismatch: expected integer values, received dtype bool"),
        ("predict", PREDICT + "    return (p > threshold).astype(int)", "p = 0.5 predicted as 0"),
        ("predict", PREDICT + "    return (p >= 0.5).astype(int)", "the threshold argument is ignored"),
    ],
    ids=["sigmoid-naive", "sigmoid-where-both-branches", "bce-sum", "bce-sign", "bce-no-clip",
         "gradient-not-a-pair", "gradient-sign", "dw-not-divided-by-n", "db-sum", "step-in-place",
         "step-ascent", "step-learning-rate-ignored", "step-rate-grows", "step-rate-decays",
         "predict-bool", "predict-strictly-above", "predict-threshold-ignored"],
)
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("logistic_regression", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
