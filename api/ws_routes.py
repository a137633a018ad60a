"""WS /api/v1/ws — live snapshot and audit pushes — and POST /api/v1/ws/ticket.

Authentication (a browser cannot set headers on a WebSocket, and a token in the URL ends up in
access logs): the client opens the socket, then sends as its FIRST message, within
``WS_AUTH_TIMEOUT_SECONDS``, either

    {"type": "auth", "token": "<TRADING_API_TOKEN>"}      (agents, scripts), or
    {"type": "auth", "ticket": "<one-time ticket>"}       (browsers: the ticket comes from an
                                                            authenticated POST /api/v1/ws/ticket)

Nothing is pushed before that. A wrong, missing or late credential is logged and audited
AUTH_FAILED with the client address and the socket is closed with code 4401. A handshake whose
``Origin`` is present and neither on the CORS allow-list nor this server's own (the dashboard) is
refused before it is accepted (cross-site WebSocket hijacking). After ``{"type": "auth_ok"}`` the
server sends the current snapshot, then ``{"type": "snapshot", ...}`` whenever it changes,
``{"type": "status", "meta"}`` when only its status changes (fresh -> stale) and
``{"type": "audit", "entries": [...]}`` as entries arrive; a client may send ``{"type": "ping"}``
and gets ``{"type": "pong"}``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from slowapi import Limiter
from starlette.websockets import WebSocketDisconnect

from api.schemas import ERROR_RESPONSES, WsTicket
from api.services import Services, services_of
from api.sessions import same_origin
from api.settings import ApiSettings
from api.ws_broadcaster import snapshot_message
from utils.logging_config import get_logger

logger = get_logger(__name__)

AUTH_FAILED_CODE = 4401
POLICY_CODE = 1008
MAX_CLIENT_MESSAGE = 4096


def _address(websocket: WebSocket) -> str:
    return websocket.client.host if websocket.client else "unknown"


async def _authenticate(websocket: WebSocket, services: Services) -> str | None:
    """None when authenticated, else the reason for refusing."""
    try:
        text = await asyncio.wait_for(websocket.receive_text(), services.settings.ws_auth_timeout_seconds)
    except TimeoutError:
        return "timeout"
    except WebSocketDisconnect:
        return "disconnected"
    except (KeyError, RuntimeError):  # a binary frame or an unexpected message type
        return "malformed"
    if len(text) > MAX_CLIENT_MESSAGE:
        return "malformed"
    try:
        message: Any = json.loads(text)
    except json.JSONDecodeError:
        return "malformed"
    if not isinstance(message, dict) or message.get("type") != "auth":
        return "malformed"
    token, ticket = message.get("token"), message.get("ticket")
    if isinstance(token, str) and token:
        return None if services.verifier.verify(token) else "invalid"
    if isinstance(ticket, str) and ticket:
        return None if services.tickets.redeem(ticket) else "invalid_ticket"
    services.verifier.verify(None)
    return "missing"


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["websocket"], responses=ERROR_RESPONSES)
    allowed_origins = frozenset(settings.allowed_origins)

    @router.post("/ws/ticket", response_model=WsTicket, summary="A one-time ticket to authenticate a WebSocket")
    @limiter.limit(settings.rate_limit_reads)
    async def ws_ticket(request: Request) -> WsTicket:
        services = services_of(request)
        return WsTicket(ticket=services.tickets.issue(), expires_in_seconds=settings.ws_ticket_ttl_seconds)

    @router.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        services = services_of(websocket)
        address = _address(websocket)
        origin = websocket.headers.get("origin")
        if origin is not None and origin.rstrip("/") not in allowed_origins \
                and not same_origin(origin, websocket.headers.get("host")):  # the dashboard's own page
            logger.warning("WEBSOCKET_ORIGIN_REFUSED", extra={"client_ip": address, "origin": origin})
            await websocket.close(code=POLICY_CODE)
            return
        await websocket.accept()
        problem = await _authenticate(websocket, services)
        if problem == "disconnected":
            logger.info("WEBSOCKET_LEFT_BEFORE_AUTH", extra={"client_ip": address})
            return
        if problem is not None:
            retry_after = services.auth_failures.record(address, "WS /api/v1/ws", problem, channel="websocket")
            await websocket.close(code=AUTH_FAILED_CODE, reason="rate limited" if retry_after else "unauthorized")
            return
        client = await services.connections.register(websocket, address)
        if client is None:
            await websocket.close(code=1013, reason="server full")
            return
        services.connections.send_to(client, '{"type":"auth_ok"}')
        status = services.snapshots.current()
        if status.available:
            services.connections.send_to(client, snapshot_message(status))
        try:
            while True:
                text = await websocket.receive_text()
                if '"ping"' in text[:64]:
                    services.connections.send_to(client, '{"type":"pong"}')
        except (WebSocketDisconnect, RuntimeError, KeyError) as exc:
            logger.info("WEBSOCKET_CLIENT_DISCONNECTED", extra={"client_id": client.id, "client_ip": address,
                                                                "detail": str(exc) or type(exc).__name__})
        finally:
            await services.connections.cleanup_disconnected([client])

    return router
