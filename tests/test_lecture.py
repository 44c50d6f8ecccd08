"""The lecture runner's Run: what a run keeps for its later steps belongs to that run."""

from companion.lecture import Run


def test_once_computes_a_value_once_per_run(tmp_path):
    calls = []

    def make():
        calls.append(1)
        return len(calls)

    run, other = Run("gans", out=tmp_path), Run("gans", out=tmp_path)
    assert run.once("model", make) == 1
    assert run.once("model", make) == 1  # kept: the second step reuses the first step's model
    assert other.once("model", make) == 2  # another run trains its own
    assert len(calls) == 2


def test_no_lecture_keeps_state_in_a_module_global():
    """A trained model or a result cached in a module global would leak from one run into the next
    (another strategy, another run directory): what a run needs goes through `run.once`."""
    import ast
    from pathlib import Path

    empty = (ast.Dict, ast.List, ast.Set)
    for path in sorted((Path(__file__).resolve().parents[1] / "lectures").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                value = node.value
                filled = getattr(value, "keys", None) or getattr(value, "elts", None)
                constructor = getattr(getattr(value, "func", None), "id", "")
                called = isinstance(value, ast.Call) and constructor in {"dict", "list", "set"}
                mutable = (isinstance(value, empty) and not filled) or called
                assert not mutable, f"{path.name} line {node.lineno}: a module-level cache; use run.once"
