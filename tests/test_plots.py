"""Tests for companion.plots: each helper is checked against what it should draw, not just run.

Figures use the Agg backend; models are tiny and untrained (or trained for two epochs on 16 rows).
"""

import re
import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from companion import plots

matplotlib.use("Agg")  # headless and deterministic, whatever the environment asks for


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def boundary_points(fig):
    """Vertices of the p = 0.5 line that decision_boundary draws."""
    (ax,) = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(lines) == 1 and list(lines[0].levels) == [0.5]
    return np.concatenate([path.vertices for path in lines[0].get_paths()])


def relu(z):
    return np.maximum(z, 0)


# --- import and style ----------------------------------------------------------------------------


def test_import_does_not_load_tensorflow_or_keras():
    code = "import sys, companion.plots; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_use_style_applies_the_packaged_style():
    assert plots.STYLE.is_file()
    with matplotlib.rc_context():
        plots.use_style()
        assert matplotlib.rcParams["svg.hashsalt"] == "companion"
        assert matplotlib.rcParams["savefig.bbox"] is None  # saved at exactly the slide size
        assert not matplotlib.rcParams["axes.spines.top"]
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == plots.COLORS[0]


def test_figures_of_the_helpers_are_slide_sized_and_the_check_names_the_sizes(tmp_path):
    with matplotlib.rc_context():
        plots.use_style()
        grid = plots.image_grid(np.random.default_rng(0).random((100, 8, 8)))
        plots.check_slide_size(grid)
        assert grid.get_size_inches()[0] == plots.HALF_WIDTH
        saved = plots.save_figure(grid, tmp_path / "grid.png")
        assert matplotlib.image.imread(saved).shape[1] == plots.HALF_WIDTH * 150  # savefig.dpi: no cropping
        wide = plt.figure(figsize=(10, 4))
        with pytest.raises(ValueError, match="12 or 6 inches wide .* Received: 10 x 4 inches"):
            plots.check_slide_size(wide)
        with pytest.raises(ValueError, match="at most 5.5 inches tall"):
            plots.check_slide_size(plt.figure(figsize=(plots.FULL_WIDTH, 8)))
        plt.close("all")


# --- decision_boundary ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=60, centers=[(-2, 0), (2, 1)], cluster_std=1.0, random_state=0)


def test_decision_boundary_sklearn_line_is_where_probability_is_half(blobs):
    x, y = blobs
    clf = LogisticRegression().fit(x, y)
    fig = plots.decision_boundary(clf, x, y, resolution=80, class_names=["left", "right"])

    points = boundary_points(fig)
    np.testing.assert_allclose(clf.predict_proba(points)[:, 1], 0.5, atol=0.02)
    ax = fig.axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(np.concatenate([s.get_offsets() for s in scatters]),
                               np.concatenate([x[y == 0], x[y == 1]]))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right"]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "P(right)"  # colorbar


def test_decision_boundary_plain_callable_and_column_output(blobs):
    x, y = blobs
    for model in (lambda g: 1 / (1 + np.exp(g[:, 1] - g[:, 0])),  # (n,): boundary on x1 = x2
                  lambda g: 1 / (1 + np.exp(g[:, 1:] - g[:, :1]))):  # (n, 1)
        points = boundary_points(plots.decision_boundary(model, x, y, resolution=60))
        np.testing.assert_allclose(points[:, 0], points[:, 1], atol=1e-3)  # grid step ~0.15


def test_decision_boundary_decision_function_only(blobs):
    x, y = blobs
    svm = SVC(kernel="linear").fit(x, y)  # no predict_proba: the scores' zero line is the boundary
    points = boundary_points(plots.decision_boundary(svm, x, y, resolution=60))
    np.testing.assert_allclose(svm.decision_function(points), 0, atol=0.02)


def test_decision_boundary_keras_model(keras, blobs):
    x, y = blobs
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.array([[1.0], [-1.0]]), np.array([0.5])])  # x1 - x2 + 0.5 = 0
    points = boundary_points(plots.decision_boundary(model, x, y, resolution=40))
    np.testing.assert_allclose(points[:, 0] - points[:, 1] + 0.5, 0, atol=1e-3)


def test_decision_boundary_multiclass_regions_hold_their_class():
    x, y = make_blobs(n_samples=90, centers=[(-4, 0), (4, 0), (0, 5)], random_state=1)
    clf = LogisticRegression().fit(x, y)
    fig = plots.decision_boundary(clf, x, y, resolution=60)

    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colorbar for class regions
    regions = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    assert len(regions) == 3
    centers = np.array([x[y == k].mean(axis=0) for k in range(3)])
    for k, region in enumerate(regions):
        inside = np.any([path.contains_points(centers) for path in region.get_paths()], axis=0)
        assert inside.tolist() == [i == k for i in range(3)]


def test_decision_boundary_draws_into_given_axes(blobs):
    x, y = blobs
    fig, (left, right) = plt.subplots(1, 2)
    returned = plots.decision_boundary(LogisticRegression().fit(x, y), x, y, ax=right,
                                       resolution=30, title="logistic")
    assert returned is fig
    assert right.get_title() == "logistic" and not left.has_data()


def test_decision_boundary_rejects_bad_inputs(blobs):
    x, y = blobs
    message = ("Expected x with shape (n_samples, 2): 2-D features for a decision boundary. "
               "Received: x.shape=(10, 3)")
    with pytest.raises(ValueError, match=re.escape(message)):
        plots.decision_boundary(lambda g: g[:, 0], np.zeros((10, 3)), np.zeros(10))
    with pytest.raises(ValueError, match=re.escape("Received: len(y)=59")):
        plots.decision_boundary(lambda g: g[:, 0], x, y[:-1])


# --- activation histograms and the recorder ------------------------------------------------------


@pytest.fixture
def mlp(keras):
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu", name="h1"),
        keras.layers.Dense(5, activation="tanh", name="h2"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])


def numpy_hidden(weights, x):
    """The two hidden layers of `mlp`, computed with NumPy from its weights."""
    w1, b1, w2, b2 = weights[:4]
    h1 = relu(x @ w1 + b1)
    return {"h1": h1.ravel(), "h2": np.tanh(h1 @ w2 + b2).ravel()}


def bar_heights(ax):
    """The counts of the one histogram drawn in `ax` (a filled `stairs` outline)."""
    (histogram,) = ax.patches
    return np.asarray(histogram.get_data().values)


def test_activation_histograms_match_numpy_forward_pass(mlp):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    fig = plots.activation_histograms(mlp, x, bins=20)

    expected = numpy_hidden(mlp.get_weights(), x)
    assert len(fig.axes) == 2  # the output layer is left out
    for ax, (name, values) in zip(fig.axes, expected.items()):
        assert ax.get_title().startswith(name)
        assert bar_heights(ax).sum() == values.size
        np.testing.assert_array_equal(bar_heights(ax), np.histogram(values, bins=20)[0])
        assert f"mean {values.mean():.3g}" in ax.get_title()


def test_activation_histograms_layer_selection_and_errors(mlp):
    x = np.ones((3, 4), "float32")
    assert len(plots.activation_histograms(mlp, x, layers=["h2"]).axes) == 1
    fig = plots.activation_histograms(mlp, x, layers=[mlp.get_layer("h1"), "out"])
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["h1", "out"]
    with pytest.raises(ValueError, match=re.escape("from ['h1', 'h2', 'out']. Received: 'h3'")):
        plots.activation_histograms(mlp, x, layers=["h3"])
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="Expected ax to be a sequence of 2 Axes"):
        plots.activation_histograms(mlp, x, ax=axes)
    fig, axes = plt.subplots(2, 1)
    assert plots.activation_histograms(mlp, x, ax=axes) is fig


def test_activation_histograms_sequential_without_input(keras):
    model = keras.Sequential([keras.layers.Dense(3, activation="relu", name="hidden"),
                              keras.layers.Dense(1, name="out")])  # never built: no model.inputs
    fig = plots.activation_histograms(model, np.ones((6, 2), "float32"))
    assert len(fig.axes) == 1 and bar_heights(fig.axes[0]).sum() == 6 * 3


def test_activation_recorder_records_before_and_after_epochs(keras, mlp):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 2, size=(16, 1))
    mlp.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    before = mlp.get_weights()

    from companion.activations import ActivationRecorder

    assert isinstance(ActivationRecorder(x, epochs=[0]), keras.callbacks.Callback)
    recorder = ActivationRecorder(x, epochs=[0, 1, 2, 5])  # epoch 5 is never reached
    mlp.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[recorder])

    assert sorted(recorder.activations) == [0, 1, 2]
    for epoch, weights in ((0, before), (2, mlp.get_weights())):
        for name, values in numpy_hidden(weights, x).items():
            np.testing.assert_allclose(recorder.activations[epoch][name], values, atol=1e-5)
    assert not np.allclose(recorder.activations[0]["h2"], recorder.activations[2]["h2"])

    fig = recorder.figure(bins=10, title="training")
    assert len(fig.axes) == 3 * 2
    grid = np.array(fig.axes).reshape(3, 2)
    labels = [ax.get_ylabel() for ax in grid[:, 0]]
    assert labels == ["epoch 0 (before training)", "epoch 1", "epoch 2"]
    for col in range(2):  # one x-range per column, so the epochs compare directly
        assert len({ax.get_xlim() for ax in grid[:, col]}) == 1
    assert all(bar_heights(ax).sum() == 16 * 8 for ax in grid[:, 0])


def test_activation_recorder_errors(keras):
    from companion.activations import ActivationRecorder

    with pytest.raises(ValueError, match=re.escape("Received: epochs=[-1]")):
        ActivationRecorder(np.zeros((1, 2)), epochs=[-1])
    with pytest.raises(ValueError, match="Expected recorded activations"):
        ActivationRecorder(np.zeros((1, 2)), epochs=[0]).figure()


# --- training curves -----------------------------------------------------------------------------


HISTORY = {"loss": [0.9, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8],
           "val_loss": [1.0, 0.7, 0.6], "val_accuracy": [0.4, 0.6, 0.7]}


def test_training_curves_one_panel_per_metric():
    fig = plots.training_curves(HISTORY, title="run")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    train, val = fig.axes[0].get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(val.get_ydata(), HISTORY["val_loss"])
    assert (train.get_linestyle(), val.get_linestyle()) == ("-", "--")


def test_training_curves_history_object_and_selection():
    history = SimpleNamespace(history={"loss": [1.0, 0.5]})  # a keras History, duck-typed
    fig = plots.training_curves(history)
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1
    _, ax = plt.subplots()
    assert plots.training_curves(HISTORY, metrics="accuracy", ax=ax) is ax.figure
    with pytest.raises(ValueError, match=re.escape("history keys ['loss', 'accuracy', 'val_loss'")):
        plots.training_curves(HISTORY, metrics=["auc"])


# --- image grid ----------------------------------------------------------------------------------


def mosaic_of(fig):
    (image,) = fig.axes[0].images
    return np.ma.filled(image.get_array().astype(float), np.nan)


def test_image_grid_layout_and_global_normalization():
    images = np.random.default_rng(0).uniform(-3, 5, size=(5, 4, 6))
    mosaic = mosaic_of(plots.image_grid(images, ncols=3))

    assert mosaic.shape == (2 * (4 + 1) + 1, 3 * (6 + 1) + 1)
    scaled = (images - images.min()) / (images.max() - images.min())
    np.testing.assert_allclose(mosaic[1:5, 1:7], scaled[0])
    np.testing.assert_allclose(mosaic[6:10, 8:14], scaled[4])  # row 1, column 1
    assert np.isnan(mosaic[0]).all() and np.isnan(mosaic[6:10, 15:21]).all()  # gap, empty slot
    assert np.nansum(~np.isnan(mosaic)) == images.size


def test_image_grid_normalize_each_and_none():
    images = np.stack([np.linspace(0, 1, 9).reshape(3, 3) * scale for scale in (1, 10, 100)])
    each = mosaic_of(plots.image_grid(images[..., None], normalize="each", ncols=3))
    for k in range(3):
        tile = each[1:4, 1 + 4 * k:4 + 4 * k]
        assert (tile.min(), tile.max()) == (0, 1)
    unchanged = mosaic_of(plots.image_grid(images[:1], normalize=None))
    np.testing.assert_array_equal(unchanged[1:4, 1:4], images[0])
    with pytest.raises(ValueError, match="Expected values in \\[0, 1\\] with normalize=None"):
        plots.image_grid(images, normalize=None)
    with pytest.raises(ValueError, match="Received: normalize='max'"):
        plots.image_grid(images, normalize="max")


def test_image_grid_rgb_labels_and_given_axes():
    images = np.random.default_rng(0).uniform(size=(4, 5, 5, 3))
    fig, ax = plt.subplots()
    assert plots.image_grid(images, labels=[7, 1, 2, 3], ax=ax, normalize=None) is fig
    mosaic = ax.images[0].get_array()
    assert mosaic.shape[-1] == 4  # RGBA: alpha 0 in the gaps
    assert mosaic[..., 3].sum() == 4 * 5 * 5
    assert [t.get_text() for t in ax.texts] == ["7", "1", "2", "3"]
    with pytest.raises(ValueError, match=re.escape("Received: len(labels)=2")):
        plots.image_grid(images, labels=["a", "b"])


def test_image_grid_rejects_wrong_shapes():
    message = ("Expected images with shape (n, H, W), (n, H, W, 1) or (n, H, W, 3). "
               "Received: images.shape=(4, 5)")
    with pytest.raises(ValueError, match=re.escape(message)):
        plots.image_grid(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=re.escape("images.shape=(2, 4, 4, 2)")):
        plots.image_grid(np.zeros((2, 4, 4, 2)))


# --- save_figure ---------------------------------------------------------------------------------


def draw_small_figure():
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([1, 3, 2])
    ax.set_title("saved")
    return fig


@pytest.fixture
def small_figure():
    return draw_small_figure()


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_save_figure_writes_reproducible_files(tmp_path, fmt, magic):
    """The same figure code gives the same bytes (as a second run of a lecture does)."""
    first = plots.save_figure(draw_small_figure(), tmp_path / "new" / "dir" / f"a.{fmt}")
    second = plots.save_figure(draw_small_figure(), tmp_path / "new" / "dir" / f"b.{fmt}")
    assert first == tmp_path / "new" / "dir" / f"a.{fmt}"
    assert first.read_bytes().startswith(magic)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == [f"a.{fmt}", f"b.{fmt}"]  # no temps


def test_save_figure_format_argument_and_unknown_format(tmp_path, small_figure):
    path = plots.save_figure(small_figure, tmp_path / "figure.out", format="svg")
    assert b"<svg" in path.read_bytes()
    with pytest.raises(ValueError, match="Expected format 'png', 'svg' or 'pdf'.*format=None"):
        plots.save_figure(small_figure, tmp_path / "figure.jpg")
    with pytest.raises(ValueError, match="format='eps'"):
        plots.save_figure(small_figure, tmp_path / "figure.png", format="eps")
    assert [p.name for p in tmp_path.iterdir()] == ["figure.out"]


def test_save_figure_is_atomic(tmp_path, small_figure, monkeypatch):
    target = plots.save_figure(small_figure, tmp_path / "figure.png")
    original = target.read_bytes()

    def interrupted(path, **kwargs):
        with open(path, "wb") as file:
            file.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(small_figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        plots.save_figure(small_figure, target)
    assert target.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
