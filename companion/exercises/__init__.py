"""Exercises: stubs generated from reference solutions, and checks that answer within seconds.

Each topic with exercises has two packaged files:

- `solutions/<topic>.py`, the reference solution; every exercise function has a docstring starting
  "Exercise N.M: ..." and one `# BEGIN SOLUTION` ... `# END SOLUTION` block. The student's stub is
  generated from it (`make_stub`): the block becomes
  `raise NotImplementedError("Exercise N.M: ...")`.
- `checks/test_<topic>.py`, one pytest test per exercise, `test_<function>`, whose docstring is the
  exercise title and a `Hint:` line.

`init(dir)` writes stubs and checks into a folder; `check(topic)` runs all of a topic's checks in one
pytest process (TensorFlow is imported once), watched live through the events that `_reporter`
writes: an exercise that loops forever or crashes the interpreter fails alone, and the exercises
after it are checked in a fresh process. Nothing here imports TensorFlow (or pytest).
"""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from companion.errors import UserError
from companion.exercises import _loader
from companion.exercises._loader import ENV_VAR
from companion.exercises._stub import make_stub

__all__ = ["Result", "check", "init", "make_stub", "topics"]

_HERE = Path(__file__).resolve().parent
_SOLUTIONS = _HERE / "solutions"
_CHECKS = _HERE / "checks"

# Written next to the stubs: makes the folder pytest's root (so that a project's own pytest
# settings further up do not apply) and keeps it free of cache folders.
PYTEST_INI = """\
# Written by `companion exercises init`. Run `pytest` here, or `companion check TOPIC --dir .`.
[pytest]
addopts = -p no:cacheprovider
"""


def topics():
    """The topics that have exercises (a reference solution), in course order."""
    from companion.catalog import TOPICS

    available = {path.stem for path in _SOLUTIONS.glob("*.py") if path.stem != "__init__"}
    return [topic for topic in TOPICS if topic in available] + sorted(available - set(TOPICS))


def _validate(topic):
    available = topics()
    if topic in available:
        return
    from companion.catalog import TOPICS

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


def _failure_message(exercise, message, details, filename):
    """Status and message of a failed check: `message` is the whole exception ("AssertionError: ..."),
    `details` pytest's traceback, searched for the student's line when something else was raised."""
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


class FileProblem(Exception):
    """The student's file cannot be loaded (a syntax error, or its module-level code raised, looped or
    ended the process): no exercise can be checked, and this is said once."""

    def __init__(self, problem, advice=None):
        super().__init__(problem)
        self.advice = advice or ("Python stops while importing the file, before the exercises are "
                                 "defined, so none could be checked: fix this and check again.")


def _syntax_error(path):
    """'topic.py line 12: invalid syntax (...)' when Python cannot parse the file at `path`, else None."""
    try:
        compile(Path(path).read_bytes(), str(path), "exec")
    except SyntaxError as error:
        return f"{Path(path).name} line {error.lineno}: {type(error).__name__}: {error.msg}"
    return None


_DUMP_HEADER = re.compile(r"^(?:Timeout \(|Fatal Python error)", flags=re.MULTILINE)


def _last_dump(text):
    """The last traceback that faulthandler wrote (after a time-out alarm or a crash)."""
    starts = [match.start() for match in _DUMP_HEADER.finditer(text)]
    return text[starts[-1]:] if starts else text


_FILE = "the student's file"  # what a check process runs while it imports that file


class _Process:
    """One `python -m pytest` process checking some of a topic's exercises in order, watched live.

    `results()` yields a Result per exercise as soon as it is known. An exercise that runs past
    `timeout` seconds of its own time (a first import of TensorFlow does not count), or during which
    the process dies, ends the process: it is yielded as "timeout" or "crash", and the exercises
    after it are left for another process (`unfinished`).
    """

    POLL = 0.02  # seconds between looks at the events file
    LOADING_LIMIT = 600  # seconds a first import of TensorFlow may take before the process is stopped

    def __init__(self, topic, pending, check_file, exercise_dir, timeout, scratch):
        self.topic, self.filename = topic, f"{topic}.py"
        self.pending = list(pending)  # exercises not yet reported, in order
        self.timeout = timeout
        self.events_path = scratch / "events.jsonl"
        self.traceback_path = scratch / "traceback.txt"
        self.output_path = scratch / "output.txt"
        for path in (self.events_path, self.traceback_path, self.output_path):
            path.write_text("", encoding="utf-8")
        self.command = [
            sys.executable, "-m", "pytest", *[f"{check_file}::{exercise.test}" for exercise in pending],
            "-q", "-p", "no:cacheprovider", "-p", "no:faulthandler", "--tb=short",
            "-p", "companion.exercises._reporter",
        ]
        self.env = dict(os.environ)
        self.env.update({
            ENV_VAR: str(exercise_dir),
            _loader.EVENTS: str(self.events_path),
            _loader.TRACEBACK: str(self.traceback_path),
            _loader.TIMEOUT: repr(timeout),
            _loader.TOPIC: topic,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # faster, and no outside plugin in the way
            "TF_CPP_MIN_LOG_LEVEL": "2",
        })
        self.cwd = check_file.parent

    def _events(self, reader, buffer):
        """The complete JSON lines written since the last call."""
        buffer[0] += reader.read()
        *lines, buffer[0] = buffer[0].split("\n")
        return [json.loads(line) for line in lines if line.strip()]

    def results(self):
        by_test = {exercise.test: exercise for exercise in self.pending}
        with open(self.output_path, "wb") as output, \
                open(self.events_path, encoding="utf-8") as reader:
            process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=subprocess.STDOUT)
            try:
                yield from self._watch(process, reader, by_test)
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait()

    def _watch(self, process, reader, by_test):
        buffer = [""]
        # `current`: the exercise whose check runs, or _FILE while the student's file is imported
        current, started, deadline, loading, paused_left = None, time.monotonic(), None, 0, None
        while True:
            finished = process.poll() is not None
            now = time.monotonic()
            for event in self._events(reader, buffer):
                kind = event["event"]
                if kind == "file":
                    where = f" ({event['where']})" if event.get("where") else ""
                    raise FileProblem(f"importing {self.filename} raised {event['problem']}{where}")
                if kind in ("start", "importing"):
                    current = by_test[event["test"]] if kind == "start" else _FILE
                    started, deadline, loading = now, now + self.timeout, 0
                elif kind == "loading":
                    if loading == 0 and deadline is not None:
                        paused_left, deadline = deadline - now, None
                    loading += 1
                elif kind == "loaded":
                    loading -= 1
                    if loading == 0 and paused_left is not None:
                        deadline, paused_left = now + paused_left, None
                elif kind == "result":
                    result = self._result(by_test[event["test"]], event)
                    self.pending.remove(result.exercise)
                    current = deadline = None
                    yield result
            if not self.pending:
                return
            if finished:  # the process ended with exercises left: it died in `current`
                if current in (None, _FILE):
                    raise FileProblem(self._ended_early(process.returncode))
                self.pending.remove(current)
                yield self._crash(current, process.returncode, now - started)
                return
            if (deadline is not None and now > deadline) or now - started > self.LOADING_LIMIT:
                process.kill()
                process.wait()
                if current in (None, _FILE):
                    where = _student_line(self._dump(), self.filename, innermost_first=True)
                    raise FileProblem(f"importing {self.filename} took longer than {self.timeout:g} s "
                                      "(an endless loop at module level?)"
                                      + (f", in {where}" if where else ""))
                self.pending.remove(current)
                yield self._timeout(current, now - started)
                return
            time.sleep(self.POLL)

    def _result(self, exercise, event):
        output = "\n".join(part for part in (event["details"], event["output"]) if part)
        if event["outcome"] == "passed":
            return Result(exercise, "pass", "", output, event["seconds"])
        if event["outcome"] == "skipped":
            return Result(exercise, "fail", f"skipped: {event['message']}", output, event["seconds"])
        status, message = _failure_message(exercise, event["message"], event["details"], self.filename)
        return Result(exercise, status, message, output, event["seconds"])

    def _dump(self):
        return _last_dump(self.traceback_path.read_text(encoding="utf-8", errors="replace"))

    def _timeout(self, exercise, seconds):
        dump = self._dump()
        where = _student_line(dump, self.filename, innermost_first=True)
        message = f"timed out after {self.timeout:g} s (an endless loop?)"
        message += f", in {where}" if where else ""
        return Result(exercise, "timeout", message, dump, seconds)

    def _crash(self, exercise, returncode, seconds):
        dump = self._dump()
        signal_name = _signal_name(returncode) if returncode < 0 else None
        message = f"crashed: exit status {returncode}" + (f" ({signal_name})" if signal_name else "")
        where = _student_line(dump, self.filename, innermost_first=True)
        if where:
            message += f", in {where}"
        if not signal_name:
            message += " (the process ended before the check could report, e.g. os._exit)"
        output = self.output_path.read_text(encoding="utf-8", errors="replace") + dump
        return Result(exercise, "crash", message, output, seconds)

    def _ended_early(self, returncode):
        output = self.output_path.read_text(encoding="utf-8", errors="replace")
        where = _student_line(self._dump(), self.filename, innermost_first=True)
        return (f"importing {self.filename} ended the process (exit status {returncode})"
                + (f", in {where}" if where else "")
                + (f"\n{output.strip()}" if returncode not in (0, 3) and not where else ""))


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
    """Run every exercise's check of `topic`; return their Results in exercise order.

    All exercises run in one pytest process (one TensorFlow import). When an exercise times out or
    the process dies in it, that exercise fails alone and the ones after it run in a fresh process.
    `on_result(result)` is called for each result as soon as it is known. Raises FileProblem when the
    student's file does not load, which no exercise can then get past.
    """
    _validate(topic)
    exercise_dir = _exercise_dir(topic, dir, solutions)
    problem = _syntax_error(exercise_dir / f"{topic}.py")
    if problem:
        raise FileProblem(problem, "Python cannot read the file, so no exercise could be checked: fix "
                                   "this line (or the one before it) and check again.")
    pending = _exercises(topic)
    results = []
    with tempfile.TemporaryDirectory(prefix="companion-checks-") as scratch:
        scratch = Path(scratch)
        # A private copy of the packaged check, in a folder of its own that is pytest's root.
        (scratch / "checks").mkdir()
        check_file = scratch / "checks" / f"test_{topic}.py"
        shutil.copyfile(_CHECKS / f"test_{topic}.py", check_file)
        (scratch / "checks" / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        while pending:
            process = _Process(topic, pending, check_file, exercise_dir, timeout, scratch)
            for result in process.results():
                results.append(result)
                if on_result is not None:
                    on_result(result)
            pending = process.pending
    return results


def _marks():
    """✓ and ✗ where the console can print them."""
    try:
        "✓✗—".encode(sys.stdout.encoding or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "+", "x"


def check(topic, dir=None, *, solutions=False, verbose=False, timeout=60):
    """Run the checks of `topic` on `<dir>/<topic>.py` (or the reference solution), print a report.

    One line per exercise, printed as soon as it is known: `  ✓ 1.1 sigmoid`, or
    `  ✗ 1.2 binary_cross_entropy: <why>` followed by the whole report (the case, expected,
    received) and the hint; then `3/5 exercises pass`. A file that does not load is reported once.
    `verbose` also prints pytest's output per check. An exercise is stopped after `timeout` seconds
    of its own running time. Returns True when all pass.
    """
    passed_mark, failed_mark = _marks()

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
        if verbose and result.output.strip():
            print("      --- pytest output ---")
            for line in result.output.rstrip().splitlines():
                print(f"      | {line}")
            print(flush=True)

    _validate(topic)
    where = "the reference solution" if solutions else _exercise_dir(topic, dir, solutions) / f"{topic}.py"
    print(f"Checking {topic} exercises in {where}", flush=True)
    try:
        results = _run_checks(topic, dir, solutions=solutions, timeout=timeout, on_result=report)
    except FileProblem as problem:  # said once, here, rather than once per exercise
        first, *rest = str(problem).splitlines()
        print(f"  {failed_mark} {first}")
        for line in rest:
            print(f"      {line}")
        print(f"      {problem.advice}")
        print(f"0/{len(_exercises(topic))} exercises pass", flush=True)
        return False
    passed = sum(result.passed for result in results)
    print(f"{passed}/{len(results)} exercises pass", flush=True)
    return passed == len(results)
