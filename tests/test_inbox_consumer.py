"""Requests from people and agents reach the running algorithm (issue 7, algorithm side): through
the Object Store inbox and as LEAN commands, through the same gateway, once per id, restarts too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from execution.risk.circuit_breaker import TradingState
from harness.runner import run
from models.audit import AuditAction
from utils.audit_reader import read_storage_folder_trail
from utils.order_inbox import (
    InboxAction,
    InboxOutcome,
    InboxRequest,
    OrderSpec,
    OutcomeStatus,
    derive_request_id,
    outcome_key,
    read_outcome,
    to_lean_command,
    write_request_atomically,
)

EXPIRY = date(2016, 1, 15)  # the January monthly, listed by the synthetic market
SUBMITTED = datetime(2015, 12, 22, 20, 0, tzinfo=UTC)
QUIET = {"entry_enabled": "false", "stop_loss_pct": "0"}  # only requests trade, and nothing closes


def submit(key: str, quantity: int = 1, side: str = "sell", strike: float = 700.0,
           actor_type: str = "ai_agent", **order: object) -> InboxRequest:
    spec = OrderSpec(underlying=str(order.pop("underlying", "GOOG")), right="put", strike=strike, expiry=EXPIRY,
                     side=side, quantity=quantity, order_type="market", limit_price=None, confidence=0.7,
                     reasoning="IV rich after the selloff")
    return InboxRequest(derive_request_id(key), key, SUBMITTED, "agent:vol_seller", actor_type,
                        InboxAction.SUBMIT, order=spec)


def control(key: str, action: InboxAction, reason: str) -> InboxRequest:
    return InboxRequest(derive_request_id(key), key, SUBMITTED, "user:ops@example.com", "human", action,
                        reason=reason)


def outcome(storage: Path, request: InboxRequest) -> InboxOutcome:
    return read_outcome((storage / outcome_key(request.request_id)).read_text())


def test_an_agents_order_from_the_inbox_is_placed_once_and_answered(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    request = submit("agent-order-1", quantity=2)
    assert write_request_atomically(storage, request)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    answer = outcome(storage, request)
    assert answer.status is OutcomeStatus.ACCEPTED and len(answer.order_ids) == 1
    (position,) = engine.algorithm.adapter.bot.book.open_positions()
    assert position.quantity == -2 and position.correlation_id == request.request_id
    trail = read_storage_folder_trail(storage).entries
    story = [e for e in trail if e.correlation_id == request.request_id]
    assert story[0].action == AuditAction.ORDER_SUBMIT and story[0].actor == "agent:vol_seller"
    assert any(e.action == AuditAction.MANUAL_INTERVENTION and e.actor_type == "ai_agent" for e in story)


def test_an_order_beyond_the_risk_limits_is_rejected_with_the_reason(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    request = submit("too-big", quantity=500)
    write_request_atomically(storage, request)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    answer = outcome(storage, request)
    assert answer.status is OutcomeStatus.REJECTED and answer.order_ids == ()
    assert any("order_value" in reason or "position_size" in reason for reason in answer.reasons)
    assert engine.algorithm.adapter.bot.book.positions == {}


def test_a_malformed_or_foreign_request_is_answered_and_the_algorithm_carries_on(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    (storage / "options_bot" / "inbox").mkdir(parents=True)
    (storage / "options_bot" / "inbox" / "req_torn.json").write_text('{"schema_version": 1, "kind": "order_re')
    wrong_underlying = submit("spy-order", underlying="SPY")
    write_request_atomically(storage, wrong_underlying)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    torn = read_outcome((storage / "options_bot" / "outbox" / "req_torn.json").read_text())
    assert torn.status is OutcomeStatus.UNREADABLE and "malformed" in torn.reasons[0]
    assert outcome(storage, wrong_underlying).status is OutcomeStatus.REJECTED
    assert engine.algorithm.adapter.bot.counters["component_failures"] == 0


def test_poison_files_are_quarantined_and_a_halt_still_gets_through(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    inbox = storage / "options_bot" / "inbox"
    inbox.mkdir(parents=True)
    poison = {"req_deep": b"[" * 100_000 + b"]" * 100_000, "req_digits": b"9" * 5000, "req_bytes": b"\xff\xfe{"}
    for name, data in poison.items():
        (inbox / f"{name}.json").write_bytes(data)
    order, halt = submit("after-poison"), control("halt-after-poison", InboxAction.HALT, "poison seen")
    for request in (order, halt):
        write_request_atomically(storage, request)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    bot = engine.algorithm.adapter.bot
    assert bot.breaker.state is TradingState.HALTED and bot.book.positions == {}
    assert outcome(storage, halt).status is OutcomeStatus.DONE
    assert outcome(storage, order).status is OutcomeStatus.REJECTED  # halted first, so the order is refused
    for name in poison:
        answer = read_outcome((storage / outcome_key(name)).read_text())
        assert answer.status is OutcomeStatus.UNREADABLE and "malformed" in answer.reasons[0]
    trail = read_storage_folder_trail(storage).entries
    assert sorted(e.resource_id for e in trail if e.after_state == {"status": "unreadable"}) == sorted(poison)
    assert bot.counters["component_failures"] == 0 and not bot.entries_suspended


def test_poison_outcome_files_do_not_stop_the_start_up(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    outbox = storage / "options_bot" / "outbox"
    outbox.mkdir(parents=True)
    (outbox / "req_bytes.json").write_bytes(b"\xff\xfe{")
    (outbox / "req_deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    halt = control("halt-after-poison-outcomes", InboxAction.HALT, "poison outcomes seen")
    write_request_atomically(storage, halt)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    assert engine.algorithm.adapter.bot.breaker.state is TradingState.HALTED
    assert outcome(storage, halt).status is OutcomeStatus.DONE


def test_halt_then_resume_are_audited_with_actor_and_reason(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    halt = control("halt-1", InboxAction.HALT, "news pending")
    write_request_atomically(storage, halt)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides={})
    bot = engine.algorithm.adapter.bot
    assert bot.breaker.state is TradingState.HALTED and bot.book.positions == {}  # no entries while halted
    trail = read_storage_folder_trail(storage).entries
    trip = next(e for e in trail if e.action == AuditAction.CIRCUIT_BREAKER_TRIP)
    assert trip.after_state is not None and trip.after_state["trigger"] == "manual_halt"
    resume = control("resume-1", InboxAction.RESUME, "news out, spreads normal")
    adapter = engine.algorithm.adapter
    adapter.inbox.handle(resume)
    assert bot.breaker.state is TradingState.ACTIVE


def test_a_lean_command_and_the_inbox_with_the_same_id_act_once(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    request = submit("dup-1")
    write_request_atomically(storage, request)
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    assert engine._send_command(to_lean_command(request)) is True  # queued ...
    engine.algorithm.adapter._requests(None)  # ... and seen as a duplicate at the next slice
    (position,) = engine.algorithm.adapter.bot.book.open_positions()
    assert position.quantity == -1


def test_a_lean_command_alone_places_the_order(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides={**QUIET, "inbox_poll_minutes": "0"})
    request = submit("cmd-1")
    assert engine._send_command(to_lean_command(request))
    chain = next(iter(engine._chains.values()))
    engine.algorithm.adapter._requests(chain)
    assert outcome(storage, request).status is OutcomeStatus.ACCEPTED


def test_a_command_with_a_broken_payload_is_refused() -> None:
    from main import OptionsBotInboxCommand

    class Adapter:
        def queue_command(self, text: str) -> bool:
            from execution.lean_adapter import LeanBotAdapter
            return LeanBotAdapter._queue_command(self, text)  # type: ignore[arg-type]

        _commands: list = []

    class Algorithm:
        adapter = Adapter()

    command = OptionsBotInboxCommand()
    command.request_json = "{not json"
    assert command.run(Algorithm()) is False


def test_a_request_claimed_before_a_restart_is_closed_not_repeated(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    request = submit("crash-1")
    write_request_atomically(storage, request)
    claimed = InboxOutcome(request.request_id, OutcomeStatus.PROCESSING, SUBMITTED)
    (storage / outcome_key(request.request_id)).parent.mkdir(parents=True, exist_ok=True)
    (storage / outcome_key(request.request_id)).write_text(claimed.to_json())
    engine, _ = run(days=1, start=None, seed=7, storage=storage, overrides=QUIET)
    answer = outcome(storage, request)
    assert answer.status is OutcomeStatus.DONE and "restart" in answer.reasons[0]
    assert engine.algorithm.adapter.bot.book.positions == {}
