"""The recurrent networks exercises: each check names the typical mistake of a student file that makes it.

Every case is the reference solution with one exercise function rewritten to make one mistake; the
check of that exercise, run in this process, must fail with an AssertionError whose first line names
it. That the reference solutions pass every check and the fresh stubs fail each one is tested for
every topic by tests/test_exercises.py.
"""


import pytest
from test_exercises import check_failure  # shared by every topic's mistakes

RNN_STEP = """
    def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
        return {}
    """

LSTM_STEP = """
    def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
        z = {z}
        {blocks} = np.split(z, 4, axis=-1)
        i, f, g, o = {gates}
        c_t = {cell}
        h_t = {state}
        return {returned}
    """


def lstm(z="x_t @ kernel + h_prev @ recurrent_kernel + bias", blocks="z_i, z_f, z_g, z_o",
         gates="sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)", cell="f * c_prev + i * g",
         state="o * np.tanh(c_t)", returned="h_t, c_t"):
    """The source of an lstm_step with one piece replaced by a typical mistake."""
    return LSTM_STEP.format(z=z, blocks=blocks, gates=gates, cell=cell, state=state, returned=returned)


LSTM_IN_PLACE = """
    def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
        z_i, z_f, z_g, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=-1)
        c_prev *= sigmoid(z_f)
        c_prev += sigmoid(z_i) * np.tanh(z_g)
        return sigmoid(z_o) * np.tanh(c_prev), c_prev
    """

SOFTMAX = """
    def softmax_with_temperature(logits, temperature):
        {guard}
        z = {z}
        e = np.exp({shifted})
        return {result}
    """


def softmax(guard="if not temperature > 0: raise ValueError(temperature)",
            z="np.asarray(logits, dtype=float) / temperature", shifted="z - z.max(axis=-1, keepdims=True)",
            result="e / e.sum(axis=-1, keepdims=True)"):
    """The source of a softmax_with_temperature with one piece replaced by a typical mistake."""
    return SOFTMAX.format(guard=guard, z=z, shifted=shifted, result=result)


SOFTMAX_IN_PLACE = """
    def softmax_with_temperature(logits, temperature):
        if not temperature > 0:
            raise ValueError(temperature)
        logits /= temperature
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    """

BITS = """
    def bits_per_char(probabilities, targets):
        chosen = {chosen}
        return {result}
    """


def bits(chosen="probabilities[np.arange(len(targets)), targets]",
         result="float(np.mean(-np.log2(chosen)))"):
    """The source of a bits_per_char with one piece replaced by a typical mistake."""
    return BITS.format(chosen=chosen, result=result)


BITS_IN_PLACE = """
    def bits_per_char(probabilities, targets):
        probabilities += 1e-12  # no log of 0
        return float(np.mean(-np.log2(probabilities[np.arange(len(targets)), targets])))
    """

WINDOWS = """
    def char_windows(ids, length, stride=None):
        stride = {stride}
        starts = {starts}
        inputs = {inputs}
        targets = {targets}
        return {returned}
    """


def windows(stride="length if stride is None else stride", starts="range(0, len(ids) - length, stride)",
            inputs="np.array([ids[s:s + length] for s in starts])",
            targets="np.array([ids[s + 1:s + length + 1] for s in starts])", returned="inputs, targets"):
    """The source of a char_windows with one piece replaced by a typical mistake."""
    return WINDOWS.format(stride=stride, starts=starts, inputs=inputs, targets=targets, returned=returned)


WINDOWS_IN_PLACE = """
    def char_windows(ids, length, stride=None):
        stride = length if stride is None else stride
        starts = range(0, len(ids) - length, stride)
        inputs = np.array([ids[s:s + length] for s in starts])
        ids[:-1] = ids[1:]  # shift by one character
        return inputs, np.array([ids[s:s + length] for s in starts])
    """

CASES = [
    pytest.param("rnn_step", """
        def rnn_step(x_t, h_prev, kernel, recurrent_kernel, bias):
            h_prev[:] = np.tanh(x_t @ kernel + h_prev @ recurrent_kernel + bias)
            return h_prev
        """, "h_prev (an argument of rnn_step) was modified in place", id="rnn-in-place"),
    pytest.param("rnn_step", RNN_STEP.format(
        "np.tanh(kernel.T @ x_t.T + recurrent_kernel.T @ h_prev.T + bias[:, None])"),
        "shape mismatch: received shape (6, 3): transposed", id="rnn-transposed"),
    pytest.param("rnn_step",
                 RNN_STEP.format("np.tanh(x_t[0] @ kernel + h_prev[0] @ recurrent_kernel + bias)"),
                 "shape mismatch: received shape (6,): one state only", id="rnn-one-state"),
    pytest.param("rnn_step", RNN_STEP.format("np.tanh(x_t @ kernel + bias)"),
                 "the recurrent term is missing", id="rnn-no-recurrent-term"),
    pytest.param("rnn_step", RNN_STEP.format("np.tanh(x_t @ kernel + h_prev @ recurrent_kernel.T + bias)"),
                 "recurrent_kernel transposed", id="rnn-recurrent-kernel-transposed"),
    pytest.param("rnn_step", RNN_STEP.format("sigmoid(x_t @ kernel + h_prev @ recurrent_kernel + bias)"),
                 "sigmoid instead of tanh", id="rnn-sigmoid"),
    pytest.param("rnn_step", RNN_STEP.format("x_t @ kernel + h_prev @ recurrent_kernel + bias"),
                 "no activation", id="rnn-no-activation"),
    pytest.param("rnn_step",
                 RNN_STEP.format("np.maximum(x_t @ kernel + h_prev @ recurrent_kernel + bias, 0)"),
                 "ReLU instead of tanh", id="rnn-relu"),
    pytest.param("rnn_step", RNN_STEP.format("np.tanh(x_t @ kernel + h_prev @ recurrent_kernel)"),
                 "the bias is missing", id="rnn-no-bias"),
    pytest.param("lstm_step", LSTM_IN_PLACE, "c_prev (an argument of lstm_step) was modified in place",
                 id="lstm-in-place"),
    pytest.param("lstm_step", lstm(returned="c_t, h_t"), "returned (c_t, h_t)", id="lstm-pair-swapped"),
    pytest.param("lstm_step", lstm(state="c_t"), "h_t is the cell c_t", id="lstm-h-is-c"),
    pytest.param("lstm_step", lstm(blocks="z_i, z_f, z_o, z_g"), "gates read in the order i, f, o, c",
                 id="lstm-gate-order"),
    pytest.param("lstm_step", lstm(state="o * c_t"), "tanh missing on the cell", id="lstm-no-cell-tanh"),
    pytest.param("lstm_step", lstm(gates="sigmoid(z_i), sigmoid(z_f), sigmoid(z_g), sigmoid(z_o)"),
                 "the candidate uses the sigmoid", id="lstm-sigmoid-candidate"),
    pytest.param("lstm_step", lstm(gates="np.tanh(z_i), np.tanh(z_f), np.tanh(z_g), np.tanh(z_o)"),
                 "the gates use tanh", id="lstm-tanh-gates"),
    pytest.param("lstm_step", lstm(z="x_t @ kernel + bias"), "the recurrent term is missing",
                 id="lstm-no-recurrent-term"),
    pytest.param("lstm_step", lstm(cell="c_prev + i * g"), "the forget gate is not applied",
                 id="lstm-no-forget"),
    pytest.param("lstm_step", lstm(cell="f * c_prev + g"), "the input gate is not applied",
                 id="lstm-no-input"),
    pytest.param("softmax_with_temperature", softmax(shifted="z"),
                 "not numerically stable: FloatingPointError: overflow", id="softmax-unstable"),
    pytest.param("softmax_with_temperature", SOFTMAX_IN_PLACE,
                 "logits (the argument of softmax_with_temperature) was modified in place",
                 id="softmax-in-place"),
    pytest.param("softmax_with_temperature", softmax(z="np.asarray(logits, dtype=float) * temperature"),
                 "multiplied by the temperature", id="softmax-multiplied"),
    pytest.param("softmax_with_temperature", softmax(z="np.asarray(logits, dtype=float)"),
                 "the temperature is ignored", id="softmax-no-temperature"),
    pytest.param("softmax_with_temperature", softmax(shifted="z - z.max(axis=0, keepdims=True)",
                                                     result="e / e.sum(axis=0, keepdims=True)"),
                 "normalised along the first axis", id="softmax-axis-0"),
    pytest.param("softmax_with_temperature", softmax(shifted="z - z.max()", result="e / e.sum()"),
                 "normalised over the whole array", id="softmax-whole-array"),
    pytest.param("softmax_with_temperature", softmax(result="e"), "the rows do not sum to 1",
                 id="softmax-not-normalised"),
    pytest.param("softmax_with_temperature", softmax(guard="pass"),
                 "no ValueError raised: softmax_with_temperature(logits, 0.0)", id="softmax-no-value-error"),
    pytest.param("bits_per_char", BITS_IN_PLACE, "probabilities (the argument of bits_per_char) was modified "
                 "in place", id="bits-in-place"),
    pytest.param("bits_per_char", bits(result="-np.log2(chosen)"),
                 "shape mismatch: received shape (6,): one value per row", id="bits-per-row"),
    pytest.param("bits_per_char", bits(result="float(np.mean(-np.log(chosen)))"), "natural logarithm",
                 id="bits-nats"),
    pytest.param("bits_per_char", bits(result="float(np.mean(-np.log10(chosen)))"), "log base 10",
                 id="bits-log10"),
    pytest.param("bits_per_char", bits(result="float(np.sum(-np.log2(chosen)))"), "summed over the rows",
                 id="bits-sum"),
    pytest.param("bits_per_char", bits(result="float(np.mean(np.log2(chosen)))"), "wrong sign",
                 id="bits-sign"),
    pytest.param("bits_per_char", bits(chosen="probabilities[:, targets]"),
                 "probabilities[:, targets] picks an (n, n) block", id="bits-block"),
    pytest.param("bits_per_char", bits(chosen="probabilities"), "averaged over every entry of probabilities",
                 id="bits-every-entry"),
    pytest.param("char_windows", WINDOWS_IN_PLACE, "ids (the argument of char_windows) was modified in place",
                 id="windows-in-place"),
    pytest.param("char_windows", windows(stride="stride"),
                 "the default stride fails: raised TypeError", id="windows-default-stride"),
    pytest.param("char_windows", windows(stride="length"),
                 "stride ignored: the windows start every 5 ids (the length), not every 2 (the stride)",
                 id="windows-stride-ignored"),
    pytest.param("char_windows", windows(starts="range(len(ids) - length)"),
                 "a window at every id: window i starts at i times the stride (5 here), not at i",
                 id="windows-every-id"),
    pytest.param("char_windows", windows(starts="range(0, len(ids) - length + 1, stride)"),
                 "too many windows? raised ValueError", id="windows-too-many-raises"),
    pytest.param("char_windows", windows(starts="range(0, len(ids) - length + 1, stride)",
                                         targets="np.array([np.roll(ids, -1)[s:s + length]\n"
                                                 "                            for s in starts])"),
                 "shape mismatch: received shape (6, 4): one window too many", id="windows-too-many"),
    pytest.param("char_windows", windows(starts="stride * np.arange((len(ids) - 1) // stride)"),
                 "too many windows? raised ValueError", id="windows-lecture-count"),
    pytest.param("char_windows", windows(starts="stride * np.arange((len(ids) - length) // stride)"),
                 "shape mismatch: received shape (3, 5): one window too few", id="windows-too-few"),
    pytest.param("char_windows", windows(returned="inputs.T, targets.T"),
                 "shape mismatch: received shape (5, 4): transposed", id="windows-transposed"),
    pytest.param("char_windows", windows(returned="targets, inputs"), "inputs and targets swapped",
                 id="windows-swapped"),
    pytest.param("char_windows", windows(targets="inputs"), "targets not shifted", id="windows-not-shifted"),
]


@pytest.mark.parametrize("exercise, code, first_line", CASES)
@pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")  # the students' temperature 0
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_checks_name_typical_mistakes(exercise, code, first_line, tmp_path, monkeypatch):
    """The check of one exercise, run in this process on a student file with one mistake."""
    message = check_failure("rnn", exercise, {exercise: code}, tmp_path, monkeypatch)
    assert message is not None and message.startswith(first_line), message
