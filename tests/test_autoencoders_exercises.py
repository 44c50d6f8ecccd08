"""The autoencoders exercises: each check names the typical mistake of a student file that makes it.

Every case is the reference solution with one exercise function rewritten to make one mistake; the
check of that exercise, run in this process, must fail with an AssertionError whose first line names
it. That the reference solutions pass every check and the fresh stubs fail each one is tested for
every topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

PCA = """
    def pca_reconstruct(x, k):
        {guard}
        mean = x.mean(axis=0)
        centred = {centred}
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        components = {components}
        codes = centred @ components.T
        return {result}
    """


def pca(guard="if not 1 <= k <= min(x.shape): raise ValueError(k)", centred="x - mean",
        components="vt[:k]", result="mean + codes @ components"):
    """The source of a pca_reconstruct with one piece replaced by a typical mistake."""
    return PCA.format(guard=guard, centred=centred, components=components, result=result)


PCA_IN_PLACE = """
    def pca_reconstruct(x, k):
        if not 1 <= k <= min(x.shape):
            raise ValueError(k)
        mean = x.mean(axis=0)
        x -= mean
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        return mean + x @ vt[:k].T @ vt[:k]
    """

PSNR = """
    def psnr(clean, noisy, max_value=1.0):
        mse = np.mean((clean - noisy) ** 2, axis={axes})
        return {result}
    """


def psnr(axes="(1, 2, 3)", result="10 * np.log10(max_value**2 / mse)"):
    """The source of a psnr with one piece replaced by a typical mistake."""
    return PSNR.format(axes=axes, result=result)


L1 = "def l1_activity_penalty(codes, l1):\n    return {}"
REPARAMETERIZE = "def reparameterize(mu, log_var, epsilon):\n    return {}"
KL = "def kl_divergence(mu, log_var):\n    return {}"
TERMS = "mu**2 + np.exp(log_var) - 1 - log_var"  # the KL of each coordinate, times 2

CASES = [
    pytest.param("pca_reconstruct", PCA_IN_PLACE, "argument 1 of pca_reconstruct was modified in place",
                 id="pca-in-place"),
    pytest.param("pca_reconstruct", pca(result="codes"),
                 "shape mismatch: received shape (40, 2): these are the codes", id="pca-codes"),
    pytest.param("pca_reconstruct", pca(result="components"),
                 "shape mismatch: received shape (2, 6): these are the components", id="pca-components"),
    pytest.param("pca_reconstruct", pca(centred="x", result="codes @ components"),
                 "the data are not centred", id="pca-not-centred"),
    pytest.param("pca_reconstruct", pca(result="codes @ components"), "the mean is not added back",
                 id="pca-no-mean"),
    pytest.param("pca_reconstruct", pca(components="vt[-k:]"), "the smallest components", id="pca-smallest"),
    pytest.param("pca_reconstruct", pca(components="vt[:k + 1]"), "one component too many",
                 id="pca-one-too-many"),
    pytest.param("pca_reconstruct", pca(components="vt[:k - 1]"), "one component too few",
                 id="pca-one-too-few"),
    pytest.param("pca_reconstruct", pca(guard="pass"),
                 "no ValueError raised: pca_reconstruct(x of shape (40, 6), k=0)", id="pca-no-value-error"),
    pytest.param("psnr", psnr(axes="(1, 2)"),
                 "shape mismatch: received shape (4, 2): not averaged over all of each image's pixels and "
                 "channels", id="psnr-per-channel"),
    pytest.param("psnr", psnr(axes="None"), "shape mismatch: received one number", id="psnr-one-number"),
    pytest.param("psnr", psnr(result="20 * np.log10(max_value**2 / mse)"), "20·log10 of the squared error",
                 id="psnr-20-log10"),
    pytest.param("psnr", psnr(result="10 * np.log(max_value**2 / mse)"), "natural logarithm", id="psnr-ln"),
    pytest.param("psnr", psnr(result="10 * np.log10(max_value**2 / np.sqrt(mse))"),
                 "the root of the mean squared error", id="psnr-rmse"),
    pytest.param("psnr", psnr(result="10 * np.log10(max_value / mse)"), "max_value not squared",
                 id="psnr-max-not-squared"),
    pytest.param("l1_activity_penalty", L1.format("float(l1 * np.abs(codes).sum())"),
                 "not averaged over the batch", id="l1-not-averaged"),
    pytest.param("l1_activity_penalty", L1.format("float(l1 * np.abs(codes).mean())"),
                 "averaged over every value", id="l1-mean-of-all"),
    pytest.param("l1_activity_penalty", L1.format("float(l1 * np.sum(codes**2) / len(codes))"), "squares",
                 id="l1-squares"),
    pytest.param("l1_activity_penalty", L1.format("float(l1 * np.sum(codes) / len(codes))"),
                 "no absolute value", id="l1-no-abs"),
    pytest.param("l1_activity_penalty", L1.format("float(np.abs(codes).sum() / len(codes))"),
                 "l1 is missing", id="l1-no-factor"),
    pytest.param("reparameterize", REPARAMETERIZE.format("mu + np.sqrt(log_var) * epsilon"), "NaN received",
                 id="reparameterize-nan"),
    pytest.param("reparameterize", REPARAMETERIZE.format("mu + np.exp(log_var) * epsilon"),
                 "the variance used as the standard deviation", id="reparameterize-variance"),
    pytest.param("reparameterize", REPARAMETERIZE.format("mu + log_var * epsilon"),
                 "log_var used as the standard deviation", id="reparameterize-log-var"),
    pytest.param("reparameterize", REPARAMETERIZE.format("mu + np.exp(2 * log_var) * epsilon"),
                 "exp(2·log_var)", id="reparameterize-exp-2"),
    pytest.param("reparameterize", REPARAMETERIZE.format("np.exp(0.5 * log_var) * epsilon"),
                 "mu is missing", id="reparameterize-no-mu"),
    pytest.param("kl_divergence", KL.format(f"0.5 * np.sum({TERMS})"),
                 "shape mismatch: received shape (): one number for the whole batch", id="kl-one-number"),
    pytest.param("kl_divergence", KL.format(f"0.5 * ({TERMS})"),
                 "shape mismatch: received shape (5, 3): one value per coordinate", id="kl-per-coordinate"),
    pytest.param("kl_divergence", KL.format(f"0.5 * np.sum({TERMS}, axis=0)"),
                 "shape mismatch: received shape (3,): summed over the batch", id="kl-axis-0"),
    pytest.param("kl_divergence",
                 KL.format("0.5 * np.sum(mu**2 + np.exp(log_var) - 1 - np.log(log_var), axis=1)"),
                 "NaN received", id="kl-nan"),
    pytest.param("kl_divergence", KL.format(f"np.sum({TERMS}, axis=1)"), "twice too large", id="kl-no-half"),
    pytest.param("kl_divergence", KL.format(f"-0.5 * np.sum({TERMS}, axis=1)"), "sign flipped", id="kl-sign"),
    pytest.param("kl_divergence", KL.format(f"0.5 * np.mean({TERMS}, axis=1)"),
                 "averaged over the coordinates", id="kl-mean"),
    pytest.param("kl_divergence",
                 KL.format("0.5 * np.sum(mu**2 + np.exp(2 * log_var) - 1 - 2 * log_var, axis=1)"),
                 "log_var read as log σ", id="kl-log-sigma"),
    pytest.param("kl_divergence", KL.format("0.5 * np.sum(mu**2 + np.exp(log_var) - 1 + log_var, axis=1)"),
                 "+ log σ²", id="kl-plus-log-var"),
]


@pytest.mark.parametrize("exercise, code, first_line", CASES)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the students' NaN
@pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("autoencoders", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
