"""Small data sets the lectures use offline: generated 2-D toy problems, scikit-learn's digits, and
the text of Python's own documentation.

Every toy generator takes `n_samples`, `noise` and `seed` as keywords, draws from its own
`np.random.default_rng(seed)` (or passes `random_state=seed` to scikit-learn), and returns
`(x, y)`: `x` float32 of shape (n_samples, 2), `y` int64 class labels of shape (n_samples,).
Samples come shuffled, so `validation_split` in `fit()` sees every class.

Importing this module is cheap: it needs NumPy only; scikit-learn is imported by the functions
that use it, and TensorFlow never. Splitting and standardising are left to the lectures
(`sklearn.model_selection.train_test_split`, `sklearn.preprocessing.StandardScaler`).
The downloadable sets (MNIST, CIFAR-10, Tiny Shakespeare) live in `companion.datasets`.
"""

import numbers

import numpy as np

__all__ = [
    "GATES",
    "blobs",
    "circles",
    "digits",
    "gate_clouds",
    "gaussian_ring",
    "moons",
    "python_docs",
    "spirals",
]

# Truth tables of the two-input logic gates: inputs (a, b) in {0, 1} -> output in {0, 1}.
GATES = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: 1 - (a ^ b),
}


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _check_nonnegative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"Expected {name} >= 0. Received: {name}={value!r}")
    return float(value)


def _check_seed(seed):
    if seed is None:
        return None
    return _check_int("seed", seed, 0)


def _as_xy(x, y):
    return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64)


def _shuffled(x, y, rng):
    order = rng.permutation(len(y))
    return _as_xy(x[order], y[order])


def _split_evenly(n_samples, n_parts):
    """Sizes of `n_parts` groups that add up to `n_samples` and differ by at most one."""
    return [n_samples // n_parts + (part < n_samples % n_parts) for part in range(n_parts)]


def blobs(n_samples=200, *, noise=1.0, seed=0):
    """Two Gaussian blobs centred at (-2, -2) and (2, 2), with standard deviation `noise`.

    With the default noise a straight line separates them almost perfectly: the data set of the
    logistic-regression lecture.
    """
    from sklearn.datasets import make_blobs

    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_nonnegative("noise", noise)
    x, y = make_blobs(
        n_samples=n_samples,
        centers=[(-2.0, -2.0), (2.0, 2.0)],
        cluster_std=noise,
        random_state=_check_seed(seed),
    )
    return _as_xy(x, y)


def gate_clouds(gate="xor", n_samples=200, *, noise=0.1, seed=0):
    """Gaussian clouds around the corners (0, 0), (0, 1), (1, 0), (1, 1), labelled by a logic gate.

    `gate` is one of "and", "or", "nand", "nor", "xor", "xnor" (any case). The corners get
    `n_samples` points between them, as evenly as possible; a point's label is the gate's output
    for the corner it was drawn around. XOR and XNOR are the two gates no straight line can draw.
    """
    gate_name = str(gate).lower()
    if gate_name not in GATES:
        raise ValueError(f"Expected gate to be one of {sorted(GATES)}. Received: gate={gate!r}")
    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_nonnegative("noise", noise)
    rng = np.random.default_rng(_check_seed(seed))

    corners = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
    corner_index = np.repeat(np.arange(4), _split_evenly(n_samples, 4))  # (n_samples,)
    inputs = corners[corner_index]  # (n_samples, 2) of 0/1
    x = inputs + noise * rng.standard_normal((n_samples, 2))
    y = GATES[gate_name](inputs[:, 0], inputs[:, 1])
    return _shuffled(x, y, rng)


def moons(n_samples=200, *, noise=0.1, seed=0):
    """Two interleaving half circles (scikit-learn's `make_moons`): curved, but only just."""
    from sklearn.datasets import make_moons

    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_nonnegative("noise", noise)
    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=_check_seed(seed))
    return _as_xy(x, y)


def circles(n_samples=200, *, noise=0.05, factor=0.5, seed=0):
    """A small circle (label 1) inside a large one (label 0), scikit-learn's `make_circles`.

    `factor` is the inner radius relative to the outer one, strictly between 0 and 1.
    """
    from sklearn.datasets import make_circles

    n_samples = _check_int("n_samples", n_samples, 1)
    noise = _check_nonnegative("noise", noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"Expected 0 < factor < 1. Received: factor={factor!r}")
    x, y = make_circles(
        n_samples=n_samples, noise=noise, factor=float(factor), random_state=_check_seed(seed)
    )
    return _as_xy(x, y)


def spirals(n_samples=300, *, n_arms=3, noise=0.2, seed=0):
    """`n_arms` interleaved spiral arms, the class being the arm (the CS231n spiral).

    Along each arm the radius grows from 0 to 1 while the angle sweeps 4 radians; arm k is turned
    by 2*pi*k/n_arms, and `noise` is the standard deviation added to the angle. The points are
    split between the arms as evenly as possible.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_arms = _check_int("n_arms", n_arms, 2)
    noise = _check_nonnegative("noise", noise)
    rng = np.random.default_rng(_check_seed(seed))

    x_parts, y_parts = [], []
    for arm, arm_size in enumerate(_split_evenly(n_samples, n_arms)):
        radius = np.linspace(0.0, 1.0, arm_size)
        angle = np.linspace(0.0, 4.0, arm_size) + 2 * np.pi * arm / n_arms
        angle = angle + noise * rng.standard_normal(arm_size)
        x_parts.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        y_parts.append(np.full(arm_size, arm))
    return _shuffled(np.concatenate(x_parts), np.concatenate(y_parts), rng)


def gaussian_ring(n_samples=1000, *, n_modes=8, radius=2.0, noise=0.05, seed=0):
    """A mixture of `n_modes` Gaussians evenly spaced on a circle: the toy GAN target.

    Mode k sits at angle 2*pi*k/n_modes on a circle of the given `radius`; each point is its mode
    plus Gaussian noise of standard deviation `noise`; `y` is the mode index. A generator that
    covers only some of the modes has collapsed, and the ring makes that visible at a glance.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_modes = _check_int("n_modes", n_modes, 1)
    noise = _check_nonnegative("noise", noise)
    if isinstance(radius, bool) or not isinstance(radius, numbers.Real) or not radius > 0:
        raise ValueError(f"Expected radius > 0. Received: radius={radius!r}")
    rng = np.random.default_rng(_check_seed(seed))

    y = np.repeat(np.arange(n_modes), _split_evenly(n_samples, n_modes))  # (n_samples,)
    angle = 2 * np.pi * y / n_modes
    centers = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (n_samples, 2)
    x = centers + noise * rng.standard_normal((n_samples, 2))
    return _shuffled(x, y, rng)


def digits():
    """scikit-learn's bundled handwritten digits: 1,797 real 8x8 grey images, no download needed.

    Returns `(x, y)`: `x` float32 of shape (1797, 8, 8, 1), channels last, scaled from the
    original 0..16 ink levels to [0, 1]; `y` int64 digit labels 0..9.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images[..., np.newaxis] / 16.0  # (1797, 8, 8, 1)
    return _as_xy(x, bunch.target)


def python_docs(*, documents=False):
    """Real English text present wherever Python is: the documentation topics that `help("topic")`
    shows (the standard library's `pydoc_data`), about 465,000 characters in Python 3.11.

    Returns one string, the topics joined in alphabetical order (the same text on every run of
    one Python version): prose with code examples, the default corpus of the `rnn` lecture.
    With `documents=True`, returns the topics themselves instead: a dict {topic name: text}, in
    alphabetical order, each text stripped as in the joined string (which is
    `"\n\n".join(docs.values())`). Some topics repeat others: "for" is a section of "compound".
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as error:  # some Linux distributions package it separately
        from companion.errors import UserError

        raise UserError(
            "The default text corpus is Python's own documentation (the standard library module "
            "`pydoc_data`), and this Python installation lacks it. Install the full standard library "
            "(for example the python3 package rather than python3-minimal), or use another corpus: "
            "`--dataset tiny_shakespeare` after `companion data fetch tiny_shakespeare`."
        ) from error
    docs = {name: topics[name].strip() for name in sorted(topics)}
    if documents:
        return docs
    return "\n\n".join(docs.values())
