"""Resources (state snapshot, positions, risk limits, one audit chain by correlation id) and change
notifications: a session that subscribes to a resource gets ``notifications/resources/updated``
whenever the algorithm writes a new snapshot (``SnapshotNotifier.run`` polls the snapshot cache)."""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from typing import Any

from mcp import types
from mcp.server.session import ServerSession
from pydantic import AnyUrl

from services.agent_runtime import McpRuntime
from utils.logging_config import get_logger

logger = get_logger(__name__)

SNAPSHOT, POSITIONS, LIMITS = "bot://snapshot", "bot://positions", "bot://risk/limits"
AUDIT_TEMPLATE = "bot://audit/{correlation_id}"
_AUDIT = re.compile(r"^bot://audit/([A-Za-z0-9_.:-]{1,128})$")
SNAPSHOT_URIS = (SNAPSHOT, POSITIONS, LIMITS)


class ResourceNotFound(ValueError):
    pass


def list_resources() -> list[types.Resource]:
    return [types.Resource(uri=AnyUrl(SNAPSHOT), name="state snapshot", mimeType="application/json",
                           description="The algorithm's last good state snapshot"),
            types.Resource(uri=AnyUrl(POSITIONS), name="positions", mimeType="application/json"),
            types.Resource(uri=AnyUrl(LIMITS), name="risk limits", mimeType="application/json")]


def list_templates() -> list[types.ResourceTemplate]:
    return [types.ResourceTemplate(uriTemplate=AUDIT_TEMPLATE, name="audit chain", mimeType="application/json",
                                   description="Every audit entry with this correlation id, in time order")]


def read(runtime: McpRuntime, uri: str) -> str:
    """The resource's JSON text; ``ResourceNotFound`` for an unknown URI."""
    if uri in SNAPSHOT_URIS:
        status = runtime.snapshots.current()
        doc: dict[str, Any] = status.view.document or {}
        body: Any = {SNAPSHOT: doc, POSITIONS: doc.get("positions", []),
                     LIMITS: (doc.get("risk") or {}).get("limits", {})}[uri]
        return json.dumps({"meta": status.meta(), "data": body}, default=str)
    match = _AUDIT.match(uri)
    if match is None:
        raise ResourceNotFound(f"unknown resource {uri[:200]!r}; resources/list names them")
    page = runtime.audit_index.query(correlation_id=match.group(1), limit=500)
    return json.dumps({"correlation_id": match.group(1), "total": page.total,
                       "entries": [item.to_dict() for item in page.items]}, default=str)


class SnapshotNotifier:
    """Remembers which session subscribed to which URI; tells them when the snapshot changes."""

    def __init__(self, runtime: McpRuntime) -> None:
        self._runtime = runtime
        self._subscribers: weakref.WeakKeyDictionary[ServerSession, set[str]] = weakref.WeakKeyDictionary()
        self._version = -1
        self.sent = 0

    def subscribe(self, session: ServerSession, uri: str) -> None:
        if uri not in SNAPSHOT_URIS:
            raise ResourceNotFound(f"{uri[:200]!r} has no change notifications; subscribe to {list(SNAPSHOT_URIS)}")
        self._subscribers.setdefault(session, set()).add(uri)

    def unsubscribe(self, session: ServerSession, uri: str) -> None:
        self._subscribers.get(session, set()).discard(uri)

    async def tick(self) -> int:
        version = (await asyncio.to_thread(self._runtime.snapshots.current)).view.version
        if version == self._version:
            return 0
        first, self._version = self._version < 0, version
        if first:
            return 0  # take stock
        sent = 0
        for session, uris in list(self._subscribers.items()):
            for uri in sorted(uris):
                try:
                    await session.send_resource_updated(AnyUrl(uri))
                    sent += 1
                except Exception as exc:  # noqa: BLE001 - a closed session must not stop the others; logged
                    logger.info("MCP_NOTIFY_DROPPED", extra={"uri": uri, "error": type(exc).__name__})
                    self._subscribers.pop(session, None)
        self.sent += sent
        return sent

    async def run(self, interval: float) -> None:
        logger.info("MCP_SNAPSHOT_NOTIFIER_STARTED", extra={"interval_seconds": interval})
        while True:
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - one failed round must not stop notifications; logged
                logger.error("MCP_SNAPSHOT_NOTIFY_FAILED", extra={"error": str(exc)})
            await asyncio.sleep(interval)
