"""Autoencoders

An autoencoder learns to copy its input through a bottleneck: an encoder squeezes each image into
a short code, a decoder rebuilds the image from the code, and the reconstruction error is the
loss. No labels are needed. We see that a linear autoencoder learns exactly what PCA computes, that
a non-linear one reconstructs better from the same code size, build the lecture's convolutional
autoencoder (and what its transposed convolutions do), teach it to remove noise, make its code
sparse, look at the code space, and end with the variational autoencoder, whose code space we can
sample new images from, and the trade between the two terms of its loss.

Images are float32 arrays (n, height, width, channels) with values in [0, 1]. The default data
are scikit-learn's 1,797 bundled 8×8 digits (offline); `--dataset mnist` (or fashion_mnist,
cifar10) uses a tensorflow-datasets download fetched ahead of class (`companion data fetch mnist`).
"""

import functools
import math
import numbers

import keras
import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from scipy.linalg import subspace_angles
from scipy.stats import norm
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

from companion import autodiff, datasets, validation
from companion.checkpoints import completed_epochs
from companion.datasets import image_split
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import CLASS_COLORS, COLORS, FULL_WIDTH, HALF_WIDTH, image_grid, training_curves
from companion.seeding import set_seed
from companion.tensors import to_numpy
from lectures.cnn import stages

lecture = Lecture(
    "autoencoders",
    "Autoencoders",
    expected="on the held-out 8x8 digits: a linear autoencoder equal to PCA, non-linear and "
    "convolutional autoencoders that reconstruct better than PCA, denoising that clearly gains, VAE "
    "samples as near real digits as held-out digits are, and a KL weight that trades reconstruction "
    "for KL",
    seconds=100,
    datasets=("digits", *datasets.IMAGE_DATASETS),
)

BATCH_SIZE = 32
LEARNING_RATE = 0.002
FIRST_WIDTH = 32  # filters of the first convolution; every halving doubles them
CODE_SIZE = 8  # the code size of the lecture's convolutional autoencoder (steps 3 and 4)
HIDDEN_UNITS = 256  # the hidden layer of the dense autoencoders and of the VAE
NOISE = 0.3  # standard deviation of the Gaussian noise in the denoising step (pixels are in [0, 1])
PIXEL_NOISE = 0.2  # the VAE decoder's assumed pixel noise σ: reconstruction = ‖x − x̂‖² / (2σ²)
LATENT_DIM = 2  # the VAE's code size (steps 7 and 8)


# ---------------------------------------------------------------------------------------------------
# The recipe: a convolutional autoencoder for images of any size


def convolutional_autoencoder(input_shape, code_size, *, noise=0.0):
    """The lecture's autoencoder for images of any size: (encoder, decoder), two Sequential models.

    Encoder: stride-2 3×3 convolutions (ReLU) halve the image, the filters doubling each time, one
    more 3×3 convolution at the smallest size, then a Dense layer to the code (no activation).
    Sides that do not halve evenly all the way (30 -> 15 -> 7.5) are zero-padded first (to 32).
    Decoder: the mirror image: Dense, reshape to the smallest feature maps, stride-2 transposed
    convolutions that double the size, a 3×3 convolution with a sigmoid (pixels in [0, 1]), and the
    padding cropped.
    `noise` > 0 puts a GaussianNoise layer first in the encoder: active in `fit` only (denoising).
    """
    height, width, channels = input_shape
    halvings = stages(min(height, width))  # as many halvings as the cnn lecture's pooling stages
    multiple = 2**halvings
    pad_height, pad_width = -height % multiple, -width % multiple
    padding = ((0, pad_height), (0, pad_width))
    smallest = ((height + pad_height) // multiple, (width + pad_width) // multiple,
                FIRST_WIDTH * 2**halvings)

    encoder_layers = [keras.Input(shape=input_shape)]
    if noise:
        encoder_layers.append(keras.layers.GaussianNoise(noise))
    if pad_height or pad_width:
        encoder_layers.append(keras.layers.ZeroPadding2D(padding))
    for stage in range(halvings):  # (h, w, c) -> (h/2, w/2, 32·2^stage)
        encoder_layers.append(keras.layers.Conv2D(FIRST_WIDTH * 2**stage, 3, strides=2, padding="same",
                                                  activation="relu"))
    encoder_layers += [keras.layers.Conv2D(smallest[-1], 3, padding="same", activation="relu"),
                       keras.layers.Flatten(),  # (h', w', c') -> (h'·w'·c',)
                       keras.layers.Dense(code_size, name="code", dtype="float32")]  # -> (code_size,)
    encoder = keras.Sequential(encoder_layers, name="encoder")

    decoder_layers = [keras.Input(shape=(code_size,)),
                      keras.layers.Dense(math.prod(smallest), activation="relu"),
                      keras.layers.Reshape(smallest)]  # (code_size,) -> (h', w', c')
    for stage in reversed(range(halvings)):  # (h, w, c) -> (2h, 2w, 32·2^stage)
        decoder_layers.append(keras.layers.Conv2DTranspose(FIRST_WIDTH * 2**stage, 3, strides=2,
                                                           padding="same", activation="relu"))
    # The output layers compute in float32 whatever the precision (`--precision mixed`).
    decoder_layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid",
                                              dtype="float32"))
    if pad_height or pad_width:
        decoder_layers.append(keras.layers.Cropping2D(padding, dtype="float32"))
    decoder = keras.Sequential(decoder_layers, name="decoder")
    return encoder, decoder


def default_epochs(n_images):
    """About 1,500 optimizer steps, between 5 and 60 epochs: 35 epochs for the 1,347 training digits."""
    steps_per_epoch = math.ceil(n_images / BATCH_SIZE)
    return int(np.clip(round(1500 / steps_per_epoch), 5, 60))


def train(x, *, code_size, epochs=None, seed=0, strategy=None, noise=0.0, validation_data=None,
          callbacks=()):
    """The lecture's recipe: a convolutional autoencoder (`convolutional_autoencoder`) trained to
    reconstruct the images x (n, height, width, channels) in [0, 1].

    The mean squared error between each image and its reconstruction, minimised by Adam in batches
    of 32, the learning rate decaying from 0.002 to 0 along a cosine, for `default_epochs(len(x))`
    epochs (35 on the 8×8 digits). `noise` > 0 trains a denoising autoencoder: Gaussian noise of
    that standard deviation is added to the inputs (fresh in every batch), the targets stay clean.
    `validation_data` (images) adds validation curves. Returns (encoder, decoder): the encoder maps
    images to codes (n, code_size), the decoder maps codes back to images shaped like x.
    """
    x = validation.images(x)
    code_size = validation.positive_integer("code_size", code_size)
    epochs, callbacks = validation.training_options(epochs, seed, callbacks,
                                                    default_epochs=default_epochs(len(x)))
    if not (isinstance(noise, numbers.Real) and noise >= 0):
        raise ValueError(f"Expected noise >= 0 (a standard deviation). Received: noise={noise!r}")
    if validation_data is not None:
        validation_data = validation.images(validation_data)
        validation_data = (validation_data, validation_data)  # the target of an autoencoder is its input
    set_seed(seed)
    batch_size = global_batch_size(BATCH_SIZE, strategy)  # BATCH_SIZE per replica
    with scope(strategy):
        encoder, decoder = convolutional_autoencoder(x.shape[1:], code_size, noise=noise)
        autoencoder = keras.Sequential([encoder, decoder], name="autoencoder")
        schedule = keras.optimizers.schedules.CosineDecay(
            LEARNING_RATE, decay_steps=epochs * math.ceil(len(x) / batch_size))
        autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    batches = datasets.pipeline(x, x, batch_size=batch_size, seed=seed,
                                first_epoch=completed_epochs(callbacks))
    autoencoder.fit(batches, epochs=epochs, validation_data=validation_data, callbacks=callbacks, verbose=0)
    return encoder, decoder


def predict(model, x, batch_size=500):
    """The model called on batches of x in inference mode (noise and sampling layers off), as NumPy."""
    return np.concatenate([to_numpy(model(x[start:start + batch_size], training=False))
                           for start in range(0, len(x), batch_size)])


# ---------------------------------------------------------------------------------------------------
# Small functions every step uses


def flat(images):
    """Images (n, height, width, channels) as rows of pixels (n, height·width·channels)."""
    return images.reshape(len(images), -1)


def mse(a, b):
    """Mean squared error over all pixels."""
    return float(np.mean((np.asarray(a, dtype="float64") - b) ** 2))


def signed_images(vectors, shape, *, each=True):
    """Signed weight vectors (n, pixels) as grey images (n, height, width) in [0, 1], 0.5 being zero,
    each scaled by its own largest |value| (or all by the largest one, each=False); `shape` is the
    image shape (colour channels are averaged)."""
    vectors = vectors / np.abs(vectors).max(axis=1 if each else None, keepdims=True)
    return (0.5 + vectors / 2).reshape(len(vectors), *shape).mean(axis=-1)


# ---------------------------------------------------------------------------------------------------
# The steps, each with the functions it introduces just above it


def image_rows(ax, rows, names, *, title, cmap="gray"):
    """Rows of images (each (n, height, width, channels), values in [0, 1]) drawn as one mosaic on
    `ax`, each row's name on its left in the figure's text size (image_grid's labels are smaller)."""
    image_grid(np.concatenate(rows), ax=ax, ncols=len(rows[0]), normalize=None, cmap=cmap, title=title)
    height = rows[0].shape[1]
    for row, name in enumerate(names):  # the mosaic: 1 pixel above every row and left of every column
        ax.text(-0.5, row * (height + 1) + 1 + (height - 1) / 2, name, ha="right", va="center")


@lecture.step("A linear autoencoder learns PCA's subspace")
def linear_autoencoder_is_pca(run):
    """With no activation functions, encoder and decoder are two matrices: the code is W_e·x, the
    reconstruction W_d·W_e·x, a projection onto at most k directions. The best k directions for the
    squared error are known in closed form: PCA's top k principal components (of the centred data,
    so we subtract the mean image, as PCA does). Trained by gradient descent, the linear autoencoder
    reaches the same error and the same subspace, measured by the principal angles between its
    decoder's k rows and PCA's k components. Its rows are another basis of that subspace, neither
    orthogonal nor ordered by variance: PCA gives more than the subspace, the autoencoder only that.
    """
    x_train, x_test, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    k = 4
    mean_image = flat(x_train).mean(axis=0)
    centred_train, centred_test = flat(x_train) - mean_image, flat(x_test) - mean_image  # (n, pixels)
    n_pixels = centred_train.shape[1]
    set_seed(run.seed)
    with scope(run.strategy):
        encoder = keras.Sequential([keras.Input(shape=(n_pixels,)),
                                    keras.layers.Dense(k, use_bias=False, dtype="float32")])
        decoder = keras.Sequential([keras.Input(shape=(k,)),
                                    keras.layers.Dense(n_pixels, use_bias=False, dtype="float32")])
        autoencoder = keras.Sequential([encoder, decoder])
        epochs, steps_per_epoch = (1 if run.fast else 5), 100
        schedule = keras.optimizers.schedules.CosineDecay(0.02, decay_steps=epochs * steps_per_epoch)
        autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    # every step sees the whole training set (one batch), repeated for epochs × steps_per_epoch steps
    batches = datasets.pipeline(centred_train, centred_train, batch_size=len(centred_train),
                                shuffle=False).repeat()
    autoencoder.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0,
                    callbacks=run.callbacks("linear"))

    pca = PCA(k).fit(flat(x_train))
    pca_error = mse(pca.inverse_transform(pca.transform(flat(x_test))), flat(x_test))
    autoencoder_error = mse(predict(autoencoder, centred_test), centred_test)
    rows = to_numpy(decoder.layers[0].kernel)  # (k, pixels): the decoder's k output directions
    angles = np.degrees(subspace_angles(rows.T, pca.components_.T))  # (k,), largest first
    unit_rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    run.report("code size k", k)
    run.report("PCA: test mean squared error", pca_error)
    run.report("linear autoencoder: test mean squared error", autoencoder_error)
    run.expect("linear autoencoder / PCA, test error", autoencoder_error / pca_error,
               at_least=0.99, at_most=1.01)
    run.report("principal angles to PCA's subspace (degrees)", np.round(angles, 3))
    run.expect("largest principal angle between the decoder's rows and PCA's components (degrees)",
               angles.max(), at_most=1)
    run.report("largest |cosine| between two decoder rows (0 if orthogonal, like PCA's)",
               np.abs(unit_rows @ unit_rows.T - np.eye(k)).max())

    projections = pca.components_ @ np.linalg.pinv(rows) @ rows  # PCA's components projected onto the rows
    shape = x_train.shape[1:]
    pictures = [signed_images(pca.components_, shape), signed_images(projections, shape),
                signed_images(rows, shape)]
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.4), layout="constrained")
    image_rows(ax, pictures, ["PCA", "projected", "decoder\nrows"], cmap="RdBu_r",
               title=f"PCA's components = their projections onto the\nautoencoder's subspace "
                     f"(largest angle {angles.max():.2f}°)")
    run.figure(fig, "linear_autoencoder_pca", "Top: PCA's principal components 1 to 4, left to right. "
               "Middle: the same components projected onto the span of the linear autoencoder's decoder "
               "rows: unchanged, so the span is PCA's. Bottom: the decoder rows themselves, another basis "
               "of that span (red positive, blue negative).")


def epochs_for_steps(steps, n_images, batch_size):
    """The number of epochs (at least 1) that makes about `steps` optimizer steps over n_images."""
    return max(1, round(steps / math.ceil(n_images / batch_size)))


def pca_reconstruction(pca, images):
    """Images projected onto a fitted PCA's components and back, shaped like the images."""
    return pca.inverse_transform(pca.transform(flat(images))).reshape(images.shape)


def dense_autoencoder(input_shape, code_size, hidden_units=HIDDEN_UNITS):
    """(encoder, decoder) of fully connected layers: pixels -> 256 ReLU -> code (linear) -> 256 ReLU
    -> pixels (sigmoid), reshaped to the image."""
    encoder = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),  # (h, w, c) -> (h·w·c,)
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(code_size, name="code", dtype="float32"),  # float32 in any precision
    ], name="encoder")
    decoder = keras.Sequential([
        keras.Input(shape=(code_size,)),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(math.prod(input_shape), activation="sigmoid", dtype="float32"),
        keras.layers.Reshape(input_shape, dtype="float32"),  # (h·w·c,) -> (h, w, c)
    ], name="decoder")
    return encoder, decoder


def fit_autoencoder(run, build, x_train, *, name, epochs, batch_size):
    """(encoder, decoder) = `build()`, trained as one autoencoder on `x_train` to reconstruct it
    (mean squared error, Adam from 0.003 decaying along a cosine), checkpointed as `name`."""
    with scope(run.strategy):
        encoder, decoder = build()
        autoencoder = keras.Sequential([encoder, decoder])
        schedule = keras.optimizers.schedules.CosineDecay(
            0.003, decay_steps=epochs * math.ceil(len(x_train) / batch_size))
        autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    callbacks = run.callbacks(name)
    batches = datasets.pipeline(x_train, x_train, batch_size=batch_size, seed=run.seed,
                                first_epoch=completed_epochs(callbacks))
    autoencoder.fit(batches, epochs=epochs, verbose=0, callbacks=callbacks)
    return encoder, decoder


def dense_autoencoders(run, code_sizes):
    """Dense autoencoders of step 2, one per code size, trained on the run's images once and shared
    by the run's later steps: {code_size: (encoder, decoder)}."""
    x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    trained = run.once("dense autoencoders", dict)  # {code_size: (encoder, decoder)}, filled below
    batch_size = 64
    epochs = 3 if run.fast else epochs_for_steps(1100, len(x_train), batch_size)  # 50 on the digits
    for code_size in code_sizes:
        if code_size not in trained:
            set_seed(run.seed)
            trained[code_size] = fit_autoencoder(
                run, functools.partial(dense_autoencoder, x_train.shape[1:], code_size), x_train,
                name=f"dense_code_{code_size}", epochs=epochs, batch_size=batch_size)
    return {code_size: trained[code_size] for code_size in code_sizes}


def one_per_class(y, count=10):
    """Indices of the first test image of each class (up to `count` images)."""
    return np.array([np.flatnonzero(y == c)[0] for c in np.unique(y)][:count])


@lecture.step("A non-linear autoencoder beats PCA")
def nonlinear_autoencoder(run):
    """Add a hidden layer with ReLU to the encoder and to the decoder, and a sigmoid to the output:
    the code is now a non-linear function of the image, and the images it can reconstruct lie on a
    curved surface instead of a flat subspace. At every code size we try it reconstructs held-out
    digits better than PCA, and PCA needs about twice as many numbers per digit to match what the
    autoencoder does with 2. The price is training (and a decoder with many weights), where PCA is
    one singular value decomposition.
    """
    x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    code_sizes = [2] if run.fast else [2, 4, 8, 16]  # fast: one of them
    autoencoders = dense_autoencoders(run, code_sizes)
    pca_sizes = np.arange(1, 33)
    pca_errors = {k: mse(pca_reconstruction(PCA(int(k)).fit(flat(x_train)), x_test), x_test)
                  for k in pca_sizes}
    errors, ratios = {}, {}
    for code_size, (encoder, decoder) in autoencoders.items():
        errors[code_size] = mse(predict(decoder, predict(encoder, x_test)), x_test)
        ratios[code_size] = errors[code_size] / pca_errors[code_size]
        run.report(f"code size {code_size}: test error, PCA and autoencoder",
                   f"{pca_errors[code_size]:.4f} and {errors[code_size]:.4f} (ratio {ratios[code_size]:.2f})")
    matched = min((k for k in pca_sizes if pca_errors[k] <= errors[2]), default=None)
    run.report("PCA components needed to match the autoencoder's error with a code of 2",
               matched if matched is not None else f"more than {pca_sizes[-1]}")
    run.expect("autoencoder / PCA test error, code size 2", ratios[2], at_most=0.85)
    run.expect("largest autoencoder / PCA test error ratio over the code sizes", max(ratios.values()),
               at_most=0.85)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.2), layout="constrained")
    ax.plot(pca_sizes, [pca_errors[k] for k in pca_sizes], "-", color=COLORS[0], label="PCA")
    ax.plot(list(errors), list(errors.values()), "o-", color=COLORS[1], label="non-linear autoencoder")
    ax.set(xscale="log", yscale="log", xticks=[1, 2, 4, 8, 16, 32], xticklabels=[1, 2, 4, 8, 16, 32],
           xlabel="code size (numbers per image)", ylabel="test mean squared error",
           title="Reconstruction error of held-out images")
    ax.legend()
    run.figure(fig, "error_vs_code_size", "Test reconstruction error against the code size: PCA for "
               "every size from 1 to 32, the non-linear autoencoder at its trained sizes.")

    shown = one_per_class(y_test)
    rows, names = [x_test[shown]], ["test image"]
    grid_sizes = [size for size in (2, 8) if size in autoencoders]
    for code_size in grid_sizes:
        encoder, decoder = autoencoders[code_size]
        rows.append(np.clip(pca_reconstruction(PCA(code_size).fit(flat(x_train)), x_test[shown]), 0, 1))
        rows.append(predict(decoder, predict(encoder, x_test[shown])))
        names += [f"PCA, {code_size}", f"autoencoder, {code_size}"]
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 5.5 if len(rows) > 3 else 3), layout="constrained")
    image_rows(ax, rows, names, title="Test images and their reconstructions from codes of "
                                      f"{' and '.join(map(str, grid_sizes))} numbers")
    run.figure(fig, "reconstructions_pca_vs_autoencoder", "One test image per class, reconstructed by "
               f"PCA and by the non-linear autoencoder from codes of {' and '.join(map(str, grid_sizes))} "
               "numbers.")


def trained_autoencoder(run):
    """The convolutional autoencoder of step 3 (the recipe, code size 8) trained on the run's images
    once per run and shared by step 4: (encoder, decoder, history)."""
    def make():
        x_train, x_test, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
        history = keras.callbacks.History()
        encoder, decoder = train(x_train, code_size=CODE_SIZE, epochs=2 if run.fast else None,
                                 seed=run.seed, strategy=run.strategy, validation_data=x_test,
                                 callbacks=[history, *run.callbacks("convolutional")])
        return encoder, decoder, history

    return run.once("convolutional autoencoder", make)


def transposed_convolution(image, kernel):
    """What `keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same")` makes of one grey image
    (h, w) with a chosen 3×3 kernel and no bias: the real layer's output, (2h, 2w)."""
    layer = keras.layers.Conv2DTranspose(1, kernel.shape, strides=2, padding="same", use_bias=False)
    layer.build((None, *image.shape, 1))
    layer.kernel.assign(kernel[:, :, None, None].astype("float32"))  # (3, 3, filters out, channels in)
    return to_numpy(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]  # (2h, 2w)


def stamps(image, kernel, stride=2):
    """The same by hand: every input pixel adds pixel × kernel to a larger grid at (stride·row,
    stride·column), where neighbouring stamps overlap and add up: (stride·(h−1) + 3, stride·(w−1) + 3),
    of which padding="same" keeps the first stride·h rows and stride·w columns."""
    (height, width), size = image.shape, len(kernel)
    full = np.zeros((stride * (height - 1) + size, stride * (width - 1) + size))
    for row in range(height):
        for column in range(width):
            full[stride * row:stride * row + size, stride * column:stride * column + size] += \
                image[row, column] * kernel
    return full


def draw_numbers(ax, values, title, *, rows, colors=None, notes=None):
    """A grid of numbers, row 0 on top, centred in a frame `rows` cells tall (so that grids side by
    side share one cell size), each cell filled with its colour (white when none given) and given
    its note in small print."""
    top = (rows - values.shape[0]) / 2
    for (row, column), value in np.ndenumerate(values):
        face = "white" if colors is None else colors[row][column]
        ax.add_patch(plt.Rectangle((column, top + row), 1, 1, facecolor=face, edgecolor="0.6", zorder=0))
        note = "" if notes is None else notes[row][column]
        ax.text(column + 0.5, top + row + (0.42 if note else 0.5), f"{value:g}", ha="center", va="center",
                fontsize=16)
        ax.text(column + 0.5, top + row + 0.8, note, ha="center", va="center", fontsize=11, color="0.3")
    ax.set(xlim=(-0.1, values.shape[1] + 0.1), ylim=(rows + 0.1, -0.1), aspect="equal", title=title)
    ax.set_axis_off()


def transposed_convolution_figure(image, kernel, full, output):
    """Input, kernel and output of the stride-2 transposed convolution as grids of numbers: each
    input pixel's stamp outlined on the output in that pixel's colour, where stamps overlap the
    terms that add up in small print, and the cut row and column hatched."""
    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [image.shape[1], kernel.shape[1], full.shape[1]]})
    pixel_colors = np.array([COLORS[0], COLORS[1], COLORS[2], COLORS[4]][:image.size]).reshape(image.shape)
    light = [[(*matplotlib.colors.to_rgb(color), 0.35) for color in row] for row in pixel_colors]
    terms = [[[] for _ in range(full.shape[1])] for _ in range(full.shape[0])]  # what each stamp adds
    for (row, column), value in np.ndenumerate(image):
        for (i, j), weight in np.ndenumerate(kernel):
            if value * weight:
                terms[2 * row + i][2 * column + j].append(f"{value * weight:g}")
    notes = [["+".join(cell) if len(cell) > 1 else "" for cell in row] for row in terms]
    rows = full.shape[0]
    draw_numbers(axes[0], image, f"input ({image.shape[0]}×{image.shape[1]})", rows=rows, colors=light)
    draw_numbers(axes[1], kernel, "kernel (3×3)", rows=rows)
    draw_numbers(axes[2], full, f"output ({output.shape[0]}×{output.shape[1]}): the stamps summed\n"
                 '(hatched: cut by padding="same")', rows=rows, notes=notes)
    for cut in (plt.Rectangle((0, output.shape[0]), full.shape[1], full.shape[0] - output.shape[0]),
                plt.Rectangle((output.shape[1], 0), full.shape[1] - output.shape[1], output.shape[0])):
        cut.set(facecolor="0.88", hatch="//", edgecolor="0.6", zorder=0.5)
        axes[2].add_patch(cut)
    for index, ((row, column), color) in enumerate(np.ndenumerate(pixel_colors)):
        inset = 0.04 * (index + 1)  # nested outlines where stamps overlap
        axes[2].add_patch(plt.Rectangle((2 * column + inset, 2 * row + inset), len(kernel) - 2 * inset,
                                        len(kernel) - 2 * inset, fill=False, edgecolor=color, linewidth=2.5))
    fig.suptitle("Conv2DTranspose, stride 2: each input pixel stamps pixel × kernel, two pixels apart")
    return fig


@lecture.step("A convolutional autoencoder (the recipe)")
def convolutional_autoencoder_step(run):
    """For images, the encoder can be a convolutional network: stride-2 convolutions halve the
    image while the filters double, and a Dense layer makes the code. The decoder mirrors it with
    transposed convolutions, which double the size (each input pixel paints a learned 3×3 patch,
    two pixels apart), and ends with a sigmoid so that pixels lie in [0, 1]. A side that does not
    halve evenly all the way (30 -> 15 -> 7.5) is zero-padded before (to 32) and cropped after.
    We first run Keras' Conv2DTranspose on a 2×2 input with a kernel we choose, and check it against
    that description written as a NumPy loop: the stamps, kernel-sized and two pixels apart,
    overlap by one row or column and add up there, and padding="same" keeps the first 4×4 of the
    5×5 they cover. This is the lecture's recipe, `train(x, code_size=8)`: we compare its held-out
    error with PCA's at the same code size.
    """
    x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    encoder, decoder, history = trained_autoencoder(run)
    shapes = [tuple(encoder.input.shape[1:])] + [tuple(layer.output.shape[1:]) for layer in encoder.layers
                                                  if not isinstance(layer, keras.layers.GaussianNoise)]
    run.report("encoder: shapes", " -> ".join(str(shape) for shape in shapes))
    shapes = [tuple(decoder.input.shape[1:])] + [tuple(layer.output.shape[1:]) for layer in decoder.layers]
    run.report("decoder: shapes", " -> ".join(str(shape) for shape in shapes))
    image = np.array([[1, 2], [3, 4]], dtype="float32")  # a tiny input and a chosen, lopsided kernel
    kernel = np.array([[1, 2, 1], [0, 1, 0], [1, 0, 0]], dtype="float32")
    output, full = transposed_convolution(image, kernel), stamps(image, kernel)
    run.report("Conv2DTranspose of [[1, 2], [3, 4]] (kernel [[1, 2, 1], [0, 1, 0], [1, 0, 0]])",
               output.astype(int).tolist())
    run.expect("largest |Conv2DTranspose - the stamps by hand|",
               np.abs(output - full[:output.shape[0], :output.shape[1]]).max(), at_most=1e-6)
    fig = transposed_convolution_figure(image, kernel, full, output)
    run.figure(fig, "transposed_convolution", "A stride-2 transposed convolution (Keras' Conv2DTranspose "
               "with the kernel shown, no bias) of a 2×2 input: each input pixel adds pixel × kernel to the "
               "output at twice its position, outlined in its colour; overlapping stamps add up, and "
               'padding="same" cuts the last row and column.')
    run.report("weights: encoder, decoder", f"{encoder.count_params():,}, {decoder.count_params():,}")
    reconstructions = predict(decoder, predict(encoder, x_test))
    error = mse(reconstructions, x_test)
    pca_error = mse(pca_reconstruction(PCA(CODE_SIZE).fit(flat(x_train)), x_test), x_test)
    run.report(f"PCA with {CODE_SIZE} components: test mean squared error", pca_error)
    run.report("convolutional autoencoder: test mean squared error", error)
    run.expect(f"convolutional autoencoder / PCA test error, code size {CODE_SIZE}", error / pca_error,
               at_most=0.7)

    fig = training_curves(history, ["loss"], title="Mean squared error", held_out="test")
    run.figure(fig, "convolutional_learning_curves", "Training and test reconstruction error of the "
               "convolutional autoencoder, epoch by epoch.")
    shown = np.arange(12)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.4), layout="constrained")
    image_rows(ax, [x_test[shown], reconstructions[shown]], ["test image", "reconstruction"],
               title=f"Held-out images and their reconstructions from {CODE_SIZE} numbers")
    run.figure(fig, "convolutional_reconstructions", "Twelve test images (top) and the convolutional "
               "autoencoder's reconstructions (bottom).")


def psnr(reference, images):
    """Peak signal-to-noise ratio in dB for pixels in [0, 1]: 10·log10(1 / MSE); higher is better."""
    return 10 * math.log10(1 / mse(images, reference))


@lecture.step("Denoising autoencoders")
def denoising(run):
    """A denoising autoencoder gets a corrupted image as input and the clean image as its target,
    so it must learn what digits look like rather than copy pixels. Here the corruption is Gaussian
    noise of standard deviation 0.3 (a Keras GaussianNoise layer at the encoder's input, fresh noise
    in every batch and off at test time). We measure the peak signal-to-noise ratio,
    10·log10(1 / MSE) in dB, on noisy test images: as they are, cleaned by the denoising
    autoencoder, and passed through the plain autoencoder of step 3 with the same code size, which
    also removes some noise (its code cannot hold it) but was never taught to. On clean inputs the
    denoising autoencoder is a little worse than the plain one: it has learned to smooth.
    """
    x_train, x_test, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    plain_encoder, plain_decoder, _ = trained_autoencoder(run)
    encoder, decoder = train(x_train, code_size=CODE_SIZE, noise=NOISE, epochs=2 if run.fast else None,
                             seed=run.seed, strategy=run.strategy, callbacks=run.callbacks("denoising"))
    rng = np.random.default_rng(run.seed)
    noisy = (x_test + NOISE * rng.standard_normal(x_test.shape)).astype("float32")  # (n, h, w, c)
    denoised = predict(decoder, predict(encoder, noisy))
    plain = predict(plain_decoder, predict(plain_encoder, noisy))
    scores = {"noisy input": psnr(x_test, noisy), "plain autoencoder": psnr(x_test, plain),
              "denoising autoencoder": psnr(x_test, denoised)}
    for name, score in scores.items():
        run.report(f"PSNR of the {name} (dB)", score)
    run.report("PSNR on clean inputs (dB): plain, denoising autoencoder",
               f"{psnr(x_test, predict(plain_decoder, predict(plain_encoder, x_test))):.2f}, "
               f"{psnr(x_test, predict(decoder, predict(encoder, x_test))):.2f}")
    run.expect("denoising autoencoder - noisy input (dB)",
               scores["denoising autoencoder"] - scores["noisy input"], at_least=4)
    run.expect("denoising - plain autoencoder, both fed the noisy images (dB)",
               scores["denoising autoencoder"] - scores["plain autoencoder"], at_least=0.5)

    shown = np.arange(12)
    rows = [np.clip(noisy[shown], 0, 1), plain[shown], denoised[shown], x_test[shown]]
    names = [f"{name}\n{score:.1f} dB" for name, score in scores.items()] + ["clean"]
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 3.9), layout="constrained")
    image_rows(ax, rows, names, title=f"Gaussian noise (σ = {NOISE}) removed; PSNR over all test images")
    run.figure(fig, "denoising", "Noisy test images (shown clipped to [0, 1]), the plain and the "
               "denoising autoencoder's outputs, and the clean images.")


def sparse_autoencoder(input_shape, code_units, l1, weight_decay=1e-4):
    """(encoder, decoder) with one layer each: pixels -> code_units ReLU units (with an L1 activity
    penalty when l1 > 0) -> pixels (sigmoid). The decoder's weight rows are the code units' images.
    A small L2 weight decay on both weight matrices keeps weights that no image needs at zero."""
    activity = keras.regularizers.L1(l1) if l1 else None
    encoder = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Flatten(),  # (h, w, c) -> (h·w·c,)
        keras.layers.Dense(code_units, activation="relu", activity_regularizer=activity,
                           kernel_regularizer=keras.regularizers.L2(weight_decay), name="code",
                           dtype="float32"),  # float32 in any precision
    ], name="encoder")
    decoder = keras.Sequential([
        keras.Input(shape=(code_units,)),
        keras.layers.Dense(math.prod(input_shape), activation="sigmoid",
                           kernel_regularizer=keras.regularizers.L2(weight_decay), dtype="float32"),
        keras.layers.Reshape(input_shape, dtype="float32"),  # (h·w·c,) -> (h, w, c)
    ], name="decoder")
    return encoder, decoder


@lecture.step("Sparse autoencoders")
def sparse(run):
    """Instead of a narrow code, a sparse autoencoder has a wide one (here as many units as an 8×8
    digit has pixels, enough to copy it) and a penalty that keeps most units at zero for each
    image: an L1 penalty on the code, λ·Σ|code|, added to the loss (Keras: an activity regularizer,
    averaged over the batch). Each image is then described by a few active units, and each unit
    comes to stand for a part of a digit, a stroke, that its decoder weights draw. We train the
    same network with and without the penalty (both with a small weight decay) and measure the
    share of code values that are zero and what the sparsity costs in reconstruction error. The
    penalty also silences some units altogether.
    """
    x_train, x_test, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    code_units, l1 = 64, 1e-3
    epochs = 2 if run.fast else epochs_for_steps(1300, len(x_train), BATCH_SIZE)  # 30 on the digits
    codes, errors, decoders = {}, {}, {}
    for name, penalty in [("plain", 0.0), ("sparse", l1)]:
        set_seed(run.seed)
        encoder, decoder = fit_autoencoder(
            run, functools.partial(sparse_autoencoder, x_train.shape[1:], code_units, penalty), x_train,
            name=f"sparse_{name}", epochs=epochs, batch_size=BATCH_SIZE)
        codes[name] = predict(encoder, x_test)  # (n, code_units)
        errors[name] = mse(predict(decoder, codes[name]), x_test)
        decoders[name] = to_numpy(decoder.layers[0].kernel)  # (code_units, pixels)
    zero = {name: float(np.mean(code <= 1e-3)) for name, code in codes.items()}  # ReLU: exact zeros
    active = {name: float(np.mean((code > 1e-3).sum(axis=1))) for name, code in codes.items()}
    unused = {name: int(np.sum(code.max(axis=0) <= 1e-3)) for name, code in codes.items()}
    for name in codes:
        run.report(f"{name}: code values at zero, active units per image, units never active",
                   f"{zero[name]:.2f}, {active[name]:.1f} of {code_units}, {unused[name]}")
        run.report(f"{name}: test mean squared error", errors[name])
    run.expect("share of zero code values, sparse - plain", zero["sparse"] - zero["plain"], at_least=0.3)
    run.report("test error, sparse / plain (the price of sparsity)", errors["sparse"] / errors["plain"])

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4), layout="constrained")
    top = max(code.max() for code in codes.values())
    bins = np.linspace(0, top, 40)
    for color, (name, code) in zip(COLORS, codes.items()):
        left.hist(code.ravel(), bins=bins, histtype="step", linewidth=1.5, color=color,
                  label=f"{name}: {zero[name]:.0%} at zero")
        right.hist((code > 1e-3).sum(axis=1), bins=np.arange(code_units + 2) - 0.5, histtype="step",
                   linewidth=1.5, color=color, label=f"{name}: {active[name]:.1f} on average")
    left.set(yscale="log", xlabel="code value", ylabel="count (log scale)",
             title="Code values of the test images")
    right.set(xlabel="active code units", ylabel="test images", title="Active units per image")
    left.legend()
    right.legend()
    run.figure(fig, "sparse_codes", "Code values and the number of active code units per test image, "
               "without and with the L1 penalty.")

    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 5.5), layout="constrained")
    for ax, name in zip(axes, ("plain", "sparse")):
        order = np.argsort(-(codes[name] > 1e-3).mean(axis=0), kind="stable")  # most often active first
        image_grid(signed_images(decoders[name][order], x_train.shape[1:], each=False), ax=ax, ncols=8,
                   normalize=None, cmap="RdBu_r")
        penalty = f", λ = {l1:g}" if name == "sparse" else ""
        ax.set_title(f"{name}{penalty}: {code_units - unused[name]} of {code_units} units ever active")
    fig.suptitle("What each code unit draws: its decoder weights (red: brighter, blue: darker; "
                 "most often active first)")
    run.figure(fig, "sparse_features", "The decoder weights of the 64 code units, without and with the "
               "L1 penalty on the code, on one colour scale: units that are never active have decayed "
               "to zero (grey).")


def scatter_by_class(ax, codes, y):
    """2-D codes drawn as their class's digit (readable in any colour vision, no label hidden
    under another), coloured by class too."""
    for c in np.unique(y):
        points = codes[y == c]
        ax.scatter(points[:, 0], points[:, 1], s=45, marker=f"${c}$", linewidths=0,
                   color=CLASS_COLORS[c % len(CLASS_COLORS)], alpha=0.85)


@lecture.step("The code space")
def code_space(run):
    """The autoencoder with a 2-number code of step 2 maps each image to a point in the plane, as
    PCA's first two components do. Neither saw a label, yet images of the same class land near each
    other; the autoencoder, free to bend its map, separates the classes better. We measure how well
    by a 15-nearest-neighbour classifier trained on the codes of the training images and tested on
    the codes of the test images.
    """
    x_train, x_test, y_train, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    encoder, _ = dense_autoencoders(run, [2])[2]
    pca = PCA(2).fit(flat(x_train))
    codes = {"PCA": (pca.transform(flat(x_train)), pca.transform(flat(x_test))),
             "autoencoder": (predict(encoder, x_train), predict(encoder, x_test))}
    accuracy = {}
    for name, (train_codes, test_codes) in codes.items():
        neighbours = KNeighborsClassifier(15).fit(train_codes, y_train)
        accuracy[name] = neighbours.score(test_codes, y_test)
        run.report(f"{name}: 15-nearest-neighbour test accuracy on the 2-number codes", accuracy[name])
    run.expect("autoencoder - PCA, nearest-neighbour accuracy on 2-number codes",
               accuracy["autoencoder"] - accuracy["PCA"], at_least=0.03)

    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 5.5), layout="constrained")
    for ax, (name, (_, test_codes)) in zip(axes, codes.items()):
        scatter_by_class(ax, test_codes, y_test)
        ax.set(title=f"{name}: nearest-neighbour accuracy {accuracy[name]:.2f}", xlabel="code 1",
               ylabel="code 2")
    fig.suptitle("Test images in a 2-number code (each drawn as its digit)")
    run.figure(fig, "code_space", "Codes of the test images in two dimensions, from PCA and from the "
               "non-linear autoencoder, coloured by class.")


class Sampling(keras.layers.Layer):
    """The reparameterization trick: z = μ + σ ⊙ ε with ε ~ N(0, I) and σ = exp(log σ² / 2).

    The randomness is in ε alone, so z is a differentiable function of μ and log σ², and gradients
    reach the encoder. The layer also adds the KL divergence of N(μ, σ²) from the prior N(0, I),
    summed over the code and averaged over the batch, to the model's loss (`add_loss`), weighted by
    `beta` (1 in the VAE's loss, the negative ELBO; other weights make the β-VAE of step 8).
    """

    def __init__(self, seed=None, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.beta = beta

    def call(self, inputs):
        z_mean, z_log_var = inputs  # (batch, latent_dim) each
        kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)  # (batch,)
        self.add_loss(self.beta * ops.mean(kl))
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def reconstruction_loss(images, reconstructions):
    """−log p(x | z) up to a constant for a decoder with Gaussian pixel noise σ = PIXEL_NOISE:
    ‖x − x̂‖² / (2σ²), summed over the pixels of each image: (batch,)."""
    squared = ops.reshape(ops.square(images - reconstructions), (ops.shape(images)[0], -1))
    return ops.sum(squared, axis=-1) / (2 * PIXEL_NOISE**2)


def variational_autoencoder(input_shape, latent_dim, *, hidden_units=HIDDEN_UNITS, beta=1.0, seed=None):
    """(encoder, decoder, vae) as in keras-io's VAE example, with dense layers: the encoder maps
    an image to (μ, log σ², z), the decoder maps z back to an image, the vae chains them; `beta`
    weighs the KL term of its loss."""
    images = keras.Input(shape=input_shape)
    hidden = keras.layers.Flatten()(images)  # (h, w, c) -> (h·w·c,)
    hidden = keras.layers.Dense(hidden_units, activation="relu")(hidden)
    # (latent_dim,) each, in float32 whatever the precision, as are the decoder's outputs
    z_mean = keras.layers.Dense(latent_dim, name="z_mean", dtype="float32")(hidden)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var", dtype="float32")(hidden)
    z = Sampling(seed=seed, beta=beta, name="z", dtype="float32")([z_mean, z_log_var])
    encoder = keras.Model(images, [z_mean, z_log_var, z], name="encoder")
    decoder = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(hidden_units, activation="relu"),
        keras.layers.Dense(math.prod(input_shape), activation="sigmoid", dtype="float32"),
        keras.layers.Reshape(input_shape, dtype="float32"),  # (h·w·c,) -> (h, w, c)
    ], name="decoder")
    vae = keras.Model(images, decoder(z), name="vae")
    return encoder, decoder, vae


def reparameterized_gradient(mu, log_var, n_samples, seed):
    """∂/∂μ and ∂/∂log σ² of the Monte Carlo average of f(z) = z² over z = μ + σ·ε, by automatic
    differentiation through the `Sampling` layer: the reparameterization trick's estimate."""
    sampling = Sampling(seed=seed)

    def estimate(mu, log_var):  # the Monte Carlo average, a function of μ and log σ² through z
        ones = ops.ones((n_samples, 1))
        z = sampling([ones * mu, ones * log_var])  # (n_samples, 1)
        return ops.mean(ops.square(z))

    value, (gradient_mu, gradient_log_var) = autodiff.value_and_gradients(  # autodiff through z
        estimate, np.float32(mu), np.float32(log_var))
    return float(value), float(gradient_mu), float(gradient_log_var)


def train_vae(run, x_train, latent_dim, batch_size=64, beta=1.0):
    """The VAE of `variational_autoencoder` trained on x_train in the run: the reconstruction loss
    plus β times the KL term, Adam with its learning rate decaying from 0.002 along a cosine, about
    2,000 steps (91 epochs on the digits; 3 in fast mode), checkpointed as "vae" (β = 1) or
    "vae_beta_<β>". Its History (`vae.history.history`) has, per epoch, the training loss and its
    reconstruction part ("reconstruction"). Returns (encoder, decoder, vae)."""
    epochs = 3 if run.fast else epochs_for_steps(2000, len(x_train), batch_size)
    set_seed(run.seed)
    with scope(run.strategy):
        encoder, decoder, vae = variational_autoencoder(x_train.shape[1:], latent_dim, beta=beta,
                                                        seed=run.seed)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.002, decay_steps=epochs * math.ceil(len(x_train) / batch_size))
        vae.compile(optimizer=keras.optimizers.Adam(schedule), loss=reconstruction_loss,
                    metrics=[keras.metrics.MeanMetricWrapper(reconstruction_loss, name="reconstruction")])
    callbacks = run.callbacks("vae" if beta == 1 else f"vae_beta_{beta:g}")
    batches = datasets.pipeline(x_train, x_train, batch_size=batch_size, seed=run.seed,
                                first_epoch=completed_epochs(callbacks))
    vae.fit(batches, epochs=epochs, verbose=0, callbacks=callbacks)
    return encoder, decoder, vae


def trained_vae(run):
    """The VAE of step 7 (a code of LATENT_DIM numbers, β = 1) trained on the run's images once per
    run and shared by step 8: (encoder, decoder, vae, history), the History of its training."""
    def make():
        x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
        encoder, decoder, vae = train_vae(run, x_train, LATENT_DIM)
        return encoder, decoder, vae, vae.history

    return run.once("variational autoencoder", make)


def elbo_terms(encoder, decoder, x):
    """The two terms of the VAE's loss (the negative ELBO) for each image of x, in nats, with one z
    drawn per image as in training: (reconstruction up to a constant, KL from the prior), (n,) each."""
    z_mean, z_log_var, z = (to_numpy(t) for t in encoder(x, training=False))  # (n, latent_dim) each
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1 - z_log_var, axis=1)
    reconstruction = np.sum(flat(x - predict(decoder, z)) ** 2, axis=1) / (2 * PIXEL_NOISE**2)
    return reconstruction, kl


@lecture.step("A variational autoencoder: the reparameterization trick and the ELBO")
def variational(run):
    """A plain autoencoder's codes fill some odd-shaped region we know nothing about, so we cannot
    pick a new code and decode it. A variational autoencoder makes the code space a distribution:
    the encoder outputs a mean μ and a log-variance log σ² per code unit, the code is drawn from
    N(μ, σ²), and the loss is the negative ELBO (evidence lower bound): the reconstruction error
    −log p(x | z) plus the KL divergence of N(μ, σ²) from the prior N(0, I),
    KL = ½ Σ (μ² + σ² − 1 − log σ²), which pulls all codes into one standard normal cloud. Drawing
    z directly would block the gradient; the reparameterization trick draws ε ~ N(0, I) and
    computes z = μ + σ ⊙ ε, a differentiable function of μ and σ. We check that the trick gives the
    right gradient for f(z) = z², whose mean is μ² + σ² (the score-function estimator, which needs
    no trick, is right on average too but spreads about three times wider per sample), train a VAE
    with a 2-number code, check that Keras' loss is the two terms of the ELBO, and decode new
    images from codes drawn from the prior. Are they digit-like? They lie about as close to some
    training digit as held-out digits do, much closer than images drawn from a Gaussian with the
    digits' pixel mean and covariance, and their nearest training digits mostly agree on a class.
    """
    mu, log_var = 0.8, math.log(0.5)
    estimate, gradient_mu, gradient_log_var = reparameterized_gradient(mu, log_var, 200_000, run.seed)
    variance = math.exp(log_var)
    run.report("E[z²] for z ~ N(0.8, 0.5): Monte Carlo, closed form μ² + σ²",
               f"{estimate:.4f}, {mu**2 + variance:.4f}")
    run.report("∂E[z²]/∂μ: reparameterized, closed form 2μ", f"{gradient_mu:.4f}, {2 * mu:.4f}")
    run.report("∂E[z²]/∂log σ²: reparameterized, closed form σ²", f"{gradient_log_var:.4f}, {variance:.4f}")
    run.expect("largest relative error of the reparameterized gradients",
               max(abs(gradient_mu / (2 * mu) - 1), abs(gradient_log_var / variance - 1)), at_most=0.02)
    rng = np.random.default_rng(run.seed)
    z = mu + math.sqrt(variance) * rng.standard_normal(200_000)
    score_function = z**2 * (z - mu) / variance  # f(z) ∂log p(z)/∂μ: the estimator without the trick
    run.report("spread of one-sample gradient estimates for μ: score function / reparameterized",
               np.std(score_function) / np.std(2 * z))

    x_train, x_test, y_train, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    encoder, decoder, vae, _ = trained_vae(run)
    reconstruction, kl = elbo_terms(encoder, decoder, x_test)
    keras_loss = vae.evaluate(x_test, x_test, batch_size=len(x_test), verbose=0, return_dict=True)["loss"]
    run.report("test: KL per image (nats)", float(kl.mean()))
    run.report("test: reconstruction term per image (nats, up to a constant)", float(reconstruction.mean()))
    run.report("test: Keras' loss (reconstruction + the KL from add_loss), another draw of z", keras_loss)
    run.expect("|Keras' loss / (reconstruction + KL) - 1|",
               abs(keras_loss / (reconstruction.mean() + kl.mean()) - 1), at_most=0.05)
    z_mean = to_numpy(encoder(x_test, training=False)[0])
    run.report("test: mean squared error of the decoded μ", mse(predict(decoder, z_mean), x_test))

    prior_codes = rng.standard_normal((100, LATENT_DIM)).astype("float32")  # z ~ N(0, I)
    samples = predict(decoder, prior_codes)
    candidates = {
        "test images": x_test[:100],
        "VAE samples": samples,
        "Gaussian images": np.clip(rng.multivariate_normal(  # the pixels' mean and covariance, no more
            flat(x_train).mean(axis=0), np.cov(flat(x_train), rowvar=False), 100), 0, 1),
        "uniform noise": rng.random((100, *x_train.shape[1:])),
    }
    neighbours = KNeighborsClassifier(10).fit(flat(x_train), y_train)
    distance, agreement = {}, {}
    for name, images in candidates.items():
        nearest, _ = neighbours.kneighbors(flat(images), n_neighbors=1)  # (100, 1)
        distance[name] = float(nearest.mean())
        agreement[name] = float(neighbours.predict_proba(flat(images)).max(axis=1).mean())
    for name in candidates:
        run.report(f"{name}: distance to the nearest training image (relative to test images'), "
                   "share of the 10 nearest in one class",
                   f"{distance[name] / distance['test images']:.2f}, {agreement[name]:.2f}")
    run.report("VAE samples classified as each class (by their 10 nearest training images)",
               np.bincount(neighbours.predict(flat(samples)), minlength=int(y_train.max()) + 1))
    run.expect("distance to the nearest training image, VAE samples / test images",
               distance["VAE samples"] / distance["test images"], at_most=1.3)
    run.expect("distance to the nearest training image, Gaussian images / VAE samples",
               distance["Gaussian images"] / distance["VAE samples"], at_least=1.15)
    run.expect("share of the 10 nearest in one class, VAE samples - uniform noise",
               agreement["VAE samples"] - agreement["uniform noise"], at_least=0.1)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 5.5), layout="constrained")
    image_grid(samples, ax=ax, ncols=10, normalize=None, title="Images decoded from codes z ~ N(0, I)")
    run.figure(fig, "vae_prior_samples", "A hundred images decoded from codes drawn from the prior "
               "N(0, I): new images, not copies of training images.")


def trade_off(run, x_train, x_test, betas):
    """The test reconstruction and KL terms (mean nats per image) of VAEs whose KL term is weighted
    by each β, the β = 1 one being step 7's: {β: (reconstruction, KL)}."""
    terms = {}
    for beta in betas:
        if beta == 1:
            encoder, decoder, _, _ = trained_vae(run)
        else:
            encoder, decoder, _ = train_vae(run, x_train, LATENT_DIM, beta=beta)
        reconstruction, kl = elbo_terms(encoder, decoder, x_test)
        terms[beta] = (float(reconstruction.mean()), float(kl.mean()))
    return terms


def trade_off_figure(curves, terms):
    """Left: the reconstruction and KL terms per epoch of step 7's training (`curves`, its History's
    dict: loss = reconstruction + KL). Right: the test terms of the VAEs of `trade_off` against each
    other, with the line where the two add up to the same as β = 1's."""
    fig, panels = plt.subplot_mosaic([["reconstruction", "trade"], ["KL", "trade"]],
                                     figsize=(FULL_WIDTH, 5), layout="constrained")
    epoch_reconstruction = np.array(curves["reconstruction"])
    per_epoch = {"reconstruction": epoch_reconstruction,
                 "KL": np.array(curves["loss"]) - epoch_reconstruction}  # (epochs,) each
    for color, (name, values) in zip(COLORS, per_epoch.items()):
        panels[name].plot(np.arange(1, len(values) + 1), values, color=color)
        panels[name].set(ylabel=f"{name}\n(nats per image)", ylim=(0, 1.1 * values.max()))
    panels["reconstruction"].set(title="The two terms while training (β = 1)")
    panels["reconstruction"].tick_params(labelbottom=False)
    panels["KL"].set(xlabel="epoch")
    points = np.array(list(terms.values()))  # (betas, 2): reconstruction, KL
    trade = panels["trade"]
    trade.plot(points[:, 1], points[:, 0], "o-", color=COLORS[2], markersize=8)
    for beta, (reconstruction, kl) in terms.items():
        trade.annotate(f"β = {beta:g}", (kl, reconstruction), xytext=(8, 6), textcoords="offset points")
    kl_max, reconstruction_max = 1.2 * points[:, 1].max(), 1.2 * points[:, 0].max()
    total = sum(terms[1.0])
    trade.plot([0, kl_max], [total, total - kl_max], ":", color="0.4",
               label=f"reconstruction + KL = {total:.1f} (β = 1)")
    trade.set(xlabel="KL (nats per test image)", ylabel="reconstruction (nats per test image)",
              xlim=(0, kl_max), ylim=(0, reconstruction_max),
              title="Test terms of VAEs with the KL weighted by β")
    trade.legend(loc="lower left")
    return fig


@lecture.step("The VAE's latent space")
def latent_space(run):
    """The KL term is what makes the code space one we can sample: it pulls each image's N(μ, σ²)
    towards N(0, I), so the codes of the test images gather around the origin about as widely as
    the prior, and a grid of codes spread over it (equally likely steps of N(0, 1) on each axis)
    decodes into digit-like images everywhere, morphing smoothly from one class into the next. That
    pull has a price in reconstruction: a code that must look like noise from N(0, I) tells the
    decoder less about the image. After the first epochs of training the two terms trade: the
    reconstruction error falls while the KL rises, the encoder putting more information into the
    code. Weighting the KL term by β (the β-VAE; β = 1 is the ELBO) moves the trade: we train two
    more VAEs, with β = 0.25 and β = 4, and compare their terms on the test images. β = 4 pushes the
    KL down and costs reconstruction; β = 0.25 lets the KL grow and gains little here, a 2-number
    code having little more to carry; β = 1, trained on the sum itself, has the smallest sum.
    """
    x_train, x_test, _, y_test = image_split(run.dataset, seed=run.seed, fast=run.fast)
    encoder, decoder, _, history = trained_vae(run)
    z_mean = to_numpy(encoder(x_test, training=False)[0])  # (n, LATENT_DIM)
    run.report("test: mean and standard deviation of μ per code unit (the prior's: 0 and 1)",
               f"{np.round(z_mean.mean(axis=0), 2)}, {np.round(z_mean.std(axis=0), 2)}")

    n = 10
    quantiles = norm.ppf(np.linspace(0.02, 0.98, n)).astype("float32")  # equally likely steps
    grid = np.array([[a, b] for b in quantiles[::-1] for a in quantiles], dtype="float32")  # (n², 2)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 5.5), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.1]})
    scatter_by_class(left, z_mean, y_test)
    left.add_patch(plt.Rectangle((quantiles[0], quantiles[0]), quantiles[-1] - quantiles[0],
                                 quantiles[-1] - quantiles[0], fill=False, edgecolor="black", linestyle="--"))
    left.set(xlabel="z₁", ylabel="z₂", title="μ of the test images\n(box: the decoded grid)", aspect="equal")
    image_grid(predict(decoder, grid), ax=right, ncols=n, normalize=None)
    right.set_title(f"Decoded {n}×{n} grid of codes, z₁ → right, z₂ ↑ up\n"
                    "(2% to 98% quantiles of N(0, 1))")
    run.figure(fig, "vae_latent_walk", "Left: the test images' code means, each drawn as its digit. Right: "
               "the decoder's images for a 10×10 grid of codes: the digits morph smoothly into each other.")

    betas = [1.0] if run.fast else [0.25, 1.0, 4.0]  # fast: step 7's VAE alone, no new training
    terms = trade_off(run, x_train, x_test, betas)
    for beta, (reconstruction, kl) in terms.items():
        run.report(f"β = {beta:g}: test reconstruction, KL, their sum (nats per image)",
                   f"{reconstruction:.2f}, {kl:.2f}, {reconstruction + kl:.2f}")
    if len(betas) > 1:
        low, high = terms[min(betas)], terms[max(betas)]
        run.expect(f"test KL, β = {max(betas):g} / β = {min(betas):g}", high[1] / low[1], at_most=0.7)
        run.expect(f"test reconstruction, β = {max(betas):g} / β = {min(betas):g}", high[0] / low[0],
                   at_least=1.1)
        run.expect("test reconstruction + KL, the smallest of the other β / β = 1",
                   min(sum(terms[beta]) for beta in betas if beta != 1) / sum(terms[1.0]), at_least=1)
    fig = trade_off_figure(history.history, terms)
    run.figure(fig, "vae_trade_off", "Left: the reconstruction and KL terms of the VAE's loss, epoch by "
               "epoch on the training images. Right: the same two terms on the test images for VAEs "
               f"trained with the KL term weighted by β = {', '.join(f'{b:g}' for b in betas)}; dotted: "
               "the points whose two terms add up to the same as β = 1's.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "autoencoders", *sys.argv[1:]]))
