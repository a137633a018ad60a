"""Bearer-token (or dashboard session) authentication for every HTTP route under /api/v1 except
GET /api/v1/health and the dashboard's POST and GET /api/v1/session.

``TokenAuthMiddleware`` is plain ASGI and runs before routing and body parsing, so no route (not
even an unknown path or a malformed body) is reachable without the token. Tokens are compared in
constant time (``hmac.compare_digest`` over SHA-256 digests, so the length does not leak). Each
failure is logged AUTH_FAILED and audited (``AuditAction.AUTH_FAILED``) with the client address;
a client that keeps failing is answered 429 for a while (brute-force brake) and logged, not audited
per attempt, so a flood cannot fill the audit disk.

WebSockets are authenticated by api/ws_routes.py (first message), not here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time

from limits import parse as parse_rate_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from api.sessions import SAFE_METHODS, Session, SessionStore, cookie_value, same_origin
from models.audit import AuditAction
from services.http_auth import bearer_token, client_address
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

API_PREFIX = "/api/v1"
# (method, path) pairs anyone may call: liveness, and the dashboard's sign-in and "am I signed in?"
# (they check the token or the session cookie themselves).
PUBLIC_ROUTES = frozenset({("GET", f"{API_PREFIX}/health"), ("POST", f"{API_PREFIX}/session"),
                           ("GET", f"{API_PREFIX}/session")})


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).digest()


class TokenVerifier:
    """Holds the expected token's digest only; compares in constant time."""

    def __init__(self, token: str) -> None:
        self._expected = _digest(token)
        self.principal = "token:" + hashlib.sha256(b"principal:" + token.encode()).hexdigest()[:16]

    def verify(self, candidate: str | None) -> bool:
        if not candidate:
            hmac.compare_digest(self._expected, self._expected)  # same work on the empty path
            return False
        return hmac.compare_digest(self._expected, _digest(candidate))


class AuthFailures:
    """Logs and audits failed attempts; brakes a client address that keeps failing."""

    def __init__(self, audit: AuditLogger, limit: str) -> None:
        self._audit = audit
        self._limit = parse_rate_limit(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def record(self, client: str, where: str, reason: str, channel: str = "http") -> int | None:
        """Record one failure. Returns a Retry-After (seconds) when the client is braked."""
        if not self._limiter.hit(self._limit, "auth_failures", client):
            reset, _ = self._limiter.get_window_stats(self._limit, "auth_failures", client)
            retry_after = max(1, math.ceil(reset - time.time()))
            logger.warning("AUTH_FAILURE_RATE_LIMITED", extra={"client_ip": client, "endpoint": where,
                                                               "retry_after": retry_after})
            return retry_after
        logger.warning("AUTH_FAILED", extra={"client_ip": client, "endpoint": where, "reason": reason,
                                             "channel": channel})
        self._audit.log(AuditAction.AUTH_FAILED, f"Authentication failed ({reason}) on {where}",
                        actor="anonymous", actor_type="human", resource_type="api", resource_id=where,
                        reason=reason, ip_address=client, metadata={"channel": channel})
        return None


async def _send_json(send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": data})


class TokenAuthMiddleware:
    """Bearer token, or the dashboard's session cookie (api/sessions.py) with its CSRF rules."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, failures: AuthFailures,
                 sessions: SessionStore | None = None) -> None:
        self.app = app
        self._verifier = verifier
        self._failures = failures
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        if not path.startswith(API_PREFIX) or (method, path) in PUBLIC_ROUTES:
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        header = None
        for name, value in headers:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if header is None and self._sessions is not None:
            session = self._sessions.get(cookie_value(headers))
            if session is not None:
                await self._with_session(session, scope, receive, send)
                return
        token, problem = bearer_token(header)
        if token is not None and self._verifier.verify(token):
            scope.setdefault("state", {})["principal"] = self._verifier.principal
            await self.app(scope, receive, send)
            return
        if token is not None:
            problem = "invalid"
        else:
            self._verifier.verify(None)
        retry_after = self._failures.record(client_address(scope), f"{method} {path}", problem)
        if retry_after is not None:
            await _send_json(send, 429, {"detail": "too many failed authentication attempts"},
                             [(b"retry-after", str(retry_after).encode())])
            return
        await _send_json(send, 401, {"detail": "missing or invalid bearer token"},
                         [(b"www-authenticate", b'Bearer realm="options-bot"')])

    async def _with_session(self, session: Session, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope.get("method", "GET"), scope.get("path", "")
        if method not in SAFE_METHODS:
            found = {name: value.decode("latin-1") for name, value in scope.get("headers", ())
                     if name in (b"x-csrf-token", b"origin", b"host")}
            if not (SessionStore.csrf_ok(session, found.get(b"x-csrf-token"))
                    and same_origin(found.get(b"origin"), found.get(b"host"))):
                self._failures.record(client_address(scope), f"{method} {path}", "csrf")
                await _send_json(send, 403, {"detail": "CSRF check failed: send X-CSRF-Token from the page's own "
                                                       "origin"}, [])
                return
        state = scope.setdefault("state", {})
        state["principal"], state["session_id"] = session.principal, session.id
        await self.app(scope, receive, send)
