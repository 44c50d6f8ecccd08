"""Draft of the frontiers lecture's step 7: generalisation, how long random labels take (not committed).

Run: python drafts/frontiers_generalization.py [--fast]
"""

import sys

import keras
import matplotlib.pyplot as plt
import numpy as np

from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH
from companion.seeding import set_seed
from lectures.training_tricks import accuracy, deep_mlp, digits_split

lecture = Lecture("frontiers_draft_generalization", "Generalisation (draft)",
                  expected="random labels fitted, later", seconds=40)

FIT = 0.99  # training accuracy that counts as "fitted"


def corrupt_labels(y, share, rng, num_classes=10):
    """`y` with a random `share` of its labels replaced by uniformly drawn classes (Zhang et al.)."""
    y = y.copy()
    chosen = rng.random(len(y)) < share
    y[chosen] = rng.integers(0, num_classes, chosen.sum())
    return y


def epochs_to_fit(history, level=FIT):
    """The first epoch (1-based) whose training accuracy reached `level`, or None."""
    reached = np.flatnonzero(np.asarray(history["accuracy"]) >= level)
    return int(reached[0]) + 1 if len(reached) else None


@lecture.step("Generalisation: fitting noise takes longer")
def generalization(run):
    """The `training_tricks` lecture (its last step) showed Zhang et al.'s (2017) observation: the
    same network fits real labels and randomly shuffled ones to near-zero training error, and only
    the real ones generalise. Here we measure the other half of their finding with the same network
    (`training_tricks.deep_mlp`, two layers of 512 ReLU units) and split: with half or all of the
    labels replaced by random ones, the network takes several times as many epochs to fit them, and
    its test accuracy falls with the share of random labels. Real labels share structure that one gradient step improves for many examples at once;
    random labels must be memorised one example at a time. Capacity does not explain
    generalisation: what the data and the optimiser make easy does.
    """
    x_train, x_test, y_train, y_test = digits_split(run, n_samples=300 if run.fast else 900)
    epochs = 6 if run.fast else 40
    shares = (0.0, 0.5, 1.0)
    rng = np.random.default_rng(run.seed)
    histories, test_accuracy, fitted_at = {}, {}, {}
    for share in shares:
        labels = corrupt_labels(y_train, share, rng)
        set_seed(run.seed)
        model = deep_mlp("relu", depth=2, hidden_units=512)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[share] = model.fit(x_train, labels, batch_size=32, epochs=epochs, verbose=0,
                                     callbacks=run.callbacks(f"labels_{share:g}")).history
        test_accuracy[share] = accuracy(model, x_test, y_test)
        fitted_at[share] = epochs_to_fit(histories[share])
        run.report(f"{share:.0%} random labels: epochs to {FIT:.0%} training accuracy, test accuracy",
                   f"{fitted_at[share]}, {test_accuracy[share]:.3f}")

    slowdown = (fitted_at[1.0] or epochs + 1) / (fitted_at[0.0] or epochs + 1)
    run.expect("epochs to fit random labels / real labels", slowdown, at_least=3)
    run.expect("test accuracy, 100% random labels", test_accuracy[1.0], at_most=0.2)
    run.expect("test accuracy, real labels", test_accuracy[0.0], at_least=0.9)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    for color, share in zip(COLORS, shares):
        left.plot(np.arange(1, epochs + 1), histories[share]["accuracy"], color=color,
                  label=f"{share:.0%} random")
        if fitted_at[share]:
            left.plot(fitted_at[share], histories[share]["accuracy"][fitted_at[share] - 1], "o", color=color)
    left.axhline(FIT, color="gray", linestyle=":")
    left.set(title="training accuracy (dots: fitted)", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    left.legend(title="labels", loc="lower right")
    positions = np.arange(len(shares))
    right.bar(positions, [test_accuracy[s] for s in shares], color=COLORS[:len(shares)])
    right.axhline(0.1, color="gray", linestyle=":", label="chance")
    right.set(xticks=positions, xticklabels=[f"{s:.0%} random" for s in shares], ylim=(0, 1),
              ylabel="test accuracy (real labels)", title="test accuracy after training")
    right.legend()
    run.figure(fig, "fitting_noise", "The same network fits real, half-random and random labels: real "
               "ones in a few epochs, the others in several times as many; test accuracy falls with the "
               "share of random labels.")


if __name__ == "__main__":
    lecture.run(fast="--fast" in sys.argv, out="/tmp/frontiers_figs")
