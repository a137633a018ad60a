"""Pushes to WebSocket clients: the snapshot when it changes, its status when only that changes
(``{"type": "status", "meta"}``: fresh -> stale without a new file), audit entries as they arrive; and
hands both to the notifier (api/notifications.py), with or without clients.

``tick()`` does one round (tests call it directly); ``run()`` repeats it every
``interval`` seconds until cancelled (started by the app's lifespan).
"""

from __future__ import annotations

import asyncio
import json

from api.notifications import Notifier
from api.ws_manager import ConnectionManager
from services.audit_index import AuditIndex
from services.snapshot_cache import SnapshotCache, SnapshotStatus
from utils.logging_config import get_logger

logger = get_logger(__name__)

MAX_AUDIT_ENTRIES_PER_MESSAGE = 200


def snapshot_message(status: SnapshotStatus) -> str:
    data = status.view.section("state", lambda doc: doc).decode("utf-8")
    return f'{{"type":"snapshot","meta":{status.meta_json().decode("utf-8")},"data":{data}}}'


class Broadcaster:
    def __init__(self, cache: SnapshotCache, audit: AuditIndex, manager: ConnectionManager,
                 notifier: Notifier | None = None) -> None:
        self._cache = cache
        self._notifier = notifier
        self._audit = audit
        self._manager = manager
        self._last_version = -1
        self._last_status: str | None = None
        self.ticks = 0

    async def tick(self) -> dict[str, int]:
        """One round; returns what was sent (for tests and logs)."""
        self.ticks += 1
        sent = {"snapshot": 0, "audit": 0}  # and "status": 1 when only the status was pushed
        status = self._cache.current()
        if status.view.version != self._last_version:
            self._last_version = status.view.version
            if status.available and self._manager.count:
                await self._manager.broadcast(snapshot_message(status))
                sent["snapshot"] = 1
        elif status.status != self._last_status and self._manager.count:  # e.g. fresh -> stale: no new file
            await self._manager.broadcast(f'{{"type":"status","meta":{status.meta_json().decode("utf-8")}}}')
            sent["status"] = 1
        self._last_status = status.status
        if self._notifier is not None:
            self._notifier.observe_snapshot(status.status, status.age_seconds)
        entries = await asyncio.to_thread(self._audit.poll_new)
        if entries and self._notifier is not None:
            self._notifier.observe_entries(sourced.entry for sourced in entries)
        if entries and self._manager.count:
            for start in range(0, len(entries), MAX_AUDIT_ENTRIES_PER_MESSAGE):
                batch = [e.to_dict() for e in entries[start:start + MAX_AUDIT_ENTRIES_PER_MESSAGE]]
                await self._manager.broadcast(json.dumps({"type": "audit", "entries": batch}, default=str))
            sent["audit"] = len(entries)
        return sent

    async def run(self, interval: float) -> None:
        logger.info("WEBSOCKET_BROADCASTER_STARTED", extra={"interval_seconds": interval})
        while True:
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - one failed round must not stop the pushes; logged
                logger.error("WEBSOCKET_BROADCAST_FAILED", extra={"error": str(exc), "error_type": type(exc).__name__})
            await asyncio.sleep(interval)
