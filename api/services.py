"""Everything one sidecar app instance owns, built once by ``build_services`` and kept in a
``ThreadSafeRef`` on ``app.state`` (no module-level mutable state)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import Request
from starlette.requests import HTTPConnection

from api.auth import AuthFailures, TokenVerifier
from api.lean_commands import LeanCommandDispatcher
from api.notifications import Notifier, channels_from_urls
from api.request_audit import RequestAudit
from api.sessions import SessionStore
from api.settings import ApiSettings
from api.thread_safe_ref import ThreadSafeRef
from api.ws_broadcaster import Broadcaster
from api.ws_manager import ConnectionManager
from api.ws_tickets import TicketStore
from services.audit_index import AuditIndex
from services.order_queue import OrderQueue
from services.snapshot_cache import SnapshotCache
from utils.audit_logger import AuditLogger, wall_clock
from utils.audit_sinks import FileAuditSink
from utils.logging_config import get_logger

logger = get_logger(__name__)


@dataclass
class Services:
    settings: ApiSettings
    snapshots: SnapshotCache
    audit_index: AuditIndex
    audit: AuditLogger
    queue: OrderQueue
    connections: ConnectionManager
    tickets: TicketStore
    broadcaster: Broadcaster
    verifier: TokenVerifier
    auth_failures: AuthFailures
    dispatcher: LeanCommandDispatcher | None
    notifier: Notifier
    sessions: SessionStore
    request_audit: RequestAudit
    background: set[asyncio.Task[object]] = field(default_factory=set)

    def spawn(self, coroutine: object, name: str) -> None:
        """Run a fire-and-forget coroutine, keeping a reference until it ends."""
        task: asyncio.Task[object] = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        task.set_name(name)
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            logger.error("BACKGROUND_TASK_FAILED", extra={"task": task.get_name(), "error": str(error),
                                                          "error_type": type(error).__name__})


def build_services(settings: ApiSettings) -> Services:
    audit = AuditLogger(clock=wall_clock, sinks=[FileAuditSink(settings.audit_dir)])
    snapshots = SnapshotCache(settings.object_store_dir, settings.snapshot_stale_after_seconds)
    audit_index = AuditIndex(settings.object_store_dir, settings.audit_dir)
    connections = ConnectionManager(settings.ws_queue_size, settings.ws_max_clients)
    notifier = Notifier(channels_from_urls(settings.notify_urls.get_secret_value()),
                        dedupe_seconds=settings.notify_dedupe_seconds, max_per_minute=settings.notify_max_per_minute)
    dispatcher = None
    if settings.qc_forward_commands:
        dispatcher = LeanCommandDispatcher(settings.qc_api_url, settings.qc_user_id,
                                           settings.qc_api_token.get_secret_value(), settings.qc_project_id)
    return Services(
        settings=settings, snapshots=snapshots, audit_index=audit_index, audit=audit,
        queue=OrderQueue(settings.object_store_dir), connections=connections,
        tickets=TicketStore(settings.ws_ticket_ttl_seconds),
        broadcaster=Broadcaster(snapshots, audit_index, connections, notifier),
        verifier=TokenVerifier(settings.trading_api_token.get_secret_value()),
        auth_failures=AuthFailures(audit, settings.rate_limit_auth_failures), dispatcher=dispatcher,
        notifier=notifier, sessions=SessionStore(settings.dashboard_session_minutes * 60,
                                                 settings.dashboard_session_max_hours * 3600),
        request_audit=RequestAudit(audit_index))


def services_of(connection: HTTPConnection) -> Services:
    ref: ThreadSafeRef[Services] = connection.app.state.services
    return ref.get(timeout=1.0)


def get_services(request: Request) -> Services:
    """FastAPI dependency."""
    return services_of(request)
