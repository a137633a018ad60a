"""Notifications that reach the person watching the bot, through apprise (ntfy, Telegram, Slack,
e-mail, webhooks: any apprise URL in ``NOTIFY_URLS``).

* ``Notifier.submit`` never blocks and never raises: it deduplicates (one key once per
  ``dedupe_seconds``), rate-limits (at most ``max_per_minute`` info/warning notifications in any
  60 s; failures - a halted breaker, a failed roll, a stale snapshot - are never rate-limited, only
  deduplicated) and queues; a worker thread delivers. A full queue drops the newest and logs it.
* Each channel is sent to on its own: a failing channel (an exception or apprise's False) is logged
  NOTIFICATION_FAILED with its URL in apprise's privacy form (no secret) and never stops the others.
* The broadcaster feeds it the new audit entries and the snapshot status (``observe_entries`` /
  ``observe_snapshot``); ``SidecarErrorHandler`` turns the sidecar's own ERROR logs into
  ``sidecar_error`` notifications.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from api.notification_rules import FAILURE, Notification, notification_for_entry, notification_for_snapshot
from models.audit import AuditEntry
from models.exceptions import ConfigurationError
from utils.logging_config import get_logger

logger = get_logger(__name__)

RATE_WINDOW_SECONDS = 60.0


class Channel(Protocol):
    name: str  # safe to log: no secret

    def send(self, notification: Notification) -> bool: ...


class AppriseChannel:
    """One apprise URL. Refuses (``ConfigurationError`` naming NOTIFY_URLS) a URL apprise cannot use."""

    def __init__(self, url: str) -> None:
        import apprise

        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise ConfigurationError("NOTIFY_URLS", f"apprise cannot use a '{scheme}://' URL (see apprise's list of "
                                                    "services); the URLs are comma-separated")
        self._apprise = apprise.Apprise()
        self._apprise.add(plugin)
        self.name = plugin.url(privacy=True).split("?", 1)[0]
        self._types = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
                       "failure": apprise.NotifyType.FAILURE}

    def send(self, notification: Notification) -> bool:
        return bool(self._apprise.notify(body=notification.body, title=notification.title,
                                         notify_type=self._types.get(notification.severity, "info")))


def channels_from_urls(urls: str) -> list[Channel]:
    """``NOTIFY_URLS``: comma- or whitespace-separated apprise URLs (empty: notifications off)."""
    return [AppriseChannel(url) for url in urls.replace(",", " ").split()]


class Notifier:
    def __init__(self, channels: list[Channel], *, dedupe_seconds: float = 300.0, max_per_minute: int = 20,
                 queue_size: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self._channels = channels
        self._dedupe_seconds = dedupe_seconds
        self._max_per_minute = max_per_minute
        self._clock = clock
        self._queue: queue.Queue[Notification | None] = queue.Queue(maxsize=queue_size)
        self._seen: dict[str, float] = {}
        self._sent_times: deque[float] = deque()
        self._suppressed = 0
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._snapshot_status: str | None = None
        self.delivered = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return bool(self._channels)

    def submit(self, notification: Notification) -> str:
        """Queue one notification: 'queued', 'duplicate', 'rate_limited', 'dropped' or 'disabled'."""
        if not self._channels:
            return "disabled"
        now = self._clock()
        with self._lock:
            last = self._seen.get(notification.key)
            if last is not None and now - last < self._dedupe_seconds:
                return "duplicate"
            while self._sent_times and now - self._sent_times[0] >= RATE_WINDOW_SECONDS:
                self._sent_times.popleft()
            if notification.severity != FAILURE and len(self._sent_times) >= self._max_per_minute:
                self._suppressed += 1
                logger.warning("NOTIFICATION_RATE_LIMITED", extra={"kind": notification.kind,
                                                                   "suppressed": self._suppressed})
                return "rate_limited"
            if self._suppressed:
                notification = Notification(notification.kind, notification.key, notification.title,
                                            f"{notification.body}\n({self._suppressed} earlier notifications "
                                            "suppressed by the rate limit)", notification.severity)
            try:
                self._queue.put_nowait(notification)
            except queue.Full:
                logger.error("NOTIFICATION_DROPPED", extra={"kind": notification.kind, "reason": "queue full"})
                return "dropped"
            self._suppressed = 0
            self._seen[notification.key] = now
            self._sent_times.append(now)
            if len(self._seen) > 10_000:  # forget keys past the window
                self._seen = {k: t for k, t in self._seen.items() if now - t < self._dedupe_seconds}
        return "queued"

    def observe_entries(self, entries: Iterable[AuditEntry]) -> int:
        """Submit what the new audit entries deserve; returns how many were queued."""
        queued = 0
        for entry in entries:
            notification = notification_for_entry(entry)
            if notification is not None and self.submit(notification) == "queued":
                queued += 1
        return queued

    def observe_snapshot(self, status: str, age_seconds: float | None) -> str | None:
        previous, self._snapshot_status = self._snapshot_status, status
        notification = notification_for_snapshot(status, previous, age_seconds)
        return None if notification is None else self.submit(notification)

    # -- delivery ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._channels and self._worker is None:
            self._worker = threading.Thread(target=self._run, name="notifier", daemon=True)
            self._worker.start()
            logger.info("NOTIFIER_STARTED", extra={"channels": [c.name for c in self._channels]})

    def stop(self, timeout: float = 5.0) -> None:
        if self._worker is not None:
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                logger.error("NOTIFIER_STOP_TIMEOUT", extra={"pending": self._queue.qsize()})
                return
            self._worker.join(timeout)
            self._worker = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once every queued notification was handled (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def _run(self) -> None:
        while True:
            notification = self._queue.get()
            try:
                if notification is None:
                    return
                self._deliver(notification)
            finally:
                self._queue.task_done()

    def _deliver(self, notification: Notification) -> None:
        for channel in self._channels:
            try:
                ok = channel.send(notification)
                error = None if ok else "the service refused or could not be reached"
            except Exception as exc:  # noqa: BLE001 - one failing channel is logged and must not stop the others
                ok, error = False, f"{type(exc).__name__}: {exc}"
            if ok:
                self.delivered += 1
                logger.info("NOTIFICATION_SENT", extra={"kind": notification.kind, "channel": channel.name})
            else:
                self.failed += 1
                logger.warning("NOTIFICATION_FAILED", extra={"kind": notification.kind, "channel": channel.name,
                                                             "error": error})


class SidecarErrorHandler(logging.Handler):
    """The sidecar's own ERROR logs become ``sidecar_error`` notifications (deduplicated by event)."""

    def __init__(self, notifier: Notifier) -> None:
        super().__init__(level=logging.ERROR)
        self._notifier = notifier

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == logger.name:  # the notifier's own troubles must not notify about themselves
            return
        event = record.getMessage()
        error = getattr(record, "error", None)
        self._notifier.submit(Notification("sidecar_error", f"sidecar_error:{event}", f"Sidecar error: {event}",
                                           f"{event} in {record.name}" + (f": {error}" if error else ""), FAILURE))
