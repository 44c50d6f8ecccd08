"""Generative adversarial networks

A generative adversarial network (GAN) learns to make new samples that look like its training data
without ever writing down their probability: a generator turns random noise into samples, a
discriminator learns to tell them from real ones, and each trains against the other. We work out
the game the two play, train it on a 2-D ring of Gaussians where every sample can be seen, measure
mode collapse and one cure for it, train a DCGAN on real handwritten digits, score its samples
without a human (a classifier's confidence, the share of each class, the Fréchet distance in the
classifier's features, the distance to the nearest training digit), and walk its latent space.

Images are float32 arrays (n, height, width, channels) with values in [0, 1]. The default data
are scikit-learn's 1,797 bundled 8×8 digits (offline); `--dataset mnist` (or fashion_mnist) uses
a tensorflow-datasets download fetched ahead of class (`companion data fetch mnist`).
"""

import math
import warnings

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import SVC

from companion import data, datasets, validation
from companion.checkpoints import completed_epochs
from companion.datasets import image_split
from companion.devices import global_batch_size, scope
from companion.errors import UserError
from companion.lecture import Lecture
from companion.plots import COLORS, FULL_WIDTH, PROBABILITY_CMAP, image_grid
from companion.seeding import set_seed
from lectures.autoencoders import flat, predict
from lectures.cnn import stages
from lectures.logistic_regression import sigmoid

lecture = Lecture(
    "gans",
    "Generative adversarial networks",
    expected="on the 8x8 digits, DCGAN samples that an SVM trained on real digits reads with "
    "confidence, in every class, not copies of training digits, and closer to the real digits than the "
    "VAE's samples (Fréchet distance); on the 2-D ring, a generator that collapses against a slow "
    "discriminator and covers the ring when packed",
    seconds=200,
    datasets=("digits", "mnist", "fashion_mnist"),
)

LATENT_DIM = 32  # random numbers per generated image
BATCH_SIZE = 64
LEARNING_RATE = 0.001  # Adam's, for both networks, with β₁ = 0.5 as in the DCGAN paper
BETA_1 = 0.5
EMA_MOMENTUM = 0.99  # the generator we keep is a running average of its weights
FIRST_WIDTH = 32  # filters at full resolution; every halving doubles them
HIDDEN_UNITS = 256  # of the generator's first layer and of the discriminator's layers
STEPS = 7000  # optimizer steps of the recipe (more: sharper samples, but fewer of some classes)


# ---------------------------------------------------------------------------------------------------
# The game


@lecture.step("The game")
def the_game(run):
    """A generator G turns noise z into samples G(z); a discriminator D outputs the probability
    D(x) that x is real. They play min_G max_D V(D, G) = E_data[log D(x)] + E_z[log(1 − D(G(z)))]:
    D is a classifier trained on the cross-entropy of real (1) against generated (0), and G tries
    to make it fail. For a fixed generator the best discriminator is known in closed form,
    D*(x) = p_data(x) / (p_data(x) + p_g(x)), and at that optimum the value is
    V = −log 4 + 2·JSD(p_data ‖ p_g): the generator, minimising it, minimises the Jensen-Shannon
    divergence between its distribution and the data's, which is 0 only when they are equal.

    We check both on 1-D Gaussians: a Keras classifier trained on samples of p_data = N(0, 1)
    against p_g = N(1.5, 0.6²) learns D*, and its value matches −log 4 + 2·JSD. In practice the
    generator does not minimise log(1 − D(G(z))): where D confidently rejects its samples, early
    in training, that loss is flat (its gradient with respect to D's logit is −D(G(z)) ≈ 0) and
    the generator learns nothing. It maximises log D(G(z)) instead, the non-saturating loss
    −log D(G(z)), whose gradient there is about −1: largest when the generator is worst.
    """
    from scipy.stats import norm

    rng = np.random.default_rng(run.seed)
    n = 4000 if run.fast else 20000
    real = rng.normal(0.0, 1.0, n)  # p_data = N(0, 1)
    generated = rng.normal(1.5, 0.6, n)  # p_g = N(1.5, 0.6²): a generator that is not there yet
    x = np.concatenate([real, generated]).astype("float32")[:, None]  # (2n, 1)
    y = np.concatenate([np.ones(n), np.zeros(n)]).astype("float32")  # real 1, generated 0
    set_seed(run.seed)
    with scope(run.strategy):
        discriminator = keras.Sequential([keras.Input(shape=(1,)),
                                          keras.layers.Dense(32, activation="relu"),
                                          keras.layers.Dense(32, activation="relu"),
                                          keras.layers.Dense(1, dtype="float32")])  # the logit of "real"
        discriminator.compile(optimizer=keras.optimizers.Adam(0.003),
                              loss=keras.losses.BinaryCrossentropy(from_logits=True))
    callbacks = run.callbacks("discriminator")
    batches = datasets.pipeline(x, y, batch_size=256, seed=run.seed, first_epoch=completed_epochs(callbacks))
    discriminator.fit(batches, epochs=3 if run.fast else 15, verbose=0, callbacks=callbacks)

    grid = np.linspace(-3.5, 4.0, 301, dtype="float32")
    p_data, p_g = norm.pdf(grid, 0.0, 1.0), norm.pdf(grid, 1.5, 0.6)
    optimum = p_data / (p_data + p_g)  # D*(x)
    learned = sigmoid(predict(discriminator, grid[:, None])[:, 0])
    mixture = (p_data + p_g) / 2  # the density of the discriminator's training samples
    error = np.abs(learned - optimum)
    run.report("largest |D(x) − D*(x)| where the samples' density is at least 0.05",
               error[mixture >= 0.05].max())
    run.expect("mean |D(x) − D*(x)| over the samples' distribution",
               np.sum(error * mixture) / np.sum(mixture), at_most=0.03)

    fine = np.linspace(-10, 10, 20001)
    p, q = norm.pdf(fine, 0.0, 1.0), norm.pdf(fine, 1.5, 0.6)
    m = (p + q) / 2
    jsd = 0.5 * np.trapezoid(p * np.log(p / m) + q * np.log(q / m), fine)  # nats
    fresh_real = rng.normal(0.0, 1.0, (n, 1)).astype("float32")
    fresh_generated = rng.normal(1.5, 0.6, (n, 1)).astype("float32")
    # log D(x) = −softplus(−l) and log(1 − D(x)) = −softplus(l) for D's logit l: finite for any l
    value = (-np.mean(np.logaddexp(0, -predict(discriminator, fresh_real).astype("float64")))
             - np.mean(np.logaddexp(0, predict(discriminator, fresh_generated).astype("float64"))))
    run.report("JSD(p_data ‖ p_g) by numerical integration (nats)", jsd)
    run.report("V(D, G) with the trained D, on fresh samples", value)
    run.report("−log 4 + 2·JSD, the value at D*", -math.log(4) + 2 * jsd)
    run.expect("|V(D, G) − (−log 4 + 2·JSD)|", abs(value - (-math.log(4) + 2 * jsd)), at_most=0.03)

    score = np.linspace(0.001, 0.999, 500)  # D(G(z))
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4), layout="constrained")
    left.plot(grid, p_data / p_data.max(), color=COLORS[0], label="p_data (scaled)")
    left.plot(grid, p_g / p_g.max(), color=COLORS[1], label="p_g (scaled)")
    left.plot(grid, optimum, color="black", linewidth=2.5, label="D*(x), closed form")
    left.plot(grid, learned, color=COLORS[3], linestyle="--", linewidth=2, label="D(x), trained")
    left.set(xlabel="x", ylabel="density (scaled) or probability", title="The best discriminator",
             ylim=(0, 1.45))
    left.legend(loc="upper center", fontsize=10, ncols=2)
    middle.plot(score, np.log(1 - score), color=COLORS[3], label="saturating: log(1 − D(G(z)))")
    middle.plot(score, -np.log(score), color=COLORS[0], label="non-saturating: −log D(G(z))")
    middle.set(xlabel="D(G(z))", ylabel="generator's loss (minimised)", title="Two generator losses")
    middle.legend(fontsize=10)
    right.plot(score, score, color=COLORS[3], label="saturating: D(G(z))")
    right.plot(score, 1 - score, color=COLORS[0], label="non-saturating: 1 − D(G(z))")
    right.axvspan(0, 0.1, color="0.9")
    right.text(0.05, 0.5, "early in\ntraining", ha="center", fontsize=10)
    right.set(xlabel="D(G(z))", ylabel="|∂loss/∂logit| of D's logit",
              title="Their gradients", ylim=(0, 1.3))
    right.legend(loc="upper center", fontsize=10, ncols=1)
    run.figure(fig, "the_game", "Left: two 1-D distributions, the best discriminator D* in closed form and "
               "one trained on their samples (they part only beyond x ≈ 2.7, where there are almost no "
               "samples). Middle and right: the saturating and the non-saturating generator loss as "
               "functions of D(G(z)), and the size of their gradients with respect to the discriminator's "
               "logit.")


# ---------------------------------------------------------------------------------------------------
# Two networks, one training step, and a GAN on 2-D points


class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`, the Keras 3 way of
    keras.io's DCGAN example: `train_step` takes one step of the discriminator, then one of the
    generator, each with its own optimizer and changing only its own weights. On TensorFlow it is
    keras.io's step with `tf.GradientTape`; on JAX, where `fit` compiles a pure function of the
    variables' values, the same two steps are written statelessly (`stateless_train_step`).

    The discriminator outputs a logit l (real: high). With loss="cross_entropy" its loss is the
    cross-entropy of real samples against 1 plus that of generated ones against 0, and the
    generator's is the non-saturating −log D(G(z)). With loss="hinge" (the recipe's) the
    discriminator only pushes l above 1 on real and below −1 on generated samples,
    mean(max(0, 1 − l_real)) + mean(max(0, 1 + l_generated)), and the generator raises l on its
    samples, −mean(l_generated): no sigmoid to saturate. `pack` > 1 shows the discriminator `pack`
    samples at once, side by side (PacGAN): a generator that makes the same sample again and again
    is then easy to catch.
    """

    def __init__(self, generator, discriminator, *, loss="cross_entropy", pack=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if loss not in ("cross_entropy", "hinge"):
            raise ValueError(f"Expected loss 'cross_entropy' or 'hinge'. Received: loss={loss!r}")
        pack = validation.positive_integer("pack", pack)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = generator.input_shape[-1]
        self.loss_name, self.pack = loss, pack
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("d_loss", "g_loss", "real_logit", "fake_logit")}
        self.built = True  # both networks are built already: `fit` need not call this model to build it

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer):
        if keras.config.dtype_policy().name == "mixed_float16":  # small float16 gradients would round
            if keras.backend.backend() == "jax":  # to zero: the losses are scaled up, the gradients down
                raise UserError(
                    "The GAN's JAX training step does not scale its losses, which float16 needs: run "
                    "with --precision float32, or on the TensorFlow backend.")
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
            g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
        if keras.backend.backend() == "jax":
            # `fit` on JAX hands the step the values of the model's optimizer's variables and takes
            # back new ones: a MultiOptimizer holding both optimizers puts all their variables there.
            # (At its end `fit` also finalizes it, writing an averaged generator (`use_ema`) into
            # the generator, which `train` does on both backends.)
            discriminator_weights = {id(v) for v in self.discriminator.trainable_variables}
            super().compile(optimizer=keras.optimizers.MultiOptimizer(
                lambda variable: d_optimizer if id(variable) in discriminator_weights else g_optimizer))
        else:
            super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        d_optimizer.build(self.discriminator.trainable_variables)  # its state now exists, so that a
        g_optimizer.build(self.generator.trainable_variables)  # checkpoint (--run-dir) restores it
        if keras.backend.backend() == "jax":
            self.optimizer.build(self.trainable_variables)

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def packed(self, samples):
        """(batch, *shape) -> (batch / pack, *shape[:-1], pack · channels): `pack` samples side by
        side along the last axis, one input of the discriminator."""
        if self.pack == 1:
            return samples
        shape = tuple(samples.shape[1:])
        grouped = ops.reshape(samples, (-1, self.pack, *shape))  # (batch / pack, pack, *shape)
        moved = ops.moveaxis(grouped, 1, -2)  # (batch / pack, *shape[:-1], pack, channels)
        return ops.reshape(moved, (-1, *shape[:-1], self.pack * shape[-1]))

    def discriminator_loss(self, real_logits, fake_logits):
        if self.loss_name == "hinge":
            return ops.mean(ops.relu(1 - real_logits)) + ops.mean(ops.relu(1 + fake_logits))
        # −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l): finite for any logit
        return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))

    def generator_loss(self, fake_logits):
        if self.loss_name == "hinge":
            return -ops.mean(fake_logits)
        return ops.mean(ops.softplus(-fake_logits))  # −log D(G(z)), the non-saturating loss

    def train_step(self, real):
        import tensorflow as tf  # the TensorFlow backend's gradient tape (keras.io's DCGAN)

        # Under a strategy each replica sees part of the batch and their gradients are summed:
        # dividing each replica's loss by their number makes the sum the gradient of the mean.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch_size = ops.shape(real)[0]
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:  # 1. the discriminator's step: only its weights change
            real_logits = self.discriminator(self.packed(real), training=True)
            fake_logits = self.discriminator(self.packed(fake), training=True)
            d_loss = self.discriminator_loss(real_logits, fake_logits)
            replica_share = self.d_optimizer.scale_loss(d_loss / replicas)  # scaled up in float16 only
        gradients = tape.gradient(replica_share, self.discriminator.trainable_weights)
        self.d_optimizer.apply(gradients, self.discriminator.trainable_weights)

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:  # 2. the generator's step, against the updated discriminator
            fake_logits_now = self.discriminator(self.packed(self.generator(z, training=True)),
                                                 training=True)
            g_loss = self.generator_loss(fake_logits_now)
            replica_share = self.g_optimizer.scale_loss(g_loss / replicas)
        gradients = tape.gradient(replica_share, self.generator.trainable_weights)
        self.g_optimizer.apply(gradients, self.generator.trainable_weights)

        for name, value in [("d_loss", d_loss), ("g_loss", g_loss),
                            ("real_logit", ops.mean(real_logits)), ("fake_logit", ops.mean(fake_logits))]:
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def stateless_train_step(self, state, data):
        """The same two steps for the JAX backend, following keras.io's "Customizing what happens in
        fit() with JAX": `fit` compiles this as a pure function that receives the values of all
        variables, `state` = (trainable, non-trainable, optimizer, metric values), and returns the
        logs and their new values, changing no variable in place. Each step differentiates its loss
        with `jax.grad` with respect to its own network's weights only and applies its own
        optimizer with `stateless_apply`. No division by the number of replicas: JAX splits a batch
        over devices inside one compiled step, whose loss is already the mean over the whole batch.
        """
        import jax

        trainable, non_trainable, optimizer_values, metric_values = state
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        variables = [*self.trainable_variables, *self.non_trainable_variables]
        position = {id(v): i for i, v in enumerate(variables)}
        slot = {id(v): i for i, v in enumerate(self.optimizer.variables)}  # both optimizers' (compile)

        def run(function, values):
            """function() with each variable reading its value from `values`, as it would in place;
            returns its result and the values after it (batch norm statistics, the random seed)."""
            with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                result = function()
            return result, [scope.get_current_value(v) for v in variables]

        def step(network, optimizer, loss, values, optimizer_values):
            """One step of `optimizer` on `network`'s weights down the gradient of loss(), which
            returns (loss, logs); returns (logs, new values, new optimizer values)."""
            weights_at = [position[id(v)] for v in network.trainable_variables]
            slots = [slot[id(v)] for v in optimizer.variables]

            def loss_of(weights):  # the loss as a function of this network's weights alone
                trial = list(values)
                for i, weight in zip(weights_at, weights):
                    trial[i] = weight
                (loss_value, logs), after = run(loss, trial)
                return loss_value, (logs, after)

            gradients, (logs, values) = jax.grad(loss_of, has_aux=True)([values[i] for i in weights_at])
            weights, updated = optimizer.stateless_apply(
                [optimizer_values[i] for i in slots], gradients, [values[i] for i in weights_at])
            optimizer_values = list(optimizer_values)
            for i, weight in zip(weights_at, weights):
                values[i] = weight
            for i, value in zip(slots, updated):
                optimizer_values[i] = value
            return logs, values, optimizer_values

        batch_size = ops.shape(real)[0]

        def discriminator_loss():  # 1. the discriminator's step: only its weights change
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake = self.generator(z, training=True)
            real_logits = self.discriminator(self.packed(real), training=True)
            fake_logits = self.discriminator(self.packed(fake), training=True)
            d_loss = self.discriminator_loss(real_logits, fake_logits)
            return d_loss, {"d_loss": d_loss, "real_logit": ops.mean(real_logits),
                            "fake_logit": ops.mean(fake_logits)}

        def generator_loss():  # 2. the generator's step, against the updated discriminator
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake_logits_now = self.discriminator(self.packed(self.generator(z, training=True)),
                                                 training=True)
            g_loss = self.generator_loss(fake_logits_now)
            return g_loss, {"g_loss": g_loss}

        values = [*trainable, *non_trainable]
        d_logs, values, optimizer_values = step(self.discriminator, self.d_optimizer, discriminator_loss,
                                                values, optimizer_values)
        g_logs, values, optimizer_values = step(self.generator, self.g_optimizer, generator_loss,
                                                values, optimizer_values)

        values_of = {**d_logs, **g_logs}
        logs, new_metric_values, start = {}, [], 0
        for name, tracker in self.trackers.items():  # self.metrics, whose variables `fit` passes in order
            count = len(tracker.variables)
            updated = tracker.stateless_update_state(metric_values[start:start + count], values_of[name])
            logs[name] = tracker.stateless_result(updated)
            new_metric_values += updated
            start += count
        state = (values[:len(trainable)], values[len(trainable):], optimizer_values, new_metric_values)
        return logs, state

    if keras.backend.backend() == "jax":  # `fit` on JAX calls train_step(state, data)
        train_step = stateless_train_step


def adam(learning_rate, *, ema=False):
    """Adam with β₁ = 0.5 (the DCGAN paper's); `ema` keeps a running average of the weights too,
    which `finalize_variable_values` writes into the model at the end of training."""
    return keras.optimizers.Adam(learning_rate, beta_1=BETA_1, use_ema=ema, ema_momentum=EMA_MOMENTUM)


def sample(generator, n, *, seed=0, batch_size=500):
    """n samples of the generator (inference mode) from latent vectors z ~ N(0, I), as NumPy."""
    z = np.random.default_rng(seed).standard_normal((n, generator.input_shape[-1])).astype("float32")
    return predict(generator, z, batch_size=batch_size)


RING_NOISE = 0.05  # standard deviation of each of the ring's 8 Gaussians (radius 2)
RING_STEPS = 3000  # optimizer steps of each ring GAN: 30 epochs of 100 batches of 256 points
GRID = np.stack(np.meshgrid(np.linspace(-3, 3, 121), np.linspace(-3, 3, 121)),
                axis=-1).reshape(-1, 2).astype("float32")  # (121², 2): where step 2 draws D


def ring_networks(*, latent_dim=2, pack=1, hidden_units=128):
    """(generator, discriminator) for 2-D points: two fully connected ReLU networks."""
    generator = keras.Sequential([keras.Input(shape=(latent_dim,)),
                                  keras.layers.Dense(hidden_units, activation="relu"),
                                  keras.layers.Dense(hidden_units, activation="relu"),
                                  keras.layers.Dense(2, dtype="float32")], name="generator")  # -> (x, y)
    discriminator = keras.Sequential([keras.Input(shape=(2 * pack,)),  # `pack` points side by side
                                      keras.layers.Dense(hidden_units, activation="relu"),
                                      keras.layers.Dense(hidden_units, activation="relu"),
                                      keras.layers.Dense(1, dtype="float32")],  # -> the logit
                                     name="discriminator")
    return generator, discriminator


class Snapshots(keras.callbacks.Callback):
    """Calls `take(gan)` at the end of the given epochs (1-based), keeping {epoch: result} in
    `records` (which a run directory's checkpoint keeps too)."""

    def __init__(self, epochs, take):
        super().__init__()
        self.epochs, self.take, self.records = set(epochs), take, {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self.records[epoch + 1] = self.take(self.model)


def ring_record(gan):
    """What steps 2 and 3 look at after every epoch: 1,000 samples, and D's probability of real on
    GRID (for a discriminator of one point at a time)."""
    samples = sample(gan.generator, 1000, seed=0)
    if gan.pack > 1:
        return samples, None
    return samples, sigmoid(predict(gan.discriminator, GRID)[:, 0])


def trained_ring_gan(run, *, d_learning_rate, pack=1):
    """A GAN of `ring_networks` trained on 20,000 points of the ring, once per run: the generator
    with Adam at 0.001, the discriminator at `d_learning_rate`, the discriminator seeing `pack`
    points at once. Returns {epoch: ring_record(gan)}, an epoch being 100 steps."""
    def make():
        points, _ = data.gaussian_ring(20_000, noise=RING_NOISE, seed=run.seed)
        epochs = (300 if run.fast else RING_STEPS) // 100
        set_seed(run.seed)
        with scope(run.strategy):
            generator, discriminator = ring_networks(pack=pack)
            gan = GAN(generator, discriminator, pack=pack, seed=run.seed)
            gan.compile(d_optimizer=adam(d_learning_rate), g_optimizer=adam(0.001))
        snapshots = Snapshots(range(1, epochs + 1), ring_record)
        batches = datasets.pipeline(points, batch_size=256, seed=run.seed, drop_remainder=True).repeat()
        checkpoint = run.callbacks(f"ring_{d_learning_rate:g}_pack_{pack}", keep=[snapshots])
        gan.fit(batches, epochs=epochs, steps_per_epoch=100, verbose=0,
                callbacks=[snapshots, *checkpoint])
        return snapshots.records
    return run.once(f"ring GAN, discriminator learning rate {d_learning_rate:g}, pack {pack}", make)


def ring_centres(n_modes=8, radius=2.0):
    """The centres of `data.gaussian_ring`'s modes: (n_modes, 2)."""
    angle = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def mode_coverage(samples, centres=None, noise=RING_NOISE):
    """(modes covered, share of high-quality samples): a sample is of high quality when it lies
    within 3 standard deviations of a mode's centre; a mode is covered when at least 2% of the
    samples are high-quality samples of it."""
    centres = ring_centres() if centres is None else centres
    distance = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)  # (n, modes)
    good = distance.min(axis=1) < 3 * noise
    counts = np.bincount(distance.argmin(axis=1)[good], minlength=len(centres))
    return int(np.sum(counts >= 0.02 * len(samples))), float(good.mean())


@lecture.step("A GAN on a ring of 8 Gaussians")
def ring_gan(run):
    """Generator and discriminator are ordinary Keras models (here two small fully connected
    networks; the generator maps 2 numbers of noise to a point in the plane). What is new is the
    training step: a `keras.Model` subclass, `GAN`, overrides `train_step` so that `fit` plays the
    game, one gradient step of the discriminator on a batch of real and a batch of generated points
    (its optimizer changes only its weights), then one step of the generator through the updated
    discriminator (only the generator's weights change). Everything else, batches, epochs,
    callbacks and the logged losses, is plain `fit`.

    The data are 8 Gaussians on a circle, so every sample can be seen. We look at the generated
    points over the discriminator's probability of "real" at several moments of training: the
    discriminator's high ground shows where it believes real points are, and the generator's points
    climb towards it until they sit on the modes, where the discriminator can no longer tell.
    """
    taken = trained_ring_gan(run, d_learning_rate=0.001)
    points, _ = data.gaussian_ring(2000, noise=RING_NOISE, seed=run.seed)
    shown = [epoch for epoch in (2, 5, 10, 30) if epoch in taken] or sorted(taken)[-2:]
    fig, axes = plt.subplots(1, len(shown), figsize=(FULL_WIDTH, 3.6), layout="constrained", squeeze=False)
    for ax, epoch in zip(axes[0], shown):
        samples, surface = taken[epoch]
        modes, quality = mode_coverage(samples)
        shade = ax.contourf(GRID[:, 0].reshape(121, 121), GRID[:, 1].reshape(121, 121),
                            surface.reshape(121, 121), levels=np.linspace(0, 1, 11), cmap=PROBABILITY_CMAP)
        ax.scatter(*points.T, s=2, color="0.45", label="real")
        ax.scatter(*samples[:500].T, s=4, color="black", label="generated")
        ax.set(title=f"after {epoch * 100:,} steps: {modes} modes", xlim=(-3, 3), ylim=(-3, 3),
               aspect="equal", xticks=[-2, 0, 2], yticks=[-2, 0, 2])
        run.report(f"after {epoch * 100:,} steps: modes covered, share of high-quality samples",
                   f"{modes}, {quality:.2f}")
    fig.suptitle("Real points (grey) and generated points (black) over D's probability of real")
    fig.colorbar(shade, ax=axes[0].tolist(), label="D(x): probability of real", shrink=0.9)
    run.figure(fig, "ring_training", "Generated points (black) and real points (grey) over the "
               "discriminator's probability of real (vermillion: real, blue: generated) at four moments "
               "of training on a ring of 8 Gaussians.")
    run.expect("modes covered at the end of training", mode_coverage(taken[max(taken)][0])[0], at_least=8)


@lecture.step("Mode collapse, measured")
def mode_collapse(run):
    """A generator need not cover the data: putting its samples on a few modes fools the
    discriminator just as well for a while, and when the discriminator catches on, the generator
    moves its samples elsewhere instead of spreading them over all the modes. That is mode
    collapse, and it is easy to provoke: let the generator learn ten times faster than the
    discriminator (learning rates 0.001 and 0.0001). We measure it: a sample is of high quality
    when it lies within 3 standard deviations of a mode's centre, and a mode is covered when at
    least 2% of 1,000 samples are high-quality samples of it; we count the modes covered after
    every 100 steps and average over the second half of training. Here the generator never covers
    more than half of the modes at once, and for most of training one or none.

    One cure is to let the discriminator judge several samples at once (PacGAN): packed side by
    side, two points of a collapsed generator look suspiciously alike, so the discriminator can
    punish a lack of variety, which one sample at a time cannot show. The change is one reshape
    before the discriminator, which takes twice the inputs; the generator and the learning rates
    stay the same.
    """
    coverage, finals, late = {}, {}, {}
    for name, pack in [("one point at a time", 1), ("two points packed", 2)]:
        taken = trained_ring_gan(run, d_learning_rate=0.0001, pack=pack)
        coverage[name] = {epoch * 100: mode_coverage(samples)[0] for epoch, (samples, _) in taken.items()}
        finals[name] = taken[max(taken)][0]
        late[name] = float(np.mean(list(coverage[name].values())[len(coverage[name]) // 2:]))
        modes, quality = mode_coverage(finals[name])
        run.report(f"{name}: modes covered at the end, share of high-quality samples",
                   f"{modes}, {quality:.2f}")
        run.report(f"{name}: modes covered, mean over the second half of training", late[name])
    run.expect("modes covered in the second half of training, one point at a time",
               late["one point at a time"], at_most=3)
    run.expect("modes covered in the second half of training, two points packed",
               late["two points packed"], at_least=7)

    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 1.5]})
    for ax, (name, samples) in zip(axes, finals.items()):
        ax.scatter(*samples.T, s=4, color="black")
        for centre in ring_centres():
            ax.add_patch(plt.Circle(centre, 3 * RING_NOISE, fill=False, color=COLORS[1], linewidth=1.5))
        ax.set(title=f"{name}: {mode_coverage(samples)[0]} modes", xlim=(-3, 3), ylim=(-3, 3),
               aspect="equal", xticks=[-2, 0, 2], yticks=[-2, 0, 2])
    for color, (name, curve) in zip(COLORS, coverage.items()):
        axes[2].plot(list(curve), list(curve.values()), "o-", color=color, markersize=3, label=name)
    axes[2].set(xlabel="training step", ylabel="modes covered (of 8)", ylim=(-0.2, 8.5),
                title="Mode coverage during training")
    axes[2].legend(loc="center")
    run.figure(fig, "mode_collapse", "A generator that learns ten times faster than its discriminator. "
               "Left: 1,000 samples at the end of training, with a discriminator that sees one point at a "
               "time and one that sees two packed together (orange circles: 3 standard deviations around "
               "each mode). Right: the number of modes covered, measured every 100 steps.")


# ---------------------------------------------------------------------------------------------------
# The recipe: a DCGAN for images of any size


def dcgan_generator(image_shape, latent_dim=LATENT_DIM):
    """The lecture's generator: noise (latent_dim,) -> an image shaped `image_shape`, in [0, 1].

    Two fully connected layers (batch norm, LeakyReLU) to small feature maps, stride-2 transposed
    convolutions that double their size while the filters halve (batch norm, LeakyReLU), and a 3×3
    convolution with a sigmoid. The DCGAN paper's generator uses ReLU; LeakyReLU learned as well
    here. Sides that do not halve evenly (30 -> 15 -> 7.5) are
    generated a little larger (32) and cropped.
    """
    height, width, channels = image_shape
    doublings = stages(min(height, width))  # 8 -> 1 (from 4), 28 -> 2 (from 7)
    multiple = 2**doublings
    start = (math.ceil(height / multiple), math.ceil(width / multiple), FIRST_WIDTH * multiple)
    crop = ((0, start[0] * multiple - height), (0, start[1] * multiple - width))
    layers = [keras.Input(shape=(latent_dim,))]
    for units in (HIDDEN_UNITS, math.prod(start)):
        layers += [keras.layers.Dense(units, use_bias=False), keras.layers.BatchNormalization(),
                   keras.layers.LeakyReLU(0.2)]
    layers.append(keras.layers.Reshape(start))  # (h'·w'·c',) -> (h', w', c')
    for stage in reversed(range(doublings)):  # (h, w, c) -> (2h, 2w, c/2)
        layers += [keras.layers.Conv2DTranspose(FIRST_WIDTH * 2**stage, 3, strides=2, padding="same",
                                                use_bias=False),
                   keras.layers.BatchNormalization(), keras.layers.LeakyReLU(0.2)]
    # The output layers compute in float32 whatever the precision (`--precision mixed`).
    layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32"))
    if crop != ((0, 0), (0, 0)):
        layers.append(keras.layers.Cropping2D(crop, dtype="float32"))
    return keras.Sequential(layers, name="generator")


def discriminator_network(input_shape, pack=1):
    """The lecture's discriminator: an image or a point (or `pack` of them side by side) -> a logit.

    Two fully connected layers of 256 units with LeakyReLU. For the small images of this course a
    dense discriminator sees every pixel at once, and it learned more per second of CPU than a
    convolutional one. No batch norm: each logit would depend on the rest of its batch.
    """
    *sides, channels = input_shape
    return keras.Sequential([
        keras.Input(shape=(*sides, channels * pack)),
        keras.layers.Flatten(),  # (h, w, c·pack) -> (h·w·c·pack,)
        keras.layers.Dense(HIDDEN_UNITS), keras.layers.LeakyReLU(0.2),
        keras.layers.Dense(HIDDEN_UNITS), keras.layers.LeakyReLU(0.2),
        keras.layers.Dense(1, dtype="float32"),  # -> (1,): the logit of "real"
    ], name="discriminator")


def default_epochs(n_images):
    """About 7,000 optimizer steps, at least 5 epochs: 333 epochs of the 1,347 training digits."""
    return max(5, round(STEPS / max(1, n_images // BATCH_SIZE)))


def train(x, *, epochs=None, seed=0, strategy=None, callbacks=()):
    """The lecture's recipe: a DCGAN generator (`dcgan_generator`) trained against a dense
    discriminator (`discriminator_network`) on the images x (n, height, width, channels) in [0, 1].

    The hinge loss (see `GAN`); Adam for both networks (learning rate 0.001, β₁ = 0.5) in batches
    of 64 for about 7,000 steps (`default_epochs`). The generator returned holds the running
    average of its weights over the last hundred or so steps (Adam's `use_ema`; batch norm's moving
    statistics are not averaged), steadier than any single step.
    It maps latent vectors z ~ N(0, I) of shape (LATENT_DIM,) to images shaped like x.
    """
    x = validation.images(x, at_least=2 * BATCH_SIZE)
    epochs, callbacks = validation.training_options(epochs, seed, callbacks,
                                                    default_epochs=default_epochs(len(x)))
    set_seed(seed)
    batch_size = global_batch_size(BATCH_SIZE, strategy)  # BATCH_SIZE per replica
    with scope(strategy):
        generator = dcgan_generator(x.shape[1:])
        gan = GAN(generator, discriminator_network(x.shape[1:]), loss="hinge", seed=seed)
        gan.compile(d_optimizer=adam(LEARNING_RATE), g_optimizer=adam(LEARNING_RATE, ema=True))
    batches = datasets.pipeline(x, batch_size=batch_size, seed=seed, drop_remainder=True,
                                first_epoch=completed_epochs(callbacks))
    gan.fit(batches, epochs=epochs, callbacks=callbacks, verbose=0)
    gan.g_optimizer.finalize_variable_values(generator.trainable_variables)  # the averaged weights
    return generator


def trained_generator(run):
    """The recipe trained on the run's training images, once per run (steps 4, 5 and 6):
    (generator, history, {epoch: samples of 10 fixed latent vectors})."""
    def make():
        x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
        epochs = 3 if run.fast else default_epochs(len(x_train))
        fixed = np.random.default_rng(run.seed).standard_normal((10, LATENT_DIM)).astype("float32")
        shown = sorted({1, round(epochs / 16), round(epochs / 4), epochs} - {0})
        snapshots = Snapshots(shown, lambda gan: predict(gan.generator, fixed))
        history = keras.callbacks.History()
        generator = train(x_train, epochs=epochs, seed=run.seed, strategy=run.strategy,
                          callbacks=[history, snapshots, *run.callbacks("dcgan", keep=[snapshots])])
        snapshots.records["averaged"] = predict(generator, fixed)
        return generator, history.history, snapshots.records
    return run.once("dcgan", make)


@lecture.step("DCGAN on the digits (the recipe)")
def dcgan(run):
    """For images, the generator is a deep convolutional network run backwards (DCGAN): two fully
    connected layers take the noise to small feature maps, then transposed convolutions that
    double their size (each input pixel paints a learned 3×3 patch, two pixels apart), with batch
    norm and LeakyReLU between them and a sigmoid at the end, so that pixels lie in [0, 1]. The
    discriminator is an ordinary classifier of real against generated; on images this small, two
    fully connected layers (every pixel seen at once) learned faster per second of CPU than
    convolutions. Both learn with Adam at a learning rate of 0.001 and β₁ = 0.5, and the generator
    we keep is the running average of its weights over the last hundred or so steps, steadier than
    any single step (`use_ema`).

    The recipe's loss is the hinge loss rather than the cross-entropy: the discriminator is asked
    only for a logit above +1 on real images and below −1 on generated ones, and the generator
    raises the logit of its images; with no sigmoid in the way, nothing saturates. On the digits it
    kept more of the classes than the cross-entropy at the same quality.

    Reading the curves: the losses of a GAN do not fall the way a classifier's do, since each
    network's loss depends on the other. Healthy training keeps them near a balance, the
    discriminator's logits on real and generated images apart but inside the margins. A
    discriminator loss that falls to 0 means it wins outright (every logit beyond its margin): it
    stops teaching the generator, and the samples stop improving; a generator loss that climbs
    steadily is the early sign of it. Here the discriminator slowly gains ground, its logits drifting towards
    the margins as it comes to know the 1,347 training digits: one reason not to train much longer
    (which also sharpened the samples, but left some classes rarer).
    """
    generator, history, taken = trained_generator(run)
    x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    n_epochs = len(history["d_loss"])
    run.report("training images, epochs, steps",
               f"{len(x_train)}, {n_epochs}, {n_epochs * (len(x_train) // BATCH_SIZE):,}")
    shapes = [generator.input_shape]
    for layer in generator.layers:
        shapes.append(tuple(layer.compute_output_shape(shapes[-1])))
    run.report("generator: shapes", " -> ".join(str(tuple(shape[1:])) for shape in dict.fromkeys(shapes)))
    run.report("last epoch: discriminator loss, generator loss",
               f"{history['d_loss'][-1]:.3f}, {history['g_loss'][-1]:.3f}")
    run.report("last epoch: D's mean logit on real, on generated images",
               f"{history['real_logit'][-1]:.2f}, {history['fake_logit'][-1]:.2f}")
    run.expect("discriminator loss in the last epoch (0 means the discriminator won)",
               history["d_loss"][-1], at_least=0.3)

    rows = list(taken)
    labels = [f"epoch {row}" if row != "averaged" else "averaged weights" for row in rows]
    fig = image_grid(np.concatenate([taken[row] for row in rows]), ncols=10, normalize=None,
                     labels=[label if i == 0 else "" for label in labels for i in range(10)],
                     title="The same 10 latent vectors through the generator as it trains")
    run.figure(fig, "dcgan_samples", "Samples of ten fixed latent vectors after increasing numbers of "
               "epochs; the last row uses the generator's running-average weights, the one `train` returns.")

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 4), layout="constrained")
    epochs = np.arange(1, n_epochs + 1)
    left.plot(epochs, history["d_loss"], color=COLORS[0], label="discriminator")
    left.plot(epochs, history["g_loss"], color=COLORS[1], label="generator")
    left.set(xlabel="epoch", ylabel="loss (mean over the epoch)", title="Both losses", ylim=(0, None))
    left.legend()
    right.plot(epochs, history["real_logit"], color=COLORS[2], label="on real images")
    right.plot(epochs, history["fake_logit"], color=COLORS[3], label="on generated images")
    right.axhline(1, color="black", linestyle=":", linewidth=1)
    right.axhline(-1, color="black", linestyle=":", linewidth=1)
    right.set(xlabel="epoch", ylabel="D's mean logit", title="What the discriminator believes")
    right.legend()
    run.figure(fig, "dcgan_curves", "Discriminator and generator loss per epoch (left), and the "
               "discriminator's mean logit on real and on generated images (right; dotted: the hinge's "
               "margins at +1 and −1).")


# ---------------------------------------------------------------------------------------------------
# Judging the samples


def frechet_distance(features_a, features_b):
    """The Fréchet distance between Gaussians fitted to two sets of feature vectors (n, d):
    ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½), the FID formula. The trace of the matrix square
    root is the sum of the square roots of the eigenvalues of Σ_a Σ_b (real and >= 0)."""
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)  # (d, d)
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvals(cov_a @ cov_b).real, 0, None)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


def judges(run):
    """Two classifiers trained on the run's real training images, once per run (steps 5 and 6):
    an RBF SVM (scikit-learn's defaults, with probabilities) and the `cnn` lecture's network, whose
    global-average-pooled features (the layer before its softmax) are the space of the Fréchet
    distance."""
    def make():
        from lectures import cnn

        x_train, _, y_train, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
        with warnings.catch_warnings():  # scikit-learn 1.9 deprecates probability=True for calibrating
            # wrappers, whose one-vs-rest probabilities call uniform noise 89% certain; libsvm's
            # pairwise coupling, kept until 1.11 (setup.cfg), calls it 22% certain
            warnings.filterwarnings("ignore", message="The `probability` parameter was deprecated",
                                    category=FutureWarning)
            svm = SVC(probability=True, random_state=run.seed).fit(flat(x_train), y_train)
        network = cnn.train(x_train, y_train, epochs=2 if run.fast else 20, seed=run.seed,
                            strategy=run.strategy)
        pooled = next(layer for layer in network.layers
                      if isinstance(layer, keras.layers.GlobalAveragePooling2D))
        features = keras.Model(network.inputs[0], pooled.output)  # (n, h, w, c) -> (n, filters)
        return svm, features
    return run.once("judges", make)


def vae_samples(run, n):
    """n images decoded from the prior by the `autoencoders` lecture's VAE (2-number code), trained
    on the run's training images as that lecture does."""
    from lectures import autoencoders

    x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    _, decoder, _ = autoencoders.train_vae(run, x_train, latent_dim=2)
    z = np.random.default_rng(run.seed).standard_normal((n, 2)).astype("float32")  # z ~ N(0, I)
    return predict(decoder, z)


class NearestTrainingImages:
    """Nearest-neighbour search over the training images' pixels. Distances come in units of
    `spacing`, the median distance from a training image to its nearest other one: about 1 for new
    images as close to the data as real ones are to each other, much more off the data, 0 for copies."""

    def __init__(self, x_train):
        self.search = NearestNeighbors(n_neighbors=1).fit(flat(x_train))
        self.spacing = float(np.median(self.search.kneighbors()[0][:, 0]))  # each image's nearest other

    def distances(self, images):
        """(distance to the nearest training image in units of `spacing`, that image's index): (n,) each."""
        distance, index = self.search.kneighbors(flat(images))  # (n, 1) each
        return distance[:, 0] / self.spacing, index[:, 0]

    def median_ratio(self, images):
        """The median of `distances(images)`: the nearest-digit distance ratio of a set of images."""
        return float(np.median(self.distances(images)[0]))


@lecture.step("Measuring a GAN without a human")
def measuring(run):
    """A GAN has no likelihood to report, and looking at samples does not scale (or stay honest).
    Instead we ask classifiers trained on real digits. Real-looking samples are classified with
    confidence: the mean probability of the top class, which is about 0.93 for held-out real
    digits and much lower for scribbles. A generator that covers the data makes every class,
    in about the share the data has (10% each here); a collapsed one does not. Samples should lie
    as near the training digits as real digits lie to each other: the median distance to the
    nearest training digit, divided by that of a training digit to its nearest other one, is
    near 1 for new digits, near 0 for copies and well above 1 for images off the data (it does not
    tell a blur from a digit: the ten class-mean images score about 1 too). Finally the Fréchet
    distance (the FID idea, with the course CNN's features in place of Inception's): fit a Gaussian
    to the features of the training digits and one to the candidates', and measure how far apart
    they are, means and covariances both. We score held-out real digits, 1,000 GAN samples, 1,000
    samples of the `autoencoders` lecture's VAE and uniform noise the same way (the Fréchet
    distance on as many of each as there are held-out digits, 450, since it depends on the count).
    """
    x_train, x_test, y_train, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    generator, _, _ = trained_generator(run)
    svm, features = judges(run)
    n = 200 if run.fast else 1000
    noise = np.random.default_rng(run.seed).random((n, *x_train.shape[1:]), dtype="float32")
    candidates = {"real (held out)": x_test, "GAN samples": sample(generator, n, seed=run.seed),
                  "VAE samples": vae_samples(run, n), "uniform noise": noise}
    train_features = predict(features, x_train)
    nearest = NearestTrainingImages(x_train)
    num_classes = int(y_train.max()) + 1
    scores, shares = {}, {}
    for name, images in candidates.items():
        probabilities = svm.predict_proba(flat(images))  # (n, classes)
        shares[name] = np.bincount(probabilities.argmax(axis=1), minlength=num_classes) / len(images)
        comparable = images[:len(x_test)]  # the same number of images for every Fréchet distance
        scores[name] = {"confidence": float(probabilities.max(axis=1).mean()),
                        "smallest class share": float(shares[name].min()),
                        "nearest-digit distance ratio": nearest.median_ratio(images),
                        "Fréchet distance": frechet_distance(train_features, predict(features, comparable))}
        run.report(name, ", ".join(f"{key} {value:.3g}" for key, value in scores[name].items()))
    gan = scores["GAN samples"]
    run.expect("GAN samples: the SVM's mean top-class confidence", gan["confidence"], at_least=0.88)
    run.expect("GAN samples: the smallest share of a class", gan["smallest class share"], at_least=0.05)
    run.expect("GAN samples: nearest-digit distance ratio", gan["nearest-digit distance ratio"],
               at_least=0.5, at_most=1.5)
    run.expect("Fréchet distance, GAN samples / VAE samples",
               gan["Fréchet distance"] / scores["VAE samples"]["Fréchet distance"], at_most=1)

    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH, 4), layout="constrained",
                             gridspec_kw={"width_ratios": [1.6, 1, 1]})
    width = 0.8 / len(candidates)
    for i, (color, name) in enumerate(zip(COLORS, candidates)):
        offset = (i - (len(candidates) - 1) / 2) * width
        axes[0].bar(np.arange(num_classes) + offset, shares[name], width, color=color, label=name)
    axes[0].axhline(0.05, color="black", linestyle=":", linewidth=1)
    axes[0].set(xticks=range(num_classes), xlabel="class given by the SVM", ylabel="share of the images",
                title="Which classes they look like")
    axes[0].legend(fontsize=10, ncols=2)
    names = list(candidates)
    for ax, key, title in [(axes[1], "confidence", "SVM's confidence"),
                           (axes[2], "Fréchet distance", "Fréchet distance")]:
        values = [scores[name][key] for name in names]
        ax.barh(range(len(names)), values, color=COLORS[:len(names)])
        for y, value in enumerate(values):
            ax.text(value, y, f" {value:.2f}" if key == "confidence" else f" {value:.3g}", va="center")
        ax.set(yticks=range(len(names)), yticklabels=names if key == "confidence" else [], title=title)
        ax.invert_yaxis()
    axes[1].set(xlim=(0, 1.2), xlabel="mean top-class probability")
    axes[2].set(xscale="log", xlim=(min(v["Fréchet distance"] for v in scores.values()) / 2,
                                    max(v["Fréchet distance"] for v in scores.values()) * 4),
                xlabel="lower: closer to training digits")
    run.figure(fig, "measuring_gans", "Held-out real digits, GAN samples, VAE samples and uniform noise, "
               "scored by classifiers trained on real digits: the share of each class (left; dotted: 5%), "
               "the SVM's mean confidence in its top class (middle), and the Fréchet distance in the CNN's "
               "features (right, log scale; lower is closer to the training digits).")


@lecture.step("Walking the latent space")
def latent_walk(run):
    """Every latent vector makes an image, and nearby vectors make similar images: on the straight
    line between two latent vectors the generator's image changes gradually, one stroke at a time,
    from one digit into another, or stays one digit in a changing style. And the samples are the
    generator's own: beside each of a few samples we put the training digit nearest to it (in
    pixels), which is similar but not the same. A generator that had memorised its training set
    would show twins.
    """
    x_train, _, _, _ = image_split(run.dataset, seed=run.seed, fast=run.fast)
    generator, _, _ = trained_generator(run)
    rng = np.random.default_rng(run.seed)
    ends = rng.standard_normal((4, 2, LATENT_DIM)).astype("float32")  # 4 pairs of latent vectors
    t = np.linspace(0, 1, 10, dtype="float32")[None, :, None]
    paths = (1 - t) * ends[:, :1] + t * ends[:, 1:]  # (4, 10, latent_dim): straight lines
    walks = predict(generator, paths.reshape(-1, LATENT_DIM))  # (40, h, w, c)
    step_change = np.abs(np.diff(walks.reshape(4, 10, -1), axis=1)).mean()
    run.report("mean change of a pixel between neighbouring images on a path", step_change)

    samples = sample(generator, 8, seed=run.seed + 1)
    distance, index = NearestTrainingImages(x_train).distances(samples)  # (8,) each
    run.report("distance from each sample to its nearest training digit, in units of the median "
               "distance between neighbouring training digits", np.round(distance, 2))

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 3.2), layout="constrained")
    image_grid(walks, ax=left, ncols=10, normalize=None)
    left.set_title("Lines between 4 pairs of latent vectors")
    pairs = np.concatenate([samples, x_train[index]])
    image_grid(pairs, ax=right, ncols=8, normalize=None,
               labels=["sample"] + [""] * 7 + ["nearest training digit"] + [""] * 7)
    right.set_title("Samples and their nearest training digits")
    run.figure(fig, "latent_walk", "Left: the generator's images along straight lines between pairs of "
               "latent vectors. Right: eight samples (top) and the training digit nearest to each in pixel "
               "distance (bottom).")


if __name__ == "__main__":
    import sys

    from companion.cli import main

    sys.exit(main(["lecture", "gans", *sys.argv[1:]]))
