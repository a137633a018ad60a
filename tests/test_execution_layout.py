"""execution/'s shape (issue 13): parts take narrow things, never the bot; no import cycles; the
seed's module paths stay importable."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXECUTION = ROOT / "execution"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path, runtime_only: bool) -> set[str]:
    """Modules ``path`` imports (with ``runtime_only``: not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(child) for child in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def execution_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(EXECUTION.rglob("*.py"))}


def test_nothing_in_execution_but_the_lean_adapter_imports_the_trading_bot() -> None:
    users = {name for name, path in execution_modules().items()
             if "execution.trading_bot" in imports(path, runtime_only=False)}
    assert users <= {"execution.lean_adapter"}


def test_execution_has_no_import_cycles() -> None:
    modules = execution_modules()
    graph = {name: {m for m in imports(path, runtime_only=True) if m in modules} for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in graph[name]:
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*trail, name, nxt])}"
            if nxt not in state:
                visit(nxt, [*trail, name])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_the_seed_module_paths_still_import() -> None:
    positions = importlib.import_module("execution.bot_managed_positions")
    smart = importlib.import_module("execution.smart_execution")
    assert hasattr(positions, "BotManagedPosition") and hasattr(positions, "calculate_close_quantity")
    assert hasattr(smart, "WorkingOrder") and hasattr(smart, "next_limit_price")
