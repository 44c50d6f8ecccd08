"""Time each written lecture and the logistic regression recipe; prints ratios, asserts nothing.

    python benchmarks/lectures.py          # full lectures: seconds taken / seconds the lecture expects
    python benchmarks/lectures.py --fast   # fast mode: seconds taken, for the smoke runs

Also times `logistic_regression.train` against scikit-learn's LogisticRegression on the same data.
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


def time_logistic_regression():
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from lectures.logistic_regression import train

    x, target = load_diabetes(return_X_y=True)
    x, y = StandardScaler().fit_transform(x).astype("float32"), (target > np.median(target)).astype(int)
    start = time.perf_counter()
    train(x, y)
    keras_seconds = time.perf_counter() - start
    start = time.perf_counter()
    LogisticRegression(C=np.inf, max_iter=10_000).fit(x, y)
    sklearn_seconds = time.perf_counter() - start
    print(f"logistic_regression.train {keras_seconds:.2f} s, scikit-learn {sklearn_seconds:.3f} s, "
          f"ratio {keras_seconds / sklearn_seconds:.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    time_lectures(args.fast)
    time_logistic_regression()
