"""Export a lecture module as a Jupyter notebook that runs top to bottom.

The notebook is the module itself, re-cut: its docstring becomes the title cell, each step becomes a
markdown cell (title and narrative) followed by the step's own code, and the module's other code
(imports, the `train` recipe, small helpers) stays in order as code cells. A reader sees the Keras
code of the lecture, not calls into hidden helpers. Two cells are added: the first installs the
companion where it is missing (Colab, a fresh machine), and the set-up cell creates the `run` that
the steps report to (fast when COMPANION_FAST=1).
"""

import ast
import json
import textwrap
from importlib import metadata
from pathlib import Path

import nbformat

from companion.catalog import LECTURES_DIR

INSTALL = """\
# On Colab or a fresh machine, install the companion first (where it is installed, nothing happens).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("companion") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {source!r}], check=True)"""

NOT_INSTALLABLE = """\
# The companion must be installed where this notebook runs (this notebook was made from a local copy).
import importlib.util

if importlib.util.find_spec("companion") is None:
    raise ModuleNotFoundError(
        "The companion is not installed here. Install it first (in a cell: %pip install followed by "
        "the course's git URL or wheel), or make this notebook with "
        "`companion notebook {topic} --install SOURCE`, which installs SOURCE in this cell.")"""

SETUP = """\
%matplotlib inline
from companion.lecture import Run

run = Run({topic!r}, notebook=True)  # COMPANION_FAST=1 in the environment makes it a quick smoke run"""


UNUSED_IMPORT = "from companion.lecture import Lecture"  # the set-up cell creates the Run instead


def install_source():
    """What pip installs this companion from on another machine: the git URL and commit or the
    archive it was installed from, `companion==VERSION` when it came from a package index, or None
    for a local folder (which Colab cannot reach)."""
    installed = list(metadata.distributions(name="companion"))  # a source checkout's egg-info too
    text = next((d.read_text("direct_url.json") for d in installed if d.read_text("direct_url.json")), None)
    if text is None:  # from a package index (a wheel's metadata without its origin), or not installed
        wheels = [d for d in installed if str(getattr(d, "_path", "")).endswith(".dist-info")]
        return f"companion=={wheels[0].version}" if wheels else None
    origin = json.loads(text)
    if "vcs_info" in origin:
        vcs = origin["vcs_info"]
        return f"{vcs['vcs']}+{origin['url']}@{vcs.get('commit_id') or vcs.get('requested_revision')}"
    if "archive_info" in origin and not origin["url"].startswith("file:"):
        return origin["url"]
    return None


def build(topic, *, install=None):
    """The notebook (an `nbformat` NotebookNode) of the lecture `topic`. Its first code cell installs
    the companion where it is missing, from `install` (a pip requirement: a git URL, a wheel's URL),
    by default from where this companion was installed (`install_source()`)."""
    source = (LECTURES_DIR / f"{topic}.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    install = install or install_source()
    cells = []
    number = 0
    helpers = []  # code met since the last step: it belongs to the next step's cell, above its code
    imports_from = None  # the first line of the imports being read
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
            if number == 0 and isinstance(node, (ast.Import, ast.ImportFrom)) and imports_from:
                cells[-1].source = "\n".join(line for line in lines[imports_from - 1:node.end_lineno]
                                              if line != UNUSED_IMPORT)  # grouped as in the file
            elif number == 0:  # imports, the recipe and its helpers: before the first step
                cells.append(nbformat.v4.new_code_cell(code))
                imports_from = start if isinstance(node, (ast.Import, ast.ImportFrom)) else None
            else:
                helpers.append(code)
    if helpers:
        cells.append(nbformat.v4.new_code_cell("\n\n\n".join(helpers)))
    cells = _merge_code_cells(cells)
    cells.insert(1, nbformat.v4.new_code_cell(INSTALL.format(source=install) if install
                                              else NOT_INSTALLABLE.format(topic=topic)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def write(topic, path, *, install=None):
    """Write the notebook of `topic` to `path` (`install` as in `build`); returns the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(topic, install=install), path)
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
