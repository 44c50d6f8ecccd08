"""Exercises for the frontiers lecture: attention weights, an adversarial example, gradient estimators
and Monte-Carlo dropout, in NumPy (and one Keras model).

Fill in each function below: replace its `raise NotImplementedError(...)` line with your code.
Check your work with `companion check frontiers --dir .` (one line per exercise, with a hint when it
fails), or with plain `pytest` in this folder. The checks compare your functions with Keras'
Softmax layer and its mask, with the closed-form input gradient of a softmax regression, with exact
gradients of expectations (d/dμ E[z²] = 2μ for z ~ N(μ, σ²), and one of a Bernoulli variable) that
your estimators must hit on average, with automatic differentiation, and with the mean and variance
of a dropout network that are known in closed form.

Conventions, as in the lecture:

- Attention scores have shape (n, T): one score per position t of each of n sequences; a mask of the
  same shape is True where a position holds a token and False on the padding.
- Pixels lie in [0, 1].
- An estimator returns one estimate per sample; their mean estimates the gradient. Samples lie along
  the last axis: arrays of shape (n,), or (batches, n) for many batches of n samples at once.

Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import numpy as np


def attention_weights(scores, mask):
    """Exercise 1.1: soft attention's weights: a softmax over the positions, padding masked out.

    scores (n, T) are floats, mask (n, T) booleans, with at least one True per row. Return weights
    (n, T): in each row (axis 1, the positions), exp(score) of the positions the mask keeps,
    divided by their sum, and exactly 0 on the padding; each row sums to 1. This is what Keras'
    Softmax(axis=-1)(scores, mask=mask) computes in the lecture's attention model.

    Scores in the thousands are ordinary for a trained model, and exp(1000) overflows: subtract each
    row's largest kept score first (softmax does not change when every score of a row moves by the
    same amount). A padded position must get weight 0 whatever its score: giving it a score of 0
    is not enough (exp(0 - max) is not 0); leave it out of the maximum and of the sum.
    """
    # BEGIN SOLUTION
    scores, mask = np.asarray(scores, dtype=float), np.asarray(mask, dtype=bool)
    kept = np.where(mask, scores, -np.inf)
    shifted = np.where(mask, scores - np.max(kept, axis=1, keepdims=True), 0.0)  # <= 0 where kept
    exponentials = np.where(mask, np.exp(shifted), 0.0)
    return exponentials / np.sum(exponentials, axis=1, keepdims=True)
    # END SOLUTION


def fgsm(x, gradient, epsilon):
    """Exercise 1.2: the fast gradient sign method, given the gradient of the loss with respect to x.

    x are images with pixels in [0, 1] (any shape), gradient the gradient of the model's loss with
    respect to them (same shape), epsilon the budget: how far each pixel may move. The attack moves
    every pixel by epsilon in the direction that increases the loss, the sign of its gradient
    (+ε, -ε, or 0 where the gradient is 0), then clips the result back into the pixel range [0, 1]:

        x_adv = clip(x + ε·sign(∇x loss), 0, 1)

    In the lecture the gradient comes from `companion.autodiff`; here it is given.
    """
    # BEGIN SOLUTION
    x, gradient = np.asarray(x, dtype=float), np.asarray(gradient, dtype=float)
    return np.clip(x + epsilon * np.sign(gradient), 0.0, 1.0)
    # END SOLUTION


def reinforce_gradient(f_values, score_values, baseline=True):
    """Exercise 1.3: the score-function (REINFORCE) estimates of ∂/∂θ E[f(z)], z ~ p(z; θ).

    f_values are f(z_i) for samples z_i, score_values the log-derivatives ∂ log p(z_i; θ)/∂θ at the
    same samples; both of shape (n,), or (batches, n) with the samples of each batch along the last
    axis. Without a baseline each sample's estimate is f(z_i)·∂ log p(z_i; θ)/∂θ. With one
    (baseline=True) it is (f(z_i) - b_i)·∂ log p(z_i; θ)/∂θ, where b_i is the mean of f over the
    *other* samples of the same batch (n - 1 of them, leave-one-out): b_i does not depend on z_i,
    so the estimate stays unbiased, and it has a smaller variance. A baseline that includes the
    sample's own f(z_i) is correlated with it and biases the estimate (by a factor 1 - 1/n).
    Return the estimates, of the shape of f_values.
    """
    # BEGIN SOLUTION
    f_values, score_values = np.asarray(f_values, dtype=float), np.asarray(score_values, dtype=float)
    if not baseline:
        return f_values * score_values
    n = f_values.shape[-1]
    others = (np.sum(f_values, axis=-1, keepdims=True) - f_values) / (n - 1)
    return (f_values - others) * score_values
    # END SOLUTION


def reparameterized_gradient(mu, sigma, eps, f_prime):
    """Exercise 1.4: the reparameterized (pathwise) estimates of ∂/∂μ E[f(z)], z ~ N(μ, σ²).

    Write each sample as z_i = μ + σ·ε_i with ε_i ~ N(0, 1) given in eps (any shape); μ and σ are
    numbers. Then E[f(z)] = E[f(μ + σε)], and the derivative moves inside the expectation: each
    sample's estimate is ∂f(μ + σε_i)/∂μ = f'(μ + σε_i)·1. f_prime is the derivative f' (a function
    of an array). Return the estimates, of the shape of eps.
    """
    # BEGIN SOLUTION
    z = mu + sigma * np.asarray(eps, dtype=float)
    return np.asarray(f_prime(z), dtype=float)
    # END SOLUTION


def mc_dropout_predict(model, x, passes):
    """Exercise 1.5: Monte-Carlo dropout: the mean and the variance of `passes` stochastic predictions.

    model is a Keras model with Dropout layers, x a batch of its inputs. Call the model `passes` times
    with dropout on (model(x, training=True): each call drops other units), convert each output to
    NumPy (keras.ops.convert_to_numpy), and return (mean, variance) over the passes, each of the
    shape of one output. The mean is the prediction; the variance is how much the sampled networks
    disagree, a measure of the model's uncertainty. (model.predict and model(x) run with dropout
    off: every pass would be the same, and the variance 0.)
    """
    # BEGIN SOLUTION
    import keras

    outputs = np.stack([keras.ops.convert_to_numpy(model(x, training=True)) for _ in range(passes)])
    return outputs.mean(axis=0), outputs.var(axis=0)
    # END SOLUTION
