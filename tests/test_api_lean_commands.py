"""The LEAN command dispatcher against a fake QuantConnect API on 127.0.0.1 (no network)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.lean_commands import LeanCommandDispatcher, auth_headers
from utils.order_inbox import LEAN_COMMAND_FIELD, LEAN_COMMAND_TYPE, InboxAction, InboxRequest, read_request

USER_ID, API_TOKEN, PROJECT_ID, NOW = "12345", "qc-secret-token", 987654, 1_767_225_600.0


class FakeQuantConnect(ThreadingHTTPServer):
    def __init__(self, statuses: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.statuses = statuses  # one per request; the last repeats
        self.received: list[dict[str, Any]] = []
        self.answered = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: FakeQuantConnect

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status = self.server.statuses[min(len(self.server.received), len(self.server.statuses)) - 1]
        expected = auth_headers(USER_ID, API_TOKEN, float(self.headers.get("Timestamp", "0")))
        if self.headers.get("Authorization") != expected["Authorization"]:
            status, reply = 401, {"success": False, "errors": ["Hash doesn't match."]}
        elif status == 200:
            reply = {"success": True, "errors": []}
        else:
            reply = {"success": False, "errors": [f"status {status}"]}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.server.answered.set()

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        return None


def serve(statuses: list[int]) -> Iterator[FakeQuantConnect]:
    server = FakeQuantConnect(statuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def fake_ok() -> Iterator[FakeQuantConnect]:
    yield from serve([200])


def halt_request() -> InboxRequest:
    return InboxRequest(request_id="req_halt1", idempotency_key="halt-1", submitted_at=datetime(2026, 1, 5, tzinfo=UTC),
                        actor="ops:jane", actor_type="human", action=InboxAction.HALT, reason="vol spike")


def forward(server: FakeQuantConnect, token: str = API_TOKEN) -> Any:
    async def go() -> Any:
        dispatcher = LeanCommandDispatcher(f"http://127.0.0.1:{server.server_address[1]}/api/v2", USER_ID, token,
                                           PROJECT_ID, clock=lambda: NOW)
        try:
            return await dispatcher.forward(halt_request())
        finally:
            await dispatcher.aclose()

    return asyncio.run(go())


def test_the_command_is_posted_with_quantconnect_hash_auth(fake_ok: FakeQuantConnect) -> None:
    result = forward(fake_ok)
    [call] = fake_ok.received
    assert result.success is True and result.status_code == 200
    assert call["path"] == "/api/v2/live/commands/create"
    assert call["headers"]["Timestamp"] == str(int(NOW))
    user, hashed = base64.b64decode(call["headers"]["Authorization"].removeprefix("Basic ")).decode().split(":")
    assert user == USER_ID and hashed == hashlib.sha256(f"{API_TOKEN}:{int(NOW)}".encode()).hexdigest()
    assert API_TOKEN not in json.dumps(call)  # only the hash travels
    assert call["body"]["projectId"] == PROJECT_ID
    command = call["body"]["command"]
    assert command["$type"] == LEAN_COMMAND_TYPE and read_request(command[LEAN_COMMAND_FIELD]) == halt_request()


def test_a_wrong_api_token_is_reported_as_a_refusal(fake_ok: FakeQuantConnect) -> None:
    result = forward(fake_ok, token="not-the-token")
    assert result.success is False and result.status_code == 401 and result.errors == ["Hash doesn't match."]


def test_server_errors_are_retried_until_success() -> None:
    for server in serve([503, 502, 200]):
        result = forward(server)
        assert result.success is True and len(server.received) == 3


def test_persistent_server_errors_give_up_without_raising() -> None:
    for server in serve([500]):
        result = forward(server)
        assert result.success is False and len(server.received) == 3


def test_an_accepted_order_is_also_forwarded_as_a_lean_command(tmp_path) -> None:
    from tests.test_api_support import AUTH, api_client, order_body

    for server in serve([200]):
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
        with api_client(tmp_path, qc_forward_commands=True, qc_api_url=url, qc_user_id=USER_ID,
                        qc_api_token=API_TOKEN, qc_project_id=PROJECT_ID) as client:
            request_id = client.post("/api/v1/orders", headers=AUTH, json=order_body()).json()["request_id"]
            assert server.answered.wait(timeout=30)
        [call] = server.received
        assert read_request(call["body"]["command"][LEAN_COMMAND_FIELD]).request_id == request_id
