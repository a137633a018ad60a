"""Streamable HTTP transport at ``/mcp`` in the sidecar, behind per-agent bearer tokens.

``McpHttpEndpoint`` is plain ASGI: it finds the agent whose token (SHA-256, compared in constant
time) the request carries and refuses any other request with 401 through the sidecar's
AuthFailures, which it passes in (logged AUTH_FAILED and audited, never the token; 429 for a
client that keeps failing). It hands the request to the SDK's session manager with the agent in
``scope["state"]``, where the tool handlers read it for every request. A session id is bound to the
agent that opened it: another agent's token on that session is answered 404. ``mount_mcp`` adds the
route (first, before the API's) and runs the session manager and the snapshot notifier for the
app's lifetime, over the runtime the sidecar built (services/agent_runtime.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from mcp_servers.mcp_app import build_server
from mcp_servers.resources import SnapshotNotifier
from mcp_servers.trading_server import TradingMCPServer
from models.agent_policy import AgentSpec
from services.agent_runtime import McpRuntime
from services.http_auth import bearer_token, client_address
from utils.logging_config import get_logger

logger = get_logger(__name__)

MCP_PATH = "/mcp"
AGENT_KEY = "mcp_agent"
SESSION_HEADER = "mcp-session-id"


def agent_of(request: Any) -> AgentSpec | None:
    state = getattr(request, "scope", {}).get("state") or {}
    agent = state.get(AGENT_KEY)
    return agent if isinstance(agent, AgentSpec) else None


class FailureBrake(Protocol):
    """The sidecar's failed-authentication recorder (api/auth.py AuthFailures): logs AUTH_FAILED,
    audits it, and returns a Retry-After for a client that keeps failing."""

    def record(self, client: str, where: str, reason: str, channel: str = "http") -> int | None: ...


class McpHttpEndpoint:
    def __init__(self, runtime: McpRuntime, manager: StreamableHTTPSessionManager, failures: FailureBrake) -> None:
        self._runtime = runtime
        self._manager = manager
        self._failures = failures  # the sidecar's: logged AUTH_FAILED, audited, a brake on repeat offenders
        self._owners: dict[str, str] = {}  # MCP session id -> the agent that opened it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        token, problem = bearer_token(headers.get("authorization"))
        agent = self._runtime.policy.agent_for_token(token) if token else None
        if agent is None:
            retry_after = self._failures.record(client_address(scope), MCP_PATH, problem or "unknown token", "mcp")
            status, detail = (429, "too many failed attempts") if retry_after else (
                401, "a valid agent bearer token is required")
            extra = [(b"retry-after", str(retry_after).encode())] if retry_after else []
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"), *extra]})
            await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})
            return
        session_id = headers.get(SESSION_HEADER)
        owner = self._owners.get(session_id) if session_id else None
        if owner is not None and owner != agent.name:  # a session belongs to the agent that opened it
            logger.warning("MCP_SESSION_OF_ANOTHER_AGENT", extra={"agent": agent.name})
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"detail": "no such session"}'})
            return
        scope = {**scope, "state": {**(scope.get("state") or {}), AGENT_KEY: agent}}

        async def remember_owner(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.decode("latin-1").lower() == SESSION_HEADER:
                        self._owners.setdefault(value.decode("latin-1"), agent.name)
            await send(message)

        await self._manager.handle_request(scope, receive, remember_owner)


def mount_mcp(app: FastAPI, runtime: McpRuntime, failures: FailureBrake, poll_interval_seconds: float) -> None:
    """Serve MCP at /mcp on ``app`` over ``runtime`` (the sidecar's own snapshot cache, audit,
    queue and audit index)."""
    tools = TradingMCPServer(runtime)
    notifier = SnapshotNotifier(runtime)
    server = build_server(tools, notifier, agent_of, "http")
    manager = StreamableHTTPSessionManager(app=server, stateless=False, json_response=True)
    # first: matched before the ~40 API routes on every MCP request (about a fifth of its CPU otherwise)
    app.router.routes.insert(0, Route(MCP_PATH, endpoint=McpHttpEndpoint(runtime, manager, failures),
                                      methods=["GET", "POST", "DELETE"], include_in_schema=False))
    app.state.mcp_notifier = notifier
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[Any]:
        async with previous(inner) as state, manager.run():
            task = asyncio.create_task(notifier.run(poll_interval_seconds), name="mcp-notifier")
            try:
                yield state
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)  # its failures were logged by the task

    app.router.lifespan_context = lifespan
    logger.info("MCP_HTTP_MOUNTED", extra={"path": MCP_PATH, "agents": [a.name for a in runtime.policy.agents],
                                           "approval_mode": runtime.policy.approval_mode.value})
