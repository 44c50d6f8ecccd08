"""The cnn lecture: the network adapts to any image size, the NumPy pieces match Keras, receptive
fields are what they measure, the steps run, and downloaded sets load (offline: test_datasets.py).
The recipe's accuracy is tested in test_cnn_recipe.py (a file of its own, so that it runs beside
this one)."""

import contextlib
import io

import numpy as np
import pytest

from lectures import cnn

TOPIC = "cnn"  # the lecture of the `fast_run` fixture (conftest.py)

FIGURES = {  # step -> the figures it draws, in order
    1: ["dense_vs_conv_weights"],
    2: ["edge_filters", "channel_sum"],
    3: ["padding_stride_dilation"],
    4: ["pooling"],
    5: ["receptive_fields"],
    6: ["translation_equivariance"],
    7: ["augmented_images", "learning_curves", "confusion_matrix"],
    8: ["first_layer_filters", "feature_maps"],
    9: ["normalization_layers"],
    10: ["transfer_learning"],
}


def test_the_network_pools_more_the_larger_the_input():
    assert [cnn.stages(size) for size in (4, 8, 16, 28, 32, 64)] == [1, 1, 2, 2, 3, 4]
    for shape, pools in [((8, 8, 1), 1), ((28, 28, 1), 2), ((32, 32, 3), 3)]:
        model = cnn.convolutional_network(shape, 10)
        assert sum(isinstance(layer, cnn.keras.layers.MaxPooling2D) for layer in model.layers) == pools
        assert model.output_shape == (None, 10)
        assert min(model.layers[-4].output.shape[1:3]) <= cnn.SMALLEST_FEATURE_MAP  # the last maps


def test_train_takes_any_image_size_and_channels_and_a_strategy():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((24, 32, 32, 3), dtype=np.float32)  # CIFAR-shaped colour images
    y = np.arange(24) % 3
    model = cnn.train(x, y.reshape(-1, 1), epochs=1, strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert model.predict(x[:5], verbose=0).shape == (5, 3)
    assert set(model.history.history) == {"loss", "accuracy"}


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (np.zeros((10, 8, 8)), np.zeros(10), {}, "add the channel axis: x[..., None]"),
        (np.zeros((10, 64)), np.zeros(10), {}, "Expected x with shape (n_images, height, width, channels)"),
        (np.full((4, 8, 8, 1), 255.0), np.array([0, 1, 0, 1]), {}, "divide 8-bit images by 255"),
        (np.zeros((4, 8, 8, 1)), np.zeros(3), {}, "Expected y with shape (4,)"),
        (np.zeros((4, 8, 8, 1)), np.array([0, 1, 0.5, 1]), {}, "Expected integer class labels"),
        (np.full((2, 8, 8, 1), np.nan), np.array([0, 1]), {}, "Expected finite x"),
        (np.zeros((2, 8, 8, 1)), np.array([0, 1]), {"epochs": 0}, "Expected epochs >= 1"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(x, y, kwargs, message):
    with pytest.raises(ValueError) as info:
        cnn.train(x, y, **kwargs)
    assert message in str(info.value)


def test_numpy_conv2d_equals_keras_conv2d_with_stride():
    import keras

    rng = np.random.default_rng(0)
    images, kernels, bias = rng.random((11, 9, 2)), rng.normal(size=(3, 2, 2, 4)), rng.normal(size=4)
    layer = keras.layers.Conv2D(4, (3, 2), strides=2)
    layer.build((None, 11, 9, 2))
    layer.set_weights([kernels, bias])
    expected = keras.ops.convert_to_numpy(layer(images[None].astype("float32")))[0]
    ours = cnn.conv2d(images, kernels, bias, stride=2)
    assert ours.shape == expected.shape == (5, 4, 4)
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_a_multichannel_convolution_is_the_sum_of_its_slices_responses_plus_bias():
    """Step 2's figure: filter k over C channels = sum over c of (channel c ⋆ slice c of filter k) + bias k,
    and a layer of K filters k×k on C channels has K·(k·k·C + 1) weights."""
    import keras

    rng = np.random.default_rng(1)
    image, kernels, bias = rng.random((9, 7, 4)), rng.normal(size=(3, 3, 4, 5)), rng.normal(size=5)
    responses = cnn.channel_responses(image, kernels)
    assert responses.shape == (4, 7, 5, 5)  # (C, H', W', K)
    for c in range(4):  # each response sees its own channel only
        single = cnn.conv2d(image[:, :, [c]], kernels[:, :, [c], :])
        np.testing.assert_allclose(responses[c], single)
    layer = keras.layers.Conv2D(5, 3)
    layer.build((None, 9, 7, 4))
    layer.set_weights([kernels, bias])
    expected = keras.ops.convert_to_numpy(layer(image[None].astype("float32")))[0]
    np.testing.assert_allclose(responses.sum(axis=0) + bias, expected, atol=1e-5)
    assert layer.count_params() == 5 * (3 * 3 * 4 + 1)


def test_translated_moves_whole_pixels_and_blends_fractions():
    image = np.arange(1, 26, dtype=float).reshape(5, 5, 1)
    down = cnn.translated(image, 1, 0)
    np.testing.assert_array_equal(down[1:], image[:-1])
    np.testing.assert_array_equal(down[0], 0)  # what comes in is blank
    left = cnn.translated(image, 0, -2)
    np.testing.assert_array_equal(left[:, :3], image[:, 2:])
    np.testing.assert_array_equal(left[:, 3:], 0)
    halfway = cnn.translated(image, 0.5, -0.25)
    expected = 0.5 * (0.75 * image + 0.25 * cnn.translated(image, 0, -1)) + 0.5 * (
        0.75 * cnn.translated(image, 1, 0) + 0.25 * cnn.translated(image, 1, -1))
    np.testing.assert_allclose(halfway, expected)
    assert cnn.shift_label(0.44, -0.7) == "↓0.4 ←0.7" and cnn.shift_label(-0.2, 0.0) == "↑0.2 →0.0"


def test_translated_is_what_random_translation_does_with_the_shifts_it_draws():
    """The figure of step 7 labels each image with the shift its layer drew: the layer moves it by that."""
    import keras

    layer = keras.layers.RandomTranslation(0.25, 0.25, fill_mode="constant", seed=3)
    images = np.random.default_rng(0).random((6, 8, 8, 2)).astype("float32")
    moves = layer.get_random_transformation(images, training=True)
    moved = keras.ops.convert_to_numpy(layer.transform_images(images, moves, training=True))
    dx, dy = keras.ops.convert_to_numpy(moves["translations"]).T
    assert np.abs([dx, dy]).max() <= 0.25 * 8 and np.abs([dx, dy]).max() > 0.5
    for image, down, right, result in zip(images, dy, dx, moved):
        np.testing.assert_allclose(result, cnn.translated(image, down, right), atol=1e-5)


def test_conv_output_shape_follows_keras_and_rejects_unknown_padding():
    assert cnn.conv_output_shape(32, 5) == 28
    assert cnn.conv_output_shape(32, 5, padding="same", stride=2) == 16
    assert cnn.conv_output_shape(7, 3, dilation=3) == 1
    with pytest.raises(ValueError, match="Expected padding 'valid' or 'same'"):
        cnn.conv_output_shape(32, 5, padding="full")


def test_receptive_field_formula_equals_the_measured_gradient_region():
    import keras

    assert cnn.receptive_field([]) == 1
    layers = [keras.layers.Conv2D(1, 5, strides=2), keras.layers.MaxPooling2D(3, strides=2),
              keras.layers.Conv2D(1, 3, dilation_rate=2)]
    computed = cnn.receptive_field([cnn.kernel_stride_dilation(layer) for layer in layers])
    assert computed == 1 + 4 + 2 * 2 + 2 * 2 * 4  # = 25
    layers[1] = keras.layers.AveragePooling2D(3, strides=2)  # max pooling routes the gradient to one pixel
    height, width, _ = cnn.measured_receptive_field(layers, 48)
    assert height == width == computed


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = cnn.lecture.steps
    assert len(steps) == 10
    for step in steps:
        assert f"[{step.number}/10] {step.title}" in printed
    drawn = {}
    for figure in run.figures:
        drawn.setdefault(int(figure.step.split(".")[0]), []).append(figure.path.stem)
    assert drawn == FIGURES
    assert {figure.step for figure in run.figures} == {f"{s.number}. {s.title}" for s in steps}
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption


def test_exact_results_hold_even_in_fast_mode(fast_run):
    """Bands that do not depend on training: NumPy vs Keras, shapes, receptive fields, equivariance."""
    run, _ = fast_run
    exact = [band for band in run.bands if band.label.startswith(("|", "weights", "combinations", "shift"))
             or "measured" in band.label]
    assert len(exact) == 18, [band.label for band in exact]
    assert all(band.landed for band in exact), [str(band) for band in exact if not band.landed]


def test_the_augmented_images_are_the_shifts_the_network_draws(fast_run):
    """Step 7's figure: shifts of at most 1/8 of the side (one pixel on 8×8 digits), each image the digit
    moved by the shift written above it, and step 2's channel sum equal to Keras' Conv2D."""
    run, printed = fast_run

    def band(start):
        return next(band for band in run.bands if band.label.startswith(start))

    largest = band("largest shift drawn, in pixels")
    assert largest.landed and 0.5 < largest.value <= cnn.SHIFT * 8, str(largest)
    assert band("|RandomTranslation - NumPy bilinear shift").value <= 1e-5
    assert band("|Keras Conv2D - NumPy sum over the channels").value <= 1e-5
    assert band("weights of Conv2D(2, 3×3) on 3 channels").value == 2 * (3 * 3 * 3 + 1)
    assert "(16, 16, 3) -> (14, 14, 2)" in printed


def test_a_downloaded_set_trains_the_28x28_network(tmp_path, monkeypatch):
    """The `--dataset mnist` path end to end, on tensorflow-datasets' mock data (random 28×28 images)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    printed = io.StringIO()
    with tfds.testing.mock_data(num_examples=40), contextlib.redirect_stdout(printed):
        run = cnn.lecture.run(step=7, fast=True, dataset="mnist", out=tmp_path)
    assert "of shape (28, 28, 1)" in printed.getvalue()
    assert "layers (pooling stages): 18 (2)" in printed.getvalue()  # one convolution per stage until 7×7
    assert [figure.path.stem for figure in run.figures] == FIGURES[7]


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = cnn.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
