"""WS /api/v1/ws: first-message auth, tickets, origin check, pushes; the connection manager (seed 3.4)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from api.ws_manager import SLOW_CONSUMER_CODE, ConnectionManager
from models.audit import AuditAction
from tests.test_api_support import AUTH, TOKEN, api_client, make_snapshot, order_body, write_snapshot
from utils.audit_reader import read_file_trail


def services(client: Any) -> Any:
    return client.app.state.services.get()


def authenticate(ws: Any, **credential: str) -> dict[str, Any]:
    ws.send_text(json.dumps({"type": "auth", **credential}))
    return ws.receive_json()


def test_the_token_in_the_first_message_opens_the_stream_and_the_snapshot_follows(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "storage")
    with api_client(tmp_path) as client, client.websocket_connect("/api/v1/ws") as ws:
        assert authenticate(ws, token=TOKEN) == {"type": "auth_ok"}
        first = ws.receive_json()
        ws.send_text('{"type": "ping"}')
        pong = ws.receive_json()
        count = services(client).connections.count
    assert first["type"] == "snapshot" and first["data"]["ticker"] == "GOOG" and first["meta"]["available"]
    assert pong == {"type": "pong"} and count == 1


@pytest.mark.parametrize("message", [
    {"type": "auth", "token": "wrong" * 8}, {"type": "auth", "token": ""}, {"type": "auth"},
    {"type": "subscribe", "token": TOKEN}, "not json at all"])
def test_a_bad_first_message_closes_4401_and_is_audited(tmp_path: Path, message: Any) -> None:
    with api_client(tmp_path) as client, client.websocket_connect("/api/v1/ws") as ws:
        ws.send_text(message if isinstance(message, str) else json.dumps(message))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        count = services(client).connections.count
    assert closed.value.code == 4401 and count == 0
    [entry] = [e for e in read_file_trail(tmp_path / "audit").entries if e.action is AuditAction.AUTH_FAILED]
    assert entry.ip_address == "testclient" and entry.metadata["channel"] == "websocket"


def test_a_client_that_stays_silent_is_closed_after_the_auth_timeout(tmp_path: Path) -> None:
    with (api_client(tmp_path, ws_auth_timeout_seconds=0.2) as client, client.websocket_connect("/api/v1/ws") as ws,
          pytest.raises(WebSocketDisconnect) as closed):
        ws.receive_json()
    assert closed.value.code == 4401


def test_a_ticket_works_once(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        unauthenticated = client.post("/api/v1/ws/ticket")
        ticket = client.post("/api/v1/ws/ticket", headers=AUTH).json()["ticket"]
        with client.websocket_connect("/api/v1/ws") as ws:
            assert authenticate(ws, ticket=ticket) == {"type": "auth_ok"}
        with client.websocket_connect("/api/v1/ws") as ws:
            ws.send_text(json.dumps({"type": "auth", "ticket": ticket}))
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
    assert unauthenticated.status_code == 401 and closed.value.code == 4401


def test_a_foreign_origin_is_refused_before_the_handshake_completes(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(
                "/api/v1/ws", headers={"origin": "https://evil.example"}) as ws:
            ws.receive_json()
        with client.websocket_connect("/api/v1/ws", headers={"origin": "https://dash.example.com"}) as ws:
            assert authenticate(ws, token=TOKEN) == {"type": "auth_ok"}


def test_a_changed_snapshot_and_new_audit_entries_are_pushed(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    write_snapshot(storage)
    with api_client(tmp_path) as client, client.websocket_connect("/api/v1/ws") as ws:
        authenticate(ws, token=TOKEN)
        assert ws.receive_json()["data"]["underlying_price"] == 750.5
        broadcaster = services(client).broadcaster
        client.portal.call(broadcaster.tick)  # nothing new yet: nothing is sent
        write_snapshot(storage, make_snapshot(underlying_price=777.0))
        request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
        sent = client.portal.call(broadcaster.tick)
        snapshot_push, audit_push = ws.receive_json(), ws.receive_json()
    assert sent == {"snapshot": 1, "audit": 1}
    assert snapshot_push["type"] == "snapshot" and snapshot_push["data"]["underlying_price"] == 777.0
    assert audit_push["type"] == "audit"
    assert [(e["action"], e["correlation_id"]) for e in audit_push["entries"]] == [("order.submit", request_id)]


def test_clients_that_come_and_go_leave_the_count_at_zero(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        for _ in range(20):
            with client.websocket_connect("/api/v1/ws") as ws:
                authenticate(ws, token=TOKEN)
        count = services(client).connections.count
    assert count == 0


# -- the manager on its own ---------------------------------------------------------------------
class FakeSocket:
    def __init__(self, manager: ConnectionManager | None = None, blocked: bool = False, broken: bool = False) -> None:
        self.sent: list[str] = []
        self.closed_with: list[int] = []
        self.lock_held_at_close: list[bool] = []
        self._manager = manager
        self._blocked = blocked
        self._broken = broken

    async def send_text(self, text: str) -> None:
        if self._broken:
            raise WebSocketDisconnect(1006)
        if self._blocked:
            await asyncio.Event().wait()
        self.sent.append(text)

    async def close(self, code: int = 1000) -> None:
        if self._manager is not None:
            self.lock_held_at_close.append(self._manager._lock.locked())
        self.closed_with.append(code)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_slow_consumer_is_dropped_and_a_fast_one_gets_everything() -> None:
    async def scenario() -> tuple[Any, ...]:
        manager = ConnectionManager(queue_size=2)
        slow, fast = FakeSocket(manager, blocked=True), FakeSocket(manager)
        await manager.register(slow, "1.1.1.1")  # type: ignore[arg-type]
        await manager.register(fast, "2.2.2.2")  # type: ignore[arg-type]
        for i in range(6):
            await manager.broadcast(f"m{i}")
            await _settle()
        return manager.count, manager.dropped_slow, slow.closed_with, fast.sent, slow.lock_held_at_close

    count, dropped, slow_closed, fast_sent, lock_held = asyncio.run(scenario())
    assert count == 1 and dropped == 1 and slow_closed == [SLOW_CONSUMER_CODE]
    assert fast_sent == [f"m{i}" for i in range(6)]
    assert lock_held == [False]  # closed outside the lock


def test_concurrent_cleanups_remove_each_client_once() -> None:
    async def scenario() -> tuple[int, int]:
        manager = ConnectionManager()
        clients = [await manager.register(FakeSocket(), f"10.0.0.{i}") for i in range(30)]  # type: ignore[arg-type]
        live = [c for c in clients if c is not None]
        removed = await asyncio.gather(*(manager.cleanup_disconnected(live[i % 3::3] + live[:5]) for i in range(9)))
        return sum(removed), manager.count

    removed, remaining = asyncio.run(scenario())
    assert removed == 30 and remaining == 0


def test_a_client_whose_send_fails_is_removed() -> None:
    async def scenario() -> int:
        manager = ConnectionManager()
        await manager.register(FakeSocket(broken=True), "3.3.3.3")  # type: ignore[arg-type]
        await manager.broadcast("hello")
        await _settle()
        return manager.count

    assert asyncio.run(scenario()) == 0


def test_the_manager_refuses_clients_beyond_its_maximum() -> None:
    async def scenario() -> tuple[bool, int]:
        manager = ConnectionManager(max_clients=2)
        for i in range(2):
            await manager.register(FakeSocket(), f"4.4.4.{i}")  # type: ignore[arg-type]
        refused = await manager.register(FakeSocket(), "4.4.4.9")  # type: ignore[arg-type]
        count = manager.count
        await manager.close_all()
        return refused is None, count

    assert asyncio.run(scenario()) == (True, 2)
