"""The neurons, layers and networks (mlp) exercises: each check names the typical mistake of a student
file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

DENSE = "def dense_forward(x, weights, biases):\n"
SOFTMAX = "def softmax(logits):\n"
CROSS_ENTROPY = "def cross_entropy(y, probabilities):\n"
P_TRUE = "    p_true = np.clip(probabilities[np.arange(len(y)), y], EPSILON, 1 - EPSILON)\n"
COUNT = "def count_parameters(layer_sizes):\n"


@pytest.mark.parametrize(
    "exercise, code, first_line",
    [
        ("dense_forward", DENSE + "    return x @ weights + biases", "negative outputs: apply the ReLU"),
        ("dense_forward", DENSE + "    return np.maximum(0.0, x @ weights)", "the biases are missing"),
        ("dense_forward", DENSE + "    z = x @ weights + biases\n"
         "    x[:] = 0.0  # the batch cleared once used: the caller's x is gone\n"
         "    return np.maximum(0.0, z)",
         "x (an argument of dense_forward) was modified in place"),
        ("softmax", SOFTMAX + "    e = np.exp(logits - np.max(logits, axis=0, keepdims=True))\n"
         "    return e / np.sum(e, axis=0, keepdims=True)", "normalised over the wrong axis"),
        ("softmax", SOFTMAX + "    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))\n"
         "    return e / np.sum(e, axis=1)", "a row's maximum or sum lost its axis"),
        ("softmax", SOFTMAX + "    logits -= np.max(logits, axis=1, keepdims=True)\n    e = np.exp(logits)\n"
         "    return e / np.sum(e, axis=1, keepdims=True)",
         "logits (the argument of softmax) was modified in place"),
        ("softmax", SOFTMAX + "    e = np.exp(logits)\n    return e / np.sum(e, axis=1, keepdims=True)",
         "not numerically stable: FloatingPointError: overflow"),
        ("softmax", SOFTMAX + "    e = np.exp(logits - np.max(logits))\n"
         "    return e / np.sum(e, axis=1, keepdims=True)",
         "not numerically stable: FloatingPointError: invalid value"),
        ("cross_entropy", CROSS_ENTROPY + P_TRUE + "    return float(-np.sum(np.log(p_true)))",
         "sum instead of mean: the loss is the average over the 4 examples"),
        ("cross_entropy", CROSS_ENTROPY + P_TRUE
         + "    return float(-np.mean(np.log(p_true)) * probabilities.shape[1])",
         "3 times too large (the number of classes)"),
        ("cross_entropy", CROSS_ENTROPY + "    one_hot = np.eye(probabilities.shape[1])[y]\n"
         "    p = np.clip(probabilities, EPSILON, 1 - EPSILON)\n"
         "    return float(-np.mean(one_hot * np.log(p)))", "3 times too small"),
        ("cross_entropy", CROSS_ENTROPY + "    p_true = np.clip(probabilities[:, y], EPSILON, 1 - EPSILON)\n"
         "    return float(-np.mean(np.log(p_true)))", "the labels picked whole columns"),
        ("cross_entropy", CROSS_ENTROPY + P_TRUE + "    return float(np.mean(np.log(p_true)))",
         "sign flipped"),
        ("cross_entropy",
         CROSS_ENTROPY + "    return float(-np.mean(np.log(probabilities[np.arange(len(y)), y])))",
         "not numerically stable: FloatingPointError: divide by zero"),
        ("count_parameters",
         COUNT + "    return sum(m * k for m, k in zip(layer_sizes[:-1], layer_sizes[1:]))",
         "the biases are missing"),
    ],
    ids=["dense-no-relu", "dense-no-biases", "dense-in-place", "softmax-by-column", "softmax-no-keepdims",
         "softmax-in-place", "softmax-unstable", "softmax-global-max", "ce-sum", "ce-times-classes",
         "ce-mean-over-table", "ce-label-columns", "ce-sign", "ce-no-clip", "count-no-biases"],
)
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("mlp", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
