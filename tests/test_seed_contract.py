"""The refactoring instructions' public contract: what their readers import and call still resolves.

The product was specified from ``shared/seed/refactoring-instructions.md``; people write callers
against the names it shows. This test walks the document's Python code blocks:

* every ``import``/``from ... import`` of a project package must resolve, except the modules the
  document itself marks deprecated or duplicate (its appendix B and its "BAD" examples);
* a block that presents a project module (a ``# path/module.py`` first line, or the section's
  ``**Location**: `path``` line) defines public names — functions, classes, their public methods
  and properties, module constants — that must exist there, and each function or method must
  accept the seed's positional call (``signature.bind``). Blocks that show the code being
  *replaced* ("Current Code", "BEFORE (bad)", "Pattern to Find") are skipped.

Where a module moved on purpose it is mapped in ``RENAMED`` (the MCP base lives in
``mcp_servers/``: a top-level ``mcp/`` would shadow the SDK, DESIGN.md section 2).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "refactoring-instructions.md"
if not SEED.is_file():
    pytest.skip(f"the refactoring instructions are not beside the repository ({SEED})", allow_module_level=True)

PROJECT_PACKAGES = {"models", "execution", "utils", "api", "mcp", "mcp_servers"}
# Appendix B ("Deprecated Files") and the "BAD: ... deprecated or duplicate" import examples.
DEPRECATED_MODULES = {"models.retry_handler", "docs.templates.risk_validator"}
RENAMED = {"mcp.base_server": "mcp_servers.base_server"}
# Fixed-code names the product replaced by design, each with what a reader uses instead (which
# must resolve, so an exemption cannot rot) and why. Everything else in the document must exist.
REPLACED = {
    "api.order_queue_api:AuthConfig": ("api.settings:load_settings",
                                       "token rules (>= 32 chars, no default) are checked with the other settings"),
    "api.order_queue_api:AuthConfig.validate": ("api.auth:TokenVerifier.verify", "constant-time token check"),
    "api.order_queue_api:auth_config": ("api.main:create_app_from_env",
                                        "built from the environment when the app is, not at import"),
    "api.order_queue_api:require_auth": ("api.auth:TokenAuthMiddleware",
                                         "auth runs before routing for every /api/v1 route; a decorator "
                                         "could be forgotten on one"),
    "api.rest_server:ALLOWED_ORIGINS": ("api.settings:ApiSettings.allowed_origins",
                                        "from CORS_ALLOWED_ORIGINS when the app is built; '*' is refused"),
    "api.rest_server:limiter": ("api.rate_limit:build_limiter", "one limiter per app, keyed by token"),
    "api.rest_server:submit_order": ("api.order_queue_api:build_router", "POST /api/v1/orders, rate-limited"),
    "utils.audit_logger:audit_logger": ("utils.audit_logger:AuditLogger",
                                        "no global instance: the algorithm builds one with its Object Store "
                                        "sink and clock, the sidecar with its file sink (api/services.py)"),
}
# Blocks that show code being replaced, and the seed's own example tests (run verbatim elsewhere).
SKIPPED_LABELS = ("current code", "before (bad)", "pattern to find", "test case")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence in the document
    label: str  # the bold label just above the block ("Fixed Code", ...), lower case
    location: str | None  # the section's **Location** module path, if any
    source: str


def _blocks(text: str) -> list[Block]:
    blocks, location, label = [], None, ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            location, label = None, ""
        found = re.match(r"\*\*Location\*\*: `([\w/]+\.py)(?::[\d-]+)?`", line)
        if found:
            location = found.group(1)
        bold = re.match(r"\*\*(.+?)\*\*:?", line)
        if bold and not found:
            label = bold.group(1).lower()
        if line.startswith("```python"):
            end = lines.index("```", i + 1)
            blocks.append(Block(i + 1, label, location, "\n".join(lines[i + 1:end]) + "\n"))
            label = ""
            i = end
        i += 1
    return blocks


def _module_of(block: Block) -> str | None:
    first = block.source.lstrip().splitlines()[0] if block.source.strip() else ""
    found = re.match(r"#\s*([\w/]+)\.py\b(.*)", first)
    path = found.group(1) if found else (block.location[:-3] if block.location else None)
    if found and "deprecated" in found.group(2).lower():
        return None
    if path is None or path.split("/")[0] not in PROJECT_PACKAGES:
        return None
    module = path.replace("/", ".")
    return RENAMED.get(module, module)


def _parse(block: Block) -> ast.Module | None:
    try:
        return ast.parse(block.source)
    except SyntaxError:
        # the seed's fragments are illustrations; a fragment Python cannot parse (a dataclass with
        # "# Existing fields..." placeholders is fine, a "..." body is fine) names nothing to check
        return None


BLOCKS = [b for b in _blocks(SEED.read_text(encoding="utf-8")) if not b.label.startswith(SKIPPED_LABELS)]


def _imports() -> list[tuple[int, str, str | None]]:
    found = []
    for block in BLOCKS:
        tree = _parse(block)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    found.append((block.line, node.module, alias.name))
            elif isinstance(node, ast.Import):
                found.extend((block.line, alias.name, None) for alias in node.names)
    return [(line, RENAMED.get(module, module), name) for line, module, name in found
            if module.split(".")[0] in PROJECT_PACKAGES and module not in DEPRECATED_MODULES]


def _definitions() -> list[tuple[int, str, str, ast.AST]]:
    """(line, module, dotted name, node) for every public name a module block defines."""
    found = []
    for block in BLOCKS:
        module = _module_of(block)
        tree = _parse(block) if module else None
        if module is None or tree is None:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and _public(node.name):
                found.append((block.line, module, node.name, node))
                if isinstance(node, ast.ClassDef):
                    found.extend((block.line, module, f"{node.name}.{item.name}", item) for item in node.body
                                 if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _public(item.name))
            elif isinstance(node, ast.Assign) and not _is_local_helper(node):
                found.extend((block.line, module, target.id, node) for target in node.targets
                             if isinstance(target, ast.Name) and _public(target.id))
    return found


def _public(name: str) -> bool:
    return not name.startswith("_")


def _is_local_helper(node: ast.Assign) -> bool:
    """``logger = logging.getLogger(...)`` and ``T = TypeVar(...)``: module plumbing, not API."""
    call = node.value
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in {"getLogger", "get_logger", "TypeVar"}


def _resolve(module: str, dotted: str) -> object:
    value: object = importlib.import_module(module)
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _seed_positional_call(node: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> tuple[int, int]:
    """(required, total) positional parameters of the seed's definition, without ``self``."""
    args = [a for a in node.args.posonlyargs + node.args.args]
    if is_method and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list):
        args = args[1:]
    return len(args) - len(node.args.defaults), len(args)


IMPORTS = _imports()
DEFINITIONS = _definitions()


def test_the_walk_finds_the_documents_examples() -> None:
    modules = {module for _, module, _ in IMPORTS} | {module for _, module, _, _ in DEFINITIONS}
    assert {"api.rest_server", "execution.bot_managed_positions", "execution.smart_execution", "models.audit",
            "models.risk_limits", "utils.audit_retention", "utils.error_handling"} <= modules
    names = {f"{module}:{name}" for _, module, name, _ in DEFINITIONS}
    assert {"execution.bot_managed_positions:BotManagedPosition.update_greeks",
            "execution.smart_execution:SlippageBudget.check_slippage",
            "utils.audit_retention:cleanup_old_audits", "api.rest_server:ThreadSafeRef.access"} <= names


@pytest.mark.parametrize(("line", "module", "name"), IMPORTS, ids=[f"L{ln}:{m}:{n}" for ln, m, n in IMPORTS])
def test_every_project_import_in_the_document_resolves(line: int, module: str, name: str | None) -> None:
    imported = importlib.import_module(module)
    if name is not None and name != "*":
        assert hasattr(imported, name), f"seed line {line}: from {module} import {name}"


# Modules an open issue is building; strict, so the day they land these must pass and the entry goes.
PENDING: dict[str, str] = {}


def _definition_params() -> list[object]:
    return [pytest.param(line, module, name, node, id=f"L{line}:{module}:{name}",
                         marks=[pytest.mark.xfail(reason=PENDING[module], strict=True)] if module in PENDING else [])
            for line, module, name, node in DEFINITIONS]


@pytest.mark.parametrize(("line", "module", "name", "node"), _definition_params())
def test_every_public_name_the_document_defines_exists_and_takes_its_call(
        line: int, module: str, name: str, node: ast.AST) -> None:
    if f"{module}:{name}" in REPLACED:
        pytest.skip(f"replaced by design: {REPLACED[f'{module}:{name}'][1]}")
    try:
        ours = _resolve(module, name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"seed line {line}: {module}.{name} does not resolve ({exc})")
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and callable(ours) \
            and not any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
        required, total = _seed_positional_call(node, is_method="." in name)
        target = ours if "." not in name else inspect.unwrap(ours)  # type: ignore[arg-type]
        signature = inspect.signature(target)  # type: ignore[arg-type]
        parameters = list(signature.parameters.values())
        if "." in name and parameters and parameters[0].name in ("self", "cls"):
            parameters = parameters[1:]
        signature = signature.replace(parameters=parameters)
        for count in range(required, total + 1):
            try:
                signature.bind(*range(count))
            except TypeError as exc:
                pytest.fail(f"seed line {line}: {module}.{name} cannot be called with {count} positional "
                            f"arguments as the document does ({exc})")


@pytest.mark.parametrize("name", sorted(REPLACED))
def test_each_replaced_name_is_still_in_the_document_and_its_replacement_resolves(name: str) -> None:
    assert name in {f"{module}:{defined}" for _, module, defined, _ in DEFINITIONS}, \
        f"{name} is no longer in the document: drop the exemption"
    replacement = REPLACED[name][0]
    module, _, dotted = replacement.partition(":")
    try:
        _resolve(module, dotted)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{name} is replaced by {replacement}, which does not resolve ({exc})")
