"""GET /api/v1/audit: the algorithm's Object Store trail and the sidecar's own, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from models.audit import AuditAction
from tests.test_api_support import AUTH, FolderStore, api_client
from utils.audit_logger import AuditLogger
from utils.audit_sinks import FileAuditSink, ObjectStoreAuditSink


def algorithm_trail(storage: Path, count: int = 30) -> None:
    moments = iter(datetime(2015, 12, 23, 14, 30, tzinfo=UTC) + timedelta(minutes=i) for i in range(count))
    sink = ObjectStoreAuditSink(FolderStore(storage), chunk_entries=7)
    audit = AuditLogger(clock=lambda: next(moments), sinks=[sink])
    for i in range(count):
        action = AuditAction.ORDER_FILL if i % 3 else AuditAction.ORDER_SUBMIT
        audit.log(action, f"event {i}", resource_type="order", resource_id=str(i), correlation_id=f"trade-{i % 5}")
    sink.flush()


def test_the_trail_is_served_in_time_order_from_both_sources(tmp_path: Path) -> None:
    algorithm_trail(tmp_path / "storage")
    sidecar = AuditLogger(clock=lambda: datetime(2026, 1, 5, tzinfo=UTC), sinks=[FileAuditSink(tmp_path / "audit")])
    sidecar.log(AuditAction.MANUAL_INTERVENTION, "halt", resource_type="trading", resource_id="r1")
    with api_client(tmp_path) as client:
        page = client.get("/api/v1/audit?limit=500", headers=AUTH).json()
    stamps = [item["timestamp"] for item in page["items"]]
    assert stamps == sorted(stamps)
    assert {item["source"] for item in page["items"]} == {"algorithm", "sidecar"}
    assert sum(item["source"] == "algorithm" for item in page["items"]) == 30


def test_filters_by_action_correlation_time_and_source(tmp_path: Path) -> None:
    algorithm_trail(tmp_path / "storage")
    with api_client(tmp_path) as client:
        submits = client.get("/api/v1/audit?action=order.submit&source=algorithm", headers=AUTH).json()
        trade = client.get("/api/v1/audit?correlation_id=trade-2&source=algorithm", headers=AUTH).json()
        window = client.get("/api/v1/audit", headers=AUTH, params={
            "start": "2015-12-23T14:35:00Z", "end": "2015-12-23T14:39:00+00:00", "source": "algorithm"}).json()
        bad_action = client.get("/api/v1/audit?action=order.explode", headers=AUTH)
        reversed_range = client.get("/api/v1/audit?start=2016-01-01T00:00:00&end=2015-01-01T00:00:00", headers=AUTH)
    assert submits["total"] == 10 and {i["action"] for i in submits["items"]} == {"order.submit"}
    assert trade["total"] == 6 and {i["correlation_id"] for i in trade["items"]} == {"trade-2"}
    assert [i["description"] for i in window["items"]] == [f"event {i}" for i in range(5, 10)]
    assert bad_action.status_code == 422 and reversed_range.status_code == 422


def test_pages_cover_the_trail_without_overlap(tmp_path: Path) -> None:
    algorithm_trail(tmp_path / "storage")
    with api_client(tmp_path) as client:
        pages = [client.get(f"/api/v1/audit?source=algorithm&offset={o}&limit=8", headers=AUTH).json()
                 for o in range(0, 32, 8)]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert len(ids) == len(set(ids)) == 30 and {p["total"] for p in pages} == {30}


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    algorithm_trail(storage, count=5)
    [chunk] = sorted((storage / "options_bot" / "audit").rglob("chunk_*.jsonl"))
    chunk.write_text(chunk.read_text() + '{"id": "torn', encoding="utf-8")
    with api_client(tmp_path) as client:
        response = client.get("/api/v1/audit?source=algorithm", headers=AUTH)
    assert response.status_code == 200 and response.json()["total"] == 5
