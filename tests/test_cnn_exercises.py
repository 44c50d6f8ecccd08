"""The cnn exercises: each check names the typical mistake of a student file that makes it.

That the reference solutions pass every check and the fresh stubs fail each one is tested for every
topic by tests/test_exercises.py. Each case below is the reference solution with one mistake.
"""


import pytest
from test_exercises import SOLUTIONS, check_failure, solution_with  # shared by every topic's mistakes


def mistake(name, *replacements):
    """The reference function `name` with each (old, new) text replaced: one typical mistake."""
    return solution_with("cnn", name, *replacements)


SINGLE = "conv2d_single_channel"
WINDOW = "window = image[i : i + kernel_height, j : j + kernel_width]"
TAPS = "taps = images[:, top : top + span_height : dilation, left : left + span_width : dilation, :]"
OUTPUT = """    output = np.zeros((images.shape[0], (height - span_height) // stride + 1,
                       (width - span_width) // stride + 1, filters))"""
POOL_OUTPUT = (
    "output = np.zeros(((height - pool_size) // stride + 1, (width - pool_size) // stride + 1, channels))"
)

CASES = {
    # 1.1 conv2d_single_channel
    "single-full-size": (
        SINGLE,
        mistake(
            SINGLE,
            (
                "output = np.zeros((height - kernel_height + 1, width - kernel_width + 1))",
                "output = np.zeros((height, width))",
            ),
            ("for i in range(output.shape[0]):", "for i in range(height - kernel_height + 1):"),
            ("for j in range(output.shape[1]):", "for j in range(width - kernel_width + 1):"),
        ),
        "shape mismatch: received shape (5, 5): that of the image",
    ),
    "single-one-short": (
        SINGLE,
        mistake(
            SINGLE,
            (
                "np.zeros((height - kernel_height + 1, width - kernel_width + 1))",
                "np.zeros((height - kernel_height, width - kernel_width))",
            ),
        ),
        "shape mismatch: received shape (2, 2): one row and one column short",
    ),
    "single-flipped": (
        SINGLE,
        mistake(SINGLE, ("np.sum(window * kernel)", "np.sum(window * kernel[::-1, ::-1])")),
        "flipped kernel",
    ),
    "single-transposed": (
        SINGLE,
        mistake(SINGLE, ("    return output", "    return output.T")),
        "rows and columns swapped",
    ),
    "single-in-place": (
        SINGLE,
        mistake(
            SINGLE,
            (
                "np.sum(window * kernel)",
                "np.sum(window * kernel)\n"
                "            kernel *= 1.0\n            image[i, j] += 0.0\n"
                "            image[0, 0] = 99.0",
            ),
        ),
        "image (the argument of conv2d_single_channel) was modified in place",
    ),
    "single-no-value-error": (
        SINGLE,
        mistake(SINGLE, ("if kernel_height > height or kernel_width > width:", "if False:")),
        "no ValueError raised: conv2d_single_channel(zeros((3, 3)), ones((4, 2)))",
    ),
    # 1.2 same_padding
    "padding-negative": (
        "same_padding",
        mistake(
            "same_padding",
            ("max((outputs - 1) * stride + span - size, 0)", "(outputs - 1) * stride + span - size"),
        ),
        "negative padding",
    ),
    "padding-swapped": (
        "same_padding",
        mistake(
            "same_padding", ("return total // 2, total - total // 2", "return total - total // 2, total // 2")
        ),
        "before and after swapped",
    ),
    "padding-no-stride": (
        "same_padding",
        mistake("same_padding", ("total = max((outputs - 1) * stride + span - size, 0)", "total = span - 1")),
        "stride ignored",
    ),
    "padding-no-dilation": (
        "same_padding",
        mistake("same_padding", ("span = dilation * (kernel_size - 1) + 1", "span = kernel_size")),
        "dilation ignored",
    ),
    "padding-not-a-tuple": (
        "same_padding",
        mistake("same_padding", ("return total // 2, total - total // 2", "return total")),
        "type mismatch: expected a tuple (before, after), received int",
    ),
    # 1.3 conv2d
    "conv-no-batch": (
        "conv2d",
        mistake("conv2d", ("return output", "return output[0]")),
        "shape mismatch: received shape (4, 4, 4): the batch axis is gone",
    ),
    "conv-channels-shape": (
        "conv2d",
        mistake(
            "conv2d",
            (OUTPUT, OUTPUT.replace("filters))", "images.shape[3], filters))")),
            (
                "output[:, i, j, :] = np.tensordot(taps, kernels, axes=3) + bias",
                "output[:, i, j] = np.einsum('nabc,abck->nck', taps, kernels) + bias",
            ),
        ),
        "shape mismatch: received shape (2, 4, 4, 3, 4): channels not summed",
    ),
    "conv-no-stride": (
        "conv2d",
        mistake(
            "conv2d",
            ("(height - span_height) // stride + 1", "height - span_height + 1"),
            ("(width - span_width) // stride + 1", "width - span_width + 1"),
            ("top, left = i * stride, j * stride", "top, left = i, j"),
        ),
        "shape mismatch: received shape (1, 5, 5, 2): stride 2 ignored",
    ),
    "conv-same-as-valid": (
        "conv2d",
        mistake("conv2d", ('if padding == "same":', "if False:")),
        "shape mismatch: received shape (2, 6, 5, 3): 'same' treated like 'valid'",
    ),
    "conv-no-dilation-shape": (
        "conv2d",
        mistake(
            "conv2d",
            ("span_height = dilation * (kernel_height - 1) + 1", "span_height = kernel_height"),
            ("span_width = dilation * (kernel_width - 1) + 1", "span_width = kernel_width"),
            (TAPS, "taps = images[:, top : top + span_height, left : left + span_width, :]"),
        ),
        "shape mismatch: received shape (1, 7, 7, 2): dilation ignored",
    ),
    "conv-no-bias": (
        "conv2d",
        mistake(
            "conv2d", ("np.tensordot(taps, kernels, axes=3) + bias", "np.tensordot(taps, kernels, axes=3)")
        ),
        "bias forgotten",
    ),
    "conv-last-channel-only": (
        "conv2d",
        mistake(
            "conv2d",
            (
                "np.tensordot(taps, kernels, axes=3) + bias",
                "np.tensordot(taps[..., -1], kernels[:, :, -1], axes=2) + bias",
            ),
        ),
        "channels not summed: only the last input channel counts",
    ),
    "conv-windows-at-i-j": (
        "conv2d",
        mistake("conv2d", ("top, left = i * stride, j * stride", "top, left = i, j")),
        "windows start at (i, j), not at (i * stride, j * stride)",
    ),
    "conv-adjacent-taps": (
        "conv2d",
        mistake(
            "conv2d", (TAPS, "taps = images[:, top : top + kernel_height, left : left + kernel_width, :]")
        ),
        "dilation ignored: the taps of a window are 2 pixels apart",
    ),
    "conv-padding-wrong-side": (
        "conv2d",
        mistake(
            "conv2d",
            (
                "images = np.pad(images, [(0, 0), rows, columns, (0, 0)])",
                "images = np.pad(images, [(0, 0), rows[::-1], columns[::-1], (0, 0)])",
            ),
        ),
        "padding on the wrong side",
    ),
    "conv-same-no-dilation": (
        "conv2d",
        mistake(
            "conv2d",
            ("stride=stride, dilation=dilation)\n        columns", "stride=stride)\n        columns"),
            (
                "columns = same_padding(images.shape[2], kernel_width, stride=stride, dilation=dilation)",
                "columns = same_padding(images.shape[2], kernel_width, stride=stride)",
            ),
            (
                "span_height = dilation * (kernel_height - 1) + 1",
                "span_height = dilation * (kernel_height - 1) + 1 if padding == 'valid' else kernel_height",
            ),
            (
                "span_width = dilation * (kernel_width - 1) + 1",
                "span_width = dilation * (kernel_width - 1) + 1 if padding == 'valid' else kernel_width",
            ),
            (
                TAPS,
                "step = dilation if padding == 'valid' else 1\n            "
                "taps = images[:, top : top + span_height : step, "
                "left : left + span_width : step, :]",
            ),
        ),
        "dilation ignored: the taps of a window are 2 pixels apart",
    ),
    "conv-no-padding-check": (
        "conv2d",
        mistake("conv2d", ('if padding not in ("valid", "same"):', "if False:")),
        "no ValueError raised: conv2d(..., padding='full')",
    ),
    "conv-in-place": (
        "conv2d",
        mistake(
            "conv2d",
            (
                "    kernel_height, kernel_width, _, filters = kernels.shape",
                "    kernel_height, kernel_width, _, filters = kernels.shape\n"
                "    bias += 0.0\n    bias[0] = 7.0",
            ),
        ),
        "bias (the argument of conv2d) was modified in place",
    ),
    # 1.4 max_pool2d
    "pool-partial-windows": (
        "max_pool2d",
        mistake(
            "max_pool2d",
            (
                POOL_OUTPUT,
                "output = np.zeros((-(-height // stride), -(-width // stride), channels))",
            ),
        ),
        "shape mismatch: received shape (4, 3, 3): the last partial window is kept",
    ),
    "pool-image-shape": (
        "max_pool2d",
        mistake(
            "max_pool2d",
            (
                POOL_OUTPUT,
                "output = np.zeros(images.shape)",
            ),
            ("for i in range(output.shape[0]):", "for i in range((height - pool_size) // stride + 1):"),
            ("for j in range(output.shape[1]):", "for j in range((width - pool_size) // stride + 1):"),
        ),
        "shape mismatch: received shape (6, 6, 2): that of the images",
    ),
    "pool-channels-gone": (
        "max_pool2d",
        mistake(
            "max_pool2d",
            ("output[i, j, :] = window.max(axis=(0, 1))", "output[i, j, :] = window.max()"),
            ("return output", "return output[:, :, 0]"),
        ),
        "shape mismatch: received shape (3, 3): the channels are gone",
    ),
    "pool-stride-1": (
        "max_pool2d",
        mistake(
            "max_pool2d",
            ("stride = pool_size if stride is None else stride", "stride = 1 if stride is None else stride"),
        ),
        "shape mismatch: received shape (5, 5, 2): stride 1 used",
    ),
    "pool-mean": (
        "max_pool2d",
        mistake("max_pool2d", ("window.max(axis=(0, 1))", "window.mean(axis=(0, 1))")),
        "mean pooling",
    ),
    "pool-channels-together": (
        "max_pool2d",
        mistake("max_pool2d", ("window.max(axis=(0, 1))", "window.max()")),
        "channels pooled together",
    ),
    "pool-from-zero": (
        "max_pool2d",
        mistake("max_pool2d", ("window.max(axis=(0, 1))", "np.maximum(window.max(axis=(0, 1)), 0.0)")),
        "negative maxima became 0",
    ),
    "pool-in-place": (
        "max_pool2d",
        mistake(
            "max_pool2d",
            ("    images = np.asarray(images, dtype=float)\n", "    images[...] = np.abs(images)\n"),
        ),
        "images (the argument of max_pool2d) was modified in place",
    ),
    # 1.5 input_window
    "window-walked-up": (
        "input_window",
        mistake("input_window", ("in reversed(layers):", "in layers:")),
        "walked up from the input",
    ),
    "window-no-stride": (
        "input_window",
        mistake(
            "input_window",
            (
                "first, last = first * stride, last * stride + dilation * (kernel_size - 1)",
                "first, last = first, last + dilation * (kernel_size - 1)",
            ),
        ),
        "stride ignored",
    ),
    "window-no-dilation": (
        "input_window",
        mistake("input_window", ("dilation * (kernel_size - 1)", "(kernel_size - 1)")),
        "dilation ignored",
    ),
    "window-one-too-many": (
        "input_window",
        mistake("input_window", ("dilation * (kernel_size - 1)", "dilation * (kernel_size - 1) + 1")),
        "one pixel too many",
    ),
    "window-not-a-tuple": (
        "input_window",
        mistake("input_window", ("return first, last", "return last - first + 1")),
        "type mismatch: expected a tuple (first, last), received int",
    ),
}


@pytest.mark.parametrize("exercise, code, first_line", CASES.values(), ids=CASES.keys())
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("cnn", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message


def test_every_named_mistake_of_the_cnn_checks_has_a_case():
    """Each mistake that the cnn checks can name is produced by one of the cases above."""
    named = [
        "that of the image",
        "one row and one column short",
        "flipped kernel",
        "rows and columns swapped",
        "negative padding",
        "before and after swapped",
        "stride ignored",
        "dilation ignored",
        "the batch axis is gone",
        "channels not summed",
        "'same' treated like 'valid'",
        "bias forgotten",
        "windows start at (i, j)",
        "padding on the wrong side",
        "the last partial window is kept",
        "that of the images",
        "the channels are gone",
        "stride 1 used",
        "mean pooling",
        "channels pooled together",
        "negative maxima became 0",
        "walked up from the input",
        "one pixel too many",
    ]
    expected = " | ".join(first_line for _, _, first_line in CASES.values())
    checks = (SOLUTIONS.parent / "checks" / "test_cnn.py").read_text(encoding="utf-8")
    checks = " ".join(part.strip().strip("f").strip('"') for part in checks.splitlines())  # strings joined
    for name in named:
        assert name in checks, f"the checks no longer name {name!r}"
        assert name in expected, f"no case for {name!r}"
