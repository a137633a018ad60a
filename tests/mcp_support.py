"""Helpers for the MCP tests: an agent policy file, the sidecar under uvicorn on 127.0.0.1 (a free
port, in a thread), and the SDK's own client over streamable HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client

from api.app import create_app
from models.agent_policy import hash_token
from tests.test_api_kill9 import free_port
from tests.test_api_support import AUTH, make_settings, write_snapshot

ALPHA = "agt_alpha_" + "Q3x9LmP2vR7tK4nZ8wB1"
BETA = "agt_beta_" + "H6jD2sF9gA4kL7pX3cV5"
BUDGET = {"orders_per_day": 2, "contracts_per_order": 2, "premium_at_risk_per_day": 5000.0,
          "allowed_actions": ["open", "close"], "allowed_underlyings": ["GOOG"]}


def write_policy(tmp_path: Path, approval_mode: str = "manual", budget: dict[str, Any] | None = None) -> Path:
    doc = {"approval_mode": approval_mode, "proposal_ttl_seconds": 120,
           "agents": [{"name": "alpha", "token_sha256": hash_token(ALPHA), "budget": budget or BUDGET},
                      {"name": "beta", "token_sha256": hash_token(BETA), "budget": budget or BUDGET}]}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "agents.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@dataclass
class Sidecar:
    app: FastAPI
    base: str

    @property
    def mcp_url(self) -> str:
        return f"{self.base}/mcp"

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base}{path}", json=body, headers=AUTH, timeout=10)

    def approve(self, proposal: dict[str, Any], approver: str = "ops:dana") -> httpx.Response:
        return self.post(f"/api/v1/proposals/{proposal['proposal_id']}/approve",
                         {"order_digest": proposal["order_digest"], "approver": approver})


@contextmanager
def sidecar(tmp_path: Path, monkeypatch: Any, approval_mode: str = "manual", snapshot: Any = None,
            budget: dict[str, Any] | None = None, **settings: Any) -> Iterator[Sidecar]:
    monkeypatch.setenv("MCP_AGENT_POLICY_FILE", str(write_policy(tmp_path, approval_mode, budget)))
    monkeypatch.setenv("MCP_PROPOSALS_DIR", str(tmp_path / "proposals"))
    if snapshot is not False:
        write_snapshot(tmp_path / "storage", snapshot)
    app = create_app(make_settings(tmp_path, ws_poll_interval_seconds=0.05, **settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sidecar did not start")
        time.sleep(0.01)
    try:
        yield Sidecar(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def mcp_session(url: str, token: str | None, **session_args: Any) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(10, read=30)) as client, \
            streamable_http_client(url, http_client=client) as (read, write, _), \
            ClientSession(read, write, **session_args) as session:
        await session.initialize()
        yield session


def result_json(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.isError, result.content
    assert result.structuredContent is not None
    return result.structuredContent


def error_text(result: types.CallToolResult) -> str:
    assert result.isError
    first = result.content[0]
    assert isinstance(first, types.TextContent)
    return first.text
