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
    assert {figure.step for figure in run.figures} == {f"{s.number}. {s.title}" for s in steps}
    assert len(run.figures) == 12
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption


def test_exact_results_hold_even_in_fast_mode(fast_run):
    """Bands that do not depend on training: NumPy vs Keras, shapes, receptive fields, equivariance."""
    run, _ = fast_run
    exact = [band for band in run.bands if band.label.startswith(("|", "weights", "combinations", "shift"))
             or "measured" in band.label]
    assert len(exact) == 15, [band.label for band in exact]
    assert all(band.landed for band in exact), [str(band) for band in exact if not band.landed]


def test_a_downloaded_set_trains_the_28x28_network(tmp_path, monkeypatch):
    """The `--dataset mnist` path end to end, on tensorflow-datasets' mock data (random 28×28 images)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    printed = io.StringIO()
    with tfds.testing.mock_data(num_examples=40), contextlib.redirect_stdout(printed):
        run = cnn.lecture.run(step=7, fast=True, dataset="mnist", out=tmp_path)
    assert "of shape (28, 28, 1)" in printed.getvalue()
    assert "layers (pooling stages): 18 (2)" in printed.getvalue()  # one convolution per stage until 7×7
    assert len(run.figures) == 2


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = cnn.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
