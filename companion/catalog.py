"""Which lectures exist, read without importing them (so `companion list` answers without TensorFlow)."""

import ast
import difflib
import importlib
from pathlib import Path

import lectures
from companion.errors import UserError

LECTURES_DIR = Path(lectures.__file__).parent


def require_topic(topic):
    """Return `topic` when it is a lecture topic, else raise a UserError that suggests the closest."""
    if topic in lectures.TOPICS:
        return topic
    close = difflib.get_close_matches(topic, lectures.TOPICS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UserError(
        f"Unknown topic {topic!r}.{hint} Expected one of: {', '.join(lectures.TOPICS)}. "
        "Run `companion list` to see the lectures and their steps."
    )


def is_written(topic):
    """True when the lecture module for `topic` exists yet."""
    return (LECTURES_DIR / f"{require_topic(topic)}.py").exists()


def summary(topic):
    """(title, number of steps) of a written lecture, read from its source with `ast`."""
    tree = ast.parse((LECTURES_DIR / f"{topic}.py").read_text(encoding="utf-8"))
    title, steps = topic, 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Lecture":
            title = node.args[1].value if len(node.args) > 1 else title
        if isinstance(node, ast.FunctionDef):
            steps += sum(_is_step_decorator(d) for d in node.decorator_list)
    return title, steps


def datasets(topic):
    """The data sets a written lecture takes with --dataset (its `Lecture(..., datasets=...)`), read
    from its source with `ast`, so that a missing download is reported before Keras is imported."""
    from companion import datasets as downloadable

    tree = ast.parse((LECTURES_DIR / f"{topic}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Lecture":
            for keyword in node.keywords:
                if keyword.arg == "datasets":
                    names = []
                    for element in keyword.value.elts:  # "digits" or *datasets.IMAGE_DATASETS
                        if isinstance(element, ast.Starred):
                            names += getattr(downloadable, element.value.attr)
                        else:
                            names.append(element.value)
                    return tuple(names)
    return ()


def _is_step_decorator(node):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "step")


def load(topic):
    """The `Lecture` object of a written lecture (imports its module, and with it Keras)."""
    if not is_written(topic):
        raise UserError(
            f"The lecture {topic!r} is not written yet. "
            f"Written lectures: {', '.join(t for t in lectures.TOPICS if is_written(t))}."
        )
    return importlib.import_module(f"lectures.{topic}").lecture
