"""Lecture figures: decision boundaries, activation histograms, training curves, image grids.

Every helper takes an optional `ax` and returns the Figure; none calls `plt.show()`, and only
`save_figure` writes a file. Importing this module does not import TensorFlow or Keras: Keras is
imported inside the functions that need it (`companion.activations` reads the activations).
"""

from __future__ import annotations

import importlib.resources
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "FULL_WIDTH",
    "HALF_WIDTH",
    "MAX_HEIGHT",
    "STYLE",
    "activation_grid",
    "activation_histograms",
    "decision_boundary",
    "image_grid",
    "check_slide_size",
    "save_figure",
    "training_curves",
    "use_style",
]

STYLE = Path(str(importlib.resources.files("companion.assets") / "companion.mplstyle"))

# Slide sizes, in inches: every course figure fills the width of a 16:9 slide (12 in) or half of it
# (6 in), so the style's text has one size on every slide; its height follows what it shows, up to
# the slide's area below its title.
FULL_WIDTH, HALF_WIDTH, MAX_HEIGHT = 12.0, 6.0, 5.5

# Okabe-Ito colours (the style's colour cycle), repeated so the helpers look the same without it.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# Ten classes: the Okabe-Ito colours with a dark wine and grey instead of the pale yellow; draw the
# class as well (its digit as the marker), since no ten colours are told apart by every reader.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#882255",
                "#000000", "#999933", "#777777")
# Blue (class 0) -> white (p = 0.5) -> vermillion (class 1): a colour-blind-safe diverging map.
PROBABILITY_CMAP = LinearSegmentedColormap.from_list(
    "companion_probability", [COLORS[0], "white", COLORS[3]]
)


def use_style():
    """Apply the course style globally: clean axes, light grid, Okabe-Ito colours, savefig."""
    plt.style.use(STYLE)


# --- decision boundaries -------------------------------------------------------------------------


def decision_boundary(model, x, y, ax=None, *, resolution=200, margin=0.5, title=None,
                      class_names=None):
    """Shade what `model` predicts over the plane of the 2-D features `x`, with the data on top.

    `model` is a Keras model, a scikit-learn estimator, or a callable mapping (n, 2) points to
    probabilities. Binary outputs are drawn as P(class 1) with the p = 0.5 boundary as a line;
    multi-class outputs as one light region per predicted class.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            "Expected x with shape (n_samples, 2): 2-D features for a decision boundary. "
            f"Received: x.shape={x.shape}"
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if len(y) != len(x):
        raise ValueError(
            f"Expected one label per row of x ({len(x)} labels). Received: len(y)={len(y)}"
        )
    if resolution < 2:
        raise ValueError(f"Expected resolution >= 2. Received: resolution={resolution}")

    (x1_min, x2_min), (x1_max, x2_max) = x.min(axis=0) - margin, x.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x1_min, x1_max, resolution),
                         np.linspace(x2_min, x2_max, resolution))  # (resolution, resolution) each
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # (resolution**2, 2)
    probabilities = _class_probabilities(_predict(model, grid), len(grid))

    fig, ax = _single_axes(ax)
    classes, y_index = np.unique(y, return_inverse=True)
    if y.dtype.kind in "biuf" and np.all(y >= 0) and np.all(y == np.round(y)):
        y_index = y.astype(int)  # labels 0, 1, ... are the model's class indices
    num_classes = max(int(y_index.max()) + 1 if len(y) else 0,
                      2 if probabilities.ndim == 1 else probabilities.shape[1])
    names = _class_names(class_names, classes, y_index, num_classes)

    if probabilities.ndim == 1:
        colors = [PROBABILITY_CMAP(0.0), PROBABILITY_CMAP(1.0)] + list(COLORS[4:])
        _shade_probability(ax, xx, yy, probabilities.reshape(xx.shape), label=f"P({names[1]})")
    else:
        colors = _class_colors(num_classes)
        _shade_regions(ax, xx, yy, probabilities, colors)

    for index in np.unique(y_index):
        points = x[y_index == index]
        ax.scatter(points[:, 0], points[:, 1], s=22, color=colors[index % len(colors)],
                   edgecolors="black", linewidths=0.6, label=names[index], zorder=3)
    ax.set(xlim=(x1_min, x1_max), ylim=(x2_min, x2_max), xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    if len(y):
        ax.legend(frameon=True, framealpha=0.85, edgecolor="none")
    if title:
        ax.set_title(title)
    return fig


def _shade_probability(ax, xx, yy, p, *, label):
    """Binary: P(class 1) in bands of 0.1 with a colorbar, and the p = 0.5 boundary as a line."""
    shading = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap=PROBABILITY_CMAP,
                          vmin=0, vmax=1, alpha=0.45)
    ax.figure.colorbar(shading, ax=ax, label=label, ticks=np.linspace(0, 1, 6))
    if p.min() < 0.5 < p.max():
        ax.contour(xx, yy, p, levels=[0.5], colors="black", linewidths=1.5)


def _shade_regions(ax, xx, yy, probabilities, colors):
    """Multi-class: a light region where each class wins, outlined in grey."""
    for index in range(probabilities.shape[1]):
        # Class `index` wins where its probability beats every other class: margin > 0.
        others = np.delete(probabilities, index, axis=1).max(axis=1)
        margin = (probabilities[:, index] - others).reshape(xx.shape)
        if margin.max() > 0:
            color = _lighten(colors[index % len(colors)], 0.6)
            ax.contourf(xx, yy, margin, levels=[0, np.inf], colors=[color])
            if margin.min() < 0:
                ax.contour(xx, yy, margin, levels=[0], colors="0.3", linewidths=0.8)


def _predict(model, grid):
    """The model's outputs on the grid points: probabilities wherever the model can give them."""
    if hasattr(model, "predict") and hasattr(model, "layers"):  # Keras model
        # one large batch: the grid is many tiny rows, and Keras' default of 32 makes it slow
        return np.asarray(model.predict(grid.astype("float32"), batch_size=4096, verbose=0))
    if hasattr(model, "predict_proba"):  # scikit-learn classifier
        return np.asarray(model.predict_proba(grid))
    if hasattr(model, "decision_function"):  # e.g. an SVM without probabilities: squash the scores
        scores = np.asarray(model.decision_function(grid), dtype=float)
        if scores.ndim == 1:
            return 1 / (1 + np.exp(-scores))  # p = 0.5 exactly where the score is 0
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)
    if hasattr(model, "predict"):  # hard labels only: one-hot encode them
        labels = np.asarray(model.predict(grid))
        classes = np.asarray(getattr(model, "classes_", np.unique(labels)))
        return np.eye(len(classes))[np.searchsorted(classes, labels)]
    if callable(model):
        return np.asarray(model(grid))
    raise ValueError(
        "Expected model to be a Keras model, a scikit-learn estimator or a callable returning "
        f"probabilities. Received: model={model!r}"
    )


def _class_probabilities(outputs, num_points):
    """(n,) P(class 1) for binary outputs, (n, num_classes) for multi-class outputs."""
    outputs = np.asarray(outputs, dtype=float)
    if outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1):
        probabilities = outputs.reshape(-1)
    elif outputs.ndim == 2 and outputs.shape[1] == 2:
        probabilities = outputs[:, 1]
    elif outputs.ndim == 2:
        probabilities = outputs
    else:
        probabilities = None
    if probabilities is None or len(probabilities) != num_points:
        raise ValueError(
            f"Expected model outputs with shape ({num_points},), ({num_points}, 1) or "
            f"({num_points}, num_classes). Received: shape={outputs.shape}"
        )
    return probabilities


def _class_names(class_names, classes, y_index, num_classes):
    """Legend names, indexed by class index."""
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if len(class_names) < num_classes:
            raise ValueError(
                f"Expected at least {num_classes} class_names. Received: class_names={class_names}"
            )
        return class_names
    names = [str(i) for i in range(num_classes)]
    for label, index in zip(classes, np.unique(y_index)):
        names[index] = str(label)
    return names


def _class_colors(num_classes):
    """The course colours, or tab20 when there are more classes than colours."""
    return list(COLORS) if num_classes <= len(COLORS) else list(plt.get_cmap("tab20").colors)


def _lighten(color, amount):
    """Blend `color` with white: amount 0 keeps it, 1 gives white."""
    return tuple(c + (1 - c) * amount for c in to_rgb(color))


# --- activations -------------------------------------------------------------------------------


def activation_histograms(model, x, layers=None, ax=None, *, bins=50, title=None):
    """One histogram per layer of the activations (layer outputs) that the batch `x` produces.

    `layers`: None for every Dense/Conv-like layer (one with an `activation`) except the output
    layer, or a list of layer names or layer objects. Titles give each layer's mean and std.
    """
    from companion.activations import choose_layers, layer_activations

    chosen = choose_layers(model, layers)
    activations = layer_activations(model, x, chosen)
    ncols = min(len(chosen), 4)
    fig, axes = _panels(ax, len(chosen), ncols=ncols, panel_size=(3.0, 2.6), what="layer")
    for panel, (name, values) in zip(axes, activations.items()):
        _draw_histogram(panel, name, values, bins=bins)
        panel.set_xlabel("activation")
    axes[0].set_ylabel("count")
    if title:
        fig.suptitle(title)
    return fig


def _draw_histogram(ax, name, values, *, bins, range=None, color=COLORS[0]):
    """One activation histogram, titled with the layer name and the activations' mean and std.

    Drawn as one filled outline (`stairs`) rather than a bar per bin: it looks the same and draws
    several times faster, which counts in figures of many histograms.
    """
    counts, edges = np.histogram(values, bins=bins, range=range)
    ax.stairs(counts, edges, fill=True, color=color, alpha=0.9)
    ax.set_title(f"{name}\nmean {values.mean():.3g}, std {values.std():.3g}", fontsize=10)


def activation_grid(activations, *, bins=50, title=None):
    """Recorded activations ({epoch: {layer name: values}}, `ActivationRecorder.activations`) as
    histograms: rows = epochs, columns = layers (one x-range per column)."""
    epochs = sorted(activations)
    if not epochs:
        raise ValueError(
            "Expected recorded activations. Received: none; pass the recorder to "
            "model.fit(..., callbacks=[recorder]) with epochs it reaches first."
        )
    names = list(activations[epochs[0]])
    fig, grid = plt.subplots(len(epochs), len(names), squeeze=False, sharex="col", layout="constrained",
                             figsize=_slide_size(3.0 * len(names), 2.3 * len(epochs)))
    for col, name in enumerate(names):
        low = min(float(activations[epoch][name].min()) for epoch in epochs)
        high = max(float(activations[epoch][name].max()) for epoch in epochs)
        for row, epoch in enumerate(epochs):
            _draw_histogram(grid[row, col], name, activations[epoch][name], bins=bins,
                            range=(low, high), color=COLORS[row % len(COLORS)])
        grid[-1, col].set_xlabel("activation")
    for row, epoch in enumerate(epochs):
        grid[row, 0].set_ylabel(f"epoch {epoch}" + (" (before training)" if epoch == 0 else ""))
    if title:
        fig.suptitle(title)
    return fig


# --- training curves -----------------------------------------------------------------------------


def training_curves(history, metrics=None, ax=None, *, title=None, held_out="validation"):
    """One panel per metric: training (solid) and held-out (dashed) values against the epoch.

    `history` is what `model.fit` returns, or its `.history` dict. `metrics` defaults to "loss"
    and every other metric that is not a `val_` metric. `held_out` names the `val_` curves in the
    legend: "test" when `fit` was given the test set as `validation_data`.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise ValueError(
            f"Expected a keras History or a dict of per-epoch lists. Received: history={history!r}"
        )
    if metrics is None:
        metrics = (["loss"] if "loss" in logs else []) + [
            key for key in logs if key != "loss" and not key.startswith("val_")
        ]
    elif isinstance(metrics, str):
        metrics = [metrics]
    missing = [metric for metric in metrics if metric not in logs]
    if missing or not metrics:
        raise ValueError(
            f"Expected metrics from the history keys {list(logs)}. "
            f"Received: metrics={list(metrics)}"
        )

    fig, axes = _panels(ax, len(metrics), ncols=min(len(metrics), 3), panel_size=(3.4, 3.4),
                        what="metric")
    for panel, metric in zip(axes, metrics):
        _draw_curve(panel, logs[metric], label="training", color=COLORS[0], linestyle="-")
        if f"val_{metric}" in logs:
            _draw_curve(panel, logs[f"val_{metric}"], label=held_out, color=COLORS[1],
                        linestyle="--")
        panel.set(xlabel="epoch", ylabel=metric, title=metric)
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.legend()
    if title:
        fig.suptitle(title)
    return fig


def _draw_curve(ax, values, **style):
    """Per-epoch values against epochs 1, 2, ...; markers while there are few enough to read."""
    values = np.asarray(values, dtype=float)
    epochs = np.arange(1, len(values) + 1)
    ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, **style)


# --- image grids ---------------------------------------------------------------------------------


def image_grid(images, labels=None, ax=None, *, ncols=None, cmap="gray", normalize="global",
               title=None, pad=1):
    """Tile `images` (n, H, W[, 1 or 3]) into one mosaic drawn with a single imshow.

    `normalize`: "global" scales all images by one min/max (compares intensities), "each" scales
    every image to its own min/max (filters, feature maps), None expects values in [0, 1].
    `labels` (strings or ints) are written above each tile.
    """
    images = _normalized_images(_check_images(images), normalize)
    n, height, width = images.shape[:3]
    if labels is not None and len(labels) != n:
        raise ValueError(f"Expected one label per image ({n}). Received: len(labels)={len(labels)}")
    ncols = min(ncols or math.ceil(math.sqrt(n)), n)
    nrows = math.ceil(n / ncols)

    def shape(gap):  # mosaic (rows, columns) with `gap` pixels above every tile row
        return nrows * (height + gap) + pad, ncols * (width + pad) + pad

    gap = max(pad, math.ceil(0.3 * height)) if labels is not None else pad  # room for labels
    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=_mosaic_figsize(shape(gap), title), layout="constrained")
    else:
        fig = _figure_of(ax)
    if labels is not None:
        points_per_pixel = _points_per_pixel(ax, shape(gap))
        fontsize = np.clip(0.6 * gap * points_per_pixel, 5, 10)
        gap = max(pad, min(gap, math.ceil(1.6 * fontsize / points_per_pixel)))  # just the text
        if created:
            fig.set_size_inches(_mosaic_figsize(shape(gap), title))

    ax.imshow(_mosaic(images, nrows, ncols, pad=pad, gap=gap), cmap=cmap, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    for i, label in enumerate([] if labels is None else labels):
        row, col = divmod(i, ncols)
        top, left = row * (height + gap) + gap, col * (width + pad) + pad
        ax.annotate(str(label), (left + (width - 1) / 2, top - 0.5), xytext=(0, 1.5),
                    textcoords="offset points", ha="center", va="bottom", fontsize=fontsize)
    if title:
        ax.set_title(title)
    return fig


def _check_images(images):
    """Images as float (n, H, W) or (n, H, W, 3)."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)) or len(images) == 0:
        raise ValueError(
            "Expected images with shape (n, H, W), (n, H, W, 1) or (n, H, W, 3). "
            f"Received: images.shape={images.shape}"
        )
    return images


def _normalized_images(images, normalize):
    """Images scaled into [0, 1] as `normalize` asks."""
    if normalize is None:
        low, high = images.min(), images.max()
        if low < 0 or high > 1:
            raise ValueError(
                "Expected values in [0, 1] with normalize=None. "
                f"Received: min={low:.3g}, max={high:.3g}; pass normalize='global' to rescale."
            )
        return images
    if normalize == "global":
        axes = None
    elif normalize == "each":
        axes = tuple(range(1, images.ndim))
    else:
        raise ValueError(
            f"Expected normalize='global', 'each' or None. Received: normalize={normalize!r}"
        )
    low = images.min(axis=axes, keepdims=True)
    span = images.max(axis=axes, keepdims=True) - low
    return (images - low) / np.where(span > 0, span, 1)  # a constant image becomes 0


def _mosaic(images, nrows, ncols, *, pad, gap):
    """One array holding the tiles; the space between is transparent (NaN, or alpha 0 for RGB)."""
    n, height, width = images.shape[:3]
    shape = (nrows * (height + gap) + pad, ncols * (width + pad) + pad)
    if images.ndim == 3:
        mosaic = np.full(shape, np.nan)
        tiles = images
    else:  # RGB: add an alpha channel, 0 in the gaps
        mosaic = np.zeros(shape + (4,))
        tiles = np.concatenate([images, np.ones(images.shape[:3] + (1,))], axis=-1)
    for i, tile in enumerate(tiles):
        row, col = divmod(i, ncols)
        top, left = row * (height + gap) + gap, col * (width + pad) + pad
        mosaic[top:top + height, left:left + width] = tile
    return mosaic


def _mosaic_figsize(shape, title):
    """A half-slide figure (inches) as tall as the mosaic's aspect needs, within MAX_HEIGHT."""
    title_height = 0.4 if title else 0
    inches_per_pixel = min(HALF_WIDTH / shape[1], (MAX_HEIGHT - title_height) / shape[0])
    return (HALF_WIDTH, max(shape[0] * inches_per_pixel, 1.5) + title_height)


def _points_per_pixel(ax, shape):
    """How many typographic points one mosaic pixel spans in `ax` (before layout; good enough)."""
    fig = _figure_of(ax)
    box = ax.get_position()
    width_pt, height_pt = np.array(fig.get_size_inches()) * (box.width, box.height) * 72
    return min(width_pt / shape[1], height_pt / shape[0])


# --- figures and axes ----------------------------------------------------------------------------


def check_slide_size(fig):
    """Raise ValueError unless `fig` is FULL_WIDTH or HALF_WIDTH wide and at most MAX_HEIGHT tall."""
    width, height = (round(float(size), 2) for size in fig.get_size_inches())
    if width not in (FULL_WIDTH, HALF_WIDTH) or height > MAX_HEIGHT:
        raise ValueError(
            f"Expected a slide-sized figure: {FULL_WIDTH:g} or {HALF_WIDTH:g} inches wide (a whole or half "
            f"slide) and at most {MAX_HEIGHT:g} inches tall. Received: {width:g} x {height:g} inches "
            f"(set figsize=(plots.FULL_WIDTH, height) or (plots.HALF_WIDTH, height))"
        )


def _slide_size(width, height):
    """The slide size for a figure that wants (width, height) inches: half a slide when that is
    enough room (up to 7 in), else the whole width, at most MAX_HEIGHT tall."""
    return (HALF_WIDTH if width <= 7 else FULL_WIDTH, min(height, MAX_HEIGHT))


def _single_axes(ax):
    """(figure, axes): a new pyplot figure when `ax` is None."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.5), layout="constrained")
        return fig, ax
    if not isinstance(ax, Axes):
        raise ValueError(f"Expected ax to be a matplotlib Axes or None. Received: ax={ax!r}")
    return _figure_of(ax), ax


def _panels(ax, n, *, ncols, panel_size, what):
    """(figure, list of n Axes): new subplots in rows of `ncols`, or the n Axes the caller gave."""
    if ax is None:
        nrows = math.ceil(n / ncols)
        fig, grid = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                                 figsize=_slide_size(panel_size[0] * ncols, panel_size[1] * nrows))
        axes = list(grid.ravel())
        for extra in axes[n:]:
            extra.remove()
        return fig, axes[:n]
    axes = [ax] if isinstance(ax, Axes) else list(np.asarray(ax, dtype=object).ravel())
    if len(axes) != n or not all(isinstance(a, Axes) for a in axes):
        raise ValueError(
            f"Expected ax to be a sequence of {n} Axes (one per {what}). "
            f"Received: {len(axes)} item(s): {axes!r}"
        )
    return _figure_of(axes[0]), axes


def _figure_of(ax):
    """The top-level Figure that holds `ax` (also when it sits in a SubFigure)."""
    fig = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


# --- saving ------------------------------------------------------------------------------------

# Metadata without dates or versions, so saving the same figure twice gives the same bytes.
_METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(fig, path, *, format=None):
    """Write `fig` as PNG, SVG or PDF, atomically and reproducibly; return the Path.

    The figure is rendered to a temporary file next to `path` and moved into place, so an
    interrupted run never leaves a half-written file. The format comes from `format` or the suffix.
    The same figure code gives the same bytes in every run (no dates or versions in the file); a
    figure saved twice may differ slightly, as its layout engine runs again from where it stopped.
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in _METADATA:
        raise ValueError(
            f"Expected format 'png', 'svg' or 'pdf' (from `format` or the file suffix). "
            f"Received: format={format!r}, path={str(path)!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    os.close(descriptor)
    try:
        # A fixed salt makes SVG element ids the same on every run, also without use_style().
        with plt.rc_context({"svg.hashsalt": plt.rcParams["svg.hashsalt"] or "companion"}):
            fig.savefig(temporary, format=fmt, metadata=_METADATA[fmt])
        os.chmod(temporary, 0o644)  # mkstemp creates 0o600 files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
