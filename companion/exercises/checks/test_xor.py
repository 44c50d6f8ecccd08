"""Checks for the XOR exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: truth tables written out here, and the quadratic features built another way
(products of chosen columns).
"""

import numpy as np

from companion.exercises._expect import expect_close, expect_unchanged
from companion.exercises._loader import load_exercises

CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TRUTH_TABLES = {  # outputs on the corners (0, 0), (0, 1), (1, 0), (1, 1)
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
    "XNOR": [1, 0, 0, 1],
    "always 0": [0, 0, 0, 0],
    "always 1": [1, 1, 1, 1],
}
FEATURE_NAMES = ("x1²", "x2²", "x1·x2", "x1", "x2")


def exercises():
    return load_exercises("xor", __file__)


def expect_gate(result, gate, function):
    """Check that (w, b) = `result` makes a neuron compute `gate`, every corner strictly off the line."""
    __tracebackhide__ = True
    what = f"{function}() on the corners (0, 0), (0, 1), (1, 0), (1, 1)"
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise AssertionError(
            f"type mismatch: expected a pair (w, b), received {type(result).__name__}"
            f"\ncase: {what}\nreceived: {result!r}"
        )
    w, b = result
    if np.shape(w) != (2,):
        raise AssertionError(
            f"shape mismatch: expected w of shape (2,), one weight per input, received shape "
            f"{np.shape(w)}\ncase: {what}\nreceived w: {w!r}"
        )
    if np.ndim(b) != 0:
        raise AssertionError(
            f"shape mismatch: expected b to be a number, received shape {np.shape(b)}\n"
            f"case: {what}\nreceived b: {b!r}"
        )
    z = CORNERS @ np.asarray(w, dtype=float) + float(b)  # (4,)
    on_line = [tuple(corner) for corner, value in zip(CORNERS.tolist(), z) if value == 0]
    if on_line:
        raise AssertionError(
            f"corner {on_line[0]} lies on the neuron's line (x @ w + b = 0 there): move b so every "
            f"corner is strictly on one side\ncase: {what}\nx @ w + b: {z.tolist()}"
        )
    output = (z > 0).astype(int).tolist()
    expected = TRUTH_TABLES[gate]
    if output != expected:
        computed = next((name for name, table in TRUTH_TABLES.items() if table == output), None)
        that_is = f" (that is {computed})" if computed else ""
        raise AssertionError(
            f"wrong truth table: expected {gate} {expected}, the neuron computes {output}{that_is}\n"
            f"case: {what}\nx @ w + b: {z.tolist()}"
        )


def test_and_weights():
    """Exercise 2.1: and_weights, a neuron that computes AND.

    Hint: with both weights 1, the weighted sum of a corner counts its inputs that are on (0, 1 or 2);
    choose the bias so that the sum plus the bias is positive only when both are on, putting the
    threshold halfway between 1 and 2.
    """
    expect_gate(exercises().and_weights(), "AND", "and_weights")


def test_or_weights():
    """Exercise 2.2: or_weights, a neuron that computes OR.

    Hint: with both weights 1 the weighted sum counts the inputs that are on; OR fires when the count
    is 1 or 2, so put the threshold (minus the bias) halfway between 0 and 1.
    """
    expect_gate(exercises().or_weights(), "OR", "or_weights")


def test_nand_weights():
    """Exercise 2.3: nand_weights, a neuron that computes NAND.

    Hint: NAND is NOT AND. Negating both the weights and the bias of your AND neuron flips the sign of
    the weighted sum plus bias on every corner, so every output flips; negating the weights alone does
    not.
    """
    expect_gate(exercises().nand_weights(), "NAND", "nand_weights")


def reference_features(x):
    """(x1², x2², x1·x2, x1, x2), the quadratic terms as products of chosen columns."""
    x = np.asarray(x, dtype=float)
    return np.hstack([x[:, [0, 1, 0]] * x[:, [0, 1, 1]], x])


def test_expand_features():
    """Exercise 2.4: expand_features, (x1, x2) -> (x1², x2², x1·x2, x1, x2).

    Hint: take the two columns of x (every row of column 0, and of column 1), build the five features
    from them in the stated order, and put them side by side as columns (np.column_stack): one row per
    example, shape (n, 5).
    """
    expand_features = exercises().expand_features
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    before = x.copy()
    received = expand_features(x)
    expect_unchanged(before, x, what="x (the argument of expand_features)")
    expected = reference_features(x)
    what = f"expand_features(x) for x = {x.tolist()}"
    if np.shape(received) == (5, 3):
        raise AssertionError(
            "shape mismatch: expected (3, 5), one row per example, received (5, 3): the features "
            f"are rows instead of columns (np.column_stack, not np.stack)\ncase: {what}"
        )
    if np.shape(received) == expected.shape and not np.allclose(received, expected):
        names = []  # which feature each received column holds, where it matches one
        for column in np.asarray(received, dtype=float).T:
            match = [name for name, ref in zip(FEATURE_NAMES, expected.T) if np.allclose(column, ref)]
            names.append(match[0] if match else "?")
        if "?" not in names:
            raise AssertionError(
                f"columns in the wrong order: expected ({', '.join(FEATURE_NAMES)}), received "
                f"({', '.join(names)})\ncase: {what}"
            )
    expect_close(received, expected, what=what)

    x = np.random.default_rng(0).normal(size=(50, 2))
    expect_close(expand_features(x), reference_features(x),
                 what="expand_features(x) for 50 random rows, x of shape (50, 2)")
    x = np.array([[-2.0, 3.0]])
    expect_close(expand_features(x), reference_features(x),
                 what="expand_features(x) for a single row, x = [[-2.0, 3.0]] of shape (1, 2)")


def test_xor_from_gates():
    """Exercise 2.5: xor_from_gates, XOR = AND(OR, NAND) built from your gate neurons.

    Hint: the outputs of your OR and NAND neurons on x, side by side (np.column_stack), are an
    (n, 2) input for your AND neuron; return what the AND neuron outputs.
    """
    module = exercises()
    calls = []
    given_neuron = module.neuron

    def counting_neuron(x, w, b):
        calls.append(np.shape(x))
        if len(calls) > 2 and np.ndim(x) == 2 and np.shape(x)[1] != 2:
            raise AssertionError(
                f"the AND neuron got an input of shape {np.shape(x)}: the outputs of the OR and NAND "
                "neurons are stacked as rows; they are the two columns of an (n, 2) input, one row per "
                f"example (np.column_stack)\ncase: xor_from_gates(x) for x of shape {calls[0]}"
            )
        return given_neuron(x, w, b)

    module.neuron = counting_neuron  # xor_from_gates looks `neuron` up in the module when it runs
    received = module.xor_from_gates(CORNERS)
    for function, gate in (("or_weights", "OR"), ("nand_weights", "NAND"), ("and_weights", "AND")):
        try:
            expect_gate(getattr(module, function)(), gate, function)
        except AssertionError as error:
            raise AssertionError(
                f"{function}() does not compute {gate} yet; make its exercise pass first\n{error}"
            ) from None
    if len(calls) < 2:
        raise AssertionError(
            f"not composed of neurons: xor_from_gates made {len(calls)} call(s) to neuron(); "
            "expected the OR and NAND neurons, then the AND neuron on their outputs (3 calls)\n"
            "case: xor_from_gates(x) for the 4 corners"
        )
    expect_close(received, np.array(TRUTH_TABLES["XOR"]), atol=0, rtol=0, dtype="integer",
                 what="xor_from_gates(x) for x = the corners (0, 0), (0, 1), (1, 0), (1, 1)")

    rows = np.array([3, 0, 1, 2, 2, 1, 0, 3])
    x = CORNERS[rows]  # (8, 2)
    expect_close(module.xor_from_gates(x), np.array(TRUTH_TABLES["XOR"])[rows], atol=0, rtol=0,
                 dtype="integer", what=f"xor_from_gates(x) for x = {x.tolist()}")
