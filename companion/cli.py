"""The `companion` command line: list, lecture, notebook, figures, exercises, check, info, data.

`--help`, `list` and `exercises init` answer without importing TensorFlow; the other commands
import it only once they know they need it.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading

from companion.errors import UserError
from companion.native_logs import import_keras_quietly

FORMATS = ("png", "svg", "pdf")
PRECISIONS = ("float32", "mixed")  # devices.PRECISIONS, here so that --help needs no import


def main(argv=None):
    """Entry point of the `companion` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ start-up chatter
    with _prompt_ctrl_c() as pressed:
        try:
            return _run(args)
        except Exception:
            if not pressed.is_set():
                raise
            # Ctrl-C landed inside TensorFlow or Keras, which turned it into another error
            print(f"\n{_interrupted_message(args)}", file=sys.stderr)
            return 130


def _run(args):
    try:
        return args.handler(args) or 0
    except UserError as error:
        print(f"companion: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `companion ... | head` closed the pipe: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"\n{_interrupted_message(args)}", file=sys.stderr)
        return 130


def _interrupted_message(args):
    hint = (" Run the same command again: a training stopped mid-way resumes from its last completed "
            "epoch." if getattr(args, "run_dir", None) else "")
    return f"companion: interrupted.{hint}"


@contextlib.contextmanager
def _prompt_ctrl_c(grace=1.5):
    """Ctrl-C ends the command within `grace` seconds with exit status 130.

    Python turns Ctrl-C into a KeyboardInterrupt in whatever code runs at that moment; when that is a
    weakref callback or a __del__ (Keras and TensorFlow run many), Python prints "Exception ignored"
    and carries on. So the handler also starts a timer that ends the process if the interrupt was
    swallowed. Only where Ctrl-C has Python's default handler (not in a thread, not when ignored).
    Yields an Event set once Ctrl-C was pressed.
    """
    pressed = threading.Event()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield pressed
        return

    finished = threading.Event()  # the command ended (and said so): the timer only ends the process

    def end_now():
        if not finished.is_set():
            print("\ncompanion: interrupted.", file=sys.stderr, flush=True)
        os._exit(130)

    def on_ctrl_c(signum, frame):
        pressed.set()
        timer = threading.Timer(grace, end_now)
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield pressed
    finally:
        finished.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)


EXIT_STATUSES = ("Exit status: 0 when every result landed in its lecture's expected band, 2 for a "
                 "user error, 3 when a run finished outside its band (named in the output), 130 "
                 "after Ctrl-C.")


def _parser():
    parser = argparse.ArgumentParser(
        prog="companion",
        description="Run the lectures of the deep-learning course, make their figures and "
        "notebooks, and check your exercises.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub = commands.add_parser("list", help="the lectures, one line each, with their step counts")
    sub.set_defaults(handler=_list)

    sub = commands.add_parser("lecture", help="run a lecture step by step", epilog=EXIT_STATUSES)
    sub.add_argument("topic", metavar="TOPIC")
    sub.add_argument("--step", type=int, metavar="N", help="run only step N")
    sub.add_argument("--fast", action="store_true", help="seconds-long smoke run of the same code")
    sub.add_argument("--out", default="figures", metavar="DIR", help="where figures go (figures/)")
    sub.add_argument("--format", choices=FORMATS, default="png", help="figure format (png)")
    sub.add_argument("--dataset", metavar="NAME", help="data set, for lectures that take one")
    sub.add_argument("--strategy", metavar="NAME", help="auto, default, mirrored or tpu")
    sub.add_argument("--precision", choices=PRECISIONS, default="float32",
                     help="float32, or mixed: Keras' mixed precision, for GPUs and TPUs (float32)")
    sub.add_argument("--run-dir", metavar="DIR", help="keep checkpoints here; re-run to resume")
    sub.add_argument("--seed", type=int, default=0, help="random seed (0)")
    sub.set_defaults(handler=_lecture)

    sub = commands.add_parser("notebook", help="write a Jupyter notebook of a lecture")
    sub.add_argument("topic", metavar="TOPIC")
    sub.add_argument("--out", metavar="FILE", help="notebook path (TOPIC.ipynb)")
    sub.add_argument("--install", metavar="SOURCE",
                     help="what the notebook's first cell pip-installs where the companion is missing, "
                          "e.g. on Colab: a git URL (git+https://...) or a wheel's URL (default: where "
                          "this companion was installed from, when that is a URL)")
    sub.set_defaults(handler=_notebook)

    sub = commands.add_parser("figures", help="make every figure of the course, with an index",
                              epilog=EXIT_STATUSES)
    sub.add_argument("topics", nargs="*", metavar="TOPIC", help="topics (all written lectures)")
    sub.add_argument("--out", default="figures", metavar="DIR", help="output folder (figures/)")
    sub.add_argument("--format", choices=FORMATS, default="png", help="figure format (png)")
    sub.add_argument("--fast", action="store_true", help="smoke run with tiny data and epochs")
    sub.add_argument("--seed", type=int, default=0, help="random seed (0)")
    sub.set_defaults(handler=_figures)

    sub = commands.add_parser("exercises", help="copy exercise stubs for you to fill in")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="write exercise stubs and their checks into DIR")
    init.add_argument("dir", metavar="DIR")
    init.add_argument("--topic", metavar="TOPIC", help="one topic (all topics with exercises)")
    init.set_defaults(handler=_exercises_init)

    sub = commands.add_parser("check", help="run the checks of a topic's exercises")
    sub.add_argument("topic", metavar="TOPIC")
    sub.add_argument("--dir", default=".", metavar="DIR", help="folder with your TOPIC.py (.)")
    sub.add_argument("--solutions", action="store_true", help="check the reference solutions")
    sub.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")
    sub.add_argument("--timeout", type=float, default=60, metavar="S",
                     help="seconds each exercise may run before it counts as failed, not counting the "
                          "first import of TensorFlow (default: 60)")
    sub.set_defaults(handler=_check)

    sub = commands.add_parser("info", help="versions, devices, strategy, data cache")
    sub.set_defaults(handler=_info)

    sub = commands.add_parser("data", help="list or pre-fetch the downloadable data sets")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="data sets and whether they are cached").set_defaults(
        handler=_data_list)
    fetch = actions.add_parser("fetch", help="download a data set into the cache (needs network)")
    fetch.add_argument("name", metavar="NAME")
    fetch.set_defaults(handler=_data_fetch)
    return parser


def _list(args):
    from companion import catalog

    for topic in catalog.TOPICS:
        if catalog.is_written(topic):
            title, steps = catalog.summary(topic)
            print(f"{topic:<20} {steps:>2} steps  {title}")
        else:
            print(f"{topic:<20}  - steps  (not written yet)")


def _lecture(args):
    from companion import catalog
    from companion.devices import STRATEGIES, get_strategy

    catalog.require_topic(args.topic)
    if args.strategy is not None and args.strategy not in STRATEGIES:
        get_strategy(args.strategy)  # the clear error, before the seconds-long import of TensorFlow
    if catalog.is_written(args.topic) and args.step is not None:
        _, steps = catalog.summary(args.topic)
        if not 1 <= args.step <= steps:
            raise UserError(
                f"Expected --step between 1 and {steps} for {args.topic}. Received: --step {args.step}. "
                "Run `companion list` to see each lecture's steps.")
    if catalog.is_written(args.topic) and args.dataset in catalog.datasets(args.topic):
        from companion import datasets

        if args.dataset in datasets.DATASETS:
            datasets.require(args.dataset, files_only=True)  # not downloaded: say so before Keras
    import_keras_quietly()
    lecture = catalog.load(args.topic)
    strategy = None if args.strategy is None else get_strategy(args.strategy)
    run = lecture.run(step=args.step, fast=args.fast or None, seed=args.seed, out=args.out,
                      format=args.format, strategy=strategy, precision=args.precision, dataset=args.dataset,
                      run_dir=args.run_dir)
    return 0 if run.in_band else 3


def _notebook(args):
    from companion import catalog, notebook

    catalog.require_written(args.topic)
    path = notebook.write(args.topic, args.out or f"{args.topic}.ipynb", install=args.install)
    print(f"wrote {path}")


def _figures(args):
    from companion import catalog, figures

    for topic in args.topics:
        catalog.require_written(topic)  # a clear error before the import of Keras
    import_keras_quietly()
    index, runs = figures.make(args.topics, out=args.out, format=args.format, fast=args.fast or None,
                               seed=args.seed)
    print(f"wrote {index}")
    missed = [run.topic for run in runs if not run.in_band]
    if missed:
        print(f"outside the expected band: {', '.join(missed)}")
    return 3 if missed else 0


def _exercises_init(args):
    from companion import exercises

    for path in exercises.init(args.dir, topic=args.topic):
        print(f"wrote {path}")
    topic = args.topic or "TOPIC"  # without --topic, every written topic's stubs were copied
    print(f"Fill in the functions, then run: companion check {topic} --dir {args.dir}")


def _check(args):
    from companion import exercises

    if not args.timeout > 0:
        raise UserError("Expected --timeout to be a number of seconds > 0. "
                        f"Received: --timeout {args.timeout:g}.")
    return 0 if exercises.check(args.topic, dir=args.dir, solutions=args.solutions,
                                verbose=args.verbose, timeout=args.timeout) else 1


def _info(args):
    import platform

    import_keras_quietly()
    import keras
    import tensorflow as tf

    from companion import GPU_MEMORY_VARIABLES, __version__, devices

    print(f"companion {__version__}, Python {platform.python_version()}, "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__} ({keras.backend.backend()} backend)")
    for kind, names in devices.device_report():
        print(f"{kind}: {len(names)} {'(' + ', '.join(names) + ')' if names else ''}")
    print(f"--precision mixed uses: {devices.mixed_policy_name()}")
    print("GPU memory: taken as needed, not all at start ("
          + ", ".join(f"{name}={os.environ.get(name)}" for name in GPU_MEMORY_VARIABLES) + ")")
    if keras.backend.backend() == "tensorflow":
        print(f"--strategy auto picks: {devices.auto_strategy_name()}")
    else:  # tf.distribute strategies do not apply to another backend
        print(f"--strategy: tf.distribute strategies need the tensorflow backend; several machines: "
              f"companion.devices.multiworker() ({', '.join(devices.CLUSTER_VARIABLES)})")
    _data_list(args)


def _data_list(args):
    from companion import datasets

    import_keras_quietly()  # tensorflow-datasets loads TensorFlow
    print(f"data cache: {datasets.data_dir()}")
    print(f"  {'digits':<18} cached (bundled with scikit-learn, offline default)")
    for name, description, cached in datasets.cache_report():
        state = "cached" if cached else "not cached: companion data fetch " + name
        print(f"  {name:<18} {state}  ({description})")


def _data_fetch(args):
    from companion import datasets

    if args.name.strip().lower() == "digits":
        print("digits is bundled with scikit-learn (the offline default): nothing to fetch.")
        return 0
    import_keras_quietly()  # tensorflow-datasets loads TensorFlow
    print(f"{args.name} is in the cache: {datasets.fetch(args.name)}")


if __name__ == "__main__":
    sys.exit(main())
