"""The sidecar's app factory: ``create_app(settings)`` builds one independent FastAPI app.

Middleware, outermost first: CORS allow-list -> bearer-token auth (api/auth.py) -> body-size
limit -> routes (rate-limited per token by slowapi). All state lives in ``app.state``: the
services in a ``ThreadSafeRef`` and the slowapi ``limiter``. The lifespan starts the WebSocket
broadcaster and, on shutdown, closes clients and the LEAN command forwarder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from slowapi.errors import RateLimitExceeded

from api import (
    audit_routes,
    dashboard_routes,
    order_queue_api,
    proposal_routes,
    session_routes,
    state_routes,
    ws_routes,
)
from api.auth import API_PREFIX, TokenAuthMiddleware
from api.body_limit import BodySizeLimitMiddleware
from api.errors import install_error_handlers
from api.notifications import SidecarErrorHandler
from api.rate_limit import build_limiter, rate_limit_exceeded_handler
from api.services import Services, build_services
from api.settings import ApiSettings
from api.thread_safe_ref import ThreadSafeRef
from mcp_servers.http_app import mount_mcp
from models.audit import AuditAction
from services.agent_runtime import build_runtime
from utils.logging_config import get_logger

logger = get_logger(__name__)

VERSION = "1.0.0"
DESCRIPTION = """State, audit trail and order queue of the LEAN options bot.

* Every route but `GET /api/v1/health` needs `Authorization: Bearer <TRADING_API_TOKEN>`.
* Orders and halt/resume are stored durably in the Object Store inbox before the 202; send an
  `Idempotency-Key` header (or `idempotency_key` field) to retry safely.
* `WS /api/v1/ws` (not listed below: OpenAPI has no WebSockets): open the socket, then send
  `{"type": "auth", "token": "<token>"}` or `{"type": "auth", "ticket": "<ticket from POST
  /api/v1/ws/ticket>"}` as the first message within a few seconds; never put credentials in the URL.
  Then the server pushes `{"type": "snapshot", "meta", "data"}` on every change and
  `{"type": "audit", "entries": [...]}` as entries arrive; `{"type": "ping"}` gets a pong.
"""
SECURITY_SCHEME = {"BearerToken": {"type": "http", "scheme": "bearer",
                                   "description": "TRADING_API_TOKEN (Authorization: Bearer <token>)"}}


def _lifespan(services: Services) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.audit.log(AuditAction.SYSTEM_START, "Sidecar API started", resource_type="sidecar",
                           resource_id="api", metadata={"version": VERSION})
        services.notifier.start()
        error_handler = SidecarErrorHandler(services.notifier)
        api_logger = get_logger("api")
        api_logger.addHandler(error_handler)
        await asyncio.to_thread(services.queue.remove_stale_temporaries)
        # Take stock of the audit trail (push only what is new) and index the inbox without holding up
        # start-up: a large trail takes seconds to index, and requests wait for it only when they need it.
        services.spawn(asyncio.to_thread(services.audit_index.prime), "audit-index-priming")
        services.spawn(asyncio.to_thread(services.queue.index.refresh), "order-index-priming")
        task = asyncio.create_task(services.broadcaster.run(services.settings.ws_poll_interval_seconds),
                                   name="ws-broadcaster")
        try:
            yield
        finally:
            pending = [task, *services.background]
            for running in pending:
                running.cancel()
            await asyncio.gather(*pending, return_exceptions=True)  # failures were logged by the tasks
            await services.connections.close_all()
            if services.dispatcher is not None:
                await services.dispatcher.aclose()
            api_logger.removeHandler(error_handler)
            await asyncio.to_thread(services.notifier.stop)
            services.audit.log(AuditAction.SYSTEM_STOP, "Sidecar API stopped", resource_type="sidecar",
                               resource_id="api")
            logger.info("SIDECAR_STOPPED")

    return lifespan


def _openapi(app: FastAPI) -> Any:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEME
        schema["security"] = [{"BearerToken": []}]
        app.openapi_schema = schema
        return schema

    return build


def create_app(settings: ApiSettings) -> FastAPI:
    services = build_services(settings)
    limiter = build_limiter()
    app = FastAPI(
        title="Options bot sidecar API", version=VERSION, lifespan=_lifespan(services),
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    ref: ThreadSafeRef[Services] = ThreadSafeRef("SidecarServices")
    ref.set(services)
    app.state.services = ref
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded_handler)
    install_error_handlers(app)
    for module in (state_routes, audit_routes, order_queue_api, ws_routes, session_routes, dashboard_routes):
        app.include_router(module.build_router(limiter, settings))
    app.include_router(proposal_routes.build_router(limiter, settings))  # issue 16: agents' proposals
    # issue 16: agents' proposals (the approval routes above) and MCP at /mcp share one runtime
    app.state.mcp_runtime = build_runtime(settings.object_store_dir, settings.audit_dir, snapshots=services.snapshots,
                                          audit=services.audit, queue=services.queue, audit_index=services.audit_index)
    mount_mcp(app, app.state.mcp_runtime, services.auth_failures, settings.ws_poll_interval_seconds)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(TokenAuthMiddleware, verifier=services.verifier, failures=services.auth_failures,
                       sessions=services.sessions)
    app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID",
                                      "X-CSRF-Token"],
                       expose_headers=["Retry-After", "Location", "Idempotent-Replayed", "X-Snapshot-Age-Seconds",
                                       "X-Snapshot-Status"], max_age=600)
    logger.info("SIDECAR_APP_CREATED", extra={"object_store_dir": str(settings.object_store_dir),
                                              "audit_dir": str(settings.audit_dir), "origins": settings.allowed_origins,
                                              "environment": settings.environment})
    return app
