"""Shared test set-up: headless matplotlib, quiet TensorFlow, and a fast lecture run shared by tests."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


def run_lecture(topic, **options):
    """Run the lecture `topic` with its printed output captured: (Run, printed output)."""
    import contextlib
    import io

    from companion import catalog

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = catalog.load(topic).run(**options)
    return run, printed.getvalue()


@pytest.fixture(scope="module")
def fast_run(request, tmp_path_factory):
    """The whole lecture named by the test module's TOPIC, run once in fast mode: (Run, printed output)."""
    return run_lecture(request.module.TOPIC, fast=True, out=tmp_path_factory.mktemp("figures"))


@pytest.fixture(scope="session")
def fast_logistic_regression_run(tmp_path_factory):
    """The whole logistic regression lecture, run once in fast mode: (Run, printed output)."""
    return run_lecture("logistic_regression", fast=True, out=tmp_path_factory.mktemp("figures"))
