"""A roll from a person or an agent is ONE inbox request of kind ``roll`` that the algorithm's inbox
consumer hands to the roll manager: one combo order through the pre-trade gateway, its legs and
fills under the request id (the proposal's correlation id); a roll the book no longer allows is
rejected with the reason and audited (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx

from harness.lean_enums import OrderType
from harness.runner import run
from models.audit import AuditAction
from tests.mcp_support import ALPHA, mcp_session, result_json, sidecar
from tests.test_api_support import AUTH
from utils.audit_reader import read_storage_folder_trail
from utils.object_store_schema import STATE_KEY, StateSnapshot, parse_state_snapshot
from utils.order_inbox import (
    INBOX_PREFIX,
    InboxAction,
    InboxFormatError,
    InboxOutcome,
    InboxRequest,
    OutcomeStatus,
    RollSpec,
    derive_request_id,
    outcome_key,
    read_outcome,
    read_request,
    write_request_atomically,
)

QUIET = {"stop_loss_pct": "0", "roll_enabled": "false"}  # day 1 opens a short put; nothing else closes it
SUBMITTED = datetime(2015, 12, 23, 22, 0, tzinfo=UTC)


def held_and_later(storage: Path) -> tuple[StateSnapshot, Any, str]:
    snapshot = parse_state_snapshot((storage / STATE_KEY).read_text())
    [held] = [p for p in snapshot.positions if p.status != "closed"]
    assert snapshot.option_chain is not None
    later = min(c.expiry for c in snapshot.option_chain.contracts if c.expiry > held.expiry)
    return snapshot, held, later


def roll_request(key: str, held: Any, new_expiry: str, minutes: int = 0, **changes: Any) -> InboxRequest:
    values: dict[str, Any] = {
        "position_id": held.id, "underlying": held.underlying, "right": held.right, "strike": held.strike,
        "expiry": date.fromisoformat(held.expiry), "side": held.side, "quantity": abs(held.quantity),
        "new_strike": held.strike, "new_expiry": date.fromisoformat(new_expiry), "order_type": "market",
        "limit_price": None, "confidence": 0.8, "reasoning": "more time for the thesis"}
    values.update(changes)
    return InboxRequest(derive_request_id(key), key, SUBMITTED + timedelta(minutes=minutes), "agent:roller",
                        "ai_agent", InboxAction.ROLL, roll=RollSpec(**values))


def held_symbol(request: InboxRequest) -> str:
    spec = request.roll
    assert spec is not None
    return f"GOOG  {spec.expiry:%y%m%d}{spec.right[0].upper()}{round(spec.strike * 1000):08d}"


def write_through(engine: Any) -> None:
    """The harness store persists every 5 s of wall time, as LEAN's does; a day takes less here, so
    the sidecar (another reader of the folder) sees each write at once instead."""
    engine.object_store._interval = 0.0


def outcome(storage: Path, request: InboxRequest) -> InboxOutcome:
    return read_outcome((storage / outcome_key(request.request_id)).read_text())


def test_a_roll_spec_refuses_an_earlier_expiry_the_same_contract_and_a_zero_net_limit() -> None:
    held = type("Held", (), {"id": "P1", "underlying": "GOOG", "right": "put", "strike": 700.0,
                             "expiry": "2016-01-15", "side": "short", "quantity": -3})()
    for later, changes, message in (("2016-01-08", {}, "before the held expiry"),
                                    ("2016-01-15", {}, "is the held one"),
                                    ("2016-02-19", {"order_type": "limit", "limit_price": 0.0}, "non-zero net price"),
                                    ("2016-02-19", {"confidence": None}, "confidence: required")):
        try:
            roll_request("bad", held, later, **changes)
        except InboxFormatError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{changes} was accepted")
    same_expiry_new_strike = roll_request("ok", held, "2016-01-15", new_strike=690.0)
    assert read_request(same_expiry_new_strike.to_json()) == same_expiry_new_strike


def test_a_roll_request_goes_out_as_one_combo_and_stale_ones_are_rejected_with_the_reason(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    requests: dict[str, InboxRequest] = {}

    def after_day(done: int, _total: int) -> None:
        if done != 1:
            return
        _, held, later = held_and_later(storage)
        requests["half"] = roll_request("half", held, later, 0, quantity=abs(held.quantity) - 1)
        requests["wrong_strike"] = roll_request("wrong-strike", held, later, 1, strike=held.strike + 5)
        requests["roll"] = roll_request("roll", held, later, 2)
        requests["again"] = roll_request("again", held, later, 3)
        requests["unknown"] = roll_request("unknown", held, later, 4, position_id="P99999")
        for request in requests.values():
            assert write_request_atomically(storage, request)

    engine, _ = run(days=2, start=None, seed=7, storage=storage, overrides=QUIET, fresh=True, on_day=after_day,
                    configure=write_through)

    answers = {name: outcome(storage, request) for name, request in requests.items()}
    assert answers["roll"].status is OutcomeStatus.ACCEPTED and len(answers["roll"].order_ids) == 2  # one per leg
    for name, reason in (("half", "moves the whole position"), ("wrong_strike", "not the contract the request"),
                         ("again", "is closed"), ("unknown", "no bot-managed position P99999")):
        assert answers[name].status is OutcomeStatus.REJECTED and reason in answers[name].reasons[0], answers[name]
    roll_id = requests["roll"].request_id
    bot = engine.algorithm.adapter.bot
    [new] = bot.book.open_positions()
    assert new.correlation_id == roll_id and new.roll_history[-1]["roll_id"] == roll_id
    combo = [engine.algorithm.transactions.get_order_by_id(i) for i in answers["roll"].order_ids]
    assert {o.type for o in combo} == {OrderType.COMBO_MARKET} and len({o._group_id for o in combo}) == 1
    assert {str(o.tag) for o in combo} == {f"bot:{roll_id}"}  # one combo order: one tag, one leg per contract
    assert {str(o.symbol.value) for o in combo} == {held_symbol(requests["roll"]), new.symbol}
    trail = read_storage_folder_trail(storage).entries
    story = [e.action for e in trail if e.correlation_id == roll_id]
    assert story.count(AuditAction.ROLL_LEG_FILL) == 2 and AuditAction.ROLL_COMPLETE in story
    [start] = [e for e in trail if e.correlation_id == roll_id and e.action is AuditAction.ROLL_START]
    assert start.actor == "agent:roller" and start.actor_type == "ai_agent"
    refused = [e for e in trail if e.correlation_id == requests["half"].request_id]
    assert refused and all(e.after_state and e.after_state["status"] == "rejected" for e in refused)


def test_an_approved_propose_roll_is_one_inbox_request_that_the_algorithm_rolls(tmp_path: Path,
                                                                                monkeypatch: Any) -> None:
    storage = tmp_path / "storage"
    seen: dict[str, Any] = {}

    async def propose(url: str, held: Any, later: str) -> dict[str, Any]:
        async with mcp_session(url, ALPHA) as session:
            return result_json(await session.call_tool("propose_roll", {
                "position_id": held.id, "new_expiry": later, "confidence": 0.8, "reasoning": "more time"}))

    async def positions(url: str) -> dict[str, Any]:
        async with mcp_session(url, ALPHA) as session:
            return result_json(await session.call_tool("get_positions", {}))

    with sidecar(tmp_path, monkeypatch, snapshot=False) as server:
        def after_day(done: int, _total: int) -> None:
            if done == 1:
                _, seen["held"], later = held_and_later(storage)
                seen["proposal"] = anyio.run(propose, server.mcp_url, seen["held"], later)
                assert server.approve(seen["proposal"]).status_code == 200

        run(days=2, start=None, seed=7, storage=storage, overrides=QUIET, fresh=True, on_day=after_day,
            configure=write_through)
        after = anyio.run(positions, server.mcp_url)
        story = httpx.get(f"{server.base}/api/v1/audit", params={"correlation_id": seen["proposal"]["correlation_id"],
                                                                "limit": 200}, headers=AUTH, timeout=10).json()

    proposal, held = seen["proposal"], seen["held"]
    request_id = proposal["correlation_id"]
    assert [read_request(p.read_text()).action for p in (storage / INBOX_PREFIX).glob("*.json")] == [InboxAction.ROLL]
    assert outcome(storage, read_request((storage / INBOX_PREFIX / f"{request_id}.json").read_text())).status \
        is OutcomeStatus.ACCEPTED
    [position] = after["positions"]
    assert position["correlation_id"] == request_id and position["quantity"] == held.quantity
    assert position["expiry"] > held.expiry and position["roll_history"][-1]["from_position"] == held.id
    actions = [item["action"] for item in story["items"]]
    assert {"proposal.create", "proposal.approve", "order.submit", "roll.start", "roll.leg_fill",
            "roll.complete"} <= set(actions)
