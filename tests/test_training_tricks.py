"""The training tricks lecture: each trick's effect points the right way, the recipe generalises.

The default run runs five of the eight steps once in fast mode (a module-scoped fixture: about 20 s)
and checks that each printed its results and wrote its figures, and that batch norm and residual
connections point the right way on their bands. `slow`: the whole lecture in fast mode for two seeds
with every trick's direction, each effect on dedicated full-size configurations built from the
lecture's own models (two seeds), and the full lecture in its band.
"""

import contextlib
import io
import re

import keras
import numpy as np
import pytest

from lectures import training_tricks

DIRECTIONS = {
    # band label -> (smallest value, largest value) that shows the effect in a fast run
    "first-layer gradient norm, ReLU / sigmoid (log10)": (2, None),
    "loss ratio, with / without batch norm": (None, 0.8),
    "test accuracy, residual minus plain": (0.2, None),
}
# The default run's steps: the cheap ones, batch norm (3) and residual connections (7). Steps 2, 4
# and 8 add about 17 s of fast-mode training; their effects are checked by the `slow` tests (step 2's
# also by test_relu_first_layer_gradient_is_larger_than_sigmoids_in_a_deep_net).
DEFAULT_STEPS = (1, 3, 5, 6, 7)
FIGURES = {  # step number -> the figures it writes
    1: {"nonlinearities"},
    2: {"vanishing_gradients"},
    3: {"activations_without_batch_norm", "activations_with_batch_norm", "batch_norm_loss",
        "batch_norm_statistics"},
    4: {"regularization", "dropout"},
    5: {"initialization", "initialization_spread"},
    6: {"optimizers", "learning_rates"},
    7: {"residual_connections"},
    8: {"generalization"},
}


def run_quietly(**options):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = training_tricks.lecture.run(**options)
    return run, printed.getvalue()


@pytest.fixture(scope="module")
def fast_steps(tmp_path_factory):
    """The DEFAULT_STEPS, each run once in fast mode for this module: {number: (Run, printed output)}."""
    out = tmp_path_factory.mktemp("training_tricks")
    return {number: run_quietly(step=number, fast=True, out=out) for number in DEFAULT_STEPS}


def step_sections(printed):
    """{step number: what that step printed}, cut at the `[n/8] title` lines."""
    sections, number = {}, None
    for line in printed.splitlines():
        header = re.match(r"\[(\d+)/8\] ", line)
        if header:
            number = int(header.group(1))
            sections[number] = []
        elif number is not None:
            sections[number].append(line)
    return {n: "\n".join(lines) for n, lines in sections.items()}


def assert_steps_ran_and_wrote_their_figures(run, printed, numbers):
    """Steps `numbers` printed their title, a band and their time, and wrote their PNG figures."""
    steps = training_tricks.lecture.steps
    assert len(steps) == 8
    sections = step_sections(printed)
    assert sorted(sections) == sorted(numbers)
    for number in numbers:
        step = steps[number - 1]
        assert f"[{number}/8] {step.title}" in printed
        assert re.search(r"^    · .+ = .+\(a full run expects", sections[number], re.MULTILINE), \
            sections[number]  # a band, without a verdict in a smoke run
        assert re.search(r"^    \(\d+\.\d s\)$", sections[number], re.MULTILINE), number  # it finished
        written = {f.path.stem for f in run.figures if f.step == f"{number}. {step.title}"}
        assert written == FIGURES[number], (step.title, written)
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption
        assert f"figure: {path}" in printed
    assert all(np.isfinite(band.value) for band in run.bands), [str(b) for b in run.bands]


def assert_tricks_point_the_right_way(bands):
    """The effects shown by the bands present ({label: value}) point the right way."""
    for label, (low, high) in DIRECTIONS.items():
        if label in bands:
            value = bands[label]
            assert (low is None or value >= low) and (high is None or value <= high), (label, bands)
    narrowed = [bands[label] for label in ("gap narrowed by dropout", "gap narrowed by L2 weight decay")
                if label in bands]  # fast mode trains the dropout variant only
    if narrowed:
        assert max(narrowed) >= 0.03, bands


def flat_digits(n_samples=None, seed=0):
    """Flattened, standardised digits split 75/25: (x_train, x_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from companion import data

    x, y = data.digits()
    x = x.reshape(len(x), -1)
    if n_samples:
        x, _, y, _ = train_test_split(x, y, train_size=n_samples, stratify=y, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train).astype("float32"), scaler.transform(x_test).astype("float32"),
            y_train, y_test)


def final_loss(model, x, y, *, optimizer, epochs, batch_size=32):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0).history["loss"][-1]


def test_steps_run_in_fast_mode_print_their_results_and_write_their_figures(fast_steps):
    for number, (run, printed) in fast_steps.items():
        assert_steps_ran_and_wrote_their_figures(run, printed, [number])
    for number in (1, 5):  # no training: these land in their bands even in fast mode
        run, _ = fast_steps[number]
        assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]


def test_batch_norm_and_residual_connections_point_the_right_way_in_fast_mode(fast_steps):
    bands = {b.label: b.value for run, _ in fast_steps.values() for b in run.bands}
    assert {"loss ratio, with / without batch norm", "test accuracy, residual minus plain"} <= set(bands)
    assert_tricks_point_the_right_way(bands)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_batch_norm_reaches_a_lower_loss_in_the_same_epochs(seed):
    import keras

    from companion.seeding import set_seed

    x_train, _, y_train, _ = flat_digits(n_samples=400, seed=seed)
    loss = {}
    for batch_norm in (False, True):
        set_seed(seed)
        model = training_tricks.deep_mlp("sigmoid", depth=6, hidden_units=64, batch_norm=batch_norm)
        loss[batch_norm] = final_loss(model, x_train, y_train, epochs=2,
                                      optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    assert loss[True] < 0.8 * loss[False], loss


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_the_residual_network_beats_the_plain_one(seed):
    import keras

    from companion.seeding import set_seed

    x_train, _, y_train, _ = flat_digits(n_samples=400, seed=seed)
    loss = {}
    for residual in (False, True):
        set_seed(seed)
        model = training_tricks.deep_network(blocks=10, residual=residual)
        loss[residual] = final_loss(model, x_train, y_train, epochs=3,
                                    optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9))
    assert loss[True] < loss[False] - 0.5, loss


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_and_weight_decay_narrow_the_train_validation_gap(seed):
    import keras

    from companion.lecture import Run
    from companion.seeding import set_seed

    (x_train, x_val, _), (y_train, y_val, _) = training_tricks.noisy_digits(
        Run("training_tricks", fast=False, seed=seed, out="unused"))  # 300 noisy examples
    gap = {}
    for variant in ({}, {"dropout": 0.5}, {"l2": 0.02}):
        set_seed(seed)
        model = training_tricks.overfitting_mlp(**variant)
        final_loss(model, x_train, y_train, epochs=8, batch_size=16,
                   optimizer=keras.optimizers.Adam(learning_rate=1e-3))
        train_accuracy = model.evaluate(x_train, y_train, verbose=0)[1]
        gap[tuple(variant)] = train_accuracy - model.evaluate(x_val, y_val, verbose=0)[1]
    assert gap[("dropout",)] < gap[()] - 0.05, gap
    assert gap[("l2",)] < gap[()] - 0.05, gap


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_first_layer_gradient_is_larger_than_sigmoids_in_a_deep_net(seed):
    from companion.seeding import set_seed

    x_train, _, y_train, _ = flat_digits(seed=seed)
    first = {}
    for activation in ("sigmoid", "relu"):
        set_seed(seed)
        model = training_tricks.deep_mlp(activation, depth=12, hidden_units=32)
        norms = training_tricks.kernel_gradient_norms(model, x_train[:128], y_train[:128])
        assert norms.shape == (13,)
        first[activation] = norms[0]
    assert first["relu"] > 100 * first["sigmoid"]


def test_closed_form_derivatives_match_central_differences():
    z = np.linspace(-4, 4, 81) + 0.01  # away from the kinks at 0
    derivatives = training_tricks.nonlinearity_derivatives(z)
    closed_forms = {
        "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
        "tanh": np.tanh,
        "ReLU": lambda t: np.maximum(t, 0),
        "leaky ReLU (0.2)": lambda t: np.where(t > 0, t, 0.2 * t),
        "ELU": lambda t: np.where(t > 0, t, np.exp(np.minimum(t, 0)) - 1),
        "softplus": lambda t: np.logaddexp(0, t),
    }
    for name, f in closed_forms.items():
        numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        np.testing.assert_allclose(derivatives[name], numeric, atol=1e-6, err_msg=name)
    assert np.all(derivatives["binary step"] == 0)


def test_keras_sgd_trajectory_is_gradient_descent_and_adam_escapes_the_saddle_first():
    import keras

    valley = training_tricks.SURFACES["valley"]
    points = training_tricks.trajectory(keras.optimizers.SGD(learning_rate=0.3), valley, 10)
    w = np.array(valley["start"])
    for k in range(10):
        w = w - 0.3 * valley["gradient"](w)
        np.testing.assert_allclose(points[k + 1], w, rtol=1e-5, atol=1e-6)

    saddle = training_tricks.SURFACES["saddle"]
    escaped = {}
    for name, optimizer in training_tricks.optimizers("saddle").items():
        points = training_tricks.trajectory(optimizer, saddle, 60)
        away = np.flatnonzero(np.abs(points[:, 1]) > 0.5)
        escaped[name] = away[0] if len(away) else np.inf
    assert escaped["Adam"] < escaped["momentum"] < escaped["SGD"]
    assert escaped["RMSProp"] < escaped["SGD"]


def test_dropout_masks_zero_a_share_rate_of_units_and_scale_the_rest_to_keep_the_mean():
    activations = np.linspace(0.1, 2.0, 64).astype("float32")
    dropout = keras.layers.Dropout(0.3, seed=0)
    masked = training_tricks.dropout_masks(dropout, activations, 4000)
    assert masked.shape == (4000, 64)
    kept = masked != 0
    scaled = np.broadcast_to(activations / (1 - 0.3), masked.shape)  # (4000, 64)
    np.testing.assert_allclose(masked[kept], scaled[kept], rtol=1e-5)
    assert abs(1 - kept.mean() - 0.3) < 0.01  # 256,000 draws: the share is within 0.003 of 0.3 at 3 sigma
    np.testing.assert_allclose(masked.mean(axis=0), activations, rtol=0.1)  # the expected value is kept
    assert len({tuple(row) for row in kept[:10]}) == 10  # a new mask per row
    inference = keras.ops.convert_to_numpy(dropout(activations, training=False))
    np.testing.assert_array_equal(inference, activations)


def test_batch_statistics_of_a_lone_example_erase_it_and_leave_the_model_untouched():
    from companion.seeding import set_seed

    set_seed(0)
    x_train, _, y_train, _ = flat_digits(n_samples=200)
    model = training_tricks.deep_mlp("sigmoid", depth=2, hidden_units=16, batch_norm=True)
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.variables]
    # alone in its batch, every unit normalises to 0 and leaves as β: the same prediction for every image
    lone = training_tricks.accuracy_with_batch_statistics(model, x_train[:40], y_train[:40], batch_size=1)
    outputs = [keras.ops.convert_to_numpy(model.stateless_call(
        model.trainable_variables, model.non_trainable_variables, x_train[k:k + 1], training=True)[0])
        for k in range(3)]
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-6)
    np.testing.assert_allclose(outputs[0], outputs[2], atol=1e-6)
    assert lone == np.mean(y_train[:40] == outputs[0].argmax())
    for variable, value in zip(model.variables, before):  # the moving averages did not move
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)
    # with moving averages equal to the statistics of all of x, inference = one batch of all of x
    for layer in (1, 2):
        batch_means, data_mean, moving_mean = training_tricks.batch_norm_means(
            model, x_train, layer=layer, batch_size=32, batches=3, seed=0)
        assert batch_means.shape == (3, 16) and data_mean.shape == moving_mean.shape == (16,)
        dense = keras.Model(model.inputs[0], model.get_layer(f"dense_{layer}").output)
        inputs = keras.ops.convert_to_numpy(dense(x_train))
        batch_norm = model.get_layer(f"batch_norm_{layer}")
        batch_norm.moving_mean.assign(inputs.mean(axis=0))
        batch_norm.moving_variance.assign(inputs.var(axis=0))
    whole = training_tricks.accuracy_with_batch_statistics(model, x_train, y_train, batch_size=len(x_train))
    assert whole == training_tricks.accuracy(model, x_train, y_train)


def test_learning_rate_curves_train_each_rate_as_a_freshly_compiled_model_would(monkeypatch):
    from companion.seeding import set_seed

    monkeypatch.setattr(training_tricks, "LEARNING_RATES", {"0.01": 1e-2, "cosine 0.003 → 0": 3e-3})
    x_train, _, y_train, _ = flat_digits(n_samples=200)
    x_train, y_train = x_train[:32], y_train[:32]  # one batch: the same steps in any order fit shuffles
    set_seed(0)
    model = training_tricks.deep_mlp("relu", depth=1, hidden_units=16)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    curves = training_tricks.learning_rate_curves(model, x_train, y_train, epochs=3, seed=0,
                                                  callbacks=lambda name: [])
    assert list(curves) == ["0.01", "cosine 0.003 → 0"] and all(len(c) == 3 for c in curves.values())
    set_seed(0)
    fresh = training_tricks.deep_mlp("relu", depth=1, hidden_units=16)
    fresh.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    rates = [3e-3 * 0.5 * (1 + np.cos(np.pi * epoch / 3)) for epoch in range(3)]  # cosine, per epoch
    set_seed(0)
    expected = fresh.fit(x_train, y_train, batch_size=32, epochs=3, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch: rates[epoch])]).history["loss"]
    np.testing.assert_allclose(curves["cosine 0.003 → 0"], expected, rtol=1e-4)


def test_feature_scaling_measures_rare_features_by_their_rare_values_and_any_unit_alike():
    rng = np.random.default_rng(0)
    measurement = rng.normal(5.0, 3.0, size=2000)  # an ordinary feature, in some unit
    rare_ink = np.where(rng.random(2000) < 0.01, 200.0, 0.0)  # a border pixel: 0, or ink 1% of the time
    x = np.stack([measurement, 1000 * measurement, rare_ink, np.full(2000, 7.0)], axis=1)
    center, variance = training_tricks.feature_scaling(x)
    np.testing.assert_allclose(center, [5.0, 5000.0, 0.0, 7.0], rtol=0.05)
    np.testing.assert_allclose(np.sqrt(variance[:2]), [3.0, 3000.0], rtol=0.05)  # about the std
    np.testing.assert_allclose(variance[2:], [200.0**2, 1.0])  # ink counts as 1, not as 10 std
    plain_z = (200.0 - rare_ink.mean()) / rare_ink.std()
    assert plain_z > 9 and (200.0 - center[2]) / np.sqrt(variance[2]) == 1.0


def test_train_returns_class_probabilities_and_accepts_a_strategy():
    import tensorflow as tf

    x_train, x_test, y_train, _ = flat_digits(n_samples=300)
    model = training_tricks.train(x_train, y_train.reshape(-1, 1), epochs=1,
                                  strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    probabilities = model.predict(x_test, verbose=0)
    assert probabilities.shape == (len(x_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    layer_types = {type(layer).__name__ for layer in model.layers}
    assert {"BatchNormalization", "Add"} <= layer_types


def test_train_calls_the_callbacks_it_is_given_every_epoch():
    x_train, _, y_train, _ = flat_digits(n_samples=200)
    epochs_seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))
    training_tricks.train(x_train, y_train, epochs=2, callbacks=[callback])
    assert epochs_seen == [0, 1]


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((10, 8, 8)), np.zeros(10), "Expected x with shape (n_samples, n_features)"),
        (np.zeros((10, 2)), np.zeros(9), "Expected y with shape (10,)"),
        (np.zeros((4, 2)), np.array([0, 1, 2.5, 1]), "Expected integer class labels"),
        (np.zeros((4, 2)), np.array([1, 1, 1, 1]), "Expected labels of at least 2 classes"),
        (np.full((2, 2), np.nan), np.array([0, 1]), "Expected finite x"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, y, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        training_tricks.train(x, y)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_recipe_beats_scikit_learns_mlp_on_held_out_raw_digits(seed):
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from companion import data

    x, y = data.digits()
    x = x.reshape(len(x), -1) * 16  # raw pixel counts 0..16, as scikit-learn ships them
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    model = training_tricks.train(x_train, y_train, seed=seed)  # raw pixels: it scales them itself
    accuracy = np.mean(model.predict(x_test, verbose=0).argmax(axis=1) == y_test)
    baseline = MLPClassifier(random_state=seed, max_iter=1000).fit(x_train / 16, y_train)
    assert accuracy >= 0.975
    assert accuracy >= baseline.score(x_test / 16, y_test)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_every_step_runs_in_fast_mode_and_each_trick_points_the_right_way(seed, tmp_path):
    run, printed = run_quietly(fast=True, seed=seed, out=tmp_path)
    assert_steps_ran_and_wrote_their_figures(run, printed, range(1, 9))
    bands = {b.label: b.value for b in run.bands}
    assert set(DIRECTIONS) | {"gap narrowed by dropout"} <= set(bands)
    assert_tricks_point_the_right_way(bands)


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = training_tricks.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
