"""The `companion` command line: quick answers without TensorFlow, clear errors with exit status 2."""

import subprocess
import sys
import textwrap

import pytest

from companion.cli import main


def companion(*args, env=None):
    """Run `python -m companion ARGS` in a fresh process; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "companion", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def imports_tensorflow(*args):
    """Whether running the CLI with ARGS in a fresh process imports TensorFlow."""
    code = ("import sys; from companion.cli import main; status = main(sys.argv[1:]); "
            "print('TF' if 'tensorflow' in sys.modules else 'no TF'); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().endswith("TF") and not result.stdout.strip().endswith("no TF")


def test_list_help_and_exercises_init_answer_without_tensorflow(tmp_path):
    assert not imports_tensorflow("list")
    assert not imports_tensorflow("exercises", "init", str(tmp_path), "--topic", "logistic_regression")
    assert (tmp_path / "logistic_regression.py").exists()
    result = companion("--help")
    assert result.returncode == 0 and "lecture" in result.stdout


def test_list_shows_each_topic_with_its_step_count(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert lines[0].split()[:3] == ["logistic_regression", "7", "steps"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["lecture", "logistic_regresion"], "Did you mean 'logistic_regression'?"),
        (["lecture", "logistic_regression", "--step", "9"], "Expected --step between 1 and 7"),
        (["lecture", "logistic_regression", "--dataset", "mnist"], "takes no --dataset"),
        (["lecture", "logistic_regression", "--strategy", "quantum"], "Unknown strategy 'quantum'"),
        (["notebook", "nope"], "Unknown topic 'nope'"),
        (["check", "logistic_regression", "--dir", "/nonexistent"], "companion exercises init"),
    ],
)
def test_user_errors_print_one_paragraph_and_exit_2(args, message, capsys):
    assert main(args) == 2  # an exception escaping main() would be a traceback
    err = capsys.readouterr().err
    assert err.startswith("companion: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_notebook_of_a_lecture_not_written_yet_says_so(capsys, monkeypatch, tmp_path):
    from companion import catalog

    monkeypatch.setattr(catalog, "LECTURES_DIR", tmp_path)  # a course whose lectures are not written yet
    assert main(["notebook", "frontiers"]) == 2
    assert "The lecture 'frontiers' is not written yet" in capsys.readouterr().err


def test_an_unknown_topic_fails_fast_in_a_fresh_process():
    result = companion("lecture", "logistic_regresion")
    assert result.returncode == 2
    assert "Did you mean 'logistic_regression'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_of_lecture_and_figures_states_the_exit_statuses(capsys):
    for command in ("lecture", "figures"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "3 when a run finished outside its band" in " ".join(capsys.readouterr().out.split())


def test_bad_option_exits_2():
    result = companion("lecture", "logistic_regression", "--step", "two")
    assert result.returncode == 2 and "invalid int value" in result.stderr


def test_a_lecture_not_written_yet_says_so(capsys, monkeypatch, tmp_path):
    from companion import catalog

    monkeypatch.setattr(catalog, "LECTURES_DIR", tmp_path)
    assert main(["lecture", "frontiers"]) == 2
    assert "not written yet" in capsys.readouterr().err


def test_one_step_runs_from_python_dash_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lectures.logistic_regression", "--step", "2", "--fast",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    noise = [line for line in (result.stdout + result.stderr).splitlines()
             if line.startswith(("I0000", "WARNING: All log messages before absl")) or "cuInit" in line]
    assert not noise  # TensorFlow's native start-up lines are kept out of the lecture's output
    assert "[2/7] The logistic function and log-odds" in result.stdout
    assert "σ(0): 0.5" in result.stdout
    assert (tmp_path / "logistic_regression" / "logistic_function.png").exists()


def test_check_solutions_passes_and_stubs_fail(tmp_path, capsys):
    assert main(["check", "logistic_regression", "--solutions"]) == 0
    assert "5/5 exercises pass" in capsys.readouterr().out
    assert main(["exercises", "init", str(tmp_path)]) == 0
    assert f"then run: companion check TOPIC --dir {tmp_path}" in capsys.readouterr().out
    assert main(["exercises", "init", str(tmp_path), "--topic", "logistic_regression"]) == 0
    assert f"then run: companion check logistic_regression --dir {tmp_path}" in capsys.readouterr().out
    assert main(["check", "logistic_regression", "--dir", str(tmp_path)]) == 1
    assert "0/5 exercises pass" in capsys.readouterr().out


def test_info_and_data_list(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "Keras 3." in out
    assert "--strategy auto picks: default" in out
    assert "--precision mixed uses: mixed_bfloat16" in out  # no GPU here
    assert "TF_FORCE_GPU_ALLOW_GROWTH=true" in out and "XLA_PYTHON_CLIENT_PREALLOCATE=false" in out
    assert "mnist" in out and "companion data fetch mnist" in out or "cached" in out


def interrupt_when(command, marker, *, delay=0.5):
    """Start `command`, send it Ctrl-C (SIGINT) `delay` seconds after it prints `marker`: (exit status,
    seconds from the interrupt to the end, output)."""
    import signal
    import time

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in process.stdout:
            output.append(line)
            if marker in line:
                break
        time.sleep(delay)
        start = time.monotonic()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        return process.returncode, time.monotonic() - start, "".join(output) + rest
    finally:
        process.kill()


def test_ctrl_c_stops_a_lecture_within_two_seconds_with_status_130(tmp_path):
    status, seconds, output = interrupt_when(
        [sys.executable, "-m", "companion", "lecture", "training_tricks", "--fast", "--out", str(tmp_path)],
        "[2/", delay=1.0)
    assert status == 130 and seconds < 2.5, (status, seconds, output[-2000:])
    assert output.rstrip().endswith("companion: interrupted.") and "Done:" not in output


def test_ctrl_c_ends_the_command_even_when_the_interrupt_is_swallowed():
    """Python drops a KeyboardInterrupt that lands in a weakref callback or a __del__ ("Exception
    ignored"); here the code swallows every one, and the command still ends."""
    script = (
        "import time\n"
        "from companion.cli import _prompt_ctrl_c\n"
        "with _prompt_ctrl_c():\n"
        "    print('ready', flush=True)\n"
        "    while True:\n"
        "        try:\n"
        "            time.sleep(0.01)\n"
        "        except KeyboardInterrupt:\n"
        "            pass\n"
    )
    status, seconds, output = interrupt_when([sys.executable, "-c", script], "ready", delay=0.1)
    assert status == 130 and seconds < 2.5, (status, seconds, output[-2000:])
    assert "companion: interrupted." in output


@pytest.mark.parametrize("value, status", [(0.5, 3), (1.5, 0)])
def test_a_run_outside_its_band_exits_with_status_3(value, status, monkeypatch, tmp_path, capsys):
    from companion import catalog
    from companion.lecture import Lecture

    lecture = Lecture("logistic_regression", "A one-step lecture", expected="x >= 1", seconds=10)

    @lecture.step("The only step")
    def only(run):
        run.expect("x", value, at_least=1)

    monkeypatch.setattr(catalog, "load", lambda topic: lecture)
    monkeypatch.delenv("COMPANION_FAST", raising=False)
    assert main(["lecture", "logistic_regression", "--out", str(tmp_path)]) == status
    assert ("Result: outside the expected band." in capsys.readouterr().out) == (status == 3)
    assert main(["figures", "logistic_regression", "--out", str(tmp_path)]) == status


def test_precision_mixed_reaches_the_lecture_and_ends_with_it(tmp_path, capsys):
    import keras

    assert main(["lecture", "xor", "--step", "1", "--fast", "--precision", "mixed",
                 "--out", str(tmp_path)]) == 0
    assert "Precision: mixed_bfloat16 for the trainings" in capsys.readouterr().out
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(SystemExit) as stopped:
        main(["lecture", "xor", "--precision", "half"])
    assert stopped.value.code == 2 and "invalid choice: 'half'" in capsys.readouterr().err


def test_ctrl_c_that_a_library_turns_into_another_error_still_exits_130():
    """A KeyboardInterrupt raised inside TensorFlow can come out as another exception (seen: a
    ValueError from tf.cast): after Ctrl-C, that is still an interrupt, not a crash. (In a process
    of its own: the Ctrl-C handler's timer ends the process it runs in.)"""
    script = textwrap.dedent("""
        import signal, sys
        import companion.cli as cli

        def interrupted_then_broken(args):
            try:
                signal.raise_signal(signal.SIGINT)  # Ctrl-C: the handler raises KeyboardInterrupt
            except KeyboardInterrupt:
                raise ValueError("None values not supported.") from None  # what TensorFlow made of it

        cli._list = interrupted_then_broken
        sys.exit(cli.main(["list"]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "companion: interrupted.", done.stderr
