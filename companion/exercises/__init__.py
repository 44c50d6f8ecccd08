"""Exercises: stubs generated from reference solutions, and checks run one exercise per subprocess.

Each topic with exercises has two packaged files:

- `solutions/<topic>.py`, the reference solution; every exercise function has a docstring starting
  "Exercise N.M: ..." and one `# BEGIN SOLUTION` ... `# END SOLUTION` block. The student's stub is
  generated from it (`make_stub`): the block becomes
  `raise NotImplementedError("Exercise N.M: ...")`.
- `checks/test_<topic>.py`, one pytest test per exercise, `test_<function>`, whose docstring is the
  exercise title and a `Hint:` line.

`init(dir)` writes stubs and checks into a folder; `check(topic)` runs each exercise's test in its
own fresh Python process, so that a student function that loops forever or crashes the interpreter
fails that exercise only. Nothing here imports TensorFlow.
"""

import ast
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from companion.errors import UserError
from companion.exercises._loader import ENV_VAR
from companion.exercises._stub import make_stub

__all__ = ["Result", "check", "init", "make_stub", "topics"]

_HERE = Path(__file__).resolve().parent
_SOLUTIONS = _HERE / "solutions"
_CHECKS = _HERE / "checks"
_WORKERS = 2

# Written next to the stubs: makes the folder pytest's root (so that a project's own pytest
# settings further up do not apply) and keeps it free of cache folders.
PYTEST_INI = """\
# Written by `companion exercises init`. Run `pytest` here, or `companion check TOPIC --dir .`.
[pytest]
addopts = -p no:cacheprovider
"""


def topics():
    """The topics that have exercises (a reference solution), in course order."""
    from lectures import TOPICS

    available = {path.stem for path in _SOLUTIONS.glob("*.py") if path.stem != "__init__"}
    return [topic for topic in TOPICS if topic in available] + sorted(available - set(TOPICS))


def _validate(topic):
    available = topics()
    if topic in available:
        return
    from lectures import TOPICS

    if topic in TOPICS:
        raise UserError(
            f"Topic {topic!r} has no exercises yet. Topics with exercises: {', '.join(available)}."
        )
    raise UserError(
        f"Unknown topic {topic!r}. Expected one of: {', '.join(TOPICS)} "
        f"(with exercises: {', '.join(available)})."
    )


def stub_source(topic):
    """The text of the student stub for `topic`."""
    _validate(topic)
    return make_stub((_SOLUTIONS / f"{topic}.py").read_text(encoding="utf-8"))


def init(dir, topic=None):
    """Write the stub `<topic>.py`, its checks `test_<topic>.py` and a `pytest.ini` into `dir`.

    All topics with exercises when `topic` is None. Returns the paths written. A student file that
    already exists and differs from the stub is never overwritten (UserError); the check files are
    always refreshed; an existing `pytest.ini` that differs is left alone.
    """
    selected = topics() if topic is None else [topic]
    for name in selected:
        _validate(name)
    folder = Path(dir)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"Expected a folder for the exercises. Received a file: {folder}.")
    stubs = {name: stub_source(name) for name in selected}
    for name, stub in stubs.items():
        student_file = folder / f"{name}.py"
        if student_file.exists() and student_file.read_text(encoding="utf-8") != stub:
            raise UserError(
                f"{student_file} already exists and differs from the fresh stub (your work?); "
                f"it was not overwritten. Choose another folder, e.g. "
                f"`companion exercises init {folder}-new --topic {name}`, or move the file away."
            )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, stub in stubs.items():
        student_file = folder / f"{name}.py"
        student_file.write_text(stub, encoding="utf-8")
        check_file = folder / f"test_{name}.py"
        shutil.copyfile(_CHECKS / f"test_{name}.py", check_file)
        written += [student_file, check_file]
    ini = folder / "pytest.ini"
    if not ini.exists() or ini.read_text(encoding="utf-8") == PYTEST_INI:
        ini.write_text(PYTEST_INI, encoding="utf-8")
        written.append(ini)
    return written


@dataclass
class Exercise:
    """One exercise, as its check declares it."""

    number: str  # "1.1"
    name: str  # the function, "sigmoid"
    test: str  # the test function, "test_sigmoid"
    title: str  # the docstring's first line
    hint: str


_TITLE = re.compile(r"Exercise (\d+(?:\.\d+)*):")


def _exercises(topic):
    """The exercises of `topic`, in the order of its check file, read without importing it."""
    tree = ast.parse((_CHECKS / f"test_{topic}.py").read_text(encoding="utf-8"))
    exercises = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            docstring = ast.get_docstring(node) or ""
            title = docstring.splitlines()[0] if docstring else node.name
            match = _TITLE.match(title)
            number = match.group(1) if match else "?"
            hint = docstring.partition("Hint:")[2].split("\n\n")[0]
            exercises.append(
                Exercise(number, node.name.removeprefix("test_"), node.name, title,
                         " ".join(hint.split()))
            )
    return exercises


@dataclass
class Result:
    """The outcome of one exercise's check."""

    exercise: Exercise
    status: str  # "pass", "fail", "not implemented", "timeout", "crash" or "error"
    message: str  # why it did not pass, a few lines; "" when it passed
    output: str  # pytest's full output
    seconds: float

    @property
    def passed(self):
        return self.status == "pass"


_NOT_IMPLEMENTED = re.compile(r"NotImplementedError: Exercise (\d+(?:\.\d+)*): (\w+)")


def _signal_name(returncode):
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return None


def _student_line(text, filename, *, innermost_first=False):
    """'logistic_regression.py line 12': the innermost place in a traceback `text` in `filename`.

    pytest prints the innermost frame last; faulthandler (after a crash) prints it first.
    """
    name = re.escape(filename)
    found = re.findall(rf'(?:^|[\\/"\s]){name}"?(?::|, line )(\d+)', text, flags=re.MULTILINE)
    if not found:
        return None
    return f"{filename} line {found[0] if innermost_first else found[-1]}"


_SHORTENED = re.compile(r"\n?\[\+\d+ more lines?; full report in element text\]\s*$")


def _whole_message(element):
    """The message of a junit <failure> or <error> element, every line of it: pytest cuts a long
    message attribute short ("[+5 more lines; ...]"), while the element's text keeps the whole
    exception, as the lines starting with "E" of the traceback."""
    message = element.get("message", "") or ""
    if not _SHORTENED.search(message):
        return message
    lines = [line[4:] if line.startswith("E   ") else "" for line in (element.text or "").splitlines()
             if line == "E" or line.startswith("E ")]
    return "\n".join(lines) if lines else _SHORTENED.sub("", message)


def _failure_message(exercise, element, filename):
    """Status and the message (whole, however long) from a junit <failure> or <error> element."""
    message = _whole_message(element)
    details = element.text or ""
    not_implemented = _NOT_IMPLEMENTED.search(message)
    if not_implemented or message.startswith("NotImplementedError"):
        if not_implemented and not_implemented.group(2) != exercise.name:
            number, name = not_implemented.groups()
            return "not implemented", f"needs Exercise {number} {name}, not implemented yet"
        return "not implemented", "not implemented yet"
    for prefix in ("AssertionError: ", "Failed: "):
        if message.startswith(prefix):
            return "fail", message.removeprefix(prefix)
    if message.startswith("AssertionError"):
        return "fail", message.removeprefix("AssertionError").strip() or "assertion failed"
    where = _student_line(details, filename)
    return "fail", f"raised {message.strip()}" + (f" (at {where})" if where else "")


def _run_one(exercise, check_file, exercise_dir, filename, timeout):
    """Run one exercise's test in a fresh `python -m pytest` process and read its junit XML."""
    with tempfile.TemporaryDirectory(prefix="companion-check-") as scratch:
        junit = Path(scratch) / "report.xml"
        command = [
            sys.executable, "-m", "pytest", f"{check_file}::{exercise.test}",
            "-q", "-p", "no:cacheprovider", "--tb=short", f"--junitxml={junit}",
            # pytest's faulthandler prints where a test stands once it has run this long: if the
            # exercise then runs out of time, that says which line it was stuck on
            "-o", f"faulthandler_timeout={max(timeout / 2, timeout - 5):g}",
        ]
        env = dict(os.environ)
        env.update({
            ENV_VAR: str(exercise_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # faster, and no outside plugin in the way
            "TF_CPP_MIN_LOG_LEVEL": "2",
        })
        start = time.perf_counter()
        try:
            completed = subprocess.run(
                command, cwd=check_file.parent, env=env, timeout=timeout,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )
        except subprocess.TimeoutExpired as expired:
            output = (expired.output or b"").decode("utf-8", "replace")
            where = _student_line(output, filename, innermost_first=True)
            return Result(
                exercise, "timeout",
                f"timed out after {timeout:g} s (an endless loop?)" + (f", in {where}" if where else ""),
                output, time.perf_counter() - start,
            )
        seconds = time.perf_counter() - start
        output = completed.stdout.decode("utf-8", "replace")
        returncode = completed.returncode
        case = None
        if junit.exists():
            try:
                case = ElementTree.parse(junit).getroot().find(".//testcase")
            except ElementTree.ParseError:
                case = None
        if case is None or returncode < 0:
            # The process died before pytest could write its report: a crash of the interpreter.
            signal_name = _signal_name(returncode) if returncode < 0 else None
            message = f"crashed: exit status {returncode}"
            if signal_name:
                message += f" ({signal_name})"
            where = _student_line(output, filename, innermost_first=True)
            if where:
                message += f", in {where}"
            if not signal_name:
                message += " (the process ended before the check could report, e.g. os._exit)"
            return Result(exercise, "crash", message, output, seconds)
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            status, message = _failure_message(exercise, problem, filename)
            if problem.tag == "error" and status == "fail":
                status = "error"
            return Result(exercise, status, message, output, seconds)
        if case.find("skipped") is not None:
            return Result(exercise, "fail", "skipped: " + case.find("skipped").get("message", ""),
                          output, seconds)
        if returncode != 0:
            message = f"pytest exited with status {returncode}"
            return Result(exercise, "error", message, output, seconds)
        return Result(exercise, "pass", "", output, seconds)


def _exercise_dir(topic, dir, solutions):
    """The folder holding the `<topic>.py` to check."""
    if solutions:
        return _SOLUTIONS
    folder = Path.cwd() if dir is None else Path(dir)
    if not (folder / f"{topic}.py").is_file():
        raise UserError(
            f"No exercise file {folder.resolve() / f'{topic}.py'}. Write the stubs first with "
            f"`companion exercises init DIR --topic {topic}`, then check with "
            f"`companion check {topic} --dir DIR`."
        )
    return folder.resolve()


def _run_checks(topic, dir=None, *, solutions=False, timeout=60, on_result=None):
    """Run every exercise's check of `topic`, two at a time; return their Results in exercise order.

    `on_result(result)` is called for each result in exercise order, as soon as it and all the
    ones before it are known.
    """
    _validate(topic)
    exercise_dir = _exercise_dir(topic, dir, solutions)
    exercises = _exercises(topic)
    with tempfile.TemporaryDirectory(prefix="companion-checks-") as scratch:
        # A private copy of the packaged check, in a folder of its own that is pytest's root.
        check_file = Path(scratch) / f"test_{topic}.py"
        shutil.copyfile(_CHECKS / f"test_{topic}.py", check_file)
        (Path(scratch) / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        with ThreadPoolExecutor(max_workers=min(_WORKERS, len(exercises)) or 1) as pool:
            futures = [
                pool.submit(_run_one, exercise, check_file, exercise_dir, f"{topic}.py", timeout)
                for exercise in exercises
            ]
            results = []
            for future in futures:
                results.append(future.result())
                if on_result is not None:
                    on_result(results[-1])
    return results


def _syntax_error(path):
    """'topic.py line 12: invalid syntax (...)' when Python cannot parse the file at `path`, else None."""
    try:
        compile(Path(path).read_bytes(), str(path), "exec")
    except SyntaxError as error:
        return f"{Path(path).name} line {error.lineno}: {type(error).__name__}: {error.msg}"
    return None


def _marks():
    """✓ and ✗ where the console can print them."""
    try:
        "✓✗—".encode(sys.stdout.encoding or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "+", "x"


def check(topic, dir=None, *, solutions=False, verbose=False, timeout=60):
    """Run the checks of `topic` on `<dir>/<topic>.py` (or the reference solution), print a report.

    One line per exercise: `  ✓ 1.1 sigmoid`, or `  ✗ 1.2 binary_cross_entropy: <why>` followed
    by the hint; then `3/5 exercises pass`. `verbose` also prints pytest's full output per check.
    Each check runs in its own process, stopped after `timeout` seconds. Returns True when all pass.
    """
    passed_mark, failed_mark = _marks()
    source = "the reference solution" if solutions else None

    def report(result):
        exercise = result.exercise
        if result.passed:
            print(f"  {passed_mark} {exercise.number} {exercise.name}", flush=True)
        else:
            first, *rest = result.message.splitlines() or [""]
            print(f"  {failed_mark} {exercise.number} {exercise.name}: {first}")
            for line in rest:  # the whole report: expected, received, the case
                print(f"      {line}")
            if exercise.hint:
                print(f"      hint: {exercise.hint}", flush=True)
        if verbose:
            print("      --- pytest output ---")
            for line in result.output.rstrip().splitlines():
                print(f"      | {line}")
            print(flush=True)

    _validate(topic)
    where = source or _exercise_dir(topic, dir, solutions) / f"{topic}.py"
    print(f"Checking {topic} exercises in {where}", flush=True)
    if not solutions:
        problem = _syntax_error(where)
        if problem:  # said once, here, rather than once per exercise
            print(f"  {failed_mark} {problem}")
            print("      Python cannot read the file, so no exercise could be checked: fix this line "
                  "(or the one before it) and check again.")
            print(f"0/{len(_exercises(topic))} exercises pass", flush=True)
            return False
    results = _run_checks(topic, dir, solutions=solutions, timeout=timeout, on_result=report)
    passed = sum(result.passed for result in results)
    print(f"{passed}/{len(results)} exercises pass", flush=True)
    return passed == len(results)
