"""Shared test set-up: headless matplotlib, quiet TensorFlow, and a fast lecture run shared by tests."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fast_logistic_regression_run(tmp_path_factory):
    """The whole logistic regression lecture, run once in fast mode: (Run, printed output)."""
    import contextlib
    import io

    from companion import catalog

    out = tmp_path_factory.mktemp("figures")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = catalog.load("logistic_regression").run(fast=True, out=out)
    return run, printed.getvalue()
