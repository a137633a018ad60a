"""Algorithm-side code runs inside LEAN's image: stdlib, numpy, pandas, scipy and our own packages
only (DESIGN §3). Import direction: models <- execution <- LEAN adapter; api is never imported."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALGORITHM_SIDE = [ROOT / "main.py", *sorted((ROOT / "models").rglob("*.py")),
                  *sorted((ROOT / "execution").rglob("*.py")), *sorted((ROOT / "utils").rglob("*.py"))]
ALLOWED_THIRD_PARTY = {"numpy", "pandas", "scipy", "AlgorithmImports"}
OWN = {"models", "execution", "utils"}
FORBIDDEN_BY_LAYER = {
    "models": {"execution", "utils", "api", "harness", "AlgorithmImports"},
    "utils": {"execution", "api", "harness", "AlgorithmImports"},
    "execution": {"api", "harness"},
}


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", ALGORITHM_SIDE, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_lean_image_packages_are_imported(path):
    allowed = set(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY | OWN
    extra = top_level_imports(path) - allowed
    assert not extra, f"{path.name} imports {sorted(extra)}, which LEAN's image does not provide"


@pytest.mark.parametrize("path", ALGORITHM_SIDE, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layer_direction(path):
    layer = path.relative_to(ROOT).parts[0]
    forbidden = FORBIDDEN_BY_LAYER.get(layer, {"api", "harness"})
    if path.name == "lean_adapter.py" or path.name.startswith("lean_"):
        forbidden = forbidden - {"AlgorithmImports"}
    bad = top_level_imports(path) & forbidden
    assert not bad, f"{path.relative_to(ROOT)} must not import {sorted(bad)}"


def test_only_the_lean_adapters_import_algorithm_imports():
    users = {p.relative_to(ROOT).as_posix() for p in ALGORITHM_SIDE if "AlgorithmImports" in top_level_imports(p)}
    assert users <= {"main.py", "execution/lean_adapter.py", "execution/lean_broker.py", "execution/lean_restore.py"}


def test_the_gate_catches_a_forbidden_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import requests\nfrom fastapi import FastAPI\nimport json\n")
    assert top_level_imports(sample) - set(sys.stdlib_module_names) == {"requests", "fastapi"}
