"""The rnn lecture: the NumPy RNN matches Keras, the character model scores and samples text
correctly (unseen characters included), the n-gram baseline is a proper distribution, the steps
run, and Tiny Shakespeare is read through tensorflow-datasets (failing fast offline: test_datasets.py)."""

import contextlib
import io
import math
import re

import numpy as np
import pytest

from lectures import rnn

TOPIC = "rnn"  # the lecture of the `fast_run` fixture (conftest.py)
TEXT = ("The quick brown fox jumps over the lazy dog. " * 8 + "Pack my box with five dozen liquor jugs. " * 8)


@pytest.fixture(scope="module")
def small_model():
    """A small LSTM character model trained briefly on TEXT."""
    return rnn.train(TEXT, epochs=2, hidden_units=16)


def test_every_step_runs_in_fast_mode_and_writes_its_figures(fast_run):
    run, printed = fast_run
    steps = rnn.lecture.steps
    for step in steps:
        assert f"[{step.number}/{len(steps)}] {step.title}" in printed
    assert {figure.step for figure in run.figures} == {f"{s.number}. {s.title}" for s in steps}
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
        ("too short", {}, "Expected a text of at least 65 characters"),
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
def test_full_lecture_lands_in_its_band(tmp_path):
    run = rnn.lecture.run(out=tmp_path)
    assert run.bands and all(band.landed for band in run.bands), [str(b) for b in run.bands]
