"""The inbox contract shared by the sidecar (writer) and the algorithm (reader): utils/order_inbox.py."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from utils.object_store_schema import is_valid_key
from utils.order_inbox import (
    INBOX_TMP_PREFIX,
    LEAN_COMMAND_FIELD,
    LEAN_COMMAND_TYPE,
    InboxAction,
    InboxFormatError,
    InboxOutcome,
    InboxRequest,
    OrderSpec,
    OutcomeStatus,
    derive_request_id,
    inbox_key,
    order_for_processing,
    outcome_key,
    pending_request_keys,
    read_outcome,
    read_request,
    to_lean_command,
    write_request_atomically,
)

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def submit(key: str = "k-1", **order_changes: object) -> InboxRequest:
    fields: dict[str, object] = {
        "underlying": "GOOG", "right": "call", "strike": 760.0, "expiry": date(2016, 1, 15), "side": "buy",
        "quantity": 2, "order_type": "limit", "limit_price": 12.5, "confidence": 0.8, "reasoning": "skew"}
    fields.update(order_changes)
    return InboxRequest(request_id=derive_request_id(key), idempotency_key=key, submitted_at=NOW,
                        actor="agent:alpha", actor_type="ai_agent", action=InboxAction.SUBMIT,
                        order=OrderSpec(**fields))  # type: ignore[arg-type]


def test_a_request_round_trips_through_json() -> None:
    request = submit()
    assert read_request(request.to_json()) == request
    doc = json.loads(request.to_json())
    assert doc["schema_version"] == 1 and doc["kind"] == "options_bot_inbox_request"


@pytest.mark.parametrize("cut", [1, 10, 50, -1])
def test_a_torn_request_raises_a_value_error_naming_the_problem(cut: int) -> None:
    text = submit().to_json()
    with pytest.raises(InboxFormatError, match="not valid JSON") as caught:
        read_request(text[:cut])
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(schema_version=2), "schema_version"),
    (lambda d: d.update(kind="other"), "kind"),
    (lambda d: d.update(action="buy_everything"), "unknown InboxAction"),
    (lambda d: d["order"].update(quantity=0), "quantity"),
    (lambda d: d["order"].update(quantity=True), "boolean"),
    (lambda d: d["order"].update(confidence=1.5), "confidence"),
    (lambda d: d["order"].update(limit_price=None), "limit price"),
    (lambda d: d["order"].update(underlying="../etc"), "ticker"),
    (lambda d: d.update(request_id="../../evil"), "request_id"),
    (lambda d: d.update(submitted_at="2026-01-05T14:30:00"), "time zone"),
    (lambda d: d.pop("actor"), "actor"),
])
def test_a_malformed_request_is_refused(mutate, message: str) -> None:
    doc = json.loads(submit().to_json())
    mutate(doc)
    with pytest.raises(InboxFormatError, match=message):
        read_request(json.dumps(doc))


def test_halt_needs_a_reason_and_cancel_needs_a_target() -> None:
    with pytest.raises(InboxFormatError, match="reason"):
        InboxRequest(request_id="r1", idempotency_key="h1", submitted_at=NOW, actor="ops", actor_type="human",
                     action=InboxAction.HALT)
    with pytest.raises(InboxFormatError, match="target_request_id"):
        InboxRequest(request_id="r2", idempotency_key="c1", submitted_at=NOW, actor="ops", actor_type="human",
                     action=InboxAction.CANCEL)


def test_an_ai_agent_submission_needs_a_confidence() -> None:
    with pytest.raises(InboxFormatError, match="confidence"):
        submit(confidence=None)


def test_an_outcome_round_trips_and_a_torn_one_raises() -> None:
    outcome = InboxOutcome(request_id="req_1", status=OutcomeStatus.ACCEPTED, processed_at=NOW,
                           reasons=("passed the gateway",), order_ids=(7, 8))
    assert read_outcome(outcome.to_json()) == outcome
    with pytest.raises(InboxFormatError):
        read_outcome(outcome.to_json()[:-5])


def test_keys_are_valid_lean_keys_and_refuse_traversal() -> None:
    assert inbox_key("req_abc") == "options_bot/inbox/req_abc.json"
    assert outcome_key("req_abc") == "options_bot/outbox/req_abc.json"
    assert is_valid_key(inbox_key(derive_request_id("any-key:1")))
    for bad in ("../x", "a/b", "a.b", "", "x" * 65, "a:b"):
        with pytest.raises(InboxFormatError):
            inbox_key(bad)


def test_pending_keys_are_requests_without_an_outcome() -> None:
    keys = ["options_bot/inbox/a.json", "options_bot/inbox/b.json", "options_bot\\inbox\\c.json",
            "options_bot/outbox/b.json", "options_bot/inbox_tmp/d_0011.tmp", "options_bot/state.json",
            "options_bot/inbox/not.a.request.json"]
    assert pending_request_keys(keys) == ["options_bot/inbox/a.json", "options_bot/inbox/c.json"]


def test_the_request_id_is_a_pure_function_of_the_idempotency_key() -> None:
    assert derive_request_id("k-1") == derive_request_id("k-1") != derive_request_id("k-2")
    with pytest.raises(InboxFormatError):
        derive_request_id("has space")


def test_writing_publishes_one_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    request = submit()
    assert write_request_atomically(tmp_path, request) is True
    assert read_request((tmp_path / inbox_key(request.request_id)).read_text()) == request
    assert list((tmp_path / INBOX_TMP_PREFIX).iterdir()) == []


def test_a_second_write_of_the_same_id_keeps_the_first(tmp_path: Path) -> None:
    first, second = submit(quantity=1), submit(quantity=9)
    assert write_request_atomically(tmp_path, first) is True
    assert write_request_atomically(tmp_path, second) is False
    assert read_request((tmp_path / inbox_key(first.request_id)).read_text()).order.quantity == 1  # type: ignore[union-attr]


def test_racing_writers_publish_a_request_exactly_once(tmp_path: Path) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def write(quantity: int) -> None:
        barrier.wait()
        results.append(write_request_atomically(tmp_path, submit(quantity=quantity)))

    threads = [threading.Thread(target=write, args=(q,)) for q in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(list((tmp_path / "options_bot" / "inbox").iterdir())) == 1


def test_the_lean_command_carries_the_same_document() -> None:
    request = submit()
    command = to_lean_command(request)
    assert command["$type"] == LEAN_COMMAND_TYPE
    assert read_request(command[LEAN_COMMAND_FIELD]) == request


def test_processing_order_is_submission_time_then_id() -> None:
    early = InboxRequest(request_id="zzz", idempotency_key="h-early", submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
                         actor="ops", actor_type="human", action=InboxAction.HALT, reason="storm")
    assert order_for_processing([submit(), early]) == [early, submit()]
