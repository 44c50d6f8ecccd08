"""XOR: composing non-linear boundaries from linear ones

One neuron draws one line, so it computes AND, OR, NOT and NAND but not XOR. Two ways out: new
features in which the classes become linearly separable, or neurons composed in layers: XOR is
AND(OR, NAND). A trained two-layer network finds such a composition by itself; in its hidden
units' space the two classes are split by a line.
"""

import itertools

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from companion import data
from companion.devices import global_batch_size, scope
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, HALF_WIDTH, decision_boundary
from companion.seeding import set_seed
from companion.tensors import to_numpy
from companion.validation import binary_labels, positive_integer, training_options

lecture = Lecture(
    "xor",
    "XOR: composing non-linear boundaries from linear ones",
    expected="hand-wired XOR exact on the 4 corners, no line that classifies noisy XOR clouds, and "
    "quadratic features and the trained MLP that classify their test points almost perfectly",
    seconds=25,
)

NOISE = 0.15  # standard deviation of the XOR clouds around their corners: a line misclassifies ~1/1000
SHOWN = 400  # test points drawn in the figures (accuracies use them all)


def train(x, y, *, epochs=None, seed=0, strategy=None, callbacks=(), hidden_units=8):
    """The lecture's recipe: a two-layer perceptron, `hidden_units` tanh units and one sigmoid output,
    trained on the binary cross-entropy with Adam in mini-batches of 8. Returns a Keras model whose
    output is p(y=1|x), shape (n, 1).

    Two tanh units are enough for XOR but often get stuck with one corner on the wrong side; with 8
    (orthogonally initialised) units no seed from 0 to 9 gets stuck. Features should be of order 1
    (the XOR corners, circles, or standardised data).
    """
    x, y = binary_labels(x, y)
    epochs, callbacks = training_options(epochs, seed, callbacks, default_epochs=10)
    hidden_units = positive_integer("hidden_units", hidden_units)
    set_seed(seed)
    with scope(strategy):
        model = keras.Sequential([
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(hidden_units, activation="tanh", kernel_initializer="orthogonal",
                               name="hidden"),
            keras.layers.Dense(1, activation="sigmoid", name="output", dtype="float32"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.03),
                      loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=global_batch_size(8, strategy),  # 8 per replica
              epochs=epochs, verbose=0, callbacks=callbacks)
    return model


# One threshold neuron per gate: output 1 where w·x + b >= 0. Every corner of the unit square lies
# at least 0.5 away from the threshold, so any step-like activation gives the same truth table.
GATE_WEIGHTS = {
    "AND": (np.array([1.0, 1.0]), -1.5),
    "OR": (np.array([1.0, 1.0]), -0.5),
    "NAND": (np.array([-1.0, -1.0]), 1.5),
    "NOT": (np.array([-1.0]), 0.5),
}
CORNERS = np.array([(0, 0), (0, 1), (1, 0), (1, 1)])  # the four inputs of a two-input gate
STEEPNESS = 10.0  # hand_wired_xor's weights: GATE_WEIGHTS x 10 put every corner at |z| >= 5


def neuron(x, w, b):
    """A threshold neuron: 1 where x·w + b >= 0, else 0, for inputs x of shape (n, d)."""
    return (x @ w + b >= 0).astype(int)  # (n,)


def hand_wired_xor():
    """XOR as AND(OR, NAND): a two-layer Keras model whose weights are set by hand, not trained.

    The hidden layer holds the OR and NAND neurons, the output layer the AND neuron, with the weights
    of GATE_WEIGHTS made 10 times steeper. Keras' hard_sigmoid is exactly 0 below -3 and exactly 1
    above 3, so on the four corners (|z| >= 5 everywhere) the output is exactly XOR's truth table.
    """
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(2, activation="hard_sigmoid", name="or_nand"),
        keras.layers.Dense(1, activation="hard_sigmoid", name="and"),
    ])
    (w_or, b_or), (w_nand, b_nand), (w_and, b_and) = (GATE_WEIGHTS[g] for g in ("OR", "NAND", "AND"))
    model.get_layer("or_nand").set_weights([
        STEEPNESS * np.column_stack([w_or, w_nand]),  # (2 inputs, 2 units)
        STEEPNESS * np.array([b_or, b_nand]),
    ])
    model.get_layer("and").set_weights([
        STEEPNESS * w_and[:, np.newaxis],  # (2 hidden units, 1 output)
        STEEPNESS * np.array([b_and]),
    ])
    return model


def expand_features(x):
    """(x1, x2) -> (x1², x2², x1·x2, x1, x2): all monomials of degree 1 and 2, shape (n, 5)."""
    x1, x2 = x[:, 0], x[:, 1]
    return np.column_stack([x1**2, x2**2, x1 * x2, x1, x2])


def xor_clouds(run):
    """Noisy XOR clouds: a training set and an independent, larger test set."""
    x_train, y_train = data.gate_clouds("xor", n_samples=100 if run.fast else 300, noise=NOISE,
                                        seed=run.seed)
    x_test, y_test = data.gate_clouds("xor", n_samples=200 if run.fast else 2000, noise=NOISE,
                                      seed=run.seed + 1)
    return x_train, x_test, y_train, y_test


def best_line(x, y, num_angles=720):
    """The line that classifies most of (x, y) correctly, by trying every direction and threshold.

    Returns (direction, threshold, accuracy): the line predicts 1 where x @ direction > threshold.
    """
    angles = np.linspace(0, 2 * np.pi, num_angles, endpoint=False)
    directions = np.column_stack([np.cos(angles), np.sin(angles)])  # (num_angles, 2)
    projections = x @ directions.T  # (n, num_angles)
    order = np.argsort(projections, axis=0)
    sorted_y = y[order]  # (n, num_angles): labels in the order of each projection
    # Threshold after the k lowest points: the k lowest are called 0, the others 1.
    zeros_below = np.vstack([np.zeros(num_angles), np.cumsum(sorted_y == 0, axis=0)])
    ones_above = np.vstack([np.cumsum(sorted_y[::-1] == 1, axis=0)[::-1], np.zeros(num_angles)])
    correct = zeros_below + ones_above  # (n + 1, num_angles)
    sorted_projections = np.take_along_axis(projections, order, axis=0)
    padded = np.vstack([sorted_projections[:1] - 1, sorted_projections, sorted_projections[-1:] + 1])
    # No threshold fits between two (nearly) equal projections.
    correct[np.isclose(padded[:-1], padded[1:], rtol=0, atol=1e-9)] = -1
    k, a = np.unravel_index(np.argmax(correct), correct.shape)
    threshold = (padded[k, a] + padded[k + 1, a]) / 2
    return directions[a], threshold, correct[k, a] / len(y)


def draw_line(ax, w, b, **style):
    """Draw the line w·x + b = 0 across the axes' current limits."""
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    if abs(w[1]) > abs(w[0]):
        xs = np.array([x_low, x_high])
        ax.plot(xs, -(w[0] * xs + b) / w[1], **style)
    else:
        ys = np.array([y_low, y_high])
        ax.plot(-(w[1] * ys + b) / w[0], ys, **style)
    ax.set(xlim=(x_low, x_high), ylim=(y_low, y_high))


@lecture.step("AND, OR, NOT and NAND: one neuron each")
def logic_gates(run):
    """A threshold neuron outputs 1 where w·x + b ≥ 0: the line w·x + b = 0 cuts the input plane
    in two. With weights set by hand it computes a logic gate: AND fires only when both inputs are
    on (w = (1, 1), b = -1.5), OR when either is (b = -0.5), NAND is AND with every sign flipped,
    and NOT is a one-input neuron with a negative weight. We check each against its truth table and
    draw its line.
    """
    truth = {"AND": data.GATES["and"](CORNERS[:, 0], CORNERS[:, 1]),
             "OR": data.GATES["or"](CORNERS[:, 0], CORNERS[:, 1]),
             "NAND": data.GATES["nand"](CORNERS[:, 0], CORNERS[:, 1])}
    wrong = 0
    for gate, expected in truth.items():
        w, b = GATE_WEIGHTS[gate]
        output = neuron(CORNERS, w, b)
        wrong += int(np.sum(output != expected))
        run.report(f"{gate} on (0,0), (0,1), (1,0), (1,1)", output.tolist())
    inputs = np.array([[0], [1]])
    not_output = neuron(inputs, *GATE_WEIGHTS["NOT"])
    wrong += int(np.sum(not_output != 1 - inputs[:, 0]))
    run.report("NOT on 0, 1", not_output.tolist())
    run.expect("rows of the truth tables the neurons get wrong", wrong, at_most=0)

    fig, axes = plt.subplots(1, 4, figsize=(FULL_WIDTH, 3.8), layout="constrained")
    grid = np.linspace(-0.5, 1.5, 201)
    xx, yy = np.meshgrid(grid, grid)
    for ax, gate in zip(axes[:3], truth):
        w, b = GATE_WEIGHTS[gate]
        fires = neuron(np.column_stack([xx.ravel(), yy.ravel()]), w, b).reshape(xx.shape)
        ax.contourf(xx, yy, fires, levels=[0.5, 1.5], colors=[COLORS[3]], alpha=0.15)
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
               title=f"{gate}: w = ({w[0]:g}, {w[1]:g}), b = {b:g}")
        draw_line(ax, w, b, color="black", linewidth=1.5)
        output = neuron(CORNERS, w, b)
        ax.scatter(*CORNERS.T, s=120, c=[COLORS[3] if o else COLORS[0] for o in output],
                   edgecolors="black", zorder=3)
        for (a, c), o in zip(CORNERS, output):
            ax.annotate(str(o), (a, c), xytext=(9, 7), textcoords="offset points", fontsize=12)
        ax.grid(False)
    ax = axes[3]
    w, b = GATE_WEIGHTS["NOT"]
    ax.axvspan(-0.5, -b / w[0], color=COLORS[3], alpha=0.15)
    ax.axvline(-b / w[0], color="black", linewidth=1.5)
    ax.scatter([0, 1], [0, 0], s=120, c=[COLORS[3] if o else COLORS[0] for o in not_output],
               edgecolors="black", zorder=3)
    for a, o in zip([0, 1], not_output):
        ax.annotate(str(o), (a, 0), xytext=(9, 7), textcoords="offset points", fontsize=12)
    ax.set(xlim=(-0.5, 1.5), ylim=(-1, 1), xlabel="$x$", yticks=[], aspect="equal",
           title=f"NOT: w = {w[0]:g}, b = {b:g}")
    ax.spines["left"].set_visible(False)
    ax.grid(False)
    fig.suptitle("One neuron per gate: it outputs 1 (shaded) on one side of its line")
    run.figure(fig, "logic_gates", "AND, OR, NAND and NOT as single threshold neurons: "
               "truth tables and the line each one draws.")


@lecture.step("XOR is not linearly separable")
def xor_is_not_linearly_separable(run):
    """XOR is 1 when exactly one input is on. Its 1-corners (0, 1) and (1, 0) sit on one diagonal,
    its 0-corners on the other: any line that puts both 1-corners on one side takes a 0-corner with
    them. On noisy clouds around the corners, logistic regression (the best line in the sense of
    likelihood) stays near a coin flip, and even the line with the most correct points, found by
    trying every direction and offset, gets about 3 of 4 clouds right.
    """
    x_train, x_test, y_train, y_test = xor_clouds(run)
    logistic = LogisticRegression(C=np.inf).fit(x_train, y_train)
    logistic_accuracy = accuracy_score(y_test, logistic.predict(x_test))
    direction, threshold, train_accuracy = best_line(x_train, y_train, 180 if run.fast else 720)
    line_accuracy = accuracy_score(y_test, x_test @ direction > threshold)
    run.expect("test accuracy of logistic regression on XOR", logistic_accuracy, at_most=0.75)
    run.report("training accuracy of the best line (every direction tried)", train_accuracy)
    run.expect("test accuracy of the best line on XOR", line_accuracy, at_most=0.8)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.2), layout="constrained")
    decision_boundary(logistic, x_test[:SHOWN], y_test[:SHOWN], ax=left,
                      title=f"Logistic regression: test accuracy {logistic_accuracy:.2f}")
    decision_boundary(lambda points: (points @ direction > threshold).astype(float),
                      x_test[:SHOWN], y_test[:SHOWN], ax=right,
                      title=f"The best line: test accuracy {line_accuracy:.2f}")
    run.figure(fig, "xor_not_linearly_separable",
               "No line separates XOR: logistic regression stays near chance and the best line "
               "gets about 3 of 4 clouds right.")


@lecture.step("Option 1: non-linear features")
def nonlinear_features(run):
    """First way out: keep the linear model, change the features. Mapping (x1, x2) to
    (x1², x2², x1·x2, x1, x2) turns every quadratic curve in the plane into a hyperplane in the
    5-D feature space. On the corners, XOR = x1 + x2 - 2·x1·x2, linear in these features; a circle
    x1² + x2² = r² is too. Logistic regression on the expanded features separates both; drawn back
    in the original plane its boundary is a hyperbola (XOR) or a closed curve (circles).
    """
    x_train, x_test, y_train, y_test = xor_clouds(run)
    xor_model = LogisticRegression(C=100.0, max_iter=1000).fit(expand_features(x_train), y_train)
    xor_accuracy = accuracy_score(y_test, xor_model.predict(expand_features(x_test)))
    # Scaled so that the x1·x2 weight is -2: compare with XOR = x1 + x2 - 2·x1·x2 (threshold 1/2).
    scale = -2 / xor_model.coef_[0, 2]
    run.report("weights of (x1², x2², x1·x2, x1, x2), scaled to x1·x2 -> -2",
               np.round(scale * xor_model.coef_[0], 2))
    run.report("bias, scaled alike", round(float(scale * xor_model.intercept_[0]), 2))
    run.expect("test accuracy on XOR with quadratic features", xor_accuracy, at_least=0.99)

    circles_train = data.circles(n_samples=100 if run.fast else 300, noise=0.1, seed=run.seed)
    circles_test = data.circles(n_samples=200 if run.fast else 2000, noise=0.1, seed=run.seed + 1)
    circles_model = LogisticRegression(C=100.0, max_iter=1000).fit(
        expand_features(circles_train[0]), circles_train[1])
    circles_accuracy = accuracy_score(circles_test[1],
                                      circles_model.predict(expand_features(circles_test[0])))
    run.expect("test accuracy on circles with quadratic features", circles_accuracy, at_least=0.95)

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.2), layout="constrained")
    decision_boundary(lambda points: xor_model.predict_proba(expand_features(points))[:, 1],
                      x_test[:SHOWN], y_test[:SHOWN], ax=left, title=f"XOR: test accuracy {xor_accuracy:.3f}")
    decision_boundary(lambda points: circles_model.predict_proba(expand_features(points))[:, 1],
                      circles_test[0][:SHOWN], circles_test[1][:SHOWN], ax=right,
                      title=f"Circles: test accuracy {circles_accuracy:.3f}")
    fig.suptitle("Logistic regression on (x1², x2², x1·x2, x1, x2), drawn in the original plane")
    run.figure(fig, "quadratic_features",
               "A linear model on quadratic features: a hyperplane in feature space is a curve "
               "in the input plane.")


@lecture.step("Option 2: composition — XOR = AND(OR, NAND)")
def composition(run):
    """Second way out: compose neurons. XOR is 1 when at least one input is on (OR) and not both
    are (NAND): XOR = AND(OR, NAND). A first layer of two neurons computes OR and NAND, a second
    layer of one neuron ANDs them. `hand_wired_xor()` is that network in Keras, its weights set by
    hand (10 times the gate weights, with Keras' step-like hard_sigmoid), no training. In the space
    of the hidden units (OR, NAND) the corners land on (0, 1), (1, 1) and (1, 0): a line, the AND
    neuron, now separates them.
    """
    model = hand_wired_xor()
    probability = model.predict(CORNERS.astype("float32"), verbose=0)[:, 0]  # (4,)
    truth = data.GATES["xor"](CORNERS[:, 0], CORNERS[:, 1])
    run.report("hand-wired XOR on (0,0), (0,1), (1,0), (1,1)", probability.tolist())
    run.expect("largest |output - XOR| on the corners", np.max(np.abs(probability - truth)), at_most=0)
    x_train, x_test, y_train, y_test = xor_clouds(run)
    run.report("test accuracy on the noisy XOR clouds (no training)",
               accuracy_score(y_test, model.predict(x_test, verbose=0)[:, 0] >= 0.5))
    for layer in model.layers:
        kernel, bias = layer.get_weights()
        run.report(f"layer {layer.name!r}: kernel, bias", f"{kernel.tolist()}, {bias.tolist()}")

    hidden = keras.Model(model.inputs, model.get_layer("or_nand").output)
    h_test = hidden.predict(x_test, verbose=0)  # (n, 2): the OR and NAND outputs
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4.4), layout="constrained")
    decision_boundary(model, x_test[:SHOWN], y_test[:SHOWN], ax=left,
                      title="Hand-wired XOR in the input plane")
    for gate, color in (("OR", COLORS[2]), ("NAND", COLORS[4])):
        draw_line(left, *GATE_WEIGHTS[gate], color=color, linestyle="--", linewidth=1.5,
                  label=f"{gate} neuron's line")
    left.legend(loc="lower right", frameon=True, framealpha=0.85, edgecolor="none", fontsize=10)
    for label, color in ((0, COLORS[0]), (1, COLORS[3])):
        points = h_test[:SHOWN][y_test[:SHOWN] == label]
        right.scatter(points[:, 0], points[:, 1], s=30, color=color, edgecolors="black", linewidths=0.6,
                      alpha=0.5, label=f"{label}")
    right.set(xlim=(-0.15, 1.15), ylim=(-0.15, 1.15), xlabel="OR neuron", ylabel="NAND neuron",
              aspect="equal", title="The same points in hidden-unit space")
    draw_line(right, *GATE_WEIGHTS["AND"], color="black", linewidth=1.5, label="AND neuron's line")
    for corners, (h_or, h_nand) in (("(0, 0)", (0, 1)), ("(0, 1), (1, 0)", (1, 1)), ("(1, 1)", (1, 0))):
        right.annotate(f"from {corners}", (h_or, h_nand), xytext=(-8, -14), textcoords="offset points",
                       ha="right", fontsize=10)
    right.legend(loc="lower left", frameon=True, framealpha=0.85, edgecolor="none")
    run.figure(fig, "hand_wired_xor",
               "XOR = AND(OR, NAND): two lines in the input plane, and in the hidden units' space "
               "one line separates the classes.")


@lecture.step("A learned MLP and its hidden representation")
def learned_hidden_representation(run):
    """Now let gradient descent find the composition. The recipe `train` (8 tanh units, then a
    sigmoid) reaches the clouds' accuracy limit. With just 2 hidden units we can look inside: each
    unit cuts the plane with its own line w·x + b = 0, and its tanh squashes the signed distance to
    that line into (-1, 1). Drawn in the space of the two hidden values (h1, h2), the classes are
    now split by a line, the output neuron's: the hidden layer has re-described the data so that a
    linear model suffices. Two units can get stuck (one corner on the wrong side, ~75% accuracy); we
    then restart from the next seed.
    """
    x_train, x_test, y_train, y_test = xor_clouds(run)
    epochs = 3 if run.fast else None
    model = train(x_train, y_train, epochs=epochs, seed=run.seed, strategy=run.strategy,
                  callbacks=run.callbacks("xor_mlp"))
    accuracy = accuracy_score(y_test, model.predict(x_test, verbose=0)[:, 0] >= 0.5)
    run.expect("test accuracy of the trained MLP (8 hidden units)", accuracy, at_least=0.99)

    for seed in range(run.seed, run.seed + (1 if run.fast else 10)):
        small = train(x_train, y_train, hidden_units=2, epochs=epochs, seed=seed, strategy=run.strategy,
                      callbacks=run.callbacks(f"xor_two_units_seed_{seed}"))
        if accuracy_score(y_train, small.predict(x_train, verbose=0)[:, 0] >= 0.5) >= 0.95:
            break
    run.report("2-unit nets trained (a new seed each time one got stuck)", seed - run.seed + 1)
    small_accuracy = accuracy_score(y_test, small.predict(x_test, verbose=0)[:, 0] >= 0.5)
    run.report("test accuracy with 2 hidden units", small_accuracy)
    hidden = keras.Model(small.inputs, small.get_layer("hidden").output)
    h_train = to_numpy(hidden.predict(x_train, verbose=0))  # (n, 2), float32 in any --precision
    h_test = to_numpy(hidden.predict(x_test, verbose=0))
    line_on_inputs = LogisticRegression(C=np.inf).fit(x_train, y_train)
    line_on_hidden = LogisticRegression(C=np.inf).fit(h_train, y_train)
    run.report("test accuracy of logistic regression on the inputs (x1, x2)",
               accuracy_score(y_test, line_on_inputs.predict(x_test)))
    run.report("test accuracy of logistic regression on the hidden values (h1, h2)",
               accuracy_score(y_test, line_on_hidden.predict(h_test)))

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4.8), layout="constrained",
                                              width_ratios=(1, 1, 1.1))
    decision_boundary(model, x_test[:SHOWN], y_test[:SHOWN], ax=left,
                      title=f"train(): 8 tanh units, test accuracy {accuracy:.3f}")
    decision_boundary(small, x_test[:SHOWN], y_test[:SHOWN], ax=middle,
                      title=f"2 tanh units, test accuracy {small_accuracy:.3f}")
    kernel, bias = small.get_layer("hidden").get_weights()
    for unit, color in enumerate((COLORS[2], COLORS[4])):
        draw_line(middle, kernel[:, unit], bias[unit], color=color, linestyle="--", linewidth=1.5,
                  label=f"unit h{unit + 1}: w·x + b = 0")
    middle.legend(loc="lower right", frameon=True, framealpha=0.85, edgecolor="none", fontsize=10)
    for label, color in ((0, COLORS[0]), (1, COLORS[3])):
        points = h_test[:SHOWN][y_test[:SHOWN] == label]
        right.scatter(points[:, 0], points[:, 1], s=22, color=color, edgecolors="black", linewidths=0.5,
                      alpha=0.6)  # coloured as in the other panels' legends
    right.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), xlabel="$h_1$", ylabel="$h_2$", aspect="equal",
              title="Hidden-unit space (test)")
    corner_h = hidden.predict(CORNERS.astype("float32"), verbose=0)  # where the 4 corners land
    right.scatter(*corner_h.T, marker="*", s=220, color="white", edgecolors="black", zorder=4,
                  label="the corners")
    labels = {}  # corners that land (nearly) on the same spot share one label
    for index, ((a, c), h) in enumerate(zip(CORNERS, corner_h)):
        spot = next((s for s in labels if np.linalg.norm(corner_h[s] - h) < 0.2), index)
        labels[spot] = labels.get(spot, []) + [f"({a}, {c})"]
    for spot, names in labels.items():
        h1, h2 = corner_h[spot]
        right.annotate(" and ".join(names), (h1, h2), xytext=(-12 if h1 > 0 else 8, -16 if h2 > 0 else 10),
                       textcoords="offset points", ha="right" if h1 > 0 else "left", fontsize=10,
                       bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
    output_kernel, output_bias = small.get_layer("output").get_weights()
    draw_line(right, output_kernel[:, 0], output_bias[0], color="black", linewidth=1.5,
              label="output neuron's line")
    right.legend(loc="lower left", frameon=True, framealpha=0.85, edgecolor="none", fontsize=10)
    run.figure(fig, "hidden_representation",
               "A trained MLP on XOR; with 2 hidden units, each cuts the plane with a line, and in "
               "their (h1, h2) space one line separates the classes.")


@lecture.step("Depth: how many linear stages?")
def depth(run):
    """How many linear stages does a boolean function need? One neuron computes only the linearly
    separable ones. We count them by trying every integer weight vector (entries up to n, enough
    for n <= 4) and every threshold: 14 of the 16 functions of 2 inputs (all but XOR and XNOR),
    and a vanishing share as inputs grow (1882 of 65,536 for 4 inputs). Two stages with a
    non-linearity between compute every function: one hidden AND neuron per input pattern, then an
    OR neuron over the patterns where the function is 1 (the disjunctive normal form). Without the
    non-linearity stacking does not help: linear layers multiply out to a single linear layer.

    Recap: a neuron is a line; XOR needs either features in which it becomes a line, or a second
    layer that composes lines; training finds such a composition, and the hidden layer is a new
    representation of the data in which the classes are linearly separable.
    """
    max_inputs = 3 if run.fast else 4
    one_neuron, two_layers, totals = [], [], []
    for n_inputs in range(1, max_inputs + 1):
        inputs = np.array(list(itertools.product([0, 1], repeat=n_inputs)))  # (2**n, n)
        # Every function as its truth table: bit k of function f is its output on input row k.
        functions = (np.arange(2 ** 2 ** n_inputs)[:, None] >> np.arange(2**n_inputs)) & 1
        totals.append(len(functions))
        # One neuron: all integer weights in [-n, n] (enough for n <= 4) and half-integer thresholds.
        weights = np.array(list(itertools.product(range(-n_inputs, n_inputs + 1), repeat=n_inputs)))
        biases = np.arange(-n_inputs**2, n_inputs**2 + 1) + 0.5
        outputs = (inputs @ weights.T)[:, :, None] + biases >= 0  # (2**n, weights, biases)
        codes = (1 << np.arange(len(inputs))) @ outputs.reshape(len(inputs), -1)  # truth table as bits
        one_neuron.append(len(np.unique(codes)))
        # Two layers: hidden AND neuron k fires only on input row k (weights ±1, bias = -(ones - 1/2)),
        # the output neuron ORs the rows where the function is 1.
        hidden = neuron(inputs, (2 * inputs - 1).T, -(inputs.sum(axis=1) - 0.5))  # (2**n, 2**n)
        computed = neuron(hidden, functions.T, -0.5).T  # (functions, 2**n)
        two_layers.append(int(np.sum(np.all(computed == functions, axis=1))))
        run.report(f"{n_inputs} input(s): functions one neuron computes",
                   f"{one_neuron[-1]} of {totals[-1]}")
    run.expect("functions of 2 inputs one neuron computes", one_neuron[1], at_least=14, at_most=14)
    run.expect("share of functions the two-layer construction gets wrong",
               1 - sum(two_layers) / sum(totals), at_most=0)

    stacked = keras.Sequential([keras.Input(shape=(2,))] + [keras.layers.Dense(4) for _ in range(3)]
                               + [keras.layers.Dense(1)])
    kernel, bias = np.eye(2), np.zeros(2)
    for layer in stacked.layers:  # x W1 + b1, then (x W1 + b1) W2 + b2, ...: still x W + b
        layer_kernel, layer_bias = layer.get_weights()
        kernel, bias = kernel @ layer_kernel, bias @ layer_kernel + layer_bias
    x_test = data.gate_clouds("xor", n_samples=100, noise=NOISE, seed=run.seed)[0]
    run.expect("largest difference between 4 stacked linear layers and one",
               np.max(np.abs(stacked.predict(x_test, verbose=0) - (x_test @ kernel + bias))),
               at_most=1e-4)

    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 4), layout="constrained")
    positions = np.arange(1, max_inputs + 1)
    ax.bar(positions - 0.2, np.array(one_neuron) / totals, width=0.4, label="one neuron")
    ax.bar(positions + 0.2, np.array(two_layers) / totals, width=0.4, label="two layers (DNF)")
    for position, count, total in zip(positions, one_neuron, totals):
        ax.annotate(f"{count}/{total}", (position - 0.2, count / total), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=10)
    ax.set(xticks=positions, xlabel="number of inputs n", ylabel="share of the $2^{2^n}$ functions",
           ylim=(0, 1.25), title="Boolean functions threshold neurons compute")
    ax.legend(loc="upper center", ncols=2)
    run.figure(fig, "depth", "One neuron computes a shrinking share of boolean functions; two layers "
               "compute them all.")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "xor", *sys.argv[1:]]))
