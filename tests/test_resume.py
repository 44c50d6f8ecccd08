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
    model = cnn.train(x[:600], y[:600], epochs=6, callbacks=run.callbacks("network"))
    print("RESULT", json.dumps({"steps": int(np.asarray(model.optimizer.iterations)),
                                "loss": model.history.history["loss"],
                                "probabilities": np.asarray(model.predict(x[600:], verbose=0)).tolist()}))
""")


def test_a_training_killed_mid_way_resumes_from_its_last_epoch(tmp_path):
    """Killed with SIGKILL after two epochs and started again, the training resumes from its last
    checkpoint and ends with the weights and curves of the same training run without a kill (run
    beside it, in a process of its own): the optimizer's state, the random draws and each epoch's
    data order were all restored."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-c", TRAINING]
    metadata = tmp_path / "run" / "cnn" / "default-seed0" / "network" / "training_metadata.json"
    (tmp_path / "uninterrupted").mkdir()
    with open(tmp_path / "first.txt", "w") as output, open(tmp_path / "uninterrupted.txt", "w") as other:
        process = subprocess.Popen(command + [str(tmp_path)], stdout=output, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
        uninterrupted = subprocess.Popen(command + [str(tmp_path / "uninterrupted")], stdout=other,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
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
    assert killed_after < 6, "the training finished before it could be killed"

    try:
        resumed = subprocess.run(command + [str(tmp_path)], capture_output=True, text=True, env=env,
                                 timeout=180)
        assert uninterrupted.wait(timeout=180) == 0, (tmp_path / "uninterrupted.txt").read_text()[-2000:]
    finally:
        if uninterrupted.poll() is None:
            os.killpg(uninterrupted.pid, signal.SIGKILL)
            uninterrupted.wait()
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    resumed_from = int(resumed.stdout.split("from the checkpoint after epoch ")[1].split()[0])
    assert resumed_from >= killed_after  # the kill may land after one more checkpoint
    result = json.loads(resumed.stdout.split("RESULT ")[-1])
    assert result["steps"] == 6 * -(-600 // 32)  # the optimizer's step count went on from the checkpoint
    assert len(result["loss"]) == 6  # the curves of the epochs before the kill were kept
    expected = json.loads((tmp_path / "uninterrupted.txt").read_text().split("RESULT ")[-1])
    np.testing.assert_allclose(result["probabilities"], expected["probabilities"], atol=1e-4)
    np.testing.assert_allclose(result["loss"], expected["loss"], rtol=1e-4)
    accuracy = np.mean(np.argmax(result["probabilities"], axis=1) == data_labels()[600:])
    assert accuracy > 0.93, accuracy  # 6 epochs on 600 digits: about 0.96 on the other 1,197
    assert json.loads(metadata.read_text())["finished"]  # kept for a later run of the same command


def data_labels():
    from companion import data

    return data.digits()[1]


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


def test_a_finished_training_is_read_back_with_its_curves_and_records(tmp_path):
    """A run directory keeps a finished training: the same `fit` again trains no epoch, and returns
    the same weights, the whole History, and what a kept callback recorded."""
    import keras

    from companion.checkpoints import Checkpoint

    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    class Norms(keras.callbacks.Callback):  # records something at chosen epochs, as the lectures do
        def __init__(self):
            super().__init__()
            self.records = {}

        def on_epoch_end(self, epoch, logs=None):
            if epoch % 2 == 0:
                self.records[epoch] = (self.model.get_weights()[0], {"note": None, "epoch": epoch})

    def train():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        norms = Norms()
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                            callbacks=[norms, Checkpoint(tmp_path, keep=[norms])])
        return model, history, norms.records

    first, first_history, first_records = train()
    assert Checkpoint(tmp_path).finished()
    again, again_history, again_records = train()
    assert int(np.asarray(again.optimizer.iterations)) == 5 * 4  # no step more than the first run
    np.testing.assert_array_equal(again.get_weights()[0], first.get_weights()[0])
    assert again_history.history == first_history.history and again_history.epoch == [0, 1, 2, 3, 4]
    assert sorted(again_records) == [0, 2, 4]
    np.testing.assert_array_equal(again_records[4][0], first_records[4][0])
    assert again_records[4][1] == {"note": None, "epoch": 4}


def test_a_lecture_run_again_reads_back_its_finished_trainings(tmp_path):
    """The same lecture run again with the same run directory trains nothing it had trained: each
    training says it was read back, and every number comes out the same."""
    import contextlib
    import io
    import re

    from lectures import logistic_regression

    printed = []
    for _ in range(2):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            run = logistic_regression.lecture.run(step=5, fast=True, out=tmp_path / "figures",
                                                  run_dir=tmp_path / "run")
        printed.append(output.getvalue())
    read_back = re.findall(r"'(\w+)' was trained by an earlier run", printed[1])
    assert "keras_sgd" in read_back and not re.findall("was trained by an earlier run", printed[0])

    def shown(text):  # what the steps showed, without the seconds they took and the read-back notes
        return [line for line in text.splitlines() if not re.search(r"\d s\)$|^Done:|earlier run", line)]

    assert len(shown(printed[0])) > 10 and shown(printed[1]) == shown(printed[0])
    assert run.in_band
