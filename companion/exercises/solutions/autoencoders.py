"""Exercises for the autoencoders lecture: PCA, PSNR, the sparsity penalty and the VAE's pieces, in NumPy.

Fill in each function marked "Exercise": replace its `raise NotImplementedError(...)` line with your
code. `companion check autoencoders --dir .` compares each of them with an independent reference:
scikit-learn's PCA, TensorFlow's tf.image.psnr, the loss that Keras' ActivityRegularization layer
adds, the moments of many reparameterized samples, and a Monte Carlo estimate of the KL divergence.

Conventions: images are arrays (n, height, width, channels) with values in [0, 1]; a batch of codes
has shape (n, code_size); mu and log_var (the log-variance log σ², not σ) have shape (n, latent_dim).
Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import numpy as np


def pca_reconstruct(x, k):
    """Exercise 1.1: project the rows of x onto their top k principal components and back.

    x has shape (n, d): n examples of d features. Centre it (subtract the mean row), find the k
    directions of largest variance (the first k right singular vectors of the centred data, from
    np.linalg.svd(centred, full_matrices=False)), project each centred row onto their span, and add
    the mean back: the result has shape (n, d), the best rank-k approximation of x around its mean
    (what a linear autoencoder with a code of k numbers learns). Raise ValueError unless
    1 <= k <= min(n, d).
    """
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"Expected 1 <= k <= min(n, d) = {min(x.shape)}. Received: k={k!r}")
    mean = x.mean(axis=0)  # (d,)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)  # vt: (min(n, d), d), rows by variance
    components = vt[:k]  # (k, d)
    codes = (x - mean) @ components.T  # (n, k)
    return mean + codes @ components
    # END SOLUTION


def psnr(clean, noisy, max_value=1.0):
    """Exercise 1.2: the peak signal-to-noise ratio of each image, in decibels: shape (n,).

    clean and noisy have shape (n, height, width, channels). For image i, with
    mse_i = the mean of (clean[i] - noisy[i])² over its pixels and channels,
    PSNR_i = 10·log10(max_value² / mse_i): higher is better, and every halving of the error adds
    about 3 dB. (Identical images would give infinity; you need not handle them.)
    """
    # BEGIN SOLUTION
    clean, noisy = np.asarray(clean, dtype=float), np.asarray(noisy, dtype=float)
    mse = np.mean((clean - noisy) ** 2, axis=(1, 2, 3))  # (n,)
    return 10 * np.log10(max_value**2 / mse)
    # END SOLUTION


def l1_activity_penalty(codes, l1):
    """Exercise 1.3: the sparsity penalty that an L1 activity regularizer adds to a Keras loss.

    codes has shape (batch, code_size). The penalty is l1 times the sum of the absolute code values,
    divided by the batch size (Keras 3 averages it over the batch, so that it does not grow with
    the batch): l1 · Σ_ij |codes[i, j]| / batch. Return a float.
    """
    # BEGIN SOLUTION
    codes = np.asarray(codes, dtype=float)
    return float(l1 * np.abs(codes).sum() / len(codes))
    # END SOLUTION


def reparameterize(mu, log_var, epsilon):
    """Exercise 1.4: the reparameterization trick, z = μ + σ ⊙ ε.

    mu and log_var (log σ²) have shape (n, latent_dim); epsilon, of the same shape, holds draws of
    N(0, 1). Return z = mu + sigma * epsilon, where sigma = exp(log_var / 2) is the standard
    deviation: z is then a draw of N(μ, σ²), yet a plain differentiable function of μ and log σ².
    """
    # BEGIN SOLUTION
    mu, log_var, epsilon = (np.asarray(a, dtype=float) for a in (mu, log_var, epsilon))
    return mu + np.exp(0.5 * log_var) * epsilon
    # END SOLUTION


def kl_divergence(mu, log_var):
    """Exercise 1.5: KL(N(μ, σ²) ‖ N(0, I)) for each example: shape (n,), in nats.

    mu and log_var (log σ²) have shape (n, latent_dim), one diagonal Gaussian per row. For one
    coordinate, KL(N(μ, σ²) ‖ N(0, 1)) = ½ (μ² + σ² − 1 − log σ²); the coordinates are independent,
    so the KL of a row is the sum over its coordinates. It is 0 when μ = 0 and σ = 1, positive
    otherwise: the VAE's loss adds it to pull every code distribution towards the prior.
    """
    # BEGIN SOLUTION
    mu, log_var = np.asarray(mu, dtype=float), np.asarray(log_var, dtype=float)
    return 0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - log_var, axis=1)
    # END SOLUTION
