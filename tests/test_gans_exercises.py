"""The GANs exercises: each check names the typical mistake of a student file that makes it.

Every case is the reference solution with one exercise function rewritten to make one mistake; the
check of that exercise, run in this process, must fail with an AssertionError whose first line names
it. That the reference solutions pass every check and the fresh stubs fail each one is tested for
every topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

DISCRIMINATOR = "def discriminator_loss(real_logits, fake_logits):\n    return {}"
GENERATOR = "def generator_loss(fake_logits):\n    return {}"
REAL = "np.logaddexp(0, -real_logits)"  # the real images' cross-entropies, targets 1
FAKE = "np.logaddexp(0, fake_logits)"  # the generated images' cross-entropies, targets 0

SMOOTHED = """
    def smoothed_discriminator_loss(real_logits, fake_logits, smoothing=0.1):
        {guard}
        return {wrap}({real} + {fake})
    """


def smoothed(real="np.mean(np.logaddexp(0, real_logits) - (1 - smoothing) * real_logits)",
             fake="np.mean(np.logaddexp(0, fake_logits))",
             guard="if not 0 <= smoothing < 1: raise ValueError()", wrap="float"):
    """The source of a smoothed_discriminator_loss with one piece replaced by a typical mistake."""
    return SMOOTHED.format(real=real, fake=fake, guard=guard, wrap=wrap)


SMOOTHED_FROM_PROBABILITIES = """
    def smoothed_discriminator_loss(real_logits, fake_logits, smoothing=0.1):
        if not 0 <= smoothing < 1:
            raise ValueError(smoothing)
        t, real, fake = 1 - smoothing, sigmoid(real_logits), sigmoid(fake_logits)
        return float(np.mean(-t * np.log(real) - (1 - t) * np.log(1 - real)) - np.mean(np.log(1 - fake)))
    """

UPDATE = """
    def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
        a, b = theta_g
        w, c = theta_d
        x_fake = a * z + b
        error_real = sigmoid(w * x_real + c) - {real_target}
        error_fake = sigmoid(w * x_fake + c) - {fake_target}
        new_w = w {d_sign} learning_rate * ({mean}(error_real * x_real) + {mean}(error_fake * x_fake))
        new_c = c {d_sign} learning_rate * ({mean}(error_real) + {mean}(error_fake))
        w_seen, c_seen = {seen}
        error = {generator_error}
        grad_a, grad_b = {mean}(error * w_seen * z), {mean}(error * w_seen)
        {discriminator_also}
        new_theta_g = np.array([a, b]) {sign} learning_rate * np.array([grad_a, grad_b])
        return {returned}
    """


def update(real_target="1.0", fake_target="0.0", seen="new_w, new_c",
           generator_error="sigmoid(w_seen * x_fake + c_seen) - 1.0", discriminator_also="", sign="-",
           d_sign="-", mean="np.mean", returned="new_theta_g, np.array([new_w, new_c])"):
    """The source of an alternating_update with one piece replaced by a typical mistake."""
    return UPDATE.format(real_target=real_target, fake_target=fake_target, seen=seen,
                         generator_error=generator_error, discriminator_also=discriminator_also, sign=sign,
                         d_sign=d_sign, mean=mean, returned=returned)


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

GENERATOR_FIRST = """
    def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
        a, b = theta_g
        w, c = theta_d
        error = sigmoid(w * (a * z + b) + c) - 1.0
        a, b = a - learning_rate * np.mean(error * w * z), b - learning_rate * np.mean(error * w)
        x_fake = a * z + b
        error_real = sigmoid(w * x_real + c) - 1.0
        error_fake = sigmoid(w * x_fake + c)
        new_w = w - learning_rate * (np.mean(error_real * x_real) + np.mean(error_fake * x_fake))
        new_c = c - learning_rate * (np.mean(error_real) + np.mean(error_fake))
        return np.array([a, b]), np.array([new_w, new_c])
    """

DISCRIMINATOR_MOVES_G = """
    def alternating_update(theta_g, theta_d, x_real, z, learning_rate):
        a, b = theta_g
        w, c = theta_d
        x_fake = a * z + b
        error_real = sigmoid(w * x_real + c) - 1.0
        error_fake = sigmoid(w * x_fake + c)
        a, b = a - learning_rate * np.mean(error_fake * w * z), b - learning_rate * np.mean(error_fake * w)
        w = w - learning_rate * (np.mean(error_real * x_real) + np.mean(error_fake * x_fake))
        c = c - learning_rate * (np.mean(error_real) + np.mean(error_fake))
        error = sigmoid(w * (a * z + b) + c) - 1.0
        grad_a, grad_b = np.mean(error * w * z), np.mean(error * w)
        return np.array([a - learning_rate * grad_a, b - learning_rate * grad_b]), np.array([w, c])
    """

FRECHET = """
    def frechet_distance(mu1, sigma1, mu2, sigma2):
        from scipy.linalg import sqrtm
        root = {root}
        return {result}
    """
UNCLIPPED = "float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2) - 2 * root)"


def frechet(root="np.sum(np.sqrt(np.clip(np.linalg.eigvals(sigma1 @ sigma2).real, 0, None)))",
            result=f"max({UNCLIPPED}, 0.0)"):
    """The source of a frechet_distance with one piece replaced by a typical mistake."""
    return FRECHET.format(root=root, result=result)


FRECHET_IN_PLACE = """
    def frechet_distance(mu1, sigma1, mu2, sigma2):
        mu1 -= mu2
        root = np.sum(np.sqrt(np.clip(np.linalg.eigvals(sigma1 @ sigma2).real, 0, None)))
        return max(float(np.sum(mu1 ** 2) + np.trace(sigma1 + sigma2) - 2 * root), 0.0)
    """

CASES = [
    pytest.param("discriminator_loss", DISCRIMINATOR.format(
        "float(np.mean(np.logaddexp(0, real_logits)) + np.mean(np.logaddexp(0, -fake_logits)))"),
        "labels swapped: real images are labelled 1", id="d-swapped-labels"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(
        "float(np.mean(np.logaddexp(0, -sigmoid(real_logits)))"
        " + np.mean(np.logaddexp(0, sigmoid(fake_logits))))"),
        "probabilities where logits are expected: the sigmoid is applied twice", id="d-sigmoid-twice"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(f"float(np.sum({REAL}) + np.sum({FAKE}))"),
                 "sum instead of mean", id="d-sum"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(
        "float(-np.mean(np.log(sigmoid(real_logits))) - np.mean(np.log(1 - sigmoid(fake_logits))))"),
        "not numerically stable: FloatingPointError: divide by zero", id="d-unstable"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(f"np.mean({REAL}) + {FAKE}"),
                 "shape mismatch: received shape (4,): one loss per example", id="d-per-example"),
    pytest.param("discriminator_loss",
                 DISCRIMINATOR.format(f"float(np.mean(np.concatenate([{REAL}, {FAKE}])))"),
                 "the two batches averaged together", id="d-batches-averaged-together"),
    pytest.param("discriminator_loss",
                 DISCRIMINATOR.format(f"float((np.mean({REAL}) + np.mean({FAKE})) / 2)"),
                 "half the loss", id="d-half"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(f"float(np.mean({REAL}))"),
                 "the generated batch's loss is missing", id="d-no-generated-loss"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(f"float(np.mean({FAKE}))"),
                 "the real batch's loss is missing", id="d-no-real-loss"),
    pytest.param("discriminator_loss", DISCRIMINATOR.format(f"-float(np.mean({REAL}) + np.mean({FAKE}))"),
                 "sign flipped", id="d-sign"),
    pytest.param("generator_loss", GENERATOR.format("float(-np.mean(np.logaddexp(0, fake_logits)))"),
                 "the saturating loss mean(log(1 - sigmoid(l)))", id="g-saturating"),
    pytest.param("generator_loss", GENERATOR.format("float(np.mean(np.logaddexp(0, fake_logits)))"),
                 "the saturating loss with its sign flipped", id="g-saturating-flipped"),
    pytest.param("generator_loss", GENERATOR.format("float(np.mean(np.log(1 + np.exp(-fake_logits))))"),
                 "not numerically stable: FloatingPointError: overflow", id="g-unstable"),
    pytest.param("generator_loss", GENERATOR.format("np.logaddexp(0, -fake_logits)"),
                 "shape mismatch: received shape (4,): one loss per example", id="g-per-example"),
    pytest.param("generator_loss", GENERATOR.format("-float(np.mean(np.logaddexp(0, -fake_logits)))"),
                 "sign flipped", id="g-sign"),
    pytest.param("generator_loss", GENERATOR.format("float(np.mean(np.logaddexp(0, -sigmoid(fake_logits))))"),
                 "probabilities where logits are expected: the sigmoid is applied twice",
                 id="g-sigmoid-twice"),
    pytest.param("generator_loss", GENERATOR.format("float(np.sum(np.logaddexp(0, -fake_logits)))"),
                 "sum instead of mean", id="g-sum"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(fake="np.mean(np.logaddexp(0, fake_logits) - smoothing * fake_logits)"),
                 "two-sided smoothing", id="two-sided-smoothing"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(real="np.mean(np.logaddexp(0, real_logits) - (1 - smoothing / 2) * real_logits)",
                          fake="np.mean(np.logaddexp(0, fake_logits) - smoothing / 2 * fake_logits)"),
                 "Keras' label_smoothing", id="keras-label-smoothing"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(real="np.mean(np.logaddexp(0, real_logits) - smoothing * real_logits)"),
                 "targets = smoothing", id="smoothing-as-target"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(real="np.mean(np.logaddexp(0, real_logits))",
                          fake="np.mean(np.logaddexp(0, fake_logits) - (1 - smoothing) * fake_logits)"),
                 "labels swapped", id="smoothed-swapped-labels"),
    pytest.param("smoothed_discriminator_loss", smoothed(real=f"np.mean({REAL})"), "smoothing ignored",
                 id="smoothing-ignored"),
    pytest.param("smoothed_discriminator_loss", smoothed(real=f"(1 - smoothing) * np.mean({REAL})"),
                 "the (1 - t) log(1 - sigmoid(l)) term is missing", id="smoothed-one-term"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(real="np.sum(np.logaddexp(0, real_logits) - (1 - smoothing) * real_logits)",
                          fake=f"np.sum({FAKE})"),
                 "sum instead of mean", id="smoothed-sum"),
    pytest.param("smoothed_discriminator_loss",
                 smoothed(real="np.logaddexp(0, real_logits) - (1 - smoothing) * real_logits", wrap=""),
                 "shape mismatch: received shape (4,): one loss per example", id="smoothed-per-example"),
    pytest.param("smoothed_discriminator_loss", SMOOTHED_FROM_PROBABILITIES,
                 "not numerically stable: FloatingPointError: divide by zero", id="smoothed-unstable"),
    pytest.param("smoothed_discriminator_loss", smoothed(guard="pass"),
                 "no ValueError raised: smoothed_discriminator_loss(real_logits, fake_logits, "
                 "smoothing=-0.1)",
                 id="no-value-error"),
    pytest.param("alternating_update",
                 update(discriminator_also="new_w, new_c = new_w - learning_rate * np.mean(error * x_fake), "
                                           "new_c - learning_rate * np.mean(error)"),
                 "the generator's step changed the discriminator too", id="g-moves-d"),
    pytest.param("alternating_update", DISCRIMINATOR_MOVES_G,
                 "the discriminator's step changed the generator too",
                 id="d-moves-g"),
    pytest.param("alternating_update", update(seen="w, c"),
                 "the generator's step saw the old discriminator (a simultaneous update)",
                 id="stale-discriminator"),
    pytest.param("alternating_update", GENERATOR_FIRST, "the generator stepped first", id="generator-first"),
    pytest.param("alternating_update", update(generator_error="-sigmoid(w_seen * x_fake + c_seen)"),
                 "the saturating generator loss", id="update-saturating"),
    pytest.param("alternating_update", update(generator_error="sigmoid(w_seen * x_fake + c_seen)"),
                 "the generator's targets are 0", id="generator-targets-0"),
    pytest.param("alternating_update", update(real_target="0.0", fake_target="1.0"),
                 "labels swapped in the discriminator's step", id="update-swapped-labels"),
    pytest.param("alternating_update", update(sign="+"),
                 "gradient ascent in the generator's step (a sign error)",
                 id="g-ascent"),
    pytest.param("alternating_update", update(d_sign="+"),
                 "gradient ascent in the discriminator's step (a sign error)", id="d-ascent"),
    pytest.param("alternating_update", update(sign="+", d_sign="+"), "gradient ascent in both steps",
                 id="both-ascent"),
    pytest.param("alternating_update", update(mean="np.sum"), "gradients summed over the batch, not averaged",
                 id="update-summed"),
    pytest.param("alternating_update", update(returned="np.array([new_w, new_c]), new_theta_g"),
                 "the pair is in the wrong order", id="update-pair-swapped"),
    pytest.param("alternating_update", IN_PLACE,
                 "theta_d (the argument of alternating_update) was modified in place",
                 id="in-place"),
    pytest.param("frechet_distance", frechet(result=f"max({UNCLIPPED.replace('2 * root', 'root')}, 0.0)"),
                 "the factor 2 is missing", id="frechet-no-2"),
    pytest.param("frechet_distance", frechet(root="np.trace(np.sqrt(sigma1 * sigma2))"),
                 "an element-wise square root of sigma1 * sigma2", id="frechet-elementwise-sqrt"),
    pytest.param("frechet_distance", frechet(root="np.trace(np.sqrt(sigma1 @ sigma2))"),
                 "an element-wise square root of sigma1 @ sigma2", id="frechet-elementwise-sqrt-of-product"),
    pytest.param("frechet_distance", frechet(root="np.trace(sqrtm(sigma1) @ sqrtm(sigma2)).real"),
                 "the product of the square roots", id="frechet-product-of-roots"),
    pytest.param("frechet_distance", frechet(root="np.trace(sigma1 @ sigma2)", result=UNCLIPPED),
                 "no square root", id="frechet-no-sqrt"),
    pytest.param("frechet_distance",
                 frechet(result="float(np.linalg.norm(mu1 - mu2) + np.trace(sigma1 + sigma2) - 2 * root)"),
                 "the mean difference not squared", id="frechet-norm"),
    pytest.param("frechet_distance", frechet(result=f"np.sqrt(max({UNCLIPPED}, 0.0))"),
                 "the square root of the whole distance", id="frechet-sqrt"),
    pytest.param("frechet_distance", frechet(root="np.sum(np.sqrt(np.linalg.eigvals(sigma1 @ sigma2) + 0j))",
                                             result=UNCLIPPED.removeprefix("float")),
                 "complex result", id="frechet-complex"),
    pytest.param("frechet_distance", frechet(root="np.sum(np.sqrt(sigma1 @ sigma2))"), "NaN received",
                 id="frechet-nan"),
    pytest.param("frechet_distance", FRECHET_IN_PLACE,
                 "mu1 (the argument of frechet_distance) was modified in place",
                 id="frechet-in-place"),
]


@pytest.mark.parametrize("exercise, code, first_line", CASES)
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # the students' NaN
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("gans", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None, "the check passed"
    assert message.startswith(first_line), message


def test_an_unclipped_frechet_distance_is_named_where_rounding_leaves_it_negative(tmp_path, monkeypatch):
    """The distance of a Gaussian to itself, computed without the clip at 0, comes out about -4e-13 with
    the check's covariance here; rounding differs between platforms, so where it is >= 0, skip."""
    message = check_failure("gans", "frechet_distance", {"frechet_distance": frechet(result=UNCLIPPED)},
                            tmp_path, monkeypatch)
    if message is None:
        pytest.skip("rounding left the distance of the check's Gaussian to itself >= 0 on this platform")
    assert message.startswith("negative distance received"), message
