"""The offline data: shapes, dtypes, balance, seeding, truth tables, validation, separability."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from companion import data

SEEDS = [0, 1, 7]

# Each generator with arguments that make it small and quick.
TOY_SETS = {
    "blobs": (data.blobs, {}),
    "gate_clouds": (data.gate_clouds, {}),
    "gate_clouds_and": (data.gate_clouds, {"gate": "and"}),
    "moons": (data.moons, {}),
    "circles": (data.circles, {}),
    "spirals": (data.spirals, {}),
    "gaussian_ring": (data.gaussian_ring, {}),
}


@pytest.mark.parametrize("name", TOY_SETS)
@pytest.mark.parametrize("n_samples", [1, 2, 5, 97, 200])
def test_toy_sets_shapes_and_dtypes(name, n_samples):
    make, kwargs = TOY_SETS[name]
    x, y = make(n_samples=n_samples, **kwargs)
    assert x.shape == (n_samples, 2) and x.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("name", TOY_SETS)
@pytest.mark.parametrize("seed", SEEDS)
def test_same_seed_same_data_other_seed_other_data(name, seed):
    make, kwargs = TOY_SETS[name]
    x1, y1 = make(seed=seed, **kwargs)
    x2, y2 = make(seed=seed, **kwargs)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = make(seed=seed + 1, **kwargs)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize(
    "make, kwargs, num_classes",
    [
        (data.blobs, {}, 2),
        (data.gate_clouds, {"gate": "xor"}, 2),
        (data.moons, {}, 2),
        (data.circles, {}, 2),
        (data.spirals, {"n_arms": 3}, 3),
        (data.spirals, {"n_arms": 5}, 5),
        (data.gaussian_ring, {"n_modes": 8}, 8),
    ],
)
@pytest.mark.parametrize("n_samples", [200, 203])
def test_classes_are_balanced(make, kwargs, num_classes, n_samples):
    _, y = make(n_samples=n_samples, **kwargs)
    counts = np.bincount(y, minlength=num_classes)
    assert len(counts) == num_classes
    assert counts.max() - counts.min() <= 1, counts


def test_samples_are_shuffled():
    """Labels must not come sorted: Keras' validation_split takes the last rows as they are."""
    for make in (data.gate_clouds, data.spirals, data.gaussian_ring):
        _, y = make(seed=3)
        assert len(np.unique(y[-len(y) // 5 :])) == len(np.unique(y))


TRUTH_TABLES = {  # outputs for the corners (0,0), (0,1), (1,0), (1,1)
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
    "xnor": [1, 0, 0, 1],
}


@pytest.mark.parametrize("gate", list(TRUTH_TABLES) + ["XOR", "Nand"])
@pytest.mark.parametrize("seed", SEEDS)
def test_gate_labels_follow_the_truth_table_of_the_nearest_corner(gate, seed):
    x, y = data.gate_clouds(gate, n_samples=400, noise=0.1, seed=seed)
    corner = np.rint(np.clip(x, 0, 1)).astype(
        int
    )  # nearest corner; noise 0.1 keeps points near theirs
    expected = np.array(TRUTH_TABLES[gate.lower()])[2 * corner[:, 0] + corner[:, 1]]
    np.testing.assert_array_equal(y, expected)
    assert np.bincount(2 * corner[:, 0] + corner[:, 1], minlength=4).tolist() == [100] * 4


def test_spirals_have_one_class_per_arm():
    for n_arms in (2, 3, 4, 7):
        _, y = data.spirals(n_samples=70, n_arms=n_arms)
        assert sorted(np.unique(y)) == list(range(n_arms))


def test_spirals_radius_stays_within_the_unit_disk():
    x, _ = data.spirals(noise=1.0, seed=2)
    assert np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_ring_points_lie_near_their_mode(seed):
    n_modes, radius, noise = 6, 3.0, 0.05
    x, y = data.gaussian_ring(n_samples=600, n_modes=n_modes, radius=radius, noise=noise, seed=seed)
    angle = 2 * np.pi * y / n_modes
    centers = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    assert np.linalg.norm(x - centers, axis=1).max() < 6 * noise
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.05)


def test_circles_inner_ring_has_label_one():
    x, y = data.circles(noise=0.0, factor=0.3)
    radius = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.blobs(n_samples=0), "Expected n_samples >= 1. Received: n_samples=0"),
        (lambda: data.moons(n_samples=2.5), "Expected n_samples >= 1. Received: n_samples=2.5"),
        (lambda: data.circles(noise=-0.1), "Expected noise >= 0. Received: noise=-0.1"),
        (lambda: data.circles(factor=1.0), "Expected 0 < factor < 1. Received: factor=1.0"),
        (lambda: data.spirals(n_arms=1), "Expected n_arms >= 2. Received: n_arms=1"),
        (lambda: data.gaussian_ring(n_modes=0), "Expected n_modes >= 1. Received: n_modes=0"),
        (lambda: data.gaussian_ring(radius=0), "Expected radius > 0. Received: radius=0"),
        (lambda: data.gate_clouds(seed=-1), "Expected seed >= 0. Received: seed=-1"),
        (lambda: data.gate_clouds("xnand"), "Received: gate='xnand'"),
    ],
)
def test_bad_arguments_raise_value_errors_saying_expected_and_received(call, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        call()


def test_unknown_gate_lists_the_valid_gates():
    with pytest.raises(ValueError) as info:
        data.gate_clouds("implies")
    for gate in TRUTH_TABLES:
        assert f"'{gate}'" in str(info.value)


def test_digits_are_the_real_bundled_images():
    x, y = data.digits()
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(np.unique(y)) == list(range(10))
    np.testing.assert_allclose(x * 16, np.rint(x * 16), atol=1e-5)  # 17 ink levels 0..16


def _logistic_regression_accuracy(x, y):
    return LogisticRegression().fit(x, y).score(x, y)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_line_separates_the_blobs_but_not_xor(seed):
    assert _logistic_regression_accuracy(*data.blobs(seed=seed, noise=0.5)) == 1.0
    assert _logistic_regression_accuracy(*data.blobs(seed=seed)) >= 0.97
    # A straight line can get at most three of XOR's four corners right.
    assert _logistic_regression_accuracy(*data.gate_clouds("xor", seed=seed)) <= 0.75
    assert _logistic_regression_accuracy(*data.gate_clouds("and", seed=seed)) >= 0.98


def test_importing_companion_data_does_not_import_tensorflow():
    code = (
        "import sys, companion.data; "
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
