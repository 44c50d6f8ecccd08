"""Checks for the convolutional networks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before Keras loads) and compares it with Keras:
keras.layers.Conv2D and MaxPooling2D in float64 with the same weights, the zeros that a
padding="same" Conv1D reads (measured, not computed), and the input pixels that one output unit's
gradient reaches (tf.GradientTape on stacks of Conv2D and pooling layers). Where a typical mistake (a
flipped kernel, a forgotten bias, channels not summed, an ignored stride or dilation, padding on
the wrong side, mean pooling, a stack walked the wrong way) explains the received values, the
failure names it.
"""

import numpy as np

from companion.exercises._expect import (
    expect_close,
    expect_tuple,
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


def keras_conv2d(images, kernels, bias=None, stride=1, padding="valid", dilation=1):
    """keras.layers.Conv2D with these weights applied to (N, H, W, C) images, in float64: (N, H', W', K)."""
    import keras

    layer = keras.layers.Conv2D(kernels.shape[-1], kernels.shape[:2], strides=stride, padding=padding,
                                dilation_rate=dilation, use_bias=bias is not None, dtype="float64")
    layer.build((None, *images.shape[1:]))
    layer.set_weights([kernels] if bias is None else [kernels, bias])
    return keras.ops.convert_to_numpy(layer(images))


# --- 1.1 --------------------------------------------------------------------------------------------


def test_conv2d_single_channel():
    """Exercise 1.1: conv2d_single_channel, a 'valid' sliding window of one kernel over one image.

    Hint: output pixel (i, j) is the sum of the kernel times the kh × kw patch of the image whose
    top-left corner is at row i, column j; the patch must fit inside the image, so there are H - kh + 1
    rows of outputs and W - kw + 1 columns. Use the kernel as it is: do not flip it.
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
        expected = keras_conv2d(image[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]
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
        }, what)
        flipped = keras_conv2d(image[None, :, :, None], kernel[::-1, ::-1, None, None])[0, :, :, 0]
        fail_if_close(result, flipped, expected, "flipped kernel: this is a true convolution (the "
                      "kernel turned upside down and left to right); Keras' Conv2D, like every "
                      "deep-learning library, slides the kernel as it is "
                      "(cross-correlation)", what)
        fail_if_close(result, expected.T, expected, "rows and columns swapped: output[i, j] is the "
                      "window whose top-left corner is at row i, column j", what)
        expect_close(result, expected, rtol=1e-7, atol=1e-9, what=what)

    expect_value_error(conv2d_single_channel, np.zeros((3, 3)), np.ones((4, 2)),
                       what="conv2d_single_channel(zeros((3, 3)), ones((4, 2))): a kernel taller than "
                            "the image must raise ValueError")


# --- 1.2 --------------------------------------------------------------------------------------------


def keras_same_padding(size, kernel_size, stride, dilation):
    """(before, after): the zeros that Keras pads one axis of `size` pixels with for padding="same",
    measured. The input is 1, 2, ..., size; a Conv1D whose kernel is 1 at one tap and 0 elsewhere
    outputs, for window i, the input pixel under that tap (0 over a padded zero), which tells where
    window i starts. The windows' reach past the input, from the output length, gives the rest."""
    import keras

    inputs = np.arange(1, size + 1, dtype=float)[None, :, None]  # (1, size, 1)
    for tap in range(kernel_size):
        layer = keras.layers.Conv1D(1, kernel_size, strides=stride, padding="same", dilation_rate=dilation,
                                    use_bias=False, dtype="float64")
        layer.build((None, size, 1))
        weights = np.zeros((kernel_size, 1, 1))
        weights[tap] = 1.0
        layer.set_weights([weights])
        read = keras.ops.convert_to_numpy(layer(inputs))[0, :, 0]  # (outputs,)
        inside = np.nonzero(read)[0]
        if len(inside):
            window = int(inside[0])
            before = window * stride + tap * dilation - (int(read[window]) - 1)
            reach = (len(read) - 1) * stride + dilation * (kernel_size - 1) + 1  # pixels the windows span
            return before, max(reach - size - before, 0)
    raise RuntimeError(f"no tap reads the input: size {size}, kernel {kernel_size}, dilation {dilation}")


def test_same_padding():
    """Exercise 1.2: same_padding, the zeros Keras adds before and after an axis for padding="same".

    Hint: count the outputs first (the input length divided by the stride, rounded up); the windows
    then reach from the first pixel to the start of the last window plus the width the dilated kernel
    spans. The zeros make up what they reach beyond the input (never a negative number); the smaller
    half goes before the first pixel.
    """
    same_padding = exercises().same_padding
    cases = [(size, kernel_size, stride, dilation) for size in (5, 6, 8, 13)
             for kernel_size in (1, 2, 3, 4, 5) for stride, dilation in ((1, 1), (2, 1), (3, 1), (1, 2))]
    received = [same_padding(size, kernel_size, stride=stride, dilation=dilation)
                for size, kernel_size, stride, dilation in cases]
    for (size, kernel_size, stride, dilation), got in zip(cases, received):
        expected = keras_same_padding(size, kernel_size, stride, dilation)
        what = (f"same_padding({size}, {kernel_size}, stride={stride}, dilation={dilation}) vs the zeros "
                f"that keras.layers.Conv1D(1, {kernel_size}, strides={stride}, padding='same', "
                f"dilation_rate={dilation}) reads")
        before, after = expect_tuple(got, 2, names="before, after", what=what)
        expect_padding(got, expected, size, kernel_size, stride, dilation, what)


def expect_padding(got, expected, size, kernel_size, stride, dilation, what):
    """One same_padding result against the measured one, naming a typical mistake when one explains it."""
    __tracebackhide__ = True
    got = tuple(got)
    shown = f"case: {what}\nexpected: {expected}\nreceived: {got}"
    if got != expected and all(isinstance(value, int | np.integer) for value in got):
        span = dilation * (kernel_size - 1) + 1
        if min(got) < 0:
            raise AssertionError(f"negative padding: when the windows do not reach past the input no zeros "
                                 f"are needed, so the padding is 0, never less\n{shown}")
        if got == expected[::-1]:
            raise AssertionError(f"before and after swapped: the odd zero goes after the last pixel (the "
                                 f"half before is rounded down)\n{shown}")
        if stride > 1 and got == ((span - 1) // 2, span - 1 - (span - 1) // 2):
            raise AssertionError(f"stride ignored: with stride {stride} there are fewer windows, "
                                 f"ceil(size / stride) of them, and they reach less far\n{shown}")
        if dilation > 1 and got == keras_same_padding(size, kernel_size, stride, 1):
            raise AssertionError(f"dilation ignored: a kernel of {kernel_size} taps spaced {dilation} apart "
                                 f"spans {span} pixels\n{shown}")
    expect_close(np.array(got), np.array(expected), atol=0, rtol=0, dtype="integer", what=what)


# --- 1.3 --------------------------------------------------------------------------------------------


def test_conv2d():
    """Exercise 1.3: conv2d, a Conv2D forward pass on a batch: C channels in, K filters out, bias,
    stride, "same" padding and dilation.

    Hint: with "same" padding, pad the height and the width as your same_padding says (np.pad), then
    work as for "valid". Output (n, i, j) looks at the taps of the window whose corner is at row
    i · stride and column j · stride of image n, the taps `dilation` pixels apart; each output channel
    sums, over the taps and the input channels, tap times kernel, plus its bias (np.tensordot can sum
    over three axes at once, the batch axis left alone).
    """
    conv2d = exercises().conv2d
    rng = np.random.default_rng(2)
    shapes = [  # (images, kernels, stride, padding, dilation)
        ((2, 6, 5, 3), (3, 2, 3, 4), 1, "valid", 1),
        ((1, 7, 7, 3), (3, 3, 3, 2), 2, "valid", 1),
        ((2, 8, 7, 2), (3, 3, 2, 3), 1, "same", 1),
        ((2, 9, 8, 2), (2, 3, 2, 3), 2, "same", 1),  # padding that differs before and after
        ((1, 9, 9, 2), (3, 3, 2, 2), 1, "valid", 2),
        ((2, 8, 8, 1), (3, 2, 1, 2), 1, "same", 2),
    ]
    cases = [(integers(rng, image_shape), integers(rng, kernel_shape), integers(rng, kernel_shape[-1]),
              stride, padding, dilation) for image_shape, kernel_shape, stride, padding, dilation in shapes]
    received = []
    for images, kernels, bias, stride, padding, dilation in cases:
        before = [images.copy(), kernels.copy(), bias.copy()]
        received.append(conv2d(images, kernels, bias, stride=stride, padding=padding, dilation=dilation))
        for name, copy, array in zip(("images", "kernels", "bias"), before, (images, kernels, bias)):
            expect_unchanged(copy, array, what=f"{name} (the argument of conv2d)")

    for (images, kernels, bias, stride, padding, dilation), result in zip(cases, received):
        expect_conv2d(result, images, kernels, bias, stride, padding, dilation)

    expect_value_error(conv2d, np.zeros((1, 5, 5, 3)), np.ones((3, 3, 2, 4)), np.zeros(4),
                       what="conv2d(images, kernels, bias) with images of 3 channels and kernels of "
                            "shape (3, 3, 2, 4) (for 2 channels) must raise ValueError")
    expect_value_error(conv2d, np.zeros((1, 5, 5, 2)), np.ones((3, 3, 2, 4)), np.zeros(4), padding="full",
                       what="conv2d(..., padding='full') must raise ValueError (Keras knows 'valid' and "
                            "'same')")


def padded_conv2d(images, kernels, bias, stride, dilation, rows, columns):
    """Keras' valid Conv2D on images padded by hand: (rows before, after), (columns before, after)."""
    padded = np.pad(images, [(0, 0), rows, columns, (0, 0)])
    return keras_conv2d(padded, kernels, bias, stride=stride, dilation=dilation)


def expect_conv2d(result, images, kernels, bias, stride, padding, dilation):
    """One conv2d result against Keras', naming the typical mistake that explains it, if one does."""
    __tracebackhide__ = True
    channels = images.shape[3]
    kernel_height, kernel_width, _, filters = kernels.shape
    expected = keras_conv2d(images, kernels, bias, stride=stride, padding=padding, dilation=dilation)
    options = "".join([f", stride={stride}" if stride > 1 else "", f", padding={padding!r}",
                       f", dilation={dilation}" if dilation > 1 else ""])
    what = (f"conv2d(images, kernels, bias{options}) for images of shape {images.shape}, kernels "
            f"{kernels.shape} vs keras.layers.Conv2D({filters}, ({kernel_height}, {kernel_width}){options})")
    wrong_shapes = {
        expected.shape[1:]: f"the batch axis is gone: each of the N = {images.shape[0]} images gets its own "
                            f"output, (N, H', W', K) = {expected.shape}",
        (*expected.shape[:3], channels, filters): f"channels not summed: each filter adds up its "
                                                  f"products over all C = {channels} channels; expected "
                                                  f"{expected.shape}",
    }
    if stride > 1:
        wrong_shapes[keras_conv2d(images, kernels, bias, padding=padding, dilation=dilation).shape] = (
            f"stride {stride} ignored: windows start every {stride} pixels; expected {expected.shape}")
    if padding == "same":
        wrong_shapes[keras_conv2d(images, kernels, bias, stride=stride, dilation=dilation).shape] = (
            f"'same' treated like 'valid': pad the images with zeros first, so that there are "
            f"ceil(size / stride) windows along each axis; expected {expected.shape}")
    if dilation > 1:
        wrong_shapes[keras_conv2d(images, kernels, bias, stride=stride, padding=padding).shape] = (
            f"dilation ignored: taps {dilation} pixels apart make a kernel span more pixels, so fewer "
            f"'valid' windows fit; expected {expected.shape}")
    fail_if_shape(result, expected.shape, wrong_shapes, what)
    fail_if_close(result, expected - bias, expected,
                  "bias forgotten: add bias[k] to every output of filter k", what)
    for channel, name in ((0, "the first"), (channels - 1, "the last")):
        one_channel = keras_conv2d(images[..., channel : channel + 1], kernels[:, :, channel : channel + 1],
                                   bias, stride=stride, padding=padding, dilation=dilation)
        fail_if_close(result, one_channel, expected,
                      f"channels not summed: only {name} input channel counts (a sum overwritten in a loop "
                      f"over channels?); each filter adds up its products over all C = {channels} channels",
                      what)
    if stride > 1:
        unstrided = keras_conv2d(images, kernels, bias, padding=padding, dilation=dilation)
        fail_if_close(result, unstrided[:, : expected.shape[1], : expected.shape[2]], expected,
                      f"windows start at (i, j), not at (i * stride, j * stride): with stride={stride} "
                      f"output pixel (i, j) looks at the window whose corner is at ({stride} i, {stride} j)",
                      what)
    if dilation > 1 and padding == "valid":
        undilated = keras_conv2d(images, kernels, bias, stride=stride)
        fail_if_close(result, undilated[:, : expected.shape[1], : expected.shape[2]], expected,
                      f"dilation ignored: the taps of a window are {dilation} pixels apart, not neighbours",
                      what)
    if padding == "same":
        rows = keras_same_padding(images.shape[1], kernel_height, stride, dilation)
        columns = keras_same_padding(images.shape[2], kernel_width, stride, dilation)
        if rows[0] != rows[1] or columns[0] != columns[1]:
            swapped = padded_conv2d(images, kernels, bias, stride, dilation, rows[::-1], columns[::-1])
            fail_if_close(result, swapped, expected, f"padding on the wrong side: Keras pads {rows[0]} "
                          f"row(s) above and {rows[1]} below, {columns[0]} column(s) left and {columns[1]} "
                          f"right (the odd zero goes after); same_padding says which", what)
        if dilation > 1:
            undilated = keras_conv2d(images, kernels, bias, stride=stride, padding="same")
            fail_if_close(result, undilated, expected, f"dilation ignored: the taps of a window are "
                          f"{dilation} pixels apart, not neighbours", what)
    expect_close(result, expected, rtol=1e-7, atol=1e-9, what=what)


# --- 1.4 --------------------------------------------------------------------------------------------


def test_max_pool2d():
    """Exercise 1.4: max_pool2d, the largest value of each channel in each window.

    Hint: a stride of None means the pool size; output (i, j) holds, per channel, the largest value in
    the pool_size × pool_size window whose top-left corner is at row i · stride and column j · stride.
    Only whole windows count, so a last row or column too short for one is left out.
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
            (*expected.shape[:2],): f"the channels are gone; pool each channel separately, the "
                                    f"maximum over the window's rows and columns only: expected "
                                    f"{expected.shape}",
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
                      "over the window's rows and columns only", what)
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
    [("conv", 3, 1, 1), ("pool", 2, 2, 1), ("conv", 3, 1, 1), ("pool", 2, 2, 1), ("conv", 3, 1, 1)],
    [("conv", 7, 2, 1), ("pool", 3, 2, 1), ("conv", 3, 1, 1)],
]
INPUT_SIZE = 48


def describe(stack):
    return ", ".join(
        f"{kind} {kernel_size}" + (f" stride {stride}" if stride > 1 else "")
        + (f" dilation {dilation}" if dilation > 1 else "")
        for kind, kernel_size, stride, dilation in stack
    )


def measured_windows(stack, seed):
    """{unit: (first, last)}: the rows of input pixels on which units of the last layer depend, for the
    first, a middle and the last unit along the height, measured with tf.GradientTape.

    The layers are linear with random positive weights, so no gradient cancels: an input pixel is
    in a unit's window exactly when the unit's gradient with respect to it is non-zero.
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
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = model(x)  # (1, h, w, 1)
        units = {unit: y[0, unit, 0, 0] for unit in sorted({0, y.shape[1] // 2, y.shape[1] - 1})}
    windows = {}
    for unit, value in units.items():
        gradient = tape.gradient(value, x).numpy()[0, :, 0, 0]  # (INPUT_SIZE,): the first column
        rows = np.nonzero(gradient)[0]
        windows[unit] = (int(rows.min()), int(rows.max()))
    return windows


def input_window_variants(layers, index):
    """Windows computed with typical mistakes, to name them when a student's answer matches one."""
    def walk(step, order):
        first, last = index, index
        for kernel_size, stride, dilation in order:
            first, last = step(first, last, kernel_size, stride, dilation)
        return first, last

    down = list(reversed(layers))
    return {
        "walked up from the input: start from the unit in the last layer and go through the layers in "
        "reverse, the last layer first":
            walk(lambda f, last, k, s, d: (f * s, last * s + d * (k - 1)), layers),
        "stride ignored: a unit of a stride-s layer starts its window s units further than its neighbour "
        "in the layer below":
            walk(lambda f, last, k, s, d: (f, last + d * (k - 1)), down),
        "dilation ignored: a dilated kernel's taps are dilation units apart, so its window is wider":
            walk(lambda f, last, k, s, d: (f * s, last * s + (k - 1)), down),
        "one pixel too many: a window of a kernel spanning w pixels ends w - 1 pixels after its start":
            walk(lambda f, last, k, s, d: (f * s, last * s + d * (k - 1) + 1), down),
    }


def test_input_window():
    """Exercise 1.5: input_window, the input pixels that one unit of a stack of layers sees.

    Hint: begin with the unit alone, from index to index, in the last layer, and go down one layer at a
    time, the last layer first: the first unit's window starts stride times further along in the layer
    below, and the last unit's window ends the dilated kernel's span, minus one, after its own start.
    """
    input_window = exercises().input_window
    stacks = [[(kernel_size, stride, dilation) for _, kernel_size, stride, dilation in stack]
              for stack in STACKS]
    received = [{unit: input_window(layers, unit) for unit in (0, 1, 2, 5)} for layers in stacks]
    measured = [measured_windows(stack, seed) for seed, stack in enumerate(STACKS)]  # imports Keras
    for layers, answers, windows in zip(stacks, received, measured):
        answers.update({unit: input_window(layers, unit) for unit in windows if unit not in answers})
    for stack, layers, windows, answers in zip(STACKS, stacks, measured, received):
        for unit, expected in windows.items():
            what = (f"input_window({layers}, {unit}), i.e. unit {unit} of {describe(stack)}, vs the input "
                    f"rows that its gradient reaches (tf.GradientTape on Keras Conv2D/AveragePooling2D)")
            got = expect_tuple(answers[unit], 2, names="first, last", what=what)
            got = tuple(got)
            if got != expected and all(isinstance(value, int | np.integer) for value in got):
                for problem, wrong in input_window_variants(layers, unit).items():
                    if got == wrong != expected:
                        raise AssertionError(
                            f"{problem}\ncase: {what}\nexpected: {expected}\nreceived: {got}")
            expect_close(np.array(got), np.array(expected), atol=0, rtol=0, dtype="integer", what=what)
    expect_close(np.array(input_window([], 3)), np.array((3, 3)), atol=0, rtol=0, dtype="integer",
                 what="input_window([], 3): no layers, a unit is one input pixel")
