"""Exercises: stub generation, `init`, and `check` on solutions, stubs and broken student files.

`check` runs a topic's checks in one pytest process, and another for what follows an exercise that
timed out or crashed; these tests start a few dozen short ones, and call the checks of the reference
solutions in this process, which has TensorFlow loaded.
"""

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import companion
import companion.exercises as exercises
from companion.errors import UserError
from companion.exercises import _run_checks, make_stub
from companion.exercises._expect import expect_close, expect_same_model, expect_unchanged
from companion.exercises._loader import ENV_VAR

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "companion" / "exercises" / "solutions"
CHECKS = REPO / "companion" / "exercises" / "checks"
TOPICS = exercises.topics()


def exercise_functions(source):
    """{name: FunctionDef} of the functions whose docstring starts 'Exercise N.M:'."""
    return {
        node.name: node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
        and (ast.get_docstring(node) or "").startswith("Exercise ")
    }


def write_student_file(folder, topic, replacements):
    """The reference solution of `topic` with some functions replaced by other code, in `folder`."""
    source = (SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8")
    functions = exercise_functions(source)
    lines = source.splitlines(keepends=True)
    for name in sorted(replacements, key=lambda name: -functions[name].lineno):
        node = functions[name]
        lines[node.lineno - 1 : node.end_lineno] = [textwrap.dedent(replacements[name]) + "\n"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{topic}.py").write_text("".join(lines), encoding="utf-8")
    return folder


def solution_with(topic, name, *replacements):
    """The source of the reference solution's exercise function `name` of `topic`, with each
    (old, new) text replaced: the function with one typical mistake."""
    source = (SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8")
    node = exercise_functions(source)[name]
    source = "\n".join(source.splitlines()[node.lineno - 1 : node.end_lineno])
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


def check_failure(topic, exercise, replacements, tmp_path, monkeypatch):
    """The message of the AssertionError that the check of `exercise` raises, run in this process on
    the reference solution of `topic` with the functions of `replacements` ({name: code}) replaced;
    None when the check passes."""
    import importlib

    monkeypatch.setenv(ENV_VAR, str(write_student_file(tmp_path, topic, replacements)))
    monkeypatch.delitem(sys.modules, topic, raising=False)  # the exercise module, loaded afresh
    checks = importlib.import_module(f"companion.exercises.checks.test_{topic}")
    try:
        getattr(checks, f"test_{exercise}")()
    except AssertionError as error:
        return str(error)
    return None


def statuses(results):
    return {result.exercise.name: result.status for result in results}


def messages(results):
    return {result.exercise.name: result.message for result in results}


# --- the topics and their files ---------------------------------------------------------------


def test_topics_are_lecture_topics_with_a_solution_and_a_check():
    from lectures import TOPICS as LECTURE_TOPICS

    assert "logistic_regression" in TOPICS
    for topic in TOPICS:
        assert topic in LECTURE_TOPICS
        assert (CHECKS / f"test_{topic}.py").is_file()


@pytest.mark.parametrize("topic", TOPICS)
def test_each_exercise_has_one_check_with_the_same_number_and_a_hint(topic):
    functions = exercise_functions((SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8"))
    numbers = {
        name: ast.get_docstring(node).split(":")[0].removeprefix("Exercise ")
        for name, node in functions.items()
    }
    declared = exercises._exercises(topic)
    assert [exercise.name for exercise in declared] == list(functions)
    for exercise in declared:
        assert exercise.number == numbers[exercise.name]
        assert exercise.title.startswith(f"Exercise {exercise.number}: {exercise.name}")
        assert exercise.hint


# --- stub generation --------------------------------------------------------------------------


def test_make_stub_replaces_the_fenced_block_and_keeps_the_rest():
    solution = textwrap.dedent('''\
        """Module docstring."""

        import numpy as np


        def square(x, *, scale=1.0):
            """Exercise 2.1: square "x" entry by entry.

            More narrative.
            """
            x = np.asarray(x)
            # BEGIN SOLUTION
            y = x * x
            return scale * y
            # END SOLUTION


        def helper():
            return 1
        ''')
    expected = textwrap.dedent('''\
        """Module docstring."""

        import numpy as np


        def square(x, *, scale=1.0):
            """Exercise 2.1: square "x" entry by entry.

            More narrative.
            """
            x = np.asarray(x)
            raise NotImplementedError("Exercise 2.1: square — square \\"x\\" entry by entry.")


        def helper():
            return 1
        ''')
    assert make_stub(solution) == expected
    namespace = {}
    exec(compile(make_stub(solution), "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match='Exercise 2.1: square — square "x"'):
        namespace["square"](3)


@pytest.mark.parametrize(
    "body",
    [
        "    # BEGIN SOLUTION\n    return 1\n",  # never closed
        "    return 1\n    # END SOLUTION\n",  # closed, never opened
        "    return 1\n",  # no fenced block
        "    # BEGIN SOLUTION\n    a = 1\n    # END SOLUTION\n"
        "    # BEGIN SOLUTION\n    return a\n    # END SOLUTION\n",  # two blocks
    ],
)
def test_make_stub_rejects_malformed_fences(body):
    source = 'def f():\n    """Exercise 1.1: do it."""\n' + body
    with pytest.raises(ValueError):
        make_stub(source)


def test_make_stub_rejects_a_fence_outside_an_exercise_function():
    source = "# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n"
    with pytest.raises(ValueError, match="not inside an exercise function"):
        make_stub(source)


@pytest.mark.parametrize("topic", TOPICS)
def test_stub_keeps_signatures_and_docstrings_and_removes_the_solution_code(topic):
    solution = (SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8")
    stub = exercises.stub_source(topic)
    assert "BEGIN SOLUTION" not in stub and "END SOLUTION" not in stub
    assert ast.get_docstring(ast.parse(stub)) == ast.get_docstring(ast.parse(solution))
    solved, stubbed = exercise_functions(solution), exercise_functions(stub)
    assert list(stubbed) == list(solved)
    for name, node in stubbed.items():
        assert ast.dump(node.args) == ast.dump(solved[name].args)
        assert ast.get_docstring(node) == ast.get_docstring(solved[name])
        docstring, raise_ = node.body  # the docstring, then only the raise
        assert isinstance(raise_, ast.Raise)
        message = raise_.exc.args[0].value
        number = ast.get_docstring(node).split(":")[0]
        assert message.startswith(f"{number}: {name} — ")
        assert "\n" not in message


# --- init -------------------------------------------------------------------------------------


def test_init_writes_stub_check_and_config_and_refuses_to_overwrite_work(tmp_path):
    folder = tmp_path / "ex"
    written = exercises.init(folder)
    for topic in TOPICS:
        assert folder / f"{topic}.py" in written
        assert (folder / f"{topic}.py").read_text(encoding="utf-8") == exercises.stub_source(topic)
        check_file = f"test_{topic}.py"
        assert (folder / check_file).read_bytes() == (CHECKS / check_file).read_bytes()
    assert (folder / "pytest.ini").is_file()

    topic = TOPICS[0]
    assert exercises.init(folder, topic)  # an untouched stub may be written again
    student_file = folder / f"{topic}.py"
    student_file.write_text(student_file.read_text(encoding="utf-8") + "\n# my work\n")
    for chosen in (topic, None):
        with pytest.raises(UserError, match=f"{topic}.py already exists") as error:
            exercises.init(folder, chosen)
        assert "another folder" in str(error.value)
    assert student_file.read_text(encoding="utf-8").endswith("# my work\n")


def test_init_leaves_a_different_pytest_ini_alone(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    written = exercises.init(tmp_path, TOPICS[0])
    assert tmp_path / "pytest.ini" not in written
    assert (tmp_path / "pytest.ini").read_text() == "[pytest]\n"


def test_unknown_topic_and_topic_without_exercises_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="Unknown topic 'nope'.*logistic_regression"):
        exercises.init(tmp_path, "nope")
    with pytest.raises(UserError, match="Unknown topic 'nope'"):
        exercises.check("nope", tmp_path)
    from lectures import TOPICS as LECTURE_TOPICS

    without = [topic for topic in LECTURE_TOPICS if topic not in TOPICS]
    if without:
        with pytest.raises(UserError, match=f"{without[0]!r} has no exercises yet"):
            exercises.init(tmp_path, without[0])


def test_check_without_a_student_file_says_to_run_init(tmp_path):
    with pytest.raises(UserError, match="companion exercises init DIR --topic logistic_regression"):
        exercises.check("logistic_regression", tmp_path)


def test_init_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys, companion.exercises as e; e.init(sys.argv[1]); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "logistic_regression.py").is_file()


# --- check ------------------------------------------------------------------------------------


def record_results(monkeypatch):
    """Make `check` keep the structured results of its `_run_checks` call in the returned list."""
    recorded = []

    def recording(*args, **kwargs):
        results = _run_checks(*args, **kwargs)
        recorded.extend(results)
        return results

    monkeypatch.setattr(exercises, "_run_checks", recording)
    return recorded


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_solutions_pass_every_check(topic, monkeypatch):
    """Every check, called in this process on the reference solution (one TensorFlow import for all;
    `check`'s one-process-per-exercise runner is tested on logistic_regression below)."""
    monkeypatch.setenv(ENV_VAR, str(SOLUTIONS))
    spec = importlib.util.spec_from_file_location(f"check_{topic}", CHECKS / f"test_{topic}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checks = [function for name, function in vars(module).items() if name.startswith("test_")]
    assert len(checks) == len(exercise_functions((SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8")))
    for check in checks:
        check()
    sys.modules.pop(topic, None)  # the exercise module the checks loaded


def count_processes(monkeypatch):
    """Count the pytest processes that `check` starts, in the returned list's length."""
    started = []
    real = exercises._Process.__init__

    def counting(self, topic, pending, *args):
        started.append([exercise.name for exercise in pending])
        real(self, topic, pending, *args)

    monkeypatch.setattr(exercises._Process, "__init__", counting)
    return started


def test_check_runs_all_exercises_in_one_process_and_reports_each(capsys, monkeypatch):
    topic = "logistic_regression"
    results = record_results(monkeypatch)
    processes = count_processes(monkeypatch)
    assert companion.check(topic, solutions=True) is True
    output = capsys.readouterr().out
    assert all(result.passed for result in results), messages(results)
    assert len(processes) == 1
    assert f"{len(results)}/{len(results)} exercises pass" in output
    for result in results:
        assert f"  ✓ {result.exercise.number} {result.exercise.name}\n" in output


def test_the_time_limit_does_not_count_the_import_of_tensorflow(capsys, monkeypatch):
    """The cnn checks import Keras in their first exercise: a limit shorter than that import (5 s or
    more here) still lets every exercise pass, in one process."""
    processes = count_processes(monkeypatch)
    assert companion.check("cnn", solutions=True, timeout=1.5) is True, capsys.readouterr().out
    assert len(processes) == 1


@pytest.mark.parametrize("topic", TOPICS)
def test_fresh_stubs_fail_every_exercise_as_not_implemented(topic, tmp_path, capsys, monkeypatch):
    exercises.init(tmp_path, topic)
    results = record_results(monkeypatch)
    assert exercises.check(topic, tmp_path) is False
    output = capsys.readouterr().out
    assert results and set(statuses(results).values()) == {"not implemented"}, messages(results)
    assert f"0/{len(results)} exercises pass" in output
    for result in results:
        exercise = result.exercise
        assert f"  ✗ {exercise.number} {exercise.name}: not implemented yet" in output
        assert f"      hint: {result.exercise.hint}" in output


def test_endless_loop_and_crashes_fail_only_their_exercise(tmp_path, monkeypatch):
    folder = write_student_file(tmp_path, "logistic_regression", {
        "binary_cross_entropy": """
            def binary_cross_entropy(y_true, p):
                import os
                os._exit(1)
            """,
        "gradient_descent_step": """
            def gradient_descent_step(w, b, x, y, learning_rate):
                while True:
                    pass
            """,
        "predict": """
            def predict(w, b, x, threshold=0.5):
                import ctypes
                ctypes.string_at(0)
            """,
    })
    processes = count_processes(monkeypatch)
    results = _run_checks("logistic_regression", folder, timeout=6)
    assert processes == [  # each exercise after a crash or a time-out is checked in a fresh process
        ["sigmoid", "binary_cross_entropy", "gradient", "gradient_descent_step", "predict"],
        ["gradient", "gradient_descent_step", "predict"], ["predict"]]
    assert statuses(results) == {
        "sigmoid": "pass",
        "binary_cross_entropy": "crash",
        "gradient": "pass",
        "gradient_descent_step": "timeout",
        "predict": "crash",
    }, messages(results)
    found = messages(results)
    source = (folder / "logistic_regression.py").read_text(encoding="utf-8").splitlines()
    loop = next(number for number, text in enumerate(source, 1) if text.strip() == "while True:")
    assert found["gradient_descent_step"] in {  # the loop's line or its body's: where it stood
        f"timed out after 6 s (an endless loop?), in logistic_regression.py line {line}"
        for line in (loop, loop + 1)}
    assert found["binary_cross_entropy"].startswith("crashed: exit status 1")
    assert found["predict"].startswith("crashed: exit status -11 (SIGSEGV)")
    assert "logistic_regression.py line" in found["predict"]


def test_typical_mistakes_fail_the_right_check_with_a_diagnosis(tmp_path):
    folder = write_student_file(tmp_path, "logistic_regression", {
        "sigmoid": """
            def sigmoid(z):
                return 1 / (1 + np.exp(-z))
            """,
        "binary_cross_entropy": """
            def binary_cross_entropy(y_true, p):
                raise NotImplementedError
            """,
        "gradient": """
            def gradient(w, b, x, y):
                error = y - sigmoid(x @ w + b)
                return x.T @ error / len(y), np.mean(error)
            """,
        "gradient_descent_step": """
            def gradient_descent_step(w, b, x, y, learning_rate):
                dw, db = gradient(w, b, x, y)
                w -= learning_rate * dw
                return w, b - learning_rate * db
            """,
        "predict": """
            def predict(w, b, x, threshold=0.5):
                return sigmoid(x @ w + b) > threshold
            """,
    })
    results = _run_checks("logistic_regression", folder)
    assert set(statuses(results).values()) == {"fail", "not implemented"}, messages(results)
    found = messages(results)
    assert found["sigmoid"].startswith("not numerically stable: FloatingPointError: overflow")
    assert found["binary_cross_entropy"] == "not implemented yet"
    assert found["gradient"].startswith("wrong sign")
    assert "modified in place" in found["gradient_descent_step"]
    assert found["predict"].startswith(
        "dtype mismatch: expected integer values, received dtype bool"
    )


def test_plain_pytest_in_an_initialised_folder_checks_that_folder(tmp_path):
    exercises.init(tmp_path, "logistic_regression")
    shutil.copyfile(SOLUTIONS / "logistic_regression.py", tmp_path / "logistic_regression.py")
    env = {key: value for key, value in os.environ.items() if key != "COMPANION_EXERCISES_DIR"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout
    assert not (tmp_path / ".pytest_cache").exists()


# --- the assertion helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected", "first_line"),
    [
        (None, np.zeros(3), "received None, expected an array of shape (3,)"),
        ((1.0, 2.0), 1.0, "type mismatch: expected a number, received a tuple"),
        (
            np.zeros((3, 1)), np.zeros(3),
            "shape mismatch: expected an array of shape (3,), received shape (3, 1)",
        ),
        (np.zeros(4), 0.0, "shape mismatch: expected a scalar, received shape (4,)"),
        (np.array([True, False]), np.array([1, 0]), "dtype mismatch: expected integer values"),
        (np.array([0.5, np.nan]), np.array([0.5, 0.7]), "NaN received at index (1,)"),
        (np.array([0.5, np.inf]), np.array([0.5, 0.7]), "inf received at index (1,)"),
        (np.array([0.5, 0.8, 0.1]), np.array([0.5, 0.7, 0.1]), "values off at 1 of 3 entries"),
    ],
)
def test_expect_close_names_the_broken_property(received, expected, first_line):
    dtype = "integer" if np.asarray(expected).dtype.kind == "i" else None
    with pytest.raises(AssertionError) as error:
        expect_close(received, expected, what="f(x) for x = [1, 2, 3]", dtype=dtype)
    lines = str(error.value).splitlines()
    assert lines[0].startswith(first_line)
    assert lines[1] == "case: f(x) for x = [1, 2, 3]"


def test_expect_close_shows_expected_and_received_entries():
    with pytest.raises(AssertionError) as error:
        expect_close(np.array([0.5, 0.8]), np.array([0.5, 0.7]), what="f")
    assert "at (1,): expected 0.7, received 0.8" in str(error.value)
    expect_close(np.float64(0.5), 0.5 + 1e-12, what="f")  # within tolerance
    expect_close(0.5, np.array(0.5), what="a number against a 0-d array")


def test_expect_unchanged_reports_in_place_changes():
    expect_unchanged(np.ones(2), np.ones(2), what="w")
    with pytest.raises(AssertionError, match="w was modified in place"):
        expect_unchanged(np.ones(2), np.zeros(2), what="w")


def test_expect_same_model_rejects_what_is_not_a_model():
    with pytest.raises(AssertionError, match="expected a Keras model, received a NoneType"):
        expect_same_model(None, object())


@pytest.mark.slow
def test_expect_same_model_names_the_first_difference():
    import keras

    def model(*layers, input_shape=(8, 8, 1)):
        return keras.Sequential([keras.Input(input_shape), *layers])

    expected = model(
        keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    )
    expect_same_model(expected, expected)
    cases = {
        "layer 1 (Conv2D): activation mismatch": model(
            keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ),
        "layer 1 (Conv2D): padding mismatch": model(
            keras.layers.Conv2D(4, 3, activation="relu", padding="same"), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ),
        "layer 2: type mismatch: expected Flatten, received GlobalAveragePooling2D": model(
            keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ),
        "layer 1 (Conv2D): output shape mismatch: "
        "expected (None, 6, 6, 4), received (None, 8, 8, 4)": model(
            keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"), input_shape=(10, 10, 1),
        ),
        "layer 1 (Conv2D): parameter count mismatch: expected 40, received 76": model(
            keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"), input_shape=(8, 8, 2),
        ),
        "layer count mismatch": model(
            keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"), keras.layers.Dropout(0.5),
        ),
    }
    for first_line, received in cases.items():
        with pytest.raises(AssertionError) as error:
            expect_same_model(received, expected)
        assert str(error.value).startswith(first_line)


def test_a_long_failure_message_reaches_the_student_whole(tmp_path, capsys):
    folder = write_student_file(tmp_path, "logistic_regression", {
        "predict": """
            def predict(w, b, x, threshold=0.5):
                raise ValueError("\\n".join(f"case {i}: expected {i}, received {i + 1}" for i in range(15)))
            """,
    })
    assert companion.check("logistic_regression", dir=folder) is False
    printed = capsys.readouterr().out
    assert "predict: raised ValueError: case 0: expected 0, received 1" in printed
    assert "      case 14: expected 14, received 15" in printed and "more lines" not in printed


def test_a_syntax_error_is_reported_once_with_its_line_before_any_exercise(tmp_path, capsys):
    folder = write_student_file(tmp_path, "logistic_regression", {
        "gradient": """
            def gradient(w, b, x, y):
                return (x.T @ (sigmoid(x @ w + b) - y) / len(y)
            """,
    })
    source = (folder / "logistic_regression.py").read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(source, 1) if "return (x.T @" in text)
    assert companion.check("logistic_regression", dir=folder) is False
    printed = capsys.readouterr().out
    assert printed.count("SyntaxError") == 1 and "not checked" not in printed
    assert f"logistic_regression.py line {line}" in printed or f"line {line + 1}" in printed
    assert printed.rstrip().endswith("0/5 exercises pass")


@pytest.mark.parametrize("code, problem", [
    ("from numpy import no_such_name",
     "importing mlp.py raised ImportError: cannot import name 'no_such_name'"),
    ("while True:\n    pass",
     "importing mlp.py took longer than 3 s (an endless loop at module level?), in mlp.py line"),
    ("import os\nos._exit(4)", "importing mlp.py ended the process (exit status 4)"),
])
def test_a_file_that_does_not_import_is_reported_once(code, problem, tmp_path, capsys):
    source = (SOLUTIONS / "mlp.py").read_text(encoding="utf-8")
    (tmp_path / "mlp.py").write_text(f"{source}\n{code}\n", encoding="utf-8")
    assert companion.check("mlp", dir=tmp_path, timeout=3) is False
    printed = capsys.readouterr().out
    assert printed.count("✗") == 1 and problem in printed, printed
    if "ImportError" in problem:  # where the file stopped
        assert f"(mlp.py line {len(source.splitlines()) + 2})" in printed
    assert printed.rstrip().endswith("0/4 exercises pass")


def test_check_takes_a_timeout_in_seconds(tmp_path, capsys):
    from companion.cli import main

    folder = write_student_file(tmp_path, "logistic_regression", {
        "gradient_descent_step": """
            def gradient_descent_step(w, b, x, y, learning_rate):
                while True:
                    pass
            """,
    })
    assert main(["check", "logistic_regression", "--dir", str(folder), "--timeout", "0"]) == 2
    assert "--timeout" in capsys.readouterr().err
    assert main(["check", "logistic_regression", "--dir", str(folder), "--timeout", "4"]) == 1
    printed = capsys.readouterr().out
    assert "gradient_descent_step: timed out after 4 s" in printed and "4/5 exercises pass" in printed


def squeezed(text):
    """`text` without spacing, backquotes or quotes: code compared however it is laid out."""
    return "".join(text.split()).translate(str.maketrans("", "", "`'\""))


def plain_call(node):
    """A call like `gradient(w, b, x, y)`: a function given its arguments, as a case names it."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and all(isinstance(argument, ast.Name) for argument in node.args) and not node.keywords)


def solution_fragments(topic):
    """The code of `topic`'s reference solution (its fenced blocks), squeezed: every assignment, return
    and expression statement, and every computing expression within them, of 16 characters or more."""
    source = (SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8")
    fenced, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        if "# BEGIN SOLUTION" in line or "# END SOLUTION" in line:
            inside = "BEGIN" in line
        elif inside:
            fenced.add(number)
    kinds = (ast.Assign, ast.AugAssign, ast.Return, ast.Expr,  # statements
             ast.BinOp, ast.Call, ast.Subscript, ast.Compare, ast.UnaryOp, ast.BoolOp)  # computations
    fragments = {squeezed(ast.unparse(node)) for node in ast.walk(ast.parse(source))
                 if isinstance(node, kinds) and node.lineno in fenced and not plain_call(node)}
    return {fragment for fragment in fragments if len(fragment) >= 16}


def check_texts(topic):
    """Every string a check of `topic` can print: its docstrings (titles, hints) and its failure
    messages, f-strings with their fields as {}."""
    tree = ast.parse((CHECKS / f"test_{topic}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


@pytest.mark.parametrize("topic", TOPICS)
def test_no_hint_or_message_carries_code_of_the_reference_solution(topic):
    fragments = solution_fragments(topic)
    assert len(fragments) >= 3  # the scan reads real solution code
    for text in check_texts(topic):
        leaked = sorted(fragment for fragment in fragments if fragment in squeezed(text))
        assert not leaked, f"a text of the {topic} checks gives away {leaked}: {text!r}"


# Python that a hint in words has no need of: an assignment or keyword argument, augmented
# assignment, floor division or a power, a matrix product, indexing or slicing, a call of a library
# function or a method, a loop's range, a lambda, a `return` of code.
CODE = re.compile(
    r"(?<![<>!=])=(?!=)|[-+*/]=|//|\*\*|\w\s*@\s*\w|\w\[[^\]]*\]"
    r"|\b(?:np|math|keras|tf|ops|scipy)\.[\w.]+\(|\w\.\w+\(|\brange\(|\blambda\b|\breturn\s+[\w(]*[(.\[]"
)


@pytest.mark.parametrize("topic", TOPICS)
def test_hints_are_words_not_code(topic):
    for exercise in exercises._exercises(topic):
        code = [match.group(0) for match in CODE.finditer(exercise.hint)]
        assert not code, f"the hint of {topic}.{exercise.name} writes code {code}: {exercise.hint!r}"
