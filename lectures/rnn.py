"""Recurrent networks: character language models

A recurrent network reads a sequence one element at a time and carries a hidden state from step
to step, so what it outputs at step t can depend on everything before. We start with the slides'
"hello" example (a vanilla RNN in NumPy, checked against Keras' SimpleRNN), measure how far
counting n-grams gets on real text, train a vanilla RNN, an LSTM and a GRU as character language
models, compare them with gzip, bzip2 and xz on the same held-out documents, sample text with a
temperature, and see why the LSTM's gradient reaches further back than the vanilla RNN's.

Text is a Python string. The default corpus is real English prose with code examples that every
Python installation carries: Python's own documentation topics (`companion.data.python_docs`).
`--dataset tiny_shakespeare` uses Shakespeare instead, fetched ahead of class
(`companion data fetch tiny_shakespeare`). Quality is measured in bits per character: the average
−log₂ p(next character | the characters before it) on text the model has not seen: whole
documentation topics held out from training (`split_documents`).
"""

import bz2
import collections
import functools
import gzip
import hashlib
import lzma
import math
import numbers

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.ticker import MaxNLocator

from companion import autodiff, data, datasets, plots
from companion.checkpoints import completed_epochs
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS
from companion.seeding import set_seed
from companion.tensors import to_numpy
from companion.validation import training_options

lecture = Lecture(
    "rnn",
    "Recurrent networks: character language models",
    expected="NumPy RNN equal to Keras SimpleRNN; on held-out Python documentation topics, recurrent "
    "networks that need clearly fewer bits per character than a trigram model, the GRU recipe close to "
    "xz; an LSTM gradient that reaches much further back than the vanilla RNN's; sampled text that gets "
    "more varied and less correct as the temperature rises",
    seconds=380,
    datasets=("python_docs", *datasets.TEXT_DATASETS),
)

# The recipe, chosen by measuring on held-out documents (see `train`)
CELL = "gru"
SEQUENCE_LENGTH = 128  # characters per training sequence (backpropagation through time this far)
BATCH_SIZE = 64
EMBEDDING_DIM = 32
HIDDEN_UNITS = 256
DROPOUT = 0.2  # share of the recurrent layer's outputs dropped in training
LEARNING_RATE = 0.005  # the peak of the schedule
TRAINING_STEPS = 900  # optimizer steps of the default training, whatever the length of the text
UNKNOWN = 0  # the id of every character not seen in training
SMOOTHING = 1e-4  # share of probability spread over all ids, so an unseen character costs ~20 bits, not ∞


# ---------------------------------------------------------------------------------------------------
# The model: characters in, the next character's distribution out


def char_network(vocab_size, *, cell=CELL, hidden_units=HIDDEN_UNITS, dropout=DROPOUT):
    """Character ids (batch, time) -> logits of the next character (batch, time, vocab_size).

    Embedding -> one recurrent layer (GRU, LSTM or vanilla SimpleRNN) -> dropout (training only)
    -> Dense. The recurrent layer also returns its final state, which sampling feeds back in;
    training uses only the sequence output.
    """
    layers = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "rnn": keras.layers.SimpleRNN}
    recurrent_layer = layers[cell]
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")
    embedded = keras.layers.Embedding(vocab_size, EMBEDDING_DIM, name="embedding")(ids)  # (b, t, 32)
    recurrent = recurrent_layer(hidden_units, return_sequences=True, return_state=True, name="recurrent")
    hidden, *_ = recurrent(embedded)  # (batch, time, hidden_units); the final state is not used here
    hidden = keras.layers.Dropout(dropout, name="dropout")(hidden)  # the identity outside training
    # (batch, time, vocab_size), in float32 whatever the precision (`--precision mixed`)
    logits = keras.layers.Dense(vocab_size, name="next_char", dtype="float32")(hidden)
    return keras.Model(ids, logits, name=f"char_{cell}")


class CharLM:
    """A character language model: the characters it knows and a Keras network (`char_network`).

    `vocabulary` holds the characters seen in training; character `vocabulary[i]` has id i + 1 and
    id 0 stands for any other character.
    """

    def __init__(self, vocabulary, model):
        self.vocabulary = "".join(vocabulary)
        self.model = model
        self._ids = {char: i + 1 for i, char in enumerate(self.vocabulary)}
        self._stepper = None

    @property
    def vocab_size(self):
        return len(self.vocabulary) + 1

    def encode(self, text):
        """Character ids of `text`, (len(text),) int32; unseen characters get id 0."""
        return np.array([self._ids.get(char, UNKNOWN) for char in text], dtype="int32")

    def decode(self, ids):
        """The text of character ids (id 0 becomes "�")."""
        return "".join(self.vocabulary[i - 1] if i else "\N{REPLACEMENT CHARACTER}" for i in ids)

    def next_char_probabilities(self, text, *, context=SEQUENCE_LENGTH):
        """p(next character | the characters before it) after each prefix text[:1], ..., text[:n-1]:
        (len(text) - 1, vocab_size). Every prediction sees at least `context` characters (or all
        before it): the text is cut into windows of 2·context, each predicting its second half.
        """
        ids = self.encode(text)
        starts = range(0, len(ids) - 1, context)  # window k predicts what follows ids[start:start + context]
        windows = np.zeros((len(starts), 2 * context), dtype="int32")
        for k, start in enumerate(starts):
            piece = ids[max(start - context, 0):start + context]
            windows[k, :len(piece)] = piece
        logits = self.model.predict(windows, batch_size=256, verbose=0)  # (windows, 2·context, vocab)
        probabilities = softmax(logits)
        rows = []
        for k, start in enumerate(starts):
            offset = start - max(start - context, 0)  # where the window's own prefixes begin
            count = min(context, len(ids) - 1 - start)
            rows.append(probabilities[k, offset:offset + count])
        return np.concatenate(rows)

    def bits_per_char(self, text):
        """Average −log₂ p(next character) over text[1:], each character predicted from those before it.

        The model's distribution is mixed with a tiny uniform one, so a character never seen in
        training costs about 20 bits instead of infinitely many.
        """
        check_text(text, minimum=2)
        probabilities = self.next_char_probabilities(text)  # (n - 1, vocab_size)
        targets = self.encode(text[1:])
        p = (1 - SMOOTHING) * probabilities[np.arange(len(targets)), targets] + SMOOTHING / self.vocab_size
        return float(np.mean(-np.log2(p)))

    def sample(self, n_chars, *, temperature=1.0, seed=0, prompt=""):
        """`n_chars` new characters drawn one at a time from p(next | everything so far)^(1/temperature).

        The prompt (may be empty) is read first; each drawn character is fed back in, carrying the
        recurrent state from step to step. Low temperatures pick likely characters, high ones explore.
        """
        if isinstance(n_chars, bool) or not isinstance(n_chars, numbers.Integral) or n_chars < 0:
            raise ValueError(f"Expected n_chars >= 0 (an integer). Received: n_chars={n_chars!r}")
        if not temperature > 0:
            raise ValueError(f"Expected temperature > 0. Received: temperature={temperature!r}")
        rng = np.random.default_rng(seed)
        stepper = self._step_model()
        states = [np.zeros((1, size), "float32") for size in self._state_sizes()]
        ids = self.encode(prompt) if prompt else np.array([rng.integers(1, self.vocab_size)], "int32")
        drawn = []
        for _ in range(n_chars):
            logits, *states = stepper.predict_on_batch([ids[np.newaxis], *states])  # (1, len(ids), vocab)
            p = softmax(logits[0, -1].astype("float64") / temperature)
            p[UNKNOWN] = 0.0
            next_id = rng.choice(self.vocab_size, p=p / p.sum())
            drawn.append(next_id)
            ids = np.array([next_id], "int32")
        return self.decode(drawn)

    def _state_sizes(self):
        size = self.model.get_layer("recurrent").cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def _step_model(self):
        """The same layers with the recurrent state as input and output: (ids, state) -> (logits, state)."""
        if self._stepper is None:
            embedding, recurrent, next_char = (self.model.get_layer(name)
                                               for name in ("embedding", "recurrent", "next_char"))
            ids = keras.Input(shape=(None,), dtype="int32")
            states = [keras.Input(shape=(size,)) for size in self._state_sizes()]
            hidden, *new_states = recurrent(embedding(ids), initial_state=states)
            self._stepper = keras.Model([ids, *states], [next_char(hidden), *new_states])
        return self._stepper


def check_text(text, *, minimum):
    """Raise a ValueError unless `text` is a string of at least `minimum` characters."""
    if not isinstance(text, str):
        raise ValueError(f"Expected text as a Python string (str). Received: {type(text).__name__}. "
                         "Decode bytes first, for example `data.decode('utf-8')`.")
    if len(text) < minimum:
        raise ValueError(f"Expected a text of at least {minimum} characters. "
                         f"Received: {len(text)} characters.")


def softmax(logits):
    """Probabilities from logits along the last axis (NumPy, shifted so that nothing overflows)."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sequences(ids, length=SEQUENCE_LENGTH):
    """Training pairs from character ids: inputs ids[i:i+length], targets ids[i+1:i+length+1], for
    non-overlapping windows: (n_windows, length) each."""
    n_windows = (len(ids) - 1) // length
    inputs = ids[:n_windows * length].reshape(n_windows, length)
    targets = ids[1:n_windows * length + 1].reshape(n_windows, length)
    return inputs, targets


def default_epochs(n_chars):
    """Epochs of about TRAINING_STEPS optimizer steps, at least 1: the training time is about the
    same for any text (18 epochs of 51 steps on the 418,814 training characters of Python's
    documentation)."""
    steps_per_epoch = max(((n_chars - 1) // SEQUENCE_LENGTH) // BATCH_SIZE, 1)
    return max(round(TRAINING_STEPS / steps_per_epoch), 1)


def train(text, *, epochs=None, seed=0, strategy=None, cell=CELL, hidden_units=HIDDEN_UNITS,
          validation_text=None, callbacks=()):
    """The lecture's recipe: a GRU character language model (`char_network`) trained on `text`.

    Windows of 128 characters, each character's successor as its target; the sparse categorical
    cross-entropy by Adam in batches of 64, gradients clipped to norm 1, 20% dropout on the GRU's
    outputs, for `default_epochs(len(text))` epochs (about 900 steps, 2.5 minutes on a 2-core CPU).
    The learning rate follows one cycle: up from 0.0002 to 0.005 over the first quarter of the
    steps, then down a cosine (to 0.0007 at the last step). `cell="lstm"` or `cell="rnn"` trains
    an LSTM or a vanilla RNN the same way. Returns a `CharLM`; `CharLM.model.history` holds the
    loss curves (nats per character).

    Chosen by measurement on held-out documentation topics: a GRU learns more than an LSTM of the
    same width in the same time (it is faster per step, and better per step); 384 or 512 units are
    about 2x slower per step than 256, and worse within the time; more steps overfit (about 1,500
    steps score worse than 900); the window length (64-200), stateful windows, the schedule and
    dropout change the result by 0.03 bits or less.
    """
    check_text(text, minimum=SEQUENCE_LENGTH + 1)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=default_epochs(len(text)))
    set_seed(seed)
    vocabulary = sorted(set(text))
    language_model = CharLM(vocabulary, None)
    x, y = sequences(language_model.encode(text))
    batch_size = global_batch_size(BATCH_SIZE, strategy)  # BATCH_SIZE per replica
    full_batches = len(x) >= batch_size  # then every batch is full: one traced shape, not two
    steps = epochs * (len(x) // batch_size if full_batches else 1)
    # one cycle: up from LEARNING_RATE / 25 over the first quarter of the steps, then down a cosine
    schedule = keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE / 25, decay_steps=steps, alpha=0.0, warmup_target=LEARNING_RATE,
        warmup_steps=max(steps // 4, 1))
    with scope(strategy):
        language_model.model = char_network(len(vocabulary) + 1, cell=cell, hidden_units=hidden_units,
                                            dropout=DROPOUT)
        language_model.model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=schedule, clipnorm=1.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    validation = None
    if validation_text is not None:
        validation = datasets.pipeline(*sequences(language_model.encode(validation_text)),
                                       batch_size=4 * BATCH_SIZE, shuffle=False)
    # cached, reshuffled every epoch (each leaves out a different remainder), prefetched: no per-epoch
    # overhead of wrapping NumPy arrays
    batches = datasets.pipeline(x, y, batch_size=batch_size, seed=seed, drop_remainder=full_batches,
                                first_epoch=completed_epochs(callbacks))
    language_model.model.fit(batches, epochs=epochs, validation_data=validation, callbacks=callbacks,
                             verbose=0)
    return language_model


# ---------------------------------------------------------------------------------------------------
# The steps, each with the functions and data it introduces just above it


def rnn_forward(x, kernel, recurrent_kernel, bias):
    """A vanilla RNN over one sequence in NumPy, from a zero state: h_t = tanh(x_t·W_xh + h_{t-1}·W_hh + b).

    x (time, features), kernel W_xh (features, units), recurrent_kernel W_hh (units, units) as Keras
    stores them -> the hidden states (time, units).
    """
    h = np.zeros(recurrent_kernel.shape[0])
    states = []
    for x_t in x:
        h = np.tanh(x_t @ kernel + h @ recurrent_kernel + bias)  # the same weights at every step
        states.append(h)
    return np.array(states)


INK, CELL_FACE = "0.3", "#EEF1F5"  # the diagrams' lines and the fill of their cells


def wire(ax, *points, color=INK, linewidth=1.4, arrow=True):
    """A diagram's connection: a line through `points` (x, y), with an arrow head on its last segment."""
    xs, ys = zip(*(points[:-1] if arrow else points))
    ax.plot(xs, ys, color=color, linewidth=linewidth, solid_capstyle="butt", zorder=1)
    if arrow:
        ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=16, color=color,
                                     linewidth=linewidth, shrinkA=0, shrinkB=0, zorder=1))


def cell_box(ax, x, y, width, height, text="", *, fontsize=12):
    """A diagram's rounded box centred on (x, y), its text in the upper half (or centred, below a symbol)."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0,rounding_size=0.12", facecolor=CELL_FACE,
                                edgecolor="0.25", linewidth=1.4, zorder=2))
    ax.text(x, y + height / 2 - 0.2, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def draw_folded_rnn(ax, x, y):
    """The recurrence as one cell with a loop: x_t in, y_t out, h_t fed back through W_hh."""
    cell_box(ax, x, y, 1.2, 1.1)
    ax.text(x, y, "$h_t$", ha="center", va="center", fontsize=14, zorder=3)
    wire(ax, (x, 0.9), (x, y - 0.55))
    wire(ax, (x, y + 0.55), (x, 3.75))
    ax.add_patch(FancyArrowPatch((x + 0.6, y + 0.25), (x + 0.6, y - 0.25), arrowstyle="-|>", color=INK,
                                 mutation_scale=16, linewidth=1.4, connectionstyle="arc3,rad=-1.8"))
    ax.text(x + 0.75, y + 0.4, "$W_{hh}$", ha="left", va="bottom", fontsize=12)
    ax.text(x, 0.7, "$x_t$", ha="center", va="center", fontsize=14)
    ax.text(x, 0.2, "one-hot: e h l o", ha="center", va="center", fontsize=11, family="monospace",
            color="0.35")
    ax.text(x, 4.0, "$y_t$", ha="center", va="center", fontsize=14)


def draw_unrolled_rnn(ax, inputs, vocabulary, hidden, probabilities):
    """The vanilla RNN unrolled over `inputs`: the folded cell, then one copy of it per character, each
    showing its hidden state (hidden: (time, units), −1 blue to +1 vermillion) and, above it, the
    likeliest next character and its probability (probabilities: (time, vocabulary))."""
    width, height, y = 1.5, 1.1, 2.4  # each cell's box, and the height of the line of hidden states
    draw_folded_rnn(ax, 1.1, y)
    ax.text(2.75, y, "=", ha="center", va="center", fontsize=24)
    ax.text(3.65, y, "$h_0 = 0$", ha="center", va="center", fontsize=13)
    previous, square = 4.2, (width - 0.2) / hidden.shape[1]  # where h_{t-1} leaves; a unit's square
    for t, (x, char) in enumerate(zip(5.6 + 2.15 * np.arange(len(inputs)), inputs)):
        cell_box(ax, x, y, width, height, "tanh")
        for k, value in enumerate(hidden[t]):
            ax.add_patch(Rectangle((x - width / 2 + 0.1 + k * square, y - 0.35), square, square, zorder=3,
                                   facecolor=plots.PROBABILITY_CMAP((value + 1) / 2), edgecolor="0.5",
                                   linewidth=0.5))
        ax.text(x - width / 2, y - height / 2 - 0.12, f"t = {t + 1}", ha="left", va="top", fontsize=11,
                color="0.35")
        wire(ax, (previous, y), (x - width / 2, y))
        ax.text((previous + x - width / 2) / 2, y + 0.12, "$W_{hh}$", ha="center", va="bottom", fontsize=12)
        wire(ax, (x, 0.95), (x, y - height / 2))
        ax.text(x + 0.08, 1.4, "$W_{xh}$", ha="left", va="center", fontsize=12)
        ax.text(x, 0.65, char, ha="center", va="center", fontsize=20, family="monospace", fontweight="bold")
        ax.text(x, 0.2, " ".join("1" if c == char else "0" for c in vocabulary), ha="center", va="center",
                fontsize=12, family="monospace", color="0.35")
        wire(ax, (x, y + height / 2), (x, 3.7))
        ax.text(x + 0.08, 3.3, "$W_{hy}$", ha="left", va="center", fontsize=12)
        likeliest = int(np.argmax(probabilities[t]))
        ax.text(x, 4.15, vocabulary[likeliest], ha="center", va="center", fontsize=20, family="monospace",
                fontweight="bold")
        ax.text(x, 4.65, f"p = {probabilities[t, likeliest]:.2f}", ha="center", va="center", fontsize=12)
        previous = x + width / 2
    wire(ax, (previous, y), (previous + 0.5, y))
    ax.set(xlim=(0.2, previous + 0.6), ylim=(0, 5))
    ax.set_aspect("equal")
    ax.axis("off")


@lecture.step('The "hello" example: a vanilla RNN')
def hello(run):
    """A language model predicts the next character from the ones before. On the word "hello" with
    the four characters h, e, l, o (one-hot vectors), reading "hell" it should output "ello". A
    feed-forward network cannot: after an "l" the next character is "l" the first time and "o" the
    second. A recurrent network keeps a hidden state, h_t = tanh(x_t·W_xh + h_{t-1}·W_hh + b), and
    predicts y_t = softmax(h_t·W_hy + b_y): the same weights at every step, the state carrying what
    came before. We write that forward pass in NumPy, check it against Keras' SimpleRNN with the same
    weights, then train the Keras model on the one example. Unrolled over the four steps, the network
    is one cell repeated: the two l's enter it as the same input, but with different hidden states.
    """
    word = "hello"
    vocabulary = sorted(set(word))  # ['e', 'h', 'l', 'o']
    one_hot = np.eye(len(vocabulary), dtype="float32")
    x = one_hot[[vocabulary.index(c) for c in word[:-1]]][np.newaxis]  # "hell": (1, 4 steps, 4)
    y = np.array([[vocabulary.index(c) for c in word[1:]]])  # "ello": (1, 4)
    model = keras.Sequential([
        keras.Input(shape=(None, len(vocabulary))),
        keras.layers.SimpleRNN(8, return_sequences=True, name="rnn"),  # (1, 4, 8)
        keras.layers.Dense(len(vocabulary), activation="softmax", name="output"),  # (1, 4, 4)
    ])
    kernel, recurrent_kernel, bias = model.get_layer("rnn").get_weights()
    output_kernel, output_bias = model.get_layer("output").get_weights()
    hidden = rnn_forward(x[0], kernel, recurrent_kernel, bias)  # (4, 8)
    numpy_probabilities = softmax(hidden @ output_kernel + output_bias)  # (4, 4)
    before = to_numpy(model(x))[0]  # (4, 4): p(next char) after each of h, e, l, l
    run.expect("largest difference, NumPy RNN vs Keras SimpleRNN", np.abs(numpy_probabilities - before).max(),
               at_most=1e-5)

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="sparse_categorical_crossentropy")
    steps = 30 if run.fast else 100
    # the one example repeated: `steps` updates in one epoch
    model.fit(np.repeat(x, steps, axis=0), np.repeat(y, steps, axis=0), batch_size=1, verbose=0)
    after = to_numpy(model(x))[0]
    predicted = "".join(vocabulary[i] for i in after.argmax(axis=1))
    run.report("predicted next characters for h, e, l, l", predicted)
    run.report("after the first l: p(l), p(o)", f"{after[2, 2]:.3f}, {after[2, 3]:.3f}")
    run.report("after the second l: p(l), p(o)", f"{after[3, 2]:.3f}, {after[3, 3]:.3f}")
    run.expect('correct next characters out of 4 ("ello")', sum(a == b for a, b in zip(predicted, "ello")),
               at_least=4)
    hidden = rnn_forward(x[0], *model.get_layer("rnn").get_weights())  # (4, 8): the trained states
    run.report("hidden states at the first and second l: largest difference",
               np.abs(hidden[2] - hidden[3]).max())

    fig, ax = plt.subplots(figsize=(plots.FULL_WIDTH, 4.6), layout="constrained")
    draw_unrolled_rnn(ax, word[:-1], vocabulary, hidden, after)
    ax.set_title("One cell, the same weights at every step")
    run.figure(fig, "hello_unrolled", 'The trained RNN unrolled over "hell": the same cell at every step, '
               "its hidden state (8 units, blue −1 to vermillion +1) passed right; above each step its "
               "likeliest next character. The two l's get different states, so l follows the first and o the "
               "second.")

    fig, axes = plt.subplots(1, 2, figsize=(plots.FULL_WIDTH, 4.2), layout="constrained")
    for ax, probabilities, title in zip(axes, (before, after), ("untrained", f"after {steps} updates")):
        ax.imshow(probabilities.T, cmap="Blues", vmin=0, vmax=1, aspect="auto")  # cells as wide as the slide
        for t in range(4):
            for c in range(4):
                target = c == y[0, t]
                ax.text(t, c, f"{probabilities[t, c]:.2f}", ha="center", va="center", fontsize=12,
                        color="white" if probabilities[t, c] > 0.6 else "black",
                        fontweight="bold" if target else "normal")
        ax.set(title=f"{title}: p(next character)", xticks=range(4), xticklabels=list("hell"),
               yticks=range(4), yticklabels=vocabulary, xlabel="input character (time →)",
               ylabel="next character")
        ax.grid(False)
        for label in ax.get_xticklabels() + ax.get_yticklabels():
            label.set_family("monospace")  # l, not I
    run.figure(fig, "hello", 'A vanilla RNN reading "hell": untrained, its predictions are spread out; '
               'trained, it outputs "ello" (bold: the right answers): l after the first l, o after the '
               'second.')


def split_documents(documents, *, held_out=0.05):
    """(train, validation, test) texts from whole documents, a dict {name: text}: test and validation
    each get about `held_out` of the characters (at most that), training the rest, and no document
    is cut.

    Documents that share a line of 40 or more characters stay together (Python's topic "for" is a
    section of the topic "compound": holding out one while training on the other would test on
    text seen in training). The groups go to test, then validation, in the order of the SHA-256 of
    their first name, while they fit; each part is its documents joined by blank lines.
    """
    names = list(documents)
    group_of = {name: name for name in names}  # union-find: each name points towards its group's root

    def root(name):
        while group_of[name] != name:
            name = group_of[name]
        return name

    first_seen = {}
    for name in names:
        for line in documents[name].split("\n"):
            line = line.strip()
            if len(line) >= 40:
                if line in first_seen:
                    group_of[root(name)] = root(first_seen[line])
                else:
                    first_seen[line] = name
    groups = collections.defaultdict(list)
    for name in names:
        groups[root(name)].append(name)
    remaining = sorted(groups.values(), key=lambda group: hashlib.sha256(group[0].encode()).hexdigest())
    budget = held_out * sum(len(text) for text in documents.values())
    parts = []
    for _ in ("test", "validation"):
        chosen, size = [], 0
        for group in list(remaining):
            length = sum(len(documents[name]) for name in group)
            if size + length <= budget:
                chosen += group
                size += length
                remaining.remove(group)
        parts.append(chosen)
    parts.append([name for group in remaining for name in group])
    test_text, validation_text, train_text = ("\n\n".join(documents[name] for name in sorted(part))
                                              for part in parts)
    return train_text, validation_text, test_text


def corpus(run):
    """(train, validation, test) text of the run's corpus: Python's documentation topics split by
    whole documents, about 90/5/5 by characters (`split_documents`), or Tiny Shakespeare's own
    splits; shorter in fast mode."""
    if run.dataset in (None, "python_docs"):
        parts = split_documents(data.python_docs(documents=True))
    else:
        parts = tuple(datasets.load_text(run.dataset, split) for split in ("train", "validation", "test"))
    if run.fast:
        parts = parts[0][:12_000], parts[1][:2_000], parts[2][:2_000]
    return parts


@functools.lru_cache(maxsize=16)  # step 3 compares with the models step 2 counted
def ngram_bits_per_char(train_text, test_text, order):
    """Bits per character of an interpolated n-gram model (Witten–Bell smoothing) on `test_text`.

    p(c | h) mixes the counts after the last order − 1 characters h with the model of one order
    lower, trusting the counts more when h was seen often and followed by few different characters.
    The lowest order is uniform over the training characters plus one unknown symbol.
    """
    counts = [collections.Counter() for _ in range(order)]  # counts[k][history + char], len(history) = k
    for k in range(order):
        counts[k].update(train_text[i - k:i + 1] for i in range(k, len(train_text)))
    seen = [collections.Counter() for _ in range(order)]  # how often each history was seen
    kinds = [collections.Counter() for _ in range(order)]  # how many different characters followed it
    for k in range(order):
        for gram, count in counts[k].items():
            seen[k][gram[:-1]] += count
            kinds[k][gram[:-1]] += 1
    total_bits = 0.0
    uniform = 1 / (len(set(train_text)) + 1)
    for i in range(len(test_text)):
        p = uniform
        for k in range(min(order, i + 1)):
            history = test_text[i - k:i]
            if not seen[k][history]:
                break
            count, total, kinds_seen = counts[k][history + test_text[i]], seen[k][history], kinds[k][history]
            p = (count + kinds_seen * p) / (total + kinds_seen)
        total_bits -= math.log2(p)
    return total_bits / len(test_text)


@lecture.step("Counting characters: n-gram models")
def ngram_models(run):
    """Before any network: how well can counting predict the next character? An n-gram model
    estimates p(next | the last n − 1 characters) from how often each continuation followed those
    characters in the training text, falling back on shorter contexts when the long one was rarely
    seen (Witten–Bell smoothing). Longer contexts predict better, until the counts run out: most
    long contexts are rare, and the table grows with every new one. A recurrent network
    instead reads an unbounded context with a fixed number of weights. We measure the bits per
    character on held-out text: log₂ of the vocabulary size for a uniform guess, 0 for perfection.
    """
    train_text, _, test_text = corpus(run)
    vocabulary = sorted(set(train_text))
    run.report("characters: training / test", f"{len(train_text):,} / {len(test_text):,}")
    run.report("different characters in training", len(vocabulary))
    run.report("an excerpt", repr(train_text[5000:5160]))
    orders = range(1, 4) if run.fast else range(1, 7)
    bits = {order: ngram_bits_per_char(train_text, test_text, order) for order in orders}
    for order, value in bits.items():
        run.report(f"{order}-gram (context of {order - 1} characters): bits per character", value)
    for length in (2, 5):
        contexts = {train_text[i:i + length] for i in range(len(train_text) - length)}
        run.report(f"different {length}-character contexts in training (table rows)", len(contexts))
    uniform = math.log2(len(vocabulary) + 1)
    run.report("uniform guess: bits per character", uniform)
    run.expect("bits per character saved by 2 characters of context (unigram - trigram)",
               bits[1] - bits[3], at_least=1.5)

    fig, ax = plt.subplots(figsize=(plots.HALF_WIDTH, 4.5), layout="constrained")
    ax.plot([order - 1 for order in bits], list(bits.values()), "o-", color=COLORS[0],
            label="n-gram on test text")
    ax.axhline(uniform, color="gray", linestyle=":", label=f"uniform over {len(vocabulary) + 1} symbols")
    ax.set(title="Counting: more context helps, until the counts run out",
           xlabel="context length (n − 1 characters)",
           ylabel="bits per character", ylim=(0, uniform + 0.5))
    ax.legend()
    run.figure(fig, "ngram_bits_per_char", "Bits per character of n-gram models on held-out text: each "
               "character of context helps, until contexts are too rare to count.")


NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}


def trained_models(run):
    """The vanilla RNN, the LSTM and the GRU of step 3, each trained by the recipe (`train`) on the
    run's corpus once per run and shared by its later steps: {cell: CharLM}."""
    def make():
        train_text, validation_text, _ = corpus(run)
        epochs = 1 if run.fast else None
        hidden_units = 32 if run.fast else HIDDEN_UNITS
        if run.fast:  # the smoke run skips the validation pass (one traced function fewer per model)
            validation_text = None
        return {cell: train(train_text, epochs=epochs, seed=run.seed, strategy=run.strategy, cell=cell,
                            hidden_units=hidden_units, validation_text=validation_text,
                            callbacks=run.callbacks(f"char_{cell}"))
                for cell in NAMES}

    return run.once("character models", make)


def network_test_bits(run):
    """Bits per character of each network of step 3 on the run's test text, {cell: bits}: measured
    once per run, for steps 3 and 4 both report them."""
    def measure():
        _, _, test_text = corpus(run)
        return {cell: language_model.bits_per_char(test_text)
                for cell, language_model in trained_models(run).items()}
    return run.once("network_test_bits", measure)


@lecture.step("Training a vanilla RNN, an LSTM and a GRU")
def vanilla_rnn_lstm_and_gru(run):
    """A character language model is trained like a classifier: every position of a 128-character
    window is an example whose label is the next character, and the loss is the cross-entropy of
    those predictions (in nats; divided by ln 2 it is bits per character). Backpropagation runs
    through the 128 steps of each window (truncated backpropagation through time). We train the
    same network (256 units) three times, with a vanilla RNN layer, an LSTM and a GRU (the LSTM's
    lighter cousin: two gates and no separate cell), by the same recipe: about 900 steps, a
    learning rate that rises then falls in one cycle, 20% dropout. The test text is whole
    documents the networks never saw. All three beat the trigram by 0.6 bits per character or more;
    the GRU does best (about 1.95 bits per character), the LSTM a few hundredths behind, and the
    vanilla RNN another 0.15 or so, behind even the 5-gram (2.11). The curves say why training
    stops here: the GRU's validation loss has flattened while its training loss keeps falling,
    0.5 bits below: on 420,000 characters, more epochs memorise more than they generalise (when the
    recipe was chosen, 1,500 steps scored about 0.06 bits worse on held-out documents than 900).
    """
    train_text, _, test_text = corpus(run)
    language_models = trained_models(run)
    bits = network_test_bits(run)
    ngrams = {order: ngram_bits_per_char(train_text, test_text, order) for order in (3, 5)}

    fig, ax = plt.subplots(figsize=(plots.FULL_WIDTH, 4.5), layout="constrained")
    for color, (cell, language_model) in zip(COLORS, language_models.items()):
        history = language_model.model.history.history
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, np.array(history["loss"]) / math.log(2), "-", color=color,
                label=f"{NAMES[cell]}: training")
        if "val_loss" in history:
            ax.plot(epochs, np.array(history["val_loss"]) / math.log(2), "--", color=color,
                    label=f"{NAMES[cell]}: validation")
    for style, (order, value) in zip((":", "-."), ngrams.items()):
        ax.axhline(value, color="gray", linestyle=style, label=f"{order}-gram on test text")
    ax.set(title=f"{len(train_text):,} characters of training text", xlabel="epoch",
           ylabel="bits per character")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))  # beside the axes: the curves stay visible
    for cell, value in bits.items():
        run.report(f"{NAMES[cell]}: test bits per character", value)
    for order, value in ngrams.items():
        run.report(f"{order}-gram: test bits per character", value)
    run.report("bits per character, vanilla RNN - LSTM", bits["rnn"] - bits["lstm"])
    run.report("bits per character, LSTM - GRU", bits["lstm"] - bits["gru"])
    run.report("bits per character, 5-gram - GRU", ngrams[5] - bits["gru"])
    run.expect("bits per character, trigram - vanilla RNN", ngrams[3] - bits["rnn"], at_least=0.2)
    run.expect("bits per character, trigram - LSTM", ngrams[3] - bits["lstm"], at_least=0.2)
    run.figure(fig, "rnn_lstm_gru", "Learning curves of the vanilla RNN, the LSTM and the GRU in bits per "
               "character (validation: held-out documents), with n-gram models for comparison.")


COMPRESSORS = {  # each at its strongest preset
    "gzip": lambda raw: gzip.compress(raw, compresslevel=9),
    "bzip2": lambda raw: bz2.compress(raw, compresslevel=9),
    "xz": lambda raw: lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME),
}


def compressed_bits_per_char(train_text, test_text, compressor):
    """Bits per character a compressor spends on `test_text` after it has read `train_text`:
    8 · (len(compress(train + test)) − len(compress(train))) / len(test), in UTF-8 bytes.

    `compressor` is a name in COMPRESSORS or a function bytes -> bytes. Given the training text
    first, the compressor may refer back to it, as a language model uses what it learned from it.
    """
    compress = COMPRESSORS[compressor] if isinstance(compressor, str) else compressor
    check_text(test_text, minimum=1)
    train_bytes, test_bytes = train_text.encode("utf-8"), test_text.encode("utf-8")
    extra = len(compress(train_bytes + test_bytes)) - len(compress(train_bytes))
    return 8 * extra / len(test_text)


@lecture.step("Language models are compressors")
def compressors(run):
    """A model that gives the next character probability p can store it in about −log₂ p bits
    (arithmetic coding turns the predictions into a file of that size, and the same model decodes
    it), so bits per character is a compressed size, and general-purpose compressors are a
    baseline. gzip finds repeats within the last 32 KB, bzip2 sorts blocks of up to 900 KB
    (Burrows–Wheeler), xz finds repeats anywhere in 64 MB and codes them with adaptive
    probabilities. Each reads the training text first, so that, like the models, it can use it:
    its cost on the test documents is 8 · (size(train + test) − size(train)) / characters.
    gzip (2.43 bits per character) does worse than the 4-gram; bzip2 (1.81) and xz (1.89) beat every
    n-gram and every network we trained: both make a long string seen in training (a name, a
    signature, a recurring phrase) cheap as a whole, where a network predicts it one character at a
    time.
    The GRU comes within a tenth of a bit of xz and about 0.15 of bzip2: close, not ahead, after a
    few minutes of training.
    """
    train_text, _, test_text = corpus(run)
    networks = network_test_bits(run)
    orders = range(1, 4) if run.fast else range(1, 7)
    bits = {f"{order}-gram": ngram_bits_per_char(train_text, test_text, order) for order in orders}
    bits.update({name: compressed_bits_per_char(train_text, test_text, name) for name in COMPRESSORS})
    bits.update({NAMES[cell]: value for cell, value in networks.items()})
    run.report("test documents (characters)", f"{len(test_text):,}")
    for name, value in bits.items():
        run.report(f"{name}: bits per character", value)
    recipe = NAMES[CELL]
    run.expect(f"{recipe} (the recipe): bits per character on held-out documents", bits[recipe], at_most=2.2)
    run.report(f"bits per character, xz - {recipe}", bits["xz"] - bits[recipe])

    fig, ax = plt.subplots(figsize=(plots.HALF_WIDTH, 5), layout="constrained")
    families = {name: 0 for name in bits if name.endswith("-gram")}
    families.update({name: 1 for name in COMPRESSORS})
    families.update({NAMES[cell]: 2 for cell in networks})
    names = list(bits)[::-1]  # the first at the top
    ax.barh(range(len(names)), [bits[name] for name in names],
            color=[COLORS[families[name]] for name in names])
    for k, name in enumerate(names):
        ax.text(bits[name] + 0.03, k, f"{bits[name]:.2f}", va="center", fontsize=11)
    ax.set(yticks=range(len(names)), yticklabels=names, xlabel="bits per character on the test documents",
           title="Counting, compressing, predicting", xlim=(0, max(bits.values()) * 1.12))
    ax.grid(axis="y", visible=False)
    run.figure(fig, "compressors", "Bits per character on the same held-out documents: n-gram models "
               "(blue), compressors given the training text first (orange), and the recurrent networks "
               "(green).")


def distinct_share(text, n=4):
    """The share of the n-character pieces of `text` that are different: low when it repeats itself."""
    pieces = [text[i:i + n] for i in range(len(text) - n + 1)]
    return len(set(pieces)) / max(len(pieces), 1)


def word_spans(text):
    """(start, end) of each word of `text`: each run of letters."""
    spans, start = [], None
    for i, char in enumerate(text + " "):
        if char.isalpha() and start is None:
            start = i
        elif not char.isalpha() and start is not None:
            spans.append((start, i))
            start = None
    return spans


def real_word_share(text, words):
    """The share of the words (runs of letters) in `text` that appear in the set `words`."""
    found = [text[start:end] for start, end in word_spans(text)]
    return sum(w in words for w in found) / max(len(found), 1)


SAMPLE_INKS = {"text": "black", "prompt": "0.55", "non-word": COLORS[3], "new line": "0.55"}


def character_inks(prompt, sample, words):
    """What each character of prompt + sample is, a key of SAMPLE_INKS: the prompt, a letter of a word
    not in the set `words` (a non-word), a new line or tab, or other text."""
    inks = ["prompt"] * len(prompt) + ["text"] * len(sample)
    for start, end in word_spans(sample):
        if sample[start:end] not in words:
            inks[len(prompt) + start:len(prompt) + end] = ["non-word"] * (end - start)
    return [("new line" if char in "\n\t" else ink) for char, ink in zip(prompt + sample, inks)]


def wrapped_lines(text, width):
    """(start, end) of the lines of `text` wrapped at spaces, at most `width` characters each."""
    lines, start = [], 0
    while len(text) - start > width:
        space = text.rfind(" ", start, start + width)
        end = space + 1 if space > start else start + width  # a word longer than a line is cut
        lines.append((start, end))
        start = end
    return lines + [(start, len(text))] if start < len(text) else lines


def draw_samples(ax, prompt, samples, words, *, width=100):
    """Samples {temperature: text} one block of monospace lines each, the prompt in grey, non-words
    (not in `words`) in vermillion, new lines as ↵. Every ink is a line of its own, blank elsewhere,
    so that the monospace characters of all inks stay aligned."""
    y = 0
    for temperature, sample in samples.items():
        inks = character_inks(prompt, sample, words)
        shown = (prompt + sample).replace("\n", "↵").replace("\t", "→")  # one character for one
        ax.text(-1, y, f"T = {temperature}", ha="right", va="top", fontsize=12, fontweight="bold")
        for start, end in wrapped_lines(shown, width):
            for ink, color in SAMPLE_INKS.items():
                layer = "".join(c if inks[i] == ink else " " for i, c in enumerate(shown[start:end], start))
                if layer.strip():
                    ax.text(0, y, layer, ha="left", va="top", family="monospace", fontsize=11, color=color,
                            parse_math=False)
            y -= 1
        y -= 0.6  # a gap between temperatures
    ax.set(xlim=(-12, width), ylim=(y + 0.3, 0.3))
    ax.axis("off")


@lecture.step("Sampling with temperature")
def sampling(run):
    """A language model generates text one character at a time: compute p(next | text so far), draw a
    character from it, append it, repeat. Dividing the logits by a temperature T before the softmax
    reshapes the distribution: T < 1 sharpens it towards the likeliest characters (safe, repetitive
    text), T > 1 flattens it (varied text with more mistakes), T → 0 always takes the likeliest.
    We sample from the GRU at several temperatures and measure two things: how often its words are
    real words of the training text, and how varied the text is (the share of distinct 4-character
    pieces).
    """
    train_text, _, _ = corpus(run)
    language_model = trained_models(run)[CELL]
    words = set("".join(c if c.isalpha() else " " for c in train_text).split())
    temperatures = (0.2, 0.5, 1.0, 1.5)
    n_chars = 30 if run.fast else 400
    prompt = "The "
    samples = {t: language_model.sample(n_chars, temperature=t, seed=run.seed, prompt=prompt)
               for t in temperatures}
    real, varied = {}, {}
    for t, text in samples.items():
        real[t], varied[t] = real_word_share(text, words), distinct_share(text)
        run.report(f"T = {t}", repr(prompt + text[:160]))
        run.report(f"T = {t}: real words, distinct 4-character pieces", f"{real[t]:.2f}, {varied[t]:.2f}")
    run.expect("distinct 4-character pieces, T = 1.5 minus T = 0.2", varied[1.5] - varied[0.2], at_least=0.1)
    run.expect("real words, T = 0.5 minus T = 1.5", real[0.5] - real[1.5], at_least=0.05)

    logits = language_model.model.predict(language_model.encode(prompt)[np.newaxis], verbose=0)[0, -1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(plots.FULL_WIDTH, 4.5), layout="constrained")
    top = np.argsort(logits)[::-1][:12]
    width = 0.8 / 3
    for k, (color, t) in enumerate(zip(COLORS, (0.5, 1.0, 2.0))):
        p = softmax(logits / t)
        left.bar(np.arange(len(top)) + (k - 1) * width, p[top], width, color=color, label=f"T = {t}")
    left.set(title=f"p(next character) after {prompt!r}", xticks=range(len(top)),
             xticklabels=[repr(c)[1:-1] for c in language_model.decode(top)], ylabel="probability")
    left.legend()
    right.plot(temperatures, [real[t] for t in temperatures], "o-", color=COLORS[0], label="real words")
    right.plot(temperatures, [varied[t] for t in temperatures], "s-", color=COLORS[1],
               label="distinct 4-character pieces")
    right.set(title=f"{n_chars} sampled characters", xlabel="temperature T", ylabel="share", ylim=(0, 1.05))
    right.legend()
    run.figure(fig, "temperature", "Temperature reshapes the next-character distribution: low T is "
               "safe and repetitive, high T varied and misspelt.")

    fig, ax = plt.subplots(figsize=(plots.FULL_WIDTH, 5.2), layout="constrained")
    draw_samples(ax, prompt, samples, words)
    ax.set_title(f"{n_chars} characters sampled from the {NAMES[CELL]} after {prompt!r}, the same seed at "
                 "every temperature\ngrey: the prompt;  vermillion: words that never occur in the training "
                 "text;  ↵: a new line", loc="left")
    run.figure(fig, "temperature_samples", "The same seed at four temperatures: at T = 0.2 the text repeats "
               "a few common phrases; the higher the temperature, the more of its words are non-words "
               "(vermillion).")


STATE_COLOR = COLORS[3]  # the LSTM's cell state line, in vermillion


def draw_lstm_gates(ax, bus_y, gate_y):
    """The LSTM's four layers above the line that carries [h_{t-1}, x_t]: three sigmoid gates and the
    tanh candidate, each a box fed from that line. Returns {name: x} of the boxes."""
    wire(ax, (0.15, bus_y), (6.1, bus_y), arrow=False)
    ax.text(0.1, bus_y - 0.15, "$h_{t-1}$", ha="left", va="top", fontsize=14)
    wire(ax, (1.2, -0.15), (1.2, bus_y), arrow=False)
    ax.plot([1.2], [bus_y], "o", color=INK, markersize=5)
    ax.text(1.32, -0.15, "$x_t$", ha="left", va="bottom", fontsize=14)
    gates = {"f": (1.9, r"$\sigma$", "forget $f_t$"), "i": (3.3, r"$\sigma$", "input $i_t$"),
             "g": (4.7, "tanh", "candidate $g_t$"), "o": (6.1, r"$\sigma$", "output $o_t$")}
    for x, symbol, name in gates.values():
        wire(ax, (x, bus_y), (x, gate_y - 0.4))
        cell_box(ax, x, gate_y, 1.25, 0.8, symbol, fontsize=14)
        ax.text(x, gate_y - 0.2, name, ha="center", va="center", fontsize=11, zorder=3)
    return {name: x for name, (x, *_) in gates.items()}


def draw_lstm_cell(ax):
    """An LSTM cell: the gates read [h_{t-1}, x_t]; the cell state c runs along the top, multiplied by
    the forget gate and added to (input gate × candidate); h_t is the output gate × tanh(c_t)."""
    radius, state_y, bus_y, gate_y, mix_y, tanh_y = 0.22, 4.0, 0.9, 2.0, 3.0, 3.15
    forget_x, add_x, out_x = 1.9, 4.0, 7.2

    def node(x, y, symbol, color=INK):  # a pointwise operation: a circle with its symbol
        ax.add_patch(Circle((x, y), radius, facecolor="white", edgecolor=color, linewidth=1.5, zorder=2))
        ax.text(x, y, symbol, ha="center", va="center", fontsize=15, zorder=3)

    ax.add_patch(FancyBboxPatch((0.7, 0.45), 7.1, 4.1, boxstyle="round,pad=0,rounding_size=0.25",
                                facecolor="white", edgecolor="0.6", linewidth=1.2, zorder=0))
    gates = draw_lstm_gates(ax, bus_y, gate_y)
    for start, end in ((0.15, forget_x - radius), (forget_x + radius, add_x - radius),
                       (add_x + radius, 8.55)):  # the cell state line, between its nodes
        wire(ax, (start, state_y), (end, state_y), color=STATE_COLOR, linewidth=3)
    ax.text(0.1, state_y + 0.2, "$c_{t-1}$", ha="left", va="bottom", fontsize=14, color=STATE_COLOR)
    ax.text(8.6, state_y + 0.2, "$c_t$", ha="right", va="bottom", fontsize=14, color=STATE_COLOR)
    ax.text(4.25, 4.75, "the cell state: multiplied by the forget gate, added to, never squashed",
            ha="center", va="bottom", fontsize=12)
    node(forget_x, state_y, "×", STATE_COLOR)
    node(add_x, state_y, "+", STATE_COLOR)
    node(add_x, mix_y, "×")
    node(out_x, gate_y, "×")
    wire(ax, (forget_x, gate_y + 0.4), (forget_x, state_y - radius))
    wire(ax, (gates["i"], gate_y + 0.4), (gates["i"], mix_y), (add_x - radius, mix_y))
    wire(ax, (gates["g"], gate_y + 0.4), (gates["g"], mix_y), (add_x + radius, mix_y))
    wire(ax, (add_x, mix_y + radius), (add_x, state_y - radius))
    ax.add_patch(FancyBboxPatch((out_x - 0.4, tanh_y - 0.22), 0.8, 0.44, facecolor="white", edgecolor="0.25",
                                boxstyle="round,pad=0,rounding_size=0.2", linewidth=1.3, zorder=2))
    ax.text(out_x, tanh_y, "tanh", ha="center", va="center", fontsize=12, zorder=3)
    ax.plot([out_x], [state_y], "o", color=STATE_COLOR, markersize=5)
    wire(ax, (out_x, state_y), (out_x, tanh_y + 0.22))
    wire(ax, (out_x, tanh_y - 0.22), (out_x, gate_y + radius))
    wire(ax, (gates["o"] + 0.625, gate_y), (out_x - radius, gate_y))
    wire(ax, (out_x, gate_y - radius), (out_x, bus_y), (8.55, bus_y))
    ax.text(8.6, bus_y - 0.15, "$h_t$", ha="right", va="top", fontsize=14)


def draw_lstm_equations(ax, x):
    """The LSTM's equations from `x` rightwards (W: Keras' kernel, U: its recurrent kernel, cut in four)."""
    equations = (r"$f_t = \sigma(x_t W_f + h_{t-1} U_f + b_f)$",
                 r"$i_t = \sigma(x_t W_i + h_{t-1} U_i + b_i)$",
                 r"$g_t = \tanh(x_t W_g + h_{t-1} U_g + b_g)$",
                 r"$o_t = \sigma(x_t W_o + h_{t-1} U_o + b_o)$",
                 r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
                 r"$h_t = o_t \odot \tanh(c_t)$")
    for k, equation in enumerate(equations):  # the gates, then the two states
        ax.text(x, 4.1 - 0.62 * k - 0.3 * (k >= 4), equation, ha="left", va="center", fontsize=14,
                color=STATE_COLOR if k == 4 else "black")
    ax.text(x, 0.0, r"$\sigma$: sigmoid, from 0 to 1;  $\odot$: element-wise product", ha="left",
            va="center", fontsize=11, color="0.35")


def gradient_through_time(language_model, windows):
    """‖∂ loss of the last prediction / ∂ input at step t‖ for every step t of each window of text,
    the input being the character's embedding: (n_windows, length - 1), oldest step first. It says
    how much the last prediction can learn from each earlier input."""
    embedding, recurrent, next_char = (language_model.model.get_layer(name)
                                       for name in ("embedding", "recurrent", "next_char"))
    ids = np.stack([language_model.encode(window) for window in windows])  # (n_windows, length)
    embedded = to_numpy(embedding(ids[:, :-1]))  # (n_windows, length - 1, 32)

    def loss(embedded):  # the last predictions' loss as a function of the embedded inputs
        hidden, *_ = recurrent(embedded)  # (n_windows, length - 1, units)
        logits = next_char(hidden[:, -1])  # (n_windows, vocab): each window's last prediction
        # summed over windows: each window's loss depends on its own inputs only
        losses = keras.losses.sparse_categorical_crossentropy(ids[:, -1], logits, from_logits=True)
        return keras.ops.sum(losses)

    (gradient,) = autodiff.gradients(loss, embedded)  # autodiff with respect to an intermediate tensor
    return np.linalg.norm(gradient, axis=2)


@lecture.step("Why LSTM: how far back the gradient reaches")
def gradient_reach(run):
    """Backpropagation through time multiplies one Jacobian per step. In a vanilla RNN each carries
    W_hh and tanh's derivative, and their product shrinks geometrically with the distance: what the
    network could learn from inputs far back gets a vanishing share of the gradient. The LSTM's cell
    state is updated additively, c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t: where the forget gate f_t stays near
    1, the gradient flows back through c almost unchanged. Each gate is a sigmoid layer of x_t and
    h_{t-1}, between 0 and 1: the forget gate f_t scales the old cell state, the input gate i_t the
    candidate g_t (a tanh layer), and the output gate o_t what the cell shows, h_t = o_t ⊙ tanh(c_t).
    We measure, for the trained models of
    step 3, the gradient of the last prediction's loss with respect to each of the previous 100
    inputs (16 windows of test text, averaged). Near the prediction both fall, as the nearest
    characters matter most; further back the vanilla RNN's keeps falling geometrically (less than a
    millionth of its first value 100 steps back), the LSTM's much less.
    """
    fig, ax = plt.subplots(figsize=(plots.FULL_WIDTH, 4.8), layout="constrained")
    draw_lstm_cell(ax)
    draw_lstm_equations(ax, 9.2)
    ax.set(xlim=(0, 14), ylim=(-0.35, 5.1))
    ax.set_aspect("equal")
    ax.axis("off")
    run.figure(fig, "lstm_cell", "An LSTM cell: three sigmoid gates and a tanh candidate read the input and "
               "the previous output; the cell state (vermillion) is multiplied by the forget gate and added "
               "to, with no squashing function on its way from step to step.")

    _, _, test_text = corpus(run)
    language_models = trained_models(run)
    length = 101  # 100 inputs, then the character to predict
    starts = np.linspace(0, len(test_text) - length, 16).astype(int)
    windows = [test_text[start:start + length] for start in starts]
    norms = {cell: gradient_through_time(language_models[cell], windows).mean(axis=0)  # (100,), oldest first
             for cell in ("rnn", "lstm")}

    fig, ax = plt.subplots(figsize=(plots.HALF_WIDTH, 4.5), layout="constrained")
    distance = np.arange(length - 1, 0, -1)  # steps back from the prediction
    for color, (cell, norm) in zip(COLORS, norms.items()):
        ax.semilogy(distance, norm, color=color, label=NAMES[cell])
    ax.set(title="gradient of the last prediction's loss", xlabel="steps back from the prediction",
           ylabel="‖∂loss/∂input‖ (mean over windows)")
    ax.legend()
    for steps_back in (1, 10, 30, 60, 100):
        run.report(f"gradient {steps_back} steps back: {', '.join(NAMES[cell] for cell in norms)}",
                   ", ".join(f"{norm[-steps_back]:.2e}" for norm in norms.values()))
    run.expect("gradient 60 steps back, LSTM / vanilla RNN (log10)",
               np.log10(norms["lstm"][-60] / max(norms["rnn"][-60], 1e-30)), at_least=1)
    run.figure(fig, "gradient_through_time", "How strongly the last prediction's loss depends on each "
               "earlier input (log scale): the vanilla RNN's gradient keeps falling by about the same factor "
               "per step, the LSTM's falls less and less, and far back it is much larger.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "rnn", *sys.argv[1:]]))
