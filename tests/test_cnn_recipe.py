"""The cnn recipe: `train` beats an RBF SVM on the real 8×8 digits and on 28×28 shifted handwriting.

A file of its own, apart from test_cnn.py, so that the two run on different workers."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from companion import data
from lectures import cnn


def digits_split(seed):
    """The lecture's task: the 1,797 real 8×8 digits, 25% held out with every class in both parts."""
    x, y = data.digits()
    return train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)


def svm_accuracy(x_train, x_test, y_train, y_test):
    """An RBF support-vector machine with scikit-learn's defaults, on the flattened pixels."""
    flat = lambda images: images.reshape(len(images), -1)  # noqa: E731
    return SVC().fit(flat(x_train), y_train).score(flat(x_test), y_test)


def check_digits(seed):
    x_train, x_test, y_train, y_test = digits_split(seed)
    model = cnn.train(x_train, y_train, seed=seed)
    probabilities = model.predict(x_test, verbose=0)
    assert probabilities.shape == (len(x_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    accuracy = np.mean(probabilities.argmax(axis=1) == y_test)
    reference = svm_accuracy(x_train, x_test, y_train, y_test)
    assert accuracy >= 0.985, (accuracy, reference)  # 0.99 or more on most seeds
    assert accuracy >= reference - 1 / len(y_test), (accuracy, reference)  # at most one digit behind


@pytest.mark.slow  # 30 s each; the default suite checks a shorter training's held-out accuracy in test_resume
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_train_beats_an_rbf_svm_on_the_digits_across_seeds(seed):
    check_digits(seed)


def larger_digits(seed):
    """The digits on a 28×28 canvas, MNIST's size: scaled up 2× (16×16) and placed near the centre
    at a random offset of up to 3 pixels, as scanned handwriting is. An offline stand-in for MNIST."""
    x, y = data.digits()
    rng = np.random.default_rng(seed)
    big = x.repeat(2, axis=1).repeat(2, axis=2)  # (n, 16, 16, 1)
    canvas = np.zeros((len(x), 28, 28, 1), dtype="float32")
    for i, (top, left) in enumerate(6 + rng.integers(-3, 4, size=(len(x), 2))):
        canvas[i, top:top + 16, left:left + 16] = big[i]
    return canvas, y


@pytest.mark.slow
def test_train_adapts_to_28x28_shifted_handwriting_and_beats_an_rbf_svm():
    x, y = larger_digits(seed=0)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    model = cnn.train(x_train, y_train)
    accuracy = np.mean(cnn.predict_classes(model, x_test) == y_test)
    reference = svm_accuracy(x_train, x_test, y_train, y_test)
    assert sum(isinstance(layer, cnn.keras.layers.MaxPooling2D) for layer in model.layers) == 2
    assert accuracy >= 0.98 and accuracy >= reference, (accuracy, reference)
