"""Checks for the recurrent networks exercises: one test per exercise, run by `companion check`.

Each test loads the exercise file afresh (see companion.exercises._loader), calls the student's
function first (an unfinished stub fails before Keras loads) and compares it with Keras:
keras.layers.SimpleRNN and LSTM in float64 with the same weights, run over a short sequence from a
non-zero initial state, step by step; keras.ops.softmax; keras.losses.sparse_categorical_crossentropy
in bits; and the training windows with keras.utils.timeseries_dataset_from_array. Where a typical
mistake (a missing recurrent term, another activation, the LSTM's gates in another order, a
temperature that multiplies, natural logarithms, targets not shifted, the stride ignored, a window
too many) explains the received values, the failure names it.
"""

import itertools

import numpy as np

from companion.exercises._expect import (
    call_strictly,
    differences,
    expect_close,
    expect_tuple,
    expect_unchanged,
    expect_value_error,
    fail_if_close,
    fail_if_shape,
    matches,
)
from companion.exercises._loader import load_exercises


def exercises():
    return load_exercises("rnn", __file__)


# --- helpers ------------------------------------------------------------------------------------


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def to_numpy(tensors):
    import keras

    return [keras.ops.convert_to_numpy(tensor) for tensor in tensors]


# --- 1.1 --------------------------------------------------------------------------------------------


def test_rnn_step():
    """Exercise 1.1: rnn_step, one vanilla RNN step h_t = tanh(x_t W_xh + h_prev W_hh + b).

    Hint: the new state is tanh of the sum of three terms: the input times the input kernel, the previous
    state times the recurrent kernel, and the bias; check the shapes: (batch, features) @ (features,
    units) and (batch, units) @ (units, units).
    """
    rnn_step = exercises().rnn_step
    rng = np.random.default_rng(7)
    batch, steps, features, units = 3, 5, 4, 6
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=0.8, size=(batch, units))
    kernel = rng.normal(scale=0.6, size=(features, units))
    recurrent_kernel = rng.normal(scale=0.6, size=(units, units))
    bias = rng.normal(scale=0.5, size=units)
    arguments = (x[:, 0], h0, kernel, recurrent_kernel, bias)
    before = [argument.copy() for argument in arguments]
    first = rnn_step(*arguments)  # an unfinished stub fails here, before Keras loads
    names = ("x_t", "h_prev", "kernel", "recurrent_kernel", "bias")
    for name, old, argument in zip(names, before, arguments):
        expect_unchanged(old, argument, what=f"{name} (an argument of rnn_step)")
    import keras

    layer = keras.layers.SimpleRNN(units, return_sequences=True, dtype="float64")
    layer.build((None, steps, features))
    layer.set_weights([kernel, recurrent_kernel, bias])
    states, = to_numpy([layer(x, initial_state=[h0])])  # (batch, steps, units)

    h = h0
    for t in range(steps):
        received = first if t == 0 else rnn_step(x[:, t], h, kernel, recurrent_kernel, bias)
        so_far = "the initial state h0" if t == 0 else "correct so far"
        what = (f"step {t + 1} of {steps}: h = rnn_step(x[:, {t}], h, kernel, recurrent_kernel, bias), "
                f"h the previous step's result ({so_far}), "
                f"vs keras.layers.SimpleRNN({units}, return_sequences=True) with these weights over x of "
                f"shape {x.shape} from initial_state=[h0]")
        expected = states[:, t]
        previous = h0 if t == 0 else states[:, t - 1]
        z_x = x[:, t] @ kernel
        fail_if_shape(received, expected.shape, {
            (units, batch): f"transposed: the result has one row per example of the batch, "
                            f"(batch, units) = {expected.shape}; compute x_t @ kernel, not kernel.T @ x_t.T",
            (units,): f"one state only: keep the batch axis, (batch, units) = {expected.shape}",
        }, what)
        fail_if_close(received, np.tanh(z_x + bias), expected,
                      "the recurrent term is missing: the previous state, multiplied by the recurrent "
                      "kernel, belongs in the sum; without it the state forgets everything before x_t", what)
        fail_if_close(received, np.tanh(z_x + previous @ recurrent_kernel.T + bias), expected,
                      "recurrent_kernel transposed: Keras stores W_hh as (units of h_prev, units of h_t), "
                      "so the previous state multiplies it from the left as it is stored", what)
        z = z_x + previous @ recurrent_kernel + bias
        fail_if_close(received, sigmoid(z), expected,
                      "sigmoid instead of tanh: SimpleRNN's activation is tanh (values in (-1, 1))", what)
        fail_if_close(received, z, expected,
                      "no activation: the new state is tanh of the sum of the three terms, so its values "
                      "lie in (-1, 1)", what)
        fail_if_close(received, np.maximum(z, 0.0), expected,
                      "ReLU instead of tanh: SimpleRNN's activation is tanh (values in (-1, 1))", what)
        fail_if_close(received, np.tanh(z - bias), expected, "the bias is missing", what)
        expect_close(received, expected, rtol=1e-7, atol=1e-9, what=what)
        h = received


# --- 1.2 --------------------------------------------------------------------------------------------


def lstm_reference(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, *, order="ifco", gate=sigmoid,
                   candidate=np.tanh, recurrent=True, forget=True, input_gate=True, cell_tanh=True):
    """An LSTM step in NumPy, right by default; each keyword makes one typical mistake."""
    z = x_t @ kernel + bias + (h_prev @ recurrent_kernel if recurrent else 0.0)
    blocks = dict(zip(order, np.split(z, 4, axis=-1)))  # order names the blocks from the left
    i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), candidate(blocks["c"]), gate(blocks["o"])
    c_t = (f * c_prev if forget else c_prev) + (i * g if input_gate else g)
    h_t = o * (np.tanh(c_t) if cell_tanh else c_t)
    return h_t, c_t


def lstm_mistakes():
    """{problem: keywords of lstm_reference that make it}."""
    mistakes = {}
    for order in itertools.permutations("ifco"):
        if order != tuple("ifco"):
            mistakes[
                f"gates read in the order {', '.join(order)}: Keras stores the four blocks of "
                f"columns as i, f, c, o (the input gate, the forget gate, the candidate, the output "
                f"gate; each `units` columns wide)"] = {"order": "".join(order)}
    mistakes.update({
        "tanh missing on the cell: h_t = o * tanh(c_t), not o * c_t": {"cell_tanh": False},
        "the candidate uses the sigmoid: g = tanh(z_g); only the gates i, f, o use the sigmoid":
            {"candidate": sigmoid},
        "the gates use tanh: i, f and o use the sigmoid (between 0 and 1: how much passes)":
            {"gate": np.tanh},
        "the recurrent term is missing: the previous state, multiplied by the recurrent kernel, "
        "belongs in the pre-activation of the gates": {"recurrent": False},
        "the forget gate is not applied: c_t = f * c_prev + i * g": {"forget": False},
        "the input gate is not applied: c_t = f * c_prev + i * g": {"input_gate": False},
    })
    return mistakes


def test_lstm_step():
    """Exercise 1.2: lstm_step, one LSTM step with Keras' weight layout and gate order i, f, c, o.

    Hint: compute one pre-activation from both kernels and the bias and cut it into four equal parts along
    the last axis, in Keras' order: input gate, forget gate, candidate, output gate; the new cell keeps
    the forget gate's share of the old cell and adds the input gate times tanh of the candidate; the new
    state is the output gate times tanh of the new cell.
    """
    lstm_step = exercises().lstm_step
    rng = np.random.default_rng(11)
    batch, steps, features, units = 3, 4, 4, 5
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=0.5, size=(batch, units))
    c0 = rng.normal(scale=1.0, size=(batch, units))
    kernel = rng.normal(scale=0.6, size=(features, 4 * units))
    recurrent_kernel = rng.normal(scale=0.6, size=(units, 4 * units))
    bias = rng.normal(scale=0.5, size=4 * units) + np.repeat([0.5, 1.0, 0.0, -0.5], units)
    arguments = (x[:, 0], h0, c0, kernel, recurrent_kernel, bias)
    before = [argument.copy() for argument in arguments]
    first = lstm_step(*arguments)  # an unfinished stub fails here, before Keras loads
    names = ("x_t", "h_prev", "c_prev", "kernel", "recurrent_kernel", "bias")
    for name, old, argument in zip(names, before, arguments):
        expect_unchanged(old, argument, what=f"{name} (an argument of lstm_step)")
    import keras

    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None, steps, features))
    layer.set_weights([kernel, recurrent_kernel, bias])
    sequence, h_last, c_last = to_numpy(layer(x, initial_state=[h0, c0]))
    # Keras' state after each step: the same layer over one step at a time, from its previous state.
    keras_states = [(h0, c0)]
    for t in range(steps):
        _, h, c = to_numpy(layer(x[:, t : t + 1], initial_state=list(keras_states[-1])))
        keras_states.append((h, c))
    if not (np.allclose(sequence, np.stack([h for h, _ in keras_states[1:]], axis=1))
            and np.allclose(c_last, keras_states[-1][1]) and np.allclose(h_last, keras_states[-1][0])):
        raise RuntimeError("Keras' LSTM gave different states step by step and over the sequence")

    h, c = h0, c0
    for t in range(steps):
        previous = "the initial states h0, c0" if t == 0 else "correct so far"
        what = (f"step {t + 1} of {steps}: h, c = lstm_step(x[:, {t}], h, c, kernel, recurrent_kernel, "
                f"bias), h and c the previous step's results ({previous}), "
                f"vs keras.layers.LSTM({units}, return_sequences=True, return_state=True) with these "
                f"weights over x of shape {x.shape} from initial_state=[h0, c0]")
        result = first if t == 0 else lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)
        h_t, c_t = expect_tuple(result, 2, names="h_t, c_t", what=what)
        expected_h, expected_c = keras_states[t + 1]
        if matches(h_t, expected_c) and matches(c_t, expected_h):
            raise AssertionError(f"returned (c_t, h_t): return the pair in the order (h_t, c_t)"
                                 f"\ncase: {what}")
        fail_if_close(h_t, expected_c, expected_h,
                      "h_t is the cell c_t: the hidden state is h_t = o * tanh(c_t)", what)
        previous_h, previous_c = keras_states[t]
        for problem, keywords in lstm_mistakes().items():
            wrong_h, wrong_c = lstm_reference(x[:, t], previous_h, previous_c, kernel, recurrent_kernel,
                                              bias, **keywords)
            if matches(h_t, wrong_h) and matches(c_t, wrong_c) \
                    and not (matches(wrong_h, expected_h) and matches(wrong_c, expected_c)):
                raise AssertionError(f"{problem}\ncase: {what}\nh_t: {differences(h_t, expected_h)}")
        expect_close(c_t, expected_c, rtol=1e-7, atol=1e-9, what=f"c_t of {what}")
        expect_close(h_t, expected_h, rtol=1e-7, atol=1e-9, what=f"h_t of {what}")
        h, c = h_t, c_t


# --- 1.3 --------------------------------------------------------------------------------------------


def numpy_softmax(z, axis=-1):
    shifted = np.exp(z - z.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def test_softmax_with_temperature():
    """Exercise 1.3: softmax_with_temperature, softmax(logits / temperature) along the last axis.

    Hint: divide the logits by the temperature, subtract each row's maximum (it keeps every
    exponential at most 1 and leaves the probabilities unchanged), exponentiate, and divide by each
    row's sum along the last axis, keeping that axis so that it broadcasts. Raise ValueError unless
    temperature > 0.
    """
    softmax_with_temperature = exercises().softmax_with_temperature
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(4, 7))
    large = np.array([[1000.0, 999.0, 990.0, -1000.0, 0.0], [-5.0, 3.0, 1.0, 2.5, 0.5]])
    cases = [(logits, temperature) for temperature in (1.0, 0.1, 0.5, 2.0, 5.0)] + [
        (rng.normal(scale=2.0, size=6), 0.7),  # one distribution, 1-D
        (rng.normal(scale=2.0, size=(2, 3, 5)), 1.5),  # (batch, time, vocab)
        (large, 1.0),
        (large, 0.1),
        (large, 5.0),
    ]
    fix = ("subtract each row's maximum from logits / temperature before np.exp: the probabilities "
           "stay the same and no exponential exceeds 1")
    received = []
    for values, temperature in cases:
        before = values.copy()
        call = f"softmax_with_temperature(logits, {temperature}) for logits of shape {values.shape}"
        if values is large:
            call += f", logits = {values.tolist()}"
        received.append(call_strictly(softmax_with_temperature, values, temperature, what=call, fix=fix))
        expect_unchanged(before, values, what="logits (the argument of softmax_with_temperature)")
    import keras

    for (values, temperature), result in zip(cases, received):
        expected = keras.ops.convert_to_numpy(keras.ops.softmax(values / temperature, axis=-1))
        what = (f"softmax_with_temperature(logits, {temperature}) for logits of shape {values.shape} "
                f"vs keras.ops.softmax(logits / {temperature}, axis=-1)")
        if values is large:
            what += f", logits = {values.tolist()}"
        fail_if_close(result, numpy_softmax(values * temperature), expected,
                      "multiplied by the temperature: divide, z = logits / temperature (a temperature "
                      "below 1 sharpens the distribution, above 1 flattens it)", what)
        fail_if_close(result, numpy_softmax(values), expected,
                      "the temperature is ignored: the probabilities are softmax(logits / temperature)", what)
        if values.ndim > 1:
            fail_if_close(result, numpy_softmax(values / temperature, axis=0), expected,
                          "normalised along the first axis: normalise along the last one (axis=-1, "
                          "keepdims=True), so that each row sums to 1", what)
            flat = np.exp(values / temperature - (values / temperature).max())
            fail_if_close(result, flat / flat.sum(), expected,
                          "normalised over the whole array: each row is a distribution; sum along the "
                          "last axis (axis=-1, keepdims=True)", what)
        if isinstance(result, np.ndarray) and result.shape == expected.shape:
            sums = np.asarray(result, dtype=float).sum(axis=-1)
            if np.all(np.isfinite(sums)) and not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
                raise AssertionError(f"the rows do not sum to 1 (sums {np.round(sums, 6).tolist()}): "
                                     f"divide by each row's sum\ncase: {what}")
        expect_close(result, expected, rtol=1e-7, atol=1e-12, what=what)

    for temperature in (0.0, -1.0):
        expect_value_error(softmax_with_temperature, logits, temperature,
                           what=f"softmax_with_temperature(logits, {temperature}): the temperature must "
                                "be > 0")


# --- 1.4 --------------------------------------------------------------------------------------------


def test_bits_per_char():
    """Exercise 1.4: bits_per_char, the mean of -log2 of the probability given to each target.

    Hint: for each position take the probability the model gave to the character that actually came next
    (one entry per row, picked by the targets: index with two arrays at once), and average minus its
    base-2 logarithm.
    """
    bits_per_char = exercises().bits_per_char
    rng = np.random.default_rng(5)

    def distributions(n, vocab):
        return 0.8 * rng.dirichlet(np.full(vocab, 0.7), size=n) + 0.2 / vocab  # every p >= 0.2 / vocab

    cases = [
        (distributions(6, 5), rng.integers(0, 5, size=6)),
        (distributions(12, 30), rng.integers(0, 30, size=12)),
        (distributions(4, 4), np.array([3, 0, 3, 1])),
    ]
    received = []
    for probabilities, targets in cases:
        probabilities_before, targets_before = probabilities.copy(), targets.copy()
        received.append(bits_per_char(probabilities, targets))
        expect_unchanged(probabilities_before, probabilities,
                         what="probabilities (the argument of bits_per_char)")
        expect_unchanged(targets_before, targets, what="targets (the argument of bits_per_char)")
    import keras

    for (probabilities, targets), result in zip(cases, received):
        n, vocab = probabilities.shape
        nats = keras.losses.sparse_categorical_crossentropy(targets, probabilities)  # (n,)
        nats = keras.ops.convert_to_numpy(nats)
        expected = float(np.mean(nats)) / np.log(2)
        what = (f"bits_per_char(probabilities, targets) for {n} rows over {vocab} characters vs "
                f"keras.losses.sparse_categorical_crossentropy(targets, probabilities), averaged, / ln 2")
        fail_if_shape(result, (), {(n,): "one value per row: return their mean, one number"}, what)
        chosen = probabilities[np.arange(n), targets]
        for problem, wrong in {
            "natural logarithm: that is nats; bits use log base 2 (np.log2, or divide by ln 2)":
                np.mean(-np.log(chosen)),
            "log base 10: bits use log base 2 (np.log2)": np.mean(-np.log10(chosen)),
            "summed over the rows: average them (np.mean), bits per character": np.sum(-np.log2(chosen)),
            "wrong sign: a character costs -log2 p bits, a positive number": np.mean(np.log2(chosen)),
            "probabilities[:, targets] picks an (n, n) block: take one entry per row, the row's "
            "target, by indexing with the row numbers and the targets together":
                np.mean(-np.log2(probabilities[:, targets])),
            "averaged over every entry of probabilities: only each row's target counts, one entry per "
            "row": np.mean(-np.log2(probabilities)),
        }.items():
            fail_if_close(result, wrong, expected, problem, what)
        expect_close(result, expected, rtol=1e-6, atol=1e-9, what=what)

    uniform = np.full((8, 32), 1 / 32)
    expect_close(bits_per_char(uniform, np.arange(8) * 4), 5.0, rtol=1e-9,
                 what="bits_per_char for a uniform guess over 32 characters: log2(32) = 5 bits each")
    certain = np.eye(6)[[2, 0, 5]]
    expect_close(bits_per_char(certain, np.array([2, 0, 5])), 0.0, atol=1e-12,
                 what="bits_per_char when every target had probability 1: no surprise, 0 bits")


# --- 1.5 --------------------------------------------------------------------------------------------


def reference_windows(ids, length, stride):
    """The windows of Keras' timeseries_dataset_from_array: the inputs from ids[:-1], so that the last
    input of every window has a next character, the targets the same windows of ids[1:]."""
    import keras

    def windows(data):
        if stride > len(data) - length:  # a window at 0 at most (Keras wants a stride below len(data))
            return data[:length].reshape(-1, length)
        dataset = keras.utils.timeseries_dataset_from_array(
            data, None, sequence_length=length, sequence_stride=stride, batch_size=None)
        return np.array(list(dataset.as_numpy_iterator()), dtype=ids.dtype).reshape(-1, length)

    return windows(ids[:-1]), windows(ids[1:])


def test_char_windows():
    """Exercise 1.5: char_windows, windows of `length` ids every `stride` ids and the same shifted by one.

    Hint: no stride means a stride of the length. Window i starts at i times the stride, and a start
    counts while the window's last input still has a next character: while the start plus the length
    is below the number of ids. From each start, the next `length` ids are the inputs and the
    `length` ids one further on the targets; the windows are the rows, shape (windows, length).
    """
    char_windows = exercises().char_windows
    rng = np.random.default_rng(9)
    cases = [
        (rng.integers(1, 40, size=23).astype("int32"), 5, None),  # the default: stride = length
        (rng.integers(1, 40, size=6 * 4 + 1).astype("int32"), 4, None),  # 6 windows and one to predict
        (rng.integers(1, 40, size=6 * 4).astype("int32"), 4, None),  # one short: only 5 windows fit
        (rng.integers(1, 40, size=23).astype("int32"), 5, 2),  # overlapping
        (rng.integers(1, 40, size=25).astype("int32"), 4, 3),  # overlapping; from id 21, one short
        (rng.integers(1, 40, size=23).astype("int32"), 5, 7),  # gaps of 2 ids between windows
        (rng.integers(1, 80, size=301), 30, 10),
        (np.arange(12), 3, 1),  # a window at every id
        (np.arange(7), 1, 1),
        (np.arange(20), 3, 4),
        (np.arange(10, 20), 9, 3),  # one window
    ]
    received = []
    for ids, length, stride in cases:
        before = ids.copy()
        call = f"char_windows(ids, {length})" if stride is None else f"char_windows(ids, {length}, {stride})"
        call += f" for len(ids) = {len(ids)}"
        try:
            result = char_windows(ids, length) if stride is None else char_windows(ids, length, stride)
        except NotImplementedError:
            raise
        except Exception as error:
            if stride is None:
                try:
                    char_windows(ids.copy(), length, length)
                except Exception:
                    pass
                else:
                    raise AssertionError(
                        f"the default stride fails: raised {type(error).__name__}: {error}\n"
                        f"case: {call}, no stride given\n"
                        f"stride None, the default, stands for a stride of the length ({length} here): "
                        f"windows that do not overlap"
                    ) from error
            if isinstance(error, IndexError | ValueError):
                n = len(reference_windows(ids, length, stride or length)[0])
                raise AssertionError(
                    f"too many windows? raised {type(error).__name__}: {error}\n"
                    f"case: {call}\n"
                    f"only {n} windows fit: the last input of each window needs a next character, so "
                    f"the start plus the length stays below len(ids)"
                ) from error
            raise
        received.append(expect_tuple(result, 2, names="inputs, targets", what=call))
        expect_unchanged(before, ids, what="ids (the argument of char_windows)")

    for (ids, length, stride), (inputs, targets) in zip(cases, received):
        step = length if stride is None else stride
        expected_inputs, expected_targets = reference_windows(ids, length, step)
        n = len(expected_inputs)
        shown = f" (ids = {ids.tolist()})" if len(ids) <= 30 else ""
        call = f"char_windows(ids, {length})" if stride is None else f"char_windows(ids, {length}, {stride})"
        what = f"{call} for len(ids) = {len(ids)}{shown}, which has {n} windows, one every {step} ids"
        for wrong_step, problem in (
            (length, f"stride ignored: the windows start every {length} ids (the length), not every "
                     f"{step} (the stride)"),
            (1, f"a window at every id: window i starts at i times the stride ({step} here), not at i"),
        ):
            wrong = reference_windows(ids, length, wrong_step)[0]
            if matches(inputs, wrong) and not matches(wrong, expected_inputs):
                raise AssertionError(f"{problem}\ncase: inputs of {what}\nexpected shape "
                                     f"{(n, length)}, received shape {wrong.shape}")
        shapes = {
            (n + 1, length): f"one window too many: only {n} windows fit (the last input of each window "
                             f"needs a next character); expected {(n, length)}",
            (n - 1, length): f"one window too few: {n} windows fit (every start from which the window's "
                             f"last input has a next character); expected {(n, length)}",
            (length, n): f"transposed: one row per window, expected {(n, length)}",
        }
        for name, result in (("inputs", inputs), ("targets", targets)):
            fail_if_shape(result, (n, length), shapes, f"{name} of {what}")
        if matches(inputs, expected_targets) and matches(targets, expected_inputs):
            raise AssertionError(f"inputs and targets swapped: return (inputs, targets); the targets "
                                 f"are the inputs shifted by one character\ncase: {what}")
        fail_if_close(targets, expected_inputs, expected_targets,
                      "targets not shifted: the target at each position is the next character, "
                      "ids[i * stride + 1:i * stride + length + 1]", f"targets of {what}")
        expect_close(inputs, expected_inputs, atol=0, rtol=0, dtype="integer", what=f"inputs of {what}")
        expect_close(targets, expected_targets, atol=0, rtol=0, dtype="integer", what=f"targets of {what}")
