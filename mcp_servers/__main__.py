"""``python -m mcp_servers``: the MCP server over stdio for a desktop agent client.

The agent is named by its token in ``MCP_AGENT_TOKEN`` (checked against the hashed tokens of
``MCP_AGENT_POLICY_FILE``); the server refuses to start without a known agent. Logs go to stderr
(stdout carries the protocol). See README "AI agents (MCP)".
"""

from __future__ import annotations

import logging
import os
import sys

import anyio
from mcp.server.stdio import stdio_server

from mcp_servers.mcp_app import build_server, initialization_options
from mcp_servers.resources import SnapshotNotifier
from mcp_servers.trading_server import TradingMCPServer
from services.agent_runtime import runtime_from_env
from utils.logging_config import configure_logging, get_logger

logger = get_logger(__name__)
NOTIFY_INTERVAL_SECONDS = 1.0


async def serve() -> None:
    runtime = runtime_from_env()
    agent = runtime.policy.agent_for_token(os.environ.get("MCP_AGENT_TOKEN"))
    if agent is None:
        logger.error("MCP_STDIO_NO_AGENT", extra={"hint": "set MCP_AGENT_TOKEN to a token of MCP_AGENT_POLICY_FILE"})
        raise SystemExit("MCP_AGENT_TOKEN does not belong to an agent of MCP_AGENT_POLICY_FILE")
    tools = TradingMCPServer(runtime)
    notifier = SnapshotNotifier(runtime)
    server = build_server(tools, notifier, lambda _request: agent, "stdio")
    logger.info("MCP_STDIO_STARTED", extra={"agent": agent.name, "approval_mode": runtime.policy.approval_mode.value})
    async with stdio_server() as (read_stream, write_stream), anyio.create_task_group() as group:
        group.start_soon(notifier.run, NOTIFY_INTERVAL_SECONDS)
        await server.run(read_stream, write_stream, initialization_options(server))
        group.cancel_scope.cancel()


def main() -> int:
    level = os.environ.get("LOG_LEVEL", "INFO")
    logging.basicConfig(stream=sys.stderr, level=level)  # the SDK's own logs
    configure_logging(level=level, structured=True, stream=sys.stderr)  # ours; stdout is the protocol
    anyio.run(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
