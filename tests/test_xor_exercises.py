"""The XOR exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure, solution_with  # shared by every topic's mistakes


def mistake(name, *replacements):
    """The reference function `name` with each (old, new) text replaced: one typical mistake."""
    return solution_with("xor", name, *replacements)


AND = "def and_weights():\n"
OR = "def or_weights():\n"
NAND = "def nand_weights():\n"
FEATURES = "polynomial_features"
DEGREES = "for total in range(1, degree + 1):"
POWERS = "for power in range(total, -1, -1):"
XOR = "def xor_from_gates(x):\n"


@pytest.mark.parametrize(
    "check, replacements, first_line",
    [
        ("and_weights", {"and_weights": AND + "    return np.array([1.0, 1.0, -1.5])"},
         "type mismatch: expected a pair (w, b), received ndarray"),
        ("and_weights", {"and_weights": AND + "    return np.array([[1.0, 1.0]]), -1.5"},
         "shape mismatch: expected w of shape (2,), one weight per input, received shape (1, 2)"),
        ("and_weights", {"and_weights": AND + "    return np.array([1.0, 1.0]), np.array([-1.5])"},
         "shape mismatch: expected b to be a number, received shape (1,)"),
        ("and_weights", {"and_weights": AND + "    return np.array([1.0, 1.0]), -1.0"},
         "corner (0, 1) lies on the neuron's line"),
        ("and_weights", {"and_weights": AND + "    return np.array([1.0, 1.0]), -0.5"},
         "wrong truth table: expected AND [0, 0, 0, 1], the neuron computes [0, 1, 1, 1] (that is OR)"),
        ("or_weights", {"or_weights": OR + "    return np.array([1.0, 1.0]), 0.0"},
         "corner (0, 0) lies on the neuron's line"),
        ("nand_weights", {"nand_weights": NAND + "    w, b = and_weights()\n    return -w, b"},
         "wrong truth table: expected NAND [1, 1, 1, 0], the neuron computes [0, 0, 0, 0] (that is "
         "always 0)"),
        (FEATURES, {FEATURES: mistake(FEATURES, ("np.column_stack(columns)", "np.array(columns)"))},
         "shape mismatch: received shape (5, 3): the monomials are rows instead of columns"),
        (FEATURES, {FEATURES: mistake(FEATURES, (DEGREES, "for total in range(1, degree):"))},
         "the monomials of degree 2 are missing (x1², x1·x2, x2²): the degrees go from 1 up to degree, "
         "degree included"),
        (FEATURES, {FEATURES: mistake(FEATURES, (DEGREES, "for total in range(degree + 1):"))},
         "the constant column (all ones) is included"),
        (FEATURES, {FEATURES: mistake(FEATURES, (DEGREES, "for total in range(degree):"))},
         "degrees 0 to 1 instead of 1 to 2: the constant column (all ones) is included and the monomials "
         "of degree 2 are missing"),
        (FEATURES, {FEATURES: mistake(FEATURES, (DEGREES, "for total in range(1, degree + 2):"))},
         "one degree too many: the monomials of degree 3 are included"),
        (FEATURES, {FEATURES: "def polynomial_features(x, degree):\n"
                    "    x1, x2 = x[:, 0], x[:, 1]\n"
                    "    return np.column_stack([x1**2, x2**2, x1 * x2, x1, x2])  # as in the lecture"},
         "columns in the lecture's order (x1², x2², x1·x2, x1, x2), not scikit-learn's"),
        (FEATURES, {FEATURES: mistake(FEATURES, (POWERS, "for power in range(total + 1):"))},
         "within each degree the columns are in the wrong order: the power of x1 goes down"),
        (FEATURES, {FEATURES: mistake(FEATURES, (DEGREES, "for total in range(degree, 0, -1):"))},
         "highest degree first: the columns go from degree 1 up to degree 2"),
        (FEATURES, {FEATURES: mistake(FEATURES, (POWERS, "for power in range(total, 0, -1):"))},
         "the last monomial of each degree is missing (x2, x2²): the power of x1 goes down from d to 0, "
         "0 included"),
        (FEATURES, {FEATURES: "def polynomial_features(x, degree):\n"
                    "    import itertools\n"
                    "    if degree < 1:\n"
                    "        raise ValueError(degree)\n"
                    "    columns = [np.prod(x[:, list(factors)], axis=1)  # every ordering of the factors\n"
                    "               for total in range(1, degree + 1)\n"
                    "               for factors in itertools.product([0, 1], repeat=total)]\n"
                    "    return np.column_stack(columns)"},
         "x1·x2 appears 2 times: a monomial counts once, whatever the order of its factors"),
        (FEATURES, {FEATURES: mistake(FEATURES, ("    columns = []\n",
                                                 "    x /= np.abs(x).max(axis=0)  # scaled to [-1, 1]\n"
                                                 "    columns = []\n"))},
         "x (the argument of polynomial_features) was modified in place"),
        (FEATURES, {FEATURES: mistake(FEATURES, ("if degree < 1:", "if degree < 2:"))},
         "raised ValueError for degree 1, a valid degree"),
        (FEATURES, {FEATURES: "def polynomial_features(x, degree):\n"
                    "    features = np.empty((len(x), degree * (degree + 3) // 2))\n"
                    "    column = 0\n"
                    "    for total in range(1, degree + 1):\n"
                    "        for power in range(total, -1, -1):\n"
                    "            features[:, column] = x[:, 0] ** power * x[:, 1] ** (total - power)\n"
                    "            column += 1\n"
                    "    return features"},
         "no ValueError raised: polynomial_features(x, 0)"),
        ("xor_from_gates", {"xor_from_gates": XOR + "    return (x[:, 0] != x[:, 1]).astype(int)"},
         "not composed of neurons: xor_from_gates made 0 call(s) to neuron()"),
        ("xor_from_gates", {"xor_from_gates": XOR
                            + "    hidden = np.array([neuron(x, *or_weights()),\n"
                            "                       neuron(x, *nand_weights())])\n"
                            "    return neuron(hidden, *and_weights())"},
         "the AND neuron got an input of shape (2, 4): the outputs of the OR and NAND neurons are stacked "
         "as rows"),
        ("xor_from_gates", {"or_weights": OR + "    return np.array([1.0, 1.0]), -1.5"},
         "or_weights() does not compute OR yet; make its exercise pass first"),
    ],
    ids=["not-a-pair", "w-a-row", "b-an-array", "and-corner-on-line", "and-is-or", "or-corner-on-line",
         "nand-weights-only-negated", "features-as-rows", "features-missing-degree", "features-constant",
         "features-degrees-0-to-d-minus-1", "features-degree-too-many", "features-lecture-order",
         "features-x1-power-up", "features-highest-degree-first", "features-last-monomial-missing",
         "features-repeated", "features-in-place", "features-degree-1-rejected", "features-no-value-error",
         "xor-not-from-neurons", "xor-hidden-as-rows", "xor-needs-or"],
)
def test_checks_name_typical_mistakes(check, replacements, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake (in that
    exercise, or in a gate that it builds on)."""
    message = check_failure("xor", check, replacements, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
