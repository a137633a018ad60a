"""The dashboard's page, sign-in, session cookie and CSRF rules (api/sessions.py), without a browser."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from api.services import build_services
from api.sessions import COOKIE_NAME, SessionStore
from models.audit import AuditAction
from tests.test_api_support import AUTH, TOKEN, api_client, make_settings, make_snapshot, write_snapshot
from utils.audit_reader import read_file_trail
from utils.order_inbox import INBOX_PREFIX

HALT = {"actor": "ann", "actor_type": "human", "reason": "testing the dashboard"}


def signed_in(client) -> str:
    response = client.post("/api/v1/session", json={"token": TOKEN})
    assert response.status_code == 200
    return response.json()["csrf_token"]


def test_the_page_and_its_assets_are_served_with_a_strict_content_security_policy(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        page = client.get("/")
        script = client.get("/dashboard/app.js")
        chart = client.get("/dashboard/vendor/lightweight-charts.standalone.production.js")
        missing = [client.get(path).status_code for path in
                   ("/dashboard/nope.js", "/dashboard/../settings.py", "/dashboard/%2e%2e/app.py")]
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'src="/dashboard/app.js"' in page.text and "http" not in page.text.split("<body>")[0].replace(
        'content="width=device-width, initial-scale=1"', "")  # nothing from another host
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert chart.status_code == 200 and "Lightweight Charts" in chart.text[:300]
    assert missing == [404, 404, 404]


def test_a_wrong_token_is_refused_and_audited_and_the_right_one_gets_a_strict_cookie(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        wrong = client.post("/api/v1/session", json={"token": "x" * 40})
        right = client.post("/api/v1/session", json={"token": TOKEN})
    assert wrong.status_code == 401 and COOKIE_NAME not in wrong.headers.get("set-cookie", "")
    assert right.status_code == 200 and TOKEN not in right.text
    cookie = right.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "Max-Age" not in cookie  # a session cookie; the server ends it
    actions = [e.action for e in read_file_trail(tmp_path / "audit").entries]
    assert AuditAction.AUTH_FAILED in actions and AuditAction.AUTH_LOGIN in actions


def test_the_cookie_reads_but_a_state_change_needs_the_csrf_token_from_the_same_origin(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        csrf = signed_in(client)
        assert client.get("/api/v1/state").status_code == 200
        assert client.get("/api/v1/session").json()["csrf_token"] == csrf
        no_token = client.post("/api/v1/trading/halt", json=HALT)
        wrong_token = client.post("/api/v1/trading/halt", json=HALT, headers={"X-CSRF-Token": "forged"})
        foreign = client.post("/api/v1/trading/halt", json=HALT,
                              headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
        assert [no_token.status_code, wrong_token.status_code, foreign.status_code] == [403, 403, 403]
        assert not list((tmp_path / "storage" / INBOX_PREFIX).glob("*.json"))
        ok = client.post("/api/v1/trading/halt", json=HALT,
                         headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert ok.status_code == 202
    assert len(list((tmp_path / "storage" / INBOX_PREFIX).glob("*.json"))) == 1
    failures = [e for e in read_file_trail(tmp_path / "audit").entries if e.action is AuditAction.AUTH_FAILED]
    assert [e.reason for e in failures] == ["csrf", "csrf", "csrf"]


def test_sign_out_ends_the_session_and_a_bearer_token_still_works(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        csrf = signed_in(client)
        assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert client.get("/api/v1/state").status_code == 401
        assert client.get("/api/v1/session").status_code == 404
        assert client.get("/api/v1/state", headers=AUTH).status_code == 200


def test_a_session_ends_after_its_idle_time_and_its_maximum_age() -> None:
    now = [0.0]
    store = SessionStore(idle_seconds=60, max_age_seconds=300, clock=lambda: now[0])
    session = store.create("token:abc")
    for _ in range(5):
        now[0] += 50
        assert store.get(session.id) is session  # each use restarts the idle timer
    now[0] += 51
    assert store.get(session.id) is None  # 301 s after creation
    idle = store.create("token:abc")
    now[0] += 61
    assert store.get(idle.id) is None and store.get(None) is None and store.get("x" * 500) is None


def test_the_websocket_accepts_the_pages_own_origin(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        signed_in(client)
        with client.websocket_connect("/api/v1/ws", headers={"origin": "http://testserver"}) as ws:
            ws.send_json({"type": "auth", "token": TOKEN})
            assert ws.receive_json()["type"] == "auth_ok"


def test_a_snapshot_going_stale_without_a_new_file_is_pushed_as_a_status(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, snapshot_stale_after_seconds=5.0)
    services = build_services(settings)
    path = write_snapshot(settings.object_store_dir, make_snapshot())
    sent: list[str] = []

    async def broadcast(message: str) -> None:
        sent.append(message)

    services.connections.broadcast = broadcast  # type: ignore[method-assign]
    services.connections.__class__ = type("OneClient", (services.connections.__class__,), {"count": 1})
    assert asyncio.run(services.broadcaster.tick())["snapshot"] == 1
    old = time.time() - 60
    os.utime(path, (old, old))  # the same file, now old: a new mtime makes it a new version, so
    asyncio.run(services.broadcaster.tick())  # first the re-read (stale, as a snapshot) ...
    assert '"status":"stale"' in sent[-1] and sent[-1].startswith('{"type":"snapshot"')
    services.snapshots._stale_after = 120.0  # ... then only the status changes back: a status message
    assert asyncio.run(services.broadcaster.tick()).get("status") == 1
    assert sent[-1].startswith('{"type":"status"') and '"status":"fresh"' in sent[-1]


@pytest.mark.parametrize("path", ["/", "/dashboard/app.js"])
def test_the_page_needs_no_token(tmp_path: Path, path: str) -> None:
    with api_client(tmp_path) as client:
        assert client.get(path).status_code == 200
