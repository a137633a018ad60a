"""Hostile inbox files and values (issue 15): every reader survives any single bad file, types are
never coerced, and halt/resume are acted on before orders."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from utils.order_inbox import (
    InboxAction,
    InboxFormatError,
    InboxRequest,
    OrderSpec,
    derive_request_id,
    order_for_processing,
    read_request,
)

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def submit_doc(**order_changes: object) -> dict[str, object]:
    spec = OrderSpec(underlying="GOOG", right="call", strike=760.0, expiry=date(2016, 1, 15), side="buy",
                     quantity=2, order_type="limit", limit_price=12.5, confidence=0.8, reasoning="skew")
    request = InboxRequest(request_id=derive_request_id("k-1"), idempotency_key="k-1", submitted_at=NOW,
                           actor="agent:alpha", actor_type="ai_agent", action=InboxAction.SUBMIT, order=spec)
    doc = request.to_dict()
    doc["order"].update(order_changes)  # type: ignore[union-attr]
    return doc


POISON: dict[str, bytes] = {
    "nested_100k_deep": b"[" * 100_000 + b"]" * 100_000,
    "integer_over_4300_digits": b'{"schema_version": ' + b"9" * 5000 + b"}",
    "not_utf8": b'{"schema_version": 1, "kind": "\xff\xfe"}',
    "torn": b'{"schema_version": 1, "kind": "options_bot_inbox_re',
    "huge_strike_integer": json.dumps(submit_doc(strike=10 ** 400)).encode(),
}


@pytest.mark.parametrize("name", sorted(POISON))
def test_a_poison_file_is_a_format_error_never_another_exception(name: str) -> None:
    with pytest.raises(InboxFormatError):
        read_request(POISON[name])


@pytest.mark.parametrize("changes", [
    {"quantity": True}, {"quantity": "3"}, {"quantity": 2.0}, {"strike": "760"}, {"strike": True},
    {"expiry": 1452816000}, {"limit_price": "12.5"}, {"confidence": False},
])
def test_types_are_never_coerced(changes: dict[str, object]) -> None:
    with pytest.raises(InboxFormatError):
        read_request(json.dumps(submit_doc(**changes)))


@pytest.mark.parametrize("text", ["Infinity", "NaN", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    raw = json.dumps(submit_doc()).replace('"strike": 760.0', f'"strike": {text}')
    assert text in raw
    with pytest.raises(InboxFormatError):
        read_request(raw)


@pytest.mark.parametrize(("field", "value"), [
    ("actor", "agent\ud800"), ("actor", "agent\x00x"), ("actor", "two\nlines"), ("reason", "halt \x1b[31m"),
    ("reason", "lone \udfff"),
])
def test_control_characters_and_lone_surrogates_are_refused(field: str, value: str) -> None:
    fields: dict[str, object] = {"actor": "user:ops", "reason": "news pending", field: value}
    with pytest.raises(InboxFormatError):
        InboxRequest(request_id=derive_request_id("h-1"), idempotency_key="h-1", submitted_at=NOW,
                     actor_type="human", action=InboxAction.HALT, **fields)  # type: ignore[arg-type]


def test_free_text_may_hold_newlines_and_tabs() -> None:
    request = InboxRequest(request_id=derive_request_id("h-2"), idempotency_key="h-2", submitted_at=NOW,
                           actor="user:ops", actor_type="human", action=InboxAction.HALT,
                           reason="news pending:\n\t- FOMC")
    assert read_request(request.to_json()) == request


def test_halt_and_resume_come_before_earlier_orders() -> None:
    def request(key: str, action: InboxAction, minutes: int) -> InboxRequest:
        doc = submit_doc()
        order = OrderSpec.from_dict(doc["order"]) if action is InboxAction.SUBMIT else None
        return InboxRequest(request_id=derive_request_id(key), idempotency_key=key,
                            submitted_at=NOW + timedelta(minutes=minutes), actor="user:ops", actor_type="human",
                            action=action, order=order,
                            reason=None if action is InboxAction.SUBMIT else "ops")
    orders = [request(f"o{i}", InboxAction.SUBMIT, i) for i in range(3)]
    halt, resume = request("halt", InboxAction.HALT, 10), request("resume", InboxAction.RESUME, 5)
    ordered = order_for_processing([*orders, halt, resume])
    assert ordered == [resume, halt, *orders]
