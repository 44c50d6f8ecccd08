"""The backpropagation exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py; tests/test_backprop.py also runs a few of these mistakes through
`companion check` itself.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

MULTIPLY = "def multiply_gate(x, y, upstream):\n    return x * y, "
SIGMOID = "def sigmoid_gate(x, upstream):\n    z = sigmoid(x)\n    return z, "

NETWORK = """
    def network_gradients(params, x, y):
        a1, p = forward(params, x)
        delta2 = {delta2}
        delta1 = {delta1}
        {extra}
        return {{"W1": {dW1}, "b1": {db1}, "W2": {dW2}, "b2": delta2.sum(axis=0)}}
    """


def network(delta2="(p - y.reshape(-1, 1)) / len(x)", delta1="(delta2 @ params['W2'].T) * a1 * (1 - a1)",
            extra="", dW1="x.T @ delta1", db1="delta1.sum(axis=0)", dW2="a1.T @ delta2"):
    """{"network_gradients": source} with one piece replaced by a typical mistake."""
    return {"network_gradients": NETWORK.format(delta2=delta2, delta1=delta1, extra=extra, dW1=dW1, db1=db1,
                                                dW2=dW2)}


NOT_RESTORED = {"numeric_gradient": """
    def numeric_gradient(f, array, step=1e-5):
        gradient = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            array[index] += step
            above = f()
            array[index] -= 2 * step
            below = f()
            gradient[index] = (above - below) / (2 * step)
        return gradient
    """}


def numeric(difference="(above - below) / (2 * step)", below="original - step", step="step"):
    """{"numeric_gradient": source} with one piece replaced by a typical mistake."""
    return {"numeric_gradient": f"""
    def numeric_gradient(f, array, step=1e-5):
        gradient = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + {step}
            above = f()
            array[index] = {below}
            below = f()
            array[index] = original
            gradient[index] = {difference}
        return gradient
    """}


CHECK = "def gradient_check(params, x, y, gradients):\n"


@pytest.mark.parametrize(
    "check, replacements, first_line",
    [
        ("multiply_gate", {"multiply_gate": MULTIPLY + "upstream * y"},
         "type mismatch: expected a tuple (z, dx, dy), received tuple of length 2"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "upstream * x, upstream * y"}, "dx and dy swapped"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "y, x"}, "dx misses the upstream gradient"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "upstream * y, x"}, "dy misses the upstream gradient"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "upstream * x, upstream * x"}, "dx uses x"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "upstream * y, upstream * y"}, "dy uses y"),
        ("multiply_gate", {"multiply_gate": MULTIPLY + "-upstream * y, -upstream * x"},
         "wrong sign: received -1 times the expected dx"),
        ("sigmoid_gate", {"sigmoid_gate": "def sigmoid_gate(x, upstream):\n    return sigmoid(x)"},
         "type mismatch: expected a tuple (z, dx), received ndarray"),
        ("sigmoid_gate", {"sigmoid_gate": SIGMOID + "upstream"}, "dx misses the sigmoid's derivative"),
        ("sigmoid_gate", {"sigmoid_gate": SIGMOID + "upstream * x * (1 - x)"},
         "local gradient computed from the input"),
        ("sigmoid_gate", {"sigmoid_gate": SIGMOID + "z * (1 - z)"}, "dx misses the upstream gradient"),
        ("sigmoid_gate", {"sigmoid_gate": SIGMOID + "upstream * z"}, "dx misses the factor (1 - z)"),
        ("sigmoid_gate", {"sigmoid_gate": SIGMOID + "-upstream * z * (1 - z)"}, "wrong sign"),
        ("sigmoid_gate", {"sigmoid_gate": "def sigmoid_gate(x, upstream):\n    z = 1 / (1 + np.exp(-x))\n"
                                          "    return z, upstream * z * (1 - z)"},
         "not numerically stable: FloatingPointError: overflow"),
        ("network_gradients", {"network_gradients": "def network_gradients(params, x, y):\n"
                                                    "    return [np.zeros_like(v) for v in params.values()]"},
         "type mismatch: expected a dict with keys 'W1', 'b1', 'W2', 'b2', received list"),
        ("network_gradients", network(extra="params['W2'] -= 0.1 * (a1.T @ delta2)  # a step, in place"),
         "params['W2'] was modified"),
        ("network_gradients", network(delta2="(y.reshape(-1, 1) - p) / len(x)"),
         "wrong sign: every gradient is -1 times the expected one"),
        ("network_gradients", network(dW1="-(x.T @ delta1)"), "wrong sign: dW1 is -1 times the expected one"),
        ("network_gradients", network(delta2="(p - y) / len(x)"),
         "p - y broadcast to (n, n): `delta2` has shape (5, 5)"),
        ("network_gradients", network(dW2="a1.T @ (p - y) / len(x)"),
         "dW2 has shape (4, 5), expected (4, 1): p - y broadcast to (n, n)"),
        ("network_gradients", network(delta1="(delta2 @ params['W2']) * a1 * (1 - a1)"),
         "raised ValueError at backprop.py line"),
        ("network_gradients", network(dW1="delta1.T @ x"),
         "dW1 is transposed: expected shape (3, 4), the shape of W1, received (4, 3)"),
        ("network_gradients", network(db1="delta1.sum(axis=0, keepdims=True)"),
         "db1 has shape (1, 4), expected (4,): the sum over the examples kept its axis"),
        ("network_gradients", network(db1="delta1"), "db1 has shape (5, 4), expected (4,): sum the delta"),
        ("network_gradients", network(db1="delta1.sum(axis=1)"),
         "db1 has shape (5,), one entry per example, expected (4,): summed over the wrong axis"),
        ("network_gradients", network(delta1="delta2 @ params['W2'].T"),
         "dW1 misses the hidden layer's sigmoid derivative"),
        ("network_gradients", network(delta2="(p - y.reshape(-1, 1)) / len(x) * p * (1 - p)"),
         "dW2 has an extra factor p (1 - p)"),
        ("network_gradients", network(delta2="p - y.reshape(-1, 1)"), "dW2 is n = 5 times too large"),
        ("numeric_gradient", NOT_RESTORED, "the array was not restored"),
        ("numeric_gradient", numeric(difference="(above - below) / step", below="original"),
         "one-sided difference"),
        ("numeric_gradient", numeric(step="1e-5", below="original - 1e-5",
                                     difference="(above - below) / (2 * 1e-5)"),
         "the `step` argument is ignored"),
        ("gradient_check", {"gradient_check": CHECK + "    return [0.0, 0.0, 0.0, 0.0]"},
         "type mismatch: expected a dict with keys 'W1', 'b1', 'W2', 'b2', received list"),
        ("gradient_check", NOT_RESTORED,
         "params['W1'] was changed: numeric_gradient must put every entry back"),
        ("gradient_check", {"gradient_check": CHECK + "    errors = {}\n"
                            "    for name, value in params.items():\n"
                            "        numeric = numeric_gradient(lambda: loss(params, x, y), value.copy())\n"
                            "        difference = np.linalg.norm(gradients[name] - numeric)\n"
                            "        scale = np.linalg.norm(gradients[name]) + np.linalg.norm(numeric)\n"
                            "        errors[name] = float(difference / scale)\n    return errors"},
         "every error is 1: the numeric gradients are all 0"),
    ],
    ids=["multiply-not-a-triple", "multiply-swapped", "dx-no-upstream", "dy-no-upstream", "dx-uses-x",
         "dy-uses-y", "multiply-sign", "sigmoid-not-a-pair", "sigmoid-no-derivative",
         "sigmoid-derivative-of-input", "sigmoid-no-upstream", "sigmoid-no-one-minus-z", "sigmoid-sign",
         "sigmoid-overflow", "network-not-a-dict", "network-in-place", "network-sign", "network-dW1-sign",
         "network-broadcast-error", "network-broadcast-dW2", "network-missing-transpose",
         "network-transposed", "network-bias-keepdims", "network-bias-not-summed", "network-bias-wrong-axis",
         "network-no-hidden-derivative", "network-extra-output-derivative", "network-not-divided-by-n",
         "numeric-not-restored", "numeric-one-sided", "numeric-step-ignored", "check-not-a-dict",
         "check-params-changed", "check-on-a-copy"],
)
def test_checks_name_typical_mistakes(check, replacements, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake (in that
    exercise, or in the numeric_gradient that gradient_check builds on)."""
    message = check_failure("backprop", check, replacements, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
