"""The rnn lecture: the NumPy RNN matches Keras, the character model scores and samples text
correctly (unseen characters included), the n-gram and compressor baselines measure what they say,
the corpus is split by whole documents, the steps run, and Tiny Shakespeare is read through
tensorflow-datasets (failing fast offline: test_datasets.py). Marked slow: the default recipe
reaches its bits per character on held-out documents, and the full lecture lands in its band."""

import contextlib
import gzip
import io
import math
import re

import numpy as np
import pytest

from lectures import rnn

TOPIC = "rnn"  # the lecture of the `fast_run` fixture (conftest.py)
TEXT = ("The quick brown fox jumps over the lazy dog. " * 8 + "Pack my box with five dozen liquor jugs. " * 8)
FIGURES = {  # step number -> the figures it writes
    1: {"hello_unrolled", "hello"},
    2: {"ngram_bits_per_char"},
    3: {"rnn_lstm_gru"},
    4: {"compressors"},
    5: {"temperature", "temperature_samples"},
    6: {"lstm_cell", "gradient_through_time"},
}


@pytest.fixture(scope="module")
def small_model():
    """A small LSTM character model trained briefly on TEXT."""
    return rnn.train(TEXT, epochs=2, hidden_units=16)


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = rnn.lecture.steps
    for step in steps:
        assert f"[{step.number}/{len(steps)}] {step.title}" in printed
    assert len(steps) == len(FIGURES)
    for step in steps:
        written = {f.path.stem for f in run.figures if f.step == f"{step.number}. {step.title}"}
        assert written == FIGURES[step.number], (step.title, written)
    for path, caption, _ in run.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and caption
    exact = {band.label: band for band in run.bands}["largest difference, NumPy RNN vs Keras SimpleRNN"]
    assert exact.landed, str(exact)


def test_numpy_rnn_forward_equals_keras_simple_rnn():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3)).astype("float32")  # (time, features)
    layer = keras.layers.SimpleRNN(5, return_sequences=True)
    layer.build((None, 7, 3))
    kernel, recurrent_kernel = rng.normal(size=(3, 5)), rng.normal(size=(5, 5)) * 0.5
    bias = rng.normal(size=5)
    layer.set_weights([kernel, recurrent_kernel, bias])
    expected = keras.ops.convert_to_numpy(layer(x[None]))[0]
    np.testing.assert_allclose(rnn.rnn_forward(x, kernel, recurrent_kernel, bias), expected, atol=1e-5)


def test_the_unrolled_rnn_shows_each_steps_hidden_state_and_likeliest_next_character():
    import matplotlib.pyplot as plt

    from companion import plots

    rng = np.random.default_rng(0)
    hidden = np.tanh(rng.normal(size=(4, 8)))  # (time, units)
    probabilities = rng.dirichlet(np.ones(4), size=4)  # (time, vocabulary)
    fig, ax = plt.subplots()
    rnn.draw_unrolled_rnn(ax, "hell", "ehlo", hidden, probabilities)
    squares = [patch for patch in ax.patches if type(patch).__name__ == "Rectangle"]
    assert len(squares) == hidden.size  # one square per unit and step, in order, coloured by its value
    expected = [plots.PROBABILITY_CMAP((value + 1) / 2) for value in hidden.ravel()]
    np.testing.assert_allclose([square.get_facecolor() for square in squares], expected)
    texts = [text.get_text() for text in ax.texts]
    for t in range(4):  # above each step: its likeliest character and that probability
        best = probabilities[t].argmax()
        assert f"p = {probabilities[t, best]:.2f}" in texts and "ehlo"[best] in texts
    plt.close(fig)


def test_sample_figure_marks_exactly_the_words_missing_from_the_training_text():
    words = {"the", "quick", "fox"}
    prompt, sample = "The ", "quick frox\nthe  xq-fox!"
    inks = rnn.character_inks(prompt, sample, words)
    assert len(inks) == len(prompt + sample)
    marked = "".join(c if ink == "non-word" else " " for c, ink in zip(prompt + sample, inks)).split()
    assert marked == ["frox", "xq"]
    assert inks[:4] == ["prompt"] * 4 and inks[len(prompt) + 10] == "new line"
    found = [sample[start:end] for start, end in rnn.word_spans(sample)]
    assert found == ["quick", "frox", "the", "xq", "fox"]
    assert rnn.real_word_share(sample, words) == pytest.approx(1 - len(marked) / len(found))


@pytest.mark.parametrize("seed", range(3))
def test_wrapped_lines_cover_the_text_in_order_at_most_width_characters_each(seed):
    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(list("ab  cdefg"), 500)) + "x" * 60  # ends with a word longer than a line
    lines = rnn.wrapped_lines(text, 40)
    assert "".join(text[start:end] for start, end in lines) == text
    assert all(0 < end - start <= 40 for start, end in lines)
    for start, end in lines[:-1]:  # a line that has a space to break at ends with it
        assert text[end - 1] == " " or " " not in text[start + 1:start + 40], text[start:end]


def test_bits_per_char_is_the_mean_negative_log2_probability_of_each_next_character(small_model):
    text = "The lazy dog jumps over the quick brown fox."  # shorter than one window: full context
    logits = small_model.model.predict(small_model.encode(text)[None], verbose=0)[0]  # (len, vocab)
    p = rnn.softmax(logits.astype("float64"))[np.arange(len(text) - 1), small_model.encode(text[1:])]
    p = (1 - rnn.SMOOTHING) * p + rnn.SMOOTHING / small_model.vocab_size
    assert small_model.bits_per_char(text) == pytest.approx(np.mean(-np.log2(p)), rel=1e-4)
    assert small_model.bits_per_char(TEXT[:300]) < math.log2(small_model.vocab_size)  # it learned something


def test_window_scoring_gives_each_character_its_full_context_up_to_the_window(small_model):
    text = TEXT[:150]
    whole = small_model.next_char_probabilities(text, context=len(text))  # one window: all context
    windowed = small_model.next_char_probabilities(text, context=40)
    assert windowed.shape == whole.shape == (149, small_model.vocab_size)
    np.testing.assert_allclose(windowed[:40], whole[:40], atol=1e-5)  # the first window is the same text
    np.testing.assert_allclose(windowed.sum(axis=1), 1, atol=1e-5)


def test_unseen_characters_cost_bits_instead_of_crashing(small_model):
    seen = small_model.bits_per_char("The quick brown fox")
    unseen = small_model.bits_per_char("The quick brown f€x")  # "€" never appears in TEXT
    assert np.isfinite(unseen) and unseen > seen
    assert small_model.encode("€")[0] == rnn.UNKNOWN
    sample = small_model.sample(20, prompt="Zoë → ")
    assert len(sample) == 20 and set(sample) <= set(small_model.vocabulary)


def test_sampling_carries_the_state_exactly_as_reading_the_whole_sequence(small_model):
    ids = small_model.encode("jumps over the lazy")
    stepper = small_model._step_model()
    states = [np.zeros((1, size), "float32") for size in small_model._state_sizes()]
    stepped = []
    for i in ids:
        logits, *states = stepper.predict_on_batch([np.array([[i]], "int32"), *states])
        stepped.append(logits[0, -1])
    whole = small_model.model.predict(ids[None], verbose=0)[0]
    np.testing.assert_allclose(np.array(stepped), whole, atol=1e-4)


def test_sample_is_reproducible_and_validates_its_arguments(small_model):
    first = small_model.sample(40, temperature=0.8, seed=3, prompt="The ")
    assert first == small_model.sample(40, temperature=0.8, seed=3, prompt="The ")
    assert first != small_model.sample(40, temperature=0.8, seed=4, prompt="The ")
    assert small_model.sample(0) == ""
    logits = small_model.model.predict(small_model.encode("The quick brown ")[None], verbose=0)[0, -1]
    likeliest = small_model.decode([int(np.argmax(logits[1:])) + 1])  # id 0 (unknown) is never drawn
    for seed in range(3):  # a low temperature takes the likeliest character
        assert small_model.sample(1, temperature=1e-3, seed=seed, prompt="The quick brown ") == likeliest
    with pytest.raises(ValueError, match="Expected temperature > 0"):
        small_model.sample(5, temperature=0)
    with pytest.raises(ValueError, match="Expected n_chars >= 0"):
        small_model.sample(-1)


def test_ngram_model_is_a_probability_distribution_over_the_next_character():
    train_text = TEXT
    history = "the la"

    def probability(char):  # p(char | history) from the bits of history + char and of history
        bits = rnn.ngram_bits_per_char
        return 2 ** -(7 * bits(train_text, history + char, 4) - 6 * bits(train_text, history, 4))

    total = sum(probability(c) for c in sorted(set(train_text))) + probability("€")
    assert total == pytest.approx(1, abs=1e-9)
    assert probability("z") > 0.5  # "the la" was always followed by "z" in training
    unigram = rnn.ngram_bits_per_char(train_text, "o", 1)
    count, kinds = train_text.count("o"), len(set(train_text))
    expected = (count + kinds / (kinds + 1)) / (len(train_text) + kinds)  # Witten-Bell over a uniform
    assert unigram == pytest.approx(-math.log2(expected))


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        (b"bytes are not text" * 10, {}, "Expected text as a Python string"),
        ("too short", {}, f"Expected a text of at least {rnn.SEQUENCE_LENGTH + 1} characters"),
        (TEXT, {"epochs": 0}, "Expected epochs >= 1"),
    ],
)
def test_train_rejects_bad_input_with_a_clear_message(text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rnn.train(text, **kwargs)


def test_train_accepts_a_strategy_and_a_vanilla_cell():
    import tensorflow as tf

    language_model = rnn.train(TEXT, epochs=1, hidden_units=8, cell="rnn",
                               strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert type(language_model.model.get_layer("recurrent")).__name__ == "SimpleRNN"
    assert np.isfinite(language_model.bits_per_char(TEXT[:80]))


def test_the_default_corpus_is_real_text_present_offline():
    from companion import data

    text = data.python_docs()
    assert len(text) > 200_000 and text == data.python_docs()
    assert text.count(" the ") > 1000 and "def " in text
    documents = data.python_docs(documents=True)
    assert list(documents) == sorted(documents) and "\n\n".join(documents.values()) == text


def test_the_corpus_is_split_by_whole_documents_that_share_no_line():
    from companion import data

    documents = data.python_docs(documents=True)
    parts = rnn.split_documents(documents)
    assert parts == rnn.split_documents(documents)  # deterministic
    total = sum(len(text) for text in documents.values())
    train_text, validation_text, test_text = parts
    assert 0.04 * total < len(test_text) <= 0.05 * total + 100
    assert 0.04 * total < len(validation_text) <= 0.05 * total + 100
    for name, text in documents.items():  # every document whole, in exactly one part
        assert sum(text in part for part in parts) == 1, name
    long_lines = [{line.strip() for line in part.split("\n") if len(line.strip()) >= 40} for part in parts]
    assert not long_lines[0] & long_lines[2] and not long_lines[0] & long_lines[1]
    toy = {"a": "x" * 50, "b": "y" * 10, "c": "shared line of more than forty characters, yes\n" + "z" * 5,
           "d": "shared line of more than forty characters, yes"}
    train_text, validation_text, test_text = rnn.split_documents(toy, held_out=0.1)
    assert test_text == "y" * 10 and validation_text == ""  # c and d go together: too long to hold out


def test_compressed_bits_per_char_is_the_extra_compressed_size_of_the_test_text():
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz "))
    train_text = "".join(rng.choice(letters, 3000))
    random_text = "".join(rng.choice(letters, 2000))
    repetitive = ("the same sentence again. " * 80)[:2000]
    for name in rnn.COMPRESSORS:
        assert rnn.compressed_bits_per_char(train_text, repetitive, name) < 0.5
        assert rnn.compressed_bits_per_char(train_text, random_text, name) > 4  # log2(27) = 4.75
    test_text = "héllo wörld " * 9  # 108 characters, 126 bytes in UTF-8
    direct = 8 * (len(gzip.compress((train_text + test_text).encode(), compresslevel=9))
                  - len(gzip.compress(train_text.encode(), compresslevel=9))) / 108
    assert rnn.compressed_bits_per_char(train_text, test_text, "gzip") == pytest.approx(direct)
    assert rnn.compressed_bits_per_char("ab", "abab", lambda raw: raw) == 8  # no compression: 8 bits


def test_tiny_shakespeare_is_read_through_tensorflow_datasets(tmp_path, monkeypatch):
    """The `--dataset tiny_shakespeare` path, on tensorflow-datasets' mock data (random letters)."""
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    printed = io.StringIO()
    with tfds.testing.mock_data(num_examples=20), contextlib.redirect_stdout(printed):
        run = rnn.lecture.run(step=2, fast=True, dataset="tiny_shakespeare", out=tmp_path)
    assert re.search(r"characters: training / test: [1-9]\d* / [1-9]\d*", printed.getvalue())
    assert len(run.figures) == 1


@pytest.mark.slow
def test_the_default_recipe_scores_at_most_2_2_bits_per_character_on_held_out_documents():
    from companion import data

    train_text, _, test_text = rnn.split_documents(data.python_docs(documents=True))
    language_model = rnn.train(train_text)  # its time is measured in benchmarks/recipes.py, not here
    bits = language_model.bits_per_char(test_text)
    assert bits <= 2.2, f"{bits:.3f} bits per character"
    # no 64-character piece of the test documents appears in the training text
    pieces = {test_text[i:i + 64] for i in range(0, len(test_text) - 64, 16)}
    assert not any(piece in train_text for piece in pieces)


@pytest.mark.slow
def test_full_lecture_lands_in_its_band(tmp_path):
    run = rnn.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
