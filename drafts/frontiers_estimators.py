"""Draft of the frontiers lecture's step 3: gradients of non-differentiable operations (not committed).

Run: python drafts/frontiers_estimators.py [--fast]
"""

import sys

import keras
import matplotlib.pyplot as plt
import numpy as np

from companion import autodiff
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH

lecture = Lecture("frontiers_draft_estimators", "Gradients of expectations (draft)",
                  expected="unbiased score-function and reparameterised estimators", seconds=10)

MU, SIGMA = 2.0, 1.0  # z ~ N(MU, SIGMA²); f(z) = z², so ∂/∂μ E[f(z)] = 2μ; REINFORCE variance μ⁴ + 14μ² + 15 vs 4
THETA, TARGET = 0.3, 0.45  # z ~ Bernoulli(THETA); f(z) = (z - TARGET)², so ∂/∂θ E[f(z)] = 1 - 2·TARGET


def leave_one_out_mean(f):
    """Each sample's baseline: the mean of f over the other samples of its batch, (reps, n) -> (reps, n).
    It does not depend on the sample it is subtracted from, so the estimator stays unbiased."""
    n = f.shape[-1]
    return (f.sum(axis=-1, keepdims=True) - f) / (n - 1)


def gaussian_estimates(rng, reps, n):
    """Per-sample estimates of ∂/∂μ E[z²], z ~ N(μ, σ²), for `reps` batches of `n`: {name: (reps, n)}."""
    eps = rng.standard_normal((reps, n))
    z = MU + SIGMA * eps
    f = z ** 2
    score = (z - MU) / SIGMA ** 2  # ∂ log p(z; μ) / ∂μ
    return {
        "score function (REINFORCE)": f * score,
        "score function, baseline": (f - leave_one_out_mean(f)) * score,
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
        "score function, baseline": (f - leave_one_out_mean(f)) * score,
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
    run.expect(f"{autodiff.name()} through z = μ + σε minus mean of 2z", abs(by_autodiff - np.mean(2 * (MU + SIGMA * eps))),
               at_most=1e-4)

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
        run.report(f"{problem}, {name}: estimate ± SE (exact {exact:g})", f"{mean:.4f} ± {standard_error:.4f}")
        if name != "pathwise through the step":
            run.expect(f"{problem}, {name}: |estimate - exact| / SE", abs(mean - exact) / max(standard_error, 1e-12),
                       at_most=3)
    pathwise, _, exact = checks["Bernoulli", "pathwise through the step"]
    run.expect("Bernoulli, pathwise gradient through the step (exact 0.1)", pathwise, at_most=0)
    ratio = variances["Gaussian", "score function (REINFORCE)"][-1] / variances["Gaussian", "reparameterised"][-1]
    run.expect("Gaussian: variance of REINFORCE / reparameterised", ratio, at_least=10)
    ratio_baseline = (variances["Gaussian", "score function (REINFORCE)"][-1]
                      / variances["Gaussian", "score function, baseline"][-1])
    run.report("Gaussian: variance without / with a baseline", ratio_baseline)

    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained", sharey=False)
    for ax, problem in zip(axes, problems):
        for color, ((name_problem, name), values) in zip(COLORS, [(k, v) for k, v in variances.items()
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


if __name__ == "__main__":
    lecture.run(fast="--fast" in sys.argv, out="/tmp/frontiers_figs")
