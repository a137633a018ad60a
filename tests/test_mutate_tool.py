"""The mutation tool (bench/mutate.py): one mutant per mutation point, each a single change."""

from __future__ import annotations

from bench.mutate import mutants

SOURCE = "def f(a, b):\n    total = max(a, 0)\n    total += b\n    return total == 1 and not a\n"


def test_every_point_gives_one_mutant_with_one_change() -> None:
    changes = {m.change: text for m, text in mutants(SOURCE)}
    assert set(changes) == {"max -> min", "0 -> 1", "Add -> Sub", "Eq -> NotEq", "1 -> 0", "and <-> or",
                            "not dropped"}
    assert "min(a, 0)" in changes["max -> min"] and "total -= b" in changes["Add -> Sub"]
    assert "total != 1" in changes["Eq -> NotEq"] and "return total == 1 and a" in changes["not dropped"]
    assert "max(a, 1)" in changes["0 -> 1"] and "total == 0" in changes["1 -> 0"]
