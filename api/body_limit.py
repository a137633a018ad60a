"""Refuse request bodies above a size limit (413) before the app reads them.

Plain ASGI. A declared ``Content-Length`` above the limit is refused at once; a chunked body is
buffered up to the limit and refused as soon as it passes it, so the app never sees it and
nothing is written for it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from utils.logging_config import get_logger

logger = get_logger(__name__)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value
                break
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                logger.warning("REQUEST_BODY_TOO_LARGE", extra={"path": scope.get("path"), "declared": declared.decode(
                    "latin-1"), "limit": self.max_bytes})
                await _too_large(send, self.max_bytes)
                return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                logger.warning("REQUEST_BODY_TOO_LARGE", extra={"path": scope.get("path"), "received": size,
                                                                "limit": self.max_bytes})
                await _too_large(send, self.max_bytes)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replay_receive() -> Message:
            message = next(replay, None)
            return message if message is not None else await receive()

        await self.app(scope, replay_receive, send)
