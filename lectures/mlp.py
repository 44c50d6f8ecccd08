"""Neurons, layers, networks

From one artificial neuron to a multi-layer perceptron: a neuron is a weighted sum and a non-linearity,
a layer is one matrix product, a network is layers composed. We build each in NumPy, check it against
Keras, see why the non-linearity matters and what a hidden unit draws, approximate a curve with more
and more units, and classify three interleaved spirals with a softmax output.
"""

import math
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from companion import data
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH, decision_boundary
from companion.seeding import set_seed
from companion.validation import class_labels, training_options
from lectures.logistic_regression import sigmoid

lecture = Lecture(
    "mlp",
    "Neurons, layers, networks",
    expected="the recipe as accurate as scikit-learn's MLPClassifier on held-out 3-arm spirals, the "
    "NumPy layer equal to Keras Dense, and enough ReLU units to fit a curve closely",
    seconds=45,
)

SPIRAL_NOISE = 0.2  # the standard deviation of the angle: arms stay apart, their centre is crowded


def relu(z):
    """The rectified linear unit max(0, z)."""
    return np.maximum(0.0, z)


class nn_layer:  # noqa: N801 (the slides' name)
    """The slides' fully connected layer in NumPy: `n_neurons` ReLU units, each sees all `n_inputs`.

    Weights and biases start uniform in (-0.25, 0.25); `forward` computes ReLU(x W + b) for a
    batch x of shape (batch, n_inputs).
    """

    def __init__(self, n_inputs, n_neurons, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = rng.uniform(-0.25, 0.25, size=(n_inputs, n_neurons))  # (n_inputs, n_neurons)
        self.biases = rng.uniform(-0.25, 0.25, size=n_neurons)  # (n_neurons,)

    def forward(self, inputs):
        self.output = relu(inputs @ self.weights + self.biases)  # (batch, n_neurons)
        return self.output


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The lecture's recipe for classification with integer labels 0, 1, ..., num_classes - 1.

    Two hidden layers of 128 ReLU units and a softmax output of `num_classes = y.max() + 1` units,
    trained on the sparse categorical cross-entropy by Adam in batches of 32, its learning rate
    decaying from 0.01 to 0 along a cosine over 15 epochs. Returns a Keras model whose output is the
    class probabilities, shape (n, num_classes). Features should be on a unit scale (standardise
    them first); any number of features works.
    """
    x, y = class_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=15)
    num_classes = int(y.max()) + 1
    batch_size = global_batch_size(32, strategy)  # 32 per replica
    set_seed(seed)
    with scope(strategy):
        model = keras.Sequential([
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax", dtype="float32"),
        ])
        schedule = keras.optimizers.schedules.CosineDecay(
            0.01, decay_steps=epochs * math.ceil(len(x) / batch_size))
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks, verbose=0)
    return model


def spirals_split(run):
    """Three interleaved spiral arms (noise 0.2), split 70/30 with every arm in both parts."""
    x, y = data.spirals(n_samples=300 if run.fast else 1500, n_arms=3, noise=SPIRAL_NOISE, seed=run.seed)
    return train_test_split(x, y, test_size=0.3, stratify=y, random_state=run.seed)


def _affine_text(weights, bias):
    """'1.3x₁ - 0.5x₂ + 0.7': a unit's weighted sum w·x + b as text."""
    w1, w2, b = (round(float(value), 1) + 0.0 for value in (*weights, bias))  # + 0.0 turns -0.0 into 0.0
    text = f"{w1:.1f}x₁"
    for term in (f"{w2:.1f}x₂", f"{b:.1f}"):
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


@lecture.step("An artificial neuron")
def artificial_neuron(run):
    """A neuron takes inputs x₁ … x_d, multiplies each by a weight, adds them up with a bias,
    z = w₁x₁ + … + w_d x_d + b = w·x + b, and passes the sum through a non-linearity, its
    activation a = g(z). The sigmoid squashes z into (0, 1), tanh into (-1, 1); the rectified linear
    unit ReLU(z) = max(0, z) lets positive sums through and silences the rest. The weighted sum is
    a dot product: one line of NumPy instead of a loop.
    """
    rng = np.random.default_rng(run.seed)
    inputs = rng.normal(size=3)
    weights = rng.normal(size=3)
    bias = 0.5
    z_loop = sum(w_i * x_i for w_i, x_i in zip(weights, inputs)) + bias  # one term per input
    z = np.dot(weights, inputs) + bias
    run.report("inputs x", np.round(inputs, 3))
    run.report("weights w", np.round(weights, 3))
    run.expect("|loop sum - dot product|", abs(z_loop - z), at_most=1e-12)
    run.report("weighted sum z = w·x + b", float(z))
    for name, g in [("sigmoid", sigmoid), ("tanh", np.tanh), ("ReLU", relu)]:
        run.report(f"activation {name}(z)", float(g(z)))

    z_grid = np.linspace(-5, 5, 401)
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4))
    ax.plot(z_grid, sigmoid(z_grid), label="sigmoid 1 / (1 + e⁻ᶻ)")
    ax.plot(z_grid, np.tanh(z_grid), label="tanh z")
    ax.plot(z_grid, relu(z_grid), label="ReLU max(0, z)")
    ax.axvline(z, color="gray", linestyle=":", label=f"this neuron's z = {z:.2f}")
    ax.set(title="Activation functions g(z)", xlabel="weighted sum z = w·x + b", ylabel="activation a",
           ylim=(-1.5, 3))
    ax.legend(loc="upper left")
    run.figure(fig, "activation_functions",
               "A neuron's activation is a non-linear function of its weighted sum z.")


@lecture.step("A layer as one matrix product")
def layer_as_matrix_product(run):
    """A layer is many neurons reading the same inputs. Stack their weight vectors as the columns of
    a matrix W (n_inputs × n_neurons) and the whole layer, for a whole batch of inputs at once, is
    one matrix product: ReLU(x W + b). That is the slides' `nn_layer` class. A Keras `Dense` layer
    computes exactly the same thing: given the same weights with `set_weights`, it gives the same
    outputs.
    """
    rng = np.random.default_rng(run.seed)
    x = rng.normal(size=(6, 4))  # (batch, n_inputs)
    layer = nn_layer(4, 5, seed=run.seed)
    outputs = layer.forward(x)  # (batch, n_neurons)
    by_neuron = np.stack([relu(x @ layer.weights[:, j] + layer.biases[j]) for j in range(5)], axis=1)

    dense = keras.layers.Dense(5, activation="relu")
    dense.build((None, 4))
    dense.set_weights([layer.weights, layer.biases])  # Keras keeps the kernel as (n_inputs, n_neurons) too
    keras_outputs = keras.ops.convert_to_numpy(dense(x.astype("float32")))

    run.report("weights W: shape", layer.weights.shape)
    run.report("weights W: smallest, largest", np.round([layer.weights.min(), layer.weights.max()], 3))
    run.report("outputs: shape", outputs.shape)
    run.report("NumPy outputs of the first example", np.round(outputs[0], 4))
    run.report("Keras outputs of the first example", np.round(keras_outputs[0], 4))
    run.expect("|one neuron at a time - matrix product|", np.abs(by_neuron - outputs).max(),
               at_most=1e-12)
    run.expect("|Keras Dense - NumPy nn_layer| (float32)", np.abs(keras_outputs - outputs).max(),
               at_most=1e-6)


@lecture.step("A network as composition")
def network_as_composition(run):
    """A network feeds one layer's outputs into the next: f(x) = f₃(f₂(f₁(x))). Without the
    non-linearities every layer is affine, x ↦ x W + b, and affine maps compose into one affine
    map: three layers are one matrix W₁W₂W₃ and one bias. Depth buys nothing. With ReLU between
    them, the same weights give a function that bends: a line can no longer describe it.
    """
    x = np.linspace(-4, 4, 401).reshape(-1, 1)  # (401, 1): one input feature
    layers = [nn_layer(1, 32, seed=run.seed), nn_layer(32, 32, seed=run.seed + 1),
              nn_layer(32, 1, seed=run.seed + 2)]

    linear_out, relu_out = x, x
    for number, layer in enumerate(layers):
        linear_out = linear_out @ layer.weights + layer.biases  # no activation
        relu_out = relu_out @ layer.weights + layer.biases
        if number < len(layers) - 1:  # ReLU on the hidden layers, a plain sum at the output
            relu_out = relu(relu_out)

    (w1, b1), (w2, b2), (w3, b3) = [(layer.weights, layer.biases) for layer in layers]
    w = w1 @ w2 @ w3  # (1, 1): the whole linear network as one matrix
    b = (b1 @ w2 + b2) @ w3 + b3
    one_layer = x @ w + b
    run.report("product W₁W₂W₃: shape", w.shape)
    run.expect("|three linear layers - one matrix|", np.abs(linear_out - one_layer).max(), at_most=1e-12)
    line = np.polyval(np.polyfit(x[:, 0], relu_out[:, 0], 1), x[:, 0])
    distance = np.abs(relu_out[:, 0] - line).max()
    spread = np.ptp(relu_out)
    run.report("ReLU network: largest distance from its best straight line, share of its range",
               float(distance / spread))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4))
    left.plot(x, linear_out, linewidth=4, alpha=0.5, label="three linear layers")
    left.plot(x, one_layer, color="black", linestyle="--", label="one matrix W₁W₂W₃")
    left.set(title="Without activations: one straight line", xlabel="input x", ylabel="network output")
    left.legend()
    right.plot(x, relu_out, color="C2", label="three layers with ReLU")
    right.plot(x, line, color="gray", linestyle=":", label="best straight line")
    right.set(title="With ReLU: the same weights bend", xlabel="input x", ylabel="network output")
    right.legend()
    run.figure(fig, "composition", "Linear layers collapse into one matrix; ReLU layers do not.")


@lecture.step("Each hidden unit as a hyperplane")
def hidden_units_as_hyperplanes(run):
    """A hidden ReLU unit is zero on one side of the line w·x + b = 0 (a hyperplane in more
    dimensions) and grows linearly with the distance on the other side: a ramp. We train a network
    with six hidden units on two circles and draw each unit's line and its ramp. The output layer
    adds the ramps up with its own weights, so between the lines everything is linear: the decision
    boundary is a polygon whose corners sit on the units' lines.
    """
    x, y = data.circles(n_samples=200 if run.fast else 600, noise=0.08, factor=0.5, seed=run.seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=run.seed)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    hidden_units = 6
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(hidden_units, activation="relu", name="hidden"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=16, epochs=3 if run.fast else 30, verbose=0,
              callbacks=run.callbacks("hidden_units"))
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    kernel, bias = model.get_layer("hidden").get_weights()  # (2, 6), (6,)

    x1, x2 = np.meshgrid(np.linspace(-2.5, 2.5, 151), np.linspace(-2.5, 2.5, 151))
    grid = np.column_stack([x1.ravel(), x2.ravel()])  # (151², 2)
    z = grid @ kernel + bias  # (151², 6): each unit's weighted sum
    hidden = keras.Model(model.inputs, model.get_layer("hidden").output)
    from_keras = hidden.predict(grid.astype("float32"), batch_size=len(grid), verbose=0)
    run.expect("|NumPy ramps ReLU(x W + b) - Keras hidden layer|", np.abs(relu(z) - from_keras).max(),
               at_most=1e-4)
    run.expect("test accuracy with 6 hidden units", accuracy, at_least=0.9)

    point_colors = np.array([COLORS[0], COLORS[3]])[y_test]  # the classes' colours in decision_boundary
    fig, axes = plt.subplots(2, 4, figsize=(FULL_WIDTH, 5.5), layout="constrained")
    for unit, ax in enumerate(axes.flat[:hidden_units]):
        ax.contourf(x1, x2, relu(z[:, unit]).reshape(x1.shape), levels=12, cmap="Greens")
        ax.contour(x1, x2, z[:, unit].reshape(x1.shape), levels=[0], colors="black")
        ax.set_title(f"unit {unit + 1}: ReLU({_affine_text(kernel[:, unit], bias[unit])})", fontsize=11)
    lines = axes.flat[hidden_units]
    for unit in range(hidden_units):
        lines.contour(x1, x2, z[:, unit].reshape(x1.shape), levels=[0], colors="0.5", linewidths=1)
    p_inner = model.predict(grid.astype("float32"), batch_size=len(grid), verbose=0)[:, 1]
    lines.contour(x1, x2, p_inner.reshape(x1.shape), levels=[0.5], colors="black", linewidths=2.5)
    lines.set_title("the six lines (grey) and the boundary", fontsize=11)
    for ax in axes.flat[:hidden_units + 1]:
        ax.scatter(x_test[:, 0], x_test[:, 1], c=point_colors, s=6, alpha=0.6)
        ax.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), aspect="equal")
        ax.grid(False)
    decision_boundary(model, x_test, y_test, ax=axes.flat[hidden_units + 1],
                      title=f"the network: test accuracy {accuracy:.2f}")
    axes.flat[hidden_units + 1].set_aspect("equal")
    axes.flat[hidden_units + 1].title.set_fontsize(11)
    fig.suptitle("Six hidden ReLU units: each is zero on one side of its line, a ramp (green) on the other")
    run.figure(fig, "hidden_units_as_hyperplanes",
               "Each hidden unit is a ramp beyond a line; the boundary bends only where it crosses a line.")


@lecture.step("Universal approximation")
def universal_approximation(run):
    """A network with one hidden layer of enough units can approximate any continuous function on
    an interval as closely as we like (the universal approximation theorem). With ReLU units the
    network is a sum of hinges: each unit adds one kink at x = -b/w, so n units give a curve of at
    most n + 1 straight pieces. We fit sin(1.5πx) + x/2 with 1, 2, 4, 16 and 64 hidden units; the
    biases start spread over (-1, 1) so that the kinks start inside the interval.
    """
    rng = np.random.default_rng(run.seed)
    target = lambda x: np.sin(1.5 * np.pi * x) + 0.5 * x  # noqa: E731
    x_train = rng.uniform(-1, 1, size=(256 if run.fast else 2048, 1)).astype("float32")
    y_train = target(x_train)
    x_grid = np.linspace(-1, 1, 400).reshape(-1, 1).astype("float32")
    epochs, batch_size = (1 if run.fast else 10), 32
    errors = {}
    fig, axes = plt.subplots(1, 5, figsize=(FULL_WIDTH, 4), sharey=True, layout="constrained")
    for ax, hidden_units in zip(axes, (1, 2, 4, 16, 64)):
        set_seed(run.seed)
        model = keras.Sequential([
            keras.Input(shape=(1,)),
            keras.layers.Dense(hidden_units, activation="relu", kernel_initializer="he_normal",
                               bias_initializer=keras.initializers.RandomUniform(-1, 1)),
            keras.layers.Dense(1),  # a weighted sum of the hinges
        ])
        schedule = keras.optimizers.schedules.CosineDecay(
            0.05, decay_steps=epochs * math.ceil(len(x_train) / batch_size))
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mean_squared_error")
        model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0,
                  callbacks=run.callbacks(f"universal_{hidden_units}"))
        prediction = model.predict(x_grid, batch_size=len(x_grid), verbose=0)
        errors[hidden_units] = float(np.mean((prediction - target(x_grid)) ** 2))
        ax.plot(x_grid, target(x_grid), color="black", linewidth=3, alpha=0.3, label="target")
        ax.plot(x_grid, prediction, color="C0", label="network")
        ax.set(title=f"{hidden_units} hidden unit{'s' * (hidden_units > 1)}\nMSE {errors[hidden_units]:.3f}",
               xlabel="x")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="lower right")
    run.report("mean squared error by hidden units", {k: round(v, 4) for k, v in errors.items()})
    run.report("variance of the target (the MSE of a constant)", float(np.var(target(x_grid))))
    run.expect("MSE with 64 hidden units", errors[64], at_most=0.01)
    run.figure(fig, "universal_approximation",
               "More hidden ReLU units, more kinks: 64 units follow sin(1.5πx) + x/2 closely.")


@lecture.step("Multi-class: softmax and categorical cross-entropy")
def softmax_and_cross_entropy(run):
    """For K classes the output layer has K units and a softmax: p_k = e^(z_k) / Σ_j e^(z_j) turns
    any K scores (logits) into probabilities that are positive and sum to 1. The categorical
    cross-entropy is the negative log of the probability given to the true class,
    L = -mean(log p_{y}). With integer labels Keras calls it "sparse_categorical_crossentropy". The
    lecture's recipe (`train`) learns three interleaved spirals, something no line can separate,
    and we compare it with scikit-learn's `MLPClassifier` on the same split.
    """
    x_train, x_test, y_train, y_test = spirals_split(run)
    model = train(x_train, y_train, epochs=2 if run.fast else None, seed=run.seed, strategy=run.strategy)
    probabilities = model.predict(x_test, verbose=0)  # (n_test, 3)

    # The softmax by hand, from the logits z = h W + b of the last layer.
    hidden = keras.Model(model.inputs, model.layers[-2].output)
    kernel, bias = model.layers[-1].get_weights()
    logits = hidden.predict(x_test, verbose=0) @ kernel + bias  # (n_test, 3)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    by_hand = exp / exp.sum(axis=1, keepdims=True)
    loss_by_hand = -np.mean(np.log(probabilities[np.arange(len(y_test)), y_test]))
    loss_keras = model.evaluate(x_test, y_test, verbose=0)[0]
    run.report("logits of the first test point", np.round(logits[0], 3))
    run.report("softmax of them", np.round(by_hand[0], 3))
    run.expect("|softmax by hand - model output|", np.abs(by_hand - probabilities).max(), at_most=1e-5)
    run.expect("|each row's sum - 1|", np.abs(probabilities.sum(axis=1) - 1).max(), at_most=1e-5)
    run.expect("|test cross-entropy by hand - Keras|", abs(loss_by_hand - loss_keras), at_most=1e-4)

    accuracy = accuracy_score(y_test, probabilities.argmax(axis=1))
    # scikit-learn's defaults (one hidden layer of 100 ReLU units, Adam) stop after 200 epochs,
    # before they converge here; 2000 lets them finish.
    reference = MLPClassifier(max_iter=200 if run.fast else 2000, random_state=run.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fast run stops scikit-learn before it converges
        reference.fit(x_train, y_train)
    reference_accuracy = accuracy_score(y_test, reference.predict(x_test))
    run.expect("test accuracy (Keras, 2 × 128 ReLU units)", accuracy, at_least=0.98)
    run.report("test accuracy (scikit-learn MLPClassifier)", reference_accuracy)
    run.report("scikit-learn's epochs until it converged", reference.n_iter_)
    run.expect("Keras - scikit-learn test accuracy (one test point is "
               f"{1 / len(y_test):.4f})", accuracy - reference_accuracy, at_least=-1 / len(y_test))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 5), layout="constrained")
    decision_boundary(model, x_test, y_test, ax=left,
                      title=f"Keras, the lecture's train(): test accuracy {accuracy:.3f}")
    decision_boundary(reference, x_test, y_test, ax=right,
                      title=f"scikit-learn MLPClassifier: test accuracy {reference_accuracy:.3f}")
    run.figure(fig, "spirals_decision_regions",
               "Softmax decision regions on three spiral arms (test points), Keras vs scikit-learn.")


@lecture.step("Loss functions side by side")
def loss_functions(run):
    """Each loss is the negative log-likelihood of a model of the targets, and assumes that model.
    Binary cross-entropy: a 0/1 label, one sigmoid output p = P(y = 1) (Bernoulli). Categorical
    cross-entropy: exactly one of K classes, a softmax output (categorical); for K = 2 it is the
    binary one. Mean squared error: a real-valued target with Gaussian noise (regression, as in the
    universal approximation step). On probabilities squared error is bounded: a confident mistake
    costs at most 1, and through a sigmoid its gradient vanishes just there, where cross-entropy's
    is largest.
    """
    rng = np.random.default_rng(run.seed)
    y_binary = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    p_binary = rng.uniform(0.05, 0.95, size=5)
    y_class = np.array([0, 2, 1, 2, 0])
    p_class = rng.dirichlet(np.ones(3), size=5)  # (5, 3): rows sum to 1
    y_real, prediction = rng.normal(size=5), rng.normal(size=5)

    bce = float(-np.mean(y_binary * np.log(p_binary) + (1 - y_binary) * np.log(1 - p_binary)))
    cce = float(-np.mean(np.log(p_class[np.arange(5), y_class])))
    mse = float(np.mean((y_real - prediction) ** 2))
    keras_bce = float(keras.losses.BinaryCrossentropy()(y_binary, p_binary))
    keras_cce = float(keras.losses.SparseCategoricalCrossentropy()(y_class, p_class))
    keras_mse = float(keras.losses.MeanSquaredError()(y_real, prediction))
    two_classes = float(keras.losses.SparseCategoricalCrossentropy()(
        y_binary, np.column_stack([1 - p_binary, p_binary])))
    run.report("binary cross-entropy: NumPy, Keras", (round(bce, 5), round(keras_bce, 5)))
    run.report("categorical cross-entropy: NumPy, Keras", (round(cce, 5), round(keras_cce, 5)))
    run.report("mean squared error: NumPy, Keras", (round(mse, 5), round(keras_mse, 5)))
    run.expect("largest |NumPy - Keras| over the three losses",
               max(abs(bce - keras_bce), abs(cce - keras_cce), abs(mse - keras_mse)), at_most=1e-5)
    run.expect("|categorical CE on [1 - p, p] - binary CE on p|", abs(two_classes - keras_bce), at_most=1e-5)

    p = np.linspace(0.001, 0.999, 500)  # the probability given to the true class
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4), layout="constrained")
    left.plot(p, -np.log(p), label="cross-entropy (binary or categorical): -log p")
    left.plot(p, (1 - p) ** 2, label="squared error, one output: (1 - p)²")
    left.plot(p, (1 - p) ** 2 + 2 * ((1 - p) / 2) ** 2, linestyle="--",
              label="squared error summed over 3 one-hot outputs")
    left.set(title="Loss of one example", xlabel="probability given to the true class", ylabel="loss",
             ylim=(0, 5))
    left.legend()
    right.plot(p, 1 - p, label="cross-entropy: 1 - p")
    right.plot(p, 2 * (1 - p) * p * (1 - p), label="squared error: 2(1 - p) p(1 - p)")
    right.set(title="Gradient with respect to the sigmoid's input z",
              xlabel="probability given to the true class", ylabel="|∂loss/∂z|")
    right.legend()
    run.figure(fig, "loss_functions",
               "Cross-entropy punishes confident mistakes without bound; "
               "squared error's gradient vanishes there.")


@lecture.step("The Sequential and the Functional API")
def sequential_and_functional(run):
    """Keras builds the same network two ways. The Sequential API lists the layers in order. The
    Functional API calls each layer on the tensor before it, from an `Input` to the outputs, and
    then wraps inputs and outputs in a `Model`: more typing, but it also allows several inputs or
    outputs and branches. Here the slides' network of 784 inputs (a flattened 28×28 image), two
    hidden layers of 64 ReLU units and 10 softmax outputs, built both ways: same parameter count,
    and with the same weights the same outputs.
    """
    sequential = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])

    inputs = keras.Input(shape=(784,))
    h = keras.layers.Dense(64, activation="relu")(inputs)  # (batch, 64)
    h = keras.layers.Dense(64, activation="relu")(h)
    outputs = keras.layers.Dense(10, activation="softmax")(h)  # (batch, 10)
    functional = keras.Model(inputs=inputs, outputs=outputs)

    by_formula = (784 + 1) * 64 + (64 + 1) * 64 + (64 + 1) * 10  # (inputs + bias) × units per layer
    run.report("parameters per layer (Sequential)", [layer.count_params() for layer in sequential.layers])
    run.report("parameters: Sequential, Functional, (n_in + 1) × n_out summed",
               (sequential.count_params(), functional.count_params(), by_formula))
    run.expect("|Sequential - Functional parameter count|",
               abs(sequential.count_params() - functional.count_params()), at_most=0)

    functional.set_weights(sequential.get_weights())  # the same weights in both
    x = np.random.default_rng(run.seed).uniform(0, 1, size=(8, 784)).astype("float32")  # 8 stand-in images
    difference = np.abs(sequential.predict(x, verbose=0) - functional.predict(x, verbose=0)).max()
    run.expect("|Sequential - Functional outputs| with the same weights", difference, at_most=1e-6)


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "mlp", *sys.argv[1:]]))
