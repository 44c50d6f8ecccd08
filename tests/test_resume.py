"""Runs that survive a kill: a training killed with SIGKILL resumes from its last completed epoch, and
no moment of a checkpoint's write leaves a broken one."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

TRAINING = textwrap.dedent("""
    import json, sys
    import numpy as np
    from companion import data
    from companion.lecture import Run
    from lectures import cnn

    run = Run("cnn", out=sys.argv[1] + "/figures", run_dir=sys.argv[1] + "/run", fast=False)
    x, y = data.digits()
    model = cnn.train(x[:600], y[:600], epochs=8, callbacks=run.callbacks("network"))
    accuracy = float((np.asarray(model.predict(x[600:], verbose=0)).argmax(axis=1) == y[600:]).mean())
    print("RESULT", json.dumps({"steps": int(np.asarray(model.optimizer.iterations)), "accuracy": accuracy}))
""")


def test_a_training_killed_mid_way_resumes_from_its_last_epoch(tmp_path):
    command = [sys.executable, "-c", TRAINING, str(tmp_path)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    metadata = tmp_path / "run" / "cnn" / "default-seed0" / "network" / "training_metadata.json"
    with open(tmp_path / "first.txt", "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (metadata.exists() and json.loads(metadata.read_text())["epoch"] >= 2):
            assert process.poll() is None, (tmp_path / "first.txt").read_text()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint after two epochs within 120 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # as a lost machine or `kill -9` would
        process.wait()
    killed_after = json.loads(metadata.read_text())["epoch"]
    assert killed_after < 8, "the training finished before it could be killed"

    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    resumed_from = int(resumed.stdout.split("from the checkpoint after epoch ")[1].split()[0])
    assert resumed_from >= killed_after  # the kill may land after one more checkpoint
    result = json.loads(resumed.stdout.split("RESULT ")[-1])
    assert result["steps"] == 8 * -(-600 // 32)  # the optimizer's step count went on from the checkpoint
    assert result["accuracy"] > 0.9, result
    assert not metadata.parent.exists()  # a finished training removes its checkpoint


def test_a_write_cut_short_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    """The switch to a new checkpoint is one os.replace: stopped just before it, the metadata still
    names the previous epoch's complete weights, and a re-run starts from there."""
    import keras

    from companion.checkpoints import Checkpoint

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    def model():
        keras.utils.set_random_seed(0)
        built = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        built.compile(optimizer="adam", loss="mse")
        return built

    class CutAtEpoch3:
        def __init__(self, real):
            self.real = real

        def __call__(self, source, target):
            if json.loads(open(source).read())["epoch"] == 3:
                raise KeyboardInterrupt  # the kill, between the new weights and the switch
            self.real(source, target)

    monkeypatch.setattr(os, "replace", CutAtEpoch3(os.replace))
    first = model()
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[Checkpoint(tmp_path)])
    monkeypatch.undo()
    checkpoint = Checkpoint(tmp_path)
    assert checkpoint.saved_epoch() == 2
    second = model()
    second.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[checkpoint])  # nothing left to run
    assert int(np.asarray(second.optimizer.iterations)) == 2 * 4
