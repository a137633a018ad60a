"""mcp_servers/base_server.py (seed 5.3): schemas, and one handle_call that validates, logs and
audits every call without letting a bad one stop the server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from mcp_servers.base_server import BaseMCPServer, Caller, ToolCategory, ToolError, ToolSchema
from models.agent_policy import AgentSpec, hash_token
from models.audit import AuditAction
from tests.log_capture import capture
from utils.audit_logger import AuditLogger, MemoryAuditSink

AGENT = Caller(AgentSpec("alpha", hash_token("t0ken-for-tests")), "stdio")


class EchoServer(BaseMCPServer):
    def _register_tools(self) -> None:
        schema = ToolSchema("echo", "Echo a word.", ToolCategory.ANALYSIS,
                            {"word": {"type": "string", "maxLength": 10}, "token": {"type": "string"},
                             "n": {"type": "number"}}, ["word"])
        self.register_tool(schema, self._echo)
        self.register_tool(ToolSchema("boom", "Fails.", ToolCategory.RISK), self._boom)

    async def _echo(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        return {"word": args["word"], "by": caller.actor}

    async def _boom(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("disk on fire")


def make() -> tuple[EchoServer, MemoryAuditSink]:
    sink = MemoryAuditSink()
    return EchoServer(audit=AuditLogger(clock=lambda: datetime(2026, 1, 2, tzinfo=UTC), sinks=[sink])), sink


def test_to_mcp_schema_is_the_seed_shape_with_no_extra_properties() -> None:
    schema = ToolSchema("t", "d", ToolCategory.RISK, {"x": {"type": "integer"}}, ["x"]).to_mcp_schema()
    assert schema == {"name": "t", "description": "d", "inputSchema": {
        "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"], "additionalProperties": False}}


def test_a_call_is_logged_and_audited_with_the_agent_and_without_secrets() -> None:
    server, sink = make()
    with capture("options_bot.mcp_servers.base_server") as logs:
        result = anyio.run(server.handle_call, "echo", {"word": "hi", "token": "s3cret-value"}, AGENT)
    assert result == {"word": "hi", "by": "agent:alpha"}
    assert logs.events(logging.INFO) == ["TOOL_CALL", "TOOL_CALL_SUCCESS"]
    [entry] = sink.entries
    assert entry.action is AuditAction.AGENT_TOOL_CALL and entry.actor == "agent:alpha"
    assert "s3cret-value" not in entry.to_json() and all("s3cret-value" not in str(r.__dict__) for r in logs.records)


@pytest.mark.parametrize(("tool", "args", "message"), [
    ("nope", {}, "Unknown tool"), ("echo", {"word": 3}, "invalid input at word"),
    ("echo", {"word": "x" * 11}, "invalid input at word"), ("echo", {"word": "a", "n": float("nan")}, "NaN"),
    ("echo", {"word": "a", "other": 1}, "invalid input"), ("echo", ["word"], "JSON object"),
    ("boom", {}, "internal error in boom (RuntimeError)")])
def test_bad_calls_raise_a_tool_error_and_are_logged_failed_and_audited(tool: str, args: Any, message: str) -> None:
    server, sink = make()
    with capture("options_bot.mcp_servers.base_server") as logs, pytest.raises(ToolError, match=message.replace(
            "(", r"\(").replace(")", r"\)")):
        anyio.run(server.handle_call, tool, args, AGENT)
    assert "TOOL_CALL_FAILED" in logs.events(logging.ERROR)
    [entry] = sink.entries
    assert entry.metadata["ok"] is False and entry.reason


def test_a_caller_without_an_agent_is_refused() -> None:
    server, _ = make()
    with pytest.raises(ToolError, match="not authenticated"):
        anyio.run(server.handle_call, "echo", {"word": "hi"}, Caller(None, "http"))


def test_an_error_result_is_returned_instead_of_raising() -> None:
    server, _ = make()
    result = anyio.run(server.call_result, "echo", {"word": 5}, AGENT)
    ok = anyio.run(server.call_result, "echo", {"word": "fine"}, AGENT)
    assert result.isError and not ok.isError and ok.structuredContent == {"word": "fine", "by": "agent:alpha"}
