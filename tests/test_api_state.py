"""Read endpoints over the Object Store snapshot: last good state served, never a 5xx."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.snapshot_cache import SnapshotCache
from tests.test_api_support import AUTH, api_client, make_position, make_snapshot, write_snapshot
from utils.object_store_schema import STATE_KEY

READS = ["/api/v1/state", "/api/v1/positions", "/api/v1/greeks", "/api/v1/risk"]


def test_state_serves_the_snapshot_with_its_age(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "storage")
    with api_client(tmp_path) as client:
        response = client.get("/api/v1/state", headers=AUTH)
    body = response.json()
    assert response.status_code == 200
    assert body["meta"]["available"] is True and body["meta"]["status"] == "fresh"
    assert 0 <= body["meta"]["age_seconds"] < 60
    assert body["data"]["ticker"] == "GOOG" and body["data"]["positions"][0]["id"] == "P00001"
    assert float(response.headers["x-snapshot-age-seconds"]) >= 0


@pytest.mark.parametrize("torn", ['{"schema_version": 1, "kind": "options_bot_st', "", "null", "{]"])
def test_a_torn_snapshot_serves_the_last_good_state(tmp_path: Path, torn: str) -> None:
    storage = tmp_path / "storage"
    write_snapshot(storage)
    with api_client(tmp_path) as client:
        first = client.get("/api/v1/state", headers=AUTH).json()
        write_snapshot(storage, text=torn)
        responses = {path: client.get(path, headers=AUTH) for path in READS}
    assert {r.status_code for r in responses.values()} == {200}
    state = responses["/api/v1/state"].json()
    assert state["data"] == first["data"]
    assert state["meta"]["status"] == "torn" and state["meta"]["error"]
    assert responses["/api/v1/positions"].json()["data"][0]["id"] == "P00001"


def test_a_missing_snapshot_is_200_with_no_data_and_a_degraded_health(tmp_path: Path) -> None:
    with api_client(tmp_path) as client:
        responses = {path: client.get(path, headers=AUTH) for path in READS}
        health = client.get("/api/v1/health").json()
    assert {r.status_code for r in responses.values()} == {200}
    assert responses["/api/v1/state"].json() == {"meta": responses["/api/v1/state"].json()["meta"], "data": None}
    assert responses["/api/v1/positions"].json()["data"] == []
    assert health["status"] == "degraded" and health["snapshot"]["status"] == "missing"


def test_a_deleted_snapshot_keeps_serving_the_last_good_one(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "storage")
    with api_client(tmp_path) as client:
        client.get("/api/v1/state", headers=AUTH)
        path.unlink()
        body = client.get("/api/v1/state", headers=AUTH).json()
    assert body["meta"]["status"] == "missing" and body["data"]["ticker"] == "GOOG"


def test_a_new_snapshot_replaces_the_old_one_and_bumps_the_version(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    write_snapshot(storage)
    with api_client(tmp_path) as client:
        first = client.get("/api/v1/state", headers=AUTH).json()
        write_snapshot(storage, make_snapshot(underlying_price=801.25))
        second = client.get("/api/v1/state", headers=AUTH).json()
    assert second["data"]["underlying_price"] == 801.25
    assert second["meta"]["snapshot_version"] == first["meta"]["snapshot_version"] + 1


def test_an_old_file_is_reported_stale_with_its_age(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "storage")
    old = time.time() - 3600
    os.utime(path, (old, old))
    cache = SnapshotCache(tmp_path / "storage", stale_after_seconds=30)
    status = cache.current()
    assert status.status == "stale" and status.age_seconds is not None and status.age_seconds >= 3599


def test_the_cache_rereads_only_when_the_file_changes(tmp_path: Path, monkeypatch) -> None:
    write_snapshot(tmp_path / "storage")
    cache = SnapshotCache(tmp_path / "storage")
    reads = []
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    for _ in range(5):
        cache.current()
    assert len(reads) == 1 and reads[0].as_posix().endswith(STATE_KEY)


def test_positions_by_id_and_status_filter(tmp_path: Path) -> None:
    snapshot = make_snapshot(positions=[make_position("P1"), make_position("P2", status="closed")])
    write_snapshot(tmp_path / "storage", snapshot)
    with api_client(tmp_path) as client:
        one = client.get("/api/v1/positions/P2", headers=AUTH)
        missing = client.get("/api/v1/positions/P9", headers=AUTH)
        traversal = client.get("/api/v1/positions/..%2F..%2Fetc", headers=AUTH)
        open_only = client.get("/api/v1/positions?status=open", headers=AUTH).json()["data"]
    assert one.status_code == 200 and one.json()["data"]["status"] == "closed"
    assert missing.status_code == 404
    assert 400 <= traversal.status_code < 500
    assert [p["id"] for p in open_only] == ["P1"]


def test_greeks_and_risk_views(tmp_path: Path) -> None:
    risk = {"circuit_breaker": {"state": "HALTED"}, "limits": {"max_open_positions": 3}}
    write_snapshot(tmp_path / "storage", make_snapshot(risk=risk, parameters={"risk_max_order_value": "5000"}))
    with api_client(tmp_path) as client:
        greeks = client.get("/api/v1/greeks", headers=AUTH).json()["data"]
        risk_view = client.get("/api/v1/risk", headers=AUTH).json()["data"]
    assert greeks["portfolio"]["dollar_delta"] == -9000.0
    assert greeks["positions"][0]["delta"] == -0.3 and greeks["positions"][0]["greeks_source"] == "market"
    assert risk_view["trading_state"] == "halted"
    assert risk_view["risk"]["limits"]["max_open_positions"] == 3
    assert risk_view["risk_parameters"] == {"risk_max_order_value": "5000"}
