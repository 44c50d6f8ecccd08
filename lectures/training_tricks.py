"""Training tricks

How to make deep networks train: non-linearities that do not saturate, batch normalisation,
regularisation against overfitting, a good initialisation, adaptive optimizers and residual
connections. Every step measures its effect on a real training run (mostly scikit-learn's
handwritten digits, flattened to 64 features) and draws it; the lecture's `train` recipe puts the
tricks together: a deep MLP with batch normalisation, a residual connection, dropout and weight
decay, which matches an RBF support vector machine on flattened images.
"""

import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from companion import autodiff, data
from companion.activations import ActivationRecorder
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH, activation_histograms
from companion.seeding import set_seed
from companion.validation import class_labels, training_options

lecture = Lecture(
    "training_tricks",
    "Training tricks",
    expected="ReLU keeps the first layer's gradient where sigmoid loses it, batch norm and residual "
    "connections train a deep net that fails without them, regularisation narrows the "
    "train-validation gap, a decaying learning rate beats constant ones, and the recipe classifies held-out "
    "digits well",
    seconds=120,
)


BATCH_SIZE = 32
EPOCHS = 50


def feature_scaling(x):
    """The centre and variance the recipe's first layer uses for each feature of `x` (n, features):
    the feature's median, and the mean square of its deviations from the median over the examples
    where it deviates at all.

    For an ordinary measurement this is about its variance, in whatever unit it comes. For a
    feature that almost always takes one value (a pixel near the border, nearly always 0) it is the
    size of its rare deviations: plain standardisation would blow a rare stroke of ink up to
    tens of standard deviations, louder than any pixel in the middle of the image.
    """
    center = np.median(x, axis=0)
    deviations = x - center  # (n, features)
    moved = np.count_nonzero(deviations, axis=0)
    variance = np.sum(deviations**2, axis=0) / np.maximum(moved, 1)
    return center, np.where(variance > 0, variance, 1.0)  # a constant feature stays 0 after centring


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=(), hidden_units=256, blocks=1):
    """The lecture's recipe for tabular data: a deep MLP with batch normalisation, a residual
    connection and dropout (Functional API), trained by AdamW. `x` is (n, features), `y` integer
    classes 0..num_classes-1; the model outputs class probabilities, (n, num_classes).

    The first layer scales each feature by `feature_scaling(x)`, so raw features (pixel
    intensities, measurements in any unit) can go in as they are. Dropout of 20% of the inputs and
    50% of the last hidden units, weight decay 0.1 and a learning rate that decays from 0.002 to 0
    along a cosine over `EPOCHS` = 50 epochs of batches of 32 regularise it: on small data sets
    the network is much bigger than the data, and these keep it from memorising.
    """
    x, y = class_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=EPOCHS)
    set_seed(seed)
    num_classes = int(y.max()) + 1
    center, variance = feature_scaling(x)
    batch_size = global_batch_size(BATCH_SIZE, strategy)  # BATCH_SIZE per replica
    with scope(strategy):
        inputs = keras.Input(shape=(x.shape[1],))
        h = keras.layers.Normalization(mean=center, variance=variance)(inputs)
        h = keras.layers.Dropout(0.2)(h)
        h = keras.layers.Dense(hidden_units, use_bias=False)(h)  # (batch, hidden_units)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Activation("relu")(h)
        for _ in range(blocks):  # residual block: h + F(h), F = Dense-BN-ReLU-Dense-BN
            branch = keras.layers.Dense(hidden_units, use_bias=False)(h)
            branch = keras.layers.BatchNormalization()(branch)
            branch = keras.layers.Activation("relu")(branch)
            branch = keras.layers.Dense(hidden_units, use_bias=False)(branch)
            branch = keras.layers.BatchNormalization()(branch)
            h = keras.layers.Activation("relu")(keras.layers.Add()([h, branch]))
        h = keras.layers.Dropout(0.5)(h)
        # (batch, num_classes), in float32 whatever the precision (`--precision mixed`)
        outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")(h)
        model = keras.Model(inputs, outputs, name="residual_mlp")
        schedule = keras.optimizers.schedules.CosineDecay(
            0.002, decay_steps=epochs * math.ceil(len(x) / batch_size))
        model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.1),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks, verbose=0)
    return model


def digits_split(run, n_samples=None, seed=None):
    """Flattened digits (64 features), standardised, split 75/25 into train and test (stratified).

    `n_samples` keeps a random subset first (fast mode uses 500 of the 1,797 images).
    """
    seed = run.seed if seed is None else seed
    x, y = data.digits()
    x = x.reshape(len(x), -1)  # (1797, 64)
    n_samples = n_samples or (500 if run.fast else len(x))
    if n_samples < len(x):
        x, _, y, _ = train_test_split(x, y, train_size=n_samples, stratify=y, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train).astype("float32"), scaler.transform(x_test).astype("float32"),
            y_train, y_test)


def deep_mlp(activation, *, depth, hidden_units, num_classes=10, input_dim=64, batch_norm=False,
             kernel_initializer="glorot_uniform"):
    """`depth` hidden layers of `hidden_units` units (Sequential), named hidden_1 ... hidden_<depth>.

    With `batch_norm`, each hidden layer is Dense (no bias: BN's β replaces it) -> BatchNormalization
    -> Activation, and the Activation layer carries the name.
    """
    layers = [keras.Input(shape=(input_dim,))]
    for index in range(1, depth + 1):
        if batch_norm:
            layers += [keras.layers.Dense(hidden_units, use_bias=False, name=f"dense_{index}"),
                       keras.layers.BatchNormalization(name=f"batch_norm_{index}"),
                       keras.layers.Activation(activation, name=f"hidden_{index}")]
        else:
            layers.append(keras.layers.Dense(hidden_units, activation=activation,
                                             kernel_initializer=kernel_initializer,
                                             name=f"hidden_{index}"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return keras.Sequential(layers)


def accuracy(model, x, y):
    """The share of examples in (x, y) the model classifies correctly, in inference mode (dropout
    off). A direct call: for a few hundred examples, cheaper than `evaluate`'s compiled graph."""
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))  # (n, num_classes)
    return float(np.mean(probabilities.argmax(axis=1) == y))


def kernel_gradient_norms(model, x, y):
    """The norm of ∂loss/∂kernel for each Dense layer, first to last, on the batch (x, y)."""
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    gradients = autodiff.model_gradients(  # the model called in training mode, as in a training step
        model, lambda probabilities: keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(y, probabilities)), x, variables=kernels)
    return np.array([float(keras.ops.norm(g)) for g in gradients])


# --- 1. non-linearities ------------------------------------------------------------------------

NONLINEARITIES = {
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "ReLU": keras.activations.relu,
    "leaky ReLU (0.2)": lambda z: keras.activations.leaky_relu(z, negative_slope=0.2),
    "ELU": keras.activations.elu,
    "softplus": keras.activations.softplus,
    "binary step": lambda z: keras.ops.cast(z >= 0, z.dtype),
}


def nonlinearity_derivatives(z):
    """The closed-form derivative of each non-linearity at z (the binary step's is 0 where defined)."""
    s = 1 / (1 + np.exp(-z))
    return {
        "sigmoid": s * (1 - s),
        "tanh": 1 - np.tanh(z) ** 2,
        "ReLU": (z > 0).astype(float),
        "leaky ReLU (0.2)": np.where(z > 0, 1.0, 0.2),
        "ELU": np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
        "softplus": s,
        "binary step": np.zeros_like(z),
    }


@lecture.step("Non-linearities and their derivatives")
def nonlinearities(run):
    """A neuron's non-linearity decides how much gradient flows back through it: backprop
    multiplies by its derivative at every layer. Sigmoid and tanh saturate: for large |z| their
    derivative is almost 0, so a saturated unit stops learning. ReLU's derivative is exactly 1 for
    every positive input (0 for negative ones: a "dead" unit), leaky ReLU and ELU keep a little
    slope on the negative side, softplus is a smooth ReLU, and the binary step of the perceptron has
    derivative 0 everywhere: gradient descent cannot train it at all. We evaluate the Keras
    activations and check our closed-form derivatives against central differences of them.
    """
    z = np.linspace(-5, 5, 1001)
    values = {name: keras.ops.convert_to_numpy(f(keras.ops.convert_to_tensor(z)))
              for name, f in NONLINEARITIES.items()}
    derivatives = nonlinearity_derivatives(z)
    step = 1e-4
    errors = []
    for name, f in NONLINEARITIES.items():
        if name == "binary step":
            continue
        ahead = keras.ops.convert_to_numpy(f(keras.ops.convert_to_tensor(z + step)))
        behind = keras.ops.convert_to_numpy(f(keras.ops.convert_to_tensor(z - step)))
        away_from_kink = np.abs(z) > 2 * step
        errors.append(np.max(np.abs((ahead - behind) / (2 * step) - derivatives[name])[away_from_kink]))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    for color, name in zip(COLORS, NONLINEARITIES):
        is_step = name == "binary step"  # black: pale yellow (COLORS[6]) hardly shows
        style = {"color": "black" if is_step else color, "linestyle": "--" if is_step else "-", "label": name}
        left.plot(z, values[name], **style)
        right.plot(z, derivatives[name], **style)
    left.set(title="non-linearity g(z)", xlabel="z", ylabel="g(z)", ylim=(-1.5, 3))
    right.set(title="derivative g'(z): what backprop multiplies by", xlabel="z", ylabel="g'(z)",
              ylim=(-0.1, 1.15))
    right.axvspan(3, 5, color="gray", alpha=0.12)
    saturated = right.axvspan(-5, -3, color="gray", alpha=0.12)
    left.legend(loc="upper left")
    right.legend([saturated], ["sigmoid/tanh saturated"], loc="center left")
    at = 4.0
    for name, value in nonlinearity_derivatives(np.array([at])).items():
        run.report(f"{name}: g'({at:g})", float(value[0]))
    run.expect("largest difference, closed-form derivative vs central differences of Keras",
               max(errors), at_most=1e-3)
    run.expect("largest derivative of the sigmoid (at z = 0)", derivatives["sigmoid"].max(), at_most=0.25)
    run.figure(fig, "nonlinearities", "Sigmoid and tanh saturate (derivative near 0 for large |z|); "
               "ReLU and its relatives pass gradient 1 for positive inputs.")


@lecture.step("Vanishing gradients")
def vanishing_gradients(run):
    """Backprop through L layers multiplies L Jacobians. With sigmoid units each factor carries
    σ'(z) ≤ 1/4, so the gradient shrinks geometrically on its way back to the first layers: they
    barely learn. ReLU's derivative is 1 where the unit is active, so the gradient keeps its size.
    We build the same 12-layer network (32 units per layer, Keras' default Glorot initialisation)
    with sigmoid and with ReLU units, and measure the norm of ∂loss/∂W for every layer on a batch of
    digits, at initialisation and after training, then compare their training curves (Adam at
    0.001: even an optimizer that rescales each weight's step leaves the sigmoid network behind).
    """
    x_train, x_test, y_train, y_test = digits_split(run)
    depth, epochs = (6, 2) if run.fast else (12, 8)  # fast: a smoke run, and tracing grows with depth
    batch = slice(0, 256)
    norms, histories = {}, {}
    for activation in ("sigmoid", "relu"):
        set_seed(run.seed)
        model = deep_mlp(activation, depth=depth, hidden_units=32)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        before = kernel_gradient_norms(model, x_train[batch], y_train[batch])
        histories[activation] = model.fit(
            x_train, y_train, batch_size=32, epochs=epochs, verbose=0, validation_data=(x_test, y_test),
            callbacks=run.callbacks(f"vanishing_{activation}")).history
        norms[activation] = before, kernel_gradient_norms(model, x_train[batch], y_train[batch])

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.8), layout="constrained")
    layer_numbers = np.arange(1, depth + 2)
    for color, activation in zip(COLORS, norms):
        before, after = norms[activation]
        left.semilogy(layer_numbers, before, "o-", color=color, label=f"{activation}, at initialisation")
        left.semilogy(layer_numbers, after, "s--", color=color, alpha=0.7,
                      label=f"{activation}, after {epochs} epochs")
        right.plot(np.arange(1, epochs + 1), histories[activation]["loss"], "o-", color=color,
                   label=f"{activation}: training loss")
        right.plot(np.arange(1, epochs + 1), histories[activation]["val_loss"], "--", color=color,
                   label=f"{activation}: test loss")
    left.set(title=f"gradient norm per layer ({depth} hidden layers + output)",
             xlabel="layer (1 = next to the input)", ylabel="‖∂loss/∂W‖")
    left.legend()
    right.set(title="training", xlabel="epoch", ylabel="cross-entropy")
    right.legend()
    sigmoid_first, relu_first = norms["sigmoid"][0][0], norms["relu"][0][0]
    run.report("first-layer gradient norm at initialisation: sigmoid", sigmoid_first)
    run.report("first-layer gradient norm at initialisation: ReLU", relu_first)
    run.report("sigmoid: gradient norm, last layer / first layer",
               norms["sigmoid"][0][-1] / max(sigmoid_first, 1e-30))
    run.expect("first-layer gradient norm, ReLU / sigmoid (log10)",
               np.log10(relu_first / max(sigmoid_first, 1e-30)), at_least=2)
    run.report(f"training loss after {epochs} epochs: sigmoid", histories["sigmoid"]["loss"][-1])
    run.report(f"training loss after {epochs} epochs: ReLU", histories["relu"]["loss"][-1])
    run.expect(f"test accuracy after {epochs} epochs, ReLU minus sigmoid",
               histories["relu"]["val_accuracy"][-1] - histories["sigmoid"]["val_accuracy"][-1],
               at_least=0.2)
    run.figure(fig, "vanishing_gradients", f"In a {depth}-layer sigmoid network the gradient reaching "
               "the first layers is orders of magnitude smaller than with ReLU, and it does not learn.")


def batch_norm_means(model, x, *, layer, batch_size, batches, seed):
    """What `batch_norm_<layer>` of a `deep_mlp(batch_norm=True)` subtracts from each unit: the mean
    of `batches` random batches of x (batches, units), the mean over all of x (units,), and the
    layer's moving mean, the one it uses at inference (units,)."""
    dense = keras.Model(model.inputs[0], model.get_layer(f"dense_{layer}").output)
    inputs = keras.ops.convert_to_numpy(dense(x))  # (n, units): what the batch norm layer receives
    rng = np.random.default_rng(seed)
    batch_means = np.array([inputs[rng.choice(len(x), batch_size, replace=False)].mean(axis=0)
                            for _ in range(batches)])  # (batches, units)
    moving_mean = keras.ops.convert_to_numpy(model.get_layer(f"batch_norm_{layer}").moving_mean)
    return batch_means, inputs.mean(axis=0), moving_mean


def accuracy_with_batch_statistics(model, x, y, batch_size):
    """The share of (x, y) classified correctly when batch norm normalises each batch of `batch_size`
    examples with that batch's own mean and variance (training mode), as it does in training; the
    model's moving averages stay as they are (`stateless_call` returns their update, unapplied)."""
    correct = 0
    for start in range(0, len(x), batch_size):
        probabilities, _ = model.stateless_call(model.trainable_variables, model.non_trainable_variables,
                                                x[start:start + batch_size], training=True)
        predicted = keras.ops.convert_to_numpy(probabilities).argmax(axis=1)  # (batch_size,)
        correct += int(np.sum(predicted == y[start:start + batch_size]))
    return correct / len(x)


def batch_norm_statistics_figure(batch_means, data_mean, moving_mean, accuracies, *, layer):
    """Left: per-unit batch means, training-set mean and moving mean, units sorted by their moving
    mean; right: test accuracy ({label: accuracy}) with the moving averages or batch statistics."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.8), layout="constrained",
                                      gridspec_kw={"width_ratios": [3, 2]})
    order = np.argsort(moving_mean)
    units = np.arange(len(order))
    for k, means in enumerate(batch_means):
        left.plot(units, means[order], ".", color="gray", alpha=0.4, markersize=4,
                  label=f"mean of a batch of 32 ({len(batch_means)} batches)" if k == 0 else None)
    left.plot(units, data_mean[order], "-", color=COLORS[1], linewidth=2.5,
              label="mean over the training set")
    left.plot(units, moving_mean[order], "o", color=COLORS[0], markersize=4,
              label="moving mean (inference)")
    left.set(title=f"batch_norm_{layer}: the mean it subtracts from each unit",
             xlabel="unit (sorted by its moving mean)", ylabel="mean of the layer's input")
    left.legend(loc="upper left")
    positions = np.arange(len(accuracies))
    values = list(accuracies.values())
    right.bar(positions[:1], values[:1], color=COLORS[0], label="inference mode")
    right.bar(positions[1:], values[1:], color=COLORS[1], label="training mode")
    right.axhline(0.1, color="gray", linestyle=":", label="chance")
    right.set(xticks=positions, xticklabels=[label.replace(" ", "\n", 1) for label in accuracies],
              ylim=(0, 1.3), yticks=np.linspace(0, 1, 6), ylabel="test accuracy",
              title="test images normalised with")
    right.grid(axis="x", visible=False)
    right.legend(loc="upper center", ncols=2, columnspacing=1)
    return fig


@lecture.step("Batch normalisation")
def batch_normalization(run):
    """Batch normalisation standardises each unit's input over the mini-batch, x̂ = (x - μ_B) / √(σ²_B
    + ε), then scales and shifts it with learned γ and β. Every layer then sees inputs of a stable
    scale while the layers before it change, so training can use larger steps and goes faster. We
    train the same 6-layer sigmoid network (64 units per layer) with and without batch norm, with
    the same optimizer for the same epochs, and record the histograms of unit activations of the
    hidden layers at the beginning, middle and end of training (the slides' figure). At test time
    batch norm uses running averages of the batch statistics instead (`momentum=0.99`), which lag
    behind during the first epochs: the test loss follows the training loss with a delay. The last
    figure compares them with the statistics of single batches, and shows why a test image cannot be
    normalised with its own batch's: its prediction would depend on the images it came with, and
    alone (a batch of one, x̂ = 0 for every unit) it would get the same prediction as any other.
    """
    x_train, x_test, y_train, y_test = digits_split(run)
    depth, epochs = (3, 2) if run.fast else (6, 8)
    recorded_epochs = [0, epochs] if run.fast else [0, epochs // 2, epochs]
    layers = ["hidden_1", f"hidden_{depth}"] if run.fast else ["hidden_1", "hidden_3", "hidden_6"]
    histories, recorders = {}, {}
    for batch_norm in (False, True):
        set_seed(run.seed)
        model = deep_mlp("sigmoid", depth=depth, hidden_units=64, batch_norm=batch_norm)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        recorders[batch_norm] = ActivationRecorder(x_test, epochs=recorded_epochs, layers=layers)
        name = "with_batch_norm" if batch_norm else "without_batch_norm"
        histories[batch_norm] = model.fit(
            x_train, y_train, batch_size=32, epochs=epochs, verbose=0, validation_data=(x_test, y_test),
            callbacks=[recorders[batch_norm], *run.callbacks(name, keep=[recorders[batch_norm]])]).history
    batch_norm_model = model  # the last one trained: with batch norm

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.5), layout="constrained")
    for color, (batch_norm, history) in zip(COLORS, histories.items()):
        label = "with batch norm" if batch_norm else "without batch norm"
        ax.plot(np.arange(1, epochs + 1), history["loss"], "o-", color=color, label=f"{label}: training")
        ax.plot(np.arange(1, epochs + 1), history["val_loss"], "--", color=color, label=f"{label}: test")
    ax.set(title=f"{depth} sigmoid layers, SGD with momentum", xlabel="epoch", ylabel="cross-entropy")
    ax.legend()
    without, with_ = histories[False]["loss"][-1], histories[True]["loss"][-1]
    run.report(f"training loss after {epochs} epochs without batch norm", without)
    run.report(f"training loss after {epochs} epochs with batch norm", with_)
    run.expect("loss ratio, with / without batch norm", with_ / without, at_most=0.5)
    run.expect("test accuracy with batch norm", histories[True]["val_accuracy"][-1], at_least=0.85)
    last = layers[-1]
    for batch_norm, recorder in recorders.items():
        run.report(f"std of {last}'s activations at epochs {recorded_epochs} "
                   f"{'with' if batch_norm else 'without'} batch norm",
                   [round(float(recorder.activations[e][last].std()), 3) for e in recorded_epochs])
    grids = {batch_norm: recorder.figure(title=f"Activations {'with' if batch_norm else 'without'} batch "
                                         "norm (rows: epochs)") for batch_norm, recorder in recorders.items()}
    run.figure(grids[False], "activations_without_batch_norm",
               "Without batch norm the first layers hardly change in training, and the last hidden "
               "layer's activations collapse into a narrow band.")
    run.figure(grids[True], "activations_with_batch_norm",
               "With batch norm every layer's activations spread over the sigmoid's range as training "
               "proceeds (epoch 0 uses the untrained running statistics).")
    run.figure(fig, "batch_norm_loss", "The same network with batch norm reaches a much lower loss "
               "in the same number of epochs.")

    batch_means, data_mean, moving_mean = batch_norm_means(batch_norm_model, x_train, layer=depth,
                                                           batch_size=32, batches=20, seed=run.seed)
    run.report(f"batch_norm_{depth}: mean |moving mean - training-set mean| / mean std of batch means",
               float(np.mean(np.abs(moving_mean - data_mean)) / np.mean(batch_means.std(axis=0))))
    images = slice(0, 128)  # batch statistics are computed one batch at a time: 128 test images suffice
    accuracies = {"moving averages": accuracy(batch_norm_model, x_test[images], y_test[images])}
    for batch_size in (1, 4, 32):
        accuracies[f"batch{'es' * (batch_size > 1)} of {batch_size}"] = accuracy_with_batch_statistics(
            batch_norm_model, x_test[images], y_test[images], batch_size)
    for label, value in accuracies.items():
        run.report(f"test accuracy, batch norm normalising with: {label}", value)
    run.expect("test accuracy, one image at a time normalised with its own statistics",
               accuracies["batch of 1"], at_most=0.25)
    run.figure(batch_norm_statistics_figure(batch_means, data_mean, moving_mean, accuracies, layer=depth),
               "batch_norm_statistics",
               f"Left: what batch_norm_{depth} subtracts from each unit: the mean of each training batch "
               "varies from batch to batch, its moving average follows the mean over the training set. "
               "Right: test accuracy when batch norm normalises with the moving averages or with the "
               "statistics of the batch itself; a lone image is normalised to β, whatever it shows.")


def noisy_digits(run):
    """A small digits training set with 20% of its labels replaced by random ones, and clean
    validation and test sets."""
    x, y = data.digits()
    x = x.reshape(len(x), -1)
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, train_size=100 if run.fast else 300, stratify=y, random_state=run.seed)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, train_size=150 if run.fast else 300, test_size=150 if run.fast else 500,
        stratify=y_rest, random_state=run.seed)
    rng = np.random.default_rng(run.seed)
    flipped = rng.random(len(y_train)) < 0.2
    y_train = np.where(flipped, rng.integers(0, 10, len(y_train)), y_train)
    scaler = StandardScaler().fit(x_train)
    return [scaler.transform(a).astype("float32") for a in (x_train, x_val, x_test)], (y_train, y_val, y_test)


def overfitting_mlp(*, dropout=0.0, l2=0.0):
    """Two hidden layers of 256 ReLU units: far more capacity than 300 examples need."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.Input(shape=(64,))]
    for _ in range(2):
        layers.append(keras.layers.Dense(256, activation="relu", kernel_regularizer=regularizer))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


def dropout_masks(dropout, activations, masks):
    """`masks` independent draws of the Keras `dropout` layer in training mode on one example's
    `activations` (units,): (masks, units), each unit zeroed with probability `rate`, the rest scaled
    by 1 / (1 - rate)."""
    repeated = np.repeat(activations[None], masks, axis=0)  # (masks, units): one mask per row
    return keras.ops.convert_to_numpy(dropout(repeated, training=True))


def dropout_figure(activations, masked, *, rate, units=24, draws=3):
    """Bars of `units` active units: their inference value, `draws` training masks and the mean of
    all the masks in `masked` (masks, units), one row each on a shared scale."""
    shown = np.flatnonzero(activations > 0)[:units]  # units the ReLU left active: dropout can zero them
    rows = [("inference\n(identity)", activations)]
    rows += [(f"training,\nmask {k + 1}", masked[k]) for k in range(draws)]
    rows.append((f"mean of\n{len(masked):,} masks", masked.mean(axis=0)))
    fig, axes = plt.subplots(len(rows), 1, figsize=(FULL_WIDTH, 5.5), sharex=True, sharey=True,
                             layout="constrained")
    positions = np.arange(len(shown))
    for ax, (label, values) in zip(axes, rows):
        ax.bar(positions, activations[shown], 0.8, facecolor="none", edgecolor="gray", linestyle="--",
               label="inference value")
        ax.bar(positions, values[shown], 0.6, color=COLORS[0] if label.startswith("inference") else COLORS[1],
               label=f"kept: × 1 / (1 - {rate:g})")
        dropped = positions[values[shown] == 0]
        ax.plot(dropped, np.zeros(len(dropped)), "x", color=COLORS[3], markersize=8, markeredgewidth=2,
                label="dropped: 0")
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.grid(axis="x", visible=False)
    axes[1].legend(loc="upper left", ncols=3, bbox_to_anchor=(0, 1.25))
    axes[-1].set(xticks=positions, xticklabels=shown, xlabel="unit of the first hidden layer")
    fig.suptitle(f"Dropout({rate:g}) on {len(shown)} active units of one image's first hidden layer")
    return fig


@lecture.step("Regularisation: dropout, weight decay, early stopping")
def regularization(run):
    """A big network trained long enough on a small, noisy data set memorises it, noise included:
    training accuracy goes to 100% while validation accuracy stalls and validation loss climbs.
    Three remedies: dropout (drop each unit with probability p at every training step, so no unit
    can rely on another; `Dropout(0.5)`), L2 weight decay (add λ‖W‖² to the loss:
    `kernel_regularizer=L2(λ)`), and early stopping (stop when the validation loss has not
    improved for a while and keep the best weights: `keras.callbacks.EarlyStopping`). Here 300
    digits with 20% wrong labels; the gap is training accuracy minus validation accuracy at the end.
    Dropout scales the units it keeps by 1 / (1 - p), so that each unit's expected value in training
    is its value at inference, where the layer passes everything through unchanged; the second
    figure draws a few of the masks the trained network's own `Dropout` layer makes.
    """
    (x_train, x_val, x_test), (y_train, y_val, y_test) = noisy_digits(run)
    epochs, batch_size = (3, 4) if run.fast else (25, 16)
    variants = {
        "no regularisation": (overfitting_mlp, []),
        "dropout 0.5": (lambda: overfitting_mlp(dropout=0.5), []),
        "L2 weight decay 0.02": (lambda: overfitting_mlp(l2=0.02), []),
        "early stopping": (overfitting_mlp, [keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=5, restore_best_weights=True)]),
    }
    if run.fast:  # a smoke run: each variant is a model to build (about 1.5 s of graph building)
        variants = {name: variants[name] for name in ("no regularisation", "dropout 0.5")}
    histories, table, models = {}, {}, {}
    for name, (build, callbacks) in variants.items():
        set_seed(run.seed)
        model = models[name] = build()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[name] = model.fit(
            x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0, validation_data=(x_val, y_val),
            callbacks=callbacks + run.callbacks("regularization_" + name.split()[0].lower())).history
        table[name] = accuracy(model, x_train, y_train), accuracy(model, x_val, y_val), accuracy(
            model, x_test, y_test)

    fig, axes = plt.subplots(1, len(variants), figsize=(FULL_WIDTH, 4.2), sharex=True, sharey=True,
                             layout="constrained")
    for ax, (name, history) in zip(axes, histories.items()):
        epoch_numbers = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epoch_numbers, history["accuracy"], color=COLORS[0], label="training (noisy labels)")
        ax.plot(epoch_numbers, history["val_accuracy"], color=COLORS[1], label="validation")
        if name == "early stopping":
            best = int(np.argmin(history["val_loss"])) + 1
            ax.axvline(best, color="gray", linestyle=":", label="weights kept")
        train_accuracy, val_accuracy, _ = table[name]
        ax.set(title=f"{name}\ngap {train_accuracy - val_accuracy:.2f}", xlabel="epoch", ylim=(0, 1.02))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("accuracy")
    handles, labels = axes[-1].get_legend_handles_labels()  # the early stopping panel's, when there is one
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    for name, (train_accuracy, val_accuracy, test_accuracy) in table.items():
        run.report(f"{name}: accuracy train / validation / test",
                   f"{train_accuracy:.3f} / {val_accuracy:.3f} / {test_accuracy:.3f}")
    gap = {name: a - b for name, (a, b, _) in table.items()}
    run.report("share of training labels that are wrong", 0.2)
    run.expect("train-validation gap without regularisation", gap["no regularisation"], at_least=0.1)
    for name in ("dropout 0.5", "L2 weight decay 0.02"):
        if name in gap:
            run.expect(f"gap narrowed by {name.rsplit(' ', 1)[0]}", gap["no regularisation"] - gap[name],
                       at_least=0.03)
    if "early stopping" in histories:
        run.report("early stopping stopped after epoch", len(histories["early stopping"]["loss"]))
    run.figure(fig, "regularization", "Training vs validation accuracy (gap: the final model's training "
               "minus validation accuracy, dropout off): without regularisation the network memorises the "
               "noisy labels; dropout, L2 and early stopping narrow the gap.")

    model = models["dropout 0.5"]  # Dense(256) -> Dropout(0.5) -> Dense(256) -> Dropout(0.5) -> Dense(10)
    hidden = keras.ops.convert_to_numpy(model.layers[0](x_val[:1]))[0]  # (256,): one image's first layer
    dropout = model.layers[1]
    identity = keras.ops.convert_to_numpy(dropout(hidden[None], training=False))[0]
    masked = dropout_masks(dropout, hidden, 1000)  # (1000, 256)
    active = hidden > 0
    kept = masked[:, active] != 0
    run.report("dropout in inference: largest change of an activation",
               float(np.abs(identity - hidden).max()))
    run.expect("dropout 0.5 in training: share of the active units zeroed over 1,000 masks",
               1 - kept.mean(), at_least=0.45, at_most=0.55)
    ratio = masked[:, active] / hidden[active]  # (1000, active units): 0 where dropped
    run.expect("dropout 0.5 in training: a kept unit's value / its inference value (median)",
               float(np.median(ratio[kept])), at_least=1.99, at_most=2.01)
    run.report("dropout 0.5 in training: mean over 1,000 masks / inference value, averaged over the units",
               float(ratio.mean()))
    run.figure(dropout_figure(hidden, masked, rate=dropout.rate), "dropout",
               "Dropout(0.5) on the first hidden layer of one validation image: in training each draw "
               "zeroes about half the units and doubles the others, so the mean over many draws is the "
               "activation itself, which is what inference passes on unchanged.")


@lecture.step("Initialisation: blow up or don't learn")
def initialization(run):
    """The initial weights set the scale of every layer's activations. Too small, and each layer
    shrinks the signal until the last ones output (almost) zero and get no gradient; too large, and
    tanh units saturate at ±1, where their derivative is 0 (ReLU units would blow up instead).
    Glorot initialisation (variance 2 / (fan_in + fan_out)) keeps tanh activations at a steady
    scale through the layers, He initialisation (variance 2 / fan_in) does the same for ReLU. We
    pass digits through 10 untrained layers of 256 units and draw the activations of layers 1, 4, 7
    and 10.
    """
    x_train, _, y_train, _ = digits_split(run)
    schemes = {
        "too small: N(0, 0.01²), tanh": ("tanh", keras.initializers.RandomNormal(stddev=0.01)),
        "too large: N(0, 1), tanh": ("tanh", keras.initializers.RandomNormal(stddev=1.0)),
        "Glorot, tanh": ("tanh", "glorot_uniform"),
        "He, ReLU": ("relu", "he_normal"),
    }
    layers = ["hidden_1", "hidden_10"] if run.fast else ["hidden_1", "hidden_4", "hidden_7", "hidden_10"]
    fig, grid = plt.subplots(len(schemes), len(layers), figsize=(FULL_WIDTH, 5.5), layout="constrained")
    stds, spreads = {}, {}  # spreads: {scheme: the activations' std in layers 1 to 10}
    for row, (name, (activation, initializer)) in zip(grid, schemes.items()):
        set_seed(run.seed)
        model = deep_mlp(activation, depth=10, hidden_units=256, kernel_initializer=initializer)
        hidden = [model.get_layer(f"hidden_{k}").output for k in range(1, 11)]
        extractor = keras.Model(model.inputs[0], hidden)
        outputs = [keras.ops.convert_to_numpy(a) for a in extractor(x_train[:256])]  # 10 × (256, 256)
        # the same bins for the whole row: a signal that shrinks layer by layer piles into the middle bin
        edges = np.linspace(min(a.min() for a in outputs), max(a.max() for a in outputs), 41)
        activation_histograms(model, x_train[:256], layers=layers, ax=row, bins=edges)
        for ax, layer in zip(row, layers):  # small multiples: one line of title, no counts
            number = int(layer.removeprefix("hidden_"))
            ax.set(title=f"layer {number}: std {outputs[number - 1].std():.2g}", xlabel="", yticks=[])
            ax.title.set_fontsize(11)
        row[0].set_ylabel(name.replace(": ", ":\n"), rotation=0, ha="right", va="center")
        spreads[name] = [float(a.std()) for a in outputs]
        first, last = outputs[0], outputs[-1]
        stds[name] = float(first.std()), float(last.std()), float(np.mean(np.abs(last) > 0.99))
        gradient = kernel_gradient_norms(model, x_train[:256], y_train[:256])[0]
        run.report(f"{name}: activation std layer 1 -> layer 10, first-layer gradient norm",
                   f"{stds[name][0]:.3g} -> {stds[name][1]:.3g}, {gradient:.3g}")
    for ax in grid[-1]:
        ax.set_xlabel("activation")
    fig.suptitle("Activations of 10 untrained layers (one x-range per row)")
    run.expect("activation std in layer 10, too small an initialisation",
               stds["too small: N(0, 0.01²), tanh"][1], at_most=1e-3)
    run.expect("share of saturated tanh units (|a| > 0.99) in layer 10, too large an initialisation",
               stds["too large: N(0, 1), tanh"][2], at_least=0.5)
    run.expect("activation std in layer 10, Glorot with tanh", stds["Glorot, tanh"][1], at_least=0.05)
    run.expect("activation std, layer 10 / layer 1, He with ReLU",
               stds["He, ReLU"][1] / stds["He, ReLU"][0], at_least=0.3, at_most=3)
    run.figure(fig, "initialization", "Too small: activations vanish layer by layer; too large: tanh "
               "saturates at ±1; Glorot (tanh) and He (ReLU) keep them at a steady scale.")

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.5), layout="constrained")
    for (name, spread), color, marker in zip(spreads.items(), COLORS, "osD^"):
        ax.plot(range(1, 11), spread, color=color, marker=marker, label=name)
    ax.set(yscale="log", xlabel="layer", ylabel="std of the activations (log scale)", xticks=range(1, 11),
           title="Activation spread through 10 untrained layers")
    ax.legend()
    run.figure(fig, "initialization_spread", "The activations' spread layer by layer: it falls by a "
               "constant factor per layer when the weights are too small, and stays level with Glorot "
               "(tanh), He (ReLU) and, saturated at ±1, too large weights.")


# --- 6. optimizers -----------------------------------------------------------------------------

SURFACES = {
    # an ill-conditioned valley: its curvature is 100 times larger across (w₂) than along (w₁)
    "valley": {"loss": lambda w: 0.01 * w[0] ** 2 + w[1] ** 2,
               "gradient": lambda w: np.array([0.02 * w[0], 2 * w[1]]),
               "start": (-9.0, 1.6), "limits": ((-10, 2), (-2.5, 2.5)), "marks": {"minimum": (0, 0)}},
    # a saddle at (0, 0) between two minima at (0, ±1): f = x² + y⁴/4 - y²/2
    "saddle": {"loss": lambda w: w[0] ** 2 + w[1] ** 4 / 4 - w[1] ** 2 / 2,
               "gradient": lambda w: np.array([2 * w[0], w[1] ** 3 - w[1]]),
               "start": (-1.5, 1e-3), "limits": ((-1.7, 1.7), (-1.4, 1.6)),  # room below for the legend
               "marks": {"saddle": (0, 0), "minimum": (0, 1)}},
}


def optimizers(surface):
    """The five optimizers, fresh, with learning rates suited to the surface."""
    valley = surface == "valley"
    return {
        # plain SGD: 0.9 is just below 2 / curvature = 1, where it would diverge across the valley
        "SGD": keras.optimizers.SGD(learning_rate=0.9 if valley else 0.05),
        "momentum": keras.optimizers.SGD(learning_rate=0.2 if valley else 0.05, momentum=0.9),
        "Nesterov": keras.optimizers.SGD(learning_rate=0.2 if valley else 0.05, momentum=0.9,
                                         nesterov=True),
        "RMSProp": keras.optimizers.RMSprop(learning_rate=0.3 if valley else 0.05),
        "Adam": keras.optimizers.Adam(learning_rate=0.3 if valley else 0.05),
    }


def trajectory(optimizer, surface, steps):
    """The points the Keras `optimizer` visits on a 2-D surface, from its start, (steps + 1, 2)."""
    position = keras.Variable(np.array(surface["start"]), dtype="float32")
    points = [keras.ops.convert_to_numpy(position)]
    for _ in range(steps):
        gradient = surface["gradient"](points[-1].astype("float64")).astype("float32")
        optimizer.apply([keras.ops.convert_to_tensor(gradient)], [position])
        points.append(keras.ops.convert_to_numpy(position))
    return np.array(points)


# Adam's learning rate on the digits network, from too small to too large, and a schedule
LEARNING_RATES = {"0.0001": 1e-4, "0.001": 1e-3, "0.01": 1e-2, "0.1": 1e-1, "cosine 0.01 → 0": 1e-2}


def learning_rate_curves(model, x, y, *, epochs, seed, callbacks):
    """The training loss per epoch of the compiled `model` for each of LEARNING_RATES ({label:
    losses}), each time from the same initial weights and a fresh optimizer state. One compiled
    model trains them all: its training step is traced once. `callbacks(name)`: a run's callbacks."""
    initial_weights = model.get_weights()
    optimizer = model.optimizer
    curves = {}
    for label, learning_rate in LEARNING_RATES.items():
        set_seed(seed)
        model.set_weights(initial_weights)
        for variable in optimizer.variables:  # back to step 0, no moments (the learning rate is set below)
            variable.assign(keras.ops.zeros(variable.shape, dtype=variable.dtype))
        optimizer.learning_rate = learning_rate
        schedule = []
        if label.startswith("cosine"):  # Keras' CosineDecay, one step per epoch, set before each epoch
            decay = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs)
            rates = [float(decay(epoch)) for epoch in range(epochs)]
            schedule = [keras.callbacks.LearningRateScheduler(lambda epoch, rate, rates=rates: rates[epoch])]
        name = "learning_rate_" + label.split()[0]
        curves[label] = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0,
                                  callbacks=schedule + callbacks(name)).history["loss"]
    return curves


def learning_rate_figure(curves, *, depth):
    """The training loss curves of `learning_rate_curves` on a log axis."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4.5), layout="constrained")
    styles = ["o:", "o-", "o--", "o-.", "s-"]
    for color, style, (label, losses) in zip(COLORS, styles, curves.items()):
        ax.plot(np.arange(1, len(losses) + 1), losses, style, color=color, label=label)
    ax.set(title=f"digits, {depth} ReLU layer{'s' * (depth > 1)}, Adam", xlabel="epoch",
           ylabel="training loss (log scale)", yscale="log")
    ax.legend(title="learning rate", loc="lower left")
    return fig


@lecture.step("Optimizers: SGD, momentum, Nesterov, RMSProp, Adam")
def optimizer_comparison(run):
    """Plain SGD steps against the gradient; in an ill-conditioned valley that zigzags across the
    steep direction and crawls along the flat one. Momentum keeps a running velocity, which damps
    the zigzag and builds up speed along the valley; Nesterov evaluates the gradient after the
    momentum step. RMSProp divides each coordinate by a running RMS of its gradients, so steep and
    flat directions take similar steps; Adam combines both (with bias correction). At a saddle the
    gradient is tiny and plain SGD waits; normalising optimizers escape quickly. The trajectories
    are driven by the real Keras optimizers (`optimizer.apply([gradient], [variable])`); then the
    same optimizers train a network on digits. What an optimizer remembers between steps is its
    state, which `optimizer.build(model.trainable_variables)` creates: nothing for plain SGD, a
    velocity per weight for momentum, a running mean square per weight for RMSProp, and both moments
    for Adam: twice the model's size. Each of them needs a learning rate: too small and training
    crawls, too large and it bounces or diverges; a schedule (Keras' `CosineDecay`) takes large steps
    early and small ones late. The last figure trains the digits network with Adam at four constant
    learning rates and along a cosine.
    """
    steps = 10 if run.fast else 80
    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 5), layout="constrained")
    valley_loss = {}
    for ax, (surface_name, surface) in zip(axes, SURFACES.items()):
        (x_low, x_high), (y_low, y_high) = surface["limits"]
        xx, yy = np.meshgrid(np.linspace(x_low, x_high, 200), np.linspace(y_low, y_high, 200))
        ax.contour(xx, yy, surface["loss"](np.array([xx, yy])), levels=25, cmap="Greys", linewidths=0.6)
        for order, (color, (name, optimizer)) in enumerate(zip(COLORS, optimizers(surface_name).items())):
            points = trajectory(optimizer, surface, steps)
            if surface_name == "valley":
                valley_loss[name] = float(surface["loss"](points[-1].astype("float64")))
                run.report(f"valley, loss after {steps} steps: {name}", valley_loss[name])
                label = f"{name}: {valley_loss[name]:.2g}"
            else:
                escaped = np.flatnonzero(np.abs(points[:, 1]) > 0.5)
                run.report(f"saddle, steps to escape (|y| > 0.5): {name}",
                           int(escaped[0]) if len(escaped) else f"not within {steps}")
                label = f"{name}: {escaped[0] if len(escaped) else 'stuck'}"
            ax.plot(points[:, 0], points[:, 1], ".-", color=color, markersize=4, linewidth=1.5,
                    zorder=10 - order, label=label)  # plain SGD on top
        ax.plot(*surface["start"], "k*", markersize=14, zorder=20)
        ax.annotate("start", surface["start"], xytext=(6, 6) if surface_name == "valley" else (6, -18),
                    textcoords="offset points", fontsize=11)  # at the saddle, below the paths that leave
        for label, point in surface["marks"].items():
            ax.plot(*point, "kX", markersize=11, zorder=20)
            ax.annotate(label, point, xytext=(8, -14), textcoords="offset points", fontsize=11)
        ax.set(title=f"{surface_name}: {steps} steps", xlabel="w₁", ylabel="w₂",
               xlim=(x_low, x_high), ylim=(y_low, y_high))
        if surface_name == "valley":
            ax.legend(title=f"loss after {steps} steps", loc="lower right")
        else:
            ax.legend(title="steps to escape", loc="lower left")

    run.expect("valley: loss of plain SGD / loss of momentum",
               valley_loss["SGD"] / valley_loss["momentum"], at_least=10)
    x_train, x_test, y_train, y_test = digits_split(run)
    depth, epochs = (1, 3) if run.fast else (3, 8)
    rates = {"SGD": 0.01, "momentum": 0.01, "Nesterov": 0.01, "RMSProp": 1e-3, "Adam": 1e-3}
    real = {
        "SGD": keras.optimizers.SGD(learning_rate=rates["SGD"]),
        "momentum": keras.optimizers.SGD(learning_rate=rates["momentum"], momentum=0.9),
        "Nesterov": keras.optimizers.SGD(learning_rate=rates["Nesterov"], momentum=0.9, nesterov=True),
        "RMSProp": keras.optimizers.RMSprop(learning_rate=rates["RMSProp"]),
        "Adam": keras.optimizers.Adam(learning_rate=rates["Adam"]),
    }
    if run.fast:  # a smoke run: each optimizer trains a model of its own (about 1 s of graph building)
        real = {name: real[name] for name in ("SGD", "Adam")}
    final = {}
    for color, (name, optimizer) in zip(COLORS, real.items()):
        set_seed(run.seed)
        model = deep_mlp("relu", depth=depth, hidden_units=64)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        optimizer.build(model.trainable_variables)  # the optimizer's state, one slot per weight and kind
        state = sum(int(np.prod(v.shape)) for v in optimizer.variables if len(v.shape))  # not scalars
        run.report(f"{name}: optimizer state values per model weight", state / model.count_params())
        history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0,
                            callbacks=run.callbacks(f"optimizer_{name.lower()}")).history
        final[name] = history["loss"][-1]
        axes[2].plot(np.arange(1, epochs + 1), history["loss"], "o-", color=color,
                     label=f"{name}: {rates[name]:g}")
    axes[2].set(title=f"digits, {depth} ReLU layer{'s' * (depth > 1)}", xlabel="epoch",
                ylabel="training loss", yscale="log")
    axes[2].legend(title="learning rate", loc="lower left")
    for name, loss in final.items():
        run.report(f"digits, training loss after {epochs} epochs: {name}", loss)
    others = [name for name in final if name in ("momentum", "RMSProp", "Adam")]
    run.expect(f"digits: loss of plain SGD / best loss of {', '.join(others)}",
               final["SGD"] / min(final[name] for name in others), at_least=1.5)
    run.figure(fig, "optimizers", "Keras optimizers on an ill-conditioned valley and a saddle, "
               "and their training loss on digits.")

    set_seed(run.seed)
    model = deep_mlp("relu", depth=depth, hidden_units=64)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    curves = learning_rate_curves(model, x_train, y_train, epochs=epochs, seed=run.seed,
                                  callbacks=run.callbacks)
    for label, losses in curves.items():
        run.report(f"digits, Adam, training loss after {epochs} epochs, learning rate {label}", losses[-1])
    constant = [label for label in curves if not label.startswith("cosine")]
    run.expect("digits, Adam: training loss, learning rate 0.0001 / 0.001",
               curves[constant[0]][-1] / curves[constant[1]][-1], at_least=5)
    run.expect("digits, Adam: training loss, learning rate 0.1", curves[constant[-1]][-1], at_least=1)
    run.expect("digits, Adam: training loss, cosine decay from 0.01 / best constant learning rate",
               curves["cosine 0.01 → 0"][-1] / min(curves[label][-1] for label in constant), at_most=0.5)
    run.figure(learning_rate_figure(curves, depth=depth), "learning_rates",
               "The same network trained by Adam from the same weights: a learning rate too small crawls, "
               "one too large does not learn; the cosine schedule starts at 0.01, where the constant rate "
               "bounces, and ends with the lowest loss.")


def deep_network(*, blocks, hidden_units=32, residual, num_classes=10, input_dim=64):
    """A stem layer and `blocks` blocks of two Dense layers (Functional API). Residual blocks
    compute h + Dense(ReLU(Dense(h))), their second layer starting at zero so each block starts as
    the identity; plain blocks compute ReLU(Dense(ReLU(Dense(h)))).
    """
    inputs = keras.Input(shape=(input_dim,))
    h = keras.layers.Dense(hidden_units, activation="relu")(inputs)
    for _ in range(blocks):
        z = keras.layers.Dense(hidden_units, activation="relu")(h)
        if residual:
            z = keras.layers.Dense(hidden_units, kernel_initializer="zeros")(z)
            h = keras.layers.Add()([h, z])  # the skip connection
        else:
            h = keras.layers.Dense(hidden_units, activation="relu")(z)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(h)
    return keras.Model(inputs, outputs, name="residual" if residual else "plain")


@lecture.step("Residual connections")
def residual_connections(run):
    """Deeper is not automatically better: a deep plain network can train worse than a shallow one,
    because the signal and its gradient must pass through every layer. A residual block adds its
    input to its output, h ← h + F(h): the identity is always available, and the gradient flows
    back through the skip connections unchanged. We compare 21-layer networks (10 blocks of two
    Dense layers, 32 units) with and without skip connections, same optimizer and epochs; then the
    lecture's recipe (`train`: batch norm and residual blocks) against logistic regression.
    """
    x_train, x_test, y_train, y_test = digits_split(run)
    blocks, epochs = (3, 3) if run.fast else (10, 8)
    layer_count = 2 * blocks + 1
    histories = {}
    for residual in (False, True):
        set_seed(run.seed)
        model = deep_network(blocks=blocks, residual=residual)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[residual] = model.fit(
            x_train, y_train, batch_size=64, epochs=epochs, verbose=0, validation_data=(x_test, y_test),
            callbacks=run.callbacks("residual" if residual else "plain")).history

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    for color, (residual, history) in zip(COLORS, histories.items()):
        label = "residual" if residual else "plain"
        left.plot(np.arange(1, epochs + 1), history["loss"], "o-", color=color, label=f"{label}: training")
        left.plot(np.arange(1, epochs + 1), history["val_loss"], "--", color=color, label=f"{label}: test")
        right.plot(np.arange(1, epochs + 1), history["val_accuracy"], "o-", color=color, label=label)
    left.set(title=f"{layer_count} layers: loss", xlabel="epoch", ylabel="cross-entropy")
    right.set(title=f"{layer_count} layers: test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    left.legend()
    right.legend()
    plain_accuracy = histories[False]["val_accuracy"][-1]
    residual_accuracy = histories[True]["val_accuracy"][-1]
    run.report(f"test accuracy after {epochs} epochs: plain", plain_accuracy)
    run.report(f"test accuracy after {epochs} epochs: residual", residual_accuracy)
    run.expect("test accuracy, residual minus plain", residual_accuracy - plain_accuracy, at_least=0.3)

    model = train(x_train, y_train, epochs=2 if run.fast else None, seed=run.seed, strategy=run.strategy,
                  blocks=1 if run.fast else 2)
    recipe_accuracy = accuracy(model, x_test, y_test)
    baseline = LogisticRegression(max_iter=2000).fit(x_train, y_train).score(x_test, y_test)
    run.report("test accuracy of scikit-learn's LogisticRegression", baseline)
    run.expect("test accuracy of the recipe (batch norm + residual blocks)", recipe_accuracy, at_least=0.95)
    run.figure(fig, "residual_connections", f"A {layer_count}-layer plain network barely trains; the "
               "same depth with skip connections trains at once.")


@lecture.step("Generalisation: real vs random labels")
def generalization(run):
    """Zhang et al. (2017): a network big enough can fit random labels. We train the same MLP on
    digits with their real labels and with the labels randomly shuffled. Both reach a low training
    loss, but only the real labels carry a pattern that holds on new images: with random labels the
    test accuracy stays at chance (10%). A low training loss alone says nothing about
    generalisation; only held-out data does.
    """
    x_train, x_test, y_train, y_test = digits_split(run, n_samples=250 if run.fast else 700)
    hidden_units, epochs, batch_size = (128, 4, 8) if run.fast else (512, 30, 32)
    rng = np.random.default_rng(run.seed)
    labels = {"real labels": y_train, "random labels": rng.permutation(y_train)}
    histories, test_accuracy, train_accuracy = {}, {}, {}
    for name, y in labels.items():
        set_seed(run.seed)
        model = keras.Sequential([
            keras.Input(shape=(64,)),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories[name] = model.fit(x_train, y, batch_size=batch_size, epochs=epochs, verbose=0,
                                    callbacks=run.callbacks(name.replace(" ", "_"))).history
        train_accuracy[name] = accuracy(model, x_train, y)
        test_accuracy[name] = accuracy(model, x_test, y_test)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.5), layout="constrained")
    for color, (name, history) in zip(COLORS, histories.items()):
        left.plot(np.arange(1, epochs + 1), history["loss"], color=color, label=name)
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    left.legend()
    names = list(labels)
    positions = np.arange(len(names))
    right.bar(positions - 0.2, [train_accuracy[n] for n in names], 0.4, color=COLORS[0], label="training")
    right.bar(positions + 0.2, [test_accuracy[n] for n in names], 0.4, color=COLORS[1], label="test")
    right.axhline(0.1, color="gray", linestyle=":", label="chance")
    right.set(xticks=positions, xticklabels=names, ylabel="accuracy", ylim=(0, 1.25),
              yticks=np.linspace(0, 1, 6),
              title="fits both, generalises on one")
    right.grid(axis="x", visible=False)
    right.legend(loc="upper center", ncols=3)
    for name in names:
        run.report(f"{name}: training / test accuracy",
                   f"{train_accuracy[name]:.3f} / {test_accuracy[name]:.3f}")
    run.expect("training accuracy on random labels", train_accuracy["random labels"], at_least=0.9)
    run.expect("test accuracy on random labels", test_accuracy["random labels"], at_most=0.2)
    run.expect("test accuracy on real labels", test_accuracy["real labels"], at_least=0.9)
    run.figure(fig, "generalization", "The same network fits real and shuffled labels; only the real "
               "ones generalise to the test set.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "training_tricks", *sys.argv[1:]]))
