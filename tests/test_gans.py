"""The gans lecture: the adversarial training step changes only the weights it should, its losses are
the closed forms, packing and the Fréchet distance are right, the recipe takes any image shape and
rejects bad input clearly, the steps run, and downloaded sets work on mock data (offline)."""

import contextlib
import io

import numpy as np
import pytest
from scipy.linalg import sqrtm

from lectures import gans

TOPIC = "gans"  # the lecture of the `fast_run` fixture (conftest.py)


def to_numpy(tensor):
    return gans.keras.ops.convert_to_numpy(tensor)


def softplus(x):
    return np.logaddexp(0, x)


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = gans.lecture.steps
    assert len(steps) == 6
    for step in steps:
        assert f"[{step.number}/6] {step.title}" in printed
    assert {figure.step for figure in run.figures} == {f"{s.number}. {s.title}" for s in steps}
    assert len(run.figures) == 7
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption
    assert "generator: shapes: (32,) -> (256,) -> (1024,) -> (4, 4, 64) -> (8, 8, 32) -> (8, 8, 1)" in printed


def small_gan(d_rate, g_rate, *, loss="cross_entropy", pack=1):
    keras = gans.keras
    generator, discriminator = gans.ring_networks(pack=pack, hidden_units=8)
    gan = gans.GAN(generator, discriminator, loss=loss, pack=pack, seed=0)
    gan.compile(d_optimizer=keras.optimizers.SGD(d_rate), g_optimizer=keras.optimizers.SGD(g_rate))
    return gan


def weights(model):
    return [to_numpy(w).copy() for w in model.trainable_weights]


@pytest.mark.parametrize("d_rate, g_rate", [(0.1, 0.0), (0.0, 0.1)])
def test_each_step_of_the_game_changes_only_its_own_network(d_rate, g_rate):
    """With one learning rate 0, that network's weights stay put: the other network's step never
    touches them (updating the discriminator in the generator's step would move them)."""
    gan = small_gan(d_rate, g_rate)
    before_d, before_g = weights(gan.discriminator), weights(gan.generator)
    points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    gan.fit(points, batch_size=32, epochs=1, verbose=0)
    for name, before, model, rate in [("discriminator", before_d, gan.discriminator, d_rate),
                                      ("generator", before_g, gan.generator, g_rate)]:
        moved = [not np.array_equal(old, new) for old, new in zip(before, weights(model))]
        assert any(moved) == (rate > 0), name


@pytest.mark.parametrize("loss", ["cross_entropy", "hinge"])
def test_the_losses_are_the_closed_forms_even_for_confident_logits(loss):
    gan = small_gan(0.1, 0.1, loss=loss)
    real, fake = np.array([[2.0], [-1.0], [100.0]], "float32"), np.array([[0.5], [-3.0], [-100.0]], "float32")
    d_loss = float(to_numpy(gan.discriminator_loss(real, fake)))
    g_loss = float(to_numpy(gan.generator_loss(fake)))
    if loss == "cross_entropy":
        assert d_loss == pytest.approx(softplus(-real).mean() + softplus(fake).mean(), rel=1e-4)
        assert g_loss == pytest.approx(softplus(-fake).mean(), rel=1e-4)  # −log σ(l): non-saturating
    else:
        assert d_loss == pytest.approx(np.maximum(0, 1 - real).mean() + np.maximum(0, 1 + fake).mean())
        assert g_loss == pytest.approx(-fake.mean())


def test_an_unknown_loss_or_a_bad_pack_is_a_clear_error():
    with pytest.raises(ValueError, match="Expected loss 'cross_entropy' or 'hinge'. Received: loss='wgan'"):
        small_gan(0.1, 0.1, loss="wgan")
    with pytest.raises(ValueError, match="Expected pack >= 1"):
        small_gan(0.1, 0.1, pack=0)


def test_packing_puts_consecutive_samples_side_by_side():
    gan = small_gan(0.1, 0.1, pack=2)
    images = np.arange(4 * 3 * 3 * 2, dtype="float32").reshape(4, 3, 3, 2)
    packed = to_numpy(gan.packed(images))
    assert packed.shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(packed[1, ..., :2], images[2])
    np.testing.assert_array_equal(packed[1, ..., 2:], images[3])
    points = np.arange(8, dtype="float32").reshape(4, 2)
    np.testing.assert_array_equal(to_numpy(gan.packed(points)), points.reshape(2, 4))


def test_frechet_distance_matches_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    b = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4)) + 0.5
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * sqrtm(cov_a @ cov_b).real)
    assert gans.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert gans.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)


def test_mode_coverage_counts_modes_and_high_quality_samples():
    centres = gans.ring_centres()
    rng = np.random.default_rng(0)
    on_three = centres[rng.integers(0, 3, 900)] + 0.01 * rng.normal(size=(900, 2))
    far = rng.uniform(-0.5, 0.5, size=(100, 2))  # near the middle of the ring: no mode
    assert gans.mode_coverage(np.concatenate([on_three, far])) == (3, pytest.approx(0.9))
    assert gans.mode_coverage(centres[np.arange(1000) % 8])[0] == 8


def test_nearest_distance_ratio_is_0_for_copies_and_about_1_for_real_images():
    from companion import data

    x, _ = data.digits()
    nearest = gans.NearestTrainingImages(x[:1000])
    assert nearest.median_ratio(x[:200]) == 0
    assert 0.7 < nearest.median_ratio(x[1000:1500]) < 1.5
    distance, index = nearest.distances(x[:3])
    np.testing.assert_array_equal(index, [0, 1, 2])  # a copy's nearest training image is itself


@pytest.mark.parametrize("shape", [(8, 8, 1), (30, 30, 3), (28, 20, 1)])
def test_the_generator_makes_images_shaped_like_the_data(shape):
    generator = gans.dcgan_generator(shape)
    assert generator.input_shape == (None, gans.LATENT_DIM)
    assert generator.output_shape == (None, *shape)
    assert gans.discriminator_network(shape, pack=2).input_shape == (None, *shape[:2], 2 * shape[2])


def test_train_returns_a_generator_built_under_the_strategy():
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    x = np.random.default_rng(0).random((128, 30, 30, 3), dtype=np.float32)  # 30: generated at 32, cropped
    generator = gans.train(x, epochs=1, strategy=strategy)
    assert all(strategy.extended.variable_created_in_scope(w.value) for w in generator.weights)
    images = gans.sample(generator, 5)
    assert images.shape == (5, 30, 30, 3) and images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (np.zeros((200, 8, 8)), {}, "add the channel axis: x[..., None]"),
        (np.zeros((200, 64)), {}, "Expected x with shape (n_images, height, width, channels)"),
        (np.full((200, 8, 8, 1), 255.0), {}, "divide 8-bit images by 255"),
        (np.full((200, 8, 8, 1), np.nan), {}, "Expected finite x"),
        (np.zeros((100, 8, 8, 1)), {}, "Expected at least 128 images. Received: 100 images"),
        (np.zeros((200, 8, 8, 1)), {"epochs": 0}, "Expected epochs >= 1"),
        (np.zeros((200, 8, 8, 1)), {"epochs": 2.5}, "Expected epochs >= 1"),
        (np.zeros((200, 8, 8, 1)), {"epochs": True}, "Expected epochs >= 1"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, kwargs, message):
    with pytest.raises(ValueError) as info:
        gans.train(x, **kwargs)
    assert message in str(info.value)


def test_a_downloaded_set_trains_the_28x28_dcgan(tmp_path, monkeypatch):
    """The `--dataset mnist` path end to end, on tensorflow-datasets' mock data (random 28×28 images)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    printed = io.StringIO()
    with tfds.testing.mock_data(num_examples=300), contextlib.redirect_stdout(printed):
        run = gans.lecture.run(step=4, fast=True, dataset="mnist", out=tmp_path)
    shapes = "(32,) -> (256,) -> (6272,) -> (7, 7, 128) -> (14, 14, 64) -> (28, 28, 32) -> (28, 28, 1)"
    assert f"generator: shapes: {shapes}" in printed.getvalue()
    assert len(run.figures) == 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_recipe_meets_the_quality_bar_on_the_digits(seed):
    """1,000 samples of `train(x)` with its defaults, scored by an RBF SVM trained on real digits."""
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    from companion import data

    x, y = data.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    generator = gans.train(x_train, seed=seed)
    samples = gans.sample(generator, 1000, seed=seed + 100)
    svm = SVC(probability=True, random_state=0).fit(gans.flat(x_train), y_train)
    probabilities = svm.predict_proba(gans.flat(samples))
    assert probabilities.max(axis=1).mean() >= 0.88  # measured 0.896, 0.891, 0.888
    assert np.bincount(probabilities.argmax(axis=1), minlength=10).min() >= 50  # 5%: measured 7.8, 5.8, 6.3%
    assert gans.NearestTrainingImages(x_train).median_ratio(samples) <= 1.5  # measured 0.97-1.00


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = gans.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]


def test_an_interrupted_gan_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """`--run-dir`: the adversarial training of step 2 (both networks, both optimizers) is
    checkpointed every epoch, and a re-run after an interruption resumes after the last epoch."""
    import json
    import warnings

    import keras

    from companion.lecture import Run

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    original = Run.callbacks
    monkeypatch.setattr(Run, "callbacks",
                        lambda self, name, keep=(): original(self, name, keep) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        gans.lecture.run(step=2, fast=True, out=tmp_path / "figures", run_dir=tmp_path / "run")
    metadata = tmp_path / "run" / "gans" / "default-seed0-fast"
    metadata = metadata / "ring_0.001_pack_1" / "training_metadata.json"
    assert json.loads(metadata.read_text())["epoch"] == 2

    monkeypatch.setattr(Run, "callbacks", original)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = gans.lecture.run(step=2, fast=True, out=tmp_path / "figures", run_dir=tmp_path / "run")
    assert "resuming 'ring_0.001_pack_1' from the checkpoint after epoch 2" in printed.getvalue()
    skipped = [w for w in caught if "Skipping variable loading for optimizer 'adam" in str(w.message)]
    assert not skipped  # both Adam states (moments, step counts) were restored too
    assert len(run.figures) == 1


def test_under_float16_the_gan_scales_its_losses_and_trains_to_finite_losses():
    """On a GPU without bfloat16, `--precision mixed` is mixed_float16: the GAN's own training step
    scales its losses (Keras' LossScaleOptimizer), as `compile` does for other models."""
    import keras

    from companion import data, datasets

    x, _ = data.digits()
    x = x[:256]
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        gan = gans.GAN(gans.dcgan_generator(x.shape[1:]), gans.discriminator_network(x.shape[1:]),
                       loss="hinge", seed=0)
        gan.compile(d_optimizer=gans.adam(0.001), g_optimizer=gans.adam(0.001, ema=True))
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        history = gan.fit(datasets.pipeline(x, batch_size=64, drop_remainder=True), epochs=2, verbose=0)
        samples = gan.generator(np.zeros((2, gans.LATENT_DIM), "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    assert all(np.isfinite(history.history[name]).all() for name in ("d_loss", "g_loss"))
    assert keras.backend.standardize_dtype(samples.dtype) == "float32"  # its output layers stay float32
