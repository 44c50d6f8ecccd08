"""The plotting helpers' pictures, compared with reviewed baselines (matplotlib's own image comparison).

A change to a helper that moves, hides or recolours what it draws fails here; regenerate the baselines
on purpose with `COMPANION_UPDATE_BASELINES=1 pytest tests/test_plot_images.py`, then look at them.
The tolerance is matplotlib's RMS difference of pixel values (0-255): small enough to catch a missing
line or legend, large enough for anti-aliasing differences between FreeType builds.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.testing.compare import compare_images

from companion import plots

BASELINES = Path(__file__).parent / "baseline_images"
TOLERANCE = 3.0


def probability_of_class_1(points):
    """A fixed 'model': P(class 1) rises across the line x₁ + x₂ = 0.5."""
    return 1 / (1 + np.exp(-4 * (points[:, 0] + points[:, 1] - 0.5)))


def decision_boundary_figure():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2)).astype("float32")
    y = (x.sum(axis=1) > 0.5).astype(int)
    return plots.decision_boundary(probability_of_class_1, x, y, title="decision_boundary")


def training_curves_figure():
    epochs = np.arange(1, 21)
    history = {"loss": 2 / epochs, "val_loss": 2 / epochs + 0.02 * epochs,
               "accuracy": 1 - 0.5 / epochs, "val_accuracy": 0.95 - 0.5 / epochs}
    return plots.training_curves(history, title="training_curves")


def image_grid_figure():
    images = np.linspace(0, 1, 12 * 8 * 8).reshape(12, 8, 8, 1) ** 2
    return plots.image_grid(images, labels=list(range(12)), ncols=6, title="image_grid")


def activation_grid_figure():
    rng = np.random.default_rng(0)
    activations = {epoch: {"hidden_1": rng.normal(0, 1 / (epoch + 1), 500),
                           "hidden_2": np.tanh(rng.normal(0, epoch + 1, 500))} for epoch in (0, 2, 4)}
    return plots.activation_grid(activations, bins=30, title="activation_grid")


FIGURES = {"decision_boundary": decision_boundary_figure, "training_curves": training_curves_figure,
           "image_grid": image_grid_figure, "activation_grid": activation_grid_figure}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_helper_draws_what_its_baseline_shows(name, tmp_path):
    plots.use_style()
    actual = plots.save_figure(FIGURES[name](), tmp_path / f"{name}.png")
    baseline = BASELINES / f"{name}.png"
    if os.environ.get("COMPANION_UPDATE_BASELINES") == "1":
        baseline.write_bytes(actual.read_bytes())
    difference = compare_images(str(baseline), str(actual), tol=TOLERANCE)
    assert difference is None, difference
