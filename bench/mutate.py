"""Mutation testing of the money-path modules: a small AST mutator (no dependency).

    python -m bench.mutate [module.py ...]      (make mutate; MODULES="execution/ledger.py" to pick)

For each module, every mutation point (a comparison flipped, + and - swapped, += and -= swapped,
and/or swapped, max/min swapped, a 0/1 or True/False constant changed, a ``not`` dropped) gives one
mutant: the module is rewritten with that one change, the tests that cover it run (``-x``), and
the mutant is killed when they fail. The original file is always put back. Prints a score per
module, the surviving mutants (file, line, change) and, last, ``mutation score: NN.N% (k/n)``.
Survivors that are equivalent mutants are listed with the reason in bench/mutation_survivors.md.
"""

from __future__ import annotations

import ast
import copy
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> the tests that cover it (kept fast: unit and scenario tests, no harness runs)
TARGETS: dict[str, list[str]] = {
    "execution/ledger.py": ["tests/test_ledger.py", "tests/test_money_path_faults.py", "tests/test_trading_bot.py"],
    "execution/bot_managed_positions.py": ["tests/test_close_quantity.py", "tests/test_one_lot_positions.py",
                                           "tests/test_position_manager.py",
                                           "tests/test_trading_bot.py", "tests/test_money_path_faults.py"],
    "execution/smart_execution.py": ["tests/test_smart_execution.py", "tests/test_order_executor.py"],
    "execution/risk/circuit_breaker.py": ["tests/test_circuit_breaker.py", "tests/test_circuit_breaker_restore.py",
                                          "tests/test_state_restore.py", "tests/test_money_path_faults.py"],
    "execution/risk/pre_trade_validator.py": ["tests/test_pre_trade_validator.py", "tests/test_order_gateway.py",
                                              "tests/test_money_path_faults.py"],
    "execution/risk/slippage_budget.py": ["tests/test_slippage_budget.py", "tests/test_slippage_budget_edges.py",
                                          "tests/test_money_path_faults.py"],
}

_COMPARE_SWAP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
                 ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    change: str


def _points(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every node that can be mutated, with a description of the change (docstrings skipped)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE_SWAP:
            yield node, f"{type(node.ops[0]).__name__} -> {_COMPARE_SWAP[type(node.ops[0])].__name__}"
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOP_SWAP:
            yield node, f"{type(node.op).__name__} -> {_BINOP_SWAP[type(node.op)].__name__}"
        elif isinstance(node, ast.BoolOp):
            yield node, "and <-> or"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not dropped"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            yield node, f"{node.func.id} -> {'min' if node.func.id == 'max' else 'max'}"
        elif isinstance(node, ast.Constant) and type(node.value) in (int, bool) and node.value in (0, 1):
            yield node, f"{node.value!r} -> {_flip_constant(node.value)!r}"


def _flip_constant(value: int | bool) -> int | bool:
    if isinstance(value, bool):
        return not value
    return 1 - value


def _apply(node: ast.AST) -> ast.AST:
    """Mutate ``node`` in place; returns the node that replaces it in its parent."""
    if isinstance(node, ast.Compare):
        node.ops[0] = _COMPARE_SWAP[type(node.ops[0])]()
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        node.op = _BINOP_SWAP[type(node.op)]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        return node.operand
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        node.func.id = "min" if node.func.id == "max" else "max"
    elif isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        node.value = _flip_constant(node.value)
    return node


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return self.replacement
        return super().generic_visit(node)


def mutants(source: str) -> list[tuple[Mutant, str]]:
    tree = ast.parse(source)
    count = sum(1 for _ in _points(tree))
    out = []
    for index in range(count):
        copy_tree = copy.deepcopy(tree)
        node, change = list(_points(copy_tree))[index]
        line = getattr(node, "lineno", 0)
        replacement = _apply(node)
        if replacement is not node:
            copy_tree = _Replace(node, replacement).visit(copy_tree)
        out.append((Mutant(index, line, change), ast.unparse(ast.fix_missing_locations(copy_tree))))
    return out


def killed(tests: list[str]) -> bool:
    result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                            cwd=ROOT, capture_output=True, timeout=600)
    return result.returncode != 0


def run_module(module: str) -> tuple[int, int, list[Mutant]]:
    path = ROOT / module
    original = path.read_text(encoding="utf-8")
    survivors: list[Mutant] = []
    total = dead = 0
    try:
        for mutant, text in mutants(original):
            path.write_text(text, encoding="utf-8")
            total += 1
            if killed(TARGETS[module]):
                dead += 1
            else:
                survivors.append(mutant)
    finally:
        path.write_text(original, encoding="utf-8")
    return dead, total, survivors


def main(argv: list[str]) -> int:
    modules = argv or list(TARGETS)
    all_dead = all_total = 0
    for module in modules:
        dead, total, survivors = run_module(module)
        all_dead, all_total = all_dead + dead, all_total + total
        print(f"{module}: {100.0 * dead / max(total, 1):.1f}% ({dead}/{total})", flush=True)
        for mutant in survivors:
            print(f"  survived: {module}:{mutant.line} {mutant.change}", flush=True)
    print(f"mutation score: {100.0 * all_dead / max(all_total, 1):.1f}% ({all_dead}/{all_total})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
