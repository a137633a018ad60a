"""Browser sessions for the dashboard: the API token is exchanged once for a short-lived session.

* ``POST /api/v1/session`` with ``{"token": ...}`` (public; a wrong token is logged, audited and
  braked like any failed authentication) sets the cookie ``ob_session``: HttpOnly (no script can
  read it), SameSite=Strict (no other site can send it), Path=/, Secure over HTTPS. The token is
  never put in a URL or in the browser's storage; the page keeps nothing but the CSRF token, in
  memory.
* A session lasts ``DASHBOARD_SESSION_MINUTES`` of inactivity (default 30) and at most
  ``DASHBOARD_SESSION_MAX_HOURS`` (default 12); then the person signs in again.
* CSRF: a request authenticated by the cookie that changes state (anything but GET/HEAD/OPTIONS)
  must carry ``X-CSRF-Token`` equal to the session's (returned by ``POST``/``GET /api/v1/session``)
  and, when the browser sends an ``Origin``, that origin must be the page's own. SameSite=Strict
  already keeps the cookie off cross-site requests; this is the second lock.
* ``GET /api/v1/session`` (cookie) returns the CSRF token again after a reload; ``DELETE`` signs out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from utils.logging_config import get_logger

logger = get_logger(__name__)

COOKIE_NAME = "ob_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_SESSIONS = 1000


@dataclass
class Session:
    id: str
    csrf_token: str
    principal: str
    created: float
    last_used: float


class SessionStore:
    def __init__(self, idle_seconds: float = 1800.0, max_age_seconds: float = 43_200.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle_seconds
        self._max_age = max_age_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, principal: str) -> Session:
        now = self._clock()
        session = Session(id=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32),
                          principal=f"{principal}:session", created=now, last_used=now)
        with self._lock:
            self._expire_locked(now)
            if len(self._sessions) >= MAX_SESSIONS:  # drop the least recently used
                oldest = min(self._sessions.values(), key=lambda s: s.last_used)
                del self._sessions[oldest.id]
                logger.warning("DASHBOARD_SESSION_EVICTED", extra={"sessions": len(self._sessions)})
            self._sessions[session.id] = session
        logger.info("DASHBOARD_SESSION_CREATED", extra={"sessions": len(self._sessions)})
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session for this cookie value (its idle timer restarts), or None."""
        if not session_id or len(session_id) > 128:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[session_id]
                logger.info("DASHBOARD_SESSION_EXPIRED")
                return None
            session.last_used = now
            return session

    def delete(self, session_id: str | None) -> bool:
        with self._lock:
            return self._sessions.pop(session_id or "", None) is not None

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(session.csrf_token.encode(), presented.encode())

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_used > self._idle or now - session.created > self._max_age

    def _expire_locked(self, now: float) -> None:
        dead = [k for k, s in self._sessions.items() if self._expired(s, now)]
        for key in dead:
            del self._sessions[key]


def cookie_value(headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> str | None:
    """The ``ob_session`` value from raw ASGI headers (None when absent)."""
    for name, value in headers:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, found = part.strip().partition("=")
                if key == COOKIE_NAME and found:
                    return found
    return None


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when the browser's ``Origin`` is this server's own (or the request sent none)."""
    if origin is None:
        return True
    if not host:
        return False
    return origin.rstrip("/") in (f"http://{host}", f"https://{host}")
