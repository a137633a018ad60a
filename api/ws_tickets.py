"""One-time WebSocket tickets: a browser that holds a session with a backend (or an operator's
page) asks ``POST /api/v1/ws/ticket`` with the bearer token and sends the ticket, not the
long-lived token, in its first WebSocket message. A ticket is random (256 bits), expires after a
few seconds and is consumed by its first use. Never carried in a URL.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class TicketStore:
    def __init__(self, ttl_seconds: float, max_tickets: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_tickets
        self._clock = clock
        self._tickets: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        ticket = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._purge(now)
            if len(self._tickets) >= self._max:
                oldest = min(self._tickets, key=self._tickets.__getitem__)
                del self._tickets[oldest]
            self._tickets[ticket] = now + self._ttl
        return ticket

    def redeem(self, ticket: str) -> bool:
        """True once for a live ticket; False for an unknown, used or expired one."""
        with self._lock:
            expires = self._tickets.pop(ticket, None)
        return expires is not None and self._clock() <= expires

    def _purge(self, now: float) -> None:
        for ticket in [t for t, expires in self._tickets.items() if expires < now]:
            del self._tickets[ticket]

    def __len__(self) -> int:
        with self._lock:
            return len(self._tickets)
