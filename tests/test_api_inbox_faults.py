"""Poison inbox files, server-made keys and replays (issue 15): every reader survives one bad file,
a server key cannot be taken by a client, a replay writes a missing ORDER_SUBMIT."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from models.audit import AuditAction
from tests.test_api_support import AUTH, api_client, inbox_files, order_body
from utils.audit_reader import read_file_trail
from utils.order_inbox import (
    InboxAction,
    InboxRequest,
    OrderSpec,
    derive_request_id,
    inbox_key,
    read_request,
    write_request_atomically,
)


def audited(tmp_path: Path, action: AuditAction) -> list:
    return [e for e in read_file_trail(tmp_path / "audit").entries if e.action is action]


def plant(storage: Path, request_id: str, data: bytes | None) -> Path:
    """A file (or, for None, a directory) under a request's inbox key."""
    path = storage / inbox_key(request_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return path


POISON: dict[str, bytes | None] = {
    "req_deep": b"[" * 100_000 + b"]" * 100_000, "req_digits": b"9" * 5000, "req_bytes": b"\xff\xfe{",
    "req_directory": None, "req_torn": b'{"schema_version": 1, "kind": "options_bot_inbox_re'}


def test_the_order_list_and_get_survive_any_poison_file_and_show_it_unreadable(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    for request_id, data in POISON.items():
        plant(storage, request_id, data)
    with api_client(tmp_path) as client:
        good = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        listing = client.get("/api/v1/orders?limit=50", headers=AUTH)
        singles = {rid: client.get(f"/api/v1/orders/{rid}", headers=AUTH) for rid in [*POISON, good]}
        submits = client.get("/api/v1/orders?action=submit", headers=AUTH).json()
    assert listing.status_code == 200 and listing.json()["total"] == len(POISON) + 1
    states = {item["request_id"]: item["state"] for item in listing.json()["items"]}
    assert states == {**dict.fromkeys(POISON, "unreadable"), good: "queued"}
    assert all(r.status_code == 200 for r in singles.values())
    for request_id in POISON:
        body = singles[request_id].json()
        assert body["state"] == "unreadable" and body["request"] is None and body["request_error"]
    assert [item["request_id"] for item in submits["items"]] == [good]


def test_retrying_the_key_of_a_torn_request_is_a_409_naming_it_not_the_clients_fault(tmp_path: Path) -> None:
    key = "torn-key-1"
    plant(tmp_path / "storage", derive_request_id(key), b'{"schema_version": 1, "ki')
    with api_client(tmp_path) as client:
        retry = client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": key}, json=order_body())
        shown = client.get(f"/api/v1/orders/{derive_request_id(key)}", headers=AUTH)
        cancel = client.delete(f"/api/v1/orders/{derive_request_id(key)}", headers=AUTH)
    assert retry.status_code == 409 and "unreadable" in retry.json()["detail"]
    assert shown.status_code == 200 and shown.json()["state"] == "unreadable"
    assert cancel.status_code == 409


def test_a_client_key_cannot_take_the_servers_cancel_key(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        target = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        squatter = client.post("/api/v1/orders", headers={**AUTH, "Idempotency-Key": f"cancel:{target}"},
                               json=order_body(quantity=2))
        cancel = client.delete(f"/api/v1/orders/{target}", headers=AUTH)
    assert squatter.status_code == 202 and cancel.status_code == 202
    assert cancel.json()["replayed"] is False and cancel.json()["request"]["action"] == "cancel"
    actions = sorted(read_request(path.read_bytes()).action.value for path in inbox_files(tmp_path / "storage"))
    assert actions == ["cancel", "submit", "submit"]
    assert len(audited(tmp_path, AuditAction.ORDER_CANCEL)) == 1


def test_a_replayed_key_must_name_the_same_kind_of_request(tmp_path: Path) -> None:
    headers = {**AUTH, "Idempotency-Key": "shared-key"}
    with api_client(tmp_path) as client:
        order = client.post("/api/v1/orders", headers=headers, json=order_body())
        halt = client.post("/api/v1/trading/halt", headers=headers, json={"actor": "ops", "reason": "news"})
    assert order.status_code == 202 and halt.status_code == 409
    assert len(inbox_files(tmp_path / "storage")) == 1


def stored_but_not_audited(storage: Path, key: str) -> InboxRequest:
    """What a sidecar killed between the inbox write and the audit entry leaves behind."""
    body = order_body()
    spec = OrderSpec(underlying=body["underlying"], right=body["right"], strike=body["strike"],
                     expiry=date.fromisoformat(body["expiry"]), side=body["side"],
                     quantity=body["quantity"], order_type=body["order_type"], limit_price=body["limit_price"],
                     confidence=body["confidence"], reasoning=body["reasoning"])
    request = InboxRequest(request_id=derive_request_id(key), idempotency_key=key,
                           submitted_at=datetime.now(UTC),
                           actor=body["actor"], actor_type=body["actor_type"], action=InboxAction.SUBMIT, order=spec)
    assert write_request_atomically(storage, request)
    return request


def test_a_replay_writes_the_missing_order_submit_once(tmp_path: Path) -> None:
    request = stored_but_not_audited(tmp_path / "storage", "killed-before-audit")
    headers = {**AUTH, "Idempotency-Key": "killed-before-audit"}
    with api_client(tmp_path) as client:
        retries = [client.post("/api/v1/orders", headers=headers, json=order_body()) for _ in range(3)]
    assert all(r.status_code == 202 and r.json()["replayed"] for r in retries)
    [entry] = audited(tmp_path, AuditAction.ORDER_SUBMIT)
    assert entry.correlation_id == request.request_id and entry.actor == "agent:alpha"


def test_a_replay_after_a_restart_does_not_audit_twice(tmp_path: Path) -> None:
    headers = {**AUTH, "Idempotency-Key": "audited-once"}
    with api_client(tmp_path) as client:
        assert client.post("/api/v1/orders", headers=headers, json=order_body()).status_code == 202
    with api_client(tmp_path) as client:
        assert client.post("/api/v1/orders", headers=headers, json=order_body()).json()["replayed"]
    assert len(audited(tmp_path, AuditAction.ORDER_SUBMIT)) == 1


@pytest.mark.parametrize("request_id", sorted(POISON))
def test_a_poison_file_never_breaks_the_list_of_other_requests(tmp_path: Path, request_id: str) -> None:
    plant(tmp_path / "storage", request_id, POISON[request_id])
    with api_client(tmp_path) as client:
        client.post("/api/v1/trading/halt", headers=AUTH, json={"actor": "ops", "reason": "poison seen"})
        listing = client.get("/api/v1/orders", headers=AUTH)
    assert listing.status_code == 200 and listing.json()["total"] == 2


def test_a_page_of_the_order_list_reads_only_its_own_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.order_queue import OrderQueue

    storage = tmp_path / "storage"
    for i in range(120):
        stored_but_not_audited(storage, f"page-{i:03d}")
    queue = OrderQueue(storage)
    assert queue.page(0, 5)[0] == 120  # builds the index
    reads: list[str] = []
    original_load, original_get = OrderQueue.load, OrderQueue.get_request
    monkeypatch.setattr(OrderQueue, "load", lambda self, rid: (reads.append(rid), original_load(self, rid))[1])
    monkeypatch.setattr(OrderQueue, "get_request", lambda self, rid: (reads.append(rid), original_get(self, rid))[1])
    total, items = OrderQueue.page(queue, 10, 5)
    assert total == 120 and len(items) == 5 and len(reads) <= 10
    newest_first = sorted((read_request(p.read_bytes()) for p in inbox_files(storage)),
                          key=lambda r: (r.submitted_at, r.request_id), reverse=True)
    assert [item["request_id"] for item in items] == [r.request_id for r in newest_first[10:15]]


def test_a_write_never_waits_for_the_order_index_to_be_built(tmp_path: Path) -> None:
    import threading

    from services.order_queue import OrderQueue

    storage = tmp_path / "storage"
    stored_but_not_audited(storage, "already-there")
    queue = OrderQueue(storage)
    loading, release = threading.Event(), threading.Event()
    load = queue.load

    def slow_load(request_id: str):  # the index build is stuck reading a file
        loading.set()
        release.wait(timeout=60)
        return load(request_id)

    queue.index._load = slow_load  # type: ignore[method-assign]
    builder = threading.Thread(target=queue.index.refresh)
    builder.start()
    assert loading.wait(timeout=60)
    halt = InboxRequest(request_id=derive_request_id("halt-now"), idempotency_key="halt-now",
                        submitted_at=datetime.now(UTC), actor="ops", actor_type="human", action=InboxAction.HALT,
                        reason="stop")
    written = threading.Event()
    writer = threading.Thread(target=lambda: queue.enqueue(halt).created and written.set())
    writer.start()
    finished_while_blocked = written.wait(timeout=20)  # a bound for a slow machine, not a timing assumption
    release.set()
    builder.join(timeout=60)
    writer.join(timeout=60)
    assert finished_while_blocked
    assert queue.page(0, 10)[0] == 2
