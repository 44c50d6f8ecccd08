"""Checks for the XOR exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader) and compares it with an
independent reference: truth tables written out here, and scikit-learn's PolynomialFeatures for the
polynomial features (loaded after the student's first call, so that an unfinished stub fails fast).
"""

import numpy as np

from companion.exercises._expect import expect_close, expect_unchanged, expect_value_error, fail_if_shape
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
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
LECTURE_ORDER = [(2, 0), (0, 2), (1, 1), (1, 0), (0, 1)]  # x1², x2², x1·x2, x1, x2: the lecture's


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


def monomial_name(powers):
    """'x1²·x2' for the powers (2, 1) of (x1, x2); '1' for the constant (0, 0)."""
    factors = [f"x{i}" + (str(p).translate(SUPERSCRIPTS) if p > 1 else "")
               for i, p in enumerate(powers, start=1) if p > 0]
    return "·".join(factors) or "1"


def names(powers):
    return f"({', '.join(monomial_name(p) for p in powers)})"


def reference_features(x, degree):
    """scikit-learn's PolynomialFeatures(degree, include_bias=False) of x, and the powers of (x1, x2)
    in each of its columns."""
    from sklearn.preprocessing import PolynomialFeatures

    polynomial = PolynomialFeatures(degree, include_bias=False).fit(x)
    return polynomial.transform(x), [tuple(int(p) for p in powers) for powers in polynomial.powers_]


def identify_columns(received, x, degree):
    """The powers (a, b) of the monomial x1^a · x2^b in each received column, among the degrees 0 to
    degree + 1, or None where a column is none of them (or the result has no columns to read)."""
    try:
        received = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return None
    if received.ndim != 2 or received.shape[0] != len(x):
        return None
    candidates, powers = reference_features(x, degree + 1)
    candidates, powers = np.column_stack([np.ones(len(x)), candidates]), [(0, 0), *powers]
    found = []
    for column in received.T:
        match = [p for p, candidate in zip(powers, candidates.T) if np.allclose(column, candidate)]
        if not match:
            return None
        found.append(match[0])
    return found


def name_feature_mistake(received, expected, degree, what):
    """Raise an AssertionError that names the mistake when the received columns are monomials, but not
    the expected ones in the expected order."""
    __tracebackhide__ = True
    if received is None or received == expected:
        return
    missing = [p for p in expected if p not in received]
    extra = [p for p in received if p not in expected]
    repeated = [p for p in dict.fromkeys(received) if received.count(p) > 1]
    top = [p for p in expected if sum(p) == degree]
    shown = f"case: {what}\nexpected columns: {names(expected)}\nreceived columns: {names(received)}"
    if repeated:
        problem = (f"{monomial_name(repeated[0])} appears {received.count(repeated[0])} times: a monomial "
                   "counts once, whatever the order of its factors (x1·x2 and x2·x1 are one monomial)")
    elif extra == [(0, 0)] and missing == top:
        problem = (f"degrees 0 to {degree - 1} instead of 1 to {degree}: the constant column (all ones) "
                   f"is included and the monomials of degree {degree} are missing")
    elif extra == [(0, 0)] and not missing:
        problem = ("the constant column (all ones) is included: the degrees start at 1, as in "
                   "PolynomialFeatures with include_bias=False")
    elif missing == top and not extra:
        problem = (f"the monomials of degree {degree} are missing {names(top)}: the degrees go from 1 up "
                   "to degree, degree included (a range that stops one short?)")
    elif extra and not missing and all(sum(p) == degree + 1 for p in extra):
        problem = (f"one degree too many: the monomials of degree {degree + 1} are included; the "
                   f"degrees stop at degree ({degree} here)")
    elif missing and not extra and all(p[0] == 0 for p in missing):
        problem = (f"the last monomial of each degree is missing {names(missing)}: the power of x1 goes "
                   "down from d to 0, 0 included, so degree d has d + 1 monomials")
    elif missing and not extra and all(p[1] == 0 for p in missing):
        problem = (f"the first monomial of each degree is missing {names(missing)}: the power of x1 goes "
                   "down from d to 0, d included, so degree d has d + 1 monomials")
    elif missing or extra:
        return
    elif received == LECTURE_ORDER:
        problem = ("columns in the lecture's order (x1², x2², x1·x2, x1, x2), not scikit-learn's: "
                   "degree 1 first, then degree 2, each degree from the highest power of x1 down")
    elif [sum(p) for p in received] == [sum(p) for p in expected]:
        problem = ("within each degree the columns are in the wrong order: the power of x1 goes down, "
                   "from x1 to the power d first to x2 to the power d last")
    elif [sum(p) for p in received] == sorted((sum(p) for p in expected), reverse=True):
        problem = f"highest degree first: the columns go from degree 1 up to degree {degree}"
    else:
        problem = "columns in the wrong order"
    raise AssertionError(f"{problem}\n{shown}")


def test_polynomial_features():
    """Exercise 2.4: polynomial_features, every monomial x1^a · x2^b of degree 1 to `degree`.

    Hint: go through the degrees from 1 up to and including the given degree; for a degree d, let the
    power of x1 go down from d to 0 (both included) while the power of x2 makes up the rest, and
    compute each monomial as a column from the two columns of x. Put all the columns side by side, one
    row per example (np.column_stack): 2 columns for degree 1, 5 for degree 2, 9 for degree 3. No
    constant column, and reject a degree below 1 with a ValueError.
    """
    polynomial_features = exercises().polynomial_features
    x = np.array([[1.5, -2.0], [0.5, 3.0], [-1.0, 0.25]])
    for degree in (2, 3, 4, 1):  # degree 2 first: the stub fails before scikit-learn loads
        what = f"polynomial_features(x, {degree}) for x = {x.tolist()}"
        before = x.copy()
        try:
            received = polynomial_features(x, degree)
        except NotImplementedError:
            raise
        except Exception as error:
            if degree != 1:
                raise
            raise AssertionError(
                f"raised {type(error).__name__} for degree 1, a valid degree: {error}\ncase: {what}\n"
                "only a degree below 1 is an error; degree 1 gives the two columns (x1, x2)"
            ) from error
        expect_unchanged(before, x, what="x (the argument of polynomial_features)")
        expected, powers = reference_features(x, degree)
        fail_if_shape(received, expected.shape, {
            expected.T.shape: f"the monomials are rows instead of columns: one row per example, expected "
                              f"{expected.shape}",
        }, what)
        name_feature_mistake(identify_columns(received, x, degree), powers, degree, what)
        expect_close(received, expected, what=what)

    x = np.random.default_rng(0).normal(size=(50, 2))
    expect_close(polynomial_features(x, 3), reference_features(x, 3)[0],
                 what="polynomial_features(x, 3) for 50 random rows, x of shape (50, 2)")
    x = np.array([[-2.0, 3.0]])
    expect_close(polynomial_features(x, 4), reference_features(x, 4)[0],
                 what="polynomial_features(x, 4) for a single row, x = [[-2.0, 3.0]] of shape (1, 2)")
    expect_value_error(polynomial_features, x, 0,
                       what="polynomial_features(x, 0): degree 0 has no monomial of degree 1 to 0")


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
