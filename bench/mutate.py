"""Mutation testing of the money-path modules: a small AST mutator (no dependency).

    python -m bench.mutate [--jobs N] [module.py ...]   (make mutate; MODULES="execution/ledger.py" to pick)

For each module, every mutation point (a comparison flipped, + and - swapped, += and -= swapped,
and/or swapped, max/min swapped, a 0/1 or True/False constant changed, a ``not`` dropped) gives one
mutant: the module with that one change, imported in memory (the file is never rewritten). The
test pool (TESTS) runs once on the unmutated code with a line tracer; each mutant then runs, with
``-x``, the pool's tests that execute its lines (bench/mutant_runner.py: all of them when a line
runs at import), and is killed when one fails, its import fails or the run times out. A mutant on
lines no test executes is not run and survives. Each kill is confirmed: its failing test, run
alone on the unmutated code, passes. Prints a score per module, the surviving mutants (file, line,
change), the run time and, last, ``mutation score: NN.N% (k/n)``. Survivors that are equivalent
mutants are listed with the reason in bench/mutation_survivors.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.mutant_runner import Coverage, Outcome, Run, collect, preload, run_all, timeout_for

ROOT = Path(__file__).resolve().parent.parent

# the money-path modules
TARGETS: list[str] = [
    "execution/ledger.py",
    "execution/bot_managed_positions.py",
    "execution/smart_execution.py",
    "execution/risk/circuit_breaker.py",
    "models/trading_state.py",  # the breaker's states and what each lets through
    "models/pre_trade_rules.py",  # the pre-trade validator's rules
    "execution/risk/pre_trade_validator.py",
    "execution/risk/slippage_budget.py",
]

# the test pool: the money path's unit and scenario tests, no long harness runs (each mutant runs
# the ones that execute its lines, fastest file first)
TESTS: list[str] = [
    "tests/test_ledger.py", "tests/test_exposure_accounting.py", "tests/test_money_path_faults.py",
    "tests/test_money_path_property.py", "tests/test_trading_bot.py", "tests/test_critical_fixes.py",
    "tests/test_close_quantity.py", "tests/test_one_lot_positions.py", "tests/test_update_greeks.py",
    "tests/test_position_manager.py", "tests/test_wheel.py", "tests/test_restart_drill.py",
    "tests/test_smart_execution.py", "tests/test_smart_execution_edges.py", "tests/test_order_executor.py",
    "tests/test_inbox_consumer.py", "tests/test_roll_rules.py", "tests/test_roll_target.py",
    "tests/test_roll_zero_limit.py",
    "tests/test_circuit_breaker.py", "tests/test_circuit_breaker_restore.py", "tests/test_state_restore.py",
    "tests/test_risk_limits.py", "tests/test_pre_trade_validator.py", "tests/test_order_gateway.py",
    "tests/test_gateway_dry_run.py", "tests/test_order_counter.py", "tests/test_pre_trade_rules_edges.py",
    "tests/test_slippage_budget.py", "tests/test_slippage_budget_edges.py",
]

_COMPARE_SWAP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
                 ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    change: str
    end_line: int = 0

    @property
    def lines(self) -> range:
        return range(self.line, max(self.end_line, self.line) + 1)


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
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):
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
        line, end_line = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or 0
        replacement = _apply(node)
        if replacement is not node:
            copy_tree = _Replace(node, replacement).visit(copy_tree)
        out.append((Mutant(index, line, change, end_line), ast.unparse(ast.fix_missing_locations(copy_tree))))
    return out


@dataclass
class Score:
    killed: int = 0
    total: int = 0

    def __str__(self) -> str:
        return f"{100.0 * self.killed / max(self.total, 1):.1f}% ({self.killed}/{self.total})"


def run_module(module: str, coverage: Coverage, jobs: int, confirmed: dict[str, bool], details: bool = False
               ) -> tuple[Score, list[tuple[Mutant, str]]]:
    """Score of one module and its survivors, each with why it was not killed (``details``: print
    every mutant's outcome, test count and run time)."""
    path = ROOT / module
    found = mutants(path.read_text(encoding="utf-8"))
    selected = [(mutant, text, coverage.tests_for(path, mutant.lines)) for mutant, text in found]
    runnable = [(mutant, text, tests) for mutant, text, tests in selected if tests]
    outcomes = run_all([Run(tests, (path, text), timeout_for(coverage, tests)) for _, text, tests in runnable],
                       jobs)
    by_index = {mutant.index: outcome for (mutant, _, _), outcome in zip(runnable, outcomes, strict=True)}
    unconfirmed = sorted({o.failed for o in outcomes if o.status == "killed" and o.failed not in confirmed})
    for test, outcome in zip(unconfirmed, run_all([Run([test], None, timeout_for(coverage, [test]))
                                                   for test in unconfirmed], jobs), strict=True):
        confirmed[test] = outcome.status == "survived"
    score, survivors = Score(total=len(found)), []
    for mutant, _, tests in selected:
        outcome = by_index.get(mutant.index, Outcome("survived: no test executes it"))
        if outcome.status == "killed" and not confirmed[outcome.failed]:
            outcome = Outcome(f"error: {outcome.failed} fails alone on the unmutated code")
        if details:
            print(f"    {module}:{mutant.line} {mutant.change}: {outcome.status} {outcome.failed} "
                  f"({len(tests)} tests, {outcome.seconds:.1f} s)", flush=True)
        if outcome.killed:
            score.killed += 1
        else:
            survivors.append((mutant, outcome.status))
    return score, survivors


def _fastest_first_if_it_passes(coverage: Coverage, jobs: int) -> Coverage:
    """Runs take the pool's tests fastest first when the whole pool passes in that order on the
    unmutated code; else in pytest's order (the one the coverage run passed in)."""
    fast = coverage.fastest_first()
    [check] = run_all([Run(fast.order, None, timeout_for(coverage, fast.order))], jobs)
    if check.status == "survived":
        return fast
    print(f"the pool fails fastest first on the unmutated code ({check.status} {check.failed}): pytest's order kept")
    return coverage


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutate", description="mutation score of the money path")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at a time (default 1)")
    parser.add_argument("--details", action="store_true", help="print every mutant's outcome and run time")
    parser.add_argument("modules", nargs="*", help=f"default: {' '.join(TARGETS)}")
    args = parser.parse_args(argv)
    modules: list[str] = args.modules or TARGETS
    started = time.monotonic()
    coverage = collect(TESTS, [ROOT / module for module in modules])
    if coverage.failed:
        print(f"the test pool fails on the unmutated code: {', '.join(coverage.failed)}")
        return 2
    preload(coverage.preload)
    coverage = _fastest_first_if_it_passes(coverage, args.jobs)
    total, confirmed = Score(), {}
    for module in modules:
        module_started = time.monotonic()
        score, survivors = run_module(module, coverage, args.jobs, confirmed, args.details)
        total.killed, total.total = total.killed + score.killed, total.total + score.total
        print(f"{module}: {score} in {time.monotonic() - module_started:.0f} s", flush=True)
        for mutant, why in survivors:
            note = "" if why == "survived" else f" ({why})"
            print(f"  survived: {module}:{mutant.line} {mutant.change}{note}", flush=True)
    print(f"run time: {time.monotonic() - started:.0f} s ({len(coverage.order)} tests in the pool, jobs={args.jobs})")
    print(f"mutation score: {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
