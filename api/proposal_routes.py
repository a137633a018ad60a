"""A person reviews agents' proposals (``GET /api/v1/proposals?status=pending``) and decides on one:
``POST /api/v1/proposals/{id}/approve`` (binds exactly the previewed order: the body names its
``order_digest``) and ``.../reject``; ``GET /api/v1/proposals/{id}`` reads one. Expired (410),
changed (409) and already decided (409, a replay) proposals are refused. The steps live in
services/proposal_service.py; the sidecar token authenticates the person (api/auth.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from slowapi import Limiter

from api.schemas import ERROR_RESPONSES
from api.settings import ApiSettings
from services import proposal_service
from services.agent_runtime import McpRuntime
from services.proposals import ProposalRefused
from utils.logging_config import get_logger

logger = get_logger(__name__)

ProposalId = Annotated[str, Path(pattern=r"^prop_[0-9a-f]{24}$")]
_ACTOR = r"^\S.{0,127}$"


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approver: str = Field(pattern=_ACTOR, description="who decides (a person, audited)")

    @field_validator("approver")
    @classmethod
    def _a_person(cls, value: str) -> str:
        if value.lower().startswith(("agent:", "budget:")):
            raise ValueError("an agent cannot decide on a proposal")
        return value


class Approval(_Decision):
    order_digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="order_digest from the proposal's preview")


class Rejection(_Decision):
    reason: str | None = Field(None, min_length=1, max_length=2000)


def _runtime(request: Request) -> McpRuntime:
    return request.app.state.mcp_runtime


async def _run(function: Any, *args: Any) -> dict[str, Any]:
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except ProposalRefused as exc:
        logger.warning("PROPOSAL_DECISION_REFUSED", extra={"error": str(exc), "status": exc.status})
        raise HTTPException(exc.status, str(exc)) from None


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1/proposals", tags=["proposals"], responses=ERROR_RESPONSES)
    refused: dict[int | str, dict[str, Any]] = {404: {"description": "no such proposal"},
                                                 409: {"description": "already decided, or the order changed"},
                                                 410: {"description": "expired"}}

    @router.get("", summary="Agents' proposals, newest first (e.g. ?status=pending for the approval queue)")
    @limiter.shared_limit(settings.rate_limit_reads, scope="reads")
    async def list_proposals(request: Request, status: Annotated[
            Literal["pending", "approved", "rejected", "cancelled", "expired"] | None, Query()] = None,
            limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        return await _run(proposal_service.listing, _runtime(request), status, limit)

    @router.get("/{proposal_id}", summary="An agent's proposal: preview, status, decision, inbox outcome",
                responses={404: refused[404]})
    @limiter.shared_limit(settings.rate_limit_reads, scope="reads")
    async def get_proposal(request: Request, proposal_id: ProposalId) -> dict[str, Any]:
        runtime = _runtime(request)
        return await _run(lambda: proposal_service.view(runtime, runtime.proposals.get(proposal_id)))

    @router.post("/{proposal_id}/approve", summary="Approve exactly the previewed order; it goes to the inbox",
                 responses=refused)
    @limiter.limit(settings.rate_limit_orders)
    async def approve(request: Request, proposal_id: ProposalId, body: Approval) -> dict[str, Any]:
        return await _run(proposal_service.approve, _runtime(request), proposal_id, body.order_digest, body.approver)

    @router.post("/{proposal_id}/reject", summary="Reject a proposal", responses=refused)
    @limiter.limit(settings.rate_limit_orders)
    async def reject(request: Request, proposal_id: ProposalId, body: Rejection) -> dict[str, Any]:
        return await _run(proposal_service.reject, _runtime(request), proposal_id, body.approver, body.reason)

    return router
