"""Every error the sidecar answers is JSON, and never echoes a value it cannot encode.

- 422 (``RequestValidationError``): each problem as ``{"loc", "msg", "type"}`` only; the client's
  input is not echoed (a NaN, an infinity or a lone surrogate in it made the default handler fail
  with a 500 and a reset connection).
- ``InboxFormatError`` raised while building a request: 422 naming the field.
- A storage fault (``OSError`` or an audit entry that cannot be written): 503 naming the cause, 507
  when the disk or quota is full, with ``Retry-After``: the request was not acknowledged, retry it
  with the same idempotency key.
- Anything else: 500 ``{"detail": "internal error", "error_id"}``, logged with the same id.
"""

from __future__ import annotations

import errno
import json
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.exceptions import AuditWriteError
from utils.logging_config import get_logger
from utils.order_inbox import InboxFormatError

logger = get_logger(__name__)

STORAGE_RETRY_AFTER_SECONDS = 30
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
_CAUSES = {errno.EROFS: "read_only", errno.EACCES: "permission_denied", errno.EPERM: "permission_denied",
           errno.ENOSPC: "no_space", errno.EDQUOT: "quota_exceeded", errno.EIO: "io_error"}


def safe_text(value: object, limit: int = 500) -> str:
    """``value`` as text that UTF-8 can encode (lone surrogates replaced), at most ``limit`` characters."""
    return str(value)[:limit].encode("utf-8", errors="replace").decode("utf-8")


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"),
                          default=safe_text).encode("ascii")


def _loc(part: object) -> str | int:
    return part if isinstance(part, int) and not isinstance(part, bool) else safe_text(part, 100)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": [_loc(p) for p in error.get("loc", ())], "msg": safe_text(error.get("msg", "invalid")),
                 "type": safe_text(error.get("type", "value_error"), 100)} for error in exc.errors()[:50]]
    logger.info("REQUEST_INVALID", extra={"path": request.url.path, "problems": problems[:5]})
    return SafeJSONResponse({"detail": problems}, status_code=422)


async def inbox_format_error(request: Request, exc: Exception) -> JSONResponse:
    """A request the inbox format refuses (e.g. a blank actor after pydantic's checks): the client's
    mistake, a 422 naming the field, never a 500."""
    logger.warning("REQUEST_REFUSED_BY_INBOX_FORMAT", extra={"path": request.url.path, "error": safe_text(exc)})
    return SafeJSONResponse({"detail": safe_text(exc)}, status_code=422)


def _os_error(exc: BaseException | None) -> OSError | None:
    for _ in range(5):  # the OSError behind an AuditWriteError (sink error -> logger error)
        if exc is None or isinstance(exc, OSError):
            return exc
        exc = exc.__cause__
    return None


def storage_fault_response(exc: BaseException) -> JSONResponse:
    """503 (507 for no space) naming the cause, with Retry-After."""
    cause_error = _os_error(exc)
    code = cause_error.errno if cause_error is not None else None
    cause = "audit_unwritable" if isinstance(exc, AuditWriteError) else _CAUSES.get(code or -1, "storage_error")
    if isinstance(exc, AuditWriteError) and code in _NO_SPACE:
        cause = "audit_no_space"
    status = 507 if code in _NO_SPACE else 503
    error = safe_text(getattr(cause_error, "strerror", None) or exc, 200)
    body = {"detail": "storage unavailable: the request was not acknowledged; retry with the same "
                      "Idempotency-Key", "cause": cause, "error": error}
    return SafeJSONResponse(body, status_code=status, headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)})


async def storage_fault(request: Request, exc: Exception) -> JSONResponse:
    logger.error("STORAGE_FAULT", extra={"path": request.url.path, "error": safe_text(exc),
                                         "error_type": type(exc).__name__})
    return storage_fault_response(exc)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return SafeJSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    error_id = secrets.token_hex(8)
    logger.error("REQUEST_FAILED", extra={"path": request.url.path, "error_id": error_id, "error": safe_text(exc),
                                          "error_type": type(exc).__name__})
    return SafeJSONResponse({"detail": "internal error", "error_id": error_id}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(InboxFormatError, inbox_format_error)
    app.add_exception_handler(AuditWriteError, storage_fault)
    app.add_exception_handler(OSError, storage_fault)
    app.add_exception_handler(Exception, internal_error)
