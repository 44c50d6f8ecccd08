"""Downloadable data sets through tensorflow-datasets: MNIST, Fashion-MNIST, CIFAR-10, Shakespeare.

Nothing here downloads on its own. `fetch(name)` (the command `companion data fetch NAME`) fills the
tensorflow-datasets cache on a connected machine ahead of class; `load_images` and `load_text` only
read that cache, and without it they fail at once with a `UserError` naming the command to run,
rather than retrying an unreachable server for minutes. The offline defaults need none of this:
`companion.data.digits()` for images and the lectures' bundled text corpus.

`pipeline` turns in-memory arrays into the `tf.data` input a training loop wants.

Importing this module is cheap: tensorflow-datasets (and with it TensorFlow) is imported by the
functions that need it.
"""

import contextlib
import os
import socket
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from companion.errors import UserError

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "TEXT_DATASETS",
    "cache_report",
    "data_dir",
    "fetch",
    "image_split",
    "is_cached",
    "load_images",
    "load_text",
    "pipeline",
    "require",
]

DATASETS = {
    "mnist": "70,000 28x28 grey handwritten digits (60k train / 10k test), 10 classes; 11 MB",
    "fashion_mnist": "70,000 28x28 grey clothing photos (60k train / 10k test), 10 classes; 30 MB",
    "cifar10": "60,000 32x32 colour photos (50k train / 10k test), 10 classes; 163 MB",
    "tiny_shakespeare": "1.1 million characters of Shakespeare (train / validation / test); 1 MB",
}
IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
TEXT_DATASETS = ("tiny_shakespeare",)

# Where each builder downloads its files from: fetch() checks that this host answers before it
# hands over to tensorflow-datasets, whose downloader retries an unreachable host for minutes.
_DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
    "cifar10": ("www.cs.toronto.edu", 443),
    "tiny_shakespeare": ("raw.githubusercontent.com", 443),
}
_OFFLINE_DEFAULTS = {
    "image": "the default image set, `digits` (scikit-learn's bundled 8x8 digits), works offline",
    "text": "the default text corpus is bundled and works offline",
}
_COPY_HINT = (
    "then use that machine, or copy its cache directory (~/tensorflow_datasets unless "
    "TFDS_DATA_DIR is set there) to {cache} on this one, or set TFDS_DATA_DIR to the copy"
)
_CONNECT_TIMEOUT_S = 5.0
_BATCH_SIZE = 10_000


def _tfds_data_dir():
    """The cache directory as tensorflow-datasets spells it (a string, so `gs://...` survives)."""
    return os.path.expanduser(
        os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")
    )


def data_dir():
    """The tensorflow-datasets cache: `$TFDS_DATA_DIR` if set, else `~/tensorflow_datasets`."""
    return Path(_tfds_data_dir())


def _check_name(name, valid, kind="data"):
    """`name` normalised ("Fashion-MNIST" -> "fashion_mnist"), or a UserError listing the names."""
    normalised = str(name).strip().lower().replace("-", "_")
    if normalised in valid:
        return normalised
    hint = ""
    if normalised == "digits":
        hint = " 'digits' is bundled with scikit-learn, nothing to fetch: companion.data.digits()."
    elif normalised in TEXT_DATASETS:
        hint = f" '{normalised}' is a text data set: use load_text()."
    elif normalised in IMAGE_DATASETS:
        hint = f" '{normalised}' is an image data set: use load_images()."
    raise UserError(
        f"Unknown {kind} set {name!r}. Expected one of: {', '.join(valid)}.{hint} "
        f"`companion data list` shows every data set and whether it is cached."
    )


@contextlib.contextmanager
def _quiet_tfds():
    """Hide tensorflow-datasets' absl warnings ("Variant folder ... has no dataset_info.json")."""
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        yield
    finally:
        absl_logging.set_verbosity(verbosity)


def _surely_missing(name):
    """True when the cache holds no prepared version of `name` at all (no `dataset_info.json` under
    its folder): decided from the file system in milliseconds, without importing TensorFlow.

    Once tensorflow-datasets is imported, asking it costs little, and it alone knows about sets it
    serves from elsewhere (a bucket, or `tfds.testing.mock_data` in tests): then this says False.
    """
    cache = _tfds_data_dir()
    if "tensorflow_datasets" in sys.modules or "://" in cache:
        return False
    folder = Path(cache) / name
    return not any(folder.glob("*/dataset_info.json")) and not any(folder.glob("*/*/dataset_info.json"))


def is_cached(name):
    """Whether data set `name` is downloaded and prepared in the cache; never uses the network."""
    name = _check_name(name, tuple(DATASETS))
    if _surely_missing(name):
        return False
    import tensorflow_datasets as tfds

    with _quiet_tfds():
        return bool(tfds.builder(name, data_dir=_tfds_data_dir()).is_prepared())


def cache_report():
    """`[(name, description, cached), ...]` for every data set (`companion data list`, `info`)."""
    return [(name, description, is_cached(name)) for name, description in DATASETS.items()]


def _not_cached_message(name, kind):
    return (
        f"The data set '{name}' is not in the tensorflow-datasets cache at {data_dir()}, and it is "
        f"not downloaded on demand (this machine may be offline). On a machine with internet "
        f"access, run `companion data fetch {name}`, {_COPY_HINT.format(cache=data_dir())}. "
        f"Meanwhile {_OFFLINE_DEFAULTS[kind]}."
    )


def _load(name, split, kind, **load_kwargs):
    """`tfds.load` from the cache only; a missing cache or a bad split becomes a UserError."""
    import tensorflow_datasets as tfds

    try:
        with _quiet_tfds():
            return tfds.load(
                name, split=split, data_dir=_tfds_data_dir(), download=False, **load_kwargs
            )
    except Exception as error:
        if not is_cached(name):
            raise UserError(_not_cached_message(name, kind)) from error
        if isinstance(error, (ValueError, KeyError)):
            raise UserError(
                f"Could not load split {split!r} of '{name}': {error}. "
                f"Splits are named like 'train', 'test' or slices such as 'train[:10%]'."
            ) from error
        raise


def require(name, *, files_only=False):
    """Raise the fail-fast `UserError` now if data set `name` is not in the cache: a lecture asks
    before its first step, rather than after minutes of steps that need no data.

    `files_only` asks the file system alone (milliseconds, no TensorFlow): the command line does so
    before importing a lecture, which then makes the full check (reading one example) itself.
    """
    name = _check_name(name, tuple(DATASETS))
    kind = "text" if name in TEXT_DATASETS else "image"
    if _surely_missing(name):  # the common offline case, answered before TensorFlow is imported
        raise UserError(_not_cached_message(name, kind))
    if not files_only:
        _load(name, "train[:1]", kind)


def load_images(name, split="train"):
    """Images and labels of a cached image data set as NumPy arrays.

    Returns `(x, y)`: `x` float32 of shape (n, height, width, channels) scaled to [0, 1],
    `y` int64 class labels. `split` is any tensorflow-datasets split ("train", "test",
    "train[:10%]", ...). Raises `UserError` at once, naming the fetch command, if not cached.
    """
    name = _check_name(name, IMAGE_DATASETS, kind="image data")
    import tensorflow_datasets as tfds

    dataset = _load(name, split, "image", as_supervised=True)
    x_parts, y_parts = [], []
    # Batched reading keeps the copying in TensorFlow; tfds' own `batch_size=-1` asks mock_data
    # for a batch of sys.maxsize examples, which aborts the process in TF 2.21.
    for images, labels in tfds.as_numpy(dataset.batch(_BATCH_SIZE)):
        x_parts.append(images)  # (batch, height, width, channels) uint8
        y_parts.append(labels)
    if not x_parts:
        raise UserError(
            f"Split {split!r} of '{name}' holds no examples. Choose a larger split, e.g. 'train'."
        )
    x = np.concatenate(x_parts).astype(np.float32)
    x /= 255.0
    y = np.concatenate(y_parts).astype(np.int64)
    return x, y


def load_text(name="tiny_shakespeare", split="train"):
    """The text of a cached text data set as one string (Tiny Shakespeare: one example per split).

    Raises `UserError` at once, naming the fetch command, if the data set is not cached.
    """
    name = _check_name(name, TEXT_DATASETS, kind="text data")
    import tensorflow_datasets as tfds

    dataset = _load(name, split, "text")
    return "".join(example["text"].decode("utf-8") for example in tfds.as_numpy(dataset))


LECTURE_SPLITS = {"train": "train[:6000]", "test": "test[:2000]"}  # a few thousand images: CPU-sized


def image_split(dataset=None, *, seed=0, fast=False):
    """Training and test images (x_train, x_test, y_train, y_test) of a lecture's image data set:
    the 8×8 digits (`dataset` None or "digits") split 75/25 by `seed` with every class in both
    parts, or a few thousand images of a downloaded set; 300 and 200 of them when `fast`."""
    if dataset in (None, "digits"):
        from sklearn.model_selection import train_test_split

        from companion import data

        x, y = data.digits()  # (1797, 8, 8, 1)
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.25, stratify=y, random_state=seed)
    else:
        x_train, y_train = load_images(dataset, LECTURE_SPLITS["train"])
        x_test, y_test = load_images(dataset, LECTURE_SPLITS["test"])
    if fast:
        x_train, y_train, x_test, y_test = x_train[:300], y_train[:300], x_test[:200], y_test[:200]
    return x_train, x_test, y_train, y_test


def pipeline(x, y=None, *, batch_size=32, shuffle=True, seed=0, drop_remainder=False, first_epoch=0):
    """A `tf.data` pipeline over in-memory arrays, for `model.fit`: reshuffled every epoch, batched
    and prefetched, so that the next batch is ready while the model trains on this one. Batches of
    (x, y), or of x alone when y is None (a GAN's real images); `drop_remainder` leaves out the last,
    smaller batch of each epoch.

    Epoch e's order depends on `seed` and e alone: a training resumed after `first_epoch` completed
    epochs (`checkpoints.completed_epochs`) sees the orders the uninterrupted one would have seen.
    Fitting on it costs a few ms of overhead per epoch here, against about 50 ms for NumPy arrays,
    which `fit` wraps anew every epoch. (`fit`'s own `shuffle` does not apply to a Dataset: its
    warning about that is kept out of the output, so the lectures call `fit(batches, ...)` as usual.)
    In a run on several processes (`devices.multiworker`) every batch is whole: Keras splits each
    batch between the processes, and a last, smaller one would give one process a step more than the
    other, which would then wait for it forever.
    """
    import tensorflow as tf

    # each call replaces the identical filter of the call before: filters do not pile up
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored since the "
                            r"data `x` was provided as a tf\.data\.Dataset")

    from companion.devices import processes

    drop_remainder = drop_remainder or processes() > 1
    arrays = x if y is None else (x, y)
    if not shuffle:
        examples = tf.data.Dataset.from_tensor_slices(arrays)
        return examples.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    with tf.init_scope(), tf.device("/CPU:0"):  # the data's own counter, outside any strategy
        epochs_begun = tf.Variable(int(first_epoch), dtype=tf.int64, trainable=False)

    def order_of_this_epoch(_):  # each pass (an epoch of `fit`) counts itself and draws from (seed, e)
        epoch = epochs_begun.assign_add(1) - 1
        indices = tf.range(len(x), dtype=tf.int64)
        return tf.random.experimental.stateless_shuffle(indices, seed=tf.stack([tf.constant(seed, tf.int64),
                                                                                 epoch]))

    def gather(indices):  # (batch,) indices -> the batch of examples
        return tf.nest.map_structure(lambda array: tf.gather(array, indices), arrays)

    order = tf.data.Dataset.range(1).map(order_of_this_epoch).unbatch()
    return (order.batch(batch_size, drop_remainder=drop_remainder).map(gather)
            .prefetch(tf.data.AUTOTUNE))


def _can_reach(host, port, timeout=_CONNECT_TIMEOUT_S):
    """Whether a TCP connection to `host:port` opens within `timeout` s, name lookup included."""
    reached = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                reached.append(True)
        except OSError:
            pass

    # A thread bounds the DNS lookup too, which socket timeouts do not cover.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(reached)


def fetch(name):
    """Download and prepare data set `name` into the cache; returns the prepared data's directory.

    Checks first that the download server answers, so that an offline machine gets a UserError
    within seconds instead of minutes of retries. Already-cached data sets return at once.
    """
    name = _check_name(name, tuple(DATASETS))
    if is_cached(name):  # nothing to download: answer at once, offline too
        import tensorflow_datasets as tfds

        with _quiet_tfds():
            return Path(tfds.builder(name, data_dir=_tfds_data_dir()).data_dir)
    host, port = _DOWNLOAD_HOSTS[name]
    if not _can_reach(host, port):
        raise UserError(
            f"Cannot download '{name}': its server {host} does not answer from this machine "
            f"(no network, or a firewall or proxy in the way). Run `companion data fetch {name}` "
            f"on a machine with internet access, {_COPY_HINT.format(cache=data_dir())}."
        )
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=_tfds_data_dir())
    try:
        builder.download_and_prepare()
    except Exception as error:
        raise UserError(
            f"Downloading '{name}' into {data_dir()} failed: {error}. Check the network connection "
            f"and run `companion data fetch {name}` again; files already downloaded are reused."
        ) from error
    return Path(builder.data_dir)
