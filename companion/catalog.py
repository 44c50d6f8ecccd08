"""Which lectures exist, read without importing them (so `companion list` answers without TensorFlow).

The one module of the toolkit that knows the `lectures` package: the commands find lectures here,
and the rest of `companion` (data, plots, devices, checkpoints, ...) never imports a lecture.
"""

import ast
import difflib
import importlib
from pathlib import Path

import lectures
from companion.errors import UserError

LECTURES_DIR = Path(lectures.__file__).parent
TOPICS = lectures.TOPICS  # every topic of the course, in teaching order


def written_topics():
    """The topics whose lecture is written, in teaching order."""
    return [topic for topic in TOPICS if is_written(topic)]


def require_topic(topic):
    """Return `topic` when it is a lecture topic, else raise a UserError that suggests the closest."""
    if topic in TOPICS:
        return topic
    close = difflib.get_close_matches(topic, TOPICS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UserError(
        f"Unknown topic {topic!r}.{hint} Expected one of: {', '.join(TOPICS)}. "
        "Run `companion list` to see the lectures and their steps."
    )


def is_written(topic):
    """True when the lecture module for `topic` exists yet."""
    return (LECTURES_DIR / f"{require_topic(topic)}.py").exists()


def _source(topic):
    """The parsed source of a written lecture (its module is not imported)."""
    return ast.parse((LECTURES_DIR / f"{topic}.py").read_text(encoding="utf-8"))


def _lecture_call(tree):
    """The `Lecture(...)` call of a lecture's source, or None."""
    return next((node for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Lecture"), None)


def summary(topic):
    """(title, number of steps) of a written lecture, read from its source with `ast`."""
    tree = _source(topic)
    call = _lecture_call(tree)
    title = call.args[1].value if call is not None and len(call.args) > 1 else topic
    steps = sum(_is_step_decorator(decorator) for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) for decorator in node.decorator_list)
    return title, steps


def datasets(topic):
    """The data sets a written lecture takes with --dataset (its `Lecture(..., datasets=...)`), read
    from its source with `ast`, so that a missing download is reported before Keras is imported."""
    from companion import datasets as downloadable

    call = _lecture_call(_source(topic))
    value = next((keyword.value for keyword in (call.keywords if call else ()) if keyword.arg == "datasets"),
                 None)
    names = []
    for element in value.elts if value is not None else ():  # "digits" or *datasets.IMAGE_DATASETS
        if isinstance(element, ast.Starred):
            names += getattr(downloadable, element.value.attr)
        else:
            names.append(element.value)
    return tuple(names)


def _is_step_decorator(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "step")


def require_written(topic):
    """Return `topic` when its lecture is written, else raise the UserError that says it is not."""
    if not is_written(topic):
        raise UserError(
            f"The lecture {topic!r} is not written yet. "
            f"Written lectures: {', '.join(written_topics())}."
        )
    return topic


def load(topic):
    """The `Lecture` object of a written lecture (imports its module, and with it Keras)."""
    return importlib.import_module(f"lectures.{require_written(topic)}").lecture
