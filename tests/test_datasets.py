"""The tensorflow-datasets sets, tested offline: the loading conventions through tfds' own mocking,
and the fast, helpful failure when the cache is empty and there is no network."""

import subprocess
import sys
import time

import numpy as np
import pytest

from companion import datasets
from companion.errors import UserError

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """An empty tensorflow-datasets cache, so nothing here can find (or write) real data."""
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    return tmp_path


def test_data_dir_follows_tfds_data_dir(empty_cache, monkeypatch):
    assert datasets.data_dir() == empty_cache
    monkeypatch.delenv("TFDS_DATA_DIR")
    assert datasets.data_dir().name == "tensorflow_datasets"


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_load_images_conventions_with_mocked_tfds(empty_cache, name):
    with tfds.testing.mock_data(num_examples=12):
        x, y = datasets.load_images(name, split="test")
    channels = 3 if name == "cifar10" else 1
    size = 32 if name == "cifar10" else 28
    assert x.shape == (12, size, size, channels) and x.dtype == np.float32
    assert y.shape == (12,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x.max() > 0.5  # scaled from 0..255, not left as 0..255 nor squashed twice
    assert np.all((0 <= y) & (y < 10))


def test_load_images_reads_in_batches(empty_cache, monkeypatch):
    monkeypatch.setattr(datasets, "_BATCH_SIZE", 5)
    with tfds.testing.mock_data(num_examples=12):
        x, y = datasets.load_images("mnist")
    assert x.shape == (12, 28, 28, 1) and y.shape == (12,)


def test_load_text_with_mocked_tfds(empty_cache):
    with tfds.testing.mock_data(num_examples=1):
        text = datasets.load_text("tiny_shakespeare", split="validation")
    assert isinstance(text, str) and len(text) > 0


def test_missing_images_fail_fast_with_the_fetch_command(empty_cache):
    start = time.monotonic()
    with pytest.raises(UserError) as info:
        datasets.load_images("mnist")
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "companion data fetch mnist" in message
    assert str(empty_cache) in message
    assert "digits" in message
    assert "\n" not in message
    assert not datasets.is_cached("mnist")
    assert list(empty_cache.iterdir()) == []  # looking did not start a download


def test_missing_text_fails_fast_with_the_fetch_command(empty_cache):
    start = time.monotonic()
    with pytest.raises(UserError, match="companion data fetch tiny_shakespeare"):
        datasets.load_text()
    assert time.monotonic() - start < 10


def test_fetch_offline_fails_fast_without_calling_tfds(empty_cache, monkeypatch):
    probed = []
    monkeypatch.setattr(datasets, "_can_reach", lambda host, port: probed.append(host) or False)
    start = time.monotonic()
    with pytest.raises(UserError) as info:
        datasets.fetch("cifar10")
    assert time.monotonic() - start < 5
    assert probed == ["www.cs.toronto.edu"]
    assert "companion data fetch cifar10" in str(info.value)
    assert list(empty_cache.iterdir()) == []


def test_fetch_online_prepares_into_the_cache(empty_cache, monkeypatch):
    prepared = []
    monkeypatch.setattr(datasets, "_can_reach", lambda host, port: True)
    # Not mock_data: it would also redirect the builder's data_dir to tfds' bundled metadata.
    monkeypatch.setattr(
        tfds.core.DatasetBuilder,
        "download_and_prepare",
        lambda self, *a, **k: prepared.append(self.name),
    )
    path = datasets.fetch("Fashion-MNIST")
    assert prepared == ["fashion_mnist"]
    assert path.is_relative_to(empty_cache) and "fashion_mnist" in path.parts


def test_fetch_of_a_cached_set_answers_at_once_offline(empty_cache, monkeypatch):
    """Already in the cache: no network probe, no download, the cache's folder at once."""
    monkeypatch.setattr(datasets, "is_cached", lambda name: True)
    monkeypatch.setattr(datasets, "_can_reach", lambda host, port: pytest.fail("probed the network"))
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare",
                        lambda self, *a, **k: pytest.fail("downloaded again"))
    path = datasets.fetch("mnist")
    assert path.is_relative_to(empty_cache) and "mnist" in path.parts


def test_fetch_of_digits_says_they_are_bundled(capsys):
    from companion.cli import main

    assert main(["data", "fetch", "digits"]) == 0
    assert "bundled with scikit-learn" in capsys.readouterr().out
    with pytest.raises(UserError, match="'digits' is bundled with scikit-learn"):
        datasets.fetch("digits")


def test_fetch_turns_download_errors_into_user_errors(empty_cache, monkeypatch):
    def broken_download(self, *args, **kwargs):
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(datasets, "_can_reach", lambda host, port: True)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", broken_download)
    with pytest.raises(UserError, match="connection reset by peer.*companion data fetch mnist"):
        datasets.fetch("mnist")


def test_can_reach_answers_quickly_for_an_unreachable_host():
    start = time.monotonic()
    assert datasets._can_reach("unreachable.invalid", 443, timeout=2) is False
    assert time.monotonic() - start < 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: datasets.load_images("imagenet"),
        lambda: datasets.load_text("war_and_peace"),
        lambda: datasets.fetch("imagenet"),
        lambda: datasets.is_cached("imagenet"),
    ],
)
def test_unknown_names_list_the_valid_ones(call):
    with pytest.raises(UserError) as info:
        call()
    assert "Unknown" in str(info.value)
    assert "mnist" in str(info.value) or "tiny_shakespeare" in str(info.value)


def test_text_and_image_sets_are_not_interchangeable():
    with pytest.raises(UserError, match="use load_text"):
        datasets.load_images("tiny_shakespeare")
    with pytest.raises(UserError, match="use load_images"):
        datasets.load_text("mnist")


def test_names_are_forgiving_about_case_and_dashes(empty_cache):
    assert datasets.is_cached("Fashion-MNIST") is False


def test_cache_report_lists_every_data_set(empty_cache):
    report = datasets.cache_report()
    assert [name for name, _, _ in report] == list(datasets.DATASETS)
    assert all(isinstance(description, str) and description for _, description, _ in report)
    assert [cached for _, _, cached in report] == [False] * len(datasets.DATASETS)


def test_importing_companion_datasets_is_cheap():
    code = (
        "import sys, companion.datasets; "
        "heavy = [m for m in ('tensorflow', 'tensorflow_datasets') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("topic, name", [("cnn", "mnist"), ("rnn", "tiny_shakespeare"),
                                         ("autoencoders", "cifar10"), ("gans", "fashion_mnist")])
def test_a_lecture_on_a_missing_set_fails_fast_before_its_first_step(topic, name, empty_cache, capsys):
    from companion.cli import main

    start = time.monotonic()
    assert main(["lecture", topic, "--dataset", name, "--out", str(empty_cache)]) == 2
    assert time.monotonic() - start < 30
    captured = capsys.readouterr()
    assert f"companion data fetch {name}" in captured.err and str(empty_cache) in captured.err
    assert "[1/" not in captured.out  # no step ran before the data was found missing


@pytest.mark.parametrize("topic, name", [("cnn", "mnist"), ("rnn", "tiny_shakespeare")])
def test_the_command_reports_a_missing_set_without_importing_tensorflow(topic, name, empty_cache):
    code = ("import sys; from companion.cli import main; "
            f"status = main(['lecture', '{topic}', '--dataset', '{name}']); "
            "print(status, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "False", "False"], done.stdout + done.stderr
    assert f"companion data fetch {name}" in done.stderr


def test_the_catalog_reads_the_data_sets_each_lecture_takes():
    from companion import catalog

    for topic in ("cnn", "rnn", "autoencoders", "gans", "xor"):
        assert catalog.datasets(topic) == catalog.load(topic).datasets


def test_require_fails_fast_offline_and_passes_on_a_cached_set(empty_cache):
    with pytest.raises(UserError, match="companion data fetch cifar10"):
        datasets.require("cifar10")
    with tfds.testing.mock_data(num_examples=3):
        datasets.require("cifar10")  # no error: the mocked set counts as cached


def test_pipeline_yields_every_example_once_per_epoch_in_a_new_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    pipeline = datasets.pipeline(x, y, batch_size=4, seed=0)
    epochs = [[(xb.numpy(), yb.numpy()) for xb, yb in pipeline] for _ in range(2)]
    for batches in epochs:
        assert [len(yb) for _, yb in batches] == [4, 4, 2]
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen) == list(range(10))
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)  # images stay with their labels
    assert not np.array_equal(*[np.concatenate([yb for _, yb in batches]) for batches in epochs])
    in_order = np.concatenate([yb.numpy() for _, yb in datasets.pipeline(x, y, shuffle=False)])
    np.testing.assert_array_equal(in_order, y)


def test_pipeline_of_images_alone_can_drop_the_last_smaller_batch():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    batches = [xb.numpy() for xb in datasets.pipeline(x, batch_size=4, seed=0, drop_remainder=True)]
    assert [len(xb) for xb in batches] == [4, 4]
    assert len(np.unique(np.concatenate(batches))) == 8


def test_fit_on_a_pipeline_as_students_write_it_prints_no_warning():
    """`model.fit(batches, ...)` without `shuffle=`: Keras' note that its default shuffle=True does not
    apply to a Dataset is kept out of the output (the pipeline shuffles), other warnings are not."""
    import warnings

    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(8, dtype=np.float32).reshape(8, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", append=True)  # every warning, after the filters already set
        model.fit(datasets.pipeline(x, x, batch_size=4), epochs=1, verbose=0)
        warnings.warn("a warning of the student's own", stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning of the student's own"]
