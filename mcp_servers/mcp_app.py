"""The SDK's low-level ``Server`` wired to our tools and resources, for any transport.

``identify(request)`` names the calling agent: over stdio the one agent of the process, over HTTP
the agent whose bearer token the request carried (set by mcp_servers/http_app.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mcp import types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.models import InitializationOptions
from pydantic import AnyUrl

from mcp_servers import resources
from mcp_servers.base_server import Caller
from mcp_servers.trading_server import TradingMCPServer
from models.agent_policy import AgentSpec
from models.audit import AuditAction
from utils.logging_config import get_logger

logger = get_logger(__name__)

Identify = Callable[[Any], AgentSpec | None]


def build_server(tools: TradingMCPServer, notifier: resources.SnapshotNotifier, identify: Identify,
                 transport: str) -> Server[Any, Any]:
    server: Server[Any, Any] = Server(tools.config.name, version=tools.config.version,
                                      instructions="Options bot: read state, check and propose orders. Orders "
                                                   "are proposals until a person (or your budget) approves them.")
    runtime = tools.runtime

    def caller() -> Caller:
        request = server.request_context.request
        return Caller(identify(request), transport)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return tools.tools()

    @server.call_tool(validate_input=False)  # base_server validates, so bad input is logged and audited
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await tools.call_result(name, arguments, caller())

    @server.list_resources()
    async def list_resources() -> list[types.Resource]:
        return resources.list_resources()

    @server.list_resource_templates()
    async def list_templates() -> list[types.ResourceTemplate]:
        return resources.list_templates()

    @server.read_resource()
    async def read_resource(uri: AnyUrl) -> Iterable[ReadResourceContents]:
        who = caller()
        if who.agent is None:
            raise ValueError("not authenticated: no agent identity for this session")
        try:
            text = resources.read(runtime, str(uri))
        except resources.ResourceNotFound as exc:
            logger.warning("MCP_RESOURCE_NOT_FOUND", extra={"uri": str(uri)[:200], "actor": who.actor})
            runtime.audit.log(AuditAction.AGENT_TOOL_CALL, f"{who.actor} read an unknown resource",
                              actor=who.actor, actor_type="ai_agent", resource_type="mcp_resource",
                              resource_id=str(uri)[:128], reason=str(exc), metadata={"ok": False})
            raise
        return [ReadResourceContents(content=text, mime_type="application/json")]

    @server.subscribe_resource()
    async def subscribe(uri: AnyUrl) -> None:
        notifier.subscribe(server.request_context.session, str(uri))

    @server.unsubscribe_resource()
    async def unsubscribe(uri: AnyUrl) -> None:
        notifier.unsubscribe(server.request_context.session, str(uri))

    return server


def initialization_options(server: Server[Any, Any]) -> InitializationOptions:
    options = server.create_initialization_options(NotificationOptions(resources_changed=False))
    if options.capabilities.resources is not None:
        options.capabilities.resources.subscribe = True  # the SDK leaves it False; we do notify
    return options
