"""The import direction between the top-level packages (DESIGN §2), on every import in the source
(module level, inside functions, and under TYPE_CHECKING alike): ``api`` and ``mcp_servers`` use
``models``, ``utils`` and the shared service layer ``services`` (snapshot cache, order queue, audit
index, risk pre-check, proposals), never ``execution``; ``services`` uses neither door; the sidecar
(``api``) hosts the MCP endpoint, so ``api`` -> ``mcp_servers`` and never back; no package cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "utils", "execution", "services", "mcp_servers", "api", "harness", "reports")
FORBIDDEN = {
    "services": {"api", "mcp_servers", "execution", "harness"},
    "mcp_servers": {"api", "execution"},
    "api": {"execution", "harness"},
}


def imported_packages(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return (found & set(PACKAGES)) - {package}


GRAPH = {package: imported_packages(package) for package in PACKAGES if (ROOT / package).is_dir()}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_sidecar_packages_import_in_one_direction(package: str) -> None:
    assert not GRAPH[package] & FORBIDDEN[package], f"{package} imports {sorted(GRAPH[package] & FORBIDDEN[package])}"


def test_no_two_packages_import_each_other_directly_or_around_a_loop() -> None:
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in GRAPH.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(p for p in GRAPH if reaches(p, p, {p}))
    assert not cycles, f"packages on an import cycle: {cycles} ({ {p: sorted(GRAPH[p]) for p in cycles} })"
