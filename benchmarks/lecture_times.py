"""Time each written lecture; prints ratios, asserts nothing.

    python benchmarks/lecture_times.py          # full lectures: seconds taken / seconds the lecture expects
    python benchmarks/lecture_times.py --fast   # fast mode: seconds taken, for the smoke runs

`benchmarks/recipes.py` compares each recipe (logistic regression against scikit-learn's among them)
with the plain Keras way and writes docs/benchmarks.md.
"""

import argparse
import contextlib
import io
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


def time_lectures(fast):
    import lectures
    from companion import catalog

    for topic in lectures.TOPICS:
        if not catalog.is_written(topic):
            continue
        lecture = catalog.load(topic)
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            run = lecture.run(fast=fast, out=out)
            seconds = time.perf_counter() - start
        landed = all(band.landed for band in run.bands)
        print(f"{topic:<20} {seconds:6.1f} s  ratio to expected {seconds / lecture.seconds:5.2f}"
              f"  {'landed' if landed or fast else 'missed its band'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    time_lectures(args.fast)
