"""The lecture runner's Run: what a run keeps for its later steps belongs to that run."""

import pytest

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


def band_bounds(path):
    """The numbers written as `at_least=` / `at_most=` in a lecture's `run.expect(...)` calls."""
    import ast

    bounds = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "expect":
            for keyword in node.keywords:
                if keyword.arg in ("at_least", "at_most") and isinstance(keyword.value, ast.Constant):
                    bounds.add(keyword.value.value)
    return bounds


def test_band_numbers_are_stated_once_in_the_steps_not_again_in_the_summary():
    """`expected` says in words what a full run shows; a bound written there too would drift from
    the `run.expect` that checks it."""
    import re
    from pathlib import Path

    from companion import catalog

    for topic in catalog.written_topics():
        path = Path(catalog.LECTURES_DIR) / f"{topic}.py"
        expected = catalog.load(topic).expected
        words = re.sub(r"\d+x\d+|\d+-D", "", expected.replace(",", ""))  # image sizes, dimensions
        numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", words)}
        stated_twice = {b for b in band_bounds(path) if float(b) in numbers and b not in (0, 1)}
        assert not stated_twice, f"{topic}: {sorted(stated_twice)} in both `expected` and a run.expect band"


RECIPE_DATA = {  # the data arguments of each recipe, small and valid: the options are what is checked
    "logistic_regression": lambda x, y: ((x[:, 0, :2, 0], y % 2), {}),
    "xor": lambda x, y: ((x[:, 0, :2, 0], y % 2), {}),
    "mlp": lambda x, y: ((x.reshape(len(x), -1), y), {}),
    "backprop": lambda x, y: ((x[:, 0, :2, 0], y % 2), {}),
    "training_tricks": lambda x, y: ((x.reshape(len(x), -1), y), {}),
    "cnn": lambda x, y: ((x, y), {}),
    "rnn": lambda x, y: (("the quick brown fox jumps over the lazy dog " * 20,), {}),
    "autoencoders": lambda x, y: ((x,), {"code_size": 2}),
    "gans": lambda x, y: ((x,), {}),
    "frontiers": lambda x, y: ((x, y), {}),
}


@pytest.mark.parametrize("topic", sorted(RECIPE_DATA))
def test_every_recipe_takes_and_checks_the_same_options(topic):
    """The contract's keyword arguments exist in every `train`, and a wrong value gets the same
    message from each, before any training."""
    import importlib
    import inspect

    from companion import data

    train = importlib.import_module(f"lectures.{topic}").train
    parameters = inspect.signature(train).parameters
    assert {name: parameters[name].default for name in ("epochs", "seed", "strategy", "callbacks")} == {
        "epochs": None, "seed": 0, "strategy": None, "callbacks": ()}
    x, y = data.digits()
    args, kwargs = RECIPE_DATA[topic](x[:200], y[:200])
    for option, message in [({"epochs": 0}, r"Expected epochs >= 1 \(an integer\). Received: epochs=0"),
                            ({"epochs": 2.5}, r"Expected epochs >= 1 \(an integer\). Received: epochs=2.5"),
                            ({"seed": -1}, r"Expected seed >= 0 \(an integer\). Received: seed=-1"),
                            ({"callbacks": ["early stop"]}, "Expected callbacks to be Keras callbacks")]:
        with pytest.raises(ValueError, match=message):
            train(*args, **kwargs, **option)


def test_the_time_band_holds_for_the_plain_run_it_states_not_under_a_strategy(tmp_path, capsys):
    """'About N s on a 2-core CPU' is the run without a strategy: twice that is outside the band;
    under a strategy (overhead only on a CPU, another machine on accelerators) the time is shown
    but not judged."""
    import time

    from companion.lecture import Lecture

    lecture = Lecture("logistic_regression", "A slow lecture", expected="x >= 1", seconds=0.01)

    @lecture.step("Slow")
    def slow(run):
        time.sleep(0.05)
        run.expect("x", 1.0, at_least=1)

    class OneReplica:
        num_replicas_in_sync = 1

    assert not lecture.run(out=tmp_path).in_band
    assert "Slow:" in capsys.readouterr().out
    assert lecture.run(out=tmp_path, strategy=OneReplica()).in_band
