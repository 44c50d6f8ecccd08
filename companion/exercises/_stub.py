"""Generate a student stub from a reference solution (text in, text out).

In a solution module every exercise function has a docstring starting "Exercise N.M: <task>" and
exactly one fenced block of reference code:

    def sigmoid(z):
        \"\"\"Exercise 1.1: compute the logistic function without overflow. ...\"\"\"
        # BEGIN SOLUTION
        ...
        # END SOLUTION

The stub keeps everything else (module docstring, imports, signatures, docstrings, code outside
the fence) and replaces each fenced block, markers included, by one line that names the exercise:

        raise NotImplementedError("Exercise 1.1: sigmoid — compute the logistic function ...")
"""

import ast
import re

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_EXERCISE = re.compile(r"Exercise (\d+(?:\.\d+)*):\s*(.*)")


def _quote(text):
    """A double-quoted Python string literal for `text` (repr would pick the quotes itself)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _exercise_functions(source):
    """(name, first docstring line, first line, last line) of each exercise function.

    An exercise function is one whose docstring starts "Exercise N.M:".
    """
    functions = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node) or ""
            if _EXERCISE.match(docstring):
                first_line = docstring.strip().splitlines()[0]
                functions.append((node.name, first_line, node.lineno, node.end_lineno))
    return functions


def make_stub(source):
    """Return the student stub for the solution module text `source`.

    Raises ValueError when the fences are malformed: a BEGIN without END (or the reverse), a fence
    outside an exercise function, or an exercise function without exactly one fenced block.
    """
    lines = source.splitlines(keepends=True)
    fences = []  # (begin index, end index), 0-based line indices
    begin = None
    for index, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"Nested '{BEGIN}' on line {index + 1}; expected '{END}' first.")
            begin = index
        elif marker == END:
            if begin is None:
                raise ValueError(f"'{END}' on line {index + 1} without a '{BEGIN}' before it.")
            fences.append((begin, index))
            begin = None
    if begin is not None:
        raise ValueError(f"'{BEGIN}' on line {begin + 1} is never closed by '{END}'.")

    replacements = {}  # begin index -> (end index, replacement line)
    functions = _exercise_functions(source)
    for name, first_line, first, last in functions:
        # The END marker, a comment, lies after the function's last statement: place by BEGIN.
        inside = [fence for fence in fences if first - 1 <= fence[0] <= last - 1]
        if len(inside) != 1:
            raise ValueError(
                f"Expected exactly one fenced solution block in exercise function {name}(). "
                f"Received: {len(inside)}."
            )
        (start, stop), = inside
        number, task = _EXERCISE.match(first_line).groups()
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        message = f"Exercise {number}: {name} — {task.strip()}"
        replacements[start] = (stop, f"{indent}raise NotImplementedError({_quote(message)})\n")
    if len(replacements) != len(fences):
        stray = sorted(set(begin for begin, _ in fences) - set(replacements))
        raise ValueError(
            f"Fenced block on line {stray[0] + 1} is not inside an exercise function "
            "(one whose docstring starts 'Exercise N.M:')."
        )

    stub = []
    index = 0
    while index < len(lines):
        if index in replacements:
            stop, line = replacements[index]
            stub.append(line)
            index = stop + 1
        else:
            stub.append(lines[index])
            index += 1
    return "".join(stub)
