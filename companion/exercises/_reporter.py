"""The pytest plugin inside a `companion check` process: it tells the parent what happens, as it happens.

`companion check` starts one pytest process for all of a topic's exercises (`-p
companion.exercises._reporter`), so that TensorFlow is imported once. This plugin writes one JSON
line per event to the file named by COMPANION_CHECK_EVENTS, flushed at once, for the parent to read
while the process runs:

- {"event": "importing"}: the student's file is imported once, before any exercise; its clock runs.
- {"event": "file", "problem": ..., "where": ...}: the student's file does not import (said once);
  the process then stops.
- {"event": "start", "test": ...}: an exercise's check starts; its clock runs.
- {"event": "loading"} / {"event": "loaded"}: TensorFlow (or Keras, JAX) is being imported for the
  first time; the parent stops the exercise's clock meanwhile, so that `--timeout` limits the
  student's code, not the library's import.
- {"event": "result", "test": ..., "outcome": ..., "message": ..., "details": ..., "output": ...}.

When an exercise runs past its time, Python's faulthandler writes where it stands into the file
COMPANION_CHECK_TRACEBACK (a crash writes its traceback there too), and the parent stops the
process: it names that line, and checks the exercises left in a fresh process.
"""

import builtins
import faulthandler
import json
import os
import sys
import time
import traceback

import pytest

from companion.exercises._loader import ENV_VAR, EVENTS, TIMEOUT, TOPIC, TRACEBACK, execute_exercises

HEAVY = ("tensorflow", "keras", "jax")  # imports that take seconds, not counted against the student


class Reporter:
    """Writes the events; keeps the faulthandler alarm in step with the exercise's own running time."""

    def __init__(self, events, traceback_file, timeout):
        self.events = events
        self.traceback_file = traceback_file
        self.dump_after = max(timeout / 2, timeout - 2)  # before the parent stops the process
        self.armed_at = None  # when the alarm was set, None while not running
        self.left = self.dump_after
        self.outcome = None  # the current test's whole exception ("AssertionError: ..."), None if passed

    def send(self, **event):
        self.events.write(json.dumps(event) + "\n")
        self.events.flush()

    def arm(self, seconds):
        self.armed_at, self.left = time.monotonic(), seconds
        faulthandler.dump_traceback_later(max(seconds, 0.05), file=self.traceback_file)

    def pause(self):
        if self.armed_at is not None:
            faulthandler.cancel_dump_traceback_later()
            self.left -= time.monotonic() - self.armed_at
            self.armed_at = None
            return True
        return False

    def stop(self):
        faulthandler.cancel_dump_traceback_later()
        self.armed_at = None

    # --- pytest hooks ---

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session):
        """Import the student's file once, before any exercise: a file that does not import is
        reported once, with its line, rather than once per exercise."""
        topic = os.environ[TOPIC]
        path = os.path.join(os.environ[ENV_VAR], f"{topic}.py")
        self.send(event="importing")
        self.arm(self.dump_after)
        try:
            execute_exercises(topic, path)
        except Exception as error:  # the student's module-level code, anything can happen
            frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                      if os.path.abspath(frame.filename) == os.path.abspath(path)]
            where = f"{topic}.py line {frames[-1].lineno}" if frames else None
            self.send(event="file", problem=f"{type(error).__name__}: {error}", where=where)
            pytest.exit("the exercise file does not import", returncode=3)
        finally:
            self.stop()

    def pytest_runtest_logstart(self, nodeid, location):
        self.outcome = None
        self.send(event="start", test=nodeid.rpartition("::")[2])
        self.arm(self.dump_after)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is not None and report.failed and self.outcome is None:
            # the whole exception, however long (pytest's own summaries shorten it)
            self.outcome = call.excinfo.exconly()

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "skipped" if report.skipped else "passed" if report.passed else "failed"
            message = self.outcome or ""
            if report.skipped and isinstance(report.longrepr, tuple):
                message = report.longrepr[2]
            output = "\n".join(f"--- {name} ---\n{text}" for name, text in report.sections)
            self.send(event="result", test=report.nodeid.rpartition("::")[2], outcome=outcome,
                      message=message, details=report.longreprtext if report.failed else "",
                      output=output, seconds=report.duration)

    def pytest_runtest_logfinish(self, nodeid, location):
        self.stop()


def _watch_heavy_imports(reporter):
    """Tell the parent when a heavy library starts and ends its first import, and pause the alarm."""
    original = builtins.__import__

    def watching(name, *args, **kwargs):
        top = name.partition(".")[0]
        if top not in HEAVY or top in _loaded or top in sys.modules:
            return original(name, *args, **kwargs)
        _loaded.add(top)
        paused = reporter.pause()
        reporter.send(event="loading", module=top)
        try:
            return original(name, *args, **kwargs)
        finally:
            reporter.send(event="loaded", module=top)
            if paused:
                reporter.arm(reporter.left)

    _loaded = set()
    builtins.__import__ = watching


def pytest_configure(config):
    if EVENTS not in os.environ:
        return  # plain pytest: nothing to report to
    events = open(os.environ[EVENTS], "a", encoding="utf-8")  # noqa: SIM115 (open for the whole run)
    traceback_file = open(os.environ[TRACEBACK], "w", encoding="utf-8")  # noqa: SIM115
    faulthandler.enable(file=traceback_file)  # a crash says where it happened
    reporter = Reporter(events, traceback_file, float(os.environ.get(TIMEOUT, "60")))
    _watch_heavy_imports(reporter)
    config.pluginmanager.register(reporter, "companion-reporter")
