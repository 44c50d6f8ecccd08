"""Load the exercise module under test, called by the check files inside each test.

The module `<topic>.py` comes from the folder in the environment variable COMPANION_EXERCISES_DIR
when it is set (that is how `companion check` points the packaged checks at a student's folder or at
the reference solutions), else from the folder of the check file itself (so that plain `pytest` in
a folder written by `companion exercises init` checks that folder's file).

It is loaded afresh on every call, from source (no bytecode cache that could be stale after a quick
edit), so that a syntax error fails each exercise with a clear message instead of stopping the
whole test collection.
"""

import os
import sys
import types
from pathlib import Path

ENV_VAR = "COMPANION_EXERCISES_DIR"
# How `companion check` talks with the pytest process it starts (see _reporter): the files it
# reads events and tracebacks from, the time limit per exercise, the topic.
EVENTS = "COMPANION_CHECK_EVENTS"
TRACEBACK = "COMPANION_CHECK_TRACEBACK"
TIMEOUT = "COMPANION_CHECK_TIMEOUT"
TOPIC = "COMPANION_CHECK_TOPIC"


def exercise_path(topic, check_file):
    """The path of `<topic>.py` that the check file `check_file` should test."""
    folder = os.environ.get(ENV_VAR) or Path(check_file).resolve().parent
    return Path(folder) / f"{topic}.py"


def execute_exercises(topic, path):
    """Execute the file at `path` as a fresh module named `topic` (registered in sys.modules) and
    return it; a SyntaxError, or whatever its module-level code raises, propagates."""
    code = compile(Path(path).read_text(encoding="utf-8"), str(path), "exec")
    module = types.ModuleType(topic)
    module.__file__ = str(path)
    sys.modules[topic] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        del sys.modules[topic]
        raise
    return module


def load_exercises(topic, check_file):
    """Execute `<topic>.py` (see `exercise_path`) as a fresh module named `topic` and return it."""
    import pytest

    path = exercise_path(topic, check_file)
    if not path.is_file():
        pytest.fail(
            f"No exercise file {path}. Write it with "
            f"`companion exercises init DIR --topic {topic}`.",
            pytrace=False,
        )
    try:
        return execute_exercises(topic, path)
    except SyntaxError as error:
        pytest.fail(
            f"{path.name} does not compile: {error.msg} (line {error.lineno}): "
            f"{(error.text or '').strip()}",
            pytrace=False,
        )
    except Exception as error:  # an error at import time, not inside an exercise function
        pytest.fail(
            f"Importing {path.name} raised {type(error).__name__}: {error}", pytrace=False
        )
