"""The MCP server over streamable HTTP in the sidecar, driven by the SDK's own client: tool list
size, resources, proposals (approve/reject/expiry/replay/changed), per-agent token isolation, the
trading-state policy on both doors, budgets, and bad input that leaves the server running."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pydantic import AnyUrl

from models.audit import AuditAction
from tests.mcp_support import ALPHA, BETA, error_text, mcp_session, result_json, sidecar
from tests.test_api_support import AUTH, inbox_files, make_snapshot, order_body
from utils.audit_reader import read_file_trail
from utils.order_inbox import read_request

ORDER = {"underlying": "GOOG", "right": "call", "strike": 760.0, "expiry": "2016-01-15", "side": "buy",
         "quantity": 1, "order_type": "limit", "limit_price": 12.5, "confidence": 0.7, "reasoning": "skew cheap"}
CLOSE = {"position_id": "P00001", "confidence": 0.9, "reasoning": "take the profit"}


def audited(tmp_path: Path, action: AuditAction) -> list[Any]:
    return [e for e in read_file_trail(tmp_path / "audit").entries if e.action is action]


def run(coroutine: Any) -> Any:
    return anyio.run(lambda: coroutine)


async def call(url: str, token: str, tool: str, args: dict[str, Any]) -> Any:
    async with mcp_session(url, token) as session:
        return await session.call_tool(tool, args)


def test_tools_list_has_at_most_12_tools_in_under_4000_tokens(tmp_path: Path, monkeypatch: Any) -> None:
    async def listing(url: str) -> Any:
        async with mcp_session(url, ALPHA) as session:
            return await session.list_tools()

    with sidecar(tmp_path, monkeypatch) as server:
        tools = run(listing(server.mcp_url))
    assert 1 <= len(tools.tools) <= 12
    assert len(tools.model_dump_json(by_alias=True, exclude_none=True)) / 4 <= 4000
    assert {"get_positions", "check_order", "propose_order", "propose_close", "propose_roll", "cancel_proposal",
            "get_proposal", "explain_position", "run_backtest", "get_option_chain", "get_risk_state"} == {
        t.name for t in tools.tools}


def test_resources_read_snapshot_positions_limits_and_an_audit_chain(tmp_path: Path, monkeypatch: Any) -> None:
    risk = {"trading_state": "active", "limits": {"max_open_positions": 10}}

    async def read_all(url: str) -> dict[str, Any]:
        async with mcp_session(url, ALPHA) as session:
            listed = await session.list_resources()
            out: dict[str, Any] = {"listed": sorted(str(r.uri) for r in listed.resources)}
            for uri in ("bot://snapshot", "bot://positions", "bot://risk/limits"):
                contents = (await session.read_resource(AnyUrl(uri))).contents[0]
                out[uri] = json.loads(contents.text)
            proposal = result_json(await session.call_tool("propose_order", ORDER))
            chain = (await session.read_resource(AnyUrl(f"bot://audit/{proposal['correlation_id']}"))).contents[0]
            out["chain"] = json.loads(chain.text)
            return out

    with sidecar(tmp_path, monkeypatch, snapshot=make_snapshot(risk=risk)) as server:
        out = run(read_all(server.mcp_url))
    assert out["listed"] == ["bot://positions", "bot://risk/limits", "bot://snapshot"]
    assert out["bot://snapshot"]["data"]["ticker"] == "GOOG"
    assert [p["id"] for p in out["bot://positions"]["data"]] == ["P00001"]
    assert out["bot://risk/limits"]["data"] == {"max_open_positions": 10}
    assert [e["action"] for e in out["chain"]["entries"]] == ["proposal.create"]


def test_a_subscriber_is_notified_when_the_snapshot_changes(tmp_path: Path, monkeypatch: Any) -> None:
    seen: list[str] = []

    async def handler(message: Any) -> None:
        root = getattr(message, "root", None)
        if root is not None and getattr(root, "method", "") == "notifications/resources/updated":
            seen.append(str(root.params.uri))

    async def subscribe_then_change(url: str, storage: Path) -> None:
        async with mcp_session(url, ALPHA, message_handler=handler) as session:
            await session.subscribe_resource(AnyUrl("bot://positions"))
            from tests.test_api_support import write_snapshot
            write_snapshot(storage, make_snapshot(underlying_price=760.0))
            with anyio.fail_after(10):
                while not seen:
                    await session.send_ping()
                    await anyio.sleep(0.05)

    with sidecar(tmp_path, monkeypatch) as server:
        run(subscribe_then_change(server.mcp_url, tmp_path / "storage"))
    assert seen == ["bot://positions"]


def test_propose_then_a_person_approves_and_the_exact_order_is_in_the_inbox(tmp_path: Path,
                                                                             monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch) as server:
        proposal = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        assert proposal["status"] == "pending" and inbox_files(tmp_path / "storage") == []
        assert proposal["preview"]["cash_flow"] == -1250.0 and proposal["preview"]["credit_debit"] == "debit"
        approved = server.approve(proposal)
        replayed = server.approve(proposal)
        seen = result_json(run(call(server.mcp_url, ALPHA, "get_proposal", {"proposal_id": proposal["proposal_id"]})))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert replayed.status_code == 409 and "already approved" in replayed.json()["detail"]
    [path] = inbox_files(tmp_path / "storage")
    request = read_request(path.read_text())
    assert request.actor == "agent:alpha" and request.actor_type == "ai_agent"
    assert request.order is not None and request.order.to_dict()["limit_price"] == 12.5
    assert request.request_id == proposal["correlation_id"] and seen["status"] == "approved"
    chain = [e.action for e in read_file_trail(tmp_path / "audit").entries
             if e.correlation_id == proposal["correlation_id"]]
    assert chain == [AuditAction.PROPOSAL_CREATE, AuditAction.PROPOSAL_APPROVE, AuditAction.ORDER_SUBMIT]
    [approval] = audited(tmp_path, AuditAction.PROPOSAL_APPROVE)
    assert approval.actor == "ops:dana" and approval.actor_type == "human"


def test_a_changed_order_an_expired_proposal_and_a_rejected_one_are_refused(tmp_path: Path,
                                                                             monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch) as server:
        first = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        changed = server.approve({**first, "order_digest": "0" * 64})
        second = result_json(run(call(server.mcp_url, ALPHA, "propose_order", {**ORDER, "quantity": 2})))
        runtime = server.app.state.mcp_runtime
        real_clock = runtime.clock
        runtime.clock = lambda: real_clock() + timedelta(seconds=121)
        expired = server.approve(second)
        runtime.clock = real_clock
        rejected = server.post(f"/api/v1/proposals/{first['proposal_id']}/reject",
                               {"approver": "ops:dana", "reason": "not today"})
        after_reject = server.approve(first)
        by_agent = server.post(f"/api/v1/proposals/{first['proposal_id']}/approve",
                               {"order_digest": first["order_digest"], "approver": "agent:alpha"})
    assert changed.status_code == 409 and "changed" in changed.json()["detail"]
    assert expired.status_code == 410
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert after_reject.status_code == 409
    assert by_agent.status_code == 422
    assert inbox_files(tmp_path / "storage") == []


def test_agents_are_isolated_by_their_own_tokens(tmp_path: Path, monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch) as server:
        mine = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        theirs = run(call(server.mcp_url, BETA, "get_proposal", {"proposal_id": mine["proposal_id"]}))
        cancel = run(call(server.mcp_url, BETA, "cancel_proposal", {"proposal_id": mine["proposal_id"]}))
        no_token = httpx.post(server.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        api_token = httpx.post(server.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                               headers=AUTH)
        own = result_json(run(call(server.mcp_url, ALPHA, "cancel_proposal", {"proposal_id": mine["proposal_id"]})))
    assert "no proposal" in error_text(theirs) and "no proposal" in error_text(cancel)
    assert no_token.status_code == 401 and api_token.status_code == 401
    assert [e.resource_id for e in audited(tmp_path, AuditAction.AUTH_FAILED)] == ["/mcp", "/mcp"]
    assert own["status"] == "cancelled"
    trail = read_file_trail(tmp_path / "audit").entries
    assert {e.actor for e in trail if e.action is AuditAction.AGENT_TOOL_CALL} == {"agent:alpha", "agent:beta"}
    assert all(ALPHA not in e.to_json() and BETA not in e.to_json() for e in trail)


def test_halted_refuses_all_but_closes_and_reducing_refuses_added_exposure(tmp_path: Path,
                                                                           monkeypatch: Any) -> None:
    halted = make_snapshot(risk={"circuit_breaker": {"state": "halted"}, "limits": {}})
    with sidecar(tmp_path, monkeypatch, snapshot=halted) as server:
        opened = run(call(server.mcp_url, ALPHA, "propose_order", ORDER))
        closed = result_json(run(call(server.mcp_url, ALPHA, "propose_close", CLOSE)))
        rest = httpx.post(f"{server.base}/api/v1/orders", json=order_body(), headers=AUTH)
    assert result_json(opened)["status"] == "refused"
    assert any("HALTED" in v or "halted" in v for v in result_json(opened)["precheck"]["violations"])
    assert closed["status"] == "pending" and closed["precheck"]["adds_exposure"] is False
    assert rest.status_code == 422

    reducing = make_snapshot(risk={"trading_state": "reducing", "circuit_breaker": {"state": "reducing"}})
    with sidecar(tmp_path / "r", monkeypatch, snapshot=reducing, risk_precheck="off") as server:
        opened = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        rest = httpx.post(f"{server.base}/api/v1/orders", json=order_body(), headers=AUTH)
        human = httpx.post(f"{server.base}/api/v1/orders", json=order_body(actor="ops:dana", actor_type="human"),
                           headers=AUTH)
    assert opened["status"] == "refused" and "REDUCING" in " ".join(opened["precheck"]["violations"])
    assert rest.status_code == 422 and "REDUCING" in rest.text  # the REST door applies the same policy
    assert human.status_code == 202  # people are not agents


def test_autonomous_mode_queues_within_budget_and_falls_back_to_manual_beyond(tmp_path: Path,
                                                                              monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch, approval_mode="autonomous") as server:
        first = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        second = result_json(run(call(server.mcp_url, ALPHA, "propose_order", {**ORDER, "strike": 770.0})))
        third = result_json(run(call(server.mcp_url, ALPHA, "propose_order", {**ORDER, "strike": 780.0})))
        too_big = result_json(run(call(server.mcp_url, BETA, "propose_order", {**ORDER, "quantity": 3})))
        beta_ok = result_json(run(call(server.mcp_url, BETA, "propose_order", ORDER)))
    assert first["status"] == "approved" and second["status"] == "approved"
    assert third["status"] == "pending" and any("orders per day" in r for r in third["needs_approval"])
    assert too_big["status"] == "pending" and any("contracts per order" in r for r in too_big["needs_approval"])
    assert beta_ok["status"] == "approved"  # one agent's spending is not another's
    requests = [read_request(p.read_text()) for p in inbox_files(tmp_path / "storage")]
    assert sorted(r.actor for r in requests) == ["agent:alpha", "agent:alpha", "agent:beta"]


@pytest.mark.parametrize(("tool", "args", "message"), [
    ("no_such_tool", {}, "Unknown tool"),
    ("propose_order", {**ORDER, "quantity": "three"}, "invalid input at quantity"),
    ("propose_order", {**ORDER, "reasoning": "x" * 5000}, "invalid input at reasoning"),
    ("propose_order", {**ORDER, "strike": -1}, "invalid input at strike"),
    ("propose_order", {**ORDER, "unexpected": 1}, "invalid input"),
    ("get_proposal", {"proposal_id": "../../etc/passwd"}, "not a proposal id"),
    ("propose_close", {**CLOSE, "position_id": "P99999"}, "no open position"),
])
def test_bad_input_is_an_error_result_audited_and_the_server_keeps_running(
        tmp_path: Path, monkeypatch: Any, tool: str, args: dict[str, Any], message: str) -> None:
    async def bad_then_good(url: str) -> tuple[Any, Any]:
        async with mcp_session(url, ALPHA) as session:
            return await session.call_tool(tool, args), await session.call_tool("get_positions", {})

    with sidecar(tmp_path, monkeypatch) as server:
        bad, good = run(bad_then_good(server.mcp_url))
    assert message in error_text(bad)
    assert not good.isError
    [failed] = [e for e in audited(tmp_path, AuditAction.AGENT_TOOL_CALL) if e.metadata.get("ok") is False]
    assert failed.actor == "agent:alpha" and failed.reason


def test_an_unknown_resource_is_an_mcp_error_and_audited(tmp_path: Path, monkeypatch: Any) -> None:
    async def read_unknown(url: str) -> str:
        async with mcp_session(url, ALPHA) as session:
            try:
                await session.read_resource(AnyUrl("bot://nothing"))
            except Exception as exc:
                positions = await session.call_tool("get_positions", {})
                assert not positions.isError
                return str(exc)
            return "no error"

    with sidecar(tmp_path, monkeypatch) as server:
        message = run(read_unknown(server.mcp_url))
    assert "unknown resource" in message
    assert [e.resource_id for e in audited(tmp_path, AuditAction.AGENT_TOOL_CALL)
            if e.resource_type == "mcp_resource"] == ["bot://nothing"]


def test_a_session_belongs_to_the_agent_that_opened_it(tmp_path: Path, monkeypatch: Any) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    accept = {"Accept": "application/json, text/event-stream"}
    with sidecar(tmp_path, monkeypatch) as server:
        opened = httpx.post(server.mcp_url, json=init, headers={**accept, "Authorization": f"Bearer {ALPHA}"})
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"}
        own = httpx.post(server.mcp_url, json=listing, headers={**accept, **session,
                                                                "Authorization": f"Bearer {ALPHA}"})
        other = httpx.post(server.mcp_url, json=listing, headers={**accept, **session,
                                                                  "Authorization": f"Bearer {BETA}"})
    assert opened.status_code == 200 and own.status_code in (200, 202)
    assert other.status_code == 404


def test_a_person_lists_the_pending_proposals_with_a_summary(tmp_path: Path, monkeypatch: Any) -> None:
    with sidecar(tmp_path, monkeypatch) as server:
        first = result_json(run(call(server.mcp_url, ALPHA, "propose_order", ORDER)))
        second = result_json(run(call(server.mcp_url, BETA, "propose_order", {**ORDER, "strike": 770.0})))
        server.approve(first)
        pending = httpx.get(f"{server.base}/api/v1/proposals", params={"status": "pending"}, headers=AUTH).json()
        everything = httpx.get(f"{server.base}/api/v1/proposals", headers=AUTH).json()
        no_token = httpx.get(f"{server.base}/api/v1/proposals")
    assert [p["proposal_id"] for p in pending["items"]] == [second["proposal_id"]]
    assert pending["items"][0]["agent"] == "beta" and pending["items"][0]["summary"].startswith("open: buy 1 GOOG")
    assert {p["status"] for p in everything["items"]} == {"pending", "approved"}
    assert no_token.status_code == 401
    [created, _] = audited(tmp_path, AuditAction.PROPOSAL_CREATE)
    assert created.after_state["status"] == "pending"  # what the pending-approval notification looks for
