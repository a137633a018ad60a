"""Notifications through apprise: what is sent, deduplication, rate limit, failing channels, wiring.

Delivery is real apprise to a webhook receiver on 127.0.0.1 (apprise's ``json://`` service)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from api.notification_rules import FAILURE, INFO, Notification, notification_for_entry, notification_for_snapshot
from api.notifications import AppriseChannel, Notifier, SidecarErrorHandler, channels_from_urls
from api.services import build_services
from models.audit import AuditAction, AuditEntry
from models.exceptions import ConfigurationError
from tests.test_api_support import FolderStore, make_settings, make_snapshot, write_snapshot
from utils.audit_logger import AuditLogger
from utils.audit_sinks import ObjectStoreAuditSink


class Receiver:
    """A webhook endpoint that records every JSON body posted to it."""

    def __init__(self, status: int = 200) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def entry(action: AuditAction, **fields: Any) -> AuditEntry:
    values: dict[str, Any] = {"timestamp": datetime(2015, 12, 23, 15, 0, tzinfo=UTC), "action": action,
                              "description": f"{action.name} happened", "actor": "system", "actor_type": "system",
                              "resource_type": "position", "resource_id": "P00001"}
    values.update(fields)
    return AuditEntry(**values)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- rules ----------------------------------------------------------------------------------------

def test_a_halting_breaker_trip_is_a_failure_and_a_fill_is_info() -> None:
    trip = notification_for_entry(entry(AuditAction.CIRCUIT_BREAKER_TRIP, resource_type="circuit_breaker",
                                        after_state={"state": "halted", "trigger": "daily_loss"}))
    assert trip is not None and trip.severity == FAILURE and "halted" in trip.title and "daily_loss" in trip.body
    fill = notification_for_entry(entry(AuditAction.ORDER_FILL, correlation_id="E-1"))
    assert fill is not None and fill.severity == INFO and "E-1" in fill.body


def test_stop_losses_assignments_and_failures_are_news_but_routine_entries_are_not() -> None:
    kinds = {action: notification_for_entry(entry(action)) for action in AuditAction}
    assert kinds[AuditAction.STOP_LOSS] is not None and kinds[AuditAction.STOP_LOSS].kind == "stop_loss"
    assert kinds[AuditAction.ROLL_FAIL] is not None and kinds[AuditAction.ROLL_FAIL].kind == "roll_failed"
    assert kinds[AuditAction.COMPONENT_FAILURE] is not None
    assert kinds[AuditAction.ORDER_SUBMIT] is None and kinds[AuditAction.PROFIT_TAKE_SKIPPED] is None
    proposal = kinds[AuditAction.PROPOSAL_CREATE]
    assert proposal is not None and proposal.kind == "approval_pending" and "dashboard" in proposal.body
    assert kinds[AuditAction.AGENT_TOOL_CALL] is None
    assigned = notification_for_entry(entry(AuditAction.ORDER_FILL, metadata={"is_assignment": True}))
    assert assigned is not None and assigned.kind == "assignment"


def test_a_stale_snapshot_is_told_once_and_its_recovery_too() -> None:
    assert notification_for_snapshot("fresh", None, 1.0) is None
    stale = notification_for_snapshot("stale", "fresh", 95.0)
    assert stale is not None and stale.severity == FAILURE and "95 s" in stale.body
    assert notification_for_snapshot("stale", "stale", 120.0) is None
    recovered = notification_for_snapshot("fresh", "stale", 1.0)
    assert recovered is not None and recovered.kind == "snapshot_recovered"


# -- delivery through apprise --------------------------------------------------------------------

def test_a_notification_reaches_a_webhook_through_apprise(receiver: Receiver) -> None:
    notifier = Notifier(channels_from_urls(receiver.url))
    notifier.start()
    try:
        assert notifier.observe_entries([entry(AuditAction.STOP_LOSS, description="Stop-loss on 3 GOOG puts")]) == 1
        assert notifier.wait_idle()
    finally:
        notifier.stop()
    assert len(receiver.received) == 1
    assert receiver.received[0]["title"] == "Stop-loss" and "3 GOOG puts" in receiver.received[0]["message"]
    assert receiver.received[0]["type"] == "warning" and notifier.delivered == 1


def test_the_same_key_is_sent_once_per_dedupe_window() -> None:
    clock = Clock()
    sent: list[Notification] = []
    notifier = Notifier([ListChannel(sent)], dedupe_seconds=300, clock=clock)
    stop = entry(AuditAction.STOP_LOSS)
    assert [notifier.submit(notification_for_entry(stop)) for _ in range(3)] == ["queued", "duplicate", "duplicate"]
    clock.now += 301
    assert notifier.submit(notification_for_entry(stop)) == "queued"


def test_info_is_rate_limited_but_failures_always_pass_and_the_suppressed_count_is_told() -> None:
    clock = Clock()
    notifier = Notifier([ListChannel([])], max_per_minute=5, clock=clock)
    fills = [notifier.submit(notification_for_entry(entry(AuditAction.ORDER_FILL))) for _ in range(8)]
    assert fills.count("queued") == 5 and fills.count("rate_limited") == 3
    trip = notification_for_entry(entry(AuditAction.CIRCUIT_BREAKER_TRIP, after_state={"state": "halted"}))
    assert notifier.submit(trip) == "queued"
    clock.now += 61
    assert notifier.submit(notification_for_entry(entry(AuditAction.ORDER_FILL))) == "queued"
    queued = [notifier._queue.get_nowait() for _ in range(7)]
    assert "3 earlier notifications suppressed" in queued[5].body  # the trip carries the count
    assert "suppressed" not in queued[6].body


class ListChannel:
    name = "list://"

    def __init__(self, sent: list[Notification]) -> None:
        self.sent = sent

    def send(self, notification: Notification) -> bool:
        self.sent.append(notification)
        return True


class BrokenChannel:
    name = "broken://"

    def send(self, notification: Notification) -> bool:
        raise ConnectionError("no route to the service")


def test_a_failing_channel_is_logged_and_the_others_still_get_it(receiver: Receiver, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="options_bot")
    refused = Receiver(status=500)
    try:
        notifier = Notifier([BrokenChannel(), AppriseChannel(refused.url), AppriseChannel(receiver.url)])
        notifier.start()
        notifier.observe_entries([entry(AuditAction.ROLL_FAIL)])
        assert notifier.wait_idle()
        notifier.stop()
    finally:
        refused.close()
    assert len(receiver.received) == 1 and notifier.delivered == 1 and notifier.failed == 2
    failures = [r for r in caplog.records if r.getMessage() == "NOTIFICATION_FAILED"]
    assert {r.channel for r in failures} == {"broken://", AppriseChannel(refused.url).name}
    assert any("no route" in r.error for r in failures)


def test_submit_never_waits_for_a_slow_channel_and_a_full_queue_drops_with_a_log(caplog) -> None:
    caplog.set_level(logging.ERROR, logger="options_bot")
    release = threading.Event()

    class Slow:
        name = "slow://"

        def send(self, notification: Notification) -> bool:
            release.wait(5)
            return True

    notifier = Notifier([Slow()], queue_size=2, max_per_minute=100)
    notifier.start()
    try:
        results = [notifier.submit(Notification("fill", f"k{i}", "t", "b", INFO)) for i in range(5)]
    finally:
        release.set()
        notifier.stop()
    assert results[:2] == ["queued", "queued"] and "dropped" in results
    assert any(r.getMessage() == "NOTIFICATION_DROPPED" for r in caplog.records)


def test_an_unknown_url_is_refused_at_start_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="NOTIFY_URLS"):
        channels_from_urls("ntfy://topic, nonsense://x")
    assert channels_from_urls("") == [] and Notifier([]).submit(Notification("fill", "k", "t", "b", INFO)) == "disabled"


def test_sidecar_errors_become_notifications_but_the_notifiers_own_do_not() -> None:
    sent: list[Notification] = []
    notifier = Notifier([ListChannel(sent)])
    handler = SidecarErrorHandler(notifier)
    api_logger = logging.getLogger("options_bot.api.test")
    api_logger.addHandler(handler)
    try:
        api_logger.error("WEBSOCKET_BROADCAST_FAILED", extra={"error": "disk gone"})
        api_logger.warning("SOMETHING_MINOR")
        logging.getLogger("options_bot.api.notifications").error("NOTIFICATION_DROPPED")
    finally:
        api_logger.removeHandler(handler)
    queued = notifier._queue.get_nowait()
    assert queued.kind == "sidecar_error" and "disk gone" in queued.body and notifier._queue.empty()


# -- wired into the sidecar -----------------------------------------------------------------------

def test_the_broadcaster_feeds_new_audit_entries_and_a_stale_snapshot_to_the_notifier(
        tmp_path: Path, receiver: Receiver) -> None:
    settings = make_settings(tmp_path, notify_urls=receiver.url, snapshot_stale_after_seconds=0.001)
    services = build_services(settings)
    write_snapshot(settings.object_store_dir, make_snapshot())
    store = FolderStore(settings.object_store_dir)
    algorithm_audit = AuditLogger(clock=lambda: datetime(2015, 12, 23, 15, 0, tzinfo=UTC),
                                  sinks=[ObjectStoreAuditSink(store)])
    services.notifier.start()
    try:
        asyncio.run(services.broadcaster.tick())  # takes stock
        algorithm_audit.log(AuditAction.STOP_LOSS, "Stop-loss on P00001", resource_type="position",
                            resource_id="P00001")
        algorithm_audit.flush()
        asyncio.run(services.broadcaster.tick())
        assert services.notifier.wait_idle()
    finally:
        services.notifier.stop()
    titles = [body["title"] for body in receiver.received]
    assert "Stop-loss" in titles and "Algorithm state is not updating" in titles
