"""The frontiers exercises: each check names the typical mistake of a student file that makes it.

Every case is the reference solution with one exercise function rewritten to make one mistake; the
check of that exercise, run in this process, must fail with an AssertionError whose first line names
it. That the reference solutions pass every check and the fresh stubs fail each one is tested for
every topic by tests/test_exercises.py.
"""

import pytest
from test_exercises import check_failure, solution_with  # shared by every topic's mistakes

ATTENTION = """
    def attention_weights(scores, mask):
        kept = np.where(mask, scores, {padding})
        e = np.exp(kept - np.max(kept, axis={axis}, keepdims=True))
        return e / np.sum(e, axis={axis}, keepdims=True)
    """

UNSTABLE_ATTENTION = """
    def attention_weights(scores, mask):
        e = np.where(mask, np.exp(scores), 0.0)
        return e / np.sum(e, axis=1, keepdims=True)
    """

REINFORCE = """
    def reinforce_gradient(f_values, score_values, baseline=True):
        n = f_values.shape[-1]
        if not baseline:
            return {plain}
        b = {baseline}
        return {estimate}
    """


def reinforce(plain="f_values * score_values",
              baseline="(np.sum(f_values, axis=-1, keepdims=True) - f_values) / (n - 1)",
              estimate="(f_values - b) * score_values"):
    """The source of a reinforce_gradient with one piece replaced by a typical mistake."""
    return REINFORCE.format(plain=plain, baseline=baseline, estimate=estimate)


MC_DROPOUT = """
    def mc_dropout_predict(model, x, passes):
        import keras
        outputs = np.stack([keras.ops.convert_to_numpy(model(x, training={training})) for _ in range(passes)])
        return outputs.mean(axis=0), outputs.{spread}(axis=0)
    """

CASES = [
    pytest.param("attention_weights", ATTENTION.format(padding="-np.inf", axis=0),
                 "softmax over the wrong axis", id="attention-axis"),
    pytest.param("attention_weights", ATTENTION.format(padding="scores", axis=1), "mask ignored",
                 id="attention-mask-ignored"),
    pytest.param("attention_weights", ATTENTION.format(padding="0.0", axis=1), "padding scored 0",
                 id="attention-padding-zero"),
    pytest.param("attention_weights", UNSTABLE_ATTENTION, "not numerically stable", id="attention-overflow"),
    pytest.param("fgsm", solution_with("frontiers", "fgsm", ("x + epsilon", "x - epsilon")), "wrong sign",
                 id="fgsm-sign"),
    pytest.param("fgsm", solution_with("frontiers", "fgsm", ("return np.clip(", "return ("),
                                       (", 0.0, 1.0)", ")")),
                 "no clip", id="fgsm-no-clip"),
    pytest.param("fgsm", solution_with("frontiers", "fgsm", ("np.sign(gradient)", "gradient")),
                 "the gradient instead of its sign", id="fgsm-gradient"),
    pytest.param("reinforce_gradient", reinforce(plain="f_values", estimate="f_values - b"),
                 "missing log-derivative", id="reinforce-no-score"),
    pytest.param("reinforce_gradient", reinforce(baseline="np.mean(f_values, axis=-1, keepdims=True)"),
                 "a baseline that includes the sample's own f", id="reinforce-biased-baseline"),
    pytest.param("reinforce_gradient", reinforce(plain="(f_values - b) * score_values", baseline="0"),
                 "no baseline where one was asked for", id="reinforce-baseline-ignored"),
    pytest.param("reparameterized_gradient",
                 solution_with("frontiers", "reparameterized_gradient", ("f_prime(z)", "f_prime(mu)")),
                 "f' at mu, not at the sample", id="reparameterized-at-mu"),
    pytest.param("reparameterized_gradient",
                 solution_with("frontiers", "reparameterized_gradient",
                               ("return np.asarray(f_prime(z), dtype=float)",
                                "return sigma * np.asarray(f_prime(z), dtype=float)")),
                 "an extra factor sigma", id="reparameterized-sigma"),
    pytest.param("mc_dropout_predict", MC_DROPOUT.format(training=False, spread="var"), "variance 0",
                 id="mc-dropout-off"),
    pytest.param("mc_dropout_predict", MC_DROPOUT.format(training=True, spread="std"),
                 "standard deviation instead of variance", id="mc-dropout-std"),
]


@pytest.mark.parametrize("exercise, code, first_line", CASES)
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("frontiers", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None, "the check passed"
    assert message.startswith(first_line), message


def test_a_baseline_with_the_sample_itself_is_biased_on_average(tmp_path, monkeypatch):
    """Hidden from the small exact case (a student file that only differs in large batches), the
    biased baseline still fails: the statistical part finds the mean of the estimates 1 - 1/n off."""
    code = reinforce(baseline="np.mean(f_values, axis=-1, keepdims=True) if f_values.size > 100 else "
                              "(np.sum(f_values, axis=-1, keepdims=True) - f_values) / (n - 1)")
    message = check_failure("frontiers", "reinforce_gradient", {"reinforce_gradient": code}, tmp_path,
                            monkeypatch)
    assert message is not None and message.startswith("biased"), message
