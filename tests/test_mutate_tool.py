"""The mutation tool (bench/mutate.py, bench/mutant_runner.py): one mutant per mutation point, each a
single change, run against the tests that execute its lines."""

from __future__ import annotations

from pathlib import Path

from bench.mutant_runner import Coverage
from bench.mutate import mutants

SOURCE = "def f(a, b):\n    total = max(a, 0)\n    total += b\n    return total == 1 and not a\n"


def test_every_point_gives_one_mutant_with_one_change() -> None:
    changes = {m.change: text for m, text in mutants(SOURCE)}
    assert set(changes) == {"max -> min", "0 -> 1", "Add -> Sub", "Eq -> NotEq", "1 -> 0", "and <-> or",
                            "not dropped"}
    assert "min(a, 0)" in changes["max -> min"] and "total -= b" in changes["Add -> Sub"]
    assert "total != 1" in changes["Eq -> NotEq"] and "return total == 1 and a" in changes["not dropped"]
    assert "max(a, 1)" in changes["0 -> 1"] and "total == 0" in changes["1 -> 0"]


def test_a_mutant_runs_the_tests_that_execute_its_lines_or_every_test_when_a_line_runs_at_import() -> None:
    file = str(Path("m.py").resolve())
    coverage = Coverage(order=["t::a", "t::b"], seconds={"t::a": 0.1, "t::b": 0.2}, failed=[], preload=[],
                        lines={"": {file: [1]}, "t::a": {file: [5, 6]}, "t::b": {file: [6, 9]}})
    assert coverage.tests_for(Path("m.py"), range(9, 10)) == ["t::b"]
    assert coverage.tests_for(Path("m.py"), range(5, 7)) == ["t::a", "t::b"]
    assert coverage.tests_for(Path("m.py"), range(7, 9)) == []  # no test executes it: not run, survives
    assert coverage.tests_for(Path("m.py"), range(1, 2)) == ["t::a", "t::b"]  # a default value, a decorator


def test_runs_can_take_the_fastest_test_first() -> None:
    coverage = Coverage(order=["a.py::slow", "a.py::fast", "b.py::mid"], failed=[], preload=[], lines={},
                        seconds={"a.py::slow": 2.0, "a.py::fast": 0.1, "b.py::mid": 0.5})
    assert coverage.fastest_first().order == ["a.py::fast", "b.py::mid", "a.py::slow"]
