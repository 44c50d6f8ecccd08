"""Convolutional networks

Images have structure a fully connected layer ignores: nearby pixels belong together, and a pattern
means the same wherever it appears. A convolution slides one small filter over the whole image, so
it needs few weights and finds a pattern anywhere. We write convolution in NumPy and check it
against Keras, work out output shapes and receptive fields (and measure them), see pooling and
translation equivariance, train a convolutional network on real handwritten digits, look at what
it learned, and try residual blocks, normalisation layers and transfer learning.

Images are float32 arrays (n, height, width, channels) with values in [0, 1]. The default data
are scikit-learn's 1,797 bundled 8×8 digits (offline); `--dataset mnist` (or fashion_mnist,
cifar10) uses a tensorflow-datasets download fetched ahead of class (`companion data fetch mnist`).
"""

import itertools
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from sklearn.datasets import load_sample_image
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score
from sklearn.svm import SVC

from companion import autodiff, data, datasets
from companion.checkpoints import completed_epochs
from companion.datasets import image_split
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH, image_grid, training_curves
from companion.seeding import set_seed
from companion.tensors import to_numpy
from companion.validation import image_labels, training_options

lecture = Lecture(
    "cnn",
    "Convolutional networks",
    expected="on the 8x8 digits (a quarter held out), a CNN as accurate as an RBF SVM on the same split; "
    "NumPy convolution equal to Keras Conv2D; computed receptive fields equal to measured ones",
    seconds=150,
    datasets=("digits", *datasets.IMAGE_DATASETS),
)

BATCH_SIZE = 32
SMALLEST_FEATURE_MAP = 7  # the network pools until its feature maps are about this size
SHIFT = 0.125  # random shifts during training: up to 1/8 of the height and width


# ---------------------------------------------------------------------------------------------------
# The recipe


def stages(size):
    """How many times the network halves an input of side `size` (8 -> 1, 28 -> 2, 32 -> 3)."""
    count = 0
    while size > SMALLEST_FEATURE_MAP:
        size = math.ceil(size / 2)
        count += 1
    return max(count, 1)


def first_width(size):
    """Filters of the full-resolution stage: 32 for images up to 16 pixels on a side, 16 beyond.

    A filter costs height × width multiply-adds per image, so on 28×28 images each filter of the
    first stage costs twelve times what it costs on 8×8 digits.
    """
    return 32 if size <= 16 else 16


def convolutions_per_stage(side):
    """Two 3×3 convolutions on feature maps of side 8 or less, one on larger maps, where each costs
    more (on 28×28 images: one at 28×28, one at 14×14, two at 7×7)."""
    return 2 if side <= 8 else 1


def convolutional_network(input_shape, num_classes):
    """The lecture's network for images of any size: stages of 3×3 convolutions (each followed by
    batch norm and ReLU; two per stage on small maps, `convolutions_per_stage`) separated by 2×2 max
    pooling, the filters doubling at every pooling (from `first_width`), then global average
    pooling, dropout and a softmax. Larger inputs get more stages (more pooling), and cheaper
    early stages, so that a 28×28 image costs a few times an 8×8 one, not twelve times.

    Random shifts of up to 1/8 of the image are the first layer: they are active in `fit` only.
    """
    side = min(input_shape[:2])
    n_pools = stages(side)
    width = first_width(side)
    layers = [keras.Input(shape=input_shape),
              keras.layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant")]
    for stage in range(n_pools + 1):
        filters = width * 2**stage
        for _ in range(convolutions_per_stage(side)):
            layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                       keras.layers.BatchNormalization(momentum=0.9),  # statistics keep up in short runs
                       keras.layers.ReLU()]
        if stage < n_pools:
            layers.append(keras.layers.MaxPooling2D(2))  # (h, w, filters) -> (h/2, w/2, filters)
            side //= 2
    layers += [keras.layers.GlobalAveragePooling2D(),  # (h, w, filters) -> (filters,)
               keras.layers.Dropout(0.3),
               keras.layers.Dense(num_classes, activation="softmax", dtype="float32")]
    return keras.Sequential(layers)


def default_epochs(n_images, size):
    """Epochs of about 2,500 optimizer steps for images up to 16 pixels on a side (58 epochs for the
    1,347 training digits) and of about 2,000 for larger ones, where a step costs several times more
    and each epoch brings more to learn (16 epochs for 4,000 images); between 10 and 90 epochs."""
    steps = 2500 if size <= 16 else 2000
    steps_per_epoch = math.ceil(n_images / BATCH_SIZE)
    return int(np.clip(round(steps / steps_per_epoch), 10, 90))


def train(x, y, *, epochs=None, seed=0, strategy=None, validation_data=None, callbacks=()):
    """The lecture's recipe for classifying images (n, height, width, channels) in [0, 1].

    `convolutional_network` trained on the sparse categorical cross-entropy by Adam in batches of 32,
    its learning rate decaying from 0.002 to 0 along a cosine, for `default_epochs` epochs (58 on
    the 8×8 digits, 16 on 4,000 images of 28×28). The data reach `fit` through a cached, prefetched
    `tf.data` pipeline.
    Returns the Keras model: class probabilities, shape (n, y.max() + 1); `model.history` holds the
    curves (with `validation_data=(x_val, y_val)`, the validation curves too).
    """
    x, y = image_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks,
                                         default_epochs=default_epochs(len(x), min(x.shape[1:3])))
    set_seed(seed)
    batch_size = global_batch_size(BATCH_SIZE, strategy)  # BATCH_SIZE per replica
    with scope(strategy):
        model = convolutional_network(x.shape[1:], num_classes=int(y.max()) + 1)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.002, decay_steps=epochs * math.ceil(len(x) / batch_size))
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = datasets.pipeline(x, y, batch_size=batch_size, seed=seed,
                                first_epoch=completed_epochs(callbacks))
    model.fit(batches, epochs=epochs, validation_data=validation_data, callbacks=callbacks, verbose=0)
    return model


def predict_classes(model, x, batch_size=500):
    """The most probable class of each image (the model called on batches of images, in inference mode)."""
    return np.concatenate([to_numpy(model(x[start:start + batch_size], training=False)).argmax(axis=1)
                           for start in range(0, len(x), batch_size)])


# ---------------------------------------------------------------------------------------------------
# The steps, each with the small functions it introduces just above it


@lecture.step("Why not fully connected layers for images")
def why_not_dense(run):
    """A fully connected layer gives every unit its own weight for every pixel. A small 32×32 colour
    image already has 3,072 inputs, so 100 units need 307,300 weights, and a photo needs billions.
    A convolutional layer instead learns a few small filters (say 32 filters of 5×5×3) and slides
    them over the image: its weight count does not depend on the image size at all, and a pattern
    learned in one place is recognised everywhere.
    """
    sizes = [8, 32, 96, 224]
    dense_counts, conv_counts = [], []
    for size in sizes:
        dense = keras.Sequential([keras.Input(shape=(size, size, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(100)])
        conv = keras.Sequential([keras.Input(shape=(size, size, 3)), keras.layers.Conv2D(32, 5)])
        dense_counts.append(dense.count_params())
        conv_counts.append(conv.count_params())
    run.report("inputs of a 32×32×3 image", 32 * 32 * 3)
    run.expect("weights of Dense(100) on 32×32×3 (Keras count)", dense_counts[1],
               at_least=(32 * 32 * 3 + 1) * 100, at_most=(32 * 32 * 3 + 1) * 100)
    run.expect("weights of Conv2D(32, 5×5) on 32×32×3 (Keras count)", conv_counts[1],
               at_least=(5 * 5 * 3 + 1) * 32, at_most=(5 * 5 * 3 + 1) * 32)
    run.report("Dense(100) weights for 8, 32, 96, 224 px", dense_counts)
    run.report("Conv2D(32, 5×5) weights for 8, 32, 96, 224 px", conv_counts)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.2))
    positions = np.arange(len(sizes))
    ax.bar(positions - 0.2, dense_counts, width=0.4, color=COLORS[0], label="Dense(100)")
    ax.bar(positions + 0.2, conv_counts, width=0.4, color=COLORS[1], label="Conv2D(32 filters 5×5)")
    for position, dense_count, conv_count in zip(positions, dense_counts, conv_counts):
        ax.annotate(f"{dense_count:,}", (position - 0.2, dense_count), ha="center", va="bottom", fontsize=10)
        ax.annotate(f"{conv_count:,}", (position + 0.2, conv_count), ha="center", va="bottom", fontsize=10)
    ax.set(yscale="log", ylim=(1e3, 1e8), xticks=positions, xticklabels=[f"{s}×{s}×3" for s in sizes],
           xlabel="input image", ylabel="trainable weights (log scale)",
           title="Weights of one layer on a colour image")
    ax.legend()
    run.figure(fig, "dense_vs_conv_weights",
               "Weights of one layer: a dense layer grows with the image, a convolution does not.")


def conv2d(images, kernels, bias=None, *, stride=1):
    """Convolution as the slides (and every deep-learning library) define it: slide each filter over
    the image and take a dot product with the window under it (no padding: 'valid').

    images (H, W, C), kernels (kh, kw, C, K) as Keras stores them, bias (K,) -> (H', W', K).
    """
    kh, kw, _, n_filters = kernels.shape
    out_h = (images.shape[0] - kh) // stride + 1
    out_w = (images.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w, n_filters))
    for i in range(out_h):
        for j in range(out_w):
            window = images[i * stride:i * stride + kh, j * stride:j * stride + kw, :]  # (kh, kw, C)
            out[i, j] = np.tensordot(window, kernels, axes=3)  # (K,): one dot product per filter
    return out if bias is None else out + bias


def channel_responses(image, kernels):
    """What each input channel contributes to each output map: channel c (H, W, C) convolved with slice
    c of every filter (kh, kw, C, K) -> (C, H', W', K). A convolution over C channels is their sum."""
    return np.stack([conv2d(image[:, :, [c]], kernels[:, :, [c], :]) for c in range(image.shape[-1])])


def channel_sum_figure(image, kernels, responses, outputs, bias, channel_names):
    """Step 2's channel sum: the input's channels on top, then one row per filter with each slice, its
    response on its own channel, and the output map = their sum + the filter's bias."""
    kernel_height, kernel_width, n_channels, n_filters = kernels.shape
    fig = plt.figure(figsize=(FULL_WIDTH, 5.5))
    grid = fig.add_gridspec(1 + n_filters, 2 * n_channels + 1, width_ratios=[0.55, 1] * n_channels + [1])
    axes = np.array([[fig.add_subplot(grid[row, col]) for col in range(2 * n_channels + 1)]
                     for row in range(1 + n_filters)])
    for c, name in enumerate(channel_names):
        axes[0, 2 * c].set_axis_off()
        axes[0, 2 * c + 1].imshow(image[:, :, c], cmap="gray", vmin=0, vmax=1)
        axes[0, 2 * c + 1].set_title(f"channel {name}")
    axes[0, -1].imshow(image)
    axes[0, -1].set_title(f"input {'×'.join(map(str, image.shape))}")
    for k in range(n_filters):
        row = axes[k + 1]
        weight_limit = np.abs(kernels[:, :, :, k]).max()
        map_limit = max(np.abs(responses[..., k]).max(), np.abs(outputs[..., k]).max())
        for c, name in enumerate(channel_names):
            row[2 * c].imshow(kernels[:, :, c, k], cmap="RdBu_r", vmin=-weight_limit, vmax=weight_limit)
            row[2 * c].set_title(f"slice {name}")
            row[2 * c + 1].imshow(responses[c, :, :, k], cmap="RdBu_r", vmin=-map_limit, vmax=map_limit)
            row[2 * c + 1].set_title(("+ " if c else "") + f"{name} ⋆ slice {name}")
        row[-1].imshow(outputs[:, :, k], cmap="RdBu_r", vmin=-map_limit, vmax=map_limit)
        row[-1].set_title(f"= sum + bias ({bias[k]:+.1f})")
        row[0].set_ylabel(f"filter {k + 1}")
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    fig.suptitle(f"{n_filters} filters of {kernel_height}×{kernel_width}×{n_channels}: one slice per input "
                 "channel, their responses summed (red positive, blue negative)")
    return fig


@lecture.step("Convolution as a sliding dot product")
def sliding_dot_product(run):
    """A convolution takes a small filter (a kh×kw×C block of weights), lays it on the image, takes
    the dot product with the pixels under it, and slides on, one output pixel per position. With C
    input channels the filter spans all of them, and K filters give K output channels, each a
    "feature map". Deep-learning libraries do not flip the filter (strictly, that is
    cross-correlation). Our NumPy `conv2d` and Keras' `Conv2D` given the same weights agree.

    A filter over C channels is C slices of k×k weights, one per input channel: each slice slides
    over its own channel, and the C responses are summed, plus the filter's one bias, into the
    filter's output map. A layer of K such filters therefore has K·(k·k·C + 1) weights.
    """
    photo = load_sample_image("china.jpg")[::4, ::4] / 255.0  # (107, 160, 3), bundled with scikit-learn
    grey = photo.mean(axis=-1, keepdims=True)  # (107, 160, 1): one channel
    edges = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # Sobel: left - right
    kernels = np.stack([edges, edges.T], axis=-1)[:, :, None, :]  # (3, 3, 1, 2): vertical, horizontal
    ours = conv2d(grey, kernels)  # (105, 158, 2)
    layer = keras.layers.Conv2D(2, 3, use_bias=False)
    layer.build((None, *grey.shape))
    layer.set_weights([kernels])
    theirs = to_numpy(layer(grey[None].astype("float32")))[0]
    run.report("one channel: grey photo, two 3×3 filters", f"{grey.shape} -> {ours.shape}")
    run.expect("|NumPy conv2d - Keras Conv2D|, one channel", np.abs(ours - theirs).max(), at_most=1e-5)

    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 3.3))
    axes[0].imshow(photo)
    axes[0].set_title("photo (scikit-learn's china.jpg)")
    for ax, channel, title in [(axes[1], 0, "vertical-edge filter"), (axes[2], 1, "horizontal-edge filter")]:
        limit = np.abs(ours[:, :, channel]).max()
        ax.imshow(ours[:, :, channel], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{title}: feature map")
    for ax in axes:
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    fig.suptitle("Each filter's feature map shows where its pattern appears (red: bright on the left / top)")
    run.figure(fig, "edge_filters", "A photo and the feature maps of two 3×3 edge filters (Sobel), "
               "computed by the NumPy conv2d; Keras Conv2D gives the same numbers.")

    x, y = data.digits()
    digits = [x[y == digit][0].repeat(2, axis=0).repeat(2, axis=1) for digit in (0, 1, 7)]  # 16×16 each
    image = np.concatenate(digits, axis=-1)  # (16, 16, 3): the three digits as R, G and B
    layer = keras.layers.Conv2D(2, 3)  # K = 2 filters of 3×3×3, with Keras' random initial weights
    layer.build((None, *image.shape))
    kernels = to_numpy(layer.kernel)  # (3, 3, 3, 2): (kh, kw, C, K)
    bias = np.array([0.2, -0.2])  # Keras starts the biases at 0: give them visible values
    layer.set_weights([kernels, bias])
    theirs = to_numpy(layer(image[None]))[0]  # (14, 14, 2)
    responses = channel_responses(image, kernels)  # (3, 14, 14, 2): one response per channel and filter
    run.report("three channels: three digits (scaled to 16×16) as R, G, B, two 3×3×3 filters",
               f"{image.shape} -> {theirs.shape}")
    run.expect("|NumPy conv2d - Keras Conv2D|, three channels",
               np.abs(conv2d(image, kernels, bias) - theirs).max(), at_most=1e-5)
    run.expect("|Keras Conv2D - NumPy sum over the channels of each slice's response + bias|",
               np.abs(responses.sum(axis=0) + bias - theirs).max(), at_most=1e-5)
    run.expect("weights of Conv2D(2, 3×3) on 3 channels (Keras count): K·(k·k·C + 1)", layer.count_params(),
               at_least=2 * (3 * 3 * 3 + 1), at_most=2 * (3 * 3 * 3 + 1))
    fig = channel_sum_figure(image, kernels, responses, theirs, bias, channel_names="RGB")
    run.figure(fig, "channel_sum", "A Conv2D layer of two 3×3 filters on a three-channel image (the "
               "digits 0, 1 and 7, scaled to 16×16, as its R, G and B channels): each filter has one 3×3 "
               "slice per channel, each slice responds to its own channel, and the three responses plus "
               "the filter's bias make its output map, which is what Keras' Conv2D computes.")


def conv_output_shape(size, kernel_size, *, stride=1, padding="valid", dilation=1):
    """Side of a convolution's output for an input of side `size`, as Keras computes it.

    'valid': the dilated kernel, dilation·(k − 1) + 1 pixels wide, must fit inside the input;
    'same': the input is padded so that only the stride shrinks it.
    """
    if padding == "same":
        return math.ceil(size / stride)
    if padding == "valid":
        return (size - dilation * (kernel_size - 1) - 1) // stride + 1
    raise ValueError(f"Expected padding 'valid' or 'same'. Received: padding={padding!r}")


@lecture.step("Shape arithmetic: padding, stride, dilation")
def shape_arithmetic(run):
    """A k×k filter fits in an n-pixel row at n − k + 1 positions ('valid'): a 32×32×3 image and K
    filters of 5×5×3 give 28×28×K. 'same' padding adds zeros around the border so that the output
    keeps the input's size; stride s moves the filter s pixels at a time and divides the size by s;
    dilation d spreads the filter's taps d pixels apart, so it covers d·(k − 1) + 1 pixels with
    the same k weights. `conv_output_shape` says what Keras will do, for every combination.
    """
    checked = 0
    mismatches = 0
    for size in (7, 8, 28, 32, 33):
        for kernel_size in (1, 3, 5):
            for stride, dilation in ((1, 1), (2, 1), (3, 1), (1, 2), (1, 3)):
                for padding in ("valid", "same"):
                    ours = conv_output_shape(size, kernel_size, stride=stride, padding=padding,
                                             dilation=dilation)
                    if ours < 1:
                        continue  # the filter does not fit: Keras refuses such a layer
                    layer = keras.layers.Conv2D(4, kernel_size, strides=stride, padding=padding,
                                                dilation_rate=dilation)
                    theirs = layer.compute_output_shape((None, size, size, 3))[1]
                    checked += 1
                    mismatches += ours != theirs
    run.report("combinations of size, kernel, stride, dilation, padding checked against Keras", checked)
    run.expect("combinations where conv_output_shape differs from Keras", mismatches, at_most=0)
    for label, options in [("valid", {}), ("same", {"padding": "same"}), ("stride 2", {"stride": 2}),
                           ("dilation 2", {"dilation": 2})]:
        side = conv_output_shape(32, 5, **options)
        run.report(f"32×32×3 input, 6 filters 5×5, {label}", (side, side, 6))

    fig, axes = plt.subplots(2, 2, figsize=(FULL_WIDTH, 5.5), sharex=True)
    size, kernel_size = 9, 3
    settings = [("valid", 1, 1), ("same", 1, 1), ("valid", 2, 1), ("valid", 1, 2)]
    for ax, (padding, stride, dilation) in zip(axes.flat, settings):
        n_out = conv_output_shape(size, kernel_size, stride=stride, padding=padding, dilation=dilation)
        pad = (kernel_size - 1) // 2 if padding == "same" else 0
        ax.axvspan(-pad - 0.5, -0.5, color="0.85") if pad else None
        ax.axvspan(size - 0.5, size - 0.5 + pad, color="0.85") if pad else None
        for output in range(n_out):
            taps = output * stride - pad + dilation * np.arange(kernel_size)
            ax.plot(taps, np.full(kernel_size, -output), "o-", color=COLORS[0 if output % 2 else 3], ms=5)
        ax.set(yticks=[], ylim=(-n_out + 0.5, 0.8),
               title=f"{padding}, stride {stride}, dilation {dilation}: {size} inputs -> {n_out} outputs")
    for ax in axes[-1]:
        ax.set(xticks=range(-1, size + 1), xlabel="input position (grey: zero padding)")
    fig.suptitle(f"Where each output's {kernel_size}-tap filter reads (one row per output)")
    run.figure(fig, "padding_stride_dilation",
               "The input positions each output reads, for valid and same padding, stride 2 and dilation 2.")


@lecture.step("Pooling and strided convolution")
def pooling(run):
    """Pooling summarises each small window by one number: its maximum (max pooling) or its mean
    (average pooling). A 2×2 pool halves the height and width, keeps the strongest responses and
    makes the next layer's filters see a larger part of the image. A convolution with stride 2
    does the convolution and the downsampling in one step: it is the stride-1 convolution with
    every other row and column dropped, for a quarter of the work.
    """
    x, y = data.digits()
    digit = x[:1]  # (1, 8, 8, 1)
    max_pooled = to_numpy(keras.layers.MaxPooling2D(2)(digit))  # (1, 4, 4, 1)
    mean_pooled = to_numpy(keras.layers.AveragePooling2D(2)(digit))
    windows = digit[0, :, :, 0].reshape(4, 2, 4, 2)  # (row block, row, column block, column)
    run.report("8×8 digit -> max pooled", max_pooled.shape[1:])
    run.expect("|MaxPooling2D - maximum of each 2×2 window|",
               np.abs(max_pooled[0, :, :, 0] - windows.max(axis=(1, 3))).max(), at_most=0)
    run.expect("|AveragePooling2D - mean of each 2×2 window|",
               np.abs(mean_pooled[0, :, :, 0] - windows.mean(axis=(1, 3))).max(), at_most=1e-6)

    conv = keras.layers.Conv2D(4, 3)
    full = to_numpy(conv(digit))  # (1, 6, 6, 4)
    strided_conv = keras.layers.Conv2D(4, 3, strides=2)
    strided_conv.build(digit.shape)
    strided_conv.set_weights(conv.get_weights())
    strided = to_numpy(strided_conv(digit))  # (1, 3, 3, 4)
    run.report("3×3 convolution, stride 1 -> stride 2", f"{full.shape[1:]} -> {strided.shape[1:]}")
    run.expect("|stride-2 convolution - stride-1 convolution, every other pixel|",
               np.abs(strided - full[:, ::2, ::2]).max(), at_most=1e-5)

    fig, axes = plt.subplots(1, 4, figsize=(FULL_WIDTH, 3.3))
    panels = [(digit[0, :, :, 0], "digit 8×8"), (max_pooled[0, :, :, 0], "max pool 2×2 -> 4×4"),
              (mean_pooled[0, :, :, 0], "average pool 2×2 -> 4×4"),
              (strided[0, :, :, 0], "3×3 conv, stride 2 -> 3×3")]
    for ax, (image_2d, title) in zip(axes, panels):
        ax.imshow(image_2d, cmap="gray")
        ax.set(title=title, xticks=[], yticks=[])
    run.figure(fig, "pooling", "A digit, its 2×2 max and average pooling, and one feature map of a "
               "stride-2 convolution: all halve the height and width.")


def receptive_field(layers):
    """Side of the input region one output unit sees, for layers given as (kernel, stride, dilation).

    Each layer widens the field by dilation·(kernel − 1) input steps of the current `jump` (how many
    input pixels lie between neighbouring units of this layer), and its stride multiplies the jump.
    """
    field, jump = 1, 1
    for kernel, stride, dilation in layers:
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field


def kernel_stride_dilation(layer):
    """(kernel, stride, dilation) of a Keras convolution or pooling layer, along the height."""
    if isinstance(layer, keras.layers.Conv2D):
        return layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
    return layer.pool_size[0], layer.strides[0], 1


def measured_receptive_field(layers, size):
    """Side of the input region with a non-zero gradient for the centre unit of the last layer.

    The layers get all-positive weights and no activation, so that no gradient cancels by chance.
    """
    model = keras.Sequential([keras.Input(shape=(size, size, 1)), *layers])
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.ones_like(w) for w in layer.get_weights()])

    def centre(image):  # the centre unit of the last layer, as a function of the input image
        out = model(image)  # (1, h, w, 1)
        return out[0, out.shape[1] // 2, out.shape[2] // 2, 0]

    # autodiff of one output unit with respect to the input
    (gradient,) = autodiff.gradients(centre, np.ones((1, size, size, 1), dtype="float32"))
    gradient = gradient[0, :, :, 0]  # (size, size)
    rows, cols = np.nonzero(gradient)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1, gradient


@lecture.step("Receptive fields")
def receptive_fields(run):
    """A unit's receptive field is the part of the input that can change its value. Each layer
    widens it by dilation·(k − 1) steps of the current "jump" (the input distance between
    neighbouring units), and each stride multiplies the jump: pooling makes later layers see far
    more. We compute the field from the layer sizes, then measure it: the input pixels with a
    non-zero gradient for one output unit form a square of exactly that side. Dilated
    convolutions grow the field exponentially with depth at no extra weights.
    """
    stacks = {
        "three 3×3 convolutions": [keras.layers.Conv2D(1, 3) for _ in range(3)],
        "3×3 conv, 2×2 pool, twice, then 3×3": [
            keras.layers.Conv2D(1, 3), keras.layers.AveragePooling2D(2),
            keras.layers.Conv2D(1, 3), keras.layers.AveragePooling2D(2), keras.layers.Conv2D(1, 3)],
        "3×3 convolutions dilated 1, 2, 4": [
            keras.layers.Conv2D(1, 3, dilation_rate=rate) for rate in (1, 2, 4)],
    }
    size = 40
    fig, axes = plt.subplots(1, len(stacks), figsize=(FULL_WIDTH, 4.5))
    for ax, (name, layers) in zip(axes, stacks.items()):
        computed = receptive_field([kernel_stride_dilation(layer) for layer in layers])
        height, width, gradient = measured_receptive_field(layers, size)
        run.report(f"{name}: computed receptive field", f"{computed}×{computed}")
        run.expect(f"{name}: |measured - computed| (measured {height}×{width})",
                   max(abs(height - computed), abs(width - computed)), at_most=0)
        ax.imshow(gradient / gradient.max(), cmap="Blues", vmin=0, vmax=1)
        for spine in ax.spines.values():
            spine.set_visible(True)
        rows, cols = np.nonzero(gradient)
        ax.add_patch(Rectangle((cols.min() - 0.5, rows.min() - 0.5), computed, computed, fill=False,
                               edgecolor=COLORS[1], linewidth=2))
        ax.set(title=f"{name}\nreceptive field {computed}×{computed}", xticks=[], yticks=[])
    fig.suptitle(f"Gradient of one output unit on the {size}×{size} input (darker: larger); "
                 "box: the computed field")
    run.figure(fig, "receptive_fields", "The receptive field of one output unit, measured by its "
               "gradient (blue) and computed from the layer sizes (box), for plain, pooled and "
               "dilated stacks.")


def shifted(images, dy, dx):
    """Images moved down by dy and right by dx pixels (what leaves the frame wraps around: keep a
    blank border so that nothing does)."""
    return np.roll(images, (dy, dx), axis=(1, 2))


def on_canvas(image, size):
    """A small image in the middle of a blank size×size canvas, room to shift it around."""
    canvas = np.zeros((size, size, image.shape[-1]), dtype="float32")
    top, left = (size - image.shape[0]) // 2, (size - image.shape[1]) // 2
    canvas[top:top + image.shape[0], left:left + image.shape[1]] = image
    return canvas


@lecture.step("Translation equivariance")
def translation_equivariance(run):
    """A convolution applies the same filter everywhere, so shifting the input shifts the feature
    map by the same amount: it is equivariant to translation. Max pooling keeps this only for
    shifts by whole pooling windows; a one-pixel shift changes the pooled map. Global pooling
    (the mean of each map over all positions) forgets where things are: it is invariant.
    """
    x, y = data.digits()
    image = on_canvas(x[0], 16)[None]  # (1, 16, 16, 1): the digit with room to move
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
    pool = keras.layers.MaxPooling2D(2)
    features = to_numpy(conv(image))  # (1, 16, 16, 4)
    for dy, dx in [(2, 2), (1, 0)]:
        moved = to_numpy(conv(shifted(image, dy, dx)))
        run.expect(f"shift by ({dy}, {dx}): |conv(shift(x)) - shift(conv(x))|",
                   np.abs(moved - shifted(features, dy, dx)).max(), at_most=1e-5)
    pooled = to_numpy(pool(features))  # (1, 8, 8, 4)
    pooled_by_two = to_numpy(pool(conv(shifted(image, 2, 2))))
    pooled_by_one = to_numpy(pool(conv(shifted(image, 1, 0))))
    run.expect("shift by 2: |pool(conv(shift(x))) - shift by 1 of pool(conv(x))|",
               np.abs(pooled_by_two - shifted(pooled, 1, 1)).max(), at_most=1e-5)
    change = np.abs(pooled_by_one - pooled).max() / np.abs(pooled).max()
    run.report("shift by 1: largest change of the pooled map, relative to its largest value", change)
    global_change = np.abs(pooled_by_two.mean(axis=(1, 2)) - pooled.mean(axis=(1, 2))).max()
    run.expect("shift by 2: |global average of each map - before the shift|", global_change, at_most=1e-5)

    moved_features = to_numpy(conv(shifted(image, 2, 2)))
    fig, axes = plt.subplots(2, 5, figsize=(FULL_WIDTH, 5.2))
    rows = [(image, features, "input"), (shifted(image, 2, 2), moved_features, "input shifted\nby (2, 2)")]
    for row, (picture, maps, label) in enumerate(rows):
        axes[row, 0].imshow(picture[0, :, :, 0], cmap="gray")
        axes[row, 0].set_title(label)
        for col in range(1, 5):
            axes[row, col].imshow(maps[0, :, :, col - 1], cmap="magma")
            axes[row, col].set_title(f"feature map {col}")
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    fig.suptitle("Shift the input and the feature maps shift with it")
    run.figure(fig, "translation_equivariance",
               "A digit and its four feature maps (one 3×3 convolution with ReLU), before (top) and "
               "after (bottom) shifting the digit by two pixels down and right.")


def translated(image, dy, dx):
    """`image` (H, W, C) moved down by dy and right by dx pixels as RandomTranslation moves it: a
    fractional shift blends the two nearest whole shifts (bilinear), and what comes in is blank."""
    height, width = image.shape[:2]
    pad = math.ceil(max(abs(dy), abs(dx))) + 1
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)))
    out = np.zeros(image.shape)
    for down, row_weight in ((math.floor(dy), 1 - dy % 1), (math.floor(dy) + 1, dy % 1)):
        for right, col_weight in ((math.floor(dx), 1 - dx % 1), (math.floor(dx) + 1, dx % 1)):
            out += row_weight * col_weight * padded[pad - down:pad - down + height,
                                                    pad - right:pad - right + width]
    return out


def shift_label(dy, dx):
    """A shift as arrows and pixels: (0.4, -0.7) -> '↓0.4 ←0.7'."""
    return f"{'↓' if dy >= 0 else '↑'}{abs(dy):.1f} {'→' if dx >= 0 else '←'}{abs(dx):.1f}"


def trained_network(run):
    """The network of step 7 trained on the run's data: trained once per run, then shared by the
    later steps (a run with another strategy or run directory trains its own)."""
    def make():
        x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
        model = train(x_train, y_train, epochs=2 if run.fast else None, seed=run.seed,
                      strategy=run.strategy, validation_data=(x_test, y_test),
                      callbacks=run.callbacks("network"))
        return model, (x_train, x_test, y_train, y_test)

    return run.once("network", make)


@lecture.step("A convolutional network on handwritten digits")
def convolutional_network_on_digits(run):
    """Stack convolutions, batch norm, ReLU and pooling into a LeNet-style network (`train`): two
    3×3 convolutions per stage, a 2×2 max pool between stages, the filters doubling at each pool
    (from 32 at full resolution on these 8×8 digits; on 28×28 images, where each filter costs
    twelve times as much, 16 filters and one convolution per stage until the maps are 7×7), global
    average pooling and a softmax. Small random shifts of the training images (a
    `RandomTranslation` layer, active in `fit` only) teach it that a digit moved by a pixel is the
    same digit. We train it on three quarters of the real handwritten digits and test it on the
    rest, next to an RBF support-vector machine on the same pixels.
    """
    model, (x_train, x_test, y_train, y_test) = trained_network(run)
    accuracy = accuracy_score(y_test, predict_classes(model, x_test))
    svm = SVC().fit(x_train.reshape(len(x_train), -1), y_train)
    svm_accuracy = svm.score(x_test.reshape(len(x_test), -1), y_test)
    run.report("training and test images", f"{len(x_train)} and {len(x_test)} of shape {x_train.shape[1:]}")
    run.report("layers (pooling stages)", f"{len(model.layers)} ({stages(min(x_train.shape[1:3]))})")
    run.report("weights", model.count_params())
    run.report("RBF SVM test accuracy", svm_accuracy)
    if run.dataset in (None, "digits"):
        # measured: 0.993 to 0.998 over seeds 0-4, 0.987 to 0.993 under MirroredStrategy (seeds 0-2)
        run.expect("CNN test accuracy", accuracy, at_least=0.985)
    else:
        run.report("CNN test accuracy", accuracy)
    run.expect("CNN - SVM test accuracy", accuracy - svm_accuracy, at_least=-1 / len(y_test))  # one digit

    shifting = model.layers[0]  # the network's RandomTranslation layer
    shown = np.unique(y_train, return_index=True)[1][:4]  # the first training image of four classes
    n_shifts = 7
    batch = np.repeat(x_train[shown], n_shifts, axis=0)  # (4 × n_shifts, height, width, channels)
    # shifting(batch, training=True), as in `fit`, in its two halves, so that we see the shifts drawn
    moves = shifting.get_random_transformation(batch, training=True)
    augmented = to_numpy(shifting.transform_images(batch, moves, training=True))
    dx, dy = to_numpy(moves["translations"]).T  # pixels right and down
    side = min(x_train.shape[1:3])
    run.expect(f"largest shift drawn, in pixels (up to {SHIFT:g} of the side, {SHIFT * side:g})",
               np.abs([dx, dy]).max(), at_most=SHIFT * side)
    expected = np.stack([translated(image, down, right) for image, down, right in zip(batch, dy, dx)])
    tolerance = 1e-2 if run.precision == "mixed" else 1e-5  # the layer computes in float16 when mixed
    run.expect("|RandomTranslation - NumPy bilinear shift by the same (dy, dx)|",
               np.abs(augmented - expected).max(), at_most=tolerance)

    fig, axes = plt.subplots(len(shown), 2 + n_shifts, figsize=(FULL_WIDTH, 5.4),
                             gridspec_kw={"width_ratios": [1, 0.2] + [1] * n_shifts})
    for row, index in enumerate(shown):
        tiles = [x_train[index]] + list(augmented[row * n_shifts:(row + 1) * n_shifts])
        titles = [f"class {y_train[index]}"] + [shift_label(dy[i], dx[i]) for i in
                                                  range(row * n_shifts, (row + 1) * n_shifts)]
        for ax, tile, title in zip(axes[row, [0, *range(2, 2 + n_shifts)]], tiles, titles):
            ax.imshow(np.clip(tile.squeeze(axis=-1) if tile.shape[-1] == 1 else tile, 0, 1), cmap="gray",
                      vmin=0, vmax=1)
            ax.set_title(title, fontsize=11)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    for ax in axes[:, 1]:
        ax.set_axis_off()
    fig.suptitle("Training images (left) as fit sees them: randomly shifted (↓ down, → right, in pixels)")
    run.figure(fig, "augmented_images", f"{len(shown)} training images (left) and {n_shifts} random "
               "shifts of each, drawn by the network's own RandomTranslation layer as fit applies it "
               f"(training=True); above each, the shift drawn, in pixels (at most {SHIFT * side:g}: "
               f"{SHIFT:g} of the side). A fractional shift blends neighbouring pixels, so the shifted "
               "images look blurred, and the strip that comes in at the border is blank.")

    fig = training_curves(model.history, ["loss", "accuracy"], title="Learning curves", held_out="test")
    run.figure(fig, "learning_curves", "Training and test loss and accuracy of the convolutional "
               "network, epoch by epoch.")
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 5.2))
    ConfusionMatrixDisplay.from_predictions(y_test, predict_classes(model, x_test), ax=ax,
                                            colorbar=False, cmap="Blues")
    ax.set_title(f"Test confusion matrix (accuracy {accuracy:.3f})")
    ax.grid(False)
    run.figure(fig, "confusion_matrix", "Which test digits the network confuses: rows are the true "
               "classes, columns the predicted ones.")


@lecture.step("What the network learned")
def what_it_learned(run):
    """The first layer's filters are small patterns of weights; its feature maps show where each
    pattern occurs in an image: a map is bright where the image locally matches its filter. On 8×8
    digits a 3×3 filter spans a third of the image, and the learned filters look like noisy
    patches of weights rather than clean edges; still, their maps pick out different parts of the
    digit, some its strokes, some the background beside them. Deeper layers combine them into
    larger parts, at lower resolution.
    """
    model, (x_train, x_test, y_train, y_test) = trained_network(run)
    first_conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    kernel = to_numpy(first_conv.kernel)  # (3, 3, channels, filters)
    filters = np.moveaxis(kernel.mean(axis=2), -1, 0)  # (filters, 3, 3): averaged over the channels
    run.report("first-layer filters", f"{filters.shape[0]} of {filters.shape[1]}×{filters.shape[2]}")
    scaled = 0.5 + filters / (2 * np.abs(filters).max(axis=(1, 2), keepdims=True))  # 0 -> white
    fig = image_grid(scaled, ncols=8, normalize=None, cmap="RdBu_r",
                     title="First-layer filters (red positive, blue negative weights)")
    run.figure(fig, "first_layer_filters", "The 3×3 filters of the first convolution after training.")

    first_relu = next(layer for layer in model.layers if isinstance(layer, keras.layers.ReLU))
    feature_model = keras.Model(model.inputs[0], first_relu.output)
    maps = to_numpy(feature_model(x_test[:1]))[0]  # (height, width, filters)
    run.report("feature maps of one test digit", maps.shape)
    run.expect("share of first-layer units active on that digit", float((maps > 0).mean()),
               at_least=0.01, at_most=0.99)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 4.3), layout="constrained")
    image_grid(np.concatenate([x_test[:1, :, :, :1], np.moveaxis(maps, -1, 0)[:, :, :, None]]), ax=ax,
               labels=["input"] + [str(i) for i in range(maps.shape[-1])], ncols=11,
               normalize="each", title=f"A test digit ({y_test[0]}) and its first-layer feature maps")
    run.figure(fig, "feature_maps", "One test digit and the first-layer feature maps it produces.")


def residual_block(x, filters, normalization):
    """Two 3×3 convolutions whose output is added to the block's input (the shortcut), so that the
    block learns a correction to the identity; a 1×1 convolution matches the widths if needed."""
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1)(x)
    x = keras.layers.Conv2D(filters, 3, padding="same")(x)
    x = keras.layers.ReLU()(normalization()(x))
    x = keras.layers.Conv2D(filters, 3, padding="same")(x)
    x = normalization()(x)
    return keras.layers.ReLU()(keras.layers.Add()([shortcut, x]))


NORMALIZATIONS = {
    "none": lambda: keras.layers.Identity(),
    "batch": lambda: keras.layers.BatchNormalization(momentum=0.9),  # each channel over batch and positions
    "layer": lambda: keras.layers.LayerNormalization(axis=(1, 2, 3)),  # each image over everything
    "group": lambda: keras.layers.GroupNormalization(groups=4),  # each image, groups of channels
    "instance": lambda: keras.layers.GroupNormalization(groups=-1),  # each image, each channel
}


def small_resnet(input_shape, num_classes, normalization):
    """A small residual network (Functional API): a stem convolution, a residual block, 2×2 pooling,
    a wider residual block, global average pooling and a softmax."""
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(16, 3, padding="same")(inputs)
    x = residual_block(x, 16, normalization)
    x = keras.layers.MaxPooling2D(2)(x)  # (h, w, 16) -> (h/2, w/2, 16)
    x = residual_block(x, 32, normalization)
    x = keras.layers.GlobalAveragePooling2D()(x)  # (h/2, w/2, 32) -> (32,)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


@lecture.step("Residual blocks and normalisation layers")
def residual_and_normalization(run):
    """A residual block adds its input to its output, y = x + F(x), so that gradients reach early
    layers through the shortcut and very deep networks train (ResNet). Normalisation layers
    standardise activations; they differ in what they average over: batch norm over the batch
    (and positions) of each channel, layer norm over all of one image's activations, group norm
    over groups of channels of one image, instance norm over each channel of one image. The last
    three do not depend on the batch, which matters for tiny batches. Same network, same data,
    same epochs: only the normalisation changes.
    """
    x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    epochs, batch_size = 1 if run.fast else 6, 64
    results = {}
    histories = {}
    names = ["none", "batch"] if run.fast else list(NORMALIZATIONS)  # fast: a smoke run of two
    for name in names:
        set_seed(run.seed)
        with scope(run.strategy):
            model = small_resnet(x_train.shape[1:], int(y_train.max()) + 1, NORMALIZATIONS[name])
            schedule = keras.optimizers.schedules.CosineDecay(
                0.002, decay_steps=epochs * math.ceil(len(x_train) / batch_size))
            model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
        callbacks = run.callbacks(f"resnet_{name}")
        batches = datasets.pipeline(x_train, y_train, batch_size=batch_size, seed=run.seed,
                                    first_epoch=completed_epochs(callbacks))
        history = model.fit(batches, epochs=epochs, verbose=0, callbacks=callbacks)
        histories[name] = history.history["loss"]
        results[name] = accuracy_score(y_test, predict_classes(model, x_test))
        run.report(f"{name} normalisation: test accuracy after {epochs} epochs", results[name])
    run.report("weights of the small ResNet (batch norm)", small_resnet(
        x_train.shape[1:], int(y_train.max()) + 1, NORMALIZATIONS["batch"]).count_params())
    best_normalized = max(results[name] for name in names if name != "none")
    run.expect("best normalised - unnormalised test accuracy", best_normalized - results["none"],
               at_least=0)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 5), layout="constrained")
    for color, (name, losses) in zip(COLORS, histories.items()):
        left.plot(np.arange(1, len(losses) + 1), losses, "o-", color=color, label=name, ms=3)
    left.set(xlabel="epoch", ylabel="training loss", yscale="log", title="Training loss")
    left.legend()
    names = list(results)
    right.bar(names, [results[name] for name in names], color=COLORS[:len(names)])
    chance = 1 / (int(y_train.max()) + 1)
    right.axhline(chance, color="0.2", linestyle=":")
    right.set(ylim=(0, 1.08), ylabel="test accuracy",  # from 0: bar heights compare as the numbers do
              title=f"Test accuracy after {epochs} epochs (dotted: chance, {chance:g})")
    for i, name in enumerate(names):
        right.annotate(f"{results[name]:.3f}", (i, results[name]), ha="center", va="bottom")
    fig.suptitle("A small ResNet with each normalisation layer")
    run.figure(fig, "normalization_layers", "Training loss and test accuracy of the same small "
               "residual network with no, batch, layer, group and instance normalisation.")


@lecture.step("Transfer learning")
def transfer_learning(run):
    """A network trained on one task has learned features that may serve a
    related one. Pretrain on the digits 0–4, then learn the digits 5–9 from only a few labelled
    images per class: keep the pretrained layers frozen and train a new softmax on top, fine-tune
    all layers from the pretrained weights with a small learning rate, or train the same network
    from scratch. Which few images get labels matters, so each count is tried on three draws of
    images (and seeds), and we compare the means. Frozen features, shaped only to tell 0–4 apart,
    are too specialised to separate 5–9 on their own: fine-tuning them does far better. On these
    small 8×8 digits, though, the same network trained from scratch does about as well as the
    fine-tuned one: pretraining on five digits has little to teach about the other five here.
    """
    x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    first = y_train < 5
    pretrained = train(x_train[first], y_train[first], epochs=2 if run.fast else 15, seed=run.seed,
                       strategy=run.strategy, callbacks=run.callbacks("pretrain"))
    features = keras.Model(pretrained.inputs[0], pretrained.layers[-3].output)  # up to the global pooling
    x_new, y_new = x_train[~first], y_train[~first] - 5  # digits 5-9 become classes 0-4
    x_new_test, y_new_test = x_test[y_test >= 5], y_test[y_test >= 5] - 5
    labels_per_class = [1] if run.fast else [1, 5, 25]
    draws = 1 if run.fast else 3  # draws of labelled images (and seeds) per label count
    steps = 10 if run.fast else 150  # the same number of updates, whatever the number of labels
    learning_rates = {"frozen features": 1e-2, "fine-tuned": 1e-3, "from scratch": 2e-3}
    accuracy = {variant: np.zeros((len(labels_per_class), draws)) for variant in learning_rates}
    for (row, n_labels), draw in itertools.product(enumerate(labels_per_class), range(draws)):
        rng = np.random.default_rng([run.seed, draw])
        chosen = np.concatenate([rng.permutation(np.flatnonzero(y_new == c))[:n_labels] for c in range(5)])
        batches = math.ceil(len(chosen) / 8)
        for variant, learning_rate in learning_rates.items():
            set_seed(run.seed + draw)
            with scope(run.strategy):
                if variant == "from scratch":
                    model = convolutional_network(x_train.shape[1:], 5)
                else:
                    base = keras.models.clone_model(features)  # the same layers, fresh weights:
                    base.set_weights(features.get_weights())  # copy the pretrained ones in
                    base.trainable = variant == "fine-tuned"
                    head = keras.layers.Dense(5, activation="softmax", dtype="float32")
                    model = keras.Sequential([base, head])
                schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
                model.compile(optimizer=keras.optimizers.Adam(schedule),
                              loss="sparse_categorical_crossentropy")
            labelled = datasets.pipeline(x_new[chosen], y_new[chosen], batch_size=8, seed=run.seed + draw)
            model.fit(labelled, epochs=math.ceil(steps / batches), verbose=0)
            accuracy[variant][row, draw] = accuracy_score(y_new_test, predict_classes(model, x_new_test))
    for row, n_labels in enumerate(labels_per_class):
        run.report(f"{n_labels} labels per class: mean test accuracy over {draws} draws (frozen, "
                   "fine-tuned, scratch)", np.round([values[row].mean() for values in accuracy.values()], 3))
    run.expect("fine-tuned - frozen features, mean test accuracy over the label counts and draws",
               accuracy["fine-tuned"].mean() - accuracy["frozen features"].mean(), at_least=0.2)
    run.report("fine-tuned - from scratch, mean test accuracy over the label counts and draws",
               accuracy["fine-tuned"].mean() - accuracy["from scratch"].mean())

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 5), layout="constrained")
    for (variant, values), color, marker in zip(accuracy.items(), COLORS, "osD"):
        ax.plot(labels_per_class, values.mean(axis=1), marker=marker, color=color,
                label=f"{variant} (mean of {draws})")
        for draw in range(draws):  # each draw of labelled images, faint
            ax.plot(labels_per_class, values[:, draw], marker=marker, color=color, alpha=0.3,
                    linestyle="none")
    ax.axhline(0.2, color="0.4", linestyle=":")
    ax.annotate("chance (0.2)", (labels_per_class[0], 0.2), xytext=(0, 3), textcoords="offset points",
                color="0.2")
    ax.set(xscale="log", xticks=labels_per_class, xticklabels=labels_per_class,
           xlabel="labelled training images per class (digits 5–9)", ylabel="test accuracy",
           ylim=(0, 1.02), title="Learning 5–9 after pretraining on 0–4")
    ax.legend(loc="lower right")
    run.figure(fig, "transfer_learning", "Test accuracy on the digits 5–9 against the number of "
               f"labels per class, for {draws} draws of the labelled images (faint) and their mean: "
               "frozen pretrained features, fine-tuning, and training from scratch.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "cnn", *sys.argv[1:]]))
