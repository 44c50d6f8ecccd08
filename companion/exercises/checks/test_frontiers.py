"""Checks for the frontiers exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before TensorFlow loads) and compares it with an
independent reference: keras.layers.Softmax(axis=-1) called with a mask, on ordinary scores and on
scores in the thousands; the input gradient of a softmax regression in closed form, (p - onehot(y))
Wᵀ, with the loss of the attacked images, which must rise; the exact gradients d/dμ E[z²] = 2μ
(z ~ N(μ, σ²)) and d/dθ E[(z - t)²] = 1 - 2t (z ~ Bernoulli(θ)), which the estimators must hit within
a few standard errors (fixed seeds); automatic differentiation (companion.autodiff) of
Σ f(μ + σε); and a network Input(4) -> Dropout(r) -> Dense(1) with all weights 1 and no bias, whose
output has mean Σx and variance r/(1-r)·Σx². Where a typical mistake (softmax over the wrong axis,
the mask ignored, padding scored 0, the wrong sign, no clip, the gradient for its sign, the
log-derivative missing, a baseline that includes the sample itself, f for f', dropout off, a
standard deviation for the variance) explains the received values, the failure names it.
"""

import numpy as np

from companion.exercises._expect import (
    call_keeping_arguments,
    call_strictly,
    expect_close,
    expect_tuple,
    fail_if_close,
)
from companion.exercises._loader import load_exercises


def exercises():
    return load_exercises("frontiers", __file__)


# --- helpers ------------------------------------------------------------------------------------


def show(values):
    return np.array2string(np.asarray(values), precision=3, separator=", ")


def masked_softmax(scores, mask, axis):
    """A plain masked softmax over `axis`, for the mistakes' values (the reference comes from Keras)."""
    kept = np.where(mask, scores, -np.inf)
    e = np.where(mask, np.exp(np.where(mask, scores - np.max(kept, axis=axis, keepdims=True), 0.0)), 0.0)
    return e / np.sum(e, axis=axis, keepdims=True)


def keras_softmax(scores, mask):
    """keras.layers.Softmax(axis=-1)(scores, mask=mask) in float64."""
    import keras

    layer = keras.layers.Softmax(axis=-1, dtype="float64")
    return keras.ops.convert_to_numpy(layer(scores, mask=mask)).astype(float)


STABLE_FIX = ("subtract each row's largest kept score before the exponential: the softmax of a row does "
              "not change when all its scores move by the same amount, and exp(1000) overflows")


# --- 1.1 --------------------------------------------------------------------------------------------


def attention_cases():
    """(scores, mask): n = 3 sequences of T = 5 positions, ordinary scores, then scores in the thousands."""
    rng = np.random.default_rng(3)
    mask = np.array([[True, True, True, False, False],
                     [True, True, True, True, True],
                     [True, False, False, False, False]])
    ordinary = rng.normal(scale=1.5, size=(3, 5))
    large = np.array([[1000.0, 1002.0, 998.5, 1500.0, -3.0],
                      [-2000.0, -2001.5, -1999.0, -2003.0, -2000.5],
                      [3000.0, 2990.0, 0.0, 5000.0, 1.0]])
    return [(ordinary, mask), (large, mask)]


def test_attention_weights():
    """Exercise 1.1: attention_weights, a softmax over the positions with the padding masked out.

    Hint: work along each row (one sequence, axis 1): subtract the row's largest score among the kept
    positions, take exponentials, set the padding's to exactly zero, and divide by the row's sum of
    what is left. A padded position gets weight zero however it is scored.
    """
    attention_weights = exercises().attention_weights
    received = []
    for scores, mask in attention_cases():
        what = f"attention_weights(scores, mask) for scores = {show(scores)}, mask = {show(mask)}"
        def call(s, m, what=what):
            return call_keeping_arguments(attention_weights, s, m, what=what)

        received.append(call_strictly(call, scores, mask, what=what, fix=STABLE_FIX))

    for (scores, mask), result in zip(attention_cases(), received):
        expected = keras_softmax(scores, mask)
        what = (f"attention_weights(scores, mask) for scores = {show(scores)}, mask = {show(mask)} "
                f"vs keras.layers.Softmax(axis=-1) called with the mask")
        for problem, wrong in {
            "softmax over the wrong axis: the weights of each sequence (a row, axis 1, its positions) "
            "sum to 1, not those of each position across the batch (axis 0)": masked_softmax(scores, mask, 0),
            "mask ignored: the padding's positions get weight too; they must get exactly 0":
                masked_softmax(scores, np.ones_like(mask), 1),
            "padding scored 0 instead of left out: exp(0 - max) is not 0, so the padding still gets "
            "weight; give the padded positions weight exactly 0 (leave them out of the max and the sum)":
                masked_softmax(np.where(mask, scores, 0.0), np.ones_like(mask), 1),
        }.items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-6, atol=1e-12, what=what)


# --- 1.2 --------------------------------------------------------------------------------------------


def softmax_regression():
    """A softmax regression without bias on 6-pixel 'images' with pixels at 0, at 1 and in between:
    (x (4, 6), labels (4,), W (6, 3))."""
    rng = np.random.default_rng(11)
    x = rng.uniform(0.0, 1.0, size=(4, 6))
    x[:, :2] = [[0.0, 1.0], [1.0, 0.0], [0.02, 0.97], [1.0, 1.0]]  # pixels a step of ε may leave [0, 1]
    labels = np.array([0, 2, 1, 2])
    weights = rng.normal(size=(6, 3))
    return x, labels, weights


def probabilities(x, weights):
    logits = x @ weights
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropies(x, labels, weights):
    """Each image's cross-entropy with its label."""
    return -np.log(probabilities(x, weights)[np.arange(len(labels)), labels])


def test_fgsm():
    """Exercise 1.2: fgsm, the fast gradient sign method, on a softmax regression.

    Hint: move every pixel by epsilon in the direction of the sign of its gradient (up where the
    gradient is positive: that increases the loss), then clip into the pixel range from 0 to 1.
    """
    fgsm = exercises().fgsm
    x, labels, weights = softmax_regression()
    epsilon = 0.1
    gradient = (probabilities(x, weights) - np.eye(3)[labels]) @ weights.T  # ∇x of each cross-entropy
    what = (f"fgsm(x, gradient, epsilon) for epsilon = {epsilon}, x = {show(x)} (4 images of 6 pixels, "
            f"some at 0 and 1) and gradient = (p - onehot(y)) Wᵀ, the input gradient of a softmax "
            f"regression without bias")
    result = call_keeping_arguments(fgsm, x, gradient, epsilon, what=what)

    step = epsilon * np.sign(gradient)
    expected = np.clip(x + step, 0, 1)
    for problem, wrong in {
        "wrong sign: the attack moves each pixel up its gradient, toward a larger loss, not down it":
            np.clip(x - step, 0, 1),
        "wrong sign and no clip: move each pixel up its gradient, then clip into [0, 1]": x - step,
        "no clip: pixels leave the range [0, 1]; clip the attacked images into it": x + step,
        "the gradient instead of its sign: FGSM moves every pixel by exactly epsilon, in the "
        "direction of its gradient's sign": np.clip(x + epsilon * gradient, 0, 1),
    }.items():
        fail_if_close(result, wrong, expected, problem, what)
    expect_close(result, expected, atol=1e-9, rtol=1e-9, what=what)
    before, after = cross_entropies(x, labels, weights), cross_entropies(np.asarray(result), labels, weights)
    if not np.all(after > before):
        raise AssertionError(f"the loss did not rise: the attack must increase each image's loss\n"
                             f"case: {what}\nbefore: {show(before)}\nafter:  {show(after)}")


# --- 1.3 --------------------------------------------------------------------------------------------

MU, SIGMA = 1.5, 1.0  # z ~ N(μ, σ²): d/dμ E[z²] = 2μ
THETA, TARGET = 0.3, 0.8  # z ~ Bernoulli(θ): d/dθ E[(z - t)²] = (1 - t)² - t² = 1 - 2t
BATCHES, BATCH = 40_000, 4  # 160 000 samples in batches of 4: a baseline with the sample is 25 % off


def gaussian_samples(rng, shape):
    """(f(z) = z², ∂ log p(z; μ)/∂μ) for z ~ N(μ, σ²)."""
    z = MU + SIGMA * rng.standard_normal(shape)
    return z ** 2, (z - MU) / SIGMA ** 2


def bernoulli_samples(rng, shape):
    """(f(z) = (z - t)², ∂ log p(z; θ)/∂θ) for z ~ Bernoulli(θ)."""
    z = (rng.random(shape) < THETA).astype(float)
    return (z - TARGET) ** 2, z / THETA - (1 - z) / (1 - THETA)


def test_reinforce_gradient():
    """Exercise 1.3: reinforce_gradient, score-function estimates with a leave-one-out baseline.

    Hint: each estimate is the log-derivative times f less its baseline (no baseline when none is asked
    for); the baseline is the mean of f over the other samples of the same batch (sum the batch along
    the last axis, take the sample's own value away, divide by one less than the batch size). Without
    the log-derivative, or with the sample's own f in its baseline, the estimates are biased.
    """
    reinforce_gradient = exercises().reinforce_gradient
    f, score = gaussian_samples(np.random.default_rng(0), (2, 5))
    shown = f"f_values = {show(f)}, score_values = {show(score)} (2 batches of 5 samples)"
    for baseline in (True, False):
        what = f"reinforce_gradient(f_values, score_values, baseline={baseline}) for {shown}"
        result = call_keeping_arguments(lambda f, s, b=baseline: reinforce_gradient(f, s, baseline=b),
                                        f, score, what=what)
        others = (f.sum(axis=-1, keepdims=True) - f) / (f.shape[-1] - 1)
        expected = (f - others) * score if baseline else f * score
        for problem, wrong in {
            "missing log-derivative: the estimate is f times the score ∂ log p/∂θ, not f alone "
            "(f alone estimates E[f], not its gradient)": f - others if baseline else f,
            "a baseline that includes the sample's own f: the mean over the whole batch is correlated "
            "with the sample and biases the estimate; leave the sample out (the mean of the others)":
                (f - f.mean(axis=-1, keepdims=True)) * score,
            "the baseline over the wrong axis: the samples of a batch lie along the last axis":
                (f - (f.sum(axis=0, keepdims=True) - f) / (f.shape[0] - 1)) * score,
            "a baseline where none was asked for (baseline=False)": (f - others) * score,
            "no baseline where one was asked for (baseline=True)": f * score,
        }.items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-9, atol=1e-12, what=what)

    # Unbiased: the mean of many estimates hits the exact gradient within a few standard errors.
    for name, samples, exact in [("z ~ N(1.5, 1), f(z) = z², exact d/dμ E[f] = 2μ = 3", gaussian_samples,
                                  2 * MU),
                                 ("z ~ Bernoulli(0.3), f(z) = (z - 0.8)², exact d/dθ E[f] = 1 - 2t = -0.6",
                                  bernoulli_samples, 1 - 2 * TARGET)]:
        f, score = samples(np.random.default_rng(1), (BATCHES, BATCH))
        for baseline in (True, False):
            estimates = np.asarray(reinforce_gradient(f, score, baseline=baseline), dtype=float)
            what = f"reinforce_gradient(f_values, score_values, baseline={baseline}) for {BATCHES} batches " \
                   f"of {BATCH} samples of {name}"
            if estimates.shape != f.shape:
                raise AssertionError(f"shape mismatch: expected one estimate per sample, of shape {f.shape}, "
                                     f"received shape {estimates.shape}\ncase: {what}")
            mean, error = estimates.mean(), estimates.std() / np.sqrt(estimates.size)
            if abs(mean - exact) > 5 * error:
                raise AssertionError(
                    f"biased: the mean of the estimates is {(mean - exact) / error:.1f} standard errors "
                    f"from the exact gradient (a baseline must not depend on the sample's own draw)\n"
                    f"case: {what}\nexpected: {exact:.4g}\nreceived: {mean:.4g} ± {error:.2g}")


# --- 1.4 --------------------------------------------------------------------------------------------


def test_reparameterized_gradient():
    """Exercise 1.4: reparameterized_gradient, the pathwise estimates f'(μ + σε).

    Hint: build each sample from mu, sigma and its noise, and evaluate the given derivative there; the
    chain rule's factor from the sample to mu is 1.
    """
    reparameterized_gradient = exercises().reparameterized_gradient
    mu, sigma = 0.7, 1.3
    eps = np.random.default_rng(5).standard_normal(6)

    def f_prime(z):  # of f(z) = sin(z) + z²/2
        return np.cos(np.asarray(z, dtype=float)) + np.asarray(z, dtype=float)

    what = (f"reparameterized_gradient(mu, sigma, eps, f_prime) for mu = {mu}, sigma = {sigma}, "
            f"eps = {show(eps)}, f(z) = sin(z) + z²/2 vs autodiff of Σ_i f(mu_i + sigma·eps_i) in each mu_i")
    result = call_keeping_arguments(lambda e: reparameterized_gradient(mu, sigma, e, f_prime), eps,
                                    what=what)

    import keras

    from companion import autodiff

    def total(mus):
        z = mus + sigma * keras.ops.convert_to_tensor(eps)
        return keras.ops.sum(keras.ops.sin(z) + z * z / 2)

    with autodiff.float64():
        expected = autodiff.gradients(total, np.full(eps.shape, mu))[0]
    z = mu + sigma * eps
    if np.ndim(result) == 0 and np.isclose(float(result), f_prime(mu)):  # one number: f'(mu) itself
        raise AssertionError(f"f' at mu, not at the sample: the noise is missing; return one estimate per "
                             f"sample, the derivative at mu + sigma·eps\ncase: {what}")
    for problem, wrong in {
        "f instead of f': the estimate is the derivative at the sample": np.sin(z) + z * z / 2,
        "f' at mu, not at the sample: the noise is missing, the estimate must be at mu + sigma·eps":
            np.full(eps.shape, f_prime(mu)),
        "sigma missing: the sample is mu + sigma·eps": f_prime(mu + eps),
        "f' at the noise alone: the sample is mu + sigma·eps": f_prime(eps),
        "an extra factor sigma: ∂z/∂mu is 1 (sigma·f' is the gradient in sigma's direction per ε)":
            sigma * f_prime(z),
    }.items():
        fail_if_close(result, wrong, expected, problem, what)
    expect_close(result, expected, rtol=1e-6, atol=1e-9, what=what)


# --- 1.5 --------------------------------------------------------------------------------------------

RATE, PASSES = 0.5, 400


def dropout_network():
    """Input(4) -> Dropout(RATE) -> Dense(1) with all weights 1 and no bias: the output is Σ_i x_i m_i,
    m_i ∈ {0, 1/(1 - r)}, of mean Σx and variance r/(1 - r)·Σx²."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(4,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    return keras.Model(inputs, dense(keras.layers.Dropout(RATE)(inputs)))


def test_mc_dropout_predict():
    """Exercise 1.5: mc_dropout_predict, the mean and variance of stochastic forward passes.

    Hint: call the model the given number of times with dropout on (its training argument set to True),
    stack the outputs as NumPy arrays, and return their mean and their variance (not the standard
    deviation) over the passes.
    """
    mc_dropout_predict = exercises().mc_dropout_predict
    x = np.array([[1.0, 2.0, 3.0, 0.5], [-1.0, 0.5, 2.0, 1.5], [3.0, -2.0, 1.0, 2.5]], dtype="float32")
    what = (f"mc_dropout_predict(model, x, passes={PASSES}) for the network Input(4) -> Dropout({RATE}) -> "
            f"Dense(1, all weights 1, no bias) and x = {show(x)}")
    result = call_keeping_arguments(lambda x: mc_dropout_predict(dropout_network(), x, PASSES), x, what=what)
    mean, variance = expect_tuple(result, 2, names="mean, variance", what=what)
    x = x.astype(float)
    exact_mean = x.sum(axis=1, keepdims=True)  # (3, 1), like the model's output
    exact_variance = RATE / (1 - RATE) * (x ** 2).sum(axis=1, keepdims=True)
    mean, variance = np.asarray(mean, dtype=float), np.asarray(variance, dtype=float)
    for name, value in [("mean", mean), ("variance", variance)]:
        if value.shape != exact_mean.shape:
            raise AssertionError(f"shape mismatch: expected the {name} of shape {exact_mean.shape}, like the "
                                 f"model's output, received shape {value.shape}\ncase: {what}")
    if np.allclose(variance, 0.0, atol=1e-9):
        raise AssertionError(
            f"variance 0: dropout is off at prediction time, so every pass gives the same output; call "
            f"the model with its training argument set to True\ncase: {what}\n"
            f"expected: about {show(exact_variance.ravel())}\nreceived: {show(variance.ravel())}")
    if np.allclose(variance, np.sqrt(exact_variance), rtol=0.3):
        raise AssertionError(
            f"standard deviation instead of variance: return the variance over the passes\ncase: {what}\n"
            f"expected: about {show(exact_variance.ravel())}\nreceived: {show(variance.ravel())}")
    # Within 6 standard errors of the mean of PASSES passes; the variance within 30 % (about 6 of its
    # standard errors for these inputs).
    expect_close(mean, exact_mean, atol=6 * np.sqrt(exact_variance / PASSES).max(), rtol=0.0,
                 what=what + ": the mean vs Σx")
    expect_close(variance, exact_variance, atol=0.0, rtol=0.3, what=what + ": the variance vs r/(1-r)·Σx²")
