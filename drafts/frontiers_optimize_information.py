"""Draft of the frontiers lecture's steps 4 and 8 (not committed): learning to optimize, information plane.

Run: python drafts/frontiers_optimize_information.py [--fast] [--seed N] [--step N]
"""

import itertools
import sys

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from matplotlib.colors import SymLogNorm

from companion import autodiff, datasets
from companion.activations import ActivationRecorder
from companion.checkpoints import completed_epochs
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH
from companion.seeding import set_seed

lecture = Lecture(
    "frontiers_draft_optimize_information",
    "Learning to optimize; the information plane (draft)",
    expected="a learned step size and momentum that beat the best constant learning rate on held-out "
    "quadratics; information-plane estimates within their bounds; with tanh, the last hidden layer's "
    "I(X;T) falling by several bits while its I(T;Y) nears H(Y); with ReLU and fixed bins, no such fall",
    seconds=60,
)


# ---------------------------------------------------------------------------------------------------
# Learning to optimize

DIMENSION = 20  # of θ
CURVATURES = (0.1, 10.0)  # the range of A's eigenvalues (log-uniform): condition numbers up to 100
UNROLLED_STEPS = 30  # of the optimizer, differentiated through
TRAINING_PROBLEMS = 256


def quadratics(rng, count, dimension=DIMENSION):
    """`count` random problems L(θ) = ½(θ − c)ᵀA(θ − c): A (count, d, d) with eigenvalues drawn
    log-uniformly in CURVATURES and random eigenvectors, c (count, d) standard normal."""
    q, _ = np.linalg.qr(rng.standard_normal((count, dimension, dimension)))  # random rotations
    eigenvalues = np.exp(rng.uniform(*np.log(CURVATURES), (count, dimension)))
    a = np.einsum("pij,pj,pkj->pik", q, eigenvalues, q)  # Q diag(λ) Qᵀ
    c = rng.standard_normal((count, dimension))
    return a.astype("float32"), c.astype("float32")


def unroll(step_size, momentum, a, c, steps=UNROLLED_STEPS):
    """The losses L(θ_0), ..., L(θ_steps) of the update θ ← θ − α∇L(θ) + β(θ − θ_previous) from θ_0 = 0,
    on each problem: (steps + 1, ..., problems). α and β may be arrays (..., 1, 1): a grid of optimizers."""
    theta = ops.zeros_like(c) * ops.ones_like(step_size * momentum)  # (..., problems, d)
    previous = theta
    losses = []
    for _ in range(steps + 1):
        residual = theta - c
        gradient = ops.matmul(a, residual[..., None])[..., 0]  # ∇L = A(θ − c)
        losses.append(0.5 * ops.sum(residual * gradient, axis=-1))
        theta, previous = theta - step_size * gradient + momentum * (theta - previous), theta
    return ops.stack(losses)


def meta_loss(step_size, momentum, a, c):
    """What the optimizer is trained to make small: log(L(θ_t) / L(θ_0)) averaged over the steps and
    problems (on a log scale, so that each problem and each step counts alike); one per optimizer."""
    losses = unroll(step_size, momentum, a, c)  # (steps + 1, ..., problems)
    return ops.mean(ops.log(losses[1:] / losses[:1]), axis=(0, -1))


@lecture.step("Learning to optimize")
def learning_to_optimize(run):
    """An optimizer is a function too: θ_{t+1} = θ_t + f(θ_t, ∇L(θ_t)). Gradient descent with momentum
    (the heavy ball) is f = −α∇L + β(θ_t − θ_{t−1}), with a step size α and a momentum β that we usually
    tune by hand. Written as code, 30 steps of optimisation are one differentiable function of α and
    β, so autodiff gives the gradient of how well they went with respect to α and β, and gradient
    descent on α and β learns the optimizer: meta-learning, the idea behind learned optimizers that
    replace f by a small network with many more parameters.

    We learn α and β on a family of problems, random quadratics L(θ) = ½(θ − c)ᵀA(θ − c) in 20
    dimensions whose curvatures (A's eigenvalues) range from 0.1 to 10, by differentiating through the
    unrolled optimisation of 32 of them at a time (Adam on log α and logit β, 50 meta-steps). The
    meta-loss is log(L(θ_t)/L(θ_0)) averaged over the 30 steps and the problems. The opponent is
    hand-tuned SGD: the constant learning rate (β = 0) that a grid search finds best on the same
    training problems, about 0.19 here. Meta-training walks into the valley of the meta-loss (about
    α = 0.28, β = 0.6), next to the heavy ball's theoretical values for these curvatures
    (α = 4/(√λmax + √λmin)² = 0.33, β = ((√κ − 1)/(√κ + 1))² = 0.67), and the learned update ends
    30 steps on a held-out problem of the family with a loss a few hundred times smaller than SGD's;
    it goes on converging past the 30 steps it was trained on. A grid over (α, β) takes 750 runs to
    find the valley that 50 meta-gradient steps reach; the gradient scales to the many parameters of
    a learned optimizer, a grid does not.
    """
    rng = np.random.default_rng(run.seed)
    a_train, c_train = quadratics(rng, 32 if run.fast else TRAINING_PROBLEMS)
    a_test, c_test = quadratics(rng, 100)  # held out: the first is drawn, all 100 are measured

    # Hand-tuned SGD: the best constant learning rate on the training problems (β = 0)
    rates = np.geomspace(0.01, 0.4, 12 if run.fast else 40).astype("float32")
    sgd_scores = ops.convert_to_numpy(
        meta_loss(rates[:, None, None], np.float32(0), a_train, c_train))  # (rates,)
    sgd_scores = np.where(np.isfinite(sgd_scores), sgd_scores, np.inf)  # diverged
    sgd_rate = float(rates[np.argmin(sgd_scores)])

    # Learned: gradient descent on (log α, logit β) through the unrolled optimisation
    log_step, logit_momentum = keras.Variable(np.log(0.03)), keras.Variable(-2.0)  # α = 0.03, β = 0.12
    meta_optimizer = keras.optimizers.Adam(0.1)
    path = []  # (α, β) after each meta-step
    for _ in range(8 if run.fast else 50):
        batch = rng.choice(len(a_train), 32, replace=False)
        gradients = autodiff.gradients(  # of the meta-loss with respect to log α and logit β
            lambda u, v, a=a_train[batch], c=c_train[batch]: meta_loss(ops.exp(u), ops.sigmoid(v), a, c),
            np.float32(log_step.numpy()), np.float32(logit_momentum.numpy()))
        meta_optimizer.apply_gradients(zip(gradients, [log_step, logit_momentum]))
        path.append((float(np.exp(log_step.numpy())), float(1 / (1 + np.exp(-logit_momentum.numpy())))))
    step_size, momentum = path[-1]
    run.report(f"learned α, β ({len(path)} meta-steps with {autodiff.name()})",
               f"{step_size:.3f}, {momentum:.3f}")
    low, high = np.sqrt(CURVATURES)
    polyak = (4 / (low + high) ** 2, ((high - low) / (high + low)) ** 2)
    run.report("Polyak's heavy ball for curvatures 0.1-10: α, β", f"{polyak[0]:.3f}, {polyak[1]:.3f}")
    run.report("hand-tuned SGD: best constant learning rate", sgd_rate)

    # the meta-loss over a grid of (α, β) on 64 of the training problems: the picture, and a 2-D grid search
    a_grid, c_grid = a_train[:64], c_train[:64]
    grid_steps = np.geomspace(0.01, 0.7, 12 if run.fast else 30).astype("float32")
    grid_momenta = np.linspace(0, 0.95, 10 if run.fast else 25).astype("float32")
    landscape = ops.convert_to_numpy(meta_loss(grid_steps[:, None, None], grid_momenta[:, None, None, None],
                                               a_grid, c_grid))  # (momenta, steps)
    best_of_grid = np.nanmin(np.where(np.isfinite(landscape), landscape, np.nan))
    learned_score, sgd_score = (float(meta_loss(np.float32(alpha), np.float32(beta), a_grid, c_grid))
                                for alpha, beta in ((step_size, momentum), (sgd_rate, 0.0)))
    run.report("meta-loss on 64 training problems: hand-tuned SGD, learned, best of the (α, β) grid",
               f"{sgd_score:.2f}, {learned_score:.2f}, {best_of_grid:.2f}")
    run.expect(f"meta-loss: learned minus the best of a {len(grid_steps)}×{len(grid_momenta)} (α, β) grid",
               learned_score - best_of_grid, at_most=0.5)

    horizon = 2 * UNROLLED_STEPS  # the held-out run goes on past the 30 steps it was trained for
    optimizers = {"hand-tuned SGD": (sgd_rate, 0.0), "learned": (step_size, momentum),
                  "start of meta-training": path[0]}
    curves = {name: ops.convert_to_numpy(unroll(np.float32(alpha), np.float32(beta), a_test, c_test, horizon))
              for name, (alpha, beta) in optimizers.items()}  # (steps + 1, 100) each
    for name in ("hand-tuned SGD", "learned"):
        run.report(f"held-out problem, L(θ_{UNROLLED_STEPS}) with {name}", curves[name][UNROLLED_STEPS, 0])
    ratio = curves["learned"][UNROLLED_STEPS] / curves["hand-tuned SGD"][UNROLLED_STEPS]  # (100,)
    run.expect(f"100 held-out problems: largest L(θ_{UNROLLED_STEPS}) learned / SGD", ratio.max(),
               at_most=0.1)
    run.report(f"100 held-out problems: median L(θ_{UNROLLED_STEPS}) learned / SGD", np.median(ratio))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.8), layout="constrained")
    levels = np.arange(np.floor(best_of_grid), 0.25, 0.5)  # above 0: worse than not moving at all
    shown = np.where(np.isfinite(landscape), np.minimum(landscape, 1.0), 1.0)  # diverged: inf or nan
    shade = left.contourf(grid_steps, grid_momenta, shown, levels=levels, cmap="viridis_r", extend="max")
    fig.colorbar(shade, ax=left, label="meta-loss: mean log(L_t / L_0)", ticks=levels[::2])
    left.text(0.5, 0.3, "diverges", rotation=90, ha="center", va="center", color="white", fontsize=11)
    alphas, betas = np.array([path[0], *path]).T
    left.plot(alphas, betas, color="white", marker=".", markersize=4, linewidth=1.2, label="meta-training")
    left.plot(alphas[-1], betas[-1], "o", color=COLORS[3], markersize=9, markeredgecolor="white",
              label="learned")
    left.plot(*polyak, "*", color=COLORS[1], markersize=14, markeredgecolor="black",
              label="Polyak (theory)")
    left.plot(sgd_rate, 0, "s", color=COLORS[5], markersize=9, markeredgecolor="black", clip_on=False,
              label="hand-tuned SGD (β = 0)")
    left.set(xscale="log", xlabel="step size α", ylabel="momentum β", title="Meta-loss over (α, β)")
    left.legend(loc="upper left", fontsize=10, framealpha=0.85)
    steps = np.arange(horizon + 1)
    for (name, losses), color in zip(curves.items(), (COLORS[5], COLORS[3], "0.5")):
        right.plot(steps, losses[:, 0], color=color, linewidth=2, label=name)
    right.axvline(UNROLLED_STEPS, color="black", linestyle=":", linewidth=1)
    right.text(UNROLLED_STEPS + 1, 0.5, "meta-trained\nhorizon", transform=right.get_xaxis_transform(),
               fontsize=10)
    right.set(yscale="log", xlabel="step t", ylabel="L(θ_t)", title="A held-out quadratic")
    right.legend(loc="lower left", fontsize=10)
    run.figure(fig, "learning_to_optimize",
               "Left: the meta-loss of momentum gradient descent over step size and momentum on training "
               "quadratics, with the path of meta-training, the hand-tuned SGD rate and Polyak's values. "
               "Right: the loss on a held-out quadratic with the learned update, hand-tuned SGD and the "
               "start of meta-training (log scale).")


# ---------------------------------------------------------------------------------------------------
# The information bottleneck

BITS = 12  # inputs: every pattern of 12 bits, 4096 of them
WIDTHS = (10, 7, 5, 4, 3)  # hidden layers, as in Shwartz-Ziv & Tishby (2017)
INFORMATION_BINS = 30  # per unit, as in that paper
INFORMATION_EPOCHS = 150
LAYER_MARKERS = ("o", "s", "^", "D", "v")


def twelve_bit_task():
    """Every 12-bit pattern x (4096, 12) and its label y (4096,): the bits sit on the 12 vertices v_i of
    an icosahedron, and y = 1 when their vector sum is long, |Σ x_i v_i|² > 2.5 (half of them, to 0.6%):
    a rule that rotations of the icosahedron leave alone, like Shwartz-Ziv & Tishby's task."""
    golden = (1 + 5 ** 0.5) / 2
    vertices = np.array([p for s in (-1, 1) for t in (-1, 1)
                         for p in ((0, s, t * golden), (s, t * golden, 0), (t * golden, 0, s))])  # (12, 3)
    vertices /= np.linalg.norm(vertices, axis=1, keepdims=True)
    x = np.array(list(itertools.product((0, 1), repeat=BITS)), dtype="float32")  # (4096, 12)
    y = (np.sum((x @ vertices) ** 2, axis=1) > 2.5).astype("float32")  # (4096,)
    return x, y


def entropy_bits(codes):
    """The entropy in bits of the empirical distribution of the rows of `codes` (n, k)."""
    _, counts = np.unique(codes, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p))) + 0.0  # + 0.0: no −0.0 for one pattern


def binned_information(t, y, low, high, bins=INFORMATION_BINS):
    """(I(X;T), I(T;Y)) in bits for a layer's activations t (n, units) on all n equally likely inputs,
    each unit cut into `bins` equal bins between low and high: T is then a function of X, so
    I(X;T) = H(T), and I(T;Y) = H(T) − H(T|Y)."""
    codes = np.digitize(t, np.linspace(low, high, bins + 1)[1:-1])  # (n, units): each unit's bin
    h_t = entropy_bits(codes)
    h_t_given_y = sum(np.mean(y == label) * entropy_bits(codes[y == label]) for label in np.unique(y))
    return h_t, h_t - h_t_given_y


def information_plane(activations, y, ranges):
    """{epoch: (layers, 2) array of (I(X;T), I(T;Y))} from an ActivationRecorder's activations;
    `ranges(epoch, layer)` gives the (low, high) that the layer's bins span at that epoch."""
    plane = {}
    for epoch, layers in sorted(activations.items()):
        plane[epoch] = np.array([binned_information(flat.reshape(len(y), -1), y, *ranges(epoch, layer))
                                 for layer, flat in layers.items()])  # the recorder keeps flat arrays
    return plane


def train_recorded(run, x, y, activation, epochs):
    """A 12-10-7-5-4-3-1 network with `activation` trained on (x, y) with Adam, while an
    ActivationRecorder keeps its hidden layers' activations on all 4096 patterns at log-spaced epochs."""
    patterns, _ = twelve_bit_task()
    set_seed(run.seed)
    model = keras.Sequential([keras.Input(shape=(BITS,))]
                             + [keras.layers.Dense(width, activation=activation) for width in WIDTHS]
                             + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=16)
    recorded = {0, *np.unique(np.geomspace(1, epochs, 8 if run.fast else 30).astype(int)).tolist()}
    recorder = ActivationRecorder(patterns, sorted(recorded))
    callbacks = run.callbacks(f"information plane {activation}", keep=[recorder])
    batches = datasets.pipeline(x, y, batch_size=256, seed=run.seed, first_epoch=completed_epochs(callbacks))
    history = model.fit(batches, epochs=epochs, verbose=0, callbacks=[recorder, *callbacks])
    return model, recorder, history


@lecture.step("The information plane")
def the_information_plane(run):
    """The information bottleneck view of deep learning (Tishby; Shwartz-Ziv & Tishby 2017) describes
    each hidden layer T by two numbers: how much it keeps about the input, I(X;T), and about the label,
    I(T;Y). A good representation keeps what predicts Y and forgets the rest. Its best-known claim is
    about training: a short fitting phase in which both grow, then a long compression phase in which
    I(X;T) falls while I(T;Y) stays, which would be how networks generalise.

    We repeat the measurement on that paper's kind of task (every 12-bit pattern, a label that is a
    symmetric rule of the bits) with its 12-10-7-5-4-3 network, trained with Adam on 85% of the
    patterns and recorded at log-spaced epochs. A deterministic network keeps all of X: a layer whose
    outputs differ for the 4096 inputs has I(X;T) = 12 bits. Cutting each unit into 30 bins is what
    makes the estimate smaller, so it depends on the bins. With tanh and fixed bins over [−1, 1], the
    last layer's I(X;T) rises for about ten epochs, then falls from about 9-10 bits to about 3 while
    I(T;Y) climbs to H(Y) = 1 bit: its three units saturate as the weights grow (most of their outputs
    end in the outermost bins), and three saturated units hold about 3 bits. The fall begins while the
    network is still fitting and goes on after. ReLU has no fixed range: with bins fixed over
    [0, the layer's largest output in training] its I(X;T) does not fall (as Saxe et al. 2018 found),
    with bins over each epoch's own range it falls by 1-3 bits, from the first epochs on. The
    compression phase is a property of tanh and of the estimator, not of learning in general; the
    claim is disputed, and the three panels are what this run measures. (A layer of three ReLU units
    can also die: for some seeds the ReLU network does not learn the task at all.)
    """
    x, y = twelve_bit_task()
    rng = np.random.default_rng(run.seed)
    train = rng.permutation(len(x))[:int(0.85 * len(x))]
    test = np.setdiff1d(np.arange(len(x)), train)
    epochs = 8 if run.fast else INFORMATION_EPOCHS
    h_y = entropy_bits(y[:, None])
    run.report("H(Y), bits", h_y)
    planes, fitted = {}, {}  # fitted: the first epoch with training accuracy >= 0.99 (None: never)
    for activation in ("tanh", "relu"):
        model, recorder, history = train_recorded(run, x[train], y[train], activation, epochs)
        activations = recorder.activations  # {epoch: {layer: flat array}}
        run.report(f"{activation}: accuracy on the 15% held-out patterns",
                   model.evaluate(x[test], y[test], verbose=0)[1])
        reached = np.flatnonzero(np.array(history.history["accuracy"]) >= 0.99)
        fitted[activation] = int(reached[0]) + 1 if len(reached) else None
        run.report(f"{activation}: first epoch with training accuracy >= 0.99",
                   fitted[activation] or "not reached")
        if activation == "tanh":
            planes["tanh", "bins on [−1, 1]"] = information_plane(activations, y,
                                                                  lambda epoch, layer: (-1, 1))
            last = list(activations[max(activations)].values())[-1]
            run.report("tanh: share of the last hidden layer's outputs in its end bins (|t| > 0.93) at the "
                       "end", np.mean(np.abs(last) > 1 - 2 / INFORMATION_BINS))
        else:
            largest = {layer: max(float(a[layer].max()) for a in activations.values())
                       for layer in activations[0]}  # over the whole training
            planes["relu", "bins on [0, largest in training]"] = information_plane(
                activations, y, lambda epoch, layer, largest=largest: (0, largest[layer]))
            planes["relu", "bins on each epoch's own range"] = information_plane(
                activations, y,
                lambda epoch, layer, seen=activations: (0, max(float(seen[epoch][layer].max()), 1e-6)))

    for (activation, binning), plane in planes.items():
        name = f"{activation}, {binning}"
        values = np.stack(list(plane.values()))  # (records, layers, 2)
        outside = max(-values.min(), values[..., 0].max() - BITS, values[..., 1].max() - h_y)
        run.expect(f"{name}: farthest estimate outside 0 <= I(X;T) <= H(X), 0 <= I(T;Y) <= H(Y), bits",
                   outside, at_most=1e-9)
        last = values[:, -1, 0]  # I(X;T) of the last hidden layer over training
        recorded = np.array(list(plane))
        at_fit = last[np.argmax(recorded >= fitted[activation])] if fitted[activation] else np.nan
        run.report(f"{name}: last hidden layer's I(X;T) at its peak (epoch {recorded[last.argmax()]}), when "
                   "training accuracy reached 0.99 and at the end, bits",
                   f"{last.max():.2f}, {at_fit:.2f}, {last[-1]:.2f}")
        fall = last.max() - last[-1]
        if activation == "tanh":
            run.expect(f"{name}: last hidden layer's I(T;Y) at the end / H(Y)", values[-1, -1, 1] / h_y,
                       at_least=0.9)
            run.expect(f"{name}: fall of the last hidden layer's I(X;T) from its peak to the end, bits", fall,
                       at_least=3)
        elif binning.startswith("bins on [0"):
            run.report(f"{name}: last hidden layer's I(T;Y) at the end / H(Y)", values[-1, -1, 1] / h_y)
            run.expect(f"{name}: fall of the last hidden layer's I(X;T) from its peak to the end, bits", fall,
                       at_most=1)
        else:
            run.report(f"{name}: fall of the last hidden layer's I(X;T) from its peak to the end, bits", fall)

    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4.6), layout="constrained", sharey=True)
    norm = SymLogNorm(linthresh=1, vmin=0, vmax=epochs, base=10)
    for ax, ((activation, binning), plane) in zip(axes, planes.items()):
        points = np.stack(list(plane.values()))  # (records, layers, 2)
        for epoch, layers in plane.items():  # a faint line through the layers at each recorded epoch
            ax.plot(layers[:, 0], layers[:, 1], color=plt.cm.viridis(norm(epoch)), linewidth=0.6, alpha=0.5)
        for layer, marker in enumerate(LAYER_MARKERS):
            ax.scatter(points[:, layer, 0], points[:, layer, 1], c=list(plane), cmap="viridis", norm=norm,
                       marker=marker, s=26, edgecolors="black", linewidths=0.3, zorder=3)
        ax.axhline(h_y, color="black", linestyle=":", linewidth=1)
        ax.set(xlabel="I(X;T), bits", title=f"{'ReLU' if activation == 'relu' else activation}\n{binning}",
               xlim=(0, BITS + 0.4), ylim=(0, 1.1))
    axes[0].set_ylabel("I(T;Y), bits")
    axes[0].text(0.3, h_y + 0.015, "H(Y)", fontsize=10, va="bottom")
    handles = [axes[0].scatter([], [], marker=marker, color="0.6", edgecolors="black", linewidths=0.3,
                               label=f"T{layer} ({width} units)")
               for layer, (marker, width) in enumerate(zip(LAYER_MARKERS, WIDTHS), start=1)]
    axes[0].legend(handles=handles, loc="lower left", fontsize=9)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes, label="epoch")
    run.figure(fig, "information_plane",
               "The information plane of a 12-10-7-5-4-3 network on the 12-bit task: binned estimates for "
               "each hidden layer T1-T5 at log-spaced epochs (colour), with tanh, and with ReLU under two "
               "binnings.")


if __name__ == "__main__":
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else None
    lecture.run(fast="--fast" in sys.argv, seed=seed, step=step, out="/tmp/frontiers_figs")
