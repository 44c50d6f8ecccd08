"""Backpropagation

The chain rule, by hand and by autodiff. A function is a graph of small gates; each gate knows its
local gradient, and the backward pass multiplies local gradients from the output back to the inputs.
We do it on paper-sized examples, then for the one-hidden-layer sigmoid network in NumPy, check it
against automatic differentiation (`tf.GradientTape` on TensorFlow, `jax.grad` on JAX) and a numeric
gradient, and train the network with it next to Keras' `fit`.
"""

import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from companion import autodiff, data
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH, decision_boundary
from companion.seeding import set_seed
from companion.validation import binary_labels, training_options
from lectures.logistic_regression import sigmoid

lecture = Lecture(
    "backprop",
    "Backpropagation",
    expected=f"hand-written gradients equal to {autodiff.name()}'s and a numeric gradient's, hand-written "
    "SGD following Keras fit, and the recipe classifying held-out moons and circles",
    seconds=40,
)

# The recipe of `train`: the slides' network and plain mini-batch SGD with momentum.
HIDDEN_UNITS = 16
LEARNING_RATE = 0.5
MOMENTUM = 0.9
BATCH_SIZE = 8
EPOCHS = 50

AUTODIFF = autodiff.name()  # what computes the reference gradients: tf.GradientTape or jax.grad
TAPE = AUTODIFF.removeprefix("tf.")  # its short name in the reports: GradientTape or jax.grad

FORWARD_COLOR = COLORS[2]  # green: values of the forward pass
BACKWARD_COLOR = COLORS[3]  # red (vermillion): gradients of the backward pass


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The lecture's recipe: the slides' network, x -> Dense(16, sigmoid) -> Dense(1, sigmoid),
    trained on the binary cross-entropy by mini-batch SGD (batch 8, learning rate 0.5, momentum
    0.9) for 50 epochs. Returns a Keras model whose output is p(y=1|x), shape (n, 1).

    Standardise the features first: the learning rate is chosen for inputs of unit scale.
    """
    x, y = binary_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=EPOCHS)
    set_seed(seed)
    with scope(strategy):
        model = keras.Sequential([
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(HIDDEN_UNITS, activation="sigmoid"),
            keras.layers.Dense(1, activation="sigmoid", dtype="float32"),
        ])
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
    model.fit(x, y, batch_size=global_batch_size(BATCH_SIZE, strategy),  # BATCH_SIZE per replica
              epochs=epochs, callbacks=callbacks, verbose=0)
    return model


@lecture.step("The chain rule, by hand and by autodiff")
def chain_rule(run):
    """For y = w2·exp(w1·x) name the intermediate values: u = w1·x, v = exp(u), y = w2·v. The chain
    rule multiplies the derivatives along the way: ∂y/∂w1 = ∂y/∂v · ∂v/∂u · ∂u/∂w1 = w2 · exp(u) · x,
    ∂y/∂w2 = v and ∂y/∂x = w2 · exp(u) · w1. Automatic differentiation (`tf.GradientTape` on
    TensorFlow, `jax.grad` on JAX) records the same operations during the forward pass and applies
    the same rule backwards: its numbers equal ours.
    """
    x, w1, w2 = 1.5, 0.8, 2.0
    u = w1 * x
    v = np.exp(u)
    by_hand = {"∂y/∂w1": w2 * v * x, "∂y/∂w2": v, "∂y/∂x": w2 * v * w1}

    # y as a function of (w1, w2, x), differentiated in float64 with respect to all three
    y, gradients = autodiff.value_and_gradients(lambda w1, w2, x: w2 * ops.exp(w1 * x),
                                                np.float64(w1), np.float64(w2), np.float64(x))
    by_tape = dict(zip(by_hand, [float(g) for g in gradients]))

    for name in by_hand:
        run.report(f"{name}: by hand / by {TAPE}", f"{by_hand[name]:.6f} / {by_tape[name]:.6f}")
    run.expect(f"largest difference, hand vs {TAPE}",
               max(abs(by_hand[name] - by_tape[name]) for name in by_hand), at_most=1e-12)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.2))
    w1_grid = np.linspace(-0.5, 1.5, 200)
    ax.plot(w1_grid, w2 * np.exp(w1_grid * x), label="y = w2·exp(w1·x), x = 1.5, w2 = 2")
    slope = by_hand["∂y/∂w1"]
    near = np.linspace(w1 - 0.35, w1 + 0.35, 2)
    ax.plot(near, float(y) + slope * (near - w1), color=BACKWARD_COLOR, linestyle="--",
            label=f"tangent at w1 = {w1}: slope ∂y/∂w1 = {slope:.3f}")
    ax.scatter([w1], [float(y)], color=BACKWARD_COLOR, zorder=3)
    ax.set(title="The chain rule gives the slope", xlabel="w1", ylabel="y")
    ax.legend(loc="upper left")
    run.figure(fig, "chain_rule", "The derivative from the chain rule is the slope of the tangent.")


# --- gates: the slides' building blocks of a computational graph ------------------------------------


class AddGate:
    """z = x + y. Backward: the add gate hands the upstream gradient to both inputs unchanged."""

    def forward(self, x, y):
        return x + y

    def backward(self, upstream):
        return upstream, upstream  # ∂z/∂x = ∂z/∂y = 1


class MultiplyGate:
    """z = x · y. Backward: each input gets the upstream gradient times the *other* input."""

    def forward(self, x, y):
        self.x, self.y = x, y  # remembered for the backward pass
        return x * y

    def backward(self, upstream):
        return upstream * self.y, upstream * self.x  # ∂z/∂x = y, ∂z/∂y = x


class ExpGate:
    """z = exp(x). Backward: the local gradient exp(x) is the output itself."""

    def forward(self, x):
        self.z = np.exp(x)
        return self.z

    def backward(self, upstream):
        return upstream * self.z


class ReciprocalGate:
    """z = 1 / x. Backward: the local gradient is -1 / x²."""

    def forward(self, x):
        self.x = x
        return 1.0 / x

    def backward(self, upstream):
        return upstream * (-1.0 / self.x**2)


class SigmoidGate:
    """z = σ(x). Backward: the local gradient σ(x)·(1 - σ(x)) needs only the output."""

    def forward(self, x):
        self.z = sigmoid(x)
        return self.z

    def backward(self, upstream):
        return upstream * self.z * (1 - self.z)


def draw_graph(ax, nodes, edges, *, title):
    """Draw a computational graph: inputs and the output as plain boxes, gates as round boxes, and
    on every edge its forward value (green, above) and the gradient of the output with respect to
    it (red, below). `nodes` maps a name to (x, y, text, kind), kind "input", "gate" or "output";
    `edges` lists (source, target, value, gradient)."""
    def size(text, kind):  # (width, height) of a node's box: wide enough for its text
        height = 0.7 if kind == "gate" else 0.46
        return max(height if kind == "gate" else 0.6, 0.24 * len(text) + 0.2), height

    for x, y, text, kind in nodes.values():
        width, height = size(text, kind)
        gate = kind == "gate"
        ax.add_patch(FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height,
            boxstyle="round,pad=0,rounding_size=0.34" if gate else "round,pad=0,rounding_size=0.08",
            facecolor="#EEF1F5" if gate else "white", edgecolor="0.25", linewidth=1.2, zorder=2))
        ax.text(x, y, text, ha="center", va="center", fontsize=13 if gate else 12, zorder=3,
                fontweight="bold" if gate else "normal")
    for source, target, value, gradient in edges:
        (x0, y0, text0, kind0), (x1, y1, text1, kind1) = nodes[source], nodes[target]
        start = np.array([x0 + size(text0, kind0)[0] / 2, y0])
        end = np.array([x1 - size(text1, kind1)[0] / 2, y1])
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="0.35",
                                     linewidth=1.2, shrinkA=2, shrinkB=2, zorder=1))
        direction = (end - start) / np.linalg.norm(end - start)
        normal = np.array([-direction[1], direction[0]])  # the side above the arrow
        anchor = start + 0.4 * (end - start)
        for side, text, color in ((1, value, FORWARD_COLOR), (-1, gradient, BACKWARD_COLOR)):
            # horizontal text, anchored on the side that faces the edge so it never crosses it
            nx, ny = side * normal
            ax.text(*(anchor + 0.1 * side * normal), _number(text), color=color, fontsize=11,
                    fontweight="bold", zorder=3,
                    ha="right" if nx < -0.3 else "left" if nx > 0.3 else "center",
                    va="bottom" if ny > 0.3 else "top" if ny < -0.3 else "center")
    xs = [x for x, *_ in nodes.values()]
    ys = [y for _, y, *_ in nodes.values()]
    ax.set(xlim=(min(xs) - 0.5, max(xs) + 0.5), ylim=(min(ys) - 0.5, max(ys) + 0.5))
    ax.set_title(title, pad=12)
    ax.set_aspect("equal")
    ax.axis("off")


def _number(value):
    """A value on an edge: integers as integers, others with 3 significant digits; a true minus."""
    value = float(value)
    text = f"{value:.0f}" if value == round(value) else f"{value:.3g}"
    return text.replace("-", "\u2212")


def _legend_note(fig):
    fig.supxlabel("green, above an edge: its forward value\nred, below: the gradient of f with respect to it",
                  fontsize=11, color="0.3")


@lecture.step("A computational graph of gates")
def computational_graph(run):
    """f(x, y, z) = (x + y)·z is two gates: q = x + y, then f = q·z. The forward pass computes the
    values left to right: at x = -2, y = 5, z = -4, q = 3 and f = -12. The backward pass starts with
    ∂f/∂f = 1 and goes right to left. The multiply gate swaps its inputs: ∂f/∂q = z = -4 and
    ∂f/∂z = q = 3. The add gate passes its upstream gradient through: ∂f/∂x = ∂f/∂y = -4.
    """
    x, y, z = -2.0, 5.0, -4.0
    add, multiply = AddGate(), MultiplyGate()
    q = add.forward(x, y)  # forward pass, left to right
    f = multiply.forward(q, z)
    dq, dz = multiply.backward(1.0)  # backward pass, right to left, starting from ∂f/∂f = 1
    dx, dy = add.backward(dq)

    by_tape = [float(g) for g in autodiff.gradients(lambda x, y, z: (x + y) * z,
                                                    np.float64(x), np.float64(y), np.float64(z))]

    run.report("forward: q = x + y, f = q·z", f"q = {q:g}, f = {f:g}")
    run.report("backward: ∂f/∂x, ∂f/∂y, ∂f/∂z", f"{dx:g}, {dy:g}, {dz:g}")
    run.report(f"{TAPE}: ∂f/∂x, ∂f/∂y, ∂f/∂z", ", ".join(f"{g:g}" for g in by_tape))
    run.expect("largest difference from the slides' gradients (-4, -4, 3)",
               np.max(np.abs(np.array([dx, dy, dz]) - [-4, -4, 3])), at_most=0)

    nodes = {
        "x": (0, 2.4, "x", "input"), "y": (0, 1.0, "y", "input"), "z": (0, -0.6, "z", "input"),
        "add": (2.6, 1.7, "+", "gate"), "multiply": (5.2, 0.55, "×", "gate"),
        "f": (7.4, 0.55, "f", "output"),
    }
    edges = [("x", "add", x, dx), ("y", "add", y, dy), ("add", "multiply", q, dq),
             ("z", "multiply", z, dz), ("multiply", "f", f, 1.0)]
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.4))
    draw_graph(ax, nodes, edges, title="f(x, y, z) = (x + y)·z")
    _legend_note(fig)
    run.figure(fig, "computational_graph", "The graph of f = (x + y)·z: forward values in green, "
               "backward gradients in red.")


@lecture.step("A sigmoid gate, and why local gradients compose")
def sigmoid_gate(run):
    """A neuron f(w, x) = σ(w0·x0 + w1·x1 + w2) with the slides' numbers w = (2, -3, -3),
    x = (-1, -2). σ(s) = 1 / (1 + e^-s) can be written with elementary gates (multiply by -1, exp,
    add 1, reciprocal), each with its own local gradient; backpropagating through all four gives the
    same result as one sigmoid gate whose local gradient is σ(s)·(1 - σ(s)). Any group of gates can be
    treated as one gate: what matters is that each piece knows its local gradient.
    """
    w0, w1, w2, x0, x1 = 2.0, -3.0, -3.0, -1.0, -2.0
    products = [MultiplyGate(), MultiplyGate()]
    sums = [AddGate(), AddGate()]
    s = sums[1].forward(sums[0].forward(products[0].forward(w0, x0), products[1].forward(w1, x1)), w2)

    # the sigmoid as four elementary gates: σ(s) = 1 / (1 + exp(-1 · s))
    negate, exponential, plus_one, reciprocal = MultiplyGate(), ExpGate(), AddGate(), ReciprocalGate()
    minus_s = negate.forward(s, -1.0)
    e = exponential.forward(minus_s)
    one_plus_e = plus_one.forward(e, 1.0)
    f = reciprocal.forward(one_plus_e)
    d_one_plus_e = reciprocal.backward(1.0)
    d_e, _ = plus_one.backward(d_one_plus_e)
    d_minus_s = exponential.backward(d_e)
    ds_elementary, _ = negate.backward(d_minus_s)

    sigmoid_as_one_gate = SigmoidGate()
    f_gate = sigmoid_as_one_gate.forward(s)
    ds = sigmoid_as_one_gate.backward(1.0)

    d_sum0, dw2 = sums[1].backward(ds)  # back through the sums and the products to the inputs
    d_product0, d_product1 = sums[0].backward(d_sum0)
    dw0, dx0 = products[0].backward(d_product0)
    dw1, dx1 = products[1].backward(d_product1)
    by_gates = np.array([dw0, dw1, dw2, dx0, dx1])

    by_tape = np.array([float(g) for g in autodiff.gradients(
        lambda w0, w1, w2, x0, x1: ops.sigmoid(w0 * x0 + w1 * x1 + w2),
        *np.array([w0, w1, w2, x0, x1], dtype="float64"))])

    run.report("s = w0·x0 + w1·x1 + w2, f = σ(s)", f"s = {s:g}, f = {f:.4f}")
    run.report("∂f/∂s through four elementary gates", float(ds_elementary))
    run.report("∂f/∂s through one sigmoid gate, σ(s)(1 - σ(s))", float(ds))
    run.report("∂f/∂(w0, w1, w2)", np.round(by_gates[:3], 4))
    run.report("∂f/∂(x0, x1)", np.round(by_gates[3:], 4))
    run.expect("difference between the elementary gates and the sigmoid gate",
               max(abs(ds - ds_elementary), abs(f - f_gate)), at_most=1e-12)
    run.expect(f"largest difference from {TAPE}", np.max(np.abs(by_gates - by_tape)), at_most=1e-12)

    neuron = {
        "w0": (0, 5.6, "w0", "input"), "x0": (0, 4.2, "x0", "input"),
        "w1": (0, 2.8, "w1", "input"), "x1": (0, 1.4, "x1", "input"), "w2": (0, 0.0, "w2", "input"),
        "product0": (2.6, 4.9, "×", "gate"), "product1": (2.6, 2.1, "×", "gate"),
        "sum0": (4.6, 3.3, "+", "gate"), "sum1": (6.6, 1.2, "+", "gate"),
    }
    neuron_edges = [
        ("w0", "product0", w0, dw0), ("x0", "product0", x0, dx0),
        ("w1", "product1", w1, dw1), ("x1", "product1", x1, dx1),
        ("product0", "sum0", w0 * x0, d_product0), ("product1", "sum0", w1 * x1, d_product1),
        ("sum0", "sum1", w0 * x0 + w1 * x1, d_sum0), ("w2", "sum1", w2, dw2),
    ]
    elementary = {
        **neuron,
        "negate": (8.8, 1.2, "×\u22121", "gate"), "exp": (11.0, 1.2, "exp", "gate"),
        "plus_one": (13.2, 1.2, "+1", "gate"), "reciprocal": (15.4, 1.2, "1/x", "gate"),
        "f": (17.4, 1.2, "f", "output"),
    }
    elementary_edges = neuron_edges + [
        ("sum1", "negate", s, ds_elementary), ("negate", "exp", minus_s, d_minus_s),
        ("exp", "plus_one", e, d_e), ("plus_one", "reciprocal", one_plus_e, d_one_plus_e),
        ("reciprocal", "f", f, 1.0),
    ]
    # below, the same s through one σ gate, lined up under the four gates it replaces
    one_gate = {"s": (6.6, 0, "s", "input"), "sigmoid": (12.1, 0, "σ", "gate"), "f": (17.4, 0, "f", "output")}
    one_gate_edges = [("s", "sigmoid", s, ds), ("sigmoid", "f", f_gate, 1.0)]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FULL_WIDTH, 5.5), height_ratios=(6.6, 1.0))
    draw_graph(top, elementary, elementary_edges, title="σ(w0·x0 + w1·x1 + w2) as four elementary gates")
    draw_graph(bottom, one_gate, one_gate_edges,
               title=f"σ as one gate from the same s: local gradient σ(s)(1 - σ(s)) = {ds:.3f}")
    bottom.set_xlim(top.get_xlim())
    _legend_note(fig)
    run.figure(fig, "sigmoid_gate", "A sigmoid neuron with σ as four elementary gates (top) or as one "
               "gate (bottom): the same gradient with respect to s, so the same gradients for the weights "
               "and inputs.")


# --- the slides' network: x (n, d) -> sigmoid hidden layer (n, h) -> sigmoid output (n, 1) --------


def init_params(num_features, hidden_units, seed=0):
    """Parameters of the network, drawn like Keras' defaults (Glorot-uniform weights, zero biases):
    W1 (d, h), b1 (h,), W2 (h, 1), b2 (1,)."""
    rng = np.random.default_rng(seed)
    limit1 = np.sqrt(6 / (num_features + hidden_units))
    limit2 = np.sqrt(6 / (hidden_units + 1))
    return {
        "W1": rng.uniform(-limit1, limit1, size=(num_features, hidden_units)),
        "b1": np.zeros(hidden_units),
        "W2": rng.uniform(-limit2, limit2, size=(hidden_units, 1)),
        "b2": np.zeros(1),
    }


def forward(params, x):
    """The forward pass: p = σ(σ(x W1 + b1) W2 + b2), shape (n, 1), and the values the backward
    pass needs (x, a1, p)."""
    s1 = x @ params["W1"] + params["b1"]  # (n, h)
    a1 = sigmoid(s1)  # (n, h)
    s2 = a1 @ params["W2"] + params["b2"]  # (n, 1)
    p = sigmoid(s2)  # (n, 1)
    return p, (x, a1, p)


def loss(params, x, y):
    """The mean binary cross-entropy, from the logits s2: log(1 + e^s2) - y·s2, which is exact
    where p rounds to 0 or 1."""
    s2 = sigmoid(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]  # (n, 1)
    return float(np.mean(np.logaddexp(0, s2[:, 0]) - y * s2[:, 0]))


def backward(params, cache, y):
    """The backward pass: the gradient of the mean cross-entropy, one array per parameter, each
    the shape of its parameter. y has shape (n,)."""
    x, a1, p = cache
    delta2 = (p - y.reshape(-1, 1)) / len(x)  # ∂L/∂s2, (n, 1): σ' and the log's derivative cancel
    gradients = {
        "W2": a1.T @ delta2,  # (h, n) @ (n, 1) -> (h, 1)
        "b2": delta2.sum(axis=0),  # (1,)
    }
    delta1 = (delta2 @ params["W2"].T) * a1 * (1 - a1)  # ∂L/∂s1, (n, 1) @ (1, h) -> (n, h), times σ'
    gradients["W1"] = x.T @ delta1  # (d, n) @ (n, h) -> (d, h)
    gradients["b1"] = delta1.sum(axis=0)  # (h,)
    return {name: gradients[name] for name in params}


def tape_gradients(params, x, y):
    """The same gradients from Keras and automatic differentiation (`tf.GradientTape` on
    TensorFlow, `jax.grad` on JAX), in float64: the network as a Keras model with our weights, the
    loss as Keras' binary cross-entropy (also in float64: Keras losses compute in float32 unless
    told otherwise, which alone costs about 1e-8; on JAX, Keras takes means in float32 even so,
    and the two agree to about 1e-8 there)."""
    num_features, hidden_units = params["W1"].shape
    with autodiff.float64():  # JAX keeps float64 weights only inside this
        model = keras.Sequential([
            keras.Input(shape=(num_features,), dtype="float64"),
            keras.layers.Dense(hidden_units, activation="sigmoid", dtype="float64"),
            keras.layers.Dense(1, activation="sigmoid", dtype="float64"),
        ])
        model.set_weights([params["W1"], params["b1"], params["W2"], params["b2"]])
        cross_entropy = keras.losses.BinaryCrossentropy(dtype="float64")
        gradients = autodiff.model_gradients(  # W1, b1, W2, b2 in order
            model, lambda p: cross_entropy(y.reshape(-1, 1), p), x)
    return {name: gradient for name, gradient in zip(params, gradients)}


def numeric_gradients(loss_function, params, step=1e-5):
    """Central differences (L(θ + h) - L(θ - h)) / 2h, one parameter entry at a time."""
    gradients = {}
    for name, value in params.items():
        gradient = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {**params, name: value.copy()}
            shifted[name][index] = value[index] + step
            above = loss_function(shifted)
            shifted[name][index] = value[index] - step
            below = loss_function(shifted)
            gradient[index] = (above - below) / (2 * step)
        gradients[name] = gradient
    return gradients


@lecture.step("Backprop through the network, in NumPy")
def network_backprop(run):
    """The slides' network: s1 = x W1 + b1, a1 = σ(s1), s2 = a1 W2 + b2, p = σ(s2), with x (n, d),
    W1 (d, h), b1 (h,), W2 (h, 1), b2 (1,), and the loss L = mean binary cross-entropy. Going
    backwards: ∂L/∂s2 = (p - y) / n (the sigmoid's derivative cancels against the log's);
    ∂L/∂W2 = a1ᵀ ∂L/∂s2 and ∂L/∂b2 = the column sums; ∂L/∂a1 = ∂L/∂s2 W2ᵀ; ∂L/∂s1 =
    ∂L/∂a1 ⊙ a1(1 - a1); ∂L/∂W1 = xᵀ ∂L/∂s1 and ∂L/∂b1 = its column sums. Every gradient has the
    shape of its parameter, which tells where the transposes go. We check the result against Keras
    with automatic differentiation (`tf.GradientTape` on TensorFlow, `jax.grad` on JAX; in float64)
    and against central differences.
    """
    rng = np.random.default_rng(run.seed)
    num_samples, num_features, hidden_units = 7, 3, 5  # all different, so a wrong shape shows
    x = rng.normal(size=(num_samples, num_features))
    y = (rng.uniform(size=num_samples) < 0.5).astype(float)
    params = init_params(num_features, hidden_units, seed=run.seed)
    params["b1"] = rng.normal(scale=0.5, size=hidden_units)  # not zero, so their gradients are tested
    params["b2"] = rng.normal(scale=0.5, size=1)

    p, cache = forward(params, x)
    by_hand = backward(params, cache, y)
    by_tape = tape_gradients(params, x, y)
    by_differences = numeric_gradients(lambda shifted: loss(shifted, x, y), params)

    for name, gradient in by_hand.items():
        run.report(f"∂L/∂{name}: shape of the parameter / of the gradient",
                   f"{params[name].shape} / {gradient.shape}")
    tape_error = {name: np.max(np.abs(by_hand[name] - by_tape[name])) for name in params}
    numeric_error = {name: np.max(np.abs(by_hand[name] - by_differences[name])) for name in params}
    run.report("∂L/∂W2 by hand", np.round(by_hand["W2"][:, 0], 5))
    run.report(f"∂L/∂W2 by {TAPE}", np.round(by_tape["W2"][:, 0], 5))
    run.expect(f"largest difference, hand vs {TAPE}", max(tape_error.values()), at_most=1e-6)
    run.expect("largest difference, hand vs central differences", max(numeric_error.values()),
               at_most=1e-6)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4))
    positions = np.arange(len(params))
    for shift, (label, errors, color) in zip((-0.2, 0.2), (
            (f"vs {AUTODIFF}", tape_error, COLORS[0]),
            ("vs central differences (h = 1e-5)", numeric_error, COLORS[1]))):
        # an exact match (0) is drawn at the bottom of the axis, at the float64 resolution
        heights = [max(errors[name], 1e-18) for name in params]
        ax.bar(positions + shift, heights, width=0.4, label=label, color=color)
        for position, name in zip(positions, params):
            if errors[name] == 0:
                ax.text(position + shift, 2e-18, "exactly 0", ha="center", va="bottom", fontsize=10,
                        rotation=90, color="0.3")
    ax.axhline(1e-6, color="0.3", linestyle="--", linewidth=1)
    ax.text(len(params) - 0.5, 1.4e-6, "tolerance 1e-6", ha="right", va="bottom", color="0.3")
    ax.set_yscale("log")
    ax.set_ylim(1e-18, 1e-3)
    ax.set_xticks(positions, [f"∂L/∂{name}" for name in params])
    ax.set(title="Hand-written backprop: largest difference per gradient",
           ylabel="max |hand - reference|")
    ax.legend(loc="upper left")
    run.figure(fig, "network_gradient_check", f"Hand-written gradients agree with {TAPE} to "
               f"{max(tape_error.values()):.0e} and with central differences to "
               f"{max(numeric_error.values()):.0e}.")


# --- L layers ------------------------------------------------------------------------------------


def backprop_layers(weights, biases, x, y):
    """Backpropagation through L sigmoid layers (the last one the output p, shape (n, 1)) for the
    mean cross-entropy. weights[l] has shape (units of layer l, units of layer l + 1).

    Returns the gradients of the weights and biases, and the stored deltas ∂L/∂s_l per layer.
    """
    activations = [x]  # a_0 = x, then a_l = σ(a_{l-1} W_l + b_l): the forward pass keeps them all
    for weight, bias in zip(weights, biases):
        activations.append(sigmoid(activations[-1] @ weight + bias))
    deltas = [None] * len(weights)
    deltas[-1] = (activations[-1] - y.reshape(-1, 1)) / len(x)  # ∂L/∂s_L, (n, 1)
    for layer in range(len(weights) - 2, -1, -1):  # reuse the delta of the layer above
        a = activations[layer + 1]
        deltas[layer] = (deltas[layer + 1] @ weights[layer + 1].T) * a * (1 - a)  # (n, units)
    weight_gradients = [a.T @ delta for a, delta in zip(activations[:-1], deltas)]
    bias_gradients = [delta.sum(axis=0) for delta in deltas]
    return weight_gradients, bias_gradients, deltas


def layers_loss(weights, biases, x, y):
    """The mean cross-entropy of the L-layer network, by a plain forward pass."""
    p = x
    for weight, bias in zip(weights, biases):
        p = sigmoid(p @ weight + bias)
    return float(np.mean(-y * np.log(p[:, 0]) - (1 - y) * np.log(1 - p[:, 0])))


def layers_loss_tensor(weights, biases, x, y):
    """`layers_loss` written with keras.ops, so that autodiff can differentiate it: the weights and
    biases are backend tensors, the loss a scalar tensor."""
    a = ops.convert_to_tensor(x)
    for weight, bias in zip(weights, biases):
        a = ops.sigmoid(a @ weight + bias)
    # the cross-entropy of the probabilities a, as `layers_loss` computes it (a copy: on TensorFlow
    # Keras remembers that a came from a sigmoid and would switch to its logits formula)
    return ops.mean(keras.losses.binary_crossentropy(y.reshape(-1, 1), ops.copy(a)))


@lecture.step("Backpropagation for L layers")
def backprop_for_l_layers(run):
    """With L layers s_l = a_(l-1) W_l + b_l, a_l = σ(s_l), the backward pass stores δ_l = ∂L/∂s_l
    for each layer and reuses it: δ_(l-1) = (δ_l W_lᵀ) ⊙ σ'(s_(l-1)), and then ∂L/∂W_l = a_(l-1)ᵀ δ_l,
    ∂L/∂b_l = the column sums of δ_l. One backward pass costs about as much as the forward pass,
    for all parameters at once; a numeric gradient needs two forward passes per parameter. Each
    step back multiplies by σ' ≤ 1/4: in a deep sigmoid network the early layers get small gradients.
    """
    rng = np.random.default_rng(run.seed)
    layer_units = [2, 8, 8, 8, 8, 8, 1]  # input, five hidden layers, output
    x = rng.normal(size=(64, layer_units[0]))
    y = (x[:, 0] * x[:, 1] > 0).astype(float)  # XOR-like labels
    weights = [rng.normal(scale=np.sqrt(2 / (fan_in + fan_out)), size=(fan_in, fan_out))
               for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:])]
    biases = [np.zeros(units) for units in layer_units[1:]]

    start = time.perf_counter()
    weight_gradients, bias_gradients, deltas = backprop_layers(weights, biases, x, y)
    backprop_seconds = time.perf_counter() - start

    by_tape = autodiff.gradients(  # with respect to all weights, then all biases
        lambda *parameters: layers_loss_tensor(parameters[:len(weights)], parameters[len(weights):], x, y),
        *weights, *biases)
    difference = max(np.max(np.abs(mine - theirs)) for mine, theirs in
                     zip(weight_gradients + bias_gradients, by_tape))

    num_parameters = sum(w.size + b.size for w, b in zip(weights, biases))
    start = time.perf_counter()
    numeric = numeric_gradients(lambda shifted: layers_loss(list(shifted.values()), biases, x, y),
                                dict(enumerate(weights)))
    numeric_seconds = time.perf_counter() - start
    numeric_difference = max(np.max(np.abs(weight_gradients[i] - numeric[i])) for i in numeric)

    run.report("parameters", num_parameters)
    run.expect(f"largest difference, L-layer backprop vs {TAPE}", difference, at_most=1e-6)
    run.expect("largest weight-gradient difference vs central differences", numeric_difference,
               at_most=1e-6)
    run.report("backprop: seconds for all gradients", backprop_seconds)
    run.report(f"central differences: seconds for the {sum(w.size for w in weights)} weights "
               "(2 forward passes each)", numeric_seconds)
    sizes = [float(np.mean(np.abs(delta))) for delta in deltas]
    run.report("mean |∂L/∂W_l| per layer, first to last",
               ", ".join(f"{np.mean(np.abs(g)):.1e}" for g in weight_gradients))
    run.report("mean |δ| at the output / at layer 1", sizes[-1] / sizes[0])

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4))
    layers = np.arange(1, len(deltas) + 1)
    ax.bar(layers - 0.2, sizes, width=0.4, label="stored δ_l = ∂L/∂s_l (mean |·|)", color=COLORS[3])
    ax.bar(layers + 0.2, [float(np.mean(np.abs(g))) for g in weight_gradients], width=0.4,
           label="∂L/∂W_l (mean |·|)", color=COLORS[0])
    ax.set_yscale("log")
    ax.set_xticks(layers, [f"layer {layer}" + ("\n(output)" if layer == len(deltas) else "")
                           for layer in layers])
    ax.set(title="Backward, each layer multiplies by σ' ≤ 1/4",
           ylabel="mean absolute value")
    ax.legend(loc="upper left")
    run.figure(fig, "deltas_per_layer", "The deltas stored by backprop, layer by layer: in a deep "
               "sigmoid network they shrink towards the input.")


# --- training with our gradients -----------------------------------------------------------------


def moons_split(run):
    """Two noisy moons, standardised, split 70/30 into train and test."""
    x, y = data.moons(n_samples=120 if run.fast else 400, noise=0.2, seed=run.seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=run.seed)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


@lecture.step("Hand-written training vs Keras fit")
def hand_written_vs_keras(run):
    """With `backward` we can train the network: for each mini-batch, forward, backward, and move
    every parameter against its gradient, here with momentum (v ← 0.9·v - α·g, θ ← θ + v). Keras'
    `fit` does the same with automatic differentiation: given the same starting weights, the same batches
    in the same order (`shuffle=False`) and `SGD(momentum=0.9)`, its loss curve lies on ours.
    """
    x_train, x_test, y_train, y_test = moons_split(run)
    epochs = 3 if run.fast else EPOCHS
    initial = init_params(2, HIDDEN_UNITS, seed=run.seed)

    params = {name: value.copy() for name, value in initial.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    numpy_losses = []
    for _ in range(epochs):
        summed_loss = 0.0
        for start in range(0, len(x_train), BATCH_SIZE):
            x_batch = x_train[start:start + BATCH_SIZE]  # (batch, 2); the last batch may be smaller
            y_batch = y_train[start:start + BATCH_SIZE]  # (batch,)
            summed_loss += loss(params, x_batch, y_batch) * len(x_batch)
            p, cache = forward(params, x_batch)
            gradients = backward(params, cache, y_batch)
            for name in params:
                velocity[name] = MOMENTUM * velocity[name] - LEARNING_RATE * gradients[name]
                params[name] = params[name] + velocity[name]
        numpy_losses.append(summed_loss / len(x_train))  # the epoch's mean over examples, as Keras

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(HIDDEN_UNITS, activation="sigmoid"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.set_weights([initial["W1"], initial["b1"], initial["W2"], initial["b2"]])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs, shuffle=False,
                        verbose=0, callbacks=run.callbacks("keras_sgd"))

    numpy_accuracy = accuracy_score(y_test, forward(params, x_test)[0][:, 0] >= 0.5)
    keras_accuracy = accuracy_score(y_test, model.predict(x_test, verbose=0)[:, 0] >= 0.5)
    keras_losses = history.history["loss"]
    run.report("final training loss: NumPy / Keras", f"{numpy_losses[-1]:.5f} / {keras_losses[-1]:.5f}")
    run.report("test accuracy: NumPy / Keras", f"{numpy_accuracy:.3f} / {keras_accuracy:.3f}")
    run.expect("largest difference between the loss curves",
               np.max(np.abs(np.array(numpy_losses[-len(keras_losses):]) - keras_losses)), at_most=1e-3)
    run.expect("test accuracy of the hand-written training", numpy_accuracy, at_least=0.9)

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4.2))
    epochs_axis = np.arange(1, epochs + 1)
    left.plot(epochs_axis, numpy_losses, color=COLORS[0], linewidth=3, alpha=0.6,
              label="NumPy backprop")
    left.plot(epochs_axis[-len(keras_losses):], keras_losses, color=COLORS[1], linestyle="--",
              label="Keras fit (same start\nand batches)")
    left.set(title="Training loss per epoch", xlabel="epoch", ylabel="cross-entropy")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.legend(loc="upper right")
    decision_boundary(lambda grid: forward(params, grid)[0], x_test, y_test, ax=middle,
                      title=f"NumPy: test accuracy {numpy_accuracy:.2f}")
    decision_boundary(model, x_test, y_test, ax=right, title=f"Keras: test accuracy {keras_accuracy:.2f}")
    run.figure(fig, "numpy_vs_keras", "Hand-written backprop and Keras fit: the same loss curve and "
               "the same boundary on the test moons.")


@lecture.step("The recipe on moons and circles")
def recipe(run):
    """The lecture's `train` packs the recipe into one call: the network in Keras, SGD with
    momentum, mini-batches of 8 reshuffled every epoch. On two curved problems, moons and a circle
    inside a circle, the sigmoid hidden layer bends the boundary where a line could not.
    """
    n_samples = 120 if run.fast else 400
    problems = {
        "moons": data.moons(n_samples=n_samples, noise=0.2, seed=run.seed),
        "circles": data.circles(n_samples=n_samples, noise=0.1, seed=run.seed),
    }
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.2))
    for ax, (name, (x, y)) in zip(axes, problems.items()):
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.3, stratify=y, random_state=run.seed)
        scaler = StandardScaler().fit(x_train)
        model = train(scaler.transform(x_train), y_train, epochs=3 if run.fast else None,
                      seed=run.seed, strategy=run.strategy)
        accuracy = accuracy_score(y_test, model.predict(scaler.transform(x_test), verbose=0)[:, 0] >= 0.5)
        run.expect(f"test accuracy on {name}", accuracy, at_least=0.9)
        decision_boundary(model, scaler.transform(x_test), y_test, ax=ax,
                          title=f"{name}: test accuracy {accuracy:.2f}")
    run.figure(fig, "recipe", "The recipe's decision boundaries on test moons and circles.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "backprop", *sys.argv[1:]]))
