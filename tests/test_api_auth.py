"""Token auth on every route, auth failures logged and audited, CORS allow-list."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from api.app import create_app
from models.audit import AuditAction
from tests.test_api_support import AUTH, TOKEN, api_client, make_settings, order_body
from utils.audit_reader import read_file_trail

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/session"), ("GET", "/api/v1/session")}
BAD_HEADERS = {
    "missing": {},
    "wrong": {"Authorization": "Bearer " + "x" * len(TOKEN)},
    "empty": {"Authorization": "Bearer "},
    "bare scheme": {"Authorization": "Bearer"},
    "token without scheme": {"Authorization": TOKEN},
    "basic scheme": {"Authorization": f"Basic {TOKEN}"},
    "prefix of the token": {"Authorization": f"Bearer {TOKEN[:-1]}"},
}


def walk(routes: list[Any]) -> list[Any]:
    """Every route, also inside included routers (FastAPI may keep them as one branch each)."""
    flat = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(walk(inner.routes) if inner is not None else [route])
    return flat


def http_routes(tmp_path: Path) -> list[tuple[str, str]]:
    app = create_app(make_settings(tmp_path))
    found = []
    for route in walk(app.routes):
        if isinstance(route, APIRoute | Route) and route.path.startswith("/api/v1"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, re.sub(r"\{[^}]+\}", "req_abc123", route.path)))
    return found


def test_the_route_enumeration_finds_every_endpoint(tmp_path: Path) -> None:
    routes = set(http_routes(tmp_path))
    documented = {(method.upper(), re.sub(r"\{[^}]+\}", "req_abc123", path))
                  for path, item in create_app(make_settings(tmp_path)).openapi()["paths"].items() for method in item}
    assert documented <= routes
    assert {("GET", "/api/v1/state"), ("POST", "/api/v1/orders"), ("DELETE", "/api/v1/orders/req_abc123"),
            ("POST", "/api/v1/trading/halt"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/openapi.json")} <= routes
    assert len(routes) >= 14


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_every_route_but_health_answers_401_without_a_valid_token(tmp_path: Path, case: str) -> None:
    routes = [r for r in http_routes(tmp_path) if r not in PUBLIC]
    with api_client(tmp_path) as client:
        for method, path in routes:
            response = client.request(method, path, headers=BAD_HEADERS[case],
                                      json=order_body() if method == "POST" else None)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_path_under_the_api_prefix_is_401_not_404(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        assert client.get("/api/v1/no-such-thing").status_code == 401
        assert client.get("/api/v1/no-such-thing", headers=AUTH).status_code == 404


def test_health_is_public_and_the_right_token_opens_the_rest(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert client.get("/api/v1/state", headers=AUTH).status_code == 200
        assert client.get("/api/v1/state", headers={"Authorization": f"bearer  {TOKEN} "}).status_code == 200


def test_each_failure_is_logged_and_audited_with_the_client_address(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="options_bot")
    with api_client(tmp_path) as client:
        for headers in BAD_HEADERS.values():
            assert client.get("/api/v1/positions", headers=headers).status_code == 401
    logged = [r for r in caplog.records if r.getMessage() == "AUTH_FAILED"]
    assert len(logged) == len(BAD_HEADERS)
    assert {r.client_ip for r in logged} == {"testclient"}
    assert not any(TOKEN in r.getMessage() or TOKEN in str(vars(r)) for r in caplog.records)
    failures = [e for e in read_file_trail(tmp_path / "audit").entries if e.action is AuditAction.AUTH_FAILED]
    assert len(failures) == len(BAD_HEADERS)
    assert {e.ip_address for e in failures} == {"testclient"}
    assert {e.reason for e in failures} >= {"missing", "invalid", "empty", "malformed"}


def test_tokens_are_compared_with_a_constant_time_function(tmp_path: Path, monkeypatch) -> None:
    import hmac

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("api.auth.hmac.compare_digest", spy)
    with api_client(tmp_path) as client:
        client.get("/api/v1/state", headers={"Authorization": "Bearer wrong-token"})
        client.get("/api/v1/state", headers=AUTH)
    assert len(calls) >= 2
    assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: the token length does not leak


def test_a_client_that_keeps_failing_is_braked_with_429(tmp_path: Path) -> None:
    with api_client(tmp_path, rate_limit_auth_failures="3/minute") as client:
        codes = [client.get("/api/v1/state", headers={"Authorization": "Bearer nope"}).status_code for _ in range(5)]
        braked = client.get("/api/v1/state")
    assert codes == [401, 401, 401, 429, 429]
    assert int(braked.headers["retry-after"]) >= 1
    audited = [e for e in read_file_trail(tmp_path / "audit").entries if e.action is AuditAction.AUTH_FAILED]
    assert len(audited) == 3  # a flood is logged, not written to the audit trail per attempt


def test_an_origin_not_on_the_list_gets_no_cors_header(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        simple = client.get("/api/v1/state", headers={**AUTH, "Origin": "https://evil.example"})
        preflight = client.options("/api/v1/orders", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers


def test_a_listed_origin_gets_the_cors_header_even_on_a_401(tmp_path: Path) -> None:
    origin = "https://dash.example.com"
    with api_client(tmp_path) as client:
        ok = client.get("/api/v1/state", headers={**AUTH, "Origin": origin})
        refused = client.get("/api/v1/state", headers={"Origin": origin})
        preflight = client.options("/api/v1/orders", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
    assert ok.headers["access-control-allow-origin"] == origin
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == origin
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin
