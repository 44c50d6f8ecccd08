"""The XOR lecture: `train` solves noisy XOR for every seed, `hand_wired_xor` is exact, the steps run."""

import itertools
import re

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.preprocessing import PolynomialFeatures

from companion import data
from lectures import xor

TOPIC = "xor"  # the lecture of the `fast_run` fixture (conftest.py)
NOISE = 0.15


def accuracy(model, x, y):
    return float(np.mean((model.predict(x, batch_size=4096, verbose=0)[:, 0] >= 0.5) == y))


def bayes_accuracy(x, y):
    """The best possible rule for the XOR clouds: XOR of the two coordinates thresholded at 1/2."""
    return float(np.mean(((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)) == y))


def check_train_solves_noisy_xor(seed):
    x_train, y_train = data.gate_clouds("xor", n_samples=300, noise=NOISE, seed=seed)
    x_test, y_test = data.gate_clouds("xor", n_samples=2000, noise=NOISE, seed=seed + 1000)
    model = xor.train(x_train, y_train, seed=seed)
    probability = model.predict(x_test, batch_size=4096, verbose=0)
    assert probability.shape == (len(x_test), 1)
    assert np.all((probability >= 0) & (probability <= 1))
    reached = float(np.mean((probability[:, 0] >= 0.5) == y_test))
    assert reached >= 0.99, f"seed {seed}: test accuracy {reached:.4f}"
    assert reached >= bayes_accuracy(x_test, y_test) - 0.01, f"seed {seed}"


@pytest.mark.parametrize("seed", [0, 1])
def test_train_solves_noisy_xor(seed):
    check_train_solves_noisy_xor(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 10))
def test_train_solves_noisy_xor_for_every_seed(seed):
    check_train_solves_noisy_xor(seed)


def test_train_separates_circles_it_was_not_tuned_for():
    x_train, y_train = data.circles(n_samples=300, noise=0.1, seed=3)
    x_test, y_test = data.circles(n_samples=1000, noise=0.1, seed=4)
    assert accuracy(xor.train(x_train, y_train, seed=3), x_test, y_test) >= 0.95


def test_train_accepts_column_labels_hidden_units_and_a_strategy():
    import tensorflow as tf

    x, y = data.gate_clouds("xor", n_samples=40, noise=NOISE, seed=0)
    model = xor.train(x, y.reshape(-1, 1), hidden_units=2, epochs=1,
                      strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert model.get_layer("hidden").units == 2
    assert model.predict(x[:5], verbose=0).shape == (5, 1)


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (np.zeros(10), np.zeros(10), {}, "Expected x with shape (n_samples, n_features)"),
        (np.zeros((10, 2)), np.zeros(9), {}, "Expected y with shape (10,)"),
        (np.zeros((4, 2)), np.array([0, 1, 2, 1]), {}, "Expected binary labels y in {0, 1}"),
        (np.full((2, 2), np.nan), np.array([0, 1]), {}, "Expected finite x"),
        (np.zeros((2, 2)), np.array([0, 1]), {"hidden_units": 0}, "Expected hidden_units >= 1"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, y, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        xor.train(x, y, **kwargs)


def test_hand_wired_xor_is_exact_on_the_corners_without_training():
    import keras

    model = xor.hand_wired_xor()
    corners = np.array(list(itertools.product([0, 1], repeat=2)), dtype="float32")
    truth = np.logical_xor(corners[:, 0], corners[:, 1]).astype("float32")
    output = model.predict(corners, verbose=0)
    assert output.shape == (4, 1)
    np.testing.assert_array_equal(output[:, 0], truth)  # exactly 0 and 1, not just close
    # Two Dense layers; the hidden one computes OR and NAND of the inputs.
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [2, 1]
    hidden = keras.Model(model.inputs, dense[0].output).predict(corners, verbose=0)
    np.testing.assert_array_equal(hidden[:, 0], np.logical_or(corners[:, 0], corners[:, 1]))
    np.testing.assert_array_equal(hidden[:, 1], ~np.logical_and(corners[:, 0], corners[:, 1]))
    # Fresh models agree weight for weight: set by hand, not drawn at random.
    for first, second in zip(model.get_weights(), xor.hand_wired_xor().get_weights()):
        np.testing.assert_array_equal(first, second)


def test_gate_neurons_match_the_truth_tables():
    corners = np.array(list(itertools.product([0, 1], repeat=2)))
    for gate in ("and", "or", "nand"):
        w, b = xor.GATE_WEIGHTS[gate.upper()]
        np.testing.assert_array_equal(xor.neuron(corners, w, b), data.GATES[gate](*corners.T))
    np.testing.assert_array_equal(xor.neuron(np.array([[0], [1]]), *xor.GATE_WEIGHTS["NOT"]), [1, 0])


def test_expand_features_matches_scikit_learn_polynomial_features():
    x = np.random.default_rng(0).normal(size=(20, 2))
    # PolynomialFeatures orders its columns x1, x2, x1², x1·x2, x2².
    reference = PolynomialFeatures(degree=2, include_bias=False).fit_transform(x)[:, [2, 4, 3, 0, 1]]
    np.testing.assert_allclose(xor.expand_features(x), reference)


def test_best_line_finds_the_most_accurate_line():
    corners = np.array(list(itertools.product([0, 1], repeat=2)), dtype=float)
    xor_labels = np.array([0, 1, 1, 0])
    direction, threshold, best = xor.best_line(corners, xor_labels)
    assert best == 0.75  # three of four corners, never four
    assert np.mean((corners @ direction > threshold) == xor_labels) == best
    x, y = data.blobs(n_samples=200, noise=0.5, seed=0)  # separable: the best line is perfect
    direction, threshold, best = xor.best_line(x, y)
    assert best == 1.0 and np.all((x @ direction > threshold) == y)


def linearly_separable(inputs, outputs):
    """Whether some w, b put the rows with output 1 at x·w + b >= 1 and the others at <= -1 (an LP)."""
    signs = 2 * outputs - 1  # (rows,)
    a_ub = -signs[:, None] * np.hstack([inputs, np.ones((len(inputs), 1))])
    result = linprog(np.zeros(inputs.shape[1] + 1), A_ub=a_ub, b_ub=-np.ones(len(inputs)),
                     bounds=(None, None), method="highs")
    return result.status == 0


def test_step_counts_of_single_neuron_functions_match_linear_programming(fast_run):
    _, printed = fast_run
    for n_inputs in (1, 2, 3):
        inputs = np.array(list(itertools.product([0, 1], repeat=n_inputs)), dtype=float)
        total = 2 ** len(inputs)
        count = sum(linearly_separable(inputs, (function >> np.arange(len(inputs))) & 1)
                    for function in range(total))
        assert f"{n_inputs} input(s): functions one neuron computes: {count} of {total}" in printed


def test_every_step_runs_in_fast_mode_and_writes_its_figure(fast_run):
    run, printed = fast_run
    steps = xor.lecture.steps
    assert len(steps) == 6
    for step in steps:
        assert f"[{step.number}/6] {step.title}" in printed
    assert len(run.figures) == 6
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption
    exact = ("rows of the truth tables", "largest |output - XOR|", "functions of 2 inputs",
             "share of functions the two-layer", "largest difference between 4 stacked")
    for band in run.bands:
        if band.label.startswith(exact):
            assert band.landed, band


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = xor.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
