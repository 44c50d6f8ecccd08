"""Export a lecture module as a Jupyter notebook that runs top to bottom.

The notebook is the module itself, re-cut: its docstring becomes the title cell, each step becomes a
markdown cell (title and narrative) followed by the step's own code, and the module's other code
(imports, the `train` recipe, small helpers) stays in order as code cells. A reader sees the Keras
code of the lecture, not calls into hidden helpers. The one line that differs is the set-up cell,
which creates the `run` that the steps report to (fast when COMPANION_FAST=1).
"""

import ast
import textwrap
from pathlib import Path

import nbformat

from companion.catalog import LECTURES_DIR

SETUP = """\
%matplotlib inline
from companion.lecture import Run

run = Run({topic!r}, notebook=True)  # COMPANION_FAST=1 in the environment makes it a quick smoke run"""


def build(topic):
    """The notebook (an `nbformat` NotebookNode) of the lecture `topic`."""
    source = (LECTURES_DIR / f"{topic}.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    cells = []
    number = 0
    helpers = []  # code met since the last step: it belongs to the next step's cell, above its code
    for node in tree.body:
        if _is_docstring(node):
            cells.append(nbformat.v4.new_markdown_cell(_module_heading(node.value.value)))
        elif _is_lecture_assignment(node):
            cells.append(nbformat.v4.new_code_cell(SETUP.format(topic=topic)))
        elif _is_main_guard(node):
            continue
        elif isinstance(node, ast.FunctionDef) and _step_title(node) is not None:
            number += 1
            narrative = textwrap.dedent(ast.get_docstring(node) or "")
            cells.append(nbformat.v4.new_markdown_cell(f"## {number}. {_step_title(node)}\n\n{narrative}"))
            cells.append(nbformat.v4.new_code_cell("\n\n\n".join([*helpers, _body(node, lines)])))
            helpers = []
        else:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            code = "\n".join(lines[start - 1:node.end_lineno])
            if number == 0:  # imports, the recipe and its helpers: before the first step
                cells.append(nbformat.v4.new_code_cell(code))
            else:
                helpers.append(code)
    if helpers:
        cells.append(nbformat.v4.new_code_cell("\n\n\n".join(helpers)))
    notebook = nbformat.v4.new_notebook(cells=_merge_code_cells(cells))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def write(topic, path):
    """Write the notebook of `topic` to `path`; returns the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(topic), path)
    return path


def _module_heading(docstring):
    title, _, rest = textwrap.dedent(docstring).strip().partition("\n")
    return f"# {title.strip()}\n\n{rest.strip()}".strip()


def _body(function, lines):
    """The source lines of a step function's body, without its docstring, dedented."""
    body = function.body[1:] if _is_docstring(function.body[0]) else function.body
    start = function.body[0].end_lineno + 1 if body is not function.body else body[0].lineno
    return textwrap.dedent("\n".join(lines[start - 1:function.end_lineno])).strip("\n")


def _step_title(function):
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "step"):
            return decorator.args[0].value
    return None


def _is_docstring(node):
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _is_lecture_assignment(node):
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "Lecture")


def _is_main_guard(node):
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def _merge_code_cells(cells):
    """Join consecutive plain code cells (imports, helpers), so the notebook is not a cell per line."""
    merged = []
    for cell in cells:
        if merged and cell.cell_type == "code" and merged[-1].cell_type == "code" \
                and not _is_step_code(merged, cell):
            merged[-1].source += "\n\n\n" + cell.source
        else:
            merged.append(cell)
    return merged


def _is_step_code(merged, cell):
    return len(merged) >= 2 and merged[-2].cell_type == "markdown" and merged[-2].source.startswith("## ")
