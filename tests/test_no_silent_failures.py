"""Seed 4.1: no silent failures in product code. An ``except`` whose body only passes (or only
``...``/``continue``) swallows the error without a trace; ruff's S110/S112/E722/BLE rules cover
most of it, this AST scan is the backstop that no ``noqa`` can switch off."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("models", "execution", "utils", "services", "api", "mcp_servers", "harness")
PRODUCT = [ROOT / "main.py", *(p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py")))]


def silent_handlers(source: str) -> list[int]:
    """Line numbers of handlers that do nothing with the error (pass / ... / continue only)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler):
            body = node.body
            if all(isinstance(s, ast.Pass | ast.Continue) or
                   (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body):
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_except_pass_in_product_code(path: Path) -> None:
    found = silent_handlers(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} swallows errors silently at lines {found}"


def test_the_scan_finds_the_seed_anti_patterns() -> None:
    source = """
try:
    save()
except Exception:
    pass
try:
    save()
except:
    ...
for x in y:
    try:
        save()
    except OSError:
        continue
try:
    save()
except OSError as e:
    logger.error("SAVE_FAILED", extra={"error": str(e)})
"""
    assert silent_handlers(source) == [4, 8, 13]


def test_ruff_has_the_silent_failure_rules_switched_on() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    selected = set(config["tool"]["ruff"]["lint"]["select"])
    assert {"BLE", "S110", "S112", "E722"} <= selected
