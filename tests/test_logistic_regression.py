"""The logistic regression lecture: `train` finds the maximum-likelihood solution, the steps run."""


import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from lectures import logistic_regression


def diabetes_binary():
    """A real, non-separable binary task the lecture does not use: is disease progression above
    its median? 442 patients, 10 standardised features."""
    x, target = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(x).astype("float32"), (target > np.median(target)).astype(int)


@pytest.mark.parametrize("seed", [0, 1])
def test_train_reaches_the_maximum_likelihood_fit_and_predicts_unseen_data_as_well(seed):
    """Trained on three quarters of the data, the recipe's log-loss there is within 1% of the
    maximum-likelihood fit (scikit-learn's unregularised LogisticRegression), and on the held-out
    quarter within 2% of that fit's."""
    from sklearn.model_selection import train_test_split

    x, y = diabetes_binary()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    model = logistic_regression.train(x_train, y_train, seed=seed)
    probability = model.predict(x_test, verbose=0)
    assert probability.shape == (len(x_test), 1)
    assert np.all((probability >= 0) & (probability <= 1))
    reference = LogisticRegression(C=np.inf, max_iter=10_000).fit(x_train, y_train)
    fitted = log_loss(y_train, model.predict(x_train, verbose=0)[:, 0])
    assert fitted <= 1.01 * log_loss(y_train, reference.predict_proba(x_train)[:, 1])
    best_unseen = log_loss(y_test, reference.predict_proba(x_test)[:, 1])
    assert log_loss(y_test, probability[:, 0]) <= 1.02 * best_unseen


def test_train_accepts_column_labels_and_a_strategy():
    import tensorflow as tf

    x, y = diabetes_binary()
    model = logistic_regression.train(x, y.reshape(-1, 1), epochs=3,
                                      strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert model.predict(x[:5], verbose=0).shape == (5, 1)


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros(10), np.zeros(10), "Expected x with shape (n_samples, n_features)"),
        (np.zeros((10, 2)), np.zeros(9), "Expected y with shape (10,)"),
        (np.zeros((4, 2)), np.array([0, 1, 2, 1]), "Expected binary labels y in {0, 1}"),
        (np.full((2, 2), np.nan), np.array([0, 1]), "Expected finite x"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, y, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        logistic_regression.train(x, y)


def test_sigmoid_is_exact_and_never_overflows():
    z = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    with np.errstate(all="raise"):
        p = logistic_regression.sigmoid(z)
    np.testing.assert_allclose(p[1:4], 1 / (1 + np.exp(-z[1:4])), rtol=1e-12)
    assert p[0] == 0.0 and p[-1] == 1.0


def test_every_step_runs_in_fast_mode_and_writes_its_figure(fast_logistic_regression_run):
    run, printed = fast_logistic_regression_run
    steps = logistic_regression.lecture.steps
    assert len(steps) == 7
    for step in steps:
        assert f"[{step.number}/7] {step.title}" in printed
    assert len(run.figures) == 7
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption


def test_keras_sgd_step_matches_numpy_gradient_descent(fast_logistic_regression_run):
    run, _ = fast_logistic_regression_run
    band = next(b for b in run.bands if b.label.startswith("largest difference between Keras"))
    assert band.landed, band


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = logistic_regression.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
