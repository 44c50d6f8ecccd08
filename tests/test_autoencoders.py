"""The autoencoders lecture: the recipe takes any image shape and returns (encoder, decoder), bad input
fails with a clear message, Conv2DTranspose matches its stamps written by hand, the VAE's pieces
(sampling, the KL term in the loss, the reparameterized gradient, the split of its loss per epoch) match
their closed forms, the steps run, and downloaded sets work on mock data (offline:
test_datasets.py)."""

import contextlib
import io
import math

import numpy as np
import pytest

from lectures import autoencoders

TOPIC = "autoencoders"  # the lecture of the `fast_run` fixture (conftest.py)


def to_numpy(tensor):
    return autoencoders.keras.ops.convert_to_numpy(tensor)


FIGURES = {  # step -> the figures it writes
    1: ["linear_autoencoder_pca"],
    2: ["error_vs_code_size", "reconstructions_pca_vs_autoencoder"],
    3: ["transposed_convolution", "convolutional_learning_curves", "convolutional_reconstructions"],
    4: ["denoising"],
    5: ["sparse_codes", "sparse_features"],
    6: ["code_space"],
    7: ["vae_prior_samples"],
    8: ["vae_latent_walk", "vae_trade_off"],
}


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = autoencoders.lecture.steps
    assert len(steps) == len(FIGURES) == 8
    for step in steps:
        assert f"[{step.number}/8] {step.title}" in printed
    titles = {f"{s.number}. {s.title}": s.number for s in steps}
    written = {}
    for path, caption, step in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption
        written.setdefault(titles[step], []).append(path.stem)
    assert written == FIGURES
    bands = {band.label: band for band in run.bands}
    for label in ["largest relative error of the reparameterized gradients",
                  "largest |Conv2DTranspose - the stamps by hand|"]:
        assert bands[label].landed, str(bands[label])


@pytest.mark.parametrize("shape, halvings, padded", [
    ((8, 8, 1), 1, False), ((28, 28, 1), 2, False), ((32, 32, 3), 3, False), ((30, 20, 3), 2, True),
])
def test_the_autoencoder_fits_any_image_shape(shape, halvings, padded):
    keras = autoencoders.keras
    assert autoencoders.stages(min(shape[:2])) == halvings
    encoder, decoder = autoencoders.convolutional_autoencoder(shape, 5)
    assert encoder.output_shape == (None, 5)
    assert decoder.output_shape == (None, *shape)
    strided = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)
               and layer.strides == (2, 2)]
    assert len(strided) == halvings
    assert any(isinstance(layer, keras.layers.ZeroPadding2D) for layer in encoder.layers) == padded
    assert any(isinstance(layer, keras.layers.Cropping2D) for layer in decoder.layers) == padded


def test_train_returns_an_encoder_and_a_decoder_for_colour_images_under_a_strategy():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((16, 30, 30, 3), dtype=np.float32)  # 30 is not a multiple of 8: padded, then cropped
    encoder, decoder = autoencoders.train(x, code_size=6, epochs=1, noise=0.1,
                                          strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    codes = to_numpy(encoder(x[:4]))
    assert codes.shape == (4, 6)
    images = to_numpy(decoder(codes))
    assert images.shape == (4, 30, 30, 3) and images.min() >= 0 and images.max() <= 1
    # the denoising noise acts in training only: inference is deterministic
    np.testing.assert_array_equal(to_numpy(encoder(x[:4], training=False)), to_numpy(encoder(x[:4])))
    assert not np.allclose(to_numpy(encoder(x[:4], training=True)), codes)


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (np.zeros((10, 8, 8)), {}, "add the channel axis: x[..., None]"),
        (np.zeros((10, 64)), {}, "Expected x with shape (n_images, height, width, channels)"),
        (np.full((4, 8, 8, 1), 255.0), {}, "divide 8-bit images by 255"),
        (np.full((2, 8, 8, 1), np.nan), {}, "Expected finite x"),
        (np.zeros((2, 8, 8, 1)), {"code_size": 0}, "Expected code_size >= 1"),
        (np.zeros((2, 8, 8, 1)), {"code_size": 2.5}, "Expected code_size >= 1"),
        (np.zeros((2, 8, 8, 1)), {"epochs": 0}, "Expected epochs >= 1"),
        (np.zeros((2, 8, 8, 1)), {"noise": -0.1}, "Expected noise >= 0"),
        (np.zeros((2, 8, 8, 1)), {"validation_data": np.zeros((2, 8, 8))}, "add the channel axis"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, kwargs, message):
    kwargs = {"code_size": 4, **kwargs}
    with pytest.raises(ValueError) as info:
        autoencoders.train(x, **kwargs)
    assert message in str(info.value)


def test_train_needs_a_code_size():
    with pytest.raises(TypeError, match="code_size"):
        autoencoders.train(np.zeros((2, 8, 8, 1)))


def test_sampling_draws_from_the_posterior_and_adds_its_kl_divergence():
    keras = autoencoders.keras
    z_mean = np.tile(np.array([[0.5, -2.0]], "float32"), (100_000, 1))
    z_log_var = np.tile(np.log(np.array([[0.25, 4.0]], "float32")), (100_000, 1))
    sampling = autoencoders.Sampling(seed=1)
    z = to_numpy(sampling([z_mean, z_log_var]))
    np.testing.assert_allclose(z.mean(axis=0), [0.5, -2.0], atol=0.02)
    np.testing.assert_allclose(z.var(axis=0), [0.25, 4.0], rtol=0.02)
    # KL(N(μ, σ²) ‖ N(0, 1)) per coordinate: log(1/σ) + (σ² + μ²)/2 − 1/2, summed over the code
    kl = sum(math.log(1 / s) + (s**2 + m**2) / 2 - 0.5 for m, s in [(0.5, 0.5), (-2.0, 2.0)])
    assert float(to_numpy(sampling.losses[0])) == pytest.approx(kl, rel=1e-5)
    assert not np.allclose(to_numpy(sampling([z_mean[:5], z_log_var[:5]])), z[:5])  # fresh ε each call
    assert isinstance(sampling, keras.layers.Layer)


def test_the_vae_loss_is_the_reconstruction_plus_the_kl_term():
    """With σ ≈ 0 the code is μ itself: Keras' loss must equal ‖x − decoder(μ)‖² / (2σ_pixel²) + KL."""
    x = np.random.default_rng(0).random((32, 8, 8, 1), dtype=np.float32)
    encoder, decoder, vae = autoencoders.variational_autoencoder((8, 8, 1), 2, seed=0)
    vae.compile(optimizer="adam", loss=autoencoders.reconstruction_loss)
    layer = vae.get_layer("z_log_var")
    kernel, bias = layer.get_weights()
    layer.set_weights([0 * kernel, bias - 30.0])  # log σ² = −30 for every image
    z_mean, z_log_var, _ = (to_numpy(t) for t in encoder(x))
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1 - z_log_var, axis=1)
    reconstructed = to_numpy(decoder(z_mean))
    squared_error = np.sum((x - reconstructed).reshape(32, -1) ** 2, axis=1)
    reconstruction = squared_error / (2 * autoencoders.PIXEL_NOISE**2)
    loss = vae.evaluate(x, x, batch_size=32, verbose=0)
    assert loss == pytest.approx(reconstruction.mean() + kl.mean(), rel=1e-4)
    assert kl.mean() > 20  # the KL term is large here: leaving it out would fail the comparison


@pytest.mark.parametrize("height, width, seed", [(2, 2, 0), (3, 5, 1), (1, 4, 2)])
def test_conv2d_transpose_stamps_the_kernel_two_pixels_apart(height, width, seed):
    """Keras' stride-2 "same" transposed convolution = each pixel × kernel added at twice its position
    (unflipped, overlaps summed), cut to the first 2h × 2w: what the step 3 figure draws."""
    rng = np.random.default_rng(seed)
    image, kernel = rng.normal(size=(height, width)), rng.normal(size=(3, 3))
    output = autoencoders.transposed_convolution(image, kernel)
    full = autoencoders.stamps(image, kernel)
    assert output.shape == (2 * height, 2 * width) and full.shape == (2 * height + 1, 2 * width + 1)
    np.testing.assert_allclose(output, full[:2 * height, :2 * width], rtol=1e-5, atol=1e-5)
    one_pixel = np.zeros((height, width))
    one_pixel[-1, -1] = 2.0  # one stamp: 2 × kernel at (2h − 2, 2w − 2), its last row and column cut
    np.testing.assert_allclose(autoencoders.transposed_convolution(one_pixel, kernel)[-2:, -2:],
                               2 * kernel[:2, :2], rtol=1e-5)


def test_the_figure_example_of_a_transposed_convolution():
    image = np.array([[1, 2], [3, 4]], dtype="float32")
    kernel = np.array([[1, 2, 1], [0, 1, 0], [1, 0, 0]], dtype="float32")
    np.testing.assert_array_equal(autoencoders.transposed_convolution(image, kernel),
                                  [[1, 2, 3, 4], [0, 1, 0, 2], [4, 6, 9, 8], [0, 3, 0, 4]])


def test_the_vae_history_splits_its_loss_into_reconstruction_and_beta_times_kl(tmp_path):
    """What step 8's trade-off figure reads from a β-VAE's training: loss − reconstruction = β · KL,
    with the KL computed independently from μ and log σ² (it does not depend on the draw of z)."""
    from companion.lecture import Run

    x = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
    run = Run("autoencoders", fast=True, out=tmp_path)
    encoder, decoder, vae = autoencoders.train_vae(run, x, 2, beta=3.0)
    assert set(vae.history.history) == {"loss", "reconstruction"} and len(vae.history.history["loss"]) == 3
    logs = vae.evaluate(x, x, batch_size=len(x), verbose=0, return_dict=True)
    z_mean, z_log_var, _ = (to_numpy(t) for t in encoder(x))
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1 - z_log_var, axis=1)
    assert logs["loss"] - logs["reconstruction"] == pytest.approx(3.0 * kl.mean(), rel=1e-3)
    reconstruction, kl_terms = autoencoders.elbo_terms(encoder, decoder, x)
    np.testing.assert_allclose(kl_terms, kl, rtol=1e-5)
    assert reconstruction.mean() == pytest.approx(logs["reconstruction"], rel=0.1)  # another draw of z


def test_the_reparameterized_gradient_equals_the_closed_form():
    estimate, gradient_mu, gradient_log_var = autoencoders.reparameterized_gradient(-0.6, 0.4, 100_000, 3)
    variance = math.exp(0.4)
    assert estimate == pytest.approx(0.36 + variance, rel=0.02)
    assert gradient_mu == pytest.approx(2 * -0.6, rel=0.03)
    assert gradient_log_var == pytest.approx(variance, rel=0.03)


def test_psnr_and_pca_reconstruction_helpers():
    from sklearn.decomposition import PCA

    clean = np.full((2, 4, 4, 1), 0.5)
    assert autoencoders.psnr(clean, clean + 0.1) == pytest.approx(20.0)  # 10·log10(1 / 0.01)
    x = np.random.default_rng(0).random((20, 3, 3, 1))
    reconstruction = autoencoders.pca_reconstruction(PCA(9).fit(autoencoders.flat(x)), x)
    np.testing.assert_allclose(reconstruction, x, atol=1e-10)  # all 9 components: nothing lost


def test_a_downloaded_set_trains_the_28x28_autoencoder(tmp_path, monkeypatch):
    """The `--dataset mnist` path end to end, on tensorflow-datasets' mock data (random 28×28 images)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    printed = io.StringIO()
    with tfds.testing.mock_data(num_examples=40), contextlib.redirect_stdout(printed):
        run = autoencoders.lecture.run(step=3, fast=True, dataset="mnist", out=tmp_path)
    printed = printed.getvalue()
    assert "encoder: shapes: (28, 28, 1) -> (14, 14, 32) -> (7, 7, 64) -> (7, 7, 128)" in printed
    decoder_shapes = "(8,) -> (6272,) -> (7, 7, 128) -> (14, 14, 64) -> (28, 28, 32) -> (28, 28, 1)"
    assert f"decoder: shapes: {decoder_shapes}" in printed
    assert len(run.figures) == 3


@pytest.mark.slow
def test_the_recipe_beats_pca_on_the_digits():
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    from companion import data

    x, y = data.digits()
    x_train, x_test = train_test_split(x, test_size=0.25, stratify=y, random_state=1)
    encoder, decoder = autoencoders.train(x_train, code_size=8, seed=1)
    error = autoencoders.mse(autoencoders.predict(decoder, autoencoders.predict(encoder, x_test)), x_test)
    pca_error = autoencoders.mse(autoencoders.pca_reconstruction(PCA(8).fit(autoencoders.flat(x_train)),
                                                                 x_test), x_test)
    assert error < 0.7 * pca_error


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = autoencoders.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
