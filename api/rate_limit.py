"""slowapi rate limits, keyed per token (seed 4.2, stricter: per principal, not per IP).

``build_limiter`` makes one ``Limiter`` per app (no module-level limiter). Routes use
``limiter.limit(settings.rate_limit_orders)`` for POST /orders and
``limiter.shared_limit(settings.rate_limit_reads, scope="reads")`` for reads. A refused request
gets 429 with ``Retry-After`` (seconds until the window frees a slot).
"""

from __future__ import annotations

import math
import time

from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from utils.logging_config import get_logger

logger = get_logger(__name__)


def principal_key(request: Request) -> str:
    """The authenticated token's fingerprint; the client address for public routes."""
    principal = request.scope.get("state", {}).get("principal")
    if principal:
        return str(principal)
    client = request.client
    return f"ip:{client.host if client else 'unknown'}"


def build_limiter() -> Limiter:
    return Limiter(key_func=principal_key, key_style="endpoint", strategy="moving-window",
                   storage_uri="memory://", headers_enabled=False)


def retry_after_seconds(request: Request, exc: RateLimitExceeded) -> int:
    limiter: Limiter = request.app.state.limiter
    current = getattr(request.state, "view_rate_limit", None)
    if current is not None:
        item, args = current
        reset, _ = limiter.limiter.get_window_stats(item, *args)
        return max(1, math.ceil(reset - time.time()))
    item = exc.limit.limit if exc.limit is not None else None
    return max(1, int(item.get_expiry())) if item is not None else 60


def rate_limit_exceeded_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RateLimitExceeded):
        raise exc
    retry_after = retry_after_seconds(request, exc)
    logger.warning("RATE_LIMITED", extra={"principal": principal_key(request), "path": request.url.path,
                                          "limit": str(exc.detail), "retry_after": retry_after})
    return JSONResponse({"detail": f"rate limit exceeded: {exc.detail}"}, status_code=429,
                        headers={"Retry-After": str(retry_after)})
