"""The frontiers lecture: every step runs and draws its figures; its estimators, attack and
information estimate are checked against independent computations; the recipe is the cnn's."""

import numpy as np
import pytest

from lectures import frontiers

TOPIC = "frontiers"  # the lecture of the `fast_run` fixture (conftest.py)
FIGURES = {  # step number -> the figures it writes
    1: {"soft_attention"},
    2: {"hard_attention"},
    3: {"gradient_estimators"},
    4: {"learning_to_optimize"},
    5: {"fgsm_digits", "adversarial_training"},
    6: {"uncertainty_maps", "uncertainty_measured"},
    7: {"fitting_noise"},
    8: {"information_plane"},
}


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = frontiers.lecture.steps
    assert [step.number for step in steps] == sorted(FIGURES)
    for step in steps:
        assert f"[{step.number}/8] {step.title}" in printed
        step_name = f"{step.number}. {step.title}"
        written = {figure.path.stem for figure in run.figures if figure.step == step_name}
        assert written == FIGURES[step.number], step.title
    for figure in run.figures:
        assert figure.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.caption


def test_the_leave_one_out_baseline_is_the_mean_of_the_other_samples():
    values = np.random.default_rng(0).normal(size=(3, 5))
    expected = np.array([[np.delete(row, i).mean() for i in range(5)] for row in values])
    np.testing.assert_allclose(frontiers.to_numpy(frontiers.leave_one_out_mean(values)), expected, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_estimators_are_unbiased_and_the_path_through_a_step_is_not(seed):
    rng = np.random.default_rng(seed)
    for estimates, exact in [(frontiers.gaussian_estimates, 2 * frontiers.MU),
                             (frontiers.bernoulli_estimates, 1 - 2 * frontiers.TARGET)]:
        for name, samples in estimates(rng, 400, 50).items():
            means = samples.mean(axis=1)
            if name == "pathwise through the step":
                assert np.all(means == 0) and exact != 0  # a biased estimate: the gradient of a step
            else:
                assert abs(means.mean() - exact) <= 4 * means.std() / np.sqrt(len(means)), name


def test_fgsm_follows_the_sign_of_the_input_gradient_and_stays_in_the_pixel_range():
    """On softmax regression without bias the input gradient is (p - onehot(y)) Wᵀ exactly."""
    keras = frontiers.keras
    weights = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax", use_bias=False)])
    model.layers[-1].set_weights([weights])
    x = np.random.default_rng(1).uniform(0.2, 0.8, size=(5, 2, 2, 1)).astype("float32")
    y = np.array([0, 1, 2, 0, 1])
    p = model.predict(x, verbose=0)
    gradient = ((p - np.eye(3)[y]) @ weights.T).reshape(x.shape)
    adversarial = frontiers.fgsm(model, x, y, 0.1)
    np.testing.assert_allclose(adversarial, np.clip(x + 0.1 * np.sign(gradient), 0, 1), atol=1e-6)
    loss = keras.losses.sparse_categorical_crossentropy
    assert np.all(np.asarray(loss(y, model(adversarial))) > np.asarray(loss(y, model(x))))
    assert frontiers.fgsm(model, np.ones_like(x), y, 0.5).max() <= 1


def test_the_binned_information_matches_scikit_learns_mutual_information():
    from sklearn.metrics import mutual_info_score

    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, size=(400, 3))
    y = (t[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    i_xt, i_ty = frontiers.binned_information(t, y, -1, 1, bins=4)
    codes = np.digitize(t, np.linspace(-1, 1, 5)[1:-1])
    pattern = np.unique(codes, axis=0, return_inverse=True)[1].ravel()
    assert i_ty == pytest.approx(mutual_info_score(pattern, y) / np.log(2), abs=1e-9)
    assert i_xt == pytest.approx(mutual_info_score(pattern, pattern) / np.log(2), abs=1e-9)
    assert 0 <= i_ty <= 1 <= i_xt  # I(T;Y) <= H(Y) = 1 bit here; T takes many values


def test_the_recipe_is_the_cnn_trained_for_the_lectures_epochs():
    from companion import data

    x, y = data.digits()
    model = frontiers.train(x[:120], y[:120], epochs=1)
    assert model.output_shape == (None, 10)
    assert frontiers.EPOCHS < 58  # fewer than cnn's default: as accurate on these digits, faster
