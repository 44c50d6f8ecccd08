"""Logistic regression

The first model of the course: one neuron with a sigmoid, trained by gradient descent on the binary
cross-entropy. We write it by hand in NumPy, then in Keras, and see where a straight line is not enough.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from companion import data
from companion.devices import scope
from companion.lecture import Lecture
from companion.plots import FULL_WIDTH, HALF_WIDTH, decision_boundary, training_curves
from companion.seeding import set_seed
from companion.validation import binary_labels, training_options

lecture = Lecture(
    "logistic_regression",
    "Logistic regression",
    expected="gradient descent reaches scikit-learn's maximum-likelihood fit, Keras classifies "
    "held-out overlapping blobs well, and no line classifies XOR",
    seconds=40,
)


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z), computed from e^-|z| so that it never overflows and
    keeps its full relative precision far into both tails."""
    with np.errstate(under="ignore"):  # e^-|z| rounds to 0 beyond |z| ≈ 745: σ is then exactly 0 or 1
        e = np.exp(-np.abs(z))  # in [0, 1]
        return np.where(np.asarray(z) >= 0, 1 / (1 + e), e / (1 + e))


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The lecture's recipe: one sigmoid unit trained on the binary cross-entropy by full-batch
    gradient descent with Nesterov momentum. Returns a Keras model whose output is p(y=1|x), (n, 1).

    On standardised features it reaches the maximum-likelihood solution (the one scikit-learn's
    unregularised `LogisticRegression` finds) in 100 epochs.
    """
    x, y = binary_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=100)
    set_seed(seed)
    # The loss is L-smooth with L = λmax(x̃ᵀx̃ / n) / 4, x̃ = [x, 1]; a step of 1/L never overshoots.
    x_with_ones = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)])  # (n, d + 1)
    smoothness = np.linalg.eigvalsh(x_with_ones.T @ x_with_ones / len(x)).max() / 4
    with scope(strategy):
        model = keras.Sequential([
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(1, activation="sigmoid", dtype="float32"),
        ])
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=float(1 / smoothness), momentum=0.9, nesterov=True),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
    model.fit(x, y, batch_size=len(x), epochs=epochs, callbacks=callbacks, verbose=0)
    return model


def blobs_split(run):
    """Two overlapping Gaussian blobs, standardised, split 70/30 into train and test."""
    x, y = data.blobs(n_samples=100 if run.fast else 400, noise=2.0, seed=run.seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=run.seed)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


@lecture.step("Regression vs classification")
def regression_vs_classification(run):
    """Regression predicts a continuous target (an exam score); classification a binary one
    (pass or fail). A straight line fits the first, but on 0/1 targets it predicts values below 0
    and above 1 that are no probabilities: we need a function that squashes any number into (0, 1).
    """
    rng = np.random.default_rng(run.seed)
    hours = rng.uniform(0, 10, size=60)
    score = 40 + 5 * hours + rng.normal(0, 6, size=60)  # continuous target
    passed = (score + rng.normal(0, 8, size=60) > 65).astype(float)  # binary target

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4))
    grid = np.linspace(0, 10, 200)
    left.scatter(hours, score, s=15)
    left.plot(grid, np.polyval(np.polyfit(hours, score, 1), grid), color="C1", label="least squares")
    left.set(title="Regression: exam score", xlabel="hours studied", ylabel="score")
    left.legend()
    line = np.polyval(np.polyfit(hours, passed, 1), grid)
    right.scatter(hours, passed, s=15)
    right.plot(grid, line, color="C1", label="least squares line")
    right.axhspan(-0.5, 0, color="C3", alpha=0.1)
    right.axhspan(1, 1.5, color="C3", alpha=0.1, label="not a probability")
    right.set(title="Classification: passed?", xlabel="hours studied", ylabel="pass (1) / fail (0)",
              ylim=(-0.5, 1.5))
    right.legend(loc="upper left")
    run.report("share of the line's predictions outside [0, 1]", float(np.mean((line < 0) | (line > 1))))
    run.figure(fig, "regression_vs_classification",
               "A line fits a continuous target, but on 0/1 targets it leaves [0, 1].")


@lecture.step("The logistic function and log-odds")
def logistic_function(run):
    """The logistic (sigmoid) function σ(z) = 1 / (1 + e^-z) squashes the score z = wᵀx + b into a
    probability p(y=1|x). Its inverse is the log-odds: z = log(p / (1 - p)), so a linear model of
    the log-odds is a model of probabilities. σ(0) = 1/2 is the decision threshold, and
    σ(-z) = 1 - σ(z).
    """
    z = np.linspace(-8, 8, 401)
    p = np.linspace(0.001, 0.999, 401)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4))
    left.plot(z, sigmoid(z))
    left.axhline(0.5, color="gray", linestyle=":")
    left.axvline(0, color="gray", linestyle=":")
    left.set(title="σ(z) = 1 / (1 + e^-z)", xlabel="score z = wᵀx + b", ylabel="p(y = 1 | x)")
    right.plot(p, np.log(p / (1 - p)), color="C1")
    right.axhline(0, color="gray", linestyle=":")
    right.set(title="log-odds: the inverse of σ", xlabel="probability p", ylabel="log(p / (1 - p))")
    run.report("σ(0)", float(sigmoid(0.0)))
    run.report("σ(2) + σ(-2)", float(sigmoid(2.0) + sigmoid(-2.0)))
    run.report("log-odds of σ(1.5)", float(np.log(sigmoid(1.5) / (1 - sigmoid(1.5)))))
    run.figure(fig, "logistic_function", "The sigmoid maps a score to a probability; "
               "its inverse is the log-odds.")


@lecture.step("Binary cross-entropy, and why not squared error")
def cross_entropy_vs_squared_error(run):
    """The binary cross-entropy L = -mean(y log p + (1 - y) log(1 - p)) is the negative
    log-likelihood of the labels. With a sigmoid it is convex in the weights: one valley, no
    plateaus. Squared error on the same sigmoid is not convex and goes flat for confident mistakes,
    where its gradient vanishes. On a 1-D problem (p = σ(w·x)) we draw both losses against w.
    """
    rng = np.random.default_rng(run.seed)
    x = np.concatenate([rng.normal(-1, 1, 100), rng.normal(1, 1, 100)])
    y = np.concatenate([np.zeros(100), np.ones(100)])
    w = np.linspace(-10, 10, 401)
    z = np.outer(w, x)  # (len(w), n)
    # -log σ(z) = log(1 + e^-z) = logaddexp(0, -z): exact even where σ(z) rounds to 0 or 1
    cross_entropy = np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z), axis=1)
    squared_error = np.mean((sigmoid(z) - y) ** 2, axis=1)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4))
    left.plot(w, cross_entropy)
    left.set(title="binary cross-entropy", xlabel="weight w", ylabel="loss")
    right.plot(w, squared_error, color="C1")
    right.set(title="squared error", xlabel="weight w", ylabel="loss")
    # a negative second difference means the curve bends down there: not convex
    run.expect("share of w where cross-entropy curves down",
               np.mean(np.diff(cross_entropy, 2) < -1e-9), at_most=0)
    run.report("share of w where squared error curves down",
               float(np.mean(np.diff(squared_error, 2) < -1e-9)))
    run.figure(fig, "cross_entropy_vs_squared_error",
               "Cross-entropy is convex in w; squared error on a sigmoid has plateaus.")


@lecture.step("Gradient descent by hand")
def gradient_descent_by_hand(run):
    """For the cross-entropy of a sigmoid unit the gradient is simple: ∇w L = xᵀ(p - y) / n and
    ∂L/∂b = mean(p - y). Gradient descent repeats w ← w - α ∇w L, b ← b - α ∂L/∂b. Here in NumPy,
    on two standardised blobs, starting from zero; the loss falls towards the maximum-likelihood
    solution that scikit-learn finds.
    """
    x_train, x_test, y_train, y_test = blobs_split(run)
    learning_rate, steps = 1.0, 20 if run.fast else 100
    w, b = np.zeros(2), 0.0
    losses = []
    for _ in range(steps):
        p = sigmoid(x_train @ w + b)  # (n,)
        losses.append(log_loss(y_train, p))
        w = w - learning_rate * x_train.T @ (p - y_train) / len(x_train)
        b = b - learning_rate * np.mean(p - y_train)
    reference = LogisticRegression(C=np.inf).fit(x_train, y_train)
    best = log_loss(y_train, reference.predict_proba(x_train)[:, 1])

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.5))
    ax.axhline(best, color="C1", linestyle="--", label="scikit-learn's maximum likelihood")
    ax.plot(np.arange(1, steps + 1), losses, color="C0", label="gradient descent (NumPy)")  # drawn on top
    ax.set(title="Gradient descent on the cross-entropy", xlabel="step", ylabel="training loss")
    ax.legend()
    run.report("weights w after gradient descent", np.round(w, 3))
    run.report("weights w of scikit-learn", np.round(reference.coef_[0], 3))
    run.report(f"training loss after {steps} steps", losses[-1])
    run.report("scikit-learn's training loss", best)
    run.figure(fig, "gradient_descent", "Hand-written gradient descent approaches the "
               "maximum-likelihood loss.")


@lecture.step("The same model in Keras")
def same_model_in_keras(run):
    """In Keras the model is one `Dense(1, activation="sigmoid")` layer, the loss is
    "binary_crossentropy" and the optimizer is `SGD`. With the whole training set as one batch and
    zero initial weights, Keras performs exactly the updates of the previous step: the weights agree
    with the NumPy ones.
    """
    x_train, x_test, y_train, y_test = blobs_split(run)
    learning_rate, epochs = 1.0, 20 if run.fast else 100
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=len(x_train), epochs=epochs, verbose=0,
                        validation_data=(x_test, y_test), callbacks=run.callbacks("keras_sgd"))

    w, b = np.zeros(2), 0.0  # the NumPy updates of the previous step, for comparison
    for _ in range(epochs):
        p = sigmoid(x_train @ w + b)
        w, b = (w - learning_rate * x_train.T @ (p - y_train) / len(x_train),
                b - learning_rate * np.mean(p - y_train))
    kernel, bias = model.layers[0].get_weights()
    run.report("Keras weights", np.round(kernel[:, 0], 4))
    run.report("NumPy weights", np.round(w, 4))
    run.expect("largest difference between Keras and NumPy parameters",
               float(np.max(np.abs(np.append(kernel[:, 0] - w, bias[0] - b)))), at_most=1e-3)
    run.figure(training_curves(history, title="Keras: Dense(1, sigmoid) trained with SGD", held_out="test"),
               "keras_training_curves", "Loss and accuracy of the Keras model, train vs test.")


@lecture.step("A linear decision boundary")
def linear_decision_boundary(run):
    """The model predicts class 1 where p ≥ 1/2, that is where wᵀx + b ≥ 0: the boundary is a
    line (a hyperplane in more dimensions). The lecture's `train` recipe adds Nesterov momentum to
    gradient descent and reaches the maximum-likelihood solution; we compare its training loss with
    scikit-learn's and draw the boundary.
    """
    x_train, x_test, y_train, y_test = blobs_split(run)
    model = train(x_train, y_train, epochs=20 if run.fast else None, seed=run.seed,
                  strategy=run.strategy)
    loss = log_loss(y_train, model.predict(x_train, verbose=0)[:, 0])
    reference = LogisticRegression(C=np.inf).fit(x_train, y_train)
    best = log_loss(y_train, reference.predict_proba(x_train)[:, 1])
    accuracy = accuracy_score(y_test, model.predict(x_test, verbose=0)[:, 0] >= 0.5)
    run.report("training log-loss (Keras)", loss)
    run.report("training log-loss (scikit-learn)", best)
    run.expect("log-loss ratio Keras / scikit-learn", loss / best, at_most=1.01)
    run.expect("test accuracy", accuracy, at_least=0.85)
    run.figure(decision_boundary(model, x_test, y_test, title="Logistic regression on test blobs"),
               "linear_decision_boundary", "The boundary p = 0.5 is a straight line.")


@lecture.step("Where a line is not enough")
def where_a_line_is_not_enough(run):
    """Moons and XOR are not linearly separable. The same recipe does as well as a line can, which
    on XOR is barely better than a coin flip: to bend the boundary we need new features or more
    neurons. That is the next lecture.
    """
    n_samples = 100 if run.fast else 400
    problems = {
        "moons": data.moons(n_samples=n_samples, noise=0.2, seed=run.seed),
        "XOR": data.gate_clouds("xor", n_samples=n_samples, noise=0.15, seed=run.seed),
    }
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4))
    for ax, (name, (x, y)) in zip(axes, problems.items()):
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.3, stratify=y, random_state=run.seed)
        scaler = StandardScaler().fit(x_train)
        model = train(scaler.transform(x_train), y_train, epochs=20 if run.fast else None,
                      seed=run.seed, strategy=run.strategy)
        probability = model.predict(scaler.transform(x_test), verbose=0)[:, 0]
        accuracy = accuracy_score(y_test, probability >= 0.5)
        if name == "XOR":
            run.expect("test accuracy of a line on XOR", accuracy, at_most=0.75)
        else:
            run.report(f"test accuracy of a line on {name}", accuracy)
        decision_boundary(model, scaler.transform(x_test), y_test, ax=ax,
                          title=f"{name}: accuracy {accuracy:.2f}")
    run.figure(fig, "where_a_line_is_not_enough",
               "A line cannot separate moons or XOR: the motivation for non-linear models.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "logistic_regression", *sys.argv[1:]]))
