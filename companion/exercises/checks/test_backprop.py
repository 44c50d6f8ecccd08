"""Checks for the backpropagation exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: SciPy's expit, closed-form derivatives, and numeric gradients by central
differences of a loss written here from the logits. Where a typical mistake (a missing transpose, a
sign error, a forgotten sigmoid derivative, a one-sided difference) explains the received values,
the failure names it.

The network's test shapes are n = 5 examples, d = 3 features and h = 4 hidden units: all different,
so that a missing or extra transpose cannot go unnoticed.
"""

import traceback
from pathlib import Path

import numpy as np
from scipy.special import expit

from companion.exercises._expect import call_strictly, expect_close, expect_tuple
from companion.exercises._loader import load_exercises

N, D, H = 5, 3, 4  # examples, features, hidden units
NAMES = ("W1", "b1", "W2", "b2")


def exercises():
    return load_exercises("backprop", __file__)


def call(function, *args, what):
    """Call a student function; a ValueError (NumPy's shape errors) becomes a diagnosis."""
    __tracebackhide__ = True
    try:
        return function(*args)
    except ValueError as error:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                  if Path(frame.filename).name == "backprop.py"]
        where = f" at backprop.py line {frames[-1].lineno}: {frames[-1].line}" if frames else ""
        shapes = (f"shapes: x {(N, D)}, y {(N,)}, W1 {(D, H)}, b1 {(H,)}, W2 {(H, 1)}, b2 {(1,)}")
        square = _square_local(error.__traceback__)
        if square is not None:
            raise AssertionError(
                f"p - y broadcast to (n, n): `{square}` has shape {(N, N)} because p is (n, 1) and "
                f"y is (n,); reshape y into a column of shape (n, 1) first\ncase: {what}\n"
                f"then raised ValueError{where}\n{shapes}"
            ) from None
        raise AssertionError(
            f"raised ValueError{where}\ncase: {what}\n{error}\n"
            f"{shapes}: check each product's inner sizes; a missing transpose (.T) is the usual cause"
        ) from None


def _square_local(trace):
    """The name of an (n, n) array among the student's local variables when the error was raised:
    the trace of `p - y` with p of shape (n, 1) and y of shape (n,)."""
    while trace is not None:
        frame = trace.tb_frame
        if Path(frame.f_code.co_filename).name == "backprop.py":
            for name, value in frame.f_locals.items():
                if isinstance(value, np.ndarray) and value.shape == (N, N):
                    return name
        trace = trace.tb_next
    return None


def matches(received, target, *, rtol=1e-6, atol=1e-10):
    """True when `received` is an array (or number) of the shape of `target` and close to it."""
    try:
        received = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return False
    return received.shape == np.shape(target) and bool(np.allclose(received, target, rtol=rtol, atol=atol))


def fail_if_close(received, wrong, problem, what, expected):
    """Raise `problem` when `received` matches the result of a known mistake, `wrong`."""
    __tracebackhide__ = True
    if matches(received, wrong) and not matches(wrong, expected):
        raise AssertionError(
            f"{problem}\ncase: {what}\nexpected: {shown(expected)}\nreceived: {shown(received)}"
        )


def shown(values):
    """Values on one line, rounded to 6 decimals."""
    return str(np.round(np.asarray(values, dtype=float), 6).tolist())


# --- the network, written here independently ----------------------------------------------------


def small_network(seed=0):
    """Parameters W1 (3, 4), b1 (4,), W2 (4, 1), b2 (1,) with non-zero biases; x (5, 3); y (5,)."""
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.normal(size=(D, H)),
        "b1": rng.normal(scale=0.5, size=H),
        "W2": rng.normal(size=(H, 1)),
        "b2": rng.normal(scale=0.5, size=1),
    }
    x = rng.normal(size=(N, D))
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    return params, x, y


def reference_loss(params, x, y):
    """Mean cross-entropy from the logits s2, log(1 + e^s2) - y s2, computed stably."""
    s2 = (expit(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])[:, 0]
    return float(np.mean(np.logaddexp(0.0, s2) - y * s2))


def central_differences(params, x, y, step=1e-6):
    gradients = {}
    for name, value in params.items():
        gradient = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {key: array.copy() for key, array in params.items()}
            shifted[name][index] += step
            above = reference_loss(shifted, x, y)
            shifted[name][index] -= 2 * step
            gradient[index] = (above - reference_loss(shifted, x, y)) / (2 * step)
        gradients[name] = gradient
    return gradients


def variants(params, x, y):
    """The gradients with typical mistakes, to name them when a student's match."""
    a1 = expit(x @ params["W1"] + params["b1"])  # (n, h)
    p = expit(a1 @ params["W2"] + params["b2"])  # (n, 1)
    delta2 = (p - y[:, None]) / len(x)  # (n, 1)

    def through(delta2, sigmoid_derivative=True):
        delta1 = delta2 @ params["W2"].T * (a1 * (1 - a1) if sigmoid_derivative else 1)
        return {"W1": x.T @ delta1, "b1": delta1.sum(0), "W2": a1.T @ delta2, "b2": delta2.sum(0)}

    return {
        "no hidden sigmoid derivative": through(delta2, sigmoid_derivative=False),
        "extra output sigmoid derivative": through(delta2 * p * (1 - p)),
        "not divided by n": through(delta2 * len(x)),
    }


def expect_parameter_dict(received, what):
    """`received` as a dict with one entry per parameter, 'W1', 'b1', 'W2', 'b2', or an AssertionError."""
    __tracebackhide__ = True
    if not isinstance(received, dict) or set(received) != set(NAMES):
        keys = f" with keys {sorted(received)}" if isinstance(received, dict) else ""
        raise AssertionError(
            f"type mismatch: expected a dict with keys 'W1', 'b1', 'W2', 'b2', received "
            f"{type(received).__name__}{keys}\ncase: {what}"
        )
    return received


def test_multiply_gate():
    """Exercise 1.1: multiply_gate, forward and backward of z = x * y.

    Hint: the local gradient of the product with respect to x is y, and with respect to y it is x (the
    gate swaps its inputs); multiply each by the upstream gradient.
    """
    multiply_gate = exercises().multiply_gate
    x = np.array([1.0, 2.0, -3.0])
    y = np.array([0.5, -1.0, 2.0])
    upstream = np.array([2.0, -3.0, 0.25])
    cases = [
        (3.0, -4.0, 1.0, "multiply_gate(3.0, -4.0, 1.0): q = 3 times z = -4 in f = (x + y) z"),
        (x, y, upstream, f"multiply_gate(x, y, upstream) for x = {x.tolist()}, y = {y.tolist()}, "
                         f"upstream = {upstream.tolist()}"),
    ]
    for x, y, upstream, what in cases:
        z, dx, dy = expect_tuple(multiply_gate(x, y, upstream), 3, names="z, dx, dy", what=what)
        expect_close(z, x * y, what=f"z of {what}")
        if matches(dx, upstream * x) and matches(dy, upstream * y) and not matches(x, y):
            raise AssertionError(
                f"dx and dy swapped: the gradient for x is upstream times y, the one for y upstream "
                f"times x\ncase: {what}\nexpected: dx = {shown(upstream * y)}, dy = {shown(upstream * x)}"
                f"\nreceived: dx = {shown(dx)}, dy = {shown(dy)}"
            )
        for name, received, local, other in (("dx", dx, y, x), ("dy", dy, x, y)):
            expected = upstream * local
            fail_if_close(received, local, f"{name} misses the upstream gradient: multiply the local "
                          "gradient by upstream (the chain rule)", what, expected)
            fail_if_close(received, upstream * other, f"{name} uses {name[1]}: the local gradient with "
                          f"respect to {name[1]} is the other input (the gate swaps its inputs)", what,
                          expected)
            fail_if_close(received, -expected, f"wrong sign: received -1 times the expected {name}", what,
                          expected)
            expect_close(received, expected, what=f"{name} of {what}")


def test_sigmoid_gate():
    """Exercise 1.2: sigmoid_gate, forward and backward of z = sigmoid(x).

    Hint: the sigmoid's local derivative is z (1 - z) where z is the gate's output, the sigmoid of x, not
    its input x; multiply it by the upstream gradient, element by element.
    """
    sigmoid_gate = exercises().sigmoid_gate
    x = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    upstream = np.array([1.5, -2.0, 0.5, 1.0, -1.0])
    what = f"sigmoid_gate(x, upstream) for x = {x.tolist()}, upstream = {upstream.tolist()}"
    z, dx = expect_tuple(sigmoid_gate(x, upstream), 2, names="z, dx", what=what)
    expect_close(z, expit(x), what=f"z of {what}", rtol=1e-7)
    expected = upstream * expit(x) * (1 - expit(x))
    fail_if_close(dx, upstream, "dx misses the sigmoid's derivative: multiply upstream by the "
                  "local gradient z * (1 - z)", what, expected)
    fail_if_close(dx, upstream * x * (1 - x), "local gradient computed from the input: the "
                  "derivative of the sigmoid is z * (1 - z) with z = sigmoid(x), the output", what,
                  expected)
    fail_if_close(dx, expit(x) * (1 - expit(x)), "dx misses the upstream gradient: multiply the "
                  "local gradient by upstream (the chain rule)", what, expected)
    fail_if_close(dx, upstream * expit(x), "dx misses the factor (1 - z): the sigmoid's local "
                  "gradient is z * (1 - z)", what, expected)
    fail_if_close(dx, -expected, "wrong sign: received -1 times the expected dx", what, expected)
    expect_close(dx, expected, what=f"dx of {what}", rtol=1e-7)

    x = np.array([-1000.0, -40.0, 40.0, 1000.0])
    what = f"sigmoid_gate(x, 1.0) for x = {x.tolist()}"
    z, dx = expect_tuple(
        call_strictly(sigmoid_gate, x, 1.0, what=what,
                      fix="exp(-x) overflows for x = -1000: use the `sigmoid` of the exercise file"),
        2, names="z, dx", what=what)
    expect_close(z, expit(x), what=f"z of {what}", rtol=1e-7)
    expect_close(dx, expit(x) * (1 - expit(x)), what=f"dx of {what}", rtol=1e-6, atol=1e-15)


def test_network_gradients():
    """Exercise 1.3: network_gradients, backprop through the two-layer sigmoid network.

    Hint: start from (p - y) / n with y reshaped into a column (n, 1); send it back through the product
    with W2 transposed and multiply by the hidden sigmoid's derivative a1 (1 - a1) to get the hidden
    delta. A weight's gradient is its layer's input, transposed, times the layer's delta; a bias's
    gradient sums the delta over the examples.
    """
    module = exercises()
    params, x, y = small_network()
    before = {name: value.copy() for name, value in params.items()}
    what = f"network_gradients(params, x, y) with x {x.shape}, W1 {params['W1'].shape}, " \
           f"W2 {params['W2'].shape}, y {y.shape}"
    received = expect_parameter_dict(call(module.network_gradients, params, x, y, what=what), what)
    for name in NAMES:
        if not np.array_equal(before[name], params[name]):
            raise AssertionError(f"params['{name}'] was modified; compute gradients in new arrays"
                                 f"\ncase: {what}")
    expected = central_differences(params, x, y)
    mistakes = variants(params, x, y)
    all_negated = all(matches(received[name], -expected[name], rtol=1e-4, atol=1e-8) for name in NAMES)
    if all_negated:
        raise AssertionError(
            f"wrong sign: every gradient is -1 times the expected one (p - y, not y - p)"
            f"\ncase: {what}\nexpected dW2: {shown(expected['W2'])}\n"
            f"received dW2: {shown(received['W2'])}"
        )
    for name in ("W2", "b2", "W1", "b1"):  # in the order of the backward pass
        gradient = received[name]
        shape = np.shape(gradient)
        where = f"d{name} vs a numeric gradient (central differences)"
        if shape != expected[name].shape:
            if name == "W2" and shape == (H, N):
                raise AssertionError(
                    f"d{name} has shape {shape}, expected {expected[name].shape}: p - y broadcast to "
                    f"(n, n) because p is (n, 1) and y is (n,); reshape y into a column of shape (n, 1)"
                    f"\ncase: {what}"
                )
            if len(shape) == 2 and shape == expected[name].shape[::-1]:
                raise AssertionError(
                    f"d{name} is transposed: expected shape {expected[name].shape}, the shape of "
                    f"{name}, received {shape}; put the transpose on the layer's input, not on the "
                    f"delta\ncase: {what}"
                )
            if name.startswith("b") and shape == (1, expected[name].shape[0]):
                raise AssertionError(
                    f"d{name} has shape {shape}, expected {expected[name].shape}: the sum over the "
                    f"examples kept its axis; drop it (no keepdims)\ncase: {what}"
                )
            if name.startswith("b") and len(shape) == 2 and shape[-1] == expected[name].shape[0]:
                raise AssertionError(
                    f"d{name} has shape {shape}, expected {expected[name].shape}: sum the delta over "
                    f"the examples (axis 0)\ncase: {what}"
                )
            if name.startswith("b") and shape == (N,):
                raise AssertionError(
                    f"d{name} has shape {shape}, one entry per example, expected "
                    f"{expected[name].shape}: summed over the wrong axis; sum the delta over the "
                    f"examples (axis 0)\ncase: {what}"
                )
        for mistake, problem in (
            ("no hidden sigmoid derivative",
             f"d{name} misses the hidden layer's sigmoid derivative: after the product with W2 "
             "transposed, multiply by a1 (1 - a1), the sigmoid's derivative at the hidden outputs"),
            ("extra output sigmoid derivative",
             f"d{name} has an extra factor p (1 - p): with the cross-entropy, ∂L/∂s2 is already "
             "(p - y) / n (the output sigmoid's derivative cancels)"),
            ("not divided by n",
             f"d{name} is n = {N} times too large: the loss is a mean, so divide by n"),
        ):
            fail_if_close(gradient, mistakes[mistake][name], problem, where, expected[name])
        fail_if_close(gradient, -expected[name], f"wrong sign: d{name} is -1 times the expected one",
                      where, expected[name])
        expect_close(gradient, expected[name], what=where, atol=1e-8, rtol=1e-5)


def test_numeric_gradient():
    """Exercise 1.4: numeric_gradient, central differences entry by entry.

    Hint: for each entry, evaluate f with the entry raised by step and with it lowered by step, divide
    the difference by twice the step, then put the entry back; np.ndindex walks over every index of an
    array of any shape.
    """
    numeric_gradient = exercises().numeric_gradient
    array = np.array([[0.3, -1.2, 2.0], [0.7, 1.5, -0.4]])  # (2, 3)
    weights = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.5]])
    before = array.copy()
    what = "numeric_gradient(f, a) for f = sum(weights * sin(a)), a of shape (2, 3)"
    received = numeric_gradient(lambda: float(np.sum(weights * np.sin(array))), array)
    if not np.array_equal(array, before):
        raise AssertionError(
            f"the array was not restored: put each entry back to its value after the two "
            f"evaluations\ncase: {what}\nbefore the call: {before.tolist()}\n"
            f"after the call:  {shown(array)}"
        )
    expected = weights * np.cos(array)
    step = 1e-5
    forward = np.zeros_like(array)  # one-sided differences, a typical mistake
    for index in np.ndindex(array.shape):
        shifted = array.copy()
        shifted[index] += step
        forward[index] = (np.sum(weights * np.sin(shifted)) - np.sum(weights * np.sin(array))) / step
    if matches(received, forward, rtol=0, atol=1e-8) and not matches(received, expected, rtol=0, atol=1e-8):
        raise AssertionError(
            f"one-sided difference: (f(a + h) - f(a)) / h is off by about h; use central "
            f"differences (f(a + h) - f(a - h)) / (2h), off by about h²\ncase: {what}\n"
            f"expected: {shown(expected)}\nreceived: {shown(received)}"
        )
    expect_close(received, expected, what=what, atol=1e-8, rtol=1e-6)

    cube = np.array([1.0, -2.0, 0.5, 3.0])
    what = "numeric_gradient(f, a, step=1e-3) for f = sum(a ** 3): central differences give 3a² + step²"
    received = numeric_gradient(lambda: float(np.sum(cube**3)), cube, step=1e-3)
    if matches(received, 3 * cube**2 + 1e-10, rtol=0, atol=1e-9):
        raise AssertionError(f"the `step` argument is ignored: use it as h\ncase: {what}")
    expect_close(received, 3 * cube**2 + 1e-6, what=what, atol=1e-9, rtol=1e-9)


def test_gradient_check():
    """Exercise 1.5: gradient_check, relative errors between given and numeric gradients.

    Hint: for each parameter, apply your numeric_gradient to that parameter's own array in params (not
    a copy), with a function of no arguments that returns the loss; the error is the norm of the
    difference divided by the sum of the two norms. It uses your 1.4, so make that pass first.
    """
    gradient_check = exercises().gradient_check
    params, x, y = small_network(seed=1)
    before = {name: value.copy() for name, value in params.items()}
    correct = central_differences(params, x, y)
    what = "gradient_check(params, x, y, gradients) with the correct gradients"
    errors = expect_parameter_dict(gradient_check(params, x, y, correct), what)
    if all(matches(errors[name], 1.0) for name in NAMES):
        raise AssertionError(
            "every error is 1: the numeric gradients are all 0, so the loss never saw the shifted "
            "entries; give numeric_gradient the parameter's own array in params, not a copy"
            f"\ncase: {what}\nreceived: {errors}"
        )
    for name in NAMES:
        if not np.array_equal(before[name], params[name]):
            raise AssertionError(
                f"params['{name}'] was changed: numeric_gradient must put every entry back"
                f"\ncase: {what}\nbefore: {before[name].tolist()}\nafter:  {params[name].tolist()}"
            )
        expect_close(errors[name], 0.0, what=f"errors['{name}'] of {what}", atol=1e-7)

    wrong = dict(correct, W1=-correct["W1"], b1=2 * correct["b1"], b2=np.zeros(1))
    what = "gradient_check with dW1 negated, db1 doubled and db2 = 0 (errors 1, 1/3 and 1)"
    errors = gradient_check(params, x, y, wrong)
    for name, expected in (("W1", 1.0), ("b1", 1 / 3), ("W2", 0.0), ("b2", 1.0)):
        expect_close(errors[name], expected, what=f"errors['{name}'] of {what}", atol=1e-7)
