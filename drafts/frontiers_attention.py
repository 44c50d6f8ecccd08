"""Draft of the frontiers lecture's steps 1 and 2: soft and hard attention (not committed).

Run: python drafts/frontiers_attention.py [--fast] [--seed N] [--step N]
"""

import sys

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from matplotlib.patches import Rectangle

from companion import autodiff, datasets
from companion.checkpoints import completed_epochs
from companion.devices import scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH
from companion.seeding import set_seed
from lectures.autoencoders import predict

lecture = Lecture("frontiers_draft_attention", "Soft and hard attention (draft)",
                  expected="soft attention reads the marked token where uniform weights cannot; hard "
                  "attention learns it too, more slowly and with noisier gradients", seconds=30)

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


def accuracy(model, x, y):
    """The share of x whose largest logit is at the label."""
    return float(np.mean(predict(model, x).argmax(axis=-1) == y))


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
    """Each example's baseline: the mean of the others in its batch, (n,) -> (n,). It does not depend
    on the example's own sampled position, so the estimator stays unbiased."""
    return (ops.sum(values) - values) / (ops.shape(values)[0] - 1)


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


def attention_weights(scores, mask):
    """Solution: soft attention weights for scores (n, T) and a boolean mask (n, T) (False: padding):
    a softmax over each row's positions, numerically stable, 0 on the padding."""
    masked = np.where(mask, scores, -np.inf)  # exp(-inf) = 0: padding takes no weight
    shifted = masked - masked.max(axis=1, keepdims=True)  # every exponent <= 0: no overflow
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def attention_mistakes(scores, mask):
    """{problem: what attention_weights returns with that mistake} (the check names the one it sees)."""
    def softmax(values, axis=1):
        exponentials = np.exp(values - values.max(axis=axis, keepdims=True))
        return exponentials / exponentials.sum(axis=axis, keepdims=True)
    masked = np.where(mask, scores, -np.inf)
    after = softmax(scores) * mask
    return {
        "softmax over the wrong axis: each sequence is a row, and its weights run over its positions "
        "(axis 1), not over the sequences of the batch (axis 0)": softmax(masked, axis=0),
        "the mask is ignored: padding positions get weight; set their scores to -inf (or a very "
        "negative number) before the softmax": softmax(scores),
        "padding scores set to 0 (scores * mask) still take weight: exp(0) = 1; use -inf instead":
            softmax(scores * mask),
        "the padding is zeroed after the softmax without renormalising: each row must sum to 1; mask "
        "the scores before the softmax": after,
        "zeroed after the softmax and renormalised: right, but only while no score overflows; mask "
        "before the softmax, then subtract the row maximum": after / after.sum(axis=1, keepdims=True),
    }


def check_attention_weights(function):
    """The check: `function` against Keras' Softmax layer with a mask (independent), on a batch whose
    number of rows differs from its number of positions, then with scores that overflow exp."""
    from companion.exercises._expect import call_strictly, expect_close, fail_if_close

    rng = np.random.default_rng(0)
    scores = rng.normal(0, 2, (4, 6))
    mask = np.arange(6) < np.array([6, 3, 5, 1])[:, None]  # lengths 6, 3, 5, 1
    expected = ops.convert_to_numpy(keras.layers.Softmax(axis=-1)(scores, mask=mask))
    what = "attention_weights(scores, mask) for 4 sequences of lengths 6, 3, 5, 1 padded to 6"
    received = call_strictly(function, scores, mask, what=what, fix="mask with -inf, then subtract the "
                             "row maximum: no exponent above 0")
    for problem, wrong in attention_mistakes(scores, mask).items():
        if "overflows" not in problem:
            fail_if_close(received, wrong, expected, problem, what)
    expect_close(received, expected, what=what, atol=1e-6)
    large = scores * 400  # scores in the thousands: exp overflows unless the row maximum goes first
    what = "attention_weights(400 × scores, mask): scores in the thousands"
    received = call_strictly(function, large, mask, what=what, fix="subtract each row's maximum (over "
                             "its unmasked positions) before exp, so that every exponent is <= 0")
    expect_close(received, ops.convert_to_numpy(keras.layers.Softmax(axis=-1)(large, mask=mask)),
                 what=what, atol=1e-6)


def try_exercise():
    """The check passes on the solution and fails, naming it, on each typical mistake and on a stub."""
    def stub(scores, mask):
        raise NotImplementedError
    def making(problem):  # attention_weights with that mistake
        return lambda scores, mask: attention_mistakes(scores, mask)[problem]
    mistakes = {problem.split(":")[0]: making(problem)
                for problem in attention_mistakes(np.zeros((1, 1)), np.ones((1, 1), bool))}
    for name, function in {"solution": attention_weights, "stub": stub, **mistakes}.items():
        try:
            check_attention_weights(function)
            print(f"{name}: passes")
        except (AssertionError, NotImplementedError) as error:
            print(f"{name}: fails: {type(error).__name__}: {(str(error) or ' ').splitlines()[0]}")


if __name__ == "__main__":
    if "--exercise" in sys.argv:
        try_exercise()
        sys.exit()
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else None
    lecture.run(fast="--fast" in sys.argv, seed=seed, step=step, out="/tmp/frontiers_figs")
