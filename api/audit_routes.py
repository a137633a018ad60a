"""GET /api/v1/audit: the algorithm's Object Store trail and the sidecar's own, merged in time
order, filtered by time range, action, correlation id and source, paginated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, HTTPException, Query, Request
from slowapi import Limiter

from api.schemas import ERROR_RESPONSES, AuditPageModel
from api.services import services_of
from api.settings import ApiSettings
from models.audit import AuditAction

ACTIONS = tuple(a.value for a in AuditAction)
MAX_PAGE = 500


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["audit"], responses=ERROR_RESPONSES)

    @router.get("/audit", response_model=AuditPageModel, summary="The audit trail, filtered and paginated")
    @limiter.shared_limit(settings.rate_limit_reads, scope="reads")
    async def audit(
        request: Request,
        start: Annotated[datetime | None, Query(description="from this time (ISO; UTC if no zone)")] = None,
        end: Annotated[datetime | None, Query(description="up to this time, inclusive")] = None,
        action: Annotated[str | None, Query(description=f"one of {', '.join(ACTIONS)}")] = None,
        correlation_id: Annotated[str | None, Query(max_length=128)] = None,
        source: Annotated[Literal["algorithm", "sidecar"] | None, Query()] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    ) -> AuditPageModel:
        if action is not None and action not in ACTIONS:
            raise HTTPException(422, f"unknown action {action!r}")
        start_utc, end_utc = _utc(start), _utc(end)
        if start_utc and end_utc and start_utc > end_utc:
            raise HTTPException(422, "start is after end")
        index = services_of(request).audit_index
        page = await anyio.to_thread.run_sync(lambda: index.query(
            start=start_utc, end=end_utc, action=action, correlation_id=correlation_id, source=source,
            offset=offset, limit=limit))
        return AuditPageModel(total=page.total, offset=page.offset, limit=page.limit,
                              items=[item.to_dict() for item in page.items])

    return router
