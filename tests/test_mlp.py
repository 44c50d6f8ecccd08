"""The mlp lecture: `train` classifies spirals and digits, the NumPy layer matches Keras, the steps run."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from companion import data
from lectures import mlp

TOPIC = "mlp"  # the lecture of the `fast_run` fixture (conftest.py)

def spirals_split(seed):
    """The lecture's task: 1,500 points on 3 spiral arms with angle noise 0.2, split 70/30 by arm."""
    x, y = data.spirals(n_samples=1500, n_arms=3, noise=mlp.SPIRAL_NOISE, seed=seed)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=seed)


def check_spirals(seed):
    x_train, x_test, y_train, y_test = spirals_split(seed)
    model = mlp.train(x_train, y_train, seed=seed)
    probabilities = model.predict(x_test, verbose=0)
    assert probabilities.shape == (len(x_test), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    accuracy = np.mean(probabilities.argmax(axis=1) == y_test)
    # scikit-learn's defaults, with max_iter raised from 200 so that Adam converges (~800-1100 epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning would make the comparison unfair
        reference = MLPClassifier(max_iter=2000, random_state=seed).fit(x_train, y_train)
    reference_accuracy = reference.score(x_test, y_test)
    assert accuracy >= 0.98, (accuracy, reference_accuracy)
    # "match or beat": at most one test point (1/450) below scikit-learn
    assert accuracy >= reference_accuracy - 1 / len(y_test), (accuracy, reference_accuracy)


def test_train_learns_spirals_and_matches_scikit_learn():
    check_spirals(seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 2, 3, 4, 5])
def test_train_learns_spirals_and_matches_scikit_learn_across_seeds(seed):
    check_spirals(seed)


def test_train_takes_any_number_of_features_flattened_digits():
    x, y = load_digits(return_X_y=True)  # 8x8 images, flattened: 64 features in 0..16
    x_train, x_test, y_train, y_test = train_test_split(x / 16, y, test_size=0.3, stratify=y, random_state=0)
    model = mlp.train(x_train, y_train)
    probabilities = model.predict(x_test, verbose=0)
    assert probabilities.shape == (len(x_test), 10)
    assert np.mean(probabilities.argmax(axis=1) == y_test) >= 0.95


def test_train_infers_the_classes_and_accepts_column_labels_and_a_strategy():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = np.arange(40) % 4  # 4 classes
    model = mlp.train(x, y.reshape(-1, 1).astype(float), epochs=1,
                      strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert model.predict(x[:3], verbose=0).shape == (3, 4)
    two = mlp.train(x, y % 2, epochs=1)
    assert two.output_shape == (None, 2)


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (np.zeros(10), np.zeros(10), {}, "Expected x with shape (n_samples, n_features)"),
        (np.zeros((10, 8, 8, 1)), np.zeros(10), {}, "flatten images first"),
        (np.zeros((10, 2)), np.zeros(9), {}, "Expected y with shape (10,)"),
        (np.zeros((4, 2)), np.array([0, 1, -1, 1]), {}, "Expected integer class labels"),
        (np.zeros((4, 2)), np.array([0, 1, 0.5, 1]), {}, "Expected integer class labels"),
        (np.zeros((4, 2)), np.array([2, 2, 2, 2]), {}, "Expected labels of at least 2 classes"),
        (np.full((2, 2), np.nan), np.array([0, 1]), {}, "Expected finite x"),
        (np.zeros((2, 2)), np.array([0, 1]), {"epochs": 0}, "Expected epochs >= 1"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mlp.train(x, y, **kwargs)


def test_nn_layer_is_the_slides_layer_and_equals_a_keras_dense_layer():
    import keras

    layer = mlp.nn_layer(6, 4, seed=3)
    assert layer.weights.shape == (6, 4) and layer.biases.shape == (4,)
    assert np.all(np.abs(layer.weights) < 0.25)
    x = np.random.default_rng(1).normal(size=(10, 6))
    expected = np.maximum(0, np.einsum("ni,ij->nj", x, layer.weights) + layer.biases)
    np.testing.assert_allclose(layer.forward(x), expected, atol=1e-12)
    dense = keras.layers.Dense(4, activation="relu")
    dense.build((None, 6))
    dense.set_weights([layer.weights, layer.biases])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dense(x.astype("float32"))), expected, atol=1e-6)


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = mlp.lecture.steps
    assert len(steps) == 8
    for step in steps:
        assert f"[{step.number}/8] {step.title}" in printed
    assert len(run.figures) == 6
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption


def test_exact_identities_hold_even_in_fast_mode(fast_run):
    """Bands that do not depend on training: NumPy vs Keras, collapse of linear layers, the two APIs."""
    run, _ = fast_run
    exact = [band for band in run.bands if band.label.startswith(("|", "largest"))]
    assert len(exact) == 12, [band.label for band in exact]
    assert all(band.landed for band in exact), [str(band) for band in exact if not band.landed]


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = mlp.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
