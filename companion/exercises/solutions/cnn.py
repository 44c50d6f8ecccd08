"""Exercises for the convolutional networks lecture: convolution and pooling by hand, in NumPy.

The lecture slides one filter over one image, counts output sizes and receptive fields. These
exercises go further: a batch of images, "same" padding as Keras pads, dilated filters, and where in
the input one unit of a deep stack looks. Fill in each function marked "Exercise": replace its
`raise NotImplementedError(...)` line with your code. `companion check cnn --dir .` compares each of
them with Keras: keras.layers.Conv2D and MaxPooling2D on the same numbers, the zeros Keras pads
with, and the input pixels that one unit's gradient reaches (tf.GradientTape on Conv2D stacks).

Conventions, as in Keras: images are channels-last, (height, width, channels), with a batch axis
in front where an exercise says so; a kernel bank has shape (kernel_height, kernel_width,
in_channels, filters); windows are 'valid' (entirely inside the image) unless "same" padding is
asked for, and the first window starts at the top-left corner. Work with NumPy arrays of floats,
return new arrays, and leave the arguments unchanged.
"""

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


def same_padding(size, kernel_size, *, stride=1, dilation=1):
    """Exercise 1.2: the zeros that Keras' padding="same" adds before and after one spatial axis.

    With "same" padding there are ceil(size / stride) outputs, whatever the kernel. A kernel of
    kernel_size taps spaced `dilation` apart spans dilation * (kernel_size - 1) + 1 pixels, and the
    last window starts at (outputs - 1) * stride, so the windows reach that start plus the span;
    what they reach beyond the `size` input pixels must be padded with zeros (never less than none).
    Keras (like TensorFlow and JAX) puts half of the padding, rounded down, before the first pixel
    and the rest after the last. Return the two counts (before, after) as Python ints.
    """
    # BEGIN SOLUTION
    outputs = -(-size // stride)  # ceil(size / stride) in integers
    span = dilation * (kernel_size - 1) + 1
    total = max((outputs - 1) * stride + span - size, 0)
    return total // 2, total - total // 2
    # END SOLUTION


def conv2d(images, kernels, bias, *, stride=1, padding="valid", dilation=1):
    """Exercise 1.3: a Conv2D layer's forward pass on a batch, with stride, padding and dilation.

    `images` has shape (N, H, W, C): a batch of N images. `kernels` has shape (kh, kw, C, K) (Keras'
    layout: filter k is kernels[:, :, :, k]) and `bias` (K,). Output pixel (n, i, j, k) is bias[k]
    plus the sum, over the kernel's kh * kw taps and the C channels, of filter k's weight times the
    pixel of image n under that tap: tap (a, b) of the window at (i, j) reads row
    i * stride + a * dilation and column j * stride + b * dilation (dilation spreads the taps apart).
    padding="valid": only windows inside the image. padding="same": first pad each image with zeros
    as your `same_padding` says, along the height and the width, then take the valid windows of the
    padded images. The result has shape (N, H', W', K). Raise ValueError when kernels.shape[2] is not
    the number of channels C, or for a padding other than "valid" and "same".
    """
    # BEGIN SOLUTION
    images, kernels = np.asarray(images, dtype=float), np.asarray(kernels, dtype=float)
    if images.ndim != 4 or kernels.ndim != 4 or kernels.shape[2] != images.shape[3]:
        raise ValueError(
            "Expected images of shape (N, H, W, C) and kernels of shape (kh, kw, C, K) with the same C. "
            f"Received: images.shape={images.shape}, kernels.shape={kernels.shape}"
        )
    if padding not in ("valid", "same"):
        raise ValueError(f"Expected padding to be 'valid' or 'same'. Received: padding={padding!r}")
    kernel_height, kernel_width, _, filters = kernels.shape
    if padding == "same":
        rows = same_padding(images.shape[1], kernel_height, stride=stride, dilation=dilation)
        columns = same_padding(images.shape[2], kernel_width, stride=stride, dilation=dilation)
        images = np.pad(images, [(0, 0), rows, columns, (0, 0)])  # zeros around each image
    _, height, width, _ = images.shape
    span_height = dilation * (kernel_height - 1) + 1
    span_width = dilation * (kernel_width - 1) + 1
    output = np.zeros((images.shape[0], (height - span_height) // stride + 1,
                       (width - span_width) // stride + 1, filters))
    for i in range(output.shape[1]):
        for j in range(output.shape[2]):
            top, left = i * stride, j * stride
            taps = images[:, top : top + span_height : dilation, left : left + span_width : dilation, :]
            output[:, i, j, :] = np.tensordot(taps, kernels, axes=3) + bias  # (N, kh, kw, C) -> (N, K)
    return output
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


def input_window(layers, index):
    """Exercise 1.5: which input pixels one unit of the last layer sees, along one axis.

    `layers` lists (kernel_size, stride, dilation) per layer, from the input to the output, all
    'valid' (no padding). Return (first, last): the first and the last input pixel (0-based,
    inclusive) on which unit `index` of the last layer depends; last - first + 1 is its receptive
    field. Walk down from the output: units first..last of a layer read, in the layer below it,
    from where the first unit's window starts (first * stride) to where the last unit's window ends
    (its start plus the dilated kernel's span, minus one). No layers: (index, index).
    """
    # BEGIN SOLUTION
    first, last = index, index
    for kernel_size, stride, dilation in reversed(layers):
        first, last = first * stride, last * stride + dilation * (kernel_size - 1)
    return first, last
    # END SOLUTION
