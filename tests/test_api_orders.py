"""POST/GET/DELETE /orders and trading halt/resume: validation, durability, idempotency, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from models.audit import AuditAction
from tests.test_api_support import (
    AUTH,
    DROP,
    api_client,
    inbox_files,
    make_position,
    make_snapshot,
    order_body,
    tmp_files,
    write_snapshot,
)
from utils.audit_reader import read_file_trail
from utils.order_inbox import InboxOutcome, OutcomeStatus, outcome_key, read_request


def audited(tmp_path: Path, action: AuditAction) -> list:
    return [e for e in read_file_trail(tmp_path / "audit").entries if e.action is action]


def test_a_submission_is_in_the_inbox_before_the_202(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": "agent-1:0001"},
                               json=order_body())
    body = response.json()
    assert response.status_code == 202 and body["status"] == "queued" and body["replayed"] is False
    files = inbox_files(tmp_path / "storage")
    assert [f.stem for f in files] == [body["request_id"]]
    stored = read_request(files[0].read_text())
    assert stored.order is not None and stored.order.confidence == 0.7 and stored.order.reasoning
    assert stored.actor == "agent:alpha" and stored.idempotency_key == "agent-1:0001"
    assert response.headers["location"] == f"/api/v1/orders/{body['request_id']}"
    assert tmp_files(tmp_path / "storage") == []


def test_the_submission_is_audited_with_actor_confidence_and_reasoning(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
    [entry] = audited(tmp_path, AuditAction.ORDER_SUBMIT)
    assert entry.actor == "agent:alpha" and entry.actor_type == "ai_agent" and entry.ip_address == "testclient"
    assert entry.correlation_id == request_id
    assert entry.metadata["confidence"] == 0.7 and entry.metadata["reasoning"] == "call skew cheap vs realised"


def test_a_repeated_idempotency_key_returns_the_first_result_and_writes_once(tmp_path: Path) -> None:
    headers = {**AUTH, "Idempotency-Key": "same-key"}
    with api_client(tmp_path) as client:
        first = client.post("/api/v1/orders", headers=headers, json=order_body())
        again = [client.post("/api/v1/orders", headers=headers, json=order_body()) for _ in range(3)]
        in_body = client.post("/api/v1/orders", headers=AUTH, json=order_body(idempotency_key="same-key"))
    assert {r.status_code for r in [first, *again, in_body]} == {202}
    assert {r.json()["request_id"] for r in [first, *again, in_body]} == {first.json()["request_id"]}
    assert all(r.json()["replayed"] for r in [*again, in_body])
    assert all(r.json()["request"]["submitted_at"] == first.json()["request"]["submitted_at"] for r in again)
    assert again[0].headers["idempotent-replayed"] == "true"
    assert len(inbox_files(tmp_path / "storage")) == 1
    assert len(audited(tmp_path, AuditAction.ORDER_SUBMIT)) == 1


def test_the_same_key_for_a_different_order_is_a_conflict_not_a_second_order(tmp_path: Path) -> None:
    headers = {**AUTH, "Idempotency-Key": "k-conflict"}
    with api_client(tmp_path) as client:
        client.post("/api/v1/orders", headers=headers, json=order_body(quantity=1))
        conflict = client.post("/api/v1/orders", headers=headers, json=order_body(quantity=5))
        differing = client.post("/api/v1/orders", headers=headers, json=order_body(idempotency_key="other"))
    assert conflict.status_code == 409
    assert differing.status_code == 422
    assert len(inbox_files(tmp_path / "storage")) == 1


@pytest.mark.parametrize(("changes", "why"), [
    ({"confidence": 1.5}, "confidence above 1"),
    ({"confidence": -0.1}, "negative confidence"),
    ({"confidence": DROP}, "an AI agent without confidence"),
    ({"reasoning": ""}, "empty reasoning"),
    ({"reasoning": "   "}, "blank reasoning"),
    ({"reasoning": DROP}, "no reasoning"),
    ({"quantity": 0}, "zero quantity"),
    ({"quantity": 2.5}, "fractional quantity"),
    ({"quantity": 10_001}, "huge quantity"),
    ({"strike": -5}, "negative strike"),
    ({"right": "straddle"}, "unknown right"),
    ({"side": "short"}, "unknown side"),
    ({"underlying": "../../etc"}, "path in the ticker"),
    ({"expiry": "2016-02-30"}, "impossible date"),
    ({"order_type": "limit", "limit_price": DROP}, "limit without price"),
    ({"order_type": "market"}, "market with a price"),
    ({"actor_type": "robot"}, "unknown actor type"),
    ({"surprise": 1}, "an unknown field"),
    ({"idempotency_key": "has spaces/and slashes"}, "a bad idempotency key"),
])
def test_an_invalid_submission_is_422_and_nothing_is_written(tmp_path: Path, changes: dict, why: str) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body(**changes))
    assert response.status_code == 422, why
    assert inbox_files(tmp_path / "storage") == [] and tmp_files(tmp_path / "storage") == []


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[]", b'{"actor": "a"', b"\xff\xfe", b""])
def test_malformed_json_is_4xx_and_nothing_is_written(tmp_path: Path, raw: bytes) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers={**AUTH, "Content-Type": "application/json"}, content=raw)
    assert 400 <= response.status_code < 500
    assert inbox_files(tmp_path / "storage") == []


def test_an_oversized_body_is_413_and_nothing_is_written(tmp_path: Path) -> None:
    with api_client(tmp_path, max_body_bytes=1024) as client:
        declared = client.post("/api/v1/orders", headers=AUTH, json=order_body(reasoning="x" * 1900))

        def chunks():
            yield b'{"reasoning": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = client.post("/api/v1/orders", headers={**AUTH, "Content-Type": "application/json"},
                               content=chunks())
    assert declared.status_code == 413 and streamed.status_code == 413
    assert inbox_files(tmp_path / "storage") == []


@pytest.mark.parametrize("bad_id", ["..%2F..%2Fstate", "a.b", "x" * 65, "%00", "req%3Aabc"])
def test_path_traversal_ids_are_4xx_and_nothing_is_written(tmp_path: Path, bad_id: str) -> None:
    with api_client(tmp_path) as client:
        got = client.get(f"/api/v1/orders/{bad_id}", headers=AUTH)
        deleted = client.delete(f"/api/v1/orders/{bad_id}", headers=AUTH)
    assert 400 <= got.status_code < 500 and 400 <= deleted.status_code < 500
    assert inbox_files(tmp_path / "storage") == []


def test_the_precheck_refuses_a_blocked_symbol_and_audits_the_refusal(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "storage", make_snapshot(risk={"limits": {"blocked_symbols": ["GOOG"]}}))
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body())
    assert response.status_code == 422
    assert "blocked" in str(response.json()["detail"]["violations"])
    assert inbox_files(tmp_path / "storage") == []
    [entry] = audited(tmp_path, AuditAction.ORDER_REJECT)
    assert "blocked" in (entry.reason or "")


@pytest.mark.parametrize(("risk", "parameters", "body", "refusal"), [
    ({"circuit_breaker": {"state": "halted"}}, {}, {}, "halted"),
    ({"reduce_only": True}, {}, {}, "reduce-only"),
    ({}, {"risk_max_order_value": "1000"}, {"quantity": 2, "limit_price": 12.5}, "order value"),
    ({"limits": {"max_open_positions": 1}}, {}, {}, "open positions"),
    ({}, {}, {"expiry": "2015-12-01"}, "expiry"),
])
def test_the_precheck_reads_the_limits_in_the_snapshot(tmp_path: Path, risk, parameters, body, refusal) -> None:
    write_snapshot(tmp_path / "storage", make_snapshot(risk=risk, parameters=parameters))
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body(**body))
    assert response.status_code == 422 and refusal in str(response.json()["detail"])


def test_closing_an_existing_position_passes_a_halt_precheck(tmp_path: Path) -> None:
    short_put = make_position("P1", right="put", strike=720.0, expiry="2016-01-22", quantity=-2)
    write_snapshot(tmp_path / "storage", make_snapshot(risk={"circuit_breaker": {"state": "halted"}},
                                                       positions=[short_put]))
    close = order_body(right="put", strike=720.0, expiry="2016-01-22", side="buy", quantity=2)
    with api_client(tmp_path) as client:
        assert client.post("/api/v1/orders", headers=AUTH, json=close).status_code == 202


def test_warn_mode_queues_with_the_violations_as_warnings(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "storage", make_snapshot(risk={"limits": {"blocked_symbols": ["GOOG"]}}))
    with api_client(tmp_path, risk_precheck="warn") as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body())
    assert response.status_code == 202 and response.json()["precheck"]["violations"]


def test_get_order_shows_the_outcome_from_the_outbox_and_survives_a_torn_one(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    with api_client(tmp_path) as client:
        request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        queued = client.get(f"/api/v1/orders/{request_id}", headers=AUTH).json()
        outbox = storage / outcome_key(request_id)
        outbox.parent.mkdir(parents=True)
        outcome = InboxOutcome(request_id=request_id, status=OutcomeStatus.ACCEPTED, order_ids=(11,),
                               processed_at=datetime(2015, 12, 23, 15, 1, tzinfo=UTC), reasons=("ok",))
        outbox.write_text(outcome.to_json())
        accepted = client.get(f"/api/v1/orders/{request_id}", headers=AUTH).json()
        outbox.write_text(outcome.to_json()[:20])
        torn = client.get(f"/api/v1/orders/{request_id}", headers=AUTH)
        listing = client.get("/api/v1/orders", headers=AUTH).json()
        missing = client.get("/api/v1/orders/req_nothing", headers=AUTH)
    assert queued["state"] == "queued" and queued["outcome"] is None
    assert accepted["state"] == "accepted" and accepted["outcome"]["order_ids"] == [11]
    assert torn.status_code == 200 and torn.json()["state"] == "unreadable" and torn.json()["outcome_error"]
    assert listing["total"] == 1 and listing["items"][0]["request_id"] == request_id
    assert missing.status_code == 404


def test_delete_queues_one_cancel_request_for_the_target(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        first = client.delete(f"/api/v1/orders/{request_id}?actor=ops&reason=changed+my+mind", headers=AUTH)
        second = client.delete(f"/api/v1/orders/{request_id}", headers=AUTH)
        unknown = client.delete("/api/v1/orders/req_unknown", headers=AUTH)
        cancel_of_cancel = client.delete(f"/api/v1/orders/{first.json()['request_id']}", headers=AUTH)
    assert first.status_code == 202 and first.json()["request"]["action"] == "cancel"
    assert first.json()["request"]["target_request_id"] == request_id
    assert second.status_code == 202 and second.json()["replayed"] is True
    assert unknown.status_code == 404 and cancel_of_cancel.status_code == 409
    assert len(inbox_files(tmp_path / "storage")) == 2
    assert [e.resource_id for e in audited(tmp_path, AuditAction.ORDER_CANCEL)] == [request_id]


def test_a_finished_order_cannot_be_cancelled(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    with api_client(tmp_path) as client:
        request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        outbox = storage / outcome_key(request_id)
        outbox.parent.mkdir(parents=True)
        outbox.write_text(InboxOutcome(request_id=request_id, status=OutcomeStatus.REJECTED,
                                       processed_at=datetime(2015, 12, 23, tzinfo=UTC)).to_json())
        assert client.delete(f"/api/v1/orders/{request_id}", headers=AUTH).status_code == 409


@pytest.mark.parametrize("path", ["/api/v1/trading/halt", "/api/v1/trading/resume"])
def test_halt_and_resume_need_actor_and_reason_and_are_audited(tmp_path: Path, path: str) -> None:
    with api_client(tmp_path) as client:
        no_reason = client.post(path, headers=AUTH, json={"actor": "ops:jane"})
        blank_actor = client.post(path, headers=AUTH, json={"actor": " ", "reason": "vol spike"})
        ok = client.post(path, headers=AUTH, json={"actor": "ops:jane", "reason": "vol spike"})
    assert no_reason.status_code == 422 and blank_actor.status_code == 422
    assert ok.status_code == 202
    [stored] = [read_request(f.read_text()) for f in inbox_files(tmp_path / "storage")]
    assert stored.action.value == path.rsplit("/", 1)[1] and stored.reason == "vol spike"
    [entry] = audited(tmp_path, AuditAction.MANUAL_INTERVENTION)
    assert entry.actor == "ops:jane" and entry.reason == "vol spike" and entry.ip_address == "testclient"


def test_start_up_removes_temporaries_a_dead_writer_left_but_keeps_fresh_ones(tmp_path: Path) -> None:
    import os
    import time

    folder = tmp_path / "storage" / "options_bot" / "inbox_tmp"
    folder.mkdir(parents=True)
    old, fresh = folder / "req_old_00aa.tmp", folder / "req_new_00bb.tmp"
    old.write_text("{"), fresh.write_text("{")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    with api_client(tmp_path):
        pass
    assert not old.exists() and fresh.exists()
    assert inbox_files(tmp_path / "storage") == []


@pytest.mark.parametrize("blank", ["\x1c", "\x1f\x1e", "\u2028"])
def test_text_that_is_blank_to_the_inbox_format_is_a_422_not_a_500(tmp_path: Path, blank: str) -> None:
    """Found by schemathesis: characters pydantic's \\S accepts but str.strip() removes."""
    with api_client(tmp_path) as client:
        halt = client.post("/api/v1/trading/halt", headers=AUTH, json={"actor": blank, "reason": "vol spike"})
        reason = client.post("/api/v1/trading/halt", headers=AUTH, json={"actor": "ops:jane", "reason": blank})
    assert halt.status_code == 422 and reason.status_code == 422
    assert inbox_files(tmp_path / "storage") == []
