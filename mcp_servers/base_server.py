"""Base MCP server (seed 5.3): tool categories, tool schemas, server config, and one ``handle_call``
that validates, logs (TOOL_CALL / TOOL_CALL_SUCCESS / TOOL_CALL_FAILED) and audits every call with
the caller's identity. Subclasses register tools in ``_register_tools``.

Bad input never escapes as a protocol error or a crash: an unknown tool, arguments that do not match
the schema, a NaN or a string beyond its ``maxLength`` become an MCP error result (``isError``) with
a clear message, audited like any call; the server keeps running.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import jsonschema
from mcp import types

from models.agent_policy import AgentSpec
from models.audit import AuditAction
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

MAX_ARGUMENT_BYTES = 16_384
SECRET_KEYS = frozenset({"token", "authorization", "password", "secret", "api_key"})


class ToolCategory(Enum):
    """Canonical tool category definitions."""

    MARKET_DATA = "market_data"
    TRADING = "trading"
    PORTFOLIO = "portfolio"
    RISK = "risk"
    ANALYSIS = "analysis"
    BACKTEST = "backtest"


@dataclass
class ToolSchema:
    """MCP tool schema definition."""

    name: str
    description: str
    category: ToolCategory
    parameters: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)

    def to_mcp_schema(self) -> dict[str, Any]:
        """Convert to MCP-compatible schema format."""
        return {"name": self.name, "description": self.description,
                "inputSchema": {"type": "object", "properties": self.parameters, "required": self.required,
                                "additionalProperties": False}}

    def to_tool(self) -> types.Tool:
        return types.Tool.model_validate(self.to_mcp_schema())


@dataclass
class ServerConfig:
    """Common server configuration."""

    name: str
    version: str = "1.0.0"
    max_connections: int = 100
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Caller:
    """Who is calling: the authenticated agent (None: unauthenticated, refused) and the transport."""

    agent: AgentSpec | None
    transport: str  # stdio | http

    @property
    def actor(self) -> str:
        return self.agent.actor if self.agent else "agent:unknown"


class ToolError(Exception):
    """A tool refused the call (bad input, unknown id, not allowed): shown to the agent as is."""


class RenderedResult(dict[str, Any]):
    """A tool result that carries its own JSON text (e.g. built from sections serialised once per
    snapshot version), so ``call_result`` does not serialise it again."""

    def __init__(self, data: dict[str, Any], text: str) -> None:
        super().__init__(data)
        self.text = text


Handler = Callable[[Caller, dict[str, Any]], Awaitable[dict[str, Any]]]


def redact(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments fit for a log line: no secrets, long strings cut."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key.lower() in SECRET_KEYS:
            out[key] = "***"
        elif isinstance(value, str) and len(value) > 200:
            out[key] = value[:200] + f"...({len(value)} chars)"
        else:
            out[key] = value
    return out


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class BaseMCPServer(ABC):
    """Base class for all MCP servers: call ``super().__init__``, implement ``_register_tools``."""

    def __init__(self, config: ServerConfig | None = None, audit: AuditLogger | None = None) -> None:
        self.config = config or ServerConfig(name=self.__class__.__name__)
        self.audit = audit
        self._tools: dict[str, ToolSchema] = {}
        self._handlers: dict[str, Handler] = {}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        logger.info("MCP_SERVER_INIT", extra={"server": self.config.name, "version": self.config.version})
        self._register_tools()
        logger.info("MCP_SERVER_READY", extra={"server": self.config.name, "tool_count": len(self._tools)})

    @abstractmethod
    def _register_tools(self) -> None:
        """Register all tools. Override in subclass."""

    def register_tool(self, schema: ToolSchema, handler: Handler) -> None:
        self._tools[schema.name] = schema
        self._handlers[schema.name] = handler
        input_schema = schema.to_mcp_schema()["inputSchema"]
        validator_class = jsonschema.validators.validator_for(input_schema)
        validator_class.check_schema(input_schema)  # once, here: a bad schema fails at start-up
        self._validators[schema.name] = validator_class(input_schema)
        logger.debug("TOOL_REGISTERED", extra={"server": self.config.name, "tool": schema.name,
                                              "category": schema.category.value})

    def tools(self) -> list[types.Tool]:
        return [schema.to_tool() for schema in self._tools.values()]

    def _check_input(self, tool_name: str, arguments: Any) -> dict[str, Any]:
        if tool_name not in self._handlers:
            raise ToolError(f"Unknown tool: {tool_name!r}; call tools/list for the {len(self._tools)} tools")
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
        size = len(json.dumps(arguments, default=str))
        if size > MAX_ARGUMENT_BYTES:
            raise ToolError(f"arguments are {size} bytes; the limit is {MAX_ARGUMENT_BYTES}")
        if not _finite(arguments):
            raise ToolError("arguments must not contain NaN or infinity")
        error = jsonschema.exceptions.best_match(self._validators[tool_name].iter_errors(arguments))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "arguments"
            raise ToolError(f"invalid input at {where}: {error.message[:300]}")
        return arguments

    async def handle_call(self, tool_name: str, arguments: Any, caller: Caller | None = None) -> dict[str, Any]:
        """Validate, log and audit one call; returns the tool's result or raises ``ToolError``. Without a
        caller (the seed's two-argument call) there is no agent identity, and the call is refused."""
        caller = caller or Caller(None, "local")
        shown = redact(arguments) if isinstance(arguments, dict) else {"arguments": str(arguments)[:200]}
        logger.info("TOOL_CALL", extra={"server": self.config.name, "tool": tool_name[:64], "arguments": shown,
                                        "actor": caller.actor, "transport": caller.transport})
        started = time.perf_counter()
        try:
            if caller.agent is None:
                raise ToolError("not authenticated: no agent identity for this session")
            checked = self._check_input(tool_name, arguments)
            result = await self._handlers[tool_name](caller, checked)
        except ToolError as exc:
            self._record(tool_name, shown, caller, error=str(exc))
            raise
        except Exception as exc:  # a failed tool must not stop the server: logged, audited, reported
            logger.exception("TOOL_CALL_CRASHED", extra={"server": self.config.name, "tool": tool_name})
            self._record(tool_name, shown, caller, error=f"internal error ({type(exc).__name__})")
            raise ToolError(f"internal error in {tool_name} ({type(exc).__name__}); the call was logged") from exc
        self._record(tool_name, shown, caller, error=None, elapsed=time.perf_counter() - started)
        return result

    def _record(self, tool_name: str, shown: dict[str, Any], caller: Caller, error: str | None,
                elapsed: float = 0.0) -> None:
        if error is None:
            logger.info("TOOL_CALL_SUCCESS", extra={"server": self.config.name, "tool": tool_name,
                                                    "elapsed_ms": round(elapsed * 1000, 3)})
        else:
            logger.error("TOOL_CALL_FAILED", extra={"server": self.config.name, "tool": tool_name[:64],
                                                    "error": error, "actor": caller.actor})
        if self.audit is not None:
            self.audit.log(AuditAction.AGENT_TOOL_CALL, f"{caller.actor} called {tool_name[:64]}",
                           actor=caller.actor, actor_type="ai_agent", resource_type="mcp_tool",
                           resource_id=tool_name[:64], reason=error,
                           metadata={"arguments": shown, "ok": error is None, "transport": caller.transport})

    async def call_result(self, tool_name: str, arguments: Any, caller: Caller) -> types.CallToolResult:
        """``handle_call`` as an MCP result: structured content on success, an error result otherwise."""
        try:
            result = await self.handle_call(tool_name, arguments, caller)
        except ToolError as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=str(exc))], isError=True)
        text = result.text if isinstance(result, RenderedResult) else json.dumps(result, default=str,
                                                                                  separators=(",", ":"))
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structuredContent=result, isError=False)
