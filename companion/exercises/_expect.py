"""Assertions for exercise checks that say which property broke, not just that something did.

Each raises AssertionError whose first line names the broken property (missing return value, type,
shape, dtype, NaN/inf, values, a model's layer) and whose next lines show expected vs received
on the small case that the check used. `companion check` prints those first lines.
"""

import warnings

import numpy as np

_SHOWN = 3  # mismatching entries shown


def _format(value):
    """A compact, readable form of a number or small array."""
    array = np.asarray(value)
    if array.ndim == 0:
        if array.dtype.kind == "f":
            return np.format_float_positional(array.item(), precision=8, trim="-")
        return repr(array.item())
    return np.array2string(array, precision=6, separator=", ", threshold=12, edgeitems=3)


def _describe(value):
    """The type, and shape and dtype where it has them, of a received value."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _expected_kind(expected):
    array = np.asarray(expected)
    return "a scalar" if array.ndim == 0 else f"an array of shape {array.shape}"


def _failure(problem, what, *lines):
    """An AssertionError: the broken property first, then the case it broke on, then details."""
    return AssertionError("\n".join([problem, f"case: {what}", *lines]))


def expect_close(received, expected, *, what, atol=1e-8, rtol=1e-5, dtype=None):
    """Check that `received` equals `expected` to within atol + rtol * |expected|, entry by entry.

    `what` names the small case, e.g. "sigmoid(z) for z = [-2, 0, 2]". `dtype` is None (any real
    numbers), "integer", "floating" or a NumPy dtype that the received values must be a kind of.
    Scalars may be Python numbers or 0-d arrays; a 1-element array is not a scalar (it usually means
    a missing mean or sum). The checks run in order: missing value, type, shape, dtype, NaN/inf,
    values; the first that breaks is reported.
    """
    __tracebackhide__ = True  # pytest shows the check that called this, not this line
    expected_array = np.asarray(expected)
    shown = [f"expected: {_format(expected_array)}"]
    if received is None:
        raise _failure(
            f"received None, expected {_expected_kind(expected)} (a missing `return`?)", what
        )
    if isinstance(received, tuple | list | dict | set | str) and expected_array.ndim == 0:
        raise _failure(
            f"type mismatch: expected a number, received {_describe(received)}", what,
            *shown, f"received: {received!r}",
        )
    try:
        received_array = np.asarray(received)
    except Exception as error:  # e.g. a ragged list
        raise _failure(
            f"type mismatch: expected {_expected_kind(expected)}, received {_describe(received)} "
            f"that is not an array ({error})", what,
        ) from None
    shown.append(f"received: {_format(received_array)}")
    if received_array.dtype.kind not in "biuf":
        raise _failure(
            f"type mismatch: expected real numbers, received {_describe(received)} of dtype "
            f"{received_array.dtype}", what, *shown,
        )
    if received_array.shape != expected_array.shape:
        received_kind = "a scalar" if received_array.ndim == 0 else f"shape {received_array.shape}"
        raise _failure(
            f"shape mismatch: expected {_expected_kind(expected)}, received {received_kind}",
            what, *shown,
        )
    if dtype is not None:
        wanted = {"integer": np.integer, "floating": np.floating}.get(dtype, dtype)
        if not np.issubdtype(received_array.dtype, wanted):
            raise _failure(
                f"dtype mismatch: expected {dtype} values, received dtype {received_array.dtype}",
                what, *shown,
            )
    received_float = received_array.astype(float)
    expected_float = expected_array.astype(float)
    bad = ~np.isfinite(received_float) & np.isfinite(expected_float)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(received_float[index]) else "inf"
        raise _failure(
            f"{kind} received" + (f" at index {index}" if index else "")
            + f" where a finite value was expected ({int(bad.sum())} of {bad.size} entries are "
            "not finite)", what, *shown,
        )
    close = np.isclose(received_float, expected_float, atol=atol, rtol=rtol, equal_nan=True)
    if not close.all():
        problem = (
            f"values off at {int((~close).sum())} of {close.size} entries "
            f"(atol={atol:g}, rtol={rtol:g})"
        )
        if expected_array.ndim == 0:
            raise _failure(f"value off (atol={atol:g}, rtol={rtol:g})", what, *shown)
        lines = [
            f"at {index}: expected {_format(expected_array[index])}, "
            f"received {_format(received_array[index])}"
            for index in (tuple(int(i) for i in index) for index in np.argwhere(~close)[:_SHOWN])
        ]
        raise _failure(problem, what, *lines, *shown)


def expect_unchanged(before, after, *, what):
    """Check that an input array was not modified in place.

    `before` is a copy taken before the call, `after` the array itself after the call.
    """
    __tracebackhide__ = True  # pytest shows the check that called this, not this line
    if not np.array_equal(np.asarray(before), np.asarray(after)):
        raise AssertionError(
            f"{what} was modified in place; compute new values instead (`w = w - ...`, not "
            f"`w -= ...`)\n"
            f"before the call: {_format(before)}\n"
            f"after the call:  {_format(after)}"
        )


def call_keeping_arguments(function, *args, what):
    """function(*args), checking that none of its array arguments was modified in place."""
    __tracebackhide__ = True
    before = [np.array(argument, copy=True) for argument in args]
    result = function(*args)
    for number, (copy, argument) in enumerate(zip(before, args), start=1):
        if isinstance(argument, np.ndarray):
            expect_unchanged(copy, argument, what=f"argument {number} of {what}")
    return result


# Configuration keys compared between layers, when either layer has them.
_LAYER_SETTINGS = (
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "pool_size",
    "activation",
    "rate",
    "return_sequences",
    "use_bias",
)


def _output_shape(layer):
    try:
        return tuple(layer.output.shape)
    except Exception:  # a layer not connected in a built graph has no output yet
        return None


def _param_count(layer):
    try:
        return layer.count_params()
    except Exception:  # an unbuilt layer
        return None


def expect_same_model(received_model, expected_model):
    """Check that two Keras models have the same layers, in order, and name the first difference.

    Compared per layer: type, output shape, parameter count, and the settings that define it
    (units, filters, kernel size, strides, padding, activation, ...). Layer names are ignored.
    """
    __tracebackhide__ = True  # pytest shows the check that called this, not this line
    # Duck-typed: no keras import needed here (the caller has loaded it to build the models).
    if not hasattr(received_model, "layers"):
        raise AssertionError(
            f"expected a Keras model, received {_describe(received_model)}"
            + (" (a missing `return`?)" if received_model is None else "")
        )
    expected_layers = list(expected_model.layers)
    received_layers = list(received_model.layers)

    def summary(layers):
        return ", ".join(type(layer).__name__ for layer in layers)

    for number, (expected, received) in enumerate(zip(expected_layers, received_layers), start=1):
        where = f"layer {number} ({type(expected).__name__})"
        if type(received).__name__ != type(expected).__name__:
            raise AssertionError(
                f"layer {number}: type mismatch: expected {type(expected).__name__}, received "
                f"{type(received).__name__}\n"
                f"expected layers: {summary(expected_layers)}\n"
                f"received layers: {summary(received_layers)}"
            )
        expected_config, received_config = expected.get_config(), received.get_config()
        for key in _LAYER_SETTINGS:
            if key in expected_config or key in received_config:
                want, got = expected_config.get(key), received_config.get(key)
                if isinstance(want, list):
                    want = tuple(want)
                if isinstance(got, list):
                    got = tuple(got)
                if want != got:
                    raise AssertionError(
                        f"{where}: {key} mismatch: expected {key}={want!r}, received {key}={got!r}"
                    )
        want, got = _output_shape(expected), _output_shape(received)
        if want is not None and got is not None and want != got:
            raise AssertionError(
                f"{where}: output shape mismatch: expected {want}, received {got}"
            )
        want, got = _param_count(expected), _param_count(received)
        if want is not None and got is not None and want != got:
            raise AssertionError(
                f"{where}: parameter count mismatch: expected {want}, received {got}"
            )
    if len(received_layers) != len(expected_layers):
        raise AssertionError(
            f"layer count mismatch: expected {len(expected_layers)} layers, received "
            f"{len(received_layers)}\n"
            f"expected layers: {summary(expected_layers)}\n"
            f"received layers: {summary(received_layers)}"
        )


def call_strictly(function, *args, what, fix, **kwargs):
    """Call with floating-point overflow, divide-by-zero and invalid operations (and their warnings)
    made errors, so that a numerically unstable function fails with `fix` as its hint."""
    __tracebackhide__ = True
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return function(*args, **kwargs)
        except (FloatingPointError, RuntimeWarning) as error:
            raise AssertionError(
                f"not numerically stable: {type(error).__name__}: {error}\ncase: {what}\n{fix}"
            ) from None


def expect_tuple(result, length, *, names, what):
    """`result` as a tuple or list of `length` items (named `names`), or an AssertionError."""
    __tracebackhide__ = True
    if not isinstance(result, tuple | list) or len(result) != length:
        size = f" of length {len(result)}" if isinstance(result, tuple | list) else ""
        raise AssertionError(
            f"type mismatch: expected a tuple ({names}), received {type(result).__name__}{size}"
            f"\ncase: {what}\nreceived: {result!r}"
        )
    return result


# --- naming a known mistake ----------------------------------------------------------------------


def differences(received, expected, *, shown=3):
    """'at (i, j): expected a, received b' for the first few entries that differ, one line each."""
    received, expected = np.asarray(received, dtype=float), np.asarray(expected, dtype=float)
    if received.ndim == 0:
        return f"expected: {float(expected):.6g}\nreceived: {float(received):.6g}"
    wrong = np.argwhere(~np.isclose(received, expected, rtol=1e-6, atol=1e-9))
    lines = [f"at {tuple(int(i) for i in index)}: expected {expected[tuple(index)]:.6g}, "
             f"received {received[tuple(index)]:.6g}" for index in wrong[:shown]]
    return "\n".join([f"{len(wrong)} of {expected.size} entries differ", *lines])


def matches(received, target, *, rtol=1e-6, atol=1e-9):
    """True when `received` is an array (or number) of the shape of `target` and close to it."""
    try:
        received = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return False
    return received.shape == np.shape(target) and bool(np.allclose(received, target, rtol=rtol, atol=atol))


def fail_if_close(received, wrong, expected, problem, what):
    """Raise AssertionError(problem) when `received` matches `wrong`, the result of a known mistake."""
    __tracebackhide__ = True
    if matches(received, wrong) and not matches(wrong, expected):
        if np.ndim(expected) == 0:
            shown = f"expected: {float(expected):.6g}\nreceived: {float(received):.6g}"
        else:
            shown = differences(received, expected)
        raise AssertionError(f"{problem}\ncase: {what}\n{shown}")


def fail_if_shape(received, expected_shape, shapes, what):
    """Raise AssertionError(shapes[shape]) when `received` has one of the known wrong shapes.

    A known wrong shape that happens to be `expected_shape` in this case is no mistake: skipped.
    """
    __tracebackhide__ = True
    try:
        shape = np.shape(received) if received is not None else None
    except ValueError:  # a ragged list: expect_close reports it
        return
    if shape in shapes and shape != tuple(expected_shape):
        raise AssertionError(f"shape mismatch: received shape {shape}: {shapes[shape]}\ncase: {what}")


def expect_value_error(function, *args, what, **kwargs):
    """Check that function(*args, **kwargs) raises ValueError."""
    __tracebackhide__ = True
    try:
        function(*args, **kwargs)
    except ValueError:
        return
    raise AssertionError(f"no ValueError raised: {what}")
