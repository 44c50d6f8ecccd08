"""Time `companion check TOPIC` as a student runs it; prints a table, asserts nothing.

    python benchmarks/checks.py                  # every topic with exercises
    python benchmarks/checks.py --only cnn rnn   # some topics

For each topic, three student files: the untouched stubs, the reference solutions, and the
solutions with an endless loop in the last exercise (checked with `--timeout 5`, so that column
includes those 5 s). Run it on an idle machine: the numbers are wall-clock seconds.
"""

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LOOP_TIMEOUT = 5


def with_endless_loop(source, name):
    """The reference `source` with `while True: pass` at the start of the function `name`."""
    function = next(node for node in ast.parse(source).body
                    if isinstance(node, ast.FunctionDef) and node.name == name)
    lines = source.splitlines(keepends=True)
    after_docstring = function.body[0].end_lineno
    lines.insert(after_docstring, "    while True:\n        pass\n")
    return "".join(lines)


def seconds_to_check(topic, folder, *extra):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "companion", "check", topic, "--dir", str(folder), *extra],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def time_checks(topics):
    from companion import exercises

    solutions = Path(exercises.__file__).parent / "solutions"
    print(f"| topic | exercises | stubs | solutions | endless loop in one (--timeout {LOOP_TIMEOUT}) |")
    print("|---|---|---|---|---|")
    for topic in topics:
        listed = exercises._exercises(topic)
        last = listed[-1]  # no other exercise calls it, so only it loops
        source = (solutions / f"{topic}.py").read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as scratch:
            stubs, looping = Path(scratch) / "stubs", Path(scratch) / "loop"
            exercises.init(stubs, topic)
            looping.mkdir()
            (looping / f"{topic}.py").write_text(with_endless_loop(source, last.name), encoding="utf-8")
            times = [seconds_to_check(topic, stubs), seconds_to_check(topic, stubs, "--solutions"),
                     seconds_to_check(topic, looping, "--timeout", str(LOOP_TIMEOUT))]
        print(f"| {topic} | {len(listed)} | " + " | ".join(f"{t:.1f} s" for t in times)
              + f" ({last.number} {last.name}) |".replace(" (", " (in ", 1), flush=True)


if __name__ == "__main__":
    from companion import exercises

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="TOPIC", choices=exercises.topics(),
                        help="topics to time (default: all with exercises)")
    args = parser.parse_args()
    time_checks(args.only or exercises.topics())
