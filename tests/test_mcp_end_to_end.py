"""Propose -> a person approves -> the algorithm's inbox consumer runs it on the harness -> the fill
shows in the positions tool, with one correlation id from the proposal to the fill.

The harness runs as a subprocess (``python -m harness.runner``), as a user would run it: one day to
write a snapshot with a position (the contract to propose), then, in the same Object Store folder,
another run of the same day with the entry rule off, whose inbox consumer finds the approved request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx

from models.audit import AuditAction
from tests.mcp_support import ALPHA, mcp_session, result_json, sidecar
from tests.test_api_support import AUTH
from utils.audit_reader import read_file_trail, read_storage_folder_trail
from utils.order_inbox import outcome_key, read_outcome

REPO = Path(__file__).resolve().parent.parent


def harness(storage: Path, *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "harness.runner", "--days", "1", "--storage", str(storage),
                    "--log-file", str(storage.parent / "harness.log"), "--param", "entry_enabled=false", *extra],
                   cwd=REPO, check=True, capture_output=True, timeout=300)


def test_an_approved_proposal_is_filled_by_the_algorithm_and_shows_in_the_positions_tool(
        tmp_path: Path, monkeypatch: Any) -> None:
    storage = tmp_path / "storage"
    subprocess.run([sys.executable, "-m", "harness.runner", "--days", "1", "--storage", str(storage), "--fresh",
                    "--log-file", str(tmp_path / "harness.log")], cwd=REPO, check=True, capture_output=True,
                   timeout=300)

    async def propose() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with mcp_session(server.mcp_url, ALPHA) as session:
            before = result_json(await session.call_tool("get_positions", {}))
            [held] = before["positions"]
            explained = result_json(await session.call_tool("explain_position", {"position_id": held["id"]}))
            proposal = result_json(await session.call_tool("propose_order", {
                "underlying": held["underlying"], "right": held["right"], "strike": held["strike"],
                "expiry": held["expiry"], "side": "buy", "quantity": 1, "order_type": "market", "confidence": 0.9,
                "reasoning": "a long put on the contract the bot knows"}))
            return held, proposal, explained

    async def positions() -> dict[str, Any]:
        async with mcp_session(server.mcp_url, ALPHA) as session:
            return result_json(await session.call_tool("get_positions", {}))

    with sidecar(tmp_path, monkeypatch, snapshot=False) as server:
        held, proposal, explained = anyio.run(propose)
        assert {"order.submit", "order.fill", "trade.open"} <= set(explained["decisions"])  # the bot's own entry
        assert proposal["status"] == "pending" and proposal["precheck"]["passed"]
        assert server.approve(proposal).status_code == 200
        harness(storage)
        after = anyio.run(positions)
        story = httpx.get(f"{server.base}/api/v1/audit", params={"correlation_id": proposal["correlation_id"]},
                          headers=AUTH, timeout=10).json()

    request_id = proposal["correlation_id"]
    outcome = read_outcome((storage / outcome_key(request_id)).read_text())
    assert outcome.status.value in ("accepted", "done"), outcome.reasons
    [position] = [p for p in after["positions"] if p["symbol"] == held["symbol"]]
    # The second run starts from cash (a backtest does not carry LEAN's portfolio over): the one contract
    # held is the one the agent proposed, bought by the inbox consumer, under the proposal's correlation id.
    assert position["quantity"] == 1 and position["correlation_id"] == request_id
    algorithm = [e for e in read_storage_folder_trail(storage).entries if e.correlation_id == request_id]
    sidecar_trail = [e for e in read_file_trail(tmp_path / "audit").entries if e.correlation_id == request_id]
    assert [e.action for e in sidecar_trail][:3] == [AuditAction.PROPOSAL_CREATE, AuditAction.PROPOSAL_APPROVE,
                                                     AuditAction.ORDER_SUBMIT]
    assert AuditAction.ORDER_FILL in [e.action for e in algorithm]
    assert {e.actor for e in algorithm if e.action is AuditAction.ORDER_SUBMIT} == {"agent:alpha"}
    actions = [item["action"] for item in story["items"]]  # one query tells the whole story
    assert {"proposal.create", "proposal.approve", "order.submit", "order.fill"} <= set(actions)
