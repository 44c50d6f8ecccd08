"""Exercises for the convolutional networks lecture: convolution and pooling by hand, in NumPy.

Fill in each function marked "Exercise": replace its `raise NotImplementedError(...)` line with your
code. `companion check cnn --dir .` compares each of them with Keras: keras.layers.Conv2D and
MaxPooling2D on the same numbers, the output shapes Keras computes, and the receptive field measured
with tf.GradientTape on a stack of Conv2D layers.

Conventions, as in Keras: images are channels-last, (height, width, channels), without a batch
axis; a kernel bank has shape (kernel_height, kernel_width, in_channels, filters); every window is
'valid' (it lies entirely inside the image), and the first window starts at the top-left corner.
Work with NumPy arrays of floats, return new arrays, and leave the arguments unchanged.
"""

import math

import numpy as np


def conv2d_single_channel(image, kernel):
    """Exercise 1.1: slide a (kh, kw) kernel over an (H, W) image: 'valid', stride 1.

    Output pixel (i, j) is the sum of the products of the kernel with the window
    image[i:i + kh, j:j + kw] beneath it, for every position where the kernel lies entirely inside
    the image, so the result has shape (H - kh + 1, W - kw + 1). This is cross-correlation: the
    kernel is not flipped, as in Keras' Conv2D and every deep-learning library (a textbook
    "convolution" would flip it first). Raise ValueError when image or kernel is not 2-D, or when the
    kernel is larger than the image in either direction.
    """
    # BEGIN SOLUTION
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(
            "Expected a 2-D image (H, W) and a 2-D kernel (kh, kw). "
            f"Received: image.shape={image.shape}, kernel.shape={kernel.shape}"
        )
    kernel_height, kernel_width = kernel.shape
    height, width = image.shape
    if kernel_height > height or kernel_width > width:
        raise ValueError(
            "Expected a kernel no larger than the image. "
            f"Received: image.shape={image.shape}, kernel.shape={kernel.shape}"
        )
    output = np.zeros((height - kernel_height + 1, width - kernel_width + 1))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            window = image[i : i + kernel_height, j : j + kernel_width]  # (kh, kw)
            output[i, j] = np.sum(window * kernel)
    return output
    # END SOLUTION


def conv2d(images, kernels, bias, *, stride=1):
    """Exercise 1.2: a Conv2D layer's forward pass, several channels in and several filters out.

    `images` has shape (H, W, C), `kernels` (kh, kw, C, K) (Keras' kernel layout: filter k is
    kernels[:, :, :, k]) and `bias` (K,). Output pixel (i, j, k) is the sum over the window's
    kh * kw * C products of filter k with the window
    images[i * stride : i * stride + kh, j * stride : j * stride + kw, :], plus bias[k]: each
    filter looks at all C channels at once. 'valid' windows only, moved `stride` pixels at a time,
    so the result has shape ((H - kh) // stride + 1, (W - kw) // stride + 1, K). Raise ValueError
    when kernels.shape[2] is not the number of channels C.
    """
    # BEGIN SOLUTION
    images, kernels = np.asarray(images, dtype=float), np.asarray(kernels, dtype=float)
    if images.ndim != 3 or kernels.ndim != 4 or kernels.shape[2] != images.shape[2]:
        raise ValueError(
            "Expected images of shape (H, W, C) and kernels of shape (kh, kw, C, K) with the same C. "
            f"Received: images.shape={images.shape}, kernels.shape={kernels.shape}"
        )
    kernel_height, kernel_width, _, filters = kernels.shape
    height, width, _ = images.shape
    output = np.zeros(
        ((height - kernel_height) // stride + 1, (width - kernel_width) // stride + 1, filters)
    )
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            top, left = i * stride, j * stride
            window = images[top : top + kernel_height, left : left + kernel_width, :]  # (kh, kw, C)
            output[i, j, :] = np.tensordot(window, kernels, axes=3) + bias  # (K,)
    return output
    # END SOLUTION


def conv_output_size(size, kernel_size, *, stride=1, padding="valid", dilation=1):
    """Exercise 1.3: the output length of a convolution along one spatial dimension, as Keras has it.

    padding="valid": only windows inside the input. A kernel of kernel_size taps spaced `dilation`
    apart spans dilation * (kernel_size - 1) + 1 pixels, and windows start every `stride` pixels, so
    the output has floor((size - dilation * (kernel_size - 1) - 1) / stride) + 1 pixels (for
    example 32 pixels and a 5-pixel kernel give 28).
    padding="same": the input is padded with zeros so that every stride-th pixel is a window's
    centre: ceil(size / stride) pixels, whatever the kernel.
    Return a Python int (use integer arithmetic: // floors). Raise ValueError for any other padding.
    """
    # BEGIN SOLUTION
    if padding == "valid":
        return (size - dilation * (kernel_size - 1) - 1) // stride + 1
    if padding == "same":
        return math.ceil(size / stride)
    raise ValueError(f"Expected padding to be 'valid' or 'same'. Received: padding={padding!r}")
    # END SOLUTION


def max_pool2d(images, pool_size=2, stride=None):
    """Exercise 1.4: max-pooling of (H, W, C) images over pool_size x pool_size windows.

    `stride` defaults to pool_size (windows side by side, no overlap). Output pixel (i, j, c) is
    the largest value of channel c in the window
    images[i * stride : i * stride + pool_size, j * stride : j * stride + pool_size, c]; channels
    are pooled separately. 'valid' windows only: a last row or column that does not fill a whole
    window is dropped, so the result has shape
    ((H - pool_size) // stride + 1, (W - pool_size) // stride + 1, C).
    """
    # BEGIN SOLUTION
    images = np.asarray(images, dtype=float)
    stride = pool_size if stride is None else stride
    height, width, channels = images.shape
    output = np.zeros(((height - pool_size) // stride + 1, (width - pool_size) // stride + 1, channels))
    for i in range(output.shape[0]):
        for j in range(output.shape[1]):
            top, left = i * stride, j * stride
            window = images[top : top + pool_size, left : left + pool_size, :]  # (pool, pool, C)
            output[i, j, :] = window.max(axis=(0, 1))
    return output
    # END SOLUTION


def receptive_field(layers):
    """Exercise 1.5: the receptive field of one output unit of a stack of convolutions or poolings.

    `layers` lists (kernel_size, stride, dilation) per layer, from the input to the output. Return
    the side length (an int) of the square of input pixels that one unit of the last layer
    depends on. Walk from the input: the field starts at rf = 1 pixel and the distance between
    neighbouring units, in input pixels, at jump = 1. Each layer widens the field by
    dilation * (kernel_size - 1) of its input's units, each `jump` input pixels apart:
    rf += dilation * (kernel_size - 1) * jump; then jump *= stride for the layers above it.
    No layers: 1. A pooling layer counts like a convolution of its pool size and stride.
    """
    # BEGIN SOLUTION
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        field += dilation * (kernel_size - 1) * jump
        jump *= stride
    return field
    # END SOLUTION
