"""Read endpoints over the last good state snapshot: /health (also at the root), /state, /positions,
/greeks, /risk.

Every answer is ``{"meta": {...snapshot status and age...}, "data": ...}`` and 200, also when the
file is stale, torn or missing (``meta.status`` says which; ``data`` is the last good one, or null
/ empty before the first). The serialised sections are built once per snapshot version.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from slowapi import Limiter

from api.schemas import ERROR_RESPONSES, REQUEST_ID, Health, ListEnvelope, StateEnvelope
from api.services import services_of
from api.settings import ApiSettings
from services.risk_precheck import trading_state
from services.snapshot_cache import SnapshotStatus

GREEK_FIELDS = ("delta", "gamma", "theta", "vega", "rho", "iv", "dollar_delta", "daily_theta_decay",
                "greeks_source", "greeks_updated_at")


def _envelope(status: SnapshotStatus, data: bytes) -> Response:
    body = b'{"meta":' + status.meta_json() + b',"data":' + data + b"}"
    headers = {"X-Snapshot-Status": status.status}
    if status.age_seconds is not None:
        headers["X-Snapshot-Age-Seconds"] = f"{status.age_seconds:.3f}"
    return Response(content=body, media_type="application/json", headers=headers)


def _greeks(doc: dict[str, Any]) -> dict[str, Any]:
    return {"portfolio": doc.get("portfolio_greeks", {}),
            "positions": [{"id": p["id"], "symbol": p["symbol"], "quantity": p["quantity"],
                           **{name: p.get(name) for name in GREEK_FIELDS}} for p in doc.get("positions", [])]}


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    """The /api/v1 read routes, plus ``GET /health`` at the root: the same handler, for the
    seed's rollback check (``curl http://localhost:8000/health``), public like /api/v1/health."""
    router = APIRouter(prefix="/api/v1", tags=["state"], responses=ERROR_RESPONSES)
    reads = limiter.shared_limit(settings.rate_limit_reads, scope="reads")

    @router.get("/health", response_model=Health, summary="Liveness and snapshot age (no auth)",
                openapi_extra={"security": []})
    @reads
    async def health(request: Request) -> Response:
        services = services_of(request)
        status = services.snapshots.current()
        healthy = status.available and status.status == "fresh"
        body = {"status": "ok" if healthy else "degraded", "snapshot": status.meta(),
                "websocket_clients": services.connections.count}
        return Response(json.dumps(body), media_type="application/json")

    @router.get("/state", response_model=StateEnvelope, summary="The whole last good state snapshot")
    @reads
    async def state(request: Request) -> Response:
        status = services_of(request).snapshots.current()
        return _envelope(status, status.view.section("state", lambda doc: doc))

    @router.get("/positions", response_model=ListEnvelope, summary="Bot-managed positions with Greeks")
    @reads
    async def positions(request: Request,
                        status_filter: Annotated[Literal["open", "closing", "closed"] | None,
                                                 Query(alias="status")] = None) -> Response:
        status = services_of(request).snapshots.current()
        if status_filter is None:
            return _envelope(status, status.view.section("positions", lambda doc: doc["positions"], b"[]"))
        doc = status.view.document or {"positions": []}
        chosen = [p for p in doc["positions"] if p.get("status") == status_filter]
        return _envelope(status, json.dumps(chosen).encode())

    @router.get("/positions/{position_id}", response_model=StateEnvelope, summary="One position",
                responses={404: {"description": "no such position in the last good snapshot"}})
    @reads
    async def position(request: Request,
                       position_id: Annotated[str, Path(pattern=REQUEST_ID)]) -> Response:
        status = services_of(request).snapshots.current()
        doc = status.view.document or {"positions": []}
        found = next((p for p in doc["positions"] if p.get("id") == position_id), None)
        if found is None:
            raise HTTPException(404, f"position {position_id} not in the last good snapshot")
        return _envelope(status, json.dumps(found).encode())

    @router.get("/greeks", response_model=StateEnvelope, summary="Portfolio and per-position Greeks")
    @reads
    async def greeks(request: Request) -> Response:
        status = services_of(request).snapshots.current()
        return _envelope(status, status.view.section("greeks", _greeks))

    @router.get("/risk", response_model=StateEnvelope, summary="Risk limits in force and the trading state")
    @reads
    async def risk(request: Request) -> Response:
        status = services_of(request).snapshots.current()
        snapshot = status.view.snapshot

        def build(doc: dict[str, Any]) -> dict[str, Any]:
            return {"trading_state": trading_state(snapshot) if snapshot else "unknown", "risk": doc.get("risk", {}),
                    "risk_parameters": {k: v for k, v in doc.get("parameters", {}).items() if k.startswith("risk_")}}

        return _envelope(status, status.view.section("risk", build))

    root = APIRouter()
    root.include_router(router)
    root.add_api_route("/health", health, methods=["GET"], include_in_schema=False)
    return root
