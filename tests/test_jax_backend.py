"""Every lecture also runs on the JAX backend, in a fresh process with KERAS_BACKEND=jax (Keras picks
its backend once per process).

The default suite runs, in one process, steps whose code differs by backend: automatic
differentiation (companion.autodiff) and the GAN's train step; about 40 s here. `pytest -m slow`
runs every lecture's `--fast` path start to end (about 8 minutes on 2 cores). Each process prints
Keras' backend after the lectures ran, so a run that silently fell back to TensorFlow fails. Skipped
where JAX is not installed (`pip install -e ".[jax]"`).
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("jax", reason="JAX is not installed: pip install -e '.[jax]' to run the lectures on it")

import lectures  # noqa: E402
from companion import catalog  # noqa: E402

WRITTEN = [topic for topic in lectures.TOPICS if catalog.is_written(topic)]
TIMEOUT = 900  # seconds for one lecture's fast run; the slowest take about 2 minutes on 2 cores

# `companion lecture ...` in this process, then the backend Keras used for it
RUN_AND_NAME_THE_BACKEND = (
    "import sys, keras\n"
    "from companion.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(f'keras backend: {keras.backend.backend()}')\n"
    "sys.exit(status)\n"
)


def jax_environment():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", MPLBACKEND="Agg",
               TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("COMPANION_FAST", None)  # --fast / fast=True says it
    return env


# (topic, step) whose code differs by backend: backprop's steps 1, 4 and 5 call every function of
# companion.autodiff (float64 included), cnn's receptive fields differentiate a model's output
# with respect to its input, the GAN trains with its own train step, and frontiers' step 3
# differentiates through a reparameterised sample. training_tricks, rnn, autoencoders and the other
# frontiers steps call the same functions (in slower steps): the slow test runs them.
BACKEND_STEPS = [("backprop", 1), ("backprop", 4), ("backprop", 5), ("cnn", 5), ("gans", 2), ("frontiers", 3)]

RUN_THE_STEPS = """
import contextlib, io, json, sys
import keras
from companion import catalog

for topic, step in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        catalog.load(topic).run(step=step, fast=True, out=sys.argv[2])
    done = [line for line in printed.getvalue().splitlines() if line.startswith("Done:")]
    print(f"{topic} {step}: {done}", flush=True)
from companion import devices
from companion.errors import UserError

assert devices.get_strategy("auto") is None and devices.get_strategy("default") is None
try:
    devices.get_strategy("mirrored")
except UserError as error:
    print("mirrored:", error)
print(f"keras backend: {keras.backend.backend()}")
"""


def test_the_steps_written_for_each_backend_run_on_jax(tmp_path):
    import json

    finished = subprocess.run([sys.executable, "-c", RUN_THE_STEPS, json.dumps(BACKEND_STEPS), str(tmp_path)],
                              capture_output=True, text=True, env=jax_environment(), timeout=TIMEOUT)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, f"exit status {finished.returncode}, ending:\n{output[-4000:]}"
    assert "keras backend: jax" in finished.stdout, output[-2000:]
    assert "mirrored: --strategy mirrored is a tf.distribute strategy, which needs the TensorFlow" \
        in finished.stdout, output[-2000:]  # a clear error, not a strategy that does nothing
    for topic, step in BACKEND_STEPS:
        steps = catalog.summary(topic)[1] if step is None else 1
        assert f"{topic} {step}: ['Done: {steps} step(s)" in finished.stdout, output[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("topic", WRITTEN)
def test_the_fast_lecture_runs_to_the_end_on_jax(topic, tmp_path):
    env = jax_environment()
    try:
        finished = subprocess.run(
            [sys.executable, "-c", RUN_AND_NAME_THE_BACKEND, "lecture", topic, "--fast",
             "--out", str(tmp_path)],
            capture_output=True, text=True, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`companion lecture {topic} --fast` on JAX was still running after {TIMEOUT} s")
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, f"exit status {finished.returncode}, ending:\n{output[-4000:]}"
    assert "keras backend: jax" in finished.stdout, output[-2000:]
    _, steps = catalog.summary(topic)
    assert f"Done: {steps} step(s)" in finished.stdout, output[-2000:]
