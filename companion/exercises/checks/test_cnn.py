"""Checks for the convolutional networks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before Keras loads) and compares it with Keras:
keras.layers.Conv2D and MaxPooling2D in float64 with the same weights, the output shapes that
Conv2D.compute_output_shape gives, and receptive fields measured with tf.GradientTape as the box of
input pixels that one output unit's gradient reaches. Where a typical mistake (a flipped kernel, a
forgotten bias, channels not summed, an ignored stride, mean pooling, a missing jump) explains the
received values, the failure names it.
"""

import numpy as np

from companion.exercises._expect import (
    expect_close,
    expect_unchanged,
    expect_value_error,
    fail_if_close,
    fail_if_shape,
)
from companion.exercises._loader import load_exercises


def exercises():
    return load_exercises("cnn", __file__)


# --- helpers ------------------------------------------------------------------------------------


def integers(rng, shape):
    """Small whole numbers as floats, easy to read in a failure message."""
    return rng.integers(-4, 5, size=shape).astype(float)


def keras_conv2d(images, kernels, bias=None, stride=1):
    """keras.layers.Conv2D with these weights applied to (H, W, C) images, in float64: (H', W', K)."""
    import keras

    layer = keras.layers.Conv2D(kernels.shape[-1], kernels.shape[:2], strides=stride,
                                use_bias=bias is not None, dtype="float64")
    layer.build((None, *images.shape))
    layer.set_weights([kernels] if bias is None else [kernels, bias])
    return keras.ops.convert_to_numpy(layer(images[None]))[0]


# --- 1.1 --------------------------------------------------------------------------------------------


def test_conv2d_single_channel():
    """Exercise 1.1: conv2d_single_channel, a 'valid' sliding window of one kernel over one image.

    Hint: output[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel) for i in range(H - kh + 1) and
    j in range(W - kw + 1); do not flip the kernel.
    """
    conv2d_single_channel = exercises().conv2d_single_channel
    rng = np.random.default_rng(1)
    sizes = [((5, 5), (3, 3)), ((6, 9), (2, 4)), ((8, 5), (3, 1)), ((4, 4), (4, 4)), ((3, 7), (1, 1))]
    cases = [(integers(rng, image_shape), integers(rng, kernel_shape)) for image_shape, kernel_shape in sizes]
    received = []
    for image, kernel in cases:
        image_before, kernel_before = image.copy(), kernel.copy()
        received.append(conv2d_single_channel(image, kernel))
        expect_unchanged(image_before, image, what="image (the argument of conv2d_single_channel)")
        expect_unchanged(kernel_before, kernel, what="kernel (the argument of conv2d_single_channel)")

    for (image, kernel), result in zip(cases, received):
        (height, width), (kernel_height, kernel_width) = image.shape, kernel.shape
        expected = keras_conv2d(image[:, :, None], kernel[:, :, None, None])[:, :, 0]
        what = (f"conv2d_single_channel(image, kernel) for a {height}x{width} image and a "
                f"{kernel_height}x{kernel_width} kernel vs keras.layers.Conv2D(1, "
                f"({kernel_height}, {kernel_width}), use_bias=False)")
        out_height, out_width = height - kernel_height + 1, width - kernel_width + 1
        fail_if_shape(result, expected.shape, {
            (height, width): f"that of the image; 'valid' keeps only the positions where the whole "
                             f"kernel fits: (H - kh + 1, W - kw + 1) = {(out_height, out_width)}",
            (out_height - 1, out_width - 1): f"one row and one column short of "
                                             f"(H - kh + 1, W - kw + 1) = {(out_height, out_width)}: "
                                             f"range(H - kh + 1), not range(H - kh)",
            (out_width, out_height): f"height and width swapped; expected (H - kh + 1, W - kw + 1) = "
                                     f"{(out_height, out_width)}",
        }, what)
        fail_if_close(result, keras_conv2d(image[:, :, None], kernel[::-1, ::-1, None, None])[:, :, 0],
                      expected, "flipped kernel: this is a true convolution (kernel[::-1, ::-1]); "
                      "Keras' Conv2D, like every deep-learning library, slides the kernel as it is "
                      "(cross-correlation)", what)
        fail_if_close(result, expected.T, expected, "rows and columns swapped: output[i, j] is the "
                      "window whose top-left corner is at row i, column j", what)
        expect_close(result, expected, rtol=1e-7, atol=1e-9, what=what)

    expect_value_error(conv2d_single_channel, np.zeros((3, 3)), np.ones((4, 2)),
                       what="conv2d_single_channel(zeros((3, 3)), ones((4, 2))): a kernel taller than "
                            "the image must raise ValueError")


# --- 1.2 --------------------------------------------------------------------------------------------


def test_conv2d():
    """Exercise 1.2: conv2d, a Conv2D forward pass: C channels in, K filters out, bias and stride.

    Hint: output position (i, j) looks at the kh × kw window whose top-left corner is at row i · stride
    and column j · stride; each output channel is the sum, over that window's rows, columns and input
    channels, of window times kernel, plus its bias (np.tensordot can sum over three axes at once).
    """
    conv2d = exercises().conv2d
    rng = np.random.default_rng(2)
    shapes = [((6, 5, 3), (3, 2, 3, 4), 1), ((7, 7, 3), (3, 3, 3, 2), 2), ((9, 8, 2), (2, 3, 2, 3), 3),
              ((4, 4, 5), (1, 1, 5, 2), 1)]
    cases = [
        (integers(rng, image_shape), integers(rng, kernel_shape), integers(rng, kernel_shape[-1]), stride)
        for image_shape, kernel_shape, stride in shapes
    ]
    received = []
    for images, kernels, bias, stride in cases:
        before = [images.copy(), kernels.copy(), bias.copy()]
        received.append(conv2d(images, kernels, bias, stride=stride))
        for name, copy, array in zip(("images", "kernels", "bias"), before, (images, kernels, bias)):
            expect_unchanged(copy, array, what=f"{name} (the argument of conv2d)")

    for (images, kernels, bias, stride), result in zip(cases, received):
        channels = images.shape[2]
        kernel_height, kernel_width, _, filters = kernels.shape
        expected = keras_conv2d(images, kernels, bias, stride=stride)
        what = (f"conv2d(images, kernels, bias, stride={stride}) for images of shape {images.shape}, "
                f"kernels {kernels.shape} vs keras.layers.Conv2D({filters}, "
                f"({kernel_height}, {kernel_width}), strides={stride})")
        unstrided = keras_conv2d(images, kernels, bias)
        summed_shape = f"(H', W', K) = {expected.shape}"
        fail_if_shape(result, expected.shape, {
            (*expected.shape[:2], channels, filters): f"channels not summed: each filter adds up its "
                                                      f"products over all C = {channels} channels; "
                                                      f"expected {summed_shape}",
            unstrided.shape: f"stride {stride} ignored: windows start every {stride} pixels, so the "
                             f"output is ((H - kh) // stride + 1, (W - kw) // stride + 1, K) = "
                             f"{expected.shape}",
        }, what)
        fail_if_close(result, expected - bias, expected,
                      "bias forgotten: add bias[k] to every output of filter k", what)
        for channel, name in ((0, "the first"), (channels - 1, "the last")):
            one_channel = keras_conv2d(images[:, :, channel : channel + 1],
                                       kernels[:, :, channel : channel + 1], bias, stride=stride)
            fail_if_close(result, one_channel, expected,
                          f"channels not summed: only {name} input channel counts (a sum overwritten "
                          f"in a loop over channels?); each filter adds up its products over all "
                          f"C = {channels} channels", what)
        if stride > 1:
            fail_if_close(result, unstrided[: expected.shape[0], : expected.shape[1]], expected,
                          f"windows start at (i, j), not (i * stride, j * stride): with stride={stride} "
                          f"output pixel (i, j) looks at the window whose corner is at "
                          f"({stride} i, {stride} j)", what)
        expect_close(result, expected, rtol=1e-7, atol=1e-9, what=what)

    expect_value_error(conv2d, np.zeros((5, 5, 3)), np.ones((3, 3, 2, 4)), np.zeros(4),
                       what="conv2d(images, kernels, bias) with images of 3 channels and kernels of "
                            "shape (3, 3, 2, 4) (for 2 channels) must raise ValueError")


# --- 1.3 --------------------------------------------------------------------------------------------


def test_conv_output_size():
    """Exercise 1.3: conv_output_size, the output length of a convolution, Keras' rule.

    Hint: 'valid': (size - dilation * (kernel_size - 1) - 1) // stride + 1 (integer division floors);
    'same': ceil(size / stride), which is -(-size // stride) in integers.
    """
    conv_output_size = exercises().conv_output_size
    expect_close(conv_output_size(32, 5), 28, atol=0, rtol=0, dtype="integer",
                 what="conv_output_size(32, 5): a 32-pixel image and a 5x5 kernel, 'valid', stride 1")
    expect_value_error(conv_output_size, 8, 3, padding="full",
                       what="conv_output_size(8, 3, padding='full') must raise ValueError (Keras knows "
                            "only 'valid' and 'same')")
    import keras

    for padding in ("valid", "same"):
        for dilation in (1, 2, 3):
            for stride in (1, 2, 3) if dilation == 1 else (1,):  # Keras: no stride > 1 with dilation > 1
                for kernel_size in (1, 2, 3, 5):
                    span = dilation * (kernel_size - 1) + 1
                    sizes = [size for size in (5, 6, 8, 13, 28, 32) if padding == "same" or size >= span]
                    layer = keras.layers.Conv2D(1, kernel_size, strides=stride, padding=padding,
                                                dilation_rate=dilation)
                    for height, width in zip(sizes[0::2], sizes[1::2]):
                        expected = layer.compute_output_shape((None, height, width, 1))[1:3]
                        for size, want in zip((height, width), expected):
                            what = (f"conv_output_size({size}, {kernel_size}, stride={stride}, "
                                    f"padding={padding!r}, dilation={dilation}) vs the output shape "
                                    "of keras.layers.Conv2D")
                            got = conv_output_size(size, kernel_size, stride=stride, padding=padding,
                                                   dilation=dilation)
                            expect_integer(got, want, size, kernel_size, stride, padding, dilation, what)


def expect_integer(got, want, size, kernel_size, stride, padding, dilation, what):
    """One conv_output_size result against Keras', naming a typical mistake when one explains it."""
    __tracebackhide__ = True
    if isinstance(got, int | np.integer) and got != want:
        if padding == "valid" and dilation > 1 and got == (size - kernel_size) // stride + 1:
            raise AssertionError(
                f"dilation ignored: a kernel of {kernel_size} taps spaced {dilation} apart spans "
                f"dilation * (kernel_size - 1) + 1 = {dilation * (kernel_size - 1) + 1} pixels\n"
                f"case: {what}\nexpected: {want}\nreceived: {got}")
        if padding == "same" and got == size // stride:
            raise AssertionError(
                f"'same' rounds up: ceil(size / stride) = {want}, not size // stride = {got} (the "
                f"zero padding gives the last, partial, window a place)\ncase: {what}")
        as_valid = (size - dilation * (kernel_size - 1) - 1) // stride + 1
        if padding == "same" and got == as_valid:
            raise AssertionError(
                f"'same' treated like 'valid': with 'same' padding the kernel does not matter, "
                f"ceil(size / stride) = {want}\ncase: {what}\nreceived: {got}")
    expect_close(got, want, atol=0, rtol=0, dtype="integer", what=what)


# --- 1.4 --------------------------------------------------------------------------------------------


def test_max_pool2d():
    """Exercise 1.4: max_pool2d, the largest value of each channel in each window.

    Hint: a stride of None means the pool size; output (i, j) holds, per channel, the largest value in the
    pool_size × pool_size window whose top-left corner is at row i · stride and column j · stride; along
    an axis of length H there are (H - pool_size) // stride + 1 outputs.
    """
    max_pool2d = exercises().max_pool2d
    rng = np.random.default_rng(4)
    cases = [
        (rng.normal(size=(6, 6, 2)), 2, None),
        (rng.normal(size=(7, 5, 3)), 2, None),  # odd sizes: the last row and column are dropped
        (rng.normal(size=(9, 9, 1)), 3, 2),  # overlapping windows
        (rng.normal(size=(8, 7, 2)), 3, None),
        (rng.normal(size=(4, 6, 2)) - 10.0, 2, 1),  # every value negative
    ]
    received = []
    for images, pool_size, stride in cases:
        before = images.copy()
        received.append(max_pool2d(images, pool_size) if stride is None
                        else max_pool2d(images, pool_size, stride))
        expect_unchanged(before, images, what="images (the argument of max_pool2d)")
    import keras

    for (images, pool_size, stride), result in zip(cases, received):
        def pool(kind, images=images, pool_size=pool_size, stride=stride):
            layer = kind(pool_size, strides=stride, dtype="float64")
            return keras.ops.convert_to_numpy(layer(images[None]))[0]

        expected = pool(keras.layers.MaxPooling2D)
        call = f"max_pool2d(images, {pool_size})" if stride is None else \
            f"max_pool2d(images, {pool_size}, {stride})"
        strides = f", strides={stride}" if stride is not None else ""
        what = (f"{call} for images of shape {images.shape} vs "
                f"keras.layers.MaxPooling2D({pool_size}{strides})")
        step = pool_size if stride is None else stride
        height, width, channels = images.shape
        wrong_shapes = {
            (-(-height // step), -(-width // step), channels):
                f"the last partial window is kept; 'valid' pooling drops a last row or column that "
                f"does not fill a whole window: expected {expected.shape}",
            (height, width, channels): f"that of the images; pooling keeps one value per window: "
                                       f"expected {expected.shape}",
            (*expected.shape[:2],): f"the channels are gone; pool each channel separately, "
                                    f"window.max(axis=(0, 1)): expected {expected.shape}",
        }
        if stride is None:
            wrong_shapes[(height - pool_size + 1, width - pool_size + 1, channels)] = (
                f"stride 1 used; stride=None means stride = pool_size (side-by-side windows): "
                f"expected {expected.shape}")
        fail_if_shape(result, expected.shape, wrong_shapes, what)
        fail_if_close(result, pool(keras.layers.AveragePooling2D), expected,
                      "mean pooling: take the largest value of each window (max), not the mean", what)
        fail_if_close(result, np.broadcast_to(expected.max(axis=2, keepdims=True), expected.shape),
                      expected, "channels pooled together: take the max of each channel separately, "
                      "window.max(axis=(0, 1))", what)
        fail_if_close(result, np.maximum(expected, 0.0), expected,
                      "negative maxima became 0: start the running maximum at -inf (or the first "
                      "value), not at 0", what)
        expect_close(result, expected, rtol=1e-12, atol=0, what=what)


# --- 1.5 --------------------------------------------------------------------------------------------

# (layer, kernel_size, stride, dilation) from the input up; "pool" is an average pooling, whose
# gradient reaches every pixel of its window, as a convolution's does.
STACKS = [
    [("conv", 3, 1, 1)],
    [("conv", 3, 1, 1), ("conv", 3, 1, 1), ("conv", 3, 1, 1)],
    [("conv", 5, 2, 1), ("conv", 3, 2, 1), ("conv", 3, 1, 1)],
    [("conv", 3, 1, 1), ("conv", 3, 1, 2), ("conv", 3, 1, 4)],
    [("conv", 3, 2, 1), ("conv", 3, 1, 2)],
    [("conv", 3, 1, 1), ("conv", 3, 1, 1), ("pool", 2, 2, 1),
     ("conv", 3, 1, 1), ("conv", 3, 1, 1), ("pool", 2, 2, 1)],
    [("conv", 7, 2, 1), ("pool", 3, 2, 1), ("conv", 3, 1, 1)],
]
INPUT_SIZE = 64


def describe(stack):
    return ", ".join(
        f"{kind} {kernel_size}" + (f" stride {stride}" if stride > 1 else "")
        + (f" dilation {dilation}" if dilation > 1 else "")
        for kind, kernel_size, stride, dilation in stack
    )


def measured_receptive_field(stack, seed):
    """The side of the box of input pixels on which one central output unit depends, by GradientTape.

    The layers are linear with random positive weights, so no gradient cancels: an input pixel is
    in the receptive field exactly when the unit's gradient with respect to it is non-zero.
    """
    import keras
    import tensorflow as tf

    layers = []
    for number, (kind, kernel_size, stride, dilation) in enumerate(stack):
        if kind == "pool":
            layers.append(keras.layers.AveragePooling2D(kernel_size, strides=stride))
        else:
            initializer = keras.initializers.RandomUniform(0.5, 1.5, seed=seed + number)
            layers.append(keras.layers.Conv2D(1, kernel_size, strides=stride, dilation_rate=dilation,
                                              use_bias=False, kernel_initializer=initializer))
    model = keras.Sequential([keras.Input((INPUT_SIZE, INPUT_SIZE, 1)), *layers])
    x = tf.zeros((1, INPUT_SIZE, INPUT_SIZE, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)  # (1, h, w, 1)
        unit = y[0, y.shape[1] // 2, y.shape[2] // 2, 0]
    gradient = tape.gradient(unit, x).numpy()[0, :, :, 0]  # (INPUT_SIZE, INPUT_SIZE)
    rows, columns = np.nonzero(gradient)
    if rows.min() == 0 or columns.min() == 0 or max(rows.max(), columns.max()) == INPUT_SIZE - 1:
        raise RuntimeError(f"INPUT_SIZE = {INPUT_SIZE} is too small for the stack {describe(stack)}")
    height, width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
    if height != width:
        raise RuntimeError(f"a {height}x{width} receptive field for {describe(stack)}")
    return int(height)


def receptive_field_variants(layers):
    """Receptive fields computed with typical mistakes, to name them when a student's value matches."""
    def walk(step):
        field, jump = 1, 1
        for kernel_size, stride, dilation in layers:
            field, jump = step(field, jump, kernel_size, stride, dilation)
        return field

    return {
        "the jump is missing: after a layer of stride s its outputs are s input pixels apart, so "
        "each later kernel step covers jump = the product of the earlier strides input pixels; "
        "rf += dilation * (kernel_size - 1) * jump":
            walk(lambda f, j, k, s, d: (f + d * (k - 1), j)),
        "dilation ignored: a dilated kernel's taps are dilation units apart, so it widens the field "
        "by dilation * (kernel_size - 1) * jump":
            walk(lambda f, j, k, s, d: (f + (k - 1) * j, j * s)),
        "jump updated too early: a layer's own stride only spaces the units of the layers above it; "
        "add dilation * (kernel_size - 1) * jump first, then jump *= stride":
            walk(lambda f, j, k, s, d: (f + d * (k - 1) * j * s, j * s)),
    }


def test_receptive_field():
    """Exercise 1.5: receptive_field, how many input pixels one output unit of a stack sees.

    Hint: start from a field of one pixel and a jump of 1 (the distance, in input pixels, between
    neighbouring outputs); each layer widens the field by the extent of its dilated kernel minus one,
    counted in the current jump, and then multiplies the jump by its stride: the order of the two matters.
    """
    receptive_field = exercises().receptive_field
    stacks = [[(kernel_size, stride, dilation) for _, kernel_size, stride, dilation in stack]
              for stack in STACKS]
    received = [receptive_field(layers) for layers in stacks]
    for seed, (stack, layers, got) in enumerate(zip(STACKS, stacks, received)):
        expected = measured_receptive_field(stack, seed)
        what = (f"receptive_field({layers}), i.e. {describe(stack)}, vs the input pixels that one "
                f"output unit's gradient reaches (tf.GradientTape on Keras Conv2D/AveragePooling2D)")
        if isinstance(got, int | np.integer) and got != expected:
            for problem, wrong in receptive_field_variants(layers).items():
                if got == wrong != expected:
                    raise AssertionError(f"{problem}\ncase: {what}\nexpected: {expected}\nreceived: {got}")
        expect_close(got, expected, atol=0, rtol=0, dtype="integer", what=what)
    expect_close(receptive_field([]), 1, atol=0, rtol=0, dtype="integer",
                 what="receptive_field([]): no layers, a unit is one input pixel")
