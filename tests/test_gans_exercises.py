"""The GANs exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py.
"""

import sys

import pytest
from test_exercises import write_student_file  # the same helper as the other topics' tests

UPDATE = """
    def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
        a, b = theta_g
        w, c = theta_d
        x_fake = a * z + b
        error_real = sigmoid(w * x_real + c) - {real_target}
        error_fake = sigmoid(w * x_fake + c) - {fake_target}
        new_w = w - learning_rate * (np.mean(error_real * x_real) + np.mean(error_fake * x_fake))
        new_c = c - learning_rate * (np.mean(error_real) + np.mean(error_fake))
        w_seen, c_seen = {seen}
        error = {generator_error}
        grad_a, grad_b = np.mean(error * w_seen * z), np.mean(error * w_seen)
        {discriminator_also}
        return np.array([a, b]) {sign} learning_rate * np.array([grad_a, grad_b]), np.array([new_w, new_c])
    """


def update(real_target="1.0", fake_target="0.0", seen="new_w, new_c",
           generator_error="sigmoid(w_seen * x_fake + c_seen) - 1.0", discriminator_also="", sign="-"):
    """The source of an alternating_update with one piece replaced by a typical mistake."""
    return UPDATE.format(real_target=real_target, fake_target=fake_target, seen=seen,
                         generator_error=generator_error, discriminator_also=discriminator_also, sign=sign)


IN_PLACE = """
    def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
        a, b = theta_g
        x_fake = a * z + b
        error_real = sigmoid(theta_d[0] * x_real + theta_d[1]) - 1
        error_fake = sigmoid(theta_d[0] * x_fake + theta_d[1])
        theta_d -= learning_rate * np.array([np.mean(error_real * x_real) + np.mean(error_fake * x_fake),
                                             np.mean(error_real) + np.mean(error_fake)])
        w, c = theta_d
        error = sigmoid(w * x_fake + c) - 1
        grad = np.array([np.mean(error * w * z), np.mean(error * w)])
        return theta_g - learning_rate * grad, theta_d
    """


SMOOTHED = "def smoothed_discriminator_loss(real_logits, fake_logits, smoothing=0.1):\n"

FRECHET = """
    def frechet_distance(mu1, sigma1, mu2, sigma2):
        root = {root}
        return {result}
    """


def frechet(root="np.sum(np.sqrt(np.clip(np.linalg.eigvals(sigma1 @ sigma2).real, 0, None)))",
            result="max(float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) - 2 * root), 0.0)"):
    """The source of a frechet_distance with one piece replaced by a typical mistake."""
    return FRECHET.format(root=root, result=result)


@pytest.mark.parametrize(
    "exercise, code, first_line",
    [
        ("discriminator_loss", "def discriminator_loss(real_logits, fake_logits):\n"
         "    return float(np.mean(np.logaddexp(0, real_logits)) + np.mean(np.logaddexp(0, -fake_logits)))",
         "labels swapped: real images are labelled 1"),
        ("discriminator_loss", "def discriminator_loss(real_logits, fake_logits):\n"
         "    real, fake = sigmoid(real_logits), sigmoid(fake_logits)\n"
         "    return float(np.mean(np.logaddexp(0, -real)) + np.mean(np.logaddexp(0, fake)))",
         "probabilities where logits are expected: the sigmoid is applied twice"),
        ("discriminator_loss", "def discriminator_loss(real_logits, fake_logits):\n"
         "    return float(np.sum(np.logaddexp(0, -real_logits)) + np.sum(np.logaddexp(0, fake_logits)))",
         "sum instead of mean"),
        ("discriminator_loss", "def discriminator_loss(real_logits, fake_logits):\n"
         "    real, fake = sigmoid(real_logits), sigmoid(fake_logits)\n"
         "    return float(-np.mean(np.log(real)) - np.mean(np.log(1 - fake)))",
         "not numerically stable: FloatingPointError: divide by zero"),
        ("generator_loss", "def generator_loss(fake_logits):\n"
         "    return float(-np.mean(np.logaddexp(0, fake_logits)))",
         "the saturating loss mean(log(1 - sigmoid(l)))"),
        ("generator_loss", "def generator_loss(fake_logits):\n"
         "    return float(np.mean(np.logaddexp(0, fake_logits)))",
         "the saturating loss with its sign flipped"),
        ("generator_loss", "def generator_loss(fake_logits):\n"
         "    return float(np.mean(np.log(1 + np.exp(-fake_logits))))",
         "not numerically stable: FloatingPointError: overflow"),
        ("smoothed_discriminator_loss", SMOOTHED
         + "    if not 0 <= smoothing < 1:\n        raise ValueError(smoothing)\n"
         "    real = np.mean(np.logaddexp(0, real_logits) - (1 - smoothing) * real_logits)\n"
         "    return float(real + np.mean(np.logaddexp(0, fake_logits) - smoothing * fake_logits))",
         "two-sided smoothing"),
        ("smoothed_discriminator_loss", SMOOTHED
         + "    if not 0 <= smoothing < 1:\n        raise ValueError(smoothing)\n"
         "    real = np.mean(np.logaddexp(0, real_logits) - smoothing * real_logits)\n"
         "    return float(real + np.mean(np.logaddexp(0, fake_logits)))",
         "targets = smoothing"),
        ("smoothed_discriminator_loss", SMOOTHED
         + "    real = np.mean(np.logaddexp(0, real_logits) - (1 - smoothing) * real_logits)\n"
         "    return float(real + np.mean(np.logaddexp(0, fake_logits)))",
         "no ValueError raised: smoothed_discriminator_loss(real_logits, fake_logits, smoothing=-0.1)"),
        ("alternating_update", update(discriminator_also="new_w, new_c = new_w - learning_rate * "
                                      "np.mean(error * x_fake), new_c - learning_rate * np.mean(error)"),
         "the generator's step changed the discriminator too"),
        ("alternating_update", update(seen="w, c"),
         "the generator's step saw the old discriminator (a simultaneous update)"),
        ("alternating_update", update(generator_error="-sigmoid(w_seen * x_fake + c_seen)"),
         "the saturating generator loss"),
        ("alternating_update", update(generator_error="sigmoid(w_seen * x_fake + c_seen)"),
         "the generator's targets are 0"),
        ("alternating_update", update(real_target="0.0", fake_target="1.0"),
         "labels swapped in the discriminator's step"),
        ("alternating_update", update(sign="+"), "gradient ascent in the generator's step (a sign error)"),
        ("alternating_update", IN_PLACE,
         "theta_d (the argument of alternating_update) was modified in place"),
        ("frechet_distance", frechet(result="float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) "
                                            "- root)"),
         "the factor 2 is missing"),
        ("frechet_distance", frechet(root="np.trace(np.sqrt(sigma1 * sigma2))"),
         "an element-wise square root of sigma1 * sigma2"),
        ("frechet_distance", frechet(result="float(np.linalg.norm(mu1 - mu2) + np.trace(sigma1 + sigma2) "
                                            "- 2 * root)"),
         "the mean difference not squared"),
        ("frechet_distance", frechet(result="float(np.sqrt(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + "
                                            "sigma2) - 2 * root))"),
         "the square root of the whole distance"),
        ("frechet_distance", frechet(root="np.sum(np.sqrt(np.linalg.eigvals(sigma1 @ sigma2) + 0j))",
                                     result="np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) "
                                            "- 2 * root"),
         "complex result"),
    ],
    ids=["d-swapped-labels", "d-sigmoid-twice", "d-sum", "d-unstable", "g-saturating", "g-saturating-flipped",
         "g-unstable", "two-sided-smoothing", "smoothing-as-target", "no-value-error", "g-moves-d",
         "stale-discriminator", "update-saturating", "generator-targets-0", "update-swapped-labels",
         "g-ascent", "in-place", "frechet-no-2", "frechet-elementwise-sqrt", "frechet-norm", "frechet-sqrt",
         "frechet-complex"],
)
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # the students' NaN
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    from companion.exercises._loader import ENV_VAR
    from companion.exercises.checks import test_gans as checks

    monkeypatch.setenv(ENV_VAR, str(write_student_file(tmp_path, "gans", {exercise: code})))
    monkeypatch.delitem(sys.modules, "gans", raising=False)
    with pytest.raises(AssertionError) as error:
        getattr(checks, f"test_{exercise}")()
    assert str(error.value).startswith(first_line), str(error.value)
