"""Strategies proven, not assumed: a model built under the strategy, each replica taking the recipe's
batch, the same quality as one device; the strategies offered; safe loading. Several machines:
tests/test_multiworker.py.

Each test runs in fresh processes: TensorFlow splits a CPU into logical devices, or joins a cluster,
only before it has started, and this suite's workers started it long ago.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

import companion.devices as devices
from companion.errors import UserError


def run_processes(scripts, *, timeout, envs=None, args=()):
    """Run each Python source in `scripts` as its own process, together (with the extra environment
    variables of `envs`, one dict per script); return their (exit status, output). A process still
    running after `timeout` seconds fails the test, and every process and its children are stopped in
    any case (each is the leader of its own process group). Outputs go to files, not pipes: a full
    pipe would block one worker while its peer waits for it."""
    envs = envs or [{}] * len(scripts)
    with tempfile.TemporaryDirectory() as scratch:
        paths = [Path(scratch) / f"process_{number}.txt" for number in range(len(scripts))]
        processes = []
        try:
            for script, extra, path in zip(scripts, envs, paths):
                with open(path, "w") as output:
                    processes.append(subprocess.Popen(
                        [sys.executable, "-c", script, *args], stdout=output, stderr=subprocess.STDOUT,
                        start_new_session=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
                                                         TF_NUM_INTEROP_THREADS="1", **extra)))
            deadline = time.monotonic() + timeout
            for process in processes:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    pytest.fail(f"a process was still running after {timeout} s (a hung peer?)")
            return [(process.returncode, path.read_text()) for process, path in zip(processes, paths)]
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def last_json(output):
    """The object printed on the last line that starts with RESULT."""
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, output[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


MIRRORED = textwrap.dedent("""
    import contextlib, io, json, math, tempfile
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from sklearn.model_selection import train_test_split
    from companion import catalog, data
    from lectures import mlp

    x, y = data.digits()
    x = x.reshape(len(x), -1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    result = {}
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for name, strategy in (("default", None), ("mirrored", mirrored)):
        model = mlp.train(x_train, y_train, strategy=strategy, epochs=6)
        result[name] = {
            "accuracy": float((model.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean()),
            "built_under_it": strategy is None or model.distribute_strategy is strategy,
            "replicas": model.distribute_strategy.num_replicas_in_sync,
            "steps": int(model.optimizer.iterations.numpy()),
        }
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), tempfile.TemporaryDirectory() as out:
        catalog.load("xor").run(step=1, fast=True, out=out, strategy=strategy)
    result["lecture says"] = [line.strip() for line in printed.getvalue().splitlines() if "Strategy:" in line]
    result["training examples"] = len(x_train)
    print("RESULT", json.dumps(result))
""")


def test_mirrored_over_two_cpu_devices_builds_under_the_strategy_and_matches_one_device():
    [(status, output)] = run_processes([MIRRORED], timeout=240)
    assert status == 0, output[-3000:]
    result = last_json(output)
    default, mirrored = result["default"], result["mirrored"]
    assert mirrored["built_under_it"] and mirrored["replicas"] == 2
    assert default["replicas"] == 1
    # each replica takes the recipe's 32 examples: 64 a step, half the steps of one device
    epochs = 6
    assert default["steps"] == epochs * -(-result["training examples"] // 32)
    assert mirrored["steps"] == epochs * -(-result["training examples"] // 64)
    assert default["accuracy"] > 0.93 and abs(mirrored["accuracy"] - default["accuracy"]) < 0.03, result
    assert any("MirroredStrategy with 2 replica(s)" in line for line in result["lecture says"]), result


def test_a_tpu_asked_for_without_one_is_a_clear_error():
    start = time.monotonic()
    with pytest.raises(UserError, match="no TPU is reachable"):
        devices.get_strategy("tpu")
    assert time.monotonic() - start < 10


def test_the_strategies_offered_are_the_ones_that_work():
    assert devices.STRATEGIES == ("auto", "default", "mirrored", "tpu")
    with pytest.raises(UserError, match="Unknown strategy 'multiworker'"):
        devices.get_strategy("multiworker")
    with pytest.raises(UserError, match="needs the JAX backend"):
        devices.multiworker()  # this suite runs on TensorFlow


def test_every_keras_model_file_is_loaded_in_safe_mode():
    """A .keras file can carry code (a Lambda layer); the companion loads whole models only in Keras'
    safe mode, which refuses it. (Checkpoints are weights files, which carry no code.)"""
    import ast

    root = Path(__file__).resolve().parents[1]
    for path in [*root.glob("companion/**/*.py"), *root.glob("lectures/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
                    "load_model", "load_weights_from_keras_file"}:
                safe = [keyword for keyword in node.keywords if keyword.arg == "safe_mode"]
                assert safe and getattr(safe[0].value, "value", None) is True, \
                    f"{path.relative_to(root)} line {node.lineno}: load_model without safe_mode=True"


def test_mixed_precision_computes_in_16_bits_keeps_float32_outputs_and_ends_with_the_run():
    """`--precision mixed` on this CPU: Keras' mixed_bfloat16 policy while the steps run (layers
    compute in bfloat16 on float32 weights), the recipe's outputs in float32, a model as accurate as
    in float32, and float32 again once the run is over."""
    import contextlib
    import io

    import keras
    import numpy as np
    from sklearn.model_selection import train_test_split

    from companion import data
    from lectures import mlp, xor

    assert devices.PRECISIONS == ("float32", "mixed")
    x, y = data.digits()
    x_train, x_test, y_train, y_test = train_test_split(x.reshape(len(x), -1), y, test_size=0.3,
                                                        random_state=0, stratify=y)
    with devices.precision("mixed") as policy:
        assert policy == "mixed_bfloat16"  # no GPU here: bfloat16, which needs no loss scaling
        model = mlp.train(x_train, y_train, epochs=6)
    assert keras.config.dtype_policy().name == "float32"
    hidden, output = model.layers[0], model.layers[-1]
    assert (hidden.compute_dtype, hidden.variable_dtype) == ("bfloat16", "float32")
    probabilities = model.predict(x_test, verbose=0)
    assert output.compute_dtype == "float32" and probabilities.dtype == np.float32
    assert (probabilities.argmax(axis=1) == y_test).mean() > 0.93

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), tempfile.TemporaryDirectory() as out:
        xor.lecture.run(step=5, fast=True, out=out, precision="mixed")
    assert "Precision: mixed_bfloat16" in printed.getvalue()
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(UserError, match="Unknown precision 'half'"):
        with devices.precision("half"):
            pass


def test_importing_the_companion_asks_for_gpu_memory_as_needed_but_keeps_a_users_choice():
    """TensorFlow and JAX read these when they first see a GPU, so importing `companion` (which
    every lecture does, before TensorFlow) is where they are set."""
    code = "import os, companion; print(os.environ['TF_FORCE_GPU_ALLOW_GROWTH'], " \
           "os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])"
    env = {k: v for k, v in os.environ.items() if k not in ("TF_FORCE_GPU_ALLOW_GROWTH",
                                                            "XLA_PYTHON_CLIENT_PREALLOCATE")}
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert fresh.stdout.split() == ["true", "false"], fresh.stderr
    own = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(env, XLA_PYTHON_CLIENT_PREALLOCATE="true"))
    assert own.stdout.split() == ["true", "true"], own.stderr
