"""Checks for the GANs exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before TensorFlow loads) and compares it with an
independent reference: keras.losses.BinaryCrossentropy(from_logits=True) in float64, on ordinary
logits and on logits of ±100 and ±1000; the same two training steps differentiated by
tf.GradientTape; and the Fréchet distance in closed form (one dimension, diagonal covariances) and
through the symmetric matrix sigma1^{1/2} sigma2 sigma1^{1/2}. Where a typical mistake (swapped
labels, probabilities for logits, a sum for a mean, the saturating generator loss, two-sided
smoothing, a step that moves the other player or sees the old discriminator, gradient ascent, an
element-wise square root, the factor 2 missing) explains the received values, the failure names it.
"""

import numpy as np

from companion.exercises._expect import (
    call_strictly,
    expect_close,
    expect_tuple,
    expect_unchanged,
    expect_value_error,
    fail_if_close,
    fail_if_shape,
    matches,
)
from companion.exercises._loader import load_exercises

STABLE_FIX = ("compute from the logits: -log sigmoid(l) = np.logaddexp(0, -l) and "
              "-log(1 - sigmoid(l)) = np.logaddexp(0, l) never overflow, while sigmoid(100) rounds to "
              "exactly 1 and log(1 - 1) = -inf")


def exercises():
    return load_exercises("gans", __file__)


# --- helpers ------------------------------------------------------------------------------------


def softplus(x):
    """log(1 + exp(x)) for the mistakes' values (the references come from Keras)."""
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def keras_bce(targets, logits):
    """keras.losses.BinaryCrossentropy(from_logits=True) in float64: the mean over the batch."""
    import keras

    loss = keras.losses.BinaryCrossentropy(from_logits=True, dtype="float64")
    logits = np.asarray(logits, dtype=float)
    return float(keras.ops.convert_to_numpy(loss(np.full(logits.shape, float(targets)), logits)))


def show(values):
    return np.array2string(np.asarray(values), precision=3, separator=", ")


def not_a_batch_loss(result, batch, what):
    """A loss per example instead of one number: name it before anything else runs."""
    __tracebackhide__ = True
    fail_if_shape(result, (), {(batch,): "one loss per example: average each batch's losses "
                                         "(np.mean) and return one number"}, what)


def logit_cases():
    """(real_logits, fake_logits): batches of different sizes, equal sizes, and confident logits."""
    rng = np.random.default_rng(7)
    return [
        (np.array([2.1, -0.4, 0.9, 3.0, -1.2]), np.array([-1.5, 0.3, -2.2])),
        (rng.normal(scale=2.0, size=4), rng.normal(scale=2.0, size=4)),
        (np.array([1000.0, 100.0, 2.5, -100.0, -1000.0]), np.array([-1000.0, -100.0, 100.0, 1000.0])),
    ]


# --- 1.1 --------------------------------------------------------------------------------------------


def test_discriminator_loss():
    """Exercise 1.1: discriminator_loss, mean cross-entropy on real (targets 1) plus on generated (0).

    Hint: average the cross-entropy of the real logits against target 1, separately average that of
    the generated logits against target 0, and add the two means. The arguments already are logits:
    write each log(1 + exp(...)) with np.logaddexp, which stays finite for logits of ±1000.
    """
    discriminator_loss = exercises().discriminator_loss
    received = []
    for real, fake in logit_cases():
        call = f"discriminator_loss(real_logits, fake_logits) for real_logits = {show(real)}, " \
               f"fake_logits = {show(fake)}"
        received.append(call_strictly(discriminator_loss, real, fake, what=call, fix=STABLE_FIX))
        if len(real) == len(fake):
            not_a_batch_loss(received[-1], len(real), call)

    for (real, fake), result in zip(logit_cases(), received):
        expected = keras_bce(1, real) + keras_bce(0, fake)
        what = (f"discriminator_loss(real_logits, fake_logits) for real_logits = {show(real)}, "
                f"fake_logits = {show(fake)} vs keras.losses.BinaryCrossentropy(from_logits=True) of "
                f"(ones, real_logits) plus of (zeros, fake_logits)")
        real_term, fake_term = softplus(-real), softplus(fake)  # per example
        for problem, wrong in {
            "labels swapped: real images are labelled 1 and generated ones 0, so the loss is "
            "mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits)))":
                np.mean(softplus(real)) + np.mean(softplus(-fake)),
            "probabilities where logits are expected: the sigmoid is applied twice; the arguments "
            "already are logits, which the from-logits cross-entropy takes as they are":
                np.mean(softplus(-sigmoid(real))) + np.mean(softplus(sigmoid(fake))),
            "sum instead of mean: each batch's loss is the mean over its examples":
                np.sum(real_term) + np.sum(fake_term),
            "the two batches averaged together: this loss is the mean over the real batch plus the "
            "mean over the generated batch":
                np.mean(np.concatenate([real_term, fake_term])),
            "half the loss: add the real batch's mean loss and the generated batch's, do not average "
            "them": (np.mean(real_term) + np.mean(fake_term)) / 2,
            "the generated batch's loss is missing: add mean(-log(1 - sigmoid(fake_logits)))":
                np.mean(real_term),
            "the real batch's loss is missing: add mean(-log sigmoid(real_logits))": np.mean(fake_term),
            "sign flipped: a cross-entropy is >= 0, -log of a probability":
                -(np.mean(real_term) + np.mean(fake_term)),
        }.items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-7, atol=1e-10, what=what)


# --- 1.2 --------------------------------------------------------------------------------------------


def test_generator_loss():
    """Exercise 1.2: generator_loss, the non-saturating -mean(log sigmoid(fake_logits)).

    Hint: the mean cross-entropy of the generated images' logits against target 1 ("real"), that is
    minus the log of the sigmoid of each logit, averaged; write it with np.logaddexp so that it stays
    finite for logits of ±1000.
    """
    generator_loss = exercises().generator_loss
    cases = [np.array([-2.0, -0.5, 0.3, 1.7]), np.random.default_rng(3).normal(scale=3.0, size=6),
             np.array([-1000.0, -100.0, -3.0, 0.0, 100.0, 1000.0])]
    received = []
    for fake in cases:
        call = f"generator_loss(fake_logits) for fake_logits = {show(fake)}"
        received.append(call_strictly(generator_loss, fake, what=call, fix=STABLE_FIX))
        not_a_batch_loss(received[-1], len(fake), call)

    for fake, result in zip(cases, received):
        expected = keras_bce(1, fake)
        what = (f"generator_loss(fake_logits) for fake_logits = {show(fake)} vs "
                f"keras.losses.BinaryCrossentropy(from_logits=True) of (ones, fake_logits)")
        for problem, wrong in {
            "the saturating loss mean(log(1 - sigmoid(l))): its gradient -sigmoid(l) vanishes where the "
            "discriminator rejects the generated images (l very negative), early in training; minimize "
            "-mean(log sigmoid(l)) instead": -np.mean(softplus(fake)),
            "the saturating loss with its sign flipped, -mean(log(1 - sigmoid(l))): that is the "
            "discriminator's loss on generated images (targets 0); the generator's targets are 1, "
            "-mean(log sigmoid(l))": np.mean(softplus(fake)),
            "sign flipped: the loss is -mean(log sigmoid(l)), >= 0": -np.mean(softplus(-fake)),
            "probabilities where logits are expected: the sigmoid is applied twice; the argument "
            "already is a logit": np.mean(softplus(-sigmoid(fake))),
            "sum instead of mean: the loss is the mean over the batch": np.sum(softplus(-fake)),
        }.items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-7, atol=1e-10, what=what)


# --- 1.3 --------------------------------------------------------------------------------------------


def smoothing_mistakes(real, fake, smoothing):
    """{problem: what smoothed_discriminator_loss returns with that mistake}."""
    def loss(real_target, fake_target, average=np.mean):
        return (average(softplus(real) - real_target * real)
                + average(softplus(fake) - fake_target * fake))

    s = smoothing
    return {
        "two-sided smoothing: only the real images' targets are smoothed (1 - smoothing); the "
        "generated images' targets stay 0": loss(1 - s, s),
        "Keras' label_smoothing (two-sided, 1 - smoothing/2 and smoothing/2): one-sided smoothing "
        "gives real images the target 1 - smoothing and generated ones 0": loss(1 - s / 2, s / 2),
        "targets = smoothing: the real images' targets are 1 - smoothing (0.9 for smoothing 0.1)":
            loss(s, 0.0),
        "labels swapped: real images have targets 1 - smoothing, generated ones 0": loss(0.0, 1 - s),
        "smoothing ignored: the real images' targets are 1 - smoothing, not 1": loss(1.0, 0.0),
        "the (1 - t) log(1 - sigmoid(l)) term is missing: with a target t between 0 and 1 both terms "
        "of the cross-entropy count, softplus(l) - t·l":
            np.mean((1 - s) * softplus(-real)) + np.mean(softplus(fake)),
        "sum instead of mean: each batch's loss is the mean over its examples":
            loss(1 - s, 0.0, average=np.sum),
    }


def test_smoothed_discriminator_loss():
    """Exercise 1.3: smoothed_discriminator_loss, one-sided label smoothing: real targets 1 - smoothing.

    Hint: as the discriminator's loss, but the real images' target is 1 - smoothing instead of 1 (the
    generated images' stays 0); the cross-entropy of a logit against a target t is the softplus of the
    logit minus t times the logit. Raise ValueError unless 0 <= smoothing < 1.
    """
    smoothed_discriminator_loss = exercises().smoothed_discriminator_loss
    (real, fake), equal, confident = logit_cases()
    cases = [(real, fake, None), (*equal, 0.2), (real, fake, 0.0), (*confident, 0.1), (*confident, 0.3)]
    received = []
    for real, fake, smoothing in cases:
        arguments = (real, fake) if smoothing is None else (real, fake, smoothing)
        given = "" if smoothing is None else f", smoothing={smoothing}"
        call = (f"smoothed_discriminator_loss(real_logits, fake_logits{given}) for real_logits = "
                f"{show(real)}, fake_logits = {show(fake)}")
        received.append(call_strictly(smoothed_discriminator_loss, *arguments, what=call, fix=STABLE_FIX))
        if len(real) == len(fake):
            not_a_batch_loss(received[-1], len(real), call)

    for (real, fake, smoothing), result in zip(cases, received):
        shown = "the default smoothing" if smoothing is None else f"smoothing={smoothing}"
        smoothing = 0.1 if smoothing is None else smoothing
        expected = keras_bce(1 - smoothing, real) + keras_bce(0, fake)
        what = (f"smoothed_discriminator_loss(real_logits, fake_logits) with {shown}, real_logits = "
                f"{show(real)}, fake_logits = {show(fake)} vs keras.losses.BinaryCrossentropy("
                f"from_logits=True) of (full {1 - smoothing:g}, real_logits) plus of (zeros, fake_logits)")
        for problem, wrong in smoothing_mistakes(real, fake, smoothing).items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-7, atol=1e-10, what=what)

    real, fake = logit_cases()[0]
    for smoothing in (-0.1, 1.0, 1.5):
        expect_value_error(smoothed_discriminator_loss, real, fake, smoothing,
                           what=f"smoothed_discriminator_loss(real_logits, fake_logits, "
                                f"smoothing={smoothing}) must raise ValueError: expected 0 <= smoothing < 1")


# --- 1.4 --------------------------------------------------------------------------------------------


def tape_update(theta_g, theta_d, x_real, z, learning_rate, *, swapped=False, saturating=False,
                stale=False, generator_first=False, generator_moves_d=False, discriminator_moves_g=False,
                d_sign=1.0, g_sign=1.0, summed=False, generator_target=1.0):
    """The two steps written with TensorFlow ops and differentiated by tf.GradientTape, in float64.

    With every keyword at its default this is the reference; each keyword makes one typical mistake.
    """
    import tensorflow as tf

    g = tf.Variable(np.array(theta_g, dtype=float))  # [a, b]
    d = tf.Variable(np.array(theta_d, dtype=float))  # [w, c]
    x_real, z = tf.constant(x_real, tf.float64), tf.constant(z, tf.float64)
    reduce = tf.reduce_sum if summed else tf.reduce_mean

    def cross_entropy(target, logits):
        labels = tf.ones_like(logits) * target
        return reduce(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

    def discriminator_step():
        real_target, fake_target = (0.0, 1.0) if swapped else (1.0, 0.0)
        with tf.GradientTape() as tape:
            x_fake = g[0] * z + g[1]
            real_logits, fake_logits = d[0] * x_real + d[1], d[0] * x_fake + d[1]
            loss = cross_entropy(real_target, real_logits) + cross_entropy(fake_target, fake_logits)
        grad_d, grad_g = tape.gradient(loss, [d, g])
        d.assign_sub(d_sign * learning_rate * grad_d)
        if discriminator_moves_g:
            g.assign_sub(learning_rate * grad_g)

    def generator_step(seen):
        with tf.GradientTape() as tape:
            logits = seen[0] * (g[0] * z + g[1]) + seen[1]
            if saturating:
                loss = reduce(tf.math.log_sigmoid(-logits))  # mean(log(1 - sigmoid(l)))
            else:
                loss = cross_entropy(generator_target, logits)
        grad_g, grad_d = tape.gradient(loss, [g, d])
        g.assign_sub(g_sign * learning_rate * grad_g)
        if generator_moves_d:
            d.assign_sub(learning_rate * grad_d)

    if generator_first:
        generator_step(d)
        discriminator_step()
    else:
        old_d = tf.constant(d.numpy())
        discriminator_step()
        generator_step(old_d if stale else d)
    return g.numpy(), d.numpy()


UPDATE_MISTAKES = {
    "gradient ascent in both steps (a sign error): a gradient-descent step subtracts the gradient, "
    "theta - learning_rate * gradient": dict(d_sign=-1.0, g_sign=-1.0),
    "gradient ascent in the discriminator's step (a sign error): a gradient-descent step subtracts "
    "the learning rate times the gradient from w and from c": dict(d_sign=-1.0),
    "gradient ascent in the generator's step (a sign error): a gradient-descent step subtracts the "
    "learning rate times the gradient from a and from b": dict(g_sign=-1.0),
    "labels swapped in the discriminator's step: real samples have target 1 (error sigmoid(l) - 1), "
    "generated ones target 0 (error sigmoid(l))": dict(swapped=True),
    "the saturating generator loss: minimize -mean(log sigmoid(l)), whose gradient with respect to "
    "the logit is sigmoid(l) - 1, not mean(log(1 - sigmoid(l))) (gradient -sigmoid(l))":
        dict(saturating=True),
    "the generator's targets are 0: that descends the discriminator's loss on the generated samples; "
    "the generator wants them called real, targets 1 (error sigmoid(l) - 1)": dict(generator_target=0.0),
    "the generator's step saw the old discriminator (a simultaneous update): compute its gradient "
    "with the w and c of the discriminator's step just taken": dict(stale=True),
    "the generator stepped first: the discriminator takes its step first, then the generator "
    "against the updated discriminator": dict(generator_first=True),
    "the generator's step changed the discriminator too: each player updates only its own "
    "parameters; theta_d changes only in the discriminator's step": dict(generator_moves_d=True),
    "the discriminator's step changed the generator too: each player updates only its own "
    "parameters; theta_g changes only in the generator's step": dict(discriminator_moves_g=True),
    "gradients summed over the batch, not averaged: each loss is a mean, so each gradient is a mean "
    "over its batch (np.mean)": dict(summed=True),
}


def update_cases():
    """(theta_g, theta_d, x_real, z, learning_rate), batches of different sizes n and m."""
    cases = []
    for seed, learning_rate, n, m in [(0, 0.1, 6, 4), (1, 0.5, 5, 7), (2, 0.05, 8, 3)]:
        rng = np.random.default_rng(seed)
        theta_g = np.array([1.0, 0.0]) + rng.normal(scale=0.5, size=2)
        theta_d = rng.normal(scale=0.8, size=2)
        x_real = rng.normal(loc=2.0, scale=0.5, size=n)
        cases.append((theta_g, theta_d, x_real, rng.normal(size=m), learning_rate))
    return cases


def flat(pair):
    """[a, b, w, c] from (theta_g, theta_d), or None when they are not two arrays of 2 numbers."""
    try:
        values = np.concatenate([np.ravel(np.asarray(part, dtype=float)) for part in pair])
    except (TypeError, ValueError):
        return None
    return values if values.shape == (4,) else None


def test_alternating_update():
    """Exercise 1.4: alternating_update, a discriminator step, then a generator step against it.

    Hint: update the discriminator first: the gradient of its loss with respect to its logit is D(x) - 1
    for a real sample and D(G(z)) for a fake one; multiply by the sample (for w) or by 1 (for c) and
    average. Then update the generator against the new w and c: its non-saturating loss has logit gradient
    D(G(z)) - 1, and the chain rule through the logit and through G(z), which is a z + b, brings in w,
    and z as well for a.
    """
    alternating_update = exercises().alternating_update
    received = []
    for case in update_cases():
        before = [np.copy(argument) for argument in case[:4]]
        result = alternating_update(*case)
        for name, old, argument in zip(("theta_g", "theta_d", "x_real", "z"), before, case[:4]):
            expect_unchanged(old, argument, what=f"{name} (the argument of alternating_update)")
        received.append(result)

    for (theta_g, theta_d, x_real, z, learning_rate), result in zip(update_cases(), received):
        what = (f"alternating_update(theta_g={show(theta_g)}, theta_d={show(theta_d)}, x_real of "
                f"{len(x_real)} samples, z of {len(z)}, learning_rate={learning_rate}) vs the same two "
                f"steps by tf.GradientTape, as [a, b, w, c]")
        new_g, new_d = expect_tuple(result, 2, names="new_theta_g, new_theta_d", what=what)
        expected_g, expected_d = tape_update(theta_g, theta_d, x_real, z, learning_rate)
        if matches(new_g, expected_d) and matches(new_d, expected_g):
            raise AssertionError(f"the pair is in the wrong order: return (new_theta_g, new_theta_d)"
                                 f"\ncase: {what}")
        expected = np.concatenate([expected_g, expected_d])
        for problem, mistake in UPDATE_MISTAKES.items():
            wrong = np.concatenate(tape_update(theta_g, theta_d, x_real, z, learning_rate, **mistake))
            fail_if_close(flat(result), wrong, expected, problem, what)
        expect_close(new_g, expected_g, rtol=1e-7, atol=1e-10, what=f"new_theta_g = [a, b] of {what}")
        expect_close(new_d, expected_d, rtol=1e-7, atol=1e-10, what=f"new_theta_d = [w, c] of {what}")


# --- 1.5 --------------------------------------------------------------------------------------------


def psd_sqrt(sigma):
    """The symmetric square root of a covariance matrix, from its eigendecomposition."""
    values, vectors = np.linalg.eigh(sigma)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(sigma1, sigma2):
    """Tr((sigma1 sigma2)^{1/2}) = Σ sqrt(eigenvalues of sigma1^{1/2} sigma2 sigma1^{1/2})."""
    root1 = psd_sqrt(sigma1)
    return float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0.0, None))))


def frechet_cases():
    """(mu1, sigma1, mu2, sigma2, expected, how): closed forms first, then full covariances."""
    rng = np.random.default_rng(11)
    mu1, mu2 = np.array([0.5]), np.array([-1.0])
    var1, var2 = 4.0, 0.25  # 1-D: (μ1 - μ2)² + (σ1 - σ2)²
    cases = [(mu1, np.array([[var1]]), mu2, np.array([[var2]]), 1.5**2 + (2.0 - 0.5) ** 2,
              "one dimension, (mu1 - mu2)² + (s1 - s2)² with s the standard deviations")]
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    var1, var2 = rng.uniform(0.2, 3.0, size=4), rng.uniform(0.2, 3.0, size=4)
    cases.append((mu1, np.diag(var1), mu2, np.diag(var2),
                  float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)),
                  "diagonal covariances, Σ (mu1 - mu2)² + Σ (s1 - s2)²"))
    for d in (3, 6):  # the means and covariances of two sets of features, as FID fits them
        features1 = rng.normal(size=(60, d)) @ rng.normal(size=(d, d))
        features2 = rng.normal(size=(60, d)) @ rng.normal(size=(d, d)) + 0.5
        mu1, sigma1 = features1.mean(axis=0), np.cov(features1, rowvar=False)
        mu2, sigma2 = features2.mean(axis=0), np.cov(features2, rowvar=False)
        expected = (np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
                    - 2 * trace_sqrt_product(sigma1, sigma2))
        how = f"full {d}x{d} covariances of two feature sets, the trace through sigma1^½ sigma2 sigma1^½"
        cases.append((mu1, sigma1, mu2, sigma2, float(expected), how))
    return cases


def frechet_mistakes(mu1, sigma1, mu2, sigma2):
    """{problem: what frechet_distance returns with that mistake}."""
    traces = np.trace(sigma1) + np.trace(sigma2)
    right = trace_sqrt_product(sigma1, sigma2)
    squared = np.sum((mu1 - mu2) ** 2)
    with np.errstate(invalid="ignore"):  # NaN where the product has a negative diagonal entry
        elementwise_root = np.sqrt(np.diag(sigma1 @ sigma2))
    return {
        "the mean difference not squared: the first term is the squared distance ‖mu1 - mu2‖², the "
        "sum of the squared differences of the means": np.linalg.norm(mu1 - mu2) + traces - 2 * right,
        "the factor 2 is missing: Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})": squared + traces - right,
        "an element-wise square root of sigma1 @ sigma2: (sigma1 sigma2)^{1/2} is a matrix square root; "
        "its trace is the sum of the square roots of the eigenvalues of sigma1 @ sigma2":
            squared + traces - 2 * np.sum(elementwise_root),
        "an element-wise square root of sigma1 * sigma2: (sigma1 sigma2)^{1/2} is the matrix square "
        "root of the matrix product":
            squared + traces - 2 * np.sum(np.sqrt(np.diag(sigma1) * np.diag(sigma2))),
        "the product of the square roots: (sigma1 sigma2)^{1/2} is not sigma1^{1/2} sigma2^{1/2} "
        "unless the matrices commute; take the square root of the product":
            squared + traces - 2 * np.trace(psd_sqrt(sigma1) @ psd_sqrt(sigma2)),
        "no square root: the trace term is Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})":
            squared + traces - 2 * np.trace(sigma1 @ sigma2),
        "the square root of the whole distance: the Fréchet distance (and the FID) is the squared "
        "distance itself": np.sqrt(max(squared + traces - 2 * right, 0.0)),
    }


def number(result):
    """`result` as a float when it is one real number, else None (expect_close reports the rest)."""
    if result is None or np.iscomplexobj(result) or np.ndim(result) != 0:
        return None
    try:
        return float(result)
    except (TypeError, ValueError):
        return None


def test_frechet_distance():
    """Exercise 1.5: frechet_distance, ‖mu1 - mu2‖² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2}).

    Hint: the distance is the squared distance between the means plus the trace of sigma1 + sigma2 - 2
    (sigma1 sigma2)^(1/2); the trace of that square root is the sum of the square roots of the eigenvalues
    of the matrix product of sigma1 and sigma2 (real parts, clipped at 0); round-off can push the total
    slightly below 0, which a distance never is.
    """
    frechet_distance = exercises().frechet_distance
    cases = frechet_cases()
    before = [[np.copy(argument) for argument in case[:4]] for case in cases]
    received = [frechet_distance(*case[:4]) for case in cases]
    mu, sigma = cases[-1][2], cases[-1][3]  # its distance to itself rounds to about -4e-13 unclipped
    same = frechet_distance(mu, sigma, mu, sigma)
    for old, case in zip(before, cases):
        for name, copy, argument in zip(("mu1", "sigma1", "mu2", "sigma2"), old, case[:4]):
            expect_unchanged(copy, argument, what=f"{name} (the argument of frechet_distance)")

    for (mu1, sigma1, mu2, sigma2, expected, how), result in zip(cases, received):
        what = f"frechet_distance(mu1, sigma1, mu2, sigma2) for {how}"
        if np.iscomplexobj(result):
            raise AssertionError(f"complex result: a numerical matrix square root (or the square roots "
                                 f"of eigenvalues) can carry a tiny imaginary part; return the real "
                                 f"part, float(np.real(...))\ncase: {what}\nreceived: {result!r}")
        if number(result) is not None and np.isnan(number(result)):
            raise AssertionError(f"NaN received: the square root of a negative number? sigma1 @ sigma2 "
                                 f"has negative entries; its eigenvalues are >= 0 (clip rounding's tiny "
                                 f"negatives at 0)\ncase: {what}")
        for problem, wrong in frechet_mistakes(mu1, sigma1, mu2, sigma2).items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-7, atol=1e-9, what=what)

    what = "frechet_distance(mu, sigma, mu, sigma), a Gaussian and itself: 0"
    if number(same) is not None and number(same) < 0:
        raise AssertionError(f"negative distance received: rounding can leave a tiny negative number; "
                             f"a distance is >= 0, so clip it, max(distance, 0.0)\ncase: {what}\n"
                             f"received: {same!r}")
    expect_close(same, 0.0, atol=1e-7, rtol=0, what=what)
