"""Notebook export runs top to bottom; the figure gallery is indexed and repeatable; runs resume."""

import ast
import contextlib
import inspect
import io
import json

import nbformat
import pytest

import lectures
from companion import catalog, notebook
from companion.cli import main

WRITTEN = [topic for topic in lectures.TOPICS if catalog.is_written(topic)]


@pytest.mark.parametrize("topic", WRITTEN)
def test_step_bodies_are_notebook_cells(topic):
    """Steps report through `run` and never `return`, so their bodies run as top-level cells."""
    for step in catalog.load(topic).steps:
        tree = ast.parse(inspect.getsource(step.function))
        assert not any(isinstance(node, ast.Return) for node in ast.walk(tree)), step.title


@pytest.mark.parametrize("topic", WRITTEN)
def test_every_notebook_has_each_step_and_compiles(topic):
    nb = notebook.build(topic)
    titles = [c.source.partition("\n")[0] for c in nb.cells if c.cell_type == "markdown"]
    steps = catalog.load(topic).steps
    assert titles[1:] == [f"## {s.number}. {s.title}" for s in steps]
    for cell in nb.cells:
        if cell.cell_type == "code":
            source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
            compile(source, f"<{topic} notebook cell>", "exec")  # e.g. no `return` outside a function


@pytest.mark.parametrize(
    "topic", [t if t == "logistic_regression" else pytest.param(t, marks=pytest.mark.slow) for t in WRITTEN])
def test_notebook_runs_top_to_bottom(topic, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = notebook.build(topic)
    # two extra cells: the Run re-seeds before every cell, as `Lecture.run` does before every step
    nb.cells += [nbformat.v4.new_code_cell("import numpy as np\nfirst = np.random.rand()"),
                 nbformat.v4.new_code_cell("print('same draw:', np.random.rand() == first)")]
    monkeypatch.setenv("COMPANION_FAST", "1")
    monkeypatch.chdir(tmp_path)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # figures show inline
    assert any((tmp_path / "figures" / topic).iterdir())  # and are saved too
    assert nb.cells[-1].outputs[0]["text"].strip() == "same draw: True"


def test_logistic_regression_notebook_shows_the_keras_code(tmp_path):
    path = notebook.write("logistic_regression", tmp_path / "lr.ipynb")
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert markdown[0].startswith("# Logistic regression")
    assert sum(s.startswith("## ") for s in markdown) == 7
    assert 'keras.layers.Dense(1, activation="sigmoid"' in code  # the Keras code itself
    assert "@lecture.step" not in code and "def regression_vs_classification" not in code


def test_figures_are_indexed_and_identical_for_the_same_seed(fast_logistic_regression_run, tmp_path):
    """`companion figures` redraws the lecture's figures byte for byte, and indexes each one."""
    lecture_run, _ = fast_logistic_regression_run
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["figures", "logistic_regression", "--fast", "--out", str(tmp_path)]) == 0
    index = (tmp_path / "index.md").read_text()
    assert len(lecture_run.figures) == 7
    for path, caption, step in lecture_run.figures:
        redrawn = tmp_path / "logistic_regression" / path.name
        assert redrawn.read_bytes() == path.read_bytes(), path.name
        assert f"](logistic_regression/{path.name})" in index
        assert caption in index and f"(step {step})" in index


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    import keras

    from companion.lecture import Run

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 4:
                raise KeyboardInterrupt

    lecture = catalog.load("logistic_regression")
    original = Run.callbacks
    monkeypatch.setattr(Run, "callbacks",
                        lambda self, name, keep=(): original(self, name, keep) + [Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        lecture.run(step=5, fast=True, out=tmp_path / "figures", run_dir=tmp_path / "run")
    metadata = tmp_path / "run" / "logistic_regression" / "default-seed0-fast" / "keras_sgd"
    metadata = metadata / "training_metadata.json"
    assert json.loads(metadata.read_text())["epoch"] == 5

    monkeypatch.setattr(Run, "callbacks", original)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = lecture.run(step=5, fast=True, out=tmp_path / "figures", run_dir=tmp_path / "run")
    assert "resuming 'keras_sgd' from the checkpoint after epoch 5" in printed.getvalue()
    assert all(band.landed for band in run.bands)  # same weights as uninterrupted gradient descent



def test_a_helper_sits_in_the_cell_of_the_step_that_introduces_it():
    """Code between two steps opens the next step's cell: step 9's residual block sits under step 9's
    heading, not at the end of step 8."""
    from companion import notebook

    cells = notebook.build("cnn").cells
    sections = {}
    for heading, code in zip(cells, cells[1:]):
        if heading.cell_type == "markdown" and heading.source.startswith("## "):
            sections[heading.source.split(".")[0].removeprefix("## ")] = code.source
    assert sections["9"].startswith("def residual_block(")
    assert "def residual_block(" not in sections["8"]
    assert sections["2"].startswith("def conv2d(")


def run_install_cell(cell, installed):
    """Run a notebook's install cell where the companion is (not) installed; returns pip's calls."""
    import importlib.util
    import subprocess
    from unittest import mock

    calls = []
    with mock.patch.object(importlib.util, "find_spec", lambda name: object() if installed else None), \
            mock.patch.object(subprocess, "run", lambda command, **options: calls.append(command)):
        exec(compile(cell.source, "<install cell>", "exec"), {})
    return calls


def test_the_first_code_cell_installs_the_companion_only_where_it_is_missing(tmp_path):
    source = "git+https://example.org/course/companion@v1"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["notebook", "xor", "--out", str(tmp_path / "xor.ipynb"), "--install", source]) == 0
    nb = nbformat.read(tmp_path / "xor.ipynb", as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# XOR")
    install = nb.cells[1]
    [pip] = run_install_cell(install, installed=False)
    assert pip[1:] == ["-m", "pip", "install", "--quiet", source]
    assert run_install_cell(install, installed=True) == []
    imports = nb.cells[2].source
    assert "import keras\n" in imports and "from companion.lecture import Lecture" not in imports  # unused


def test_a_notebook_made_from_a_local_copy_says_how_to_install_the_companion(monkeypatch):
    monkeypatch.setattr(notebook, "install_source", lambda: None)
    install = notebook.build("xor").cells[1]
    assert run_install_cell(install, installed=True) == []
    with pytest.raises(ModuleNotFoundError, match="--install SOURCE"):
        run_install_cell(install, installed=False)


@pytest.mark.parametrize("origin, expected", [
    ({"url": "https://github.com/o/companion", "vcs_info": {"vcs": "git", "commit_id": "abc123"}},
     "git+https://github.com/o/companion@abc123"),
    ({"url": "https://example.org/companion-0.1.0-py3-none-any.whl", "archive_info": {}},
     "https://example.org/companion-0.1.0-py3-none-any.whl"),
    ({"url": "file:///home/me/companion", "dir_info": {"editable": True}}, None),
    (None, "companion==0.1.0"),  # from a package index: no direct_url.json
])
def test_the_install_source_is_where_this_companion_came_from(monkeypatch, origin, expected):
    from types import SimpleNamespace

    distribution = SimpleNamespace(_path="site-packages/companion-0.1.0.dist-info", version="0.1.0",
                                   read_text=lambda name: json.dumps(origin) if origin else None)
    monkeypatch.setattr(notebook.metadata, "distributions", lambda name: [distribution])
    assert notebook.install_source() == expected
