"""Forward inbox requests to a live cloud deployment as LEAN commands (QuantConnect REST API).

``POST {QC_API_URL}/live/commands/create`` with ``{"projectId": int, "command": {...}}``. The command
is ``utils.order_inbox.to_lean_command(request)``: ``{"$type": "OptionsBotInboxCommand",
"request_json": "<the inbox request JSON>"}``; the algorithm registers that class with
``add_command`` and parses ``request_json`` with ``read_request``, so both channels carry the same
document and the algorithm's "never act twice on one request id" covers both.

Authentication (QuantConnect API v2 docs, "Authentication"): HTTP Basic with user
``QC_USER_ID`` and password ``sha256_hex(f"{QC_API_TOKEN}:{unix_time}")``, plus a ``Timestamp:
<unix_time>`` header; the token itself is never sent. The answer is ``{"success": bool,
"errors": [...]}``.

Forwarding is best effort: the inbox file, already durable, stays the source of truth. Transport
errors and 5xx are retried (utils.error_handling.retry); a refusal is logged and returned.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from utils.error_handling import retry
from utils.logging_config import get_logger
from utils.order_inbox import InboxRequest, to_lean_command

logger = get_logger(__name__)

COMMANDS_PATH = "/live/commands/create"


class RetryableForwardError(Exception):
    """A transport error or 5xx from the QuantConnect API: worth another attempt."""


@dataclass(frozen=True)
class ForwardResult:
    success: bool
    status_code: int | None
    errors: list[str] = field(default_factory=list)


def auth_headers(user_id: str, api_token: str, now: float) -> dict[str, str]:
    timestamp = str(int(now))
    hashed = hashlib.sha256(f"{api_token}:{timestamp}".encode()).hexdigest()
    basic = base64.b64encode(f"{user_id}:{hashed}".encode()).decode("ascii")
    return {"Authorization": f"Basic {basic}", "Timestamp": timestamp}


class LeanCommandDispatcher:
    def __init__(self, base_url: str, user_id: str, api_token: str, project_id: int,
                 client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time,
                 timeout: float = 10.0) -> None:
        self._url = base_url.rstrip("/") + COMMANDS_PATH
        self._user_id = user_id
        self._api_token = api_token
        self._project_id = project_id
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self._clock = clock

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def forward(self, request: InboxRequest) -> ForwardResult:
        try:
            result = await self._post(request)
        except RetryableForwardError as exc:
            logger.error("LEAN_COMMAND_FORWARD_FAILED", extra={"request_id": request.request_id, "error": str(exc)})
            return ForwardResult(False, None, [str(exc)])
        event = "LEAN_COMMAND_FORWARDED" if result.success else "LEAN_COMMAND_REFUSED"
        (logger.info if result.success else logger.error)(event, extra={
            "request_id": request.request_id, "status_code": result.status_code, "errors": result.errors})
        return result

    @retry(max_attempts=3, delay=0.2, max_delay=2.0, exceptions=(RetryableForwardError,))
    async def _post(self, request: InboxRequest) -> ForwardResult:
        body = {"projectId": self._project_id, "command": to_lean_command(request)}
        headers = auth_headers(self._user_id, self._api_token, self._clock())
        try:
            response = await self._client.post(self._url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise RetryableForwardError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise RetryableForwardError(f"QuantConnect API answered {response.status_code}")
        try:
            doc = response.json()
        except ValueError:
            return ForwardResult(False, response.status_code, [f"not JSON (HTTP {response.status_code})"])
        errors = doc.get("errors") if isinstance(doc, dict) else None
        success = response.status_code == 200 and isinstance(doc, dict) and doc.get("success") is True
        messages = [str(e) for e in errors] if isinstance(errors, list) else []
        return ForwardResult(success, response.status_code, messages)
