"""Hostile values never take the sidecar down (issue 15): non-finite numbers, lone surrogates and
control characters are a JSON 422 that does not echo the value; no type is silently coerced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_api_support import AUTH, api_client, inbox_files, order_body

JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}


def raw_order(**raw_values: str) -> str:
    """An order body whose listed fields hold raw JSON text (NaN, Infinity, escapes...)."""
    body = json.dumps(order_body(**{name: f"@@{name}@@" for name in raw_values}))
    for name, text in raw_values.items():
        body = body.replace(f'"@@{name}@@"', text)
    return body


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_non_finite_strike_is_a_json_422(tmp_path: Path, value: str) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=JSON_HEADERS, content=raw_order(strike=value))
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"
    assert response.json()["detail"][0]["loc"][-1] == "strike"
    assert value not in response.text and inbox_files(tmp_path / "storage") == []


def test_an_integer_beyond_the_parsers_limit_is_a_json_400(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=JSON_HEADERS, content=raw_order(strike="9" * 5000))
    assert response.status_code == 400 and "detail" in response.json()
    assert inbox_files(tmp_path / "storage") == []


@pytest.mark.parametrize(("route", "body"), [
    ("/api/v1/orders", raw_order(actor='"agent\\ud800"')),
    ("/api/v1/orders", raw_order(reasoning='"why \\udfff"')),
    ("/api/v1/orders", raw_order(actor='"agent\\u0000x"')),
    ("/api/v1/orders", raw_order(actor='"agent\\u001b[31m"')),
    ("/api/v1/trading/halt", '{"actor": "ops", "reason": "lone \\ud800"}'),
    ("/api/v1/trading/halt", '{"actor": "ops\\ud800", "reason": "news"}'),
    ("/api/v1/trading/halt", '{"actor": "ops", "reason": "bell \\u0007"}'),
])
def test_lone_surrogates_and_control_characters_are_a_json_422(tmp_path: Path, route: str, body: str) -> None:
    with api_client(tmp_path) as client:
        response = client.post(route, headers=JSON_HEADERS, content=body)
    assert response.status_code == 422 and isinstance(response.json()["detail"], list)
    assert inbox_files(tmp_path / "storage") == []


def test_a_halt_reason_may_span_lines(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/trading/halt", headers=AUTH,
                               json={"actor": "ops", "reason": "news pending:\n\t- FOMC"})
    assert response.status_code == 202


@pytest.mark.parametrize("changes", [
    {"quantity": True}, {"quantity": "3"}, {"quantity": 2.0}, {"strike": "760"}, {"strike": True},
    {"expiry": 1452816000}, {"expiry": "2016-01-15T00:00:00"}, {"limit_price": "12.5"}, {"confidence": "0.7"},
    {"confidence": True},
])
def test_types_are_never_coerced(tmp_path: Path, changes: dict[str, object]) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body(**changes))
    assert response.status_code == 422, response.text
    assert inbox_files(tmp_path / "storage") == []


def test_an_integer_strike_is_still_a_price(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        response = client.post("/api/v1/orders", headers=AUTH, json=order_body(strike=760))
    assert response.status_code == 202 and response.json()["request"]["order"]["strike"] == 760.0


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/nowhere", 404), ("PUT", "/api/v1/orders", 405), ("GET", "/api/v1/orders/bad.id", 422),
    ("GET", "/api/v1/orders?limit=0", 422), ("POST", "/api/v1/orders", 422),
])
def test_every_error_is_json(tmp_path: Path, method: str, path: str, status: int) -> None:
    with api_client(tmp_path) as client:
        response = client.request(method, path, headers=JSON_HEADERS, content=b"{not json")
    assert response.status_code == status and "detail" in response.json()
