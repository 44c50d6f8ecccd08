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
