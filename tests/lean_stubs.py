"""Index of the installed quantconnect-stubs: every class with its bases and member names.

Used by the fidelity test that checks the harness's fake LEAN API only exposes names that exist
in LEAN, and handy from a shell: ``python -m tests.lean_stubs QCAlgorithm market_order``.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StubClass:
    name: str
    module: str
    bases: list[str] = field(default_factory=list)
    members: set[str] = field(default_factory=set)


def stubs_root() -> Path:
    spec = importlib.util.find_spec("QuantConnect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("quantconnect-stubs is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations))).parent


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


@functools.lru_cache(maxsize=1)
def load_index() -> dict[str, list[StubClass]]:
    """Map a simple class name to every stub class of that name (namespaces can repeat names)."""
    root = stubs_root()
    index: dict[str, list[StubClass]] = {}
    for top in ("QuantConnect", "System"):
        for path in sorted((root / top).rglob("*.pyi")):
            module = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    index.setdefault(node.name, []).append(_read_class(node, module))
    return index


def _read_class(node: ast.ClassDef, module: str) -> StubClass:
    cls = StubClass(node.name, module, [_base_name(b) for b in node.bases])
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cls.members.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            cls.members.add(item.target.id)
        elif isinstance(item, ast.Assign):
            cls.members.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.ClassDef):  # a nested class (OptionStrategy.OptionLegData) is a member
            cls.members.add(item.name)
    return cls


def members_of(class_name: str) -> set[str]:
    """Members of every stub class called ``class_name``, including inherited ones."""
    index = load_index()
    seen: set[str] = set()
    members: set[str] = set()
    todo = [class_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for cls in index.get(name, []):
            members |= cls.members
            todo.extend(b for b in cls.bases if b)
    return members


def has_class(class_name: str) -> bool:
    return class_name in load_index()


if __name__ == "__main__":
    cls_name, *wanted = sys.argv[1:]
    found = members_of(cls_name)
    if not wanted:
        print(sorted(m for m in found if not m.startswith("_")))
    for name in wanted:
        print(f"{cls_name}.{name}: {'yes' if name in found else 'NO'}")
