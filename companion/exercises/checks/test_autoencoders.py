"""Checks for the autoencoders exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before TensorFlow loads) and compares it with an
independent reference: scikit-learn's PCA, tf.image.psnr, the loss that keras.layers.
ActivityRegularization adds to a model, the mean and variance of many reparameterized samples, and
the KL divergence written with σ and confirmed by a Monte Carlo estimate with scipy.stats. Where a
typical mistake (data not centred, the mean not added back, the smallest components, 20·log10, a
natural logarithm, an error not averaged over all of an image's axes, the penalty not averaged over
the batch, the variance used as a standard deviation, the missing ½, a mean instead of a sum)
explains the received values, the failure names it.
"""

import itertools
import math

import numpy as np

from companion.exercises._expect import (
    call_keeping_arguments,
    expect_close,
    expect_value_error,
    fail_if_close,
    fail_if_shape,
)
from companion.exercises._loader import load_exercises


def exercises():
    return load_exercises("autoencoders", __file__)


# --- helpers ------------------------------------------------------------------------------------


# --- 1.1 --------------------------------------------------------------------------------------------


def pca_mistakes(x, k):
    """{problem: what pca_reconstruct returns with that mistake}."""
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    _, _, vt_raw = np.linalg.svd(x, full_matrices=False)
    top = vt[:k]
    return {
        "the data are not centred: PCA finds the directions of largest variance around the mean; "
        "subtract x.mean(axis=0) before the SVD and add it back at the end":
            x @ vt_raw[:k].T @ vt_raw[:k],
        "the mean is not added back: the projection lives around the mean; add the mean row back "
        "to every reconstructed row":
            (x - mean) @ top.T @ top,
        "the smallest components: np.linalg.svd sorts the singular values from largest to smallest, "
        "so the top k directions are vt[:k]":
            mean + (x - mean) @ vt[-k:].T @ vt[-k:],
        "one component too many: keep exactly the first k rows of vt":
            mean + (x - mean) @ vt[:k + 1].T @ vt[:k + 1],
        "one component too few: keep exactly the first k rows of vt":
            mean + (x - mean) @ vt[:k - 1].T @ vt[:k - 1],
    }


def test_pca_reconstruct():
    """Exercise 1.1: pca_reconstruct, the rank-k reconstruction of x around its mean (PCA).

    Hint: centre the data on its mean; the components are the first k right singular vectors of the
    centred data (np.linalg.svd); project each centred example onto them, map it back, and add the mean
    again.
    """
    pca_reconstruct = exercises().pca_reconstruct
    rng = np.random.default_rng(3)
    cases = []
    for n, d, rank, k in [(40, 6, 3, 2), (30, 5, 4, 3), (6, 9, 5, 4)]:
        x = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) * [3.0] + rng.normal(size=d) * 2
        x = x + 0.1 * rng.normal(size=(n, d))  # full rank, with a clear top-k subspace
        cases.append((x, k))
    received = [call_keeping_arguments(pca_reconstruct, x, k, what="pca_reconstruct") for x, k in cases]
    from sklearn.decomposition import PCA

    for (x, k), result in zip(cases, received):
        pca = PCA(k).fit(x)
        expected = pca.inverse_transform(pca.transform(x))
        what = (f"pca_reconstruct(x, k={k}) for x of shape {x.shape} vs scikit-learn's "
                f"PCA({k}).fit(x).inverse_transform(PCA.transform(x))")
        fail_if_shape(result, expected.shape, {
            (x.shape[0], k): f"these are the codes (n, k); map them back to the d features through "
                             f"the components, which gives shape {expected.shape}",
            (k, x.shape[1]): f"these are the components (k, d); return the reconstruction of every "
                             f"row, shape {expected.shape}",
        }, what)
        for problem, wrong in pca_mistakes(x, k).items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-6, atol=1e-8, what=what)
    x = cases[0][0]
    for k in (0, min(x.shape) + 1):
        expect_value_error(pca_reconstruct, x, k, what=f"pca_reconstruct(x of shape {x.shape}, k={k}) "
                                                       f"must raise ValueError: 1 <= k <= min(n, d)")


# --- 1.2 --------------------------------------------------------------------------------------------


def per_pixel_shapes(shape):
    """{shape: problem} for an error averaged over some of an image's axes (height, width,
    channels) but not all of them: one value per image and channel, per row, ... or per pixel."""
    kept_axes = itertools.chain.from_iterable(itertools.combinations((1, 2, 3), size) for size in (1, 2, 3))
    return {(shape[0], *(shape[axis] for axis in kept)):
            "not averaged over all of each image's pixels and channels: PSNR is one number per image, "
            "from the mean squared error over every axis but the first (the images)"
            for kept in kept_axes}


def test_psnr():
    """Exercise 1.2: psnr, 10·log10(max_value² / MSE) for each image, in dB.

    Hint: compute each image's mean squared error over all its pixels and channels (one number per image),
    then 10 times the base-10 logarithm of the largest possible value squared over that error.
    """
    psnr = exercises().psnr
    rng = np.random.default_rng(5)
    clean = rng.random((4, 5, 6, 2))
    noise_levels = np.array([0.02, 0.1, 0.3, 0.6]).reshape(4, 1, 1, 1)  # one per image
    noisy = np.clip(clean + noise_levels * rng.normal(size=clean.shape), 0, 1)
    cases = [(clean, noisy, 1.0), (np.round(255 * clean), np.round(255 * noisy), 255.0)]
    received = [call_keeping_arguments(psnr, a, b, peak, what="psnr") for a, b, peak in cases]
    import tensorflow as tf

    for (a, b, peak), result in zip(cases, received):
        expected = tf.image.psnr(a, b, max_val=peak).numpy().astype(float)  # (4,)
        what = (f"psnr(clean, noisy, max_value={peak:g}) for 4 images of shape {a.shape[1:]} with "
                f"noise of standard deviation {noise_levels.ravel().tolist()} vs tf.image.psnr")
        mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
        fail_if_shape(result, expected.shape, per_pixel_shapes(a.shape), what)
        if np.ndim(result) == 0:
            raise AssertionError(f"shape mismatch: received one number, expected one PSNR per image, shape "
                                 f"{expected.shape}: average over each image's own pixels, "
                                 f"np.mean(..., axis=(1, 2, 3))\ncase: {what}")
        fail_if_close(result, 20 * np.log10(peak**2 / mse), expected,
                      "20·log10 of the squared error: PSNR is 10·log10(max² / MSE) (or 20·log10(max / RMSE))",
                      what)
        fail_if_close(result, 10 * np.log(peak**2 / mse), expected,
                      "natural logarithm: decibels use log10", what)
        fail_if_close(result, 10 * np.log10(peak**2 / np.sqrt(mse)), expected,
                      "the root of the mean squared error: PSNR divides max² by the MSE itself", what)
        fail_if_close(result, 10 * np.log10(peak / mse), expected,
                      "max_value not squared: PSNR = 10·log10(max_value² / MSE)", what)
        expect_close(result, expected, rtol=1e-5, atol=1e-6, what=what)


# --- 1.3 --------------------------------------------------------------------------------------------


def test_l1_activity_penalty():
    """Exercise 1.3: l1_activity_penalty, l1 · Σ|codes| / batch, as Keras adds it to the loss.

    Hint: the penalty is the L1 weight times the sum of the absolute code values, averaged over the
    examples: divide by the number of rows, not by the number of entries; return a Python float.
    """
    l1_activity_penalty = exercises().l1_activity_penalty
    rng = np.random.default_rng(8)
    codes = np.maximum(rng.normal(size=(6, 5)), 0) - 0.2 * (rng.random((6, 5)) < 0.2)  # mostly >= 0
    cases = [(codes, 0.01), (rng.normal(size=(3, 7)), 0.5)]
    received = [call_keeping_arguments(l1_activity_penalty, c, l1, what="l1_activity_penalty")
                for c, l1 in cases]
    import keras

    for (c, l1), result in zip(cases, received):
        layer = keras.layers.ActivityRegularization(l1=l1, dtype="float64")
        layer(c)
        expected = float(keras.ops.convert_to_numpy(layer.losses[0]))
        what = (f"l1_activity_penalty(codes, l1={l1:g}) for codes of shape {c.shape} vs the loss that "
                f"keras.layers.ActivityRegularization(l1={l1:g}) adds for that batch")
        total = np.abs(c).sum()
        fail_if_close(result, l1 * total, expected,
                      "not averaged over the batch: Keras 3 divides the penalty by the batch size", what)
        fail_if_close(result, l1 * np.abs(c).mean(), expected,
                      "averaged over every value: sum over the code units, then divide by the batch size "
                      "only (len(codes))", what)
        fail_if_close(result, l1 * np.sum(c**2) / len(c), expected,
                      "squares: that is the L2 penalty; L1 sums absolute values", what)
        fail_if_close(result, l1 * np.sum(c) / len(c), expected,
                      "no absolute value: negative codes would lower the penalty; use np.abs", what)
        fail_if_close(result, total / len(c), expected, "l1 is missing: multiply by the factor l1", what)
        expect_close(result, expected, rtol=1e-6, atol=1e-12, what=what)


# --- 1.4 --------------------------------------------------------------------------------------------


def test_reparameterize():
    """Exercise 1.4: reparameterize, z = mu + exp(log_var / 2) * epsilon.

    Hint: log_var is the log of the variance, so the standard deviation is the exponential of half
    of it; scale epsilon by it, entry by entry, and shift by mu.
    """
    reparameterize = exercises().reparameterize
    rng = np.random.default_rng(13)
    mu, log_var, epsilon = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    result = call_keeping_arguments(reparameterize, mu, log_var, epsilon, what="reparameterize")
    expected = mu + np.sqrt(np.exp(log_var)) * epsilon
    what = ("reparameterize(mu, log_var, epsilon) for arrays of shape (4, 3) vs "
            "mu + sqrt(exp(log_var)) * epsilon")
    received = np.asarray(result, dtype=float) if result is not None else None
    if received is not None and received.shape == expected.shape and np.isnan(received).any():
        raise AssertionError("NaN received: the square root or log of a negative log_var? log_var is "
                             f"log σ², any real number; σ = exp(log_var / 2)\ncase: {what}")
    fail_if_close(result, mu + np.exp(log_var) * epsilon, expected,
                  "the variance used as the standard deviation: σ = exp(log_var / 2), not exp(log_var)", what)
    fail_if_close(result, mu + log_var * epsilon, expected,
                  "log_var used as the standard deviation: log_var is log σ², so σ = exp(log_var / 2)", what)
    fail_if_close(result, mu + np.exp(2 * log_var) * epsilon, expected,
                  "exp(2·log_var): log_var is log σ² (not log σ), so σ = exp(log_var / 2)", what)
    fail_if_close(result, np.exp(0.5 * log_var) * epsilon, expected, "mu is missing: z = mu + σ ε", what)
    expect_close(result, expected, rtol=1e-7, atol=1e-10, what=what)

    n = 200_000  # many draws of one Gaussian per coordinate: their mean and variance
    target_mean, target_variance = np.array([0.5, -1.0, 2.0]), np.array([0.25, 1.0, 4.0])
    draws = reparameterize(np.tile(target_mean, (n, 1)), np.tile(np.log(target_variance), (n, 1)),
                           rng.standard_normal((n, 3)))
    what = (f"the mean and variance of reparameterize(mu, log_var, epsilon) over {n:,} draws of epsilon, "
            f"for mu = {target_mean.tolist()} and σ² = {target_variance.tolist()}")
    expect_close(np.mean(draws, axis=0), target_mean, atol=0.02, rtol=0, what=what + " (mean)")
    expect_close(np.var(draws, axis=0), target_variance, atol=0, rtol=0.03, what=what + " (variance)")


# --- 1.5 --------------------------------------------------------------------------------------------


def monte_carlo_kl(mu, log_var, rng, n=400_000):
    """E over z ~ N(μ, σ²) of log q(z) − log p(z), from n draws (independent of the closed form)."""
    from scipy.stats import norm

    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((n, len(mu)))
    return float(np.mean(np.sum(norm.logpdf(z, mu, sigma) - norm.logpdf(z), axis=1)))


def test_kl_divergence():
    """Exercise 1.5: kl_divergence, ½ Σ (μ² + σ² − 1 − log σ²) over each row, with σ² = exp(log_var).

    Hint: per example and latent dimension, the KL divergence of N(μ, σ²) from N(0, 1) is half of μ² + σ²
    - 1 - log σ², where σ² is the exponential of log_var; sum it over the latent dimensions: one value per
    example.
    """
    kl_divergence = exercises().kl_divergence
    rng = np.random.default_rng(21)
    mu, log_var = rng.normal(size=(5, 3)), rng.normal(scale=0.8, size=(5, 3))
    mu[0], log_var[0] = 0.0, 0.0  # the prior itself: KL = 0
    result = call_keeping_arguments(kl_divergence, mu, log_var, what="kl_divergence")
    sigma = np.exp(0.5 * log_var)
    expected = np.sum(-np.log(sigma) + (sigma**2 + mu**2) / 2 - 0.5, axis=1)  # (5,), written with σ
    for row in (1, 2):  # the reference itself, against sampling
        estimate = monte_carlo_kl(mu[row], log_var[row], rng)
        if not math.isclose(estimate, expected[row], rel_tol=0.03, abs_tol=0.01):
            raise RuntimeError(f"reference KL {expected[row]} differs from its Monte Carlo estimate "
                               f"{estimate}")
    what = ("kl_divergence(mu, log_var) for 5 rows of 3 coordinates (row 0: mu = 0, log_var = 0) vs "
            "Σ (−log σ + (σ² + μ²)/2 − ½), confirmed by a Monte Carlo estimate with scipy.stats.norm")
    fail_if_shape(result, expected.shape, {
        (): "one number for the whole batch: return one KL per row, summed over its coordinates only "
            "(axis=1)",
        mu.shape: "one value per coordinate: sum over the coordinates of each row (axis=1)",
        mu.shape[1:]: "summed over the batch (axis 0): return one KL per row, summed over its "
                      "coordinates (axis=1)",
    }, what)
    received = np.asarray(result, dtype=float) if result is not None else None
    if received is not None and received.shape == expected.shape and np.isnan(received).any():
        raise AssertionError("NaN received: the log of a negative number? log_var already is log σ²; "
                             f"σ² = exp(log_var) and log σ² = log_var\ncase: {what}")
    fail_if_close(result, 2 * expected, expected, "twice too large: the ½ is missing", what)
    fail_if_close(result, -expected, expected, "sign flipped: KL ≥ 0, ½ (μ² + σ² − 1 − log σ²)", what)
    fail_if_close(result, expected / 3, expected,
                  "averaged over the coordinates: the KL of independent coordinates is their sum", what)
    fail_if_close(result, 0.5 * np.sum(mu**2 + np.exp(2 * log_var) - 1 - 2 * log_var, axis=1), expected,
                  "log_var read as log σ: it is log σ², so σ² = exp(log_var)", what)
    fail_if_close(result, 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 + log_var, axis=1), expected,
                  "+ log σ²: the formula subtracts it, ½ (μ² + σ² − 1 − log σ²)", what)
    expect_close(result, expected, rtol=1e-7, atol=1e-10, what=what)
