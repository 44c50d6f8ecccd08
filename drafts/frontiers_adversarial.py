"""Draft of the frontiers lecture's steps 5 and 6: adversarial examples, and uncertainty (not committed).

Run: python drafts/frontiers_adversarial.py [--fast] [--seed N] [--step N]
"""

import math
import sys

import keras
import matplotlib.pyplot as plt
import numpy as np

from companion import autodiff, data, datasets
from companion.datasets import image_split
from companion.devices import scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH
from companion.seeding import set_seed
from companion.tensors import to_numpy
from lectures import cnn

lecture = Lecture("frontiers_draft_adversarial", "Adversarial examples and uncertainty (draft)",
                  expected="FGSM breaks the CNN and adversarial training restores much of it; MC dropout and "
                  "ensembles disagree off the data, MC dropout is better calibrated", seconds=80)

# ---------------------------------------------------------------------------------------------------
# Adversarial examples

EPOCHS = 20  # the CNN of the adversarial step: cnn's recipe, 20 epochs (as accurate as 58 on the digits)
EPSILON = 0.15  # the attack's budget in the lecture's headline numbers: 2.4 of the digits' 16 ink levels
EPSILONS = np.round(np.arange(0, 0.301, 0.025), 3)  # the accuracy-against-ε curve


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The CNN the adversarial step attacks: the `cnn` lecture's recipe (`cnn.train`), for `EPOCHS`
    epochs unless told otherwise. Returns the Keras model (class probabilities)."""
    return cnn.train(x, y, epochs=EPOCHS if epochs is None else epochs, seed=seed, strategy=strategy,
                     callbacks=callbacks)


def input_gradients(model, x, y):
    """∇x of the cross-entropy of each image (n, h, w, c) with its label y (n,): how each pixel
    changes the loss, from `companion.autodiff` (the model in inference mode)."""
    def loss(images):  # the summed loss: each image's gradient is that of its own loss
        return keras.ops.sum(keras.losses.sparse_categorical_crossentropy(y, model(images, training=False)))

    return autodiff.gradients(loss, np.asarray(x, dtype="float32"))[0]


def fgsm(model, x, y, epsilon):
    """The fast gradient sign method: x + ε·sign(∇x loss), clipped to the pixel range [0, 1]."""
    return np.clip(x + epsilon * np.sign(input_gradients(model, x, y)), 0, 1).astype("float32")


def iterated_fgsm(model, x, y, epsilon, steps=10):
    """A stronger attack within the same budget: `steps` FGSM steps of ε/4, each projected back
    into the box |x' − x| <= ε and into [0, 1] (the basic iterative method, Kurakin et al. 2017)."""
    adversarial = x
    for _ in range(steps):
        adversarial = fgsm(model, adversarial, y, epsilon / 4)
        adversarial = np.clip(adversarial, x - epsilon, x + epsilon)
    return adversarial


def adversarial_train(x, y, *, epsilon, epochs=EPOCHS, seed=0, strategy=None):
    """The CNN of `train`, trained on FGSM examples against itself: at the start of every epoch
    each training image is replaced, with probability 1/2, by its FGSM version against the model
    as it is then (Goodfellow et al.'s half clean, half adversarial loss). The same network,
    optimizer, schedule and number of steps as `train`."""
    set_seed(seed)
    with scope(strategy):
        model = cnn.convolutional_network(x.shape[1:], num_classes=int(y.max()) + 1)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.002, decay_steps=epochs * math.ceil(len(x) / cnn.BATCH_SIZE))
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        attacked = rng.random(len(x)) < 0.5  # (n,): which images are adversarial this epoch
        mixed = np.where(attacked[:, None, None, None], fgsm(model, x, y, epsilon), x)
        batches = datasets.pipeline(mixed, y, batch_size=cnn.BATCH_SIZE, seed=seed, first_epoch=epoch)
        model.fit(batches, initial_epoch=epoch, epochs=epoch + 1, verbose=0)
    return model


def accuracy(model, x, y):
    """Share of the images (n, h, w, c) whose most probable class is their label."""
    return float(np.mean(cnn.predict_classes(model, x) == y))


def attacked_networks(run):
    """The standard CNN and the adversarially trained one, trained once per run on the digits:
    ({name: model}, (x_train, x_test, y_train, y_test))."""
    def make():
        split = image_split("digits", seed=run.seed, fast=run.fast)
        x_train, _, y_train, _ = split
        epochs = 2 if run.fast else EPOCHS
        standard = train(x_train, y_train, epochs=epochs, seed=run.seed, strategy=run.strategy,
                         callbacks=run.callbacks("cnn"))
        defended = adversarial_train(x_train, y_train, epsilon=EPSILON, epochs=epochs, seed=run.seed,
                                     strategy=run.strategy)
        return {"standard": standard, "adversarially trained": defended}, split

    return run.once("attacked networks", make)


def panda_gibbon_figure(model, x, y, epsilon, count=2):
    """The slides' 'panda -> gibbon' on digits: for `count` confidently right test digits that FGSM
    turns into confident mistakes, the digit, ε·sign(∇x loss), and the adversarial digit, each
    with what the model says."""
    probabilities = to_numpy(model(x, training=False))  # (n, classes)
    adversarial = fgsm(model, x, y, epsilon)
    adversarial_probabilities = to_numpy(model(adversarial, training=False))
    wrong = adversarial_probabilities.argmax(axis=1) != y
    right = probabilities.argmax(axis=1) == y
    score = np.where(wrong & right, probabilities.max(axis=1) * adversarial_probabilities.max(axis=1), -1)
    chosen = []  # the most confident before and after, of different digits
    for i in np.argsort(-score):
        if len(chosen) < count and y[i] not in y[chosen]:
            chosen.append(i)
    fig, axes = plt.subplots(count, 3, figsize=(HALF_WIDTH, 2.5 * count), layout="constrained")
    for row, i in zip(np.atleast_2d(axes), chosen):
        before, after = probabilities[i], adversarial_probabilities[i]
        row[0].imshow(x[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
        row[0].set_title(f"“{before.argmax()}”, {before.max():.0%} sure")
        row[1].imshow(adversarial[i, :, :, 0] - x[i, :, :, 0], cmap="RdBu_r", vmin=-epsilon, vmax=epsilon)
        row[1].set_title(f"+ {epsilon:g}·sign(∇x loss)")
        row[2].imshow(adversarial[i, :, :, 0], cmap="gray", vmin=0, vmax=1)
        row[2].set_title(f"= “{after.argmax()}”, {after.max():.0%} sure")
        for ax in row:
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
        row[0].set_ylabel(f"a test {y[i]}")
    return fig


@lecture.step("Adversarial examples")
def adversarial_examples(run):
    """A classifier that is right on almost every test image can be fooled by a change too small to
    notice: Szegedy et al. (2014) found such adversarial examples for every network they tried.
    Goodfellow et al. (2015) explained them by the networks' near-linearity: a change of ε in every
    pixel, each in the direction that raises the loss, moves the output by ε times the sum of the
    gradient's magnitudes, which grows with the number of pixels. Their fast gradient sign method
    (FGSM) takes one such step, x_adv = clip(x + ε·sign(∇x loss), 0, 1), with the gradient from
    autodiff. We attack the `cnn` lecture's network on the 8×8 digits and measure its test accuracy
    against ε. These digits have 64 pixels, not MNIST's 784, so the same ε moves the output less:
    at ε = 0.1 the network keeps about half of its accuracy, at ε = 0.15 (2.4 of the digits' 16 ink
    levels) about a quarter.

    The defence that works best in practice is adversarial training: train on adversarial examples
    made against the model as it trains (here, each epoch, half of the training images replaced by
    their FGSM version). We measure both networks both ways: on clean test images and under attack,
    by FGSM and by a stronger iterated FGSM (ten smaller steps within the same ε), which checks that
    the defence does more than hide the gradient from a one-step attack.
    """
    networks, (x_train, x_test, y_train, y_test) = attacked_networks(run)
    curves = {}  # {name: test accuracy under FGSM for each of EPSILONS}
    for name, model in networks.items():
        direction = np.sign(input_gradients(model, x_test, y_test))  # FGSM's step, the same for every ε
        curves[name] = [accuracy(model, np.clip(x_test + epsilon * direction, 0, 1), y_test)
                        for epsilon in EPSILONS]
    iterated = {name: accuracy(model, iterated_fgsm(model, x_test, y_test, EPSILON), y_test)
                for name, model in networks.items()}
    at = {epsilon: list(EPSILONS).index(epsilon) for epsilon in (0.1, EPSILON)}
    standard, defended = curves["standard"], curves["adversarially trained"]
    for name, curve in curves.items():
        run.report(f"{name}: test accuracy clean, FGSM ε = 0.1, FGSM ε = {EPSILON:g}, "
                   f"iterated FGSM ε = {EPSILON:g}",
                   np.round([curve[0], curve[at[0.1]], curve[at[EPSILON]], iterated[name]], 3))
    run.expect("standard CNN: clean test accuracy", standard[0], at_least=0.97)
    run.expect(f"standard CNN: test accuracy under FGSM, ε = {EPSILON:g}", standard[at[EPSILON]],
               at_most=0.35)
    run.report("standard CNN: test accuracy under FGSM, ε = 0.1", standard[at[0.1]])
    run.expect("adversarially trained - standard: clean test accuracy", defended[0] - standard[0],
               at_least=-0.02)
    run.expect(f"adversarially trained / standard: test accuracy under FGSM, ε = {EPSILON:g}",
               defended[at[EPSILON]] / standard[at[EPSILON]], at_least=2)
    run.report("adversarially trained / standard: test accuracy under FGSM, ε = 0.1",
               defended[at[0.1]] / standard[at[0.1]])
    run.expect(f"standard CNN: test accuracy under iterated FGSM, ε = {EPSILON:g}", iterated["standard"],
               at_most=0.1)
    run.expect(f"adversarially trained: test accuracy under iterated FGSM, ε = {EPSILON:g}",
               iterated["adversarially trained"], at_least=0.3)

    fig = panda_gibbon_figure(networks["standard"], x_test, y_test, EPSILON)
    run.figure(fig, "fgsm_digits", f"Two test digits the CNN classifies confidently, the FGSM perturbation "
               f"(ε = {EPSILON:g}: red adds ink, blue removes it, paler where the pixel range [0, 1] "
               "clips it) "
               "and the perturbed digits, which it "
               "classifies confidently as another digit.")

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    for color, (name, curve) in zip(COLORS, curves.items()):
        left.plot(EPSILONS, curve, "o-", color=color, label=name, ms=4)
    left.axvline(EPSILON, color="0.4", linestyle=":")
    left.set(xlabel="ε (pixels in [0, 1])", ylabel="test accuracy under FGSM", ylim=(0, 1.02),
             title="Accuracy against the attack's budget ε")
    left.legend(loc="lower left")
    groups = ["clean", f"FGSM ε = {EPSILON:g}", f"iterated FGSM ε = {EPSILON:g}"]
    for offset, color, name in zip((-0.2, 0.2), COLORS, networks):
        values = [curves[name][0], curves[name][at[EPSILON]], iterated[name]]
        bars = right.bar(np.arange(3) + offset, values, width=0.4, color=color, label=name)
        right.bar_label(bars, fmt="%.2f", fontsize=10)
    right.set(xticks=np.arange(3), xticklabels=groups, ylim=(0, 1.1), ylabel="test accuracy",
              title="Clean and under attack")
    right.legend(loc="upper right")
    run.figure(fig, "adversarial_training", "Test accuracy of the standard and the adversarially trained "
               "CNN against the FGSM budget ε (left), and clean, under FGSM and under iterated FGSM at "
               f"ε = {EPSILON:g} (right).")


# ---------------------------------------------------------------------------------------------------
# Uncertainty

MEMBERS = 5  # networks in the deep ensemble
PASSES = 100  # stochastic forward passes of MC dropout
DROPOUT = 0.3
NOISE = 0.3  # moons that overlap: some held-out points are ambiguous, so calibration has something to show
BOX = ((-3.0, 4.0), (-3.0, 3.5))  # the plane drawn and measured: the moons and a wide margin around them
ON, OFF = 0.25, 1.0  # points of the plane nearer than ON to a training point are "on the data", farther
# than OFF from every one "off the data"
DISTANCES = (0, 0.25, 0.5, 1.0, 1.5, 2.0, np.inf)  # bins of the distance to the nearest training point
EPOCHS_2D = 80
SHOWN = ("plain network", "MC dropout", f"deep ensemble of {MEMBERS}")


def moons_split(run):
    """Training moons (200, 2) and 2,000 held-out ones from the same distribution, with labels."""
    x_train, y_train = data.moons(100 if run.fast else 200, noise=NOISE, seed=run.seed)
    x_test, y_test = data.moons(500 if run.fast else 2000, noise=NOISE, seed=run.seed + 1000)
    return x_train.astype("float32"), x_test.astype("float32"), y_train, y_test


def classifier(*, dropout=0.0, members=1):
    """Small ReLU networks for the plane: 2 -> 64 -> 64 -> P(class 1), dropout after each hidden
    layer; `members` independent copies side by side in one model (outputs (n, members)), so that an
    ensemble trains in one `fit`: the loss is the sum of theirs, so each member's gradient is its own."""
    inputs = keras.Input(shape=(2,))
    outputs = []
    for _ in range(members):
        hidden = inputs
        for _ in range(2):
            hidden = keras.layers.Dense(64, activation="relu")(hidden)
            if dropout:
                hidden = keras.layers.Dropout(dropout)(hidden)
        outputs.append(keras.layers.Dense(1, activation="sigmoid")(hidden))
    return keras.Model(inputs, outputs[0] if members == 1 else keras.layers.Concatenate()(outputs))


def fit_classifier(model, x, y, *, epochs, seed):
    """Adam (0.01) on the binary cross-entropy in batches of 32, long enough to overfit a little."""
    members = model.output.shape[-1]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    targets = np.repeat(y[:, None], members, axis=1).astype("float32")  # (n, members): every member's label
    model.fit(datasets.pipeline(x, targets, batch_size=32, seed=seed), epochs=epochs, verbose=0)
    return model


def mc_dropout_samples(model, x, passes=PASSES):
    """Monte-Carlo dropout: P(class 1) from `passes` forward passes with dropout on (training=True),
    each dropping other units, (passes, n); their mean is the prediction, their variance its spread."""
    return np.stack([to_numpy(model(x, training=True))[:, 0] for _ in range(passes)])


def binary_entropy(p):
    """Entropy in bits of the prediction P(class 1) = p: 0 when sure, 1 at p = 0.5."""
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def calibration_bins(p, y, bins=10):
    """Reliability of the predictions P(class 1) = p for labels y: the predicted class's probability
    (the confidence, in [0.5, 1]) in `bins` equal bins; per bin (mean confidence, accuracy, share
    of the points), NaN where empty."""
    confidence = np.maximum(p, 1 - p)
    correct = (p > 0.5) == (y == 1)
    which = np.clip(((confidence - 0.5) * 2 * bins).astype(int), 0, bins - 1)  # (n,) bin of each point
    table = np.full((bins, 3), np.nan)
    for b in range(bins):
        inside = which == b
        if inside.any():
            table[b] = confidence[inside].mean(), correct[inside].mean(), inside.mean()
    return table


def expected_calibration_error(p, y, bins=10):
    """ECE: the share-weighted mean over the bins of |accuracy − mean confidence|."""
    table = calibration_bins(p, y, bins)
    filled = ~np.isnan(table[:, 0])
    return float(np.sum(table[filled, 2] * np.abs(table[filled, 1] - table[filled, 0])))


def sampled_predictions(run):
    """The plain network, MC dropout and the deep ensemble (and the MC-dropout network with dropout
    off), trained once per run on the moons; each as a function from points (n, 2) to its sampled
    predictions P(class 1), (samples, n): one row for a single network."""
    def make():
        x_train, _, y_train, _ = moons_split(run)
        epochs = 10 if run.fast else EPOCHS_2D
        set_seed(run.seed)
        ensemble = fit_classifier(classifier(members=MEMBERS), x_train, y_train, epochs=epochs, seed=run.seed)
        set_seed(run.seed)
        dropout = fit_classifier(classifier(dropout=DROPOUT), x_train, y_train, epochs=epochs, seed=run.seed)
        passes = 10 if run.fast else PASSES

        def single(model):
            return lambda x: to_numpy(model(x, training=False)).T[:1]  # (1, n)

        return {
            "plain network": single(ensemble),  # the ensemble's first member
            "MC dropout": lambda x: mc_dropout_samples(dropout, x, passes),
            f"deep ensemble of {MEMBERS}": lambda x: to_numpy(ensemble(x, training=False)).T,
            "dropout network, dropout off": single(dropout),
        }

    return run.once("uncertain networks", make)


def mutual_information(samples):
    """The part of the predictive entropy that comes from the samples disagreeing (epistemic):
    H(mean of the samples) − mean of their entropies, (samples, n) -> (n,); 0 for one network."""
    return binary_entropy(samples.mean(axis=0)) - binary_entropy(samples).mean(axis=0)


@lecture.step("Uncertainty: MC dropout and deep ensembles")
def uncertainty(run):
    """A network's softmax is not a measure of how much it knows: a ReLU network's output grows
    linearly away from its training data, so far from any data it is as sure as anywhere, or surer
    (Hein et al. 2019). Bayesian neural networks keep a distribution over the weights instead of
    one value and average the predictions of its samples; two cheap approximations are MC dropout
    (Gal and Ghahramani 2016: keep dropout on at prediction time and average many passes, each a
    different thinned network) and deep ensembles (Lakshminarayanan et al. 2017: train a few
    networks from different initialisations and average them). Where the data pin the function
    down, the samples agree; away from the data they disagree, and their average is less sure.

    The predictive entropy of the average mixes two things: the classes overlap (near the boundary
    even a perfect model is unsure) and the samples disagree. Their disagreement, the mutual
    information between the prediction and the weights, is the part that says "I have not seen
    this". On two overlapping moons we measure both against the distance to the nearest training
    point, and on held-out points how well calibrated each method is: of the points predicted with
    80% confidence, are 80% right? The expected calibration error (ECE) averages that gap over
    confidence bins. The plain network is the ensemble's first member.

    Off the data the plain network is as sure as on it, or surer; the samples of MC dropout and of
    the ensemble disagree more and more with the distance, although along some directions all of
    them extrapolate alike and stay sure. On held-out points MC dropout halves the plain network's
    calibration error (much of that comes from training with dropout: the same network with dropout
    off at prediction time lies in between); the ensemble, whose members agree wherever there are data, barely
    changes it.
    """
    x_train, x_test, y_train, y_test = moons_split(run)
    methods = sampled_predictions(run)
    (x_low, x_high), (y_low, y_high) = BOX
    xx, yy = np.meshgrid(np.linspace(x_low, x_high, 140), np.linspace(y_low, y_high, 130))
    plane = np.column_stack([xx.ravel(), yy.ravel()]).astype("float32")  # (130·140, 2)
    distance = np.min(np.linalg.norm(plane[:, None] - x_train[None], axis=-1), axis=1)  # (130·140,)
    ring = np.digitize(distance, DISTANCES) - 1  # (130·140,): which distance bin each point is in
    on, off = distance < ON, distance > OFF
    results = {}
    for name, predict in methods.items():
        samples = predict(plane)  # (samples, 130·140)
        entropy, disagreement = binary_entropy(samples.mean(axis=0)), mutual_information(samples)
        p_test = predict(x_test).mean(axis=0)
        results[name] = dict(
            entropy=entropy, p_test=p_test, ece=expected_calibration_error(p_test, y_test),
            accuracy=float(np.mean((p_test > 0.5) == (y_test == 1))),
            entropy_on=entropy[on].mean(), entropy_off=entropy[off].mean(),
            mi_on=disagreement[on].mean(), mi_off=disagreement[off].mean(),
            std_on=samples[:, on].std(axis=0).mean(), std_off=samples[:, off].std(axis=0).mean(),
            entropy_by_distance=[entropy[ring == k].mean() for k in range(len(DISTANCES) - 1)],
            mi_by_distance=[disagreement[ring == k].mean() for k in range(len(DISTANCES) - 1)])
        run.report(f"{name}: held-out accuracy, ECE; on / off the data: entropy, mutual information (bits), "
                   "std of P", np.round([results[name][key] for key in (
                       "accuracy", "ece", "entropy_on", "entropy_off", "mi_on", "mi_off", "std_on",
                       "std_off")], 3))
    plain, dropout, ensemble = (results[name] for name in SHOWN)
    run.expect(f"plain network: entropy off the data (> {OFF:g}) − on it (< {ON:g}), bits",
               plain["entropy_off"] - plain["entropy_on"], at_most=0)
    run.expect("MC dropout: mutual information off the data / on it", dropout["mi_off"] / dropout["mi_on"],
               at_least=2)
    run.expect("ensemble: mutual information off the data / on it", ensemble["mi_off"] / ensemble["mi_on"],
               at_least=2)
    run.expect("MC dropout − plain: entropy off the data, bits",
               dropout["entropy_off"] - plain["entropy_off"], at_least=0.04)
    run.expect("ensemble − plain: entropy off the data, bits",
               ensemble["entropy_off"] - plain["entropy_off"], at_least=0.02)
    run.expect("MC dropout ECE / plain ECE", dropout["ece"] / plain["ece"], at_most=0.75)
    run.report("ensemble ECE / plain ECE", ensemble["ece"] / plain["ece"])

    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4.2), layout="constrained", sharey=True)
    for ax, name in zip(axes, SHOWN):
        image = ax.imshow(results[name]["entropy"].reshape(xx.shape), origin="lower", cmap="viridis",
                          vmin=0, vmax=1, extent=(x_low, x_high, y_low, y_high), aspect="auto")
        ax.contour(xx, yy, distance.reshape(xx.shape), levels=[OFF], colors="white", linewidths=1,
                   linestyles="--")
        for label, marker, color in ((0, "o", COLORS[1]), (1, "s", "white")):
            chosen = y_train == label
            ax.scatter(*x_train[chosen].T, s=10, marker=marker, facecolor=color, edgecolor="black",
                       linewidth=0.4, label=f"class {label}")
        ax.set(title=name, xlabel="x₁")
        ax.grid(False)
    axes[0].set_ylabel("x₂")
    axes[0].legend(loc="lower right", fontsize=9, frameon=True, framealpha=0.9)
    fig.colorbar(image, ax=axes, label="predictive entropy (bits)", shrink=0.9)
    fig.suptitle(f"Predictive entropy over the plane (dashed: {OFF:g} from the nearest training point)")
    run.figure(fig, "uncertainty_maps", "Predictive entropy over the plane of a plain network, MC dropout "
               f"({PASSES} passes) and an ensemble of {MEMBERS}, with the training points; outside the "
               f"dashed line every point is more than {OFF:g} from the nearest training point.")

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    middles = (np.array(DISTANCES[:-1]) + np.minimum(DISTANCES[1:], 3)) / 2
    for color, marker, name in zip(COLORS, "osD", SHOWN):
        left.plot(middles, results[name]["entropy_by_distance"], marker=marker, color=color, label=name)
        if name != "plain network":
            left.plot(middles, results[name]["mi_by_distance"], marker=marker, color=color, linestyle="--")
    left.plot([], [], color="0.3", label="entropy")  # the line styles, for the legend
    left.plot([], [], color="0.3", linestyle="--", label="mutual information")
    top = max(max(results[name]["entropy_by_distance"]) for name in SHOWN)
    left.set(xlabel="distance to the nearest training point (last: beyond 2)",
             ylabel="mean over the plane (bits)", ylim=(0, 1.5 * top), title="Away from the data")
    left.legend(loc="upper center", ncol=2, fontsize=9)
    right.plot([0.5, 1], [0.5, 1], color="0.4", linestyle=":", label="perfect calibration")
    for color, marker, name in zip(COLORS, "osD", SHOWN):
        table = calibration_bins(results[name]["p_test"], y_test)
        right.plot(table[:, 0], table[:, 1], marker=marker, color=color,
                   label=f"{name} (ECE {results[name]['ece']:.3f})")
    right.set(xlabel="confidence (mean in each bin)", ylabel="accuracy in the bin", xlim=(0.48, 1.01),
              title=f"On {len(y_test):,} held-out points")
    right.legend(loc="lower right", fontsize=9)
    run.figure(fig, "uncertainty_measured", "Left: mean predictive entropy (solid) and mutual information "
               "(dashed: the samples' disagreement) against the distance to the nearest training point. "
               "Right: reliability diagram on held-out moons, accuracy against confidence in ten bins, "
               "with each method's expected calibration error.")


if __name__ == "__main__":
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else None
    lecture.run(fast="--fast" in sys.argv, seed=seed, step=step, out="/tmp/frontiers_figs")
