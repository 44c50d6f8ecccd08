"""Backend-neutral automatic differentiation: gradients as NumPy arrays, on TensorFlow and on JAX.

Several lectures measure a gradient rather than train with one: backprop checks its hand-written
gradients against autodiff, training_tricks measures ∂loss/∂W layer by layer, cnn a receptive field
(∂output/∂input), rnn how far back through time a gradient reaches, autoencoders the
reparameterized gradient of a VAE's sampling layer. Keras has no backend-neutral gradient call, so
this module is the one place that asks the backend for one: `tf.GradientTape` on TensorFlow,
`jax.grad` on JAX (with `model.stateless_call` for a model's weights). Arrays go in and come out as
NumPy, in the dtype they came in: float64 stays float64 on both backends (on JAX inside a scoped
`jax.enable_x64`, see `float64`), which the backprop lecture's 1e-12 checks need.

    value, (dy_dw, dy_dx) = value_and_gradients(lambda w, x: w * keras.ops.exp(x), 2.0, 1.5)
    kernel_gradients = model_gradients(model, lambda p: keras.ops.mean(p), x, variables=kernels)

The function differentiated receives backend tensors (tf.Tensor or a JAX tracer), so it is written
with keras.ops, Keras layers and models, or the arithmetic operators.
"""

import contextlib

import numpy as np

from companion.errors import UserError

NAMES = {"tensorflow": "tf.GradientTape", "jax": "jax.grad"}


def backend():
    """The Keras backend in use ("tensorflow", "jax", ...); raises UserError for one this module
    cannot differentiate with."""
    import keras

    name = keras.backend.backend()
    if name not in NAMES:
        raise UserError(
            f"Gradients are computed with TensorFlow or JAX. Received: the {name} backend. "
            "Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax.")
    return name


def name():
    """What computes the gradients on this backend: "tf.GradientTape" or "jax.grad" (for reports)."""
    return NAMES[backend()]


def float64():
    """A context in which float64 arrays and Keras variables stay float64.

    TensorFlow keeps float64 anyway (nothing to do). JAX computes in float32 unless 64-bit types are
    enabled; this enables them for the `with` block only (`jax.enable_x64`), so nothing global
    changes. Create float64 models inside it too: outside it JAX stores their weights as float32.
    (Even inside it, Keras 3 on JAX computes `keras.ops.mean` in float32, and a gradient that flows
    back through such a mean is rounded to float32: about 1e-8 relative.)
    """
    if backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def value_and_gradients(function, *arrays):
    """(value, gradients) of the scalar `function(*arrays)`: its value and, for each input array,
    the gradient with respect to it (its shape and dtype), all as NumPy."""
    arrays = [np.asarray(a) for a in arrays]
    needs_float64 = any(a.dtype == np.float64 for a in arrays)
    with float64() if needs_float64 else contextlib.nullcontext():
        if backend() == "jax":
            value, gradients = _jax_value_and_gradients(function, arrays)
        else:
            value, gradients = _tensorflow_value_and_gradients(function, arrays)
        return np.asarray(value), [np.asarray(g) for g in gradients]


def gradients(function, *arrays):
    """The gradients of the scalar `function(*arrays)` with respect to each input array, as a list
    of NumPy arrays shaped like the inputs."""
    return value_and_gradients(function, *arrays)[1]


def model_gradients(model, loss, inputs, *, variables=None, training=True):
    """The gradients of `loss(model(inputs, training=training))` with respect to `variables` (by
    default all of the model's trainable variables), as a list of NumPy arrays in their order.

    `loss` maps the model's outputs to a scalar. As in a training step, the call updates the
    model's non-trainable state (batch normalisation's moving statistics, random seeds) on both
    backends; the weights do not change.
    """
    variables = list(model.trainable_variables if variables is None else variables)
    if backend() == "jax":
        return _jax_model_gradients(model, loss, inputs, variables, training)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = loss(model(inputs, training=training))
    return [np.asarray(g) for g in tape.gradient(value, variables)]


def _tensorflow_value_and_gradients(function, arrays):
    import tensorflow as tf

    tensors = [tf.convert_to_tensor(a) for a in arrays]
    with tf.GradientTape() as tape:
        for tensor in tensors:
            tape.watch(tensor)
        value = function(*tensors)
    return value, tape.gradient(value, tensors)


def _jax_value_and_gradients(function, arrays):
    import jax
    import jax.numpy as jnp

    tensors = [jnp.asarray(a) for a in arrays]
    return jax.value_and_grad(function, argnums=tuple(range(len(tensors))))(*tensors)


def _jax_model_gradients(model, loss, inputs, variables, training):
    import jax

    trainable, non_trainable = model.trainable_variables, model.non_trainable_variables
    positions = {id(v): i for i, v in enumerate(trainable)}
    if any(id(v) not in positions for v in variables):
        raise ValueError("Expected `variables` to be trainable variables of the model.")
    chosen = [positions[id(v)] for v in variables]

    def loss_and_state(values):  # the loss as a function of the chosen variables' values
        weights = [v.value for v in trainable]
        for position, value in zip(chosen, values):
            weights[position] = value
        outputs, state = model.stateless_call(weights, [v.value for v in non_trainable], inputs,
                                              training=training)
        return loss(outputs), state

    gradients, state = jax.grad(loss_and_state, has_aux=True)([v.value for v in variables])
    for variable, value in zip(non_trainable, state):  # what the call changed, as on TensorFlow
        variable.assign(value)
    return [np.asarray(g) for g in gradients]
