"""Exercises for the GANs lecture: the losses, one training step and the Fréchet distance, in NumPy.

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check gans --dir .` (one line per exercise, with a hint when it
fails), or with plain `pytest` in this folder. The checks compare your functions with Keras'
BinaryCrossentropy(from_logits=True), with tf.GradientTape, and with closed forms of the Fréchet
distance.

Conventions, as in the lecture:

- The discriminator outputs a logit l (any real number), not a probability: D(x) = sigmoid(l) is
  the probability it gives to "x is real". Real images are labelled 1, generated images 0.
- The losses work on logits, never on probabilities, so that they stay finite for confident logits
  (l = ±100 or ±1000): the binary cross-entropy of a logit l against a target t is
  softplus(l) - t·l, where softplus(l) = log(1 + exp(l)) = np.logaddexp(0, l) never overflows.
- A loss is the mean over its batch; real_logits and fake_logits are batches of shape (n,) and (m,)
  (n and m may differ). Losses are returned as Python floats.

Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), written so that it never overflows."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def discriminator_loss(real_logits, fake_logits):
    """Exercise 1.1: the discriminator's loss: cross-entropy from logits, real → 1, generated → 0.

    real_logits (n,) are the discriminator's logits on real images, fake_logits (m,) on generated
    ones. The loss is the mean binary cross-entropy on the real batch, with targets 1, plus the mean
    binary cross-entropy on the generated batch, with targets 0:

        mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits)))

    which is what Keras' BinaryCrossentropy(from_logits=True) gives for (ones, real_logits) plus
    (zeros, fake_logits), as in TensorFlow's DCGAN tutorial and the lecture. Compute it from the
    logits: -log sigmoid(l) = log(1 + exp(-l)) = np.logaddexp(0, -l) and
    -log(1 - sigmoid(l)) = np.logaddexp(0, l) are finite for any logit, while the direct form is
    not: sigmoid(100) already rounds to exactly 1.0, and log(1 - 1) = -inf. Return a float.
    """
    # BEGIN SOLUTION
    real_logits, fake_logits = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    real_loss = np.mean(np.logaddexp(0.0, -real_logits))  # targets 1
    fake_loss = np.mean(np.logaddexp(0.0, fake_logits))  # targets 0
    return float(real_loss + fake_loss)
    # END SOLUTION


def generator_loss(fake_logits):
    """Exercise 1.2: the non-saturating generator loss, -mean(log sigmoid(fake_logits)), from logits.

    The generator wants the discriminator to call its images real: it minimizes the cross-entropy
    of the discriminator's logits on generated images against targets 1. Why not minimize
    log(1 - D(G(z))), the discriminator's own loss with the sign flipped (the minimax game)? Early
    in training the discriminator rejects generated images with confidence, D(G(z)) ≈ 0, where
    log(1 - sigmoid(l)) is flat: its gradient with respect to the logit, -sigmoid(l), vanishes and
    the generator learns nothing (it saturates). -log sigmoid(l) has gradient sigmoid(l) - 1 ≈ -1
    there: strongest exactly when the generator is worst. Compute it as np.logaddexp(0, -l),
    finite at l = ±1000. Return a float.
    """
    # BEGIN SOLUTION
    fake_logits = np.asarray(fake_logits, dtype=float)
    return float(np.mean(np.logaddexp(0.0, -fake_logits)))
    # END SOLUTION


def smoothed_discriminator_loss(real_logits, fake_logits, smoothing=0.1):
    """Exercise 1.3: the discriminator's loss with one-sided label smoothing.

    As discriminator_loss, but the real images' targets are 1 - smoothing (0.9 by default) instead
    of 1; the generated images' targets stay 0 (one-sided: smoothing them too would reward the
    discriminator for calling poor samples a little real). The discriminator is then never pushed
    to infinite logits on real images, which keeps its gradients to the generator useful. The
    cross-entropy of a logit l against a target t is -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l))
    = softplus(l) - t·l, with softplus(l) = np.logaddexp(0, l). Raise ValueError unless
    0 <= smoothing < 1. Return a float.
    """
    # BEGIN SOLUTION
    if not 0 <= smoothing < 1:
        raise ValueError(f"Expected 0 <= smoothing < 1. Received: smoothing={smoothing!r}")
    real_logits, fake_logits = np.asarray(real_logits, dtype=float), np.asarray(fake_logits, dtype=float)
    real_target = 1.0 - smoothing
    real_loss = np.mean(np.logaddexp(0.0, real_logits) - real_target * real_logits)
    fake_loss = np.mean(np.logaddexp(0.0, fake_logits))  # targets 0
    return float(real_loss + fake_loss)
    # END SOLUTION


def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
    """Exercise 1.4: one step of GAN training on a 1-D toy GAN, with gradients by hand.

    The generator is G(z) = a·z + b, theta_g = [a, b]; the discriminator's logit is l(x) = w·x + c,
    D(x) = sigmoid(l(x)), theta_d = [w, c]. x_real (n,) are real samples, z (m,) latent samples.

    1. The discriminator takes one gradient-descent step on discriminator_loss (exercise 1.1) of
       its logits on x_real and on the generated samples G(z); only w and c change.
    2. Then the generator takes one gradient-descent step on generator_loss (exercise 1.2) of the
       logits on G(z), as seen by the *updated* discriminator; only a and b change.

    The gradient of a binary cross-entropy with respect to its logit is sigmoid(l) - target; each
    loss is a mean over its batch, so divide by that batch's size; then the chain rule through
    l = w·x + c (and through x = a·z + b for the generator). Return (new_theta_g, new_theta_d) as
    new arrays of shape (2,), leaving the arguments unchanged.
    """
    # BEGIN SOLUTION
    a, b = np.asarray(theta_g, dtype=float)
    w, c = np.asarray(theta_d, dtype=float)
    x_real, z = np.asarray(x_real, dtype=float), np.asarray(z, dtype=float)
    x_fake = a * z + b  # (m,), G(z)

    # 1. The discriminator's step, at the current generator: targets 1 on real, 0 on generated.
    error_real = sigmoid(w * x_real + c) - 1.0  # (n,), dloss/dlogit up to the 1/n of the mean
    error_fake = sigmoid(w * x_fake + c)  # (m,)
    grad_w = np.mean(error_real * x_real) + np.mean(error_fake * x_fake)
    grad_c = np.mean(error_real) + np.mean(error_fake)
    w, c = w - learning_rate * grad_w, c - learning_rate * grad_c

    # 2. The generator's step, through the updated discriminator: l = w·(a·z + b) + c, targets 1.
    error = sigmoid(w * x_fake + c) - 1.0  # (m,)
    grad_a = np.mean(error * w * z)
    grad_b = np.mean(error * w)
    new_theta_g = np.array([a - learning_rate * grad_a, b - learning_rate * grad_b])
    return new_theta_g, np.array([w, c])
    # END SOLUTION


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Exercise 1.5: the Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    mu1, mu2 are means of shape (d,); sigma1, sigma2 covariance matrices of shape (d, d). The
    distance (the FID when the Gaussians are fitted to Inception features of real and generated
    images) is

        ‖mu1 - mu2‖² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})

    where (sigma1 sigma2)^{1/2} is a matrix square root, not an entry-by-entry one. Only its trace is
    needed: it is the sum of the square roots of the eigenvalues of sigma1 @ sigma2, which are real
    and >= 0 (the product is similar to sigma1^{1/2} sigma2 sigma1^{1/2}, a covariance matrix), so
    np.linalg.eigvals gives it; drop the tiny imaginary parts and negative values rounding leaves.
    (scipy.linalg.sqrtm(sigma1 @ sigma2) computes the square root itself; take the real part of
    its trace.) Return a float >= 0: clip a tiny negative result of rounding to 0.
    """
    # BEGIN SOLUTION
    mu1, mu2 = np.asarray(mu1, dtype=float), np.asarray(mu2, dtype=float)
    sigma1, sigma2 = np.asarray(sigma1, dtype=float), np.asarray(sigma2, dtype=float)
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2)  # (d,), real >= 0 up to rounding
    trace_sqrt = np.sum(np.sqrt(np.clip(eigenvalues.real, 0.0, None)))
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    return max(float(distance), 0.0)
    # END SOLUTION
