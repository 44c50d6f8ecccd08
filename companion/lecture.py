"""The lecture runner: a lecture is an ordered list of steps, a `Run` carries the options of one run.

A lecture module creates one `Lecture` and registers its steps in teaching order:

    lecture = Lecture("logistic_regression", "Logistic regression",
                      expected="gradient descent reaches scikit-learn's fit", seconds=30)

    @lecture.step("The logistic function")
    def logistic_function(run):
        '''The narrative of the slide, in plain words.'''
        ...
        run.report("p at z = 0", sigmoid(0.0))
        run.figure(fig, "sigmoid", "The logistic function and its log-odds.")

A step receives the `Run` and shows its results through it (`report`, `expect`, `figure`); it does
not return anything, so that its body also reads as a notebook cell (see `companion.notebook`).
Steps are self-contained, so that `--step N` can run any one of them alone.
"""

import os
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from companion.errors import UserError

FAST_ENVIRONMENT_VARIABLE = "COMPANION_FAST"


@dataclass
class Step:
    """One step of a lecture: a numbered title, and a function whose docstring is the narrative."""

    number: int
    title: str
    function: object

    @property
    def narrative(self):
        return textwrap.dedent(self.function.__doc__ or "").strip()


class Figure(NamedTuple):
    """A figure a step wrote: where, its caption, and the title of the step that drew it."""

    path: Path
    caption: str
    step: str


@dataclass
class Band:
    """An expected result: `value` should be at least `at_least` and/or at most `at_most`."""

    label: str
    value: float
    at_least: float | None = None
    at_most: float | None = None

    @property
    def landed(self):
        low_ok = self.at_least is None or self.value >= self.at_least
        high_ok = self.at_most is None or self.value <= self.at_most
        return low_ok and high_ok

    def __str__(self):
        bounds = []
        if self.at_least is not None:
            bounds.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            bounds.append(f"<= {self.at_most:g}")
        return f"{self.label} = {_format(self.value)} (expected {' and '.join(bounds)})"


def fast_from_environment():
    """True when COMPANION_FAST=1 asks notebooks and scripts for the seconds-long smoke version."""
    return os.environ.get(FAST_ENVIRONMENT_VARIABLE, "").strip().lower() in ("1", "true", "yes")


@dataclass
class Run:
    """The options of one run of a lecture, and what its steps showed (reports, bands, figures).

    `fast` runs the same code on tiny data and few epochs; `out` is where figures go; `run_dir`
    (optional) keeps training checkpoints so that an interrupted run resumes where it stopped.
    """

    topic: str
    fast: bool | None = None
    seed: int = 0
    out: Path | str = "figures"
    format: str = "png"
    strategy: object = None
    precision: str | None = None  # "mixed": Keras' mixed precision policy while the steps run
    dataset: str | None = None
    run_dir: Path | str | None = None
    in_band: bool = True  # set at the end of the run: False when it missed its expected band
    notebook: bool = False
    bands: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    step: str = ""  # the title of the step running now
    kept: dict = field(default_factory=dict)  # what `once` computed, by name

    def __post_init__(self):
        if self.fast is None:
            self.fast = fast_from_environment()
        self.out = Path(self.out)
        self.run_dir = Path(self.run_dir) if self.run_dir is not None else None
        from companion import plots

        plots.use_style()
        if self.notebook:
            self._seed_before_each_cell()

    def _seed_before_each_cell(self):
        """In Jupyter, re-seed before every cell, as `Lecture.run` does before every step, so a
        notebook shows the same numbers as the command line."""
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is not None:
            from companion.seeding import set_seed

            shell.events.register("pre_run_cell", lambda *_: set_seed(self.seed))

    def report(self, label, value):
        """Print one result of the step: `label: value`."""
        _say(f"{label}: {_format(value)}", indent=4)

    def expect(self, label, value, *, at_least=None, at_most=None):
        """Print a result together with the band the lecture expects it in; returns whether it landed."""
        band = Band(label, float(value), at_least, at_most)
        self.bands.append(band)
        if self.fast:  # a smoke run is not meant to reach the band: no verdict, only what a full run expects
            _say(f"· {str(band).replace('(expected', '(a full run expects')}", indent=4)
        else:
            _say(f"{'✓' if band.landed else '✗'} {band}", indent=4)
        return band.landed

    def figure(self, fig, name, caption):
        """Save `fig` as out/<topic>/<name>.<format>, print its path, and remember its caption.
        Course figures are slide-sized (`plots.check_slide_size`), so their text reads alike on slides."""
        from companion import plots

        plots.check_slide_size(fig)
        path = plots.save_figure(fig, self.out / self.topic / f"{name}.{self.format}")
        self.figures.append(Figure(path, caption, self.step))
        _say(f"figure: {path}", indent=4)
        if not self.notebook:
            import matplotlib.pyplot as plt

            plt.close(fig)
        return path

    def once(self, name, make):
        """`make()` the first time a step of this run asks for `name`, the same value after: a model
        one step trains and later steps look at belongs to the run, not to the module."""
        if name not in self.kept:
            self.kept[name] = make()
        return self.kept[name]

    def callbacks(self, name, keep=()):
        """Keras callbacks for the training run called `name`: with a run directory, a checkpoint
        every epoch (`companion.checkpoints.Checkpoint`, Keras' BackupAndRestore with safe writes)
        so that the same command re-run after Ctrl-C or a kill resumes from the last completed
        epoch, and a training that had finished is read back instead of trained again. `keep`:
        callbacks whose `records` (what they noted during training) are checkpointed too. The
        checkpoints of different data, seeds and fast mode are kept apart."""
        if self.run_dir is None:
            return []
        from companion.checkpoints import Checkpoint

        configuration = f"{self.dataset or 'default'}-seed{self.seed}" + ("-fast" if self.fast else "")
        checkpoint = Checkpoint(self.run_dir / self.topic / configuration / name, keep=keep)
        epoch = checkpoint.saved_epoch()
        if checkpoint.finished():
            _say(f"'{name}' was trained by an earlier run: its weights and curves are read back from "
                 f"{checkpoint.backup_dir}", indent=4)
        elif epoch is not None:
            _say(f"resuming '{name}' from the checkpoint after epoch {epoch} in {checkpoint.backup_dir}",
                 indent=4)
        return [checkpoint]


class Lecture:
    """A lecture: its topic, its steps in teaching order, and the result a full run should land in.

    `expected` says in words what a full run shows; the numbers of its band are stated once, in the
    steps' `run.expect(...)` calls, which print each result with its bounds.
    """

    def __init__(self, topic, title, *, expected, seconds, datasets=()):
        self.topic = topic
        self.datasets = tuple(datasets)
        self.title = title
        self.expected = expected
        self.seconds = seconds
        self.steps = []

    def step(self, title):
        """Decorator that registers the next step of the lecture under `title`."""

        def register(function):
            self.steps.append(Step(len(self.steps) + 1, title, function))
            return function

        return register

    def run(self, *, step=None, fast=None, seed=0, out="figures", format="png", strategy=None,
            precision=None, dataset=None, run_dir=None):
        """Run all steps (or only step number `step`) in order, printing each one; returns the Run."""
        steps = self._select(step)
        self._check_dataset(dataset)
        run = Run(self.topic, fast=fast, seed=seed, out=out, format=format, strategy=strategy,
                  precision=precision, dataset=dataset, run_dir=run_dir)
        mode = " (fast smoke run)" if run.fast else ""
        _say(f"{self.title}: {len(self.steps)} steps{mode}")
        _say(f"Expected: {self.expected}; about {self.seconds} s on a 2-core CPU.", indent=2)
        if strategy is not None:
            from companion.devices import replicas

            _say(f"Strategy: {type(strategy).__name__} with {replicas(strategy)} replica(s); each replica "
                 f"trains on the recipe's batch size, so every step takes {replicas(strategy)} × that many "
                 "examples.", indent=2, wrap=True)
        from companion.devices import training_precision

        with training_precision(run.precision) as policy:
            if run.precision == "mixed":
                _say(f"Precision: {policy} for the trainings: their layers compute in "
                     f"{policy.removeprefix('mixed_')} on float32 weights, and their outputs stay float32 "
                     "(faster on GPUs and TPUs; numbers may differ slightly from float32).",
                     indent=2, wrap=True)
            self._run_steps(run, steps)
        return run

    def _run_steps(self, run, steps):
        start = time.perf_counter()
        for s in steps:
            _say("")
            _say(f"[{s.number}/{len(self.steps)}] {s.title}")
            for paragraph in s.narrative.split("\n\n"):
                _say(" ".join(paragraph.split()), indent=2, wrap=True)
            from companion.seeding import set_seed

            set_seed(run.seed)
            run.step = f"{s.number}. {s.title}"
            step_start = time.perf_counter()
            s.function(run)
            _say(f"({time.perf_counter() - step_start:.1f} s)", indent=4)
        self._summarise(run, steps, time.perf_counter() - start)
        if run.run_dir is not None:
            _say(f"The trainings of this run are kept in {run.run_dir}: the same command reads them back "
                 "instead of training again. Delete that folder to train afresh.", indent=2, wrap=True)

    def _select(self, step):
        if step is None:
            return self.steps
        if not 1 <= step <= len(self.steps):
            raise UserError(
                f"Expected --step between 1 and {len(self.steps)} for {self.topic}. "
                f"Received: --step {step}. Run `companion list` to see each lecture's steps."
            )
        return [self.steps[step - 1]]

    def _check_dataset(self, dataset):
        if dataset in self.datasets:
            from companion import datasets

            if dataset in datasets.DATASETS:
                datasets.require(dataset)  # missing offline: say so now, not after the first steps
            return
        if dataset is None:
            return
        if not self.datasets:
            raise UserError(
                f"The lecture {self.topic} uses its own generated data and takes no --dataset. "
                f"Received: --dataset {dataset}. Run it without --dataset."
            )
        raise UserError(
            f"Expected --dataset to be one of {', '.join(self.datasets)} for {self.topic}. "
            f"Received: --dataset {dataset}."
        )

    def _summarise(self, run, steps, seconds):
        """Print how the run went and set `run.in_band`: False when a number or the time fell
        outside the band the lecture expects (the command then exits with status 3)."""
        _say("")
        _say(f"Done: {len(steps)} step(s) in {seconds:.1f} s (expected about {self.seconds} s "
             "for the whole lecture on a 2-core CPU).")
        if run.fast:
            _say("Fast mode is a smoke run: its numbers are not expected to land in the band.", indent=2)
            return
        if not run.bands:
            return
        missed = [band for band in run.bands if not band.landed]
        # The time is a band for the whole lecture run as stated: on a 2-core CPU without a strategy
        # (a tf.distribute strategy on a CPU only adds overhead; on accelerators it is another machine).
        timed = len(steps) == len(self.steps) and run.strategy is None
        in_time = not timed or seconds <= 2 * self.seconds
        run.in_band = not missed and in_time
        if run.in_band:
            _say(f"Result: landed in the expected band ({self.expected}): all {len(run.bands)} results "
                 f"marked ✓ above{', in the expected time' if timed else ''}.", indent=2)
        else:
            for band in missed:
                _say(f"Missed: {band}", indent=2)
            if not in_time:
                _say(f"Slow: {seconds:.0f} s, more than twice the expected {self.seconds} s.", indent=2)
            _say("Result: outside the expected band.", indent=2)


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _say(text, *, indent=0, wrap=False):
    prefix = " " * indent
    if wrap:
        text = textwrap.fill(text, width=100, initial_indent=prefix, subsequent_indent=prefix)
    else:
        text = prefix + text
    print(text, flush=True, file=sys.stdout)
