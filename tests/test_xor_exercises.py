"""The XOR exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py.
"""

import sys

import pytest
from test_exercises import write_student_file  # the same helper as the other topics' tests

AND = "def and_weights():\n"
OR = "def or_weights():\n"
NAND = "def nand_weights():\n"
FEATURES = "def expand_features(x):\n    x = np.asarray(x, dtype=float)\n    x1, x2 = x[:, 0], x[:, 1]\n"
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
        ("expand_features",
         {"expand_features": FEATURES + "    return np.array([x1**2, x2**2, x1 * x2, x1, x2])"},
         "shape mismatch: expected (3, 5), one row per example, received (5, 3)"),
        ("expand_features", {"expand_features": FEATURES
                             + "    return np.column_stack([x1, x2, x1 * x2, x1**2, x2**2])"},
         "columns in the wrong order: expected (x1², x2², x1·x2, x1, x2), "
         "received (x1, x2, x1·x2, x1², x2²)"),
        ("expand_features", {"expand_features": "def expand_features(x):\n"
                             "    x1, x2 = x[:, 0].copy(), x[:, 1].copy()\n"
                             "    x **= 2  # the squares, computed in the argument's own memory\n"
                             "    return np.column_stack([x, x1 * x2, x1, x2])"},
         "x (the argument of expand_features) was modified in place"),
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
         "nand-weights-only-negated", "features-as-rows", "features-order", "features-in-place",
         "xor-not-from-neurons", "xor-hidden-as-rows", "xor-needs-or"],
)
def test_checks_name_typical_mistakes(check, replacements, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake (in that
    exercise, or in a gate that it builds on)."""
    from companion.exercises._loader import ENV_VAR
    from companion.exercises.checks import test_xor as checks

    monkeypatch.setenv(ENV_VAR, str(write_student_file(tmp_path, "xor", replacements)))
    monkeypatch.delitem(sys.modules, "xor", raising=False)
    with pytest.raises(AssertionError) as error:
        getattr(checks, f"test_{check}")()
    assert str(error.value).startswith(first_line), str(error.value)
