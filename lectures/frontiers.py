"""Frontiers: a buffet of ideas beyond the basics, each one run and measured

Attention lets a network choose where to look: softly, by a weighted average it can differentiate,
or hard, by sampling a position, which needs gradients of an expectation. Those gradients come from
two estimators, REINFORCE and the reparameterization trick. An optimiser can itself be learned by
differentiating through training. A classifier can be fooled by a perturbation too small to see,
and trained to resist it. Dropout at test time and ensembles say how unsure a network is. A network
fits random labels, only slower. And the information plane, a disputed picture of what layers keep.
"""

import itertools
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from matplotlib.colors import SymLogNorm
from matplotlib.patches import Rectangle

from companion import autodiff, data, datasets
from companion.activations import ActivationRecorder
from companion.checkpoints import completed_epochs
from companion.datasets import image_split
from companion.devices import scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH
from companion.seeding import set_seed
from companion.tensors import to_numpy
from lectures import cnn
from lectures.autoencoders import predict
from lectures.training_tricks import accuracy, deep_mlp, digits_split

lecture = Lecture(
    "frontiers",
    "Frontiers: attention, gradient estimators, learned optimisers, adversarial examples, uncertainty",
    expected="soft attention solving a task that the same network without it cannot, hard attention "
    "learning it more slowly; unbiased gradient estimators, the reparameterised one far less noisy; a "
    "learned update beating tuned SGD on unseen problems; FGSM breaking the digits CNN and adversarial "
    "training defending it; disagreement growing away from the data; random labels fitted, slowly; "
    "tanh layers compressing in the information plane where ReLU layers with fixed bins do not",
    seconds=100,
)

EPOCHS = 20  # the CNN of the adversarial step: cnn's recipe, 20 epochs (as accurate as 58 on the digits)


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The CNN the adversarial step attacks: the `cnn` lecture's recipe (`cnn.train`), for `EPOCHS`
    epochs unless told otherwise. Returns the Keras model (class probabilities)."""
    return cnn.train(x, y, epochs=EPOCHS if epochs is None else epochs, seed=seed, strategy=strategy,
                     callbacks=callbacks)


# ---------------------------------------------------------------------------------------------------
# Attention

LENGTH = 20  # positions per sequence (shorter sequences are padded with zero tokens)
SHORTEST = 8  # the shortest sequence
CLASSES = 10  # values a token can take
FEATURES = CLASSES + 1  # a token: its value one-hot, then the marker bit
BATCH_SIZE = 64
LEARNING_RATE = 0.03  # Adam's, for every training of these two steps


# ---------------------------------------------------------------------------------------------------
# Soft attention


def marked_sequences(n, rng):
    """n sequences of SHORTEST..LENGTH tokens, zero-padded to LENGTH, one token of each marked:
    (tokens (n, LENGTH, FEATURES), labels (n,) the marked token's value, marked (n,), lengths (n,))."""
    lengths = rng.integers(SHORTEST, LENGTH + 1, n)
    values = rng.integers(0, CLASSES, (n, LENGTH))
    marked = rng.integers(0, lengths)  # one position inside each sequence
    valid = np.arange(LENGTH) < lengths[:, None]  # (n, LENGTH): False on the padding
    tokens = np.zeros((n, LENGTH, FEATURES), dtype="float32")
    tokens[..., :CLASSES] = np.eye(CLASSES, dtype="float32")[values] * valid[..., None]
    tokens[np.arange(n), marked, CLASSES] = 1.0
    return tokens, values[np.arange(n), marked], marked, lengths


def padding_mask(tokens):
    """True where a position holds a token, False on the padding (all-zero tokens): (n, T, F) -> (n, T)."""
    return ops.any(ops.not_equal(tokens, 0), axis=-1)


def soft_attention_model():
    """(model: tokens -> class logits, attention: tokens -> weights (n, T)), sharing their layers.

    A score per position from one Dense layer, softmax over the positions (padding masked out),
    the context Σ_t a_t x_t, then a linear classifier (softmax regression) that reads it."""
    tokens = keras.Input(shape=(LENGTH, FEATURES))
    scores = ops.squeeze(keras.layers.Dense(1, name="scores")(tokens), axis=-1)  # (n, T)
    weights = keras.layers.Softmax(axis=-1)(scores, mask=padding_mask(tokens))  # (n, T), rows sum to 1
    context = ops.einsum("nt,ntf->nf", weights, tokens)  # (n, F): the re-weighted tokens, summed
    logits = keras.layers.Dense(CLASSES, name="classifier")(context)  # (n, CLASSES)
    return keras.Model(tokens, logits), keras.Model(tokens, weights)


def uniform_model(hidden):
    """tokens -> class logits with every position weighted alike (a_t = 1/length: the masked average),
    read by `hidden` ReLU units and a linear layer."""
    tokens = keras.Input(shape=(LENGTH, FEATURES))
    average = keras.layers.GlobalAveragePooling1D()(tokens, mask=padding_mask(tokens))  # (n, F)
    hidden_units = keras.layers.Dense(hidden, activation="relu")(average)
    return keras.Model(tokens, keras.layers.Dense(CLASSES)(hidden_units))


def fit_classifier(run, name, model, x, y, epochs):
    """Adam on the cross-entropy of the logits, in batches of BATCH_SIZE."""
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    callbacks = run.callbacks(name)
    batches = datasets.pipeline(x, y, batch_size=BATCH_SIZE, seed=run.seed,
                                first_epoch=completed_epochs(callbacks))
    model.fit(batches, epochs=epochs, verbose=0, callbacks=callbacks)
    return model


def bag_of_values_ceiling(x):
    """The best accuracy of any model that sees only the average token: it knows how often each value
    occurs, not where the marker is, so the marked value is k with probability count_k / length and
    the best guess, the most frequent value, is right with probability max_k count_k / length."""
    counts = x[..., :CLASSES].sum(axis=1)  # (n, CLASSES)
    return float(np.mean(counts.max(axis=1) / counts.sum(axis=1)))


@lecture.step("Soft attention")
def soft_attention(run):
    """Attention lets a network decide where to look, from what it sees. Our task: a sequence of 8 to
    20 tokens, each a value 0-9 (one-hot) and a marker bit; exactly one token is marked, at a position
    that changes from sequence to sequence, and the answer is its value. Soft attention gives each
    position a score s_t (one Dense layer applied to every token), turns the scores into weights by a
    softmax over the positions, a_t = exp(s_t) / Σ_u exp(s_u) (padding positions masked out: weight 0),
    and reads the re-weighted sequence x_att = Σ_t a_t x_t, a ⊙ x summed over positions, with a linear
    classifier. Everything is differentiable, so `fit` trains the scores together with the classifier.

    Without attention every position weighs the same, a_t = 1/length: the average token, here read by
    a small hidden layer so that the model has at least as many weights. It sees how often each value
    occurs but not which token is marked, so no model reading it can beat guessing the most frequent
    value, whose accuracy we compute exactly. The trained attention puts almost all its weight on the
    marked token, though only as much as its reader needs: a 32-unit ReLU classifier, which can decode
    a blend, leaves about half of it there. (A network that transforms each token before averaging
    could gate on the marker itself: that gate, computed from each token, is what attention scores are.)
    """
    rng = np.random.default_rng(run.seed)
    n_train, n_test = (1000, 500) if run.fast else (6000, 2000)
    x_train, y_train, _, _ = marked_sequences(n_train, rng)
    x_test, y_test, marked, lengths = marked_sequences(n_test, rng)
    epochs = 2 if run.fast else 8

    set_seed(run.seed)
    with scope(run.strategy):
        soft, attention = soft_attention_model()
    size = soft.count_params()
    hidden = 1
    while uniform_model(hidden).count_params() < size:  # the smallest uniform model at least as large
        hidden += 1
    set_seed(run.seed)
    with scope(run.strategy):
        uniform = uniform_model(hidden)
    run.report("parameters: soft attention, uniform weights", f"{size}, {uniform.count_params()} "
               f"(a linear classifier; {hidden} hidden ReLU units)")
    fit_classifier(run, "soft_attention", soft, x_train, y_train, epochs)
    fit_classifier(run, "uniform_weights", uniform, x_train, y_train, epochs)

    weights = predict(attention, x_test)  # (n_test, LENGTH)
    on_marked = weights[np.arange(n_test), marked]
    run.expect("test accuracy, soft attention", accuracy(soft, x_test, y_test), at_least=0.97)
    run.expect("test accuracy, uniform weights", accuracy(uniform, x_test, y_test), at_most=0.35)
    run.report("best accuracy from the average token (most frequent value)", bag_of_values_ceiling(x_test))
    run.expect("mean attention weight on the marked token", on_marked.mean(), at_least=0.85)
    run.report("share of test sequences whose largest weight is on the marked token",
               np.mean(weights.argmax(axis=1) == marked))
    run.report("attention weight on padding, summed over the test set",
               weights[np.arange(LENGTH) >= lengths[:, None]].sum())

    shown = 6
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 4.2), layout="constrained")
    image = ax.imshow(weights[:shown], cmap="Blues", vmin=0, vmax=1, aspect="auto")
    values = x_test[:shown, :, :CLASSES].argmax(axis=-1)
    for row in range(shown):
        for t in range(LENGTH):
            if t >= lengths[row]:
                ax.text(t, row, "·", ha="center", va="center", color="0.6")
                continue
            dark = weights[row, t] > 0.5
            ax.text(t, row, values[row, t], ha="center", va="center", fontsize=12,
                    color="white" if dark else "black", fontweight="bold" if t == marked[row] else None)
        ax.add_patch(Rectangle((marked[row] - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=COLORS[3],
                               linewidth=2.5))
    predicted = predict(soft, x_test[:shown]).argmax(axis=-1)
    ax.set_yticks(range(shown), [f"answer {y}, predicted {p}" for y, p in zip(y_test[:shown], predicted)])
    ax.set_xticks(range(LENGTH))
    ax.set(xlabel="position", title="Attention weights of the trained model on test sequences")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="attention weight a_t", shrink=0.9)
    run.figure(fig, "soft_attention", "Attention weights (shade) of the trained soft-attention model over "
               "six test sequences; each cell shows the token's value, the marked token is framed, dots are "
               "padding (weight 0).")


# ---------------------------------------------------------------------------------------------------
# Hard attention


def hard_attention_model():
    """(model: [tokens, chosen token x_a (n, F)] -> [log π (n, T), class logits of x_a (n, CLASSES)],
    every_position: tokens -> [log π, class logits of every token (n, T, CLASSES)]), sharing layers.

    The layers of soft attention: a Dense score per position, softmax over the positions (padding
    masked out; here its logarithm, log π(t | x)), and a linear classifier, which reads one token."""
    tokens = keras.Input(shape=(LENGTH, FEATURES))
    chosen = keras.Input(shape=(FEATURES,))
    scores = ops.squeeze(keras.layers.Dense(1, name="scores")(tokens), axis=-1)  # (n, T)
    log_pi = ops.log_softmax(ops.where(padding_mask(tokens), scores, -1e9), axis=-1)  # (n, T)
    read = keras.layers.Dense(CLASSES, name="classifier")
    return (keras.Model([tokens, chosen], [log_pi, read(chosen)]),
            keras.Model(tokens, [log_pi, read(tokens)]))


def sample_positions(log_pi, rng):
    """One position per row drawn from π (Gumbel-max: the argmax of log π + Gumbel noise): (n, T) -> (n,)."""
    return np.argmax(log_pi - np.log(-np.log(rng.random(log_pi.shape))), axis=-1)


def leave_one_out_mean(values):
    """Each sample's baseline: the mean of the others in its batch (along the last axis). It does not
    depend on the sample's own draw, so an estimator that subtracts it stays unbiased."""
    return (ops.sum(values, axis=-1, keepdims=True) - values) / (ops.shape(values)[-1] - 1)


def reinforce_loss(a, y, baseline=True):
    """Hard attention's surrogate loss for sampled positions a (n,) and labels y (n,), as a function of
    the model's outputs [log π (n, T), logits of x_a (n, CLASSES)]: its gradient is the ordinary one
    for the classifier and the REINFORCE estimate for the scores."""
    def loss(outputs):
        log_pi, logits = outputs
        cross_entropy = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)  # (n,)
        reward = -cross_entropy  # r = log p(y | x_a)
        advantage = reward - leave_one_out_mean(reward) if baseline else reward  # r − b
        log_pi_a = ops.take_along_axis(log_pi, ops.convert_to_tensor(a[:, None]), axis=1)[:, 0]  # (n,)
        return ops.mean(cross_entropy) - ops.mean(ops.stop_gradient(advantage) * log_pi_a)
    return loss


def expected_loss(y):
    """Hard attention's expected loss E_{a∼π}[−log p(y | x_a)] = Σ_t π_t CE_t, summed over every position
    instead of sampled, as a function of `every_position`'s outputs."""
    def loss(outputs):
        log_pi, logits = outputs  # (n, T), (n, T, CLASSES)
        labels = np.repeat(y[:, None], LENGTH, axis=1)  # (n, T)
        cross_entropy = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        return ops.mean(ops.sum(ops.exp(log_pi) * cross_entropy, axis=1))
    return loss


def soft_loss(y):
    """The mean cross-entropy of the soft-attention model's logits, as a function of them."""
    return lambda logits: ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits,
                                                                                from_logits=True))


class AttentionTraining:
    """Soft or hard attention trained by hand: Adam on gradients from `companion.autodiff`, so that both
    take the same batches with the same optimizer (and the same initial weights, from the same seed)."""

    def __init__(self, kind, seed):
        set_seed(seed)
        self.kind = kind
        if kind == "soft":
            self.model, _ = soft_attention_model()
        else:
            self.model, self.every_position = hard_attention_model()
        self.variables = self.model.trainable_variables
        self.optimizer = keras.optimizers.Adam(LEARNING_RATE)
        self.optimizer.build(self.variables)
        self.rng = np.random.default_rng(seed)  # the sampled positions

    def gradients(self, x, y, *, baseline=True, variables=None):
        """The gradients of the training loss on the batch (x, y) (for hard attention, the REINFORCE
        estimate for the scores, with freshly sampled positions), in the order of `variables`."""
        if self.kind == "soft":
            return autodiff.model_gradients(self.model, soft_loss(y), x, variables=variables)
        log_pi = ops.convert_to_numpy(self.every_position(x)[0])  # (n, T)
        a = sample_positions(log_pi, self.rng)
        chosen = x[np.arange(len(x)), a]  # x_att = x[a]: (n, F)
        return autodiff.model_gradients(self.model, reinforce_loss(a, y, baseline), [x, chosen],
                                        variables=variables)

    def step(self, x, y):
        self.optimizer.apply(self.gradients(x, y), self.variables)

    def accuracy(self, x, y):
        """Test accuracy; for hard attention its expectation over the sampled position,
        Σ_t π_t 1[right at t]."""
        if self.kind == "soft":
            return accuracy(self.model, x, y)
        log_pi, logits = (ops.convert_to_numpy(o) for o in self.every_position(x))  # (n, T), (n, T, CLASSES)
        return float(np.sum(np.exp(log_pi) * (logits.argmax(axis=-1) == y[:, None]), axis=1).mean())

    def marker_gradient(self, x, y, estimator):
        """∂loss/∂w, w the scores' weight of the marker bit, on the batch (x, y), by `estimator`: "soft",
        "exact" (hard attention's expected loss, every position), "REINFORCE" or "REINFORCE, no baseline"."""
        kernel = self.model.get_layer("scores").kernel  # (FEATURES, 1)
        if estimator in ("soft", "REINFORCE"):
            gradient = self.gradients(x, y, variables=[kernel])[0]
        elif estimator == "REINFORCE, no baseline":
            gradient = self.gradients(x, y, baseline=False, variables=[kernel])[0]
        else:
            gradient = autodiff.model_gradients(self.every_position, expected_loss(y), x,
                                                variables=[kernel])[0]
        return float(gradient[CLASSES, 0])


def first_reached(steps, curve, level):
    """The first of `steps` at which `curve` reached `level` (None if it never did)."""
    reached = np.flatnonzero(np.asarray(curve) >= level)
    return int(steps[reached[0]]) if len(reached) else None


@lecture.step("Hard attention and the score-function estimator")
def hard_attention(run):
    """Hard attention reads one token, x_att = x[a], at a position a drawn from the attention
    distribution π(a | x) = softmax(s)_a. Sampling is not differentiable: the loss −log p(y | x_a)
    jumps as the scores move a from one position to another. Its expectation is differentiable,
    J = E_{a∼π}[−log p(y | x_a)], and the score-function estimator (REINFORCE) estimates its gradient
    from the sampled position alone: ∇_s J = E[−log p(y | x_a) ∇_s log π(a | x)]. With the reward
    r = log p(y | x_a) and a baseline b that does not depend on a (the mean reward of the other sequences
    of the batch), each sequence raises log π of its sampled position by (r − b): positions that
    answered better than usual become likelier. The classifier gets the ordinary gradient of
    −log p(y | x_a) for the token it read. Both come from one surrogate loss,
    mean(−log p(y | x_a)) − mean(stop_gradient(r − b) · log π(a | x)), differentiated by autodiff.

    We train soft and hard attention with the same loop, batches, optimizer and initial weights, and
    record the test accuracy (for hard attention its expectation over the sampled position) against
    the training steps: hard attention gets there too, in about 1.5 to 2 times as many steps on these
    short sequences. Then, at the weights hard attention has when it first gets half the test
    sequences right, we compute the gradient for the marker's score weight on 100 batches: soft
    attention's, the exact gradient of J (summed over all 20 positions instead of sampled, which so
    short a sequence allows) and REINFORCE's, with and without the baseline. The exact gradient varies
    only with the batch, as soft attention's does. REINFORCE is unbiased (its mean matches the exact
    gradient) but its variance is several times larger, and without the baseline several times larger
    again: the price of sampling.
    """
    rng = np.random.default_rng(run.seed)
    x_train, y_train, _, _ = marked_sequences(2000 if run.fast else 8000, rng)
    x_test, y_test, _, _ = marked_sequences(500 if run.fast else 1000, rng)
    steps, every, level, repeats = (40, 10, 0.9, 20) if run.fast else (300, 10, 0.9, 100)
    trainings = {"soft attention": AttentionTraining("soft", run.seed),
                 "hard attention (REINFORCE)": AttentionTraining("hard", run.seed)}
    soft, hard = trainings.values()
    batches = np.random.default_rng(run.seed + 1)
    checked = np.arange(0, steps + 1, every)
    curves = {name: [] for name in trainings}
    halfway = None  # hard attention's weights when its accuracy first reaches 0.5
    for step in range(steps + 1):
        if step % every == 0:
            for name, training in trainings.items():
                curves[name].append(training.accuracy(x_test, y_test))
            if halfway is None and (curves["hard attention (REINFORCE)"][-1] >= 0.5 or step == steps):
                halfway = step, hard.model.get_weights()
        if step < steps:
            batch = batches.choice(len(x_train), BATCH_SIZE, replace=False)
            for training in trainings.values():
                training.step(x_train[batch], y_train[batch])
    soft_steps, hard_steps = (first_reached(checked, curve, level) for curve in curves.values())
    run.report("test accuracy after the last step: soft attention", curves["soft attention"][-1])
    run.expect("test accuracy after the last step: hard attention", curves["hard attention (REINFORCE)"][-1],
               at_least=0.97)
    run.report(f"steps to {level} test accuracy: soft attention, hard attention",
               f"{soft_steps or 'not reached'}, {hard_steps or 'not reached'}")
    not_reached = steps + every  # what a curve that never reached the level counts as
    run.expect(f"steps to {level} test accuracy, hard / soft attention",
               (hard_steps or not_reached) / (soft_steps or not_reached), at_least=1.25)

    # the gradient estimators, all at the same weights
    step_halfway, weights = halfway
    probe = AttentionTraining("hard", run.seed + 2)
    probe.model.set_weights(weights)
    probe_soft = AttentionTraining("soft", run.seed + 2)
    for name in ("scores", "classifier"):
        probe_soft.model.get_layer(name).set_weights(probe.model.get_layer(name).get_weights())
    estimators = ("soft", "exact", "REINFORCE", "REINFORCE, no baseline")
    estimates = {estimator: [] for estimator in estimators}
    for _ in range(repeats):
        batch = batches.choice(len(x_train), BATCH_SIZE, replace=False)
        for estimator in estimators:
            training = probe_soft if estimator == "soft" else probe
            estimates[estimator].append(training.marker_gradient(x_train[batch], y_train[batch], estimator))
    estimates = {estimator: np.asarray(values) for estimator, values in estimates.items()}
    run.report(f"at step {step_halfway}: ∂loss/∂w_marker, mean ± sd over {repeats} batches",
               "; ".join(f"{e} {v.mean():.3f} ± {v.std(ddof=1):.3f}" for e, v in estimates.items()))
    difference = estimates["REINFORCE"] - estimates["exact"]  # on the same batches
    run.expect("|mean REINFORCE − mean exact gradient| / standard error",
               abs(difference.mean()) / (difference.std(ddof=1) / np.sqrt(repeats)), at_most=3)
    variance = {estimator: values.var(ddof=1) for estimator, values in estimates.items()}
    run.expect("variance of the gradient, REINFORCE / exact", variance["REINFORCE"] / variance["exact"],
               at_least=2)
    run.expect("variance of the gradient, REINFORCE without / with the baseline",
               variance["REINFORCE, no baseline"] / variance["REINFORCE"], at_least=2)
    run.report("noise-to-signal sd/|mean|: soft, exact, REINFORCE", ", ".join(
        f"{np.sqrt(variance[e]) / abs(estimates[e].mean()):.3g}" for e in ("soft", "exact", "REINFORCE")))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.2), layout="constrained")
    for color, (name, curve) in zip(COLORS, curves.items()):
        left.plot(checked, curve, color=color, marker="o", markersize=3, label=name)
    left.axhline(level, color="black", linestyle=":", linewidth=1)
    left.axvline(step_halfway, color="0.6", linestyle="--", linewidth=1)
    left.set(xlabel="training step (batches of 64)", ylabel="test accuracy", ylim=(0, 1.02),
             title="Learning the task")
    left.legend(loc="lower right")
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, repeats)
    for row, (color, estimator) in enumerate(zip(COLORS[2:], estimators)):
        values = estimates[estimator]
        right.scatter(values, row + jitter, s=12, color=color, alpha=0.7)
        right.plot([values.mean()] * 2, [row - 0.3, row + 0.3], color="black", linewidth=2)
    right.axvline(0, color="0.6", linewidth=1)
    right.set_yticks(range(len(estimators)), ["soft attention", "hard: exact gradient", "hard: REINFORCE,\n"
                                              "with baseline", "hard: REINFORCE,\nno baseline"])
    right.invert_yaxis()
    right.set(xlabel="∂loss/∂(marker's score weight), one batch each",
              title=f"Gradients at hard attention's weights of step {step_halfway}")
    run.figure(fig, "hard_attention", f"Left: test accuracy of soft and hard attention against training "
               f"steps (dotted: {level}; dashed: the step at which the gradients on the right are taken). "
               f"Right: the gradient for the marker's score weight on {repeats} batches by each estimator "
               "(dots), and their means (bars).")


# ---------------------------------------------------------------------------------------------------
# Exercise prototype (for companion/exercises, not a lecture step): soft attention weights


# ---------------------------------------------------------------------------------------------------
# Gradients of expectations

# z ~ N(MU, SIGMA²) and f(z) = z², so ∂/∂μ E[f(z)] = 2μ; per sample, REINFORCE's variance is
# μ⁴ + 14μ² + 15 = 87 and the reparameterised estimator's 4σ² = 4
MU, SIGMA = 2.0, 1.0
THETA, TARGET = 0.3, 0.45  # z ~ Bernoulli(THETA); f(z) = (z - TARGET)², so ∂/∂θ E[f(z)] = 1 - 2·TARGET




def gaussian_estimates(rng, reps, n):
    """Per-sample estimates of ∂/∂μ E[z²], z ~ N(μ, σ²), for `reps` batches of `n`: {name: (reps, n)}."""
    eps = rng.standard_normal((reps, n))
    z = MU + SIGMA * eps
    f = z ** 2
    score = (z - MU) / SIGMA ** 2  # ∂ log p(z; μ) / ∂μ
    return {
        "score function (REINFORCE)": f * score,
        "score function, baseline": (f - to_numpy(leave_one_out_mean(f))) * score,
        "reparameterised": 2 * z,  # z = μ + σε: ∂f(z)/∂μ = f'(z)·∂z/∂μ = 2z
    }


def bernoulli_estimates(rng, reps, n):
    """Per-sample estimates of ∂/∂θ E[(z - t)²], z ~ Bernoulli(θ): {name: (reps, n)}."""
    u = rng.random((reps, n))
    z = (u < THETA).astype(float)  # z = 1[u < θ]: a step in θ
    f = (z - TARGET) ** 2
    score = z / THETA - (1 - z) / (1 - THETA)  # ∂ log p(z; θ) / ∂θ
    return {
        "score function (REINFORCE)": f * score,
        "score function, baseline": (f - to_numpy(leave_one_out_mean(f))) * score,
        "pathwise through the step": np.zeros_like(z),  # ∂f(1[u < θ])/∂θ = 0 wherever it exists
    }


@lecture.step("Gradients of non-differentiable operations")
def gradient_estimators(run):
    """A sampled z (an action, a hard attention position, a discrete latent) stops backpropagation:
    we want ∇θ E_{z∼p(z;θ)}[f(z)], but z is drawn, not computed. Two estimators give it from samples.
    The score function (REINFORCE): ∇θ E[f(z)] = E[f(z) ∇θ log p(z; θ)], for any p and any f, even
    a discrete z or an f we can only evaluate. Subtracting a baseline b from f leaves it unbiased
    (E[∇θ log p] = 0) and, with b near E[f], shrinks its variance. The reparameterization trick
    writes z as a differentiable function of θ and parameter-free noise, z = μ + σε with ε ∼ N(0, 1),
    and differentiates through it: ∇μ E[f(z)] = E[f'(μ + σε)], which autodiff computes. It needs a
    continuous z and a differentiable f: for a Bernoulli z = 1[u < θ] the path gives 0, not the
    gradient. We check both against the closed form for a Gaussian (f = z², gradient 2μ at μ = 2) and a
    Bernoulli (f = (z - 0.45)², gradient 0.1), and measure their variance as the number of samples
    grows: each falls as 1/n, from very different heights.
    """
    rng = np.random.default_rng(run.seed)
    reps = 200 if run.fast else 2000
    sizes = [2, 10, 100, 1000] if run.fast else [2, 10, 100, 1000, 10_000]
    problems = {"Gaussian": (gaussian_estimates, 2 * MU), "Bernoulli": (bernoulli_estimates, 1 - 2 * TARGET)}

    # the reparameterised estimate is what autodiff gives when it differentiates through z = μ + σε
    eps = rng.standard_normal(1000).astype("float32")
    by_autodiff = float(autodiff.gradients(
        lambda mu: keras.ops.mean((mu + SIGMA * keras.ops.convert_to_tensor(eps)) ** 2),
        np.float32(MU))[0])
    run.expect(f"{autodiff.name()} through z = μ + σε minus mean of 2z",
               abs(by_autodiff - np.mean(2 * (MU + SIGMA * eps))), at_most=1e-4)

    variances, checks = {}, {}
    for problem, (estimates, exact) in problems.items():
        for n in sizes:
            for name, samples in estimates(rng, reps, n).items():
                batch_means = samples.mean(axis=1)  # (reps,): one gradient estimate per batch of n
                variances.setdefault((problem, name), []).append(batch_means.var())
                if n == sizes[-1]:
                    standard_error = batch_means.std() / np.sqrt(reps)
                    checks[problem, name] = (batch_means.mean(), standard_error, exact)

    for (problem, name), (mean, standard_error, exact) in checks.items():
        run.report(f"{problem}, {name}: estimate ± SE (exact {exact:g})",
                   f"{mean:.4f} ± {standard_error:.4f}")
        if name != "pathwise through the step":
            run.expect(f"{problem}, {name}: |estimate - exact| / SE",
                       abs(mean - exact) / max(standard_error, 1e-12), at_most=3)
    pathwise, _, exact = checks["Bernoulli", "pathwise through the step"]
    run.expect("Bernoulli, pathwise gradient through the step (exact 0.1)", pathwise, at_most=0)
    ratio = (variances["Gaussian", "score function (REINFORCE)"][-1]
             / variances["Gaussian", "reparameterised"][-1])
    run.expect("Gaussian: variance of REINFORCE / reparameterised", ratio, at_least=10)
    ratio_baseline = (variances["Gaussian", "score function (REINFORCE)"][-1]
                      / variances["Gaussian", "score function, baseline"][-1])
    run.report("Gaussian: variance without / with a baseline", ratio_baseline)

    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained", sharey=False)
    for ax, problem in zip(axes, problems):
        for color, ((_, name), values) in zip(COLORS, [(k, v) for k, v in variances.items()
                                                        if k[0] == problem]):
            if name == "pathwise through the step":
                continue  # variance 0, and biased: reported, not drawn
            ax.plot(sizes, values, marker="o", color=color, label=name)
        ax.set(xscale="log", yscale="log", xlabel="samples per estimate n",
               ylabel="variance of the gradient estimate", title=f"{problem}: ∂/∂θ E[f(z)]")
        ax.legend()
    axes[1].text(0.03, 0.03, "the pathwise gradient through z = 1[u < θ] is 0:\nbiased (exact 0.1)",
                 transform=axes[1].transAxes, fontsize=10)
    run.figure(fig, "gradient_estimators", "Variance of three gradient estimators against the number of "
               "samples: all fall as 1/n; the reparameterised one starts far lower.")


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
# Adversarial examples and uncertainty

# ---------------------------------------------------------------------------------------------------
# Adversarial examples

EPSILON = 0.15  # the attack's budget in the lecture's headline numbers: 2.4 of the digits' 16 ink levels
EPSILONS = np.round(np.arange(0, 0.301, 0.025), 3)  # the accuracy-against-ε curve


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


def fit_binary_classifiers(model, x, y, *, epochs, seed):
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
        ensemble = fit_binary_classifiers(classifier(members=MEMBERS), x_train, y_train, epochs=epochs,
                                          seed=run.seed)
        set_seed(run.seed)
        dropout = fit_binary_classifiers(classifier(dropout=DROPOUT), x_train, y_train, epochs=epochs,
                                         seed=run.seed)
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
    for name, sampled in methods.items():
        samples = sampled(plane)  # (samples, 130·140)
        entropy, disagreement = binary_entropy(samples.mean(axis=0)), mutual_information(samples)
        p_test = sampled(x_test).mean(axis=0)
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
    axes[0].legend(loc="lower right", fontsize=10, frameon=True, framealpha=0.9)
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
    left.legend(loc="upper center", ncol=2, fontsize=10)
    right.plot([0.5, 1], [0.5, 1], color="0.4", linestyle=":", label="perfect calibration")
    for color, marker, name in zip(COLORS, "osD", SHOWN):
        table = calibration_bins(results[name]["p_test"], y_test)
        right.plot(table[:, 0], table[:, 1], marker=marker, color=color,
                   label=f"{name} (ECE {results[name]['ece']:.3f})")
    right.set(xlabel="confidence (mean in each bin)", ylabel="accuracy in the bin", xlim=(0.48, 1.01),
              title=f"On {len(y_test):,} held-out points")
    right.legend(loc="lower right", fontsize=10)
    run.figure(fig, "uncertainty_measured", "Left: mean predictive entropy (solid) and mutual information "
               "(dashed: the samples' disagreement) against the distance to the nearest training point. "
               "Right: reliability diagram on held-out moons, accuracy against confidence in ten bins, "
               "with each method's expected calibration error.")


# ---------------------------------------------------------------------------------------------------
# Generalisation

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
    its test accuracy falls with the share of random labels. Real labels share structure that one
    gradient step improves for many examples at once; random labels must be memorised one example
    at a time. Capacity does not explain generalisation: what the data and the optimiser make easy
    does.
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
    axes[0].legend(handles=handles, loc="lower left", fontsize=10)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=axes, label="epoch")
    run.figure(fig, "information_plane",
               "The information plane of a 12-10-7-5-4-3 network on the 12-bit task: binned estimates for "
               "each hidden layer T1-T5 at log-spaced epochs (colour), with tanh, and with ReLU under two "
               "binnings.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "frontiers", *sys.argv[1:]]))
