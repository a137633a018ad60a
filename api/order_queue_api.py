"""The order queue endpoints: submit, list, read, cancel; halt and resume trading.

Every accepted request is stored durably in the Object Store inbox (utils/order_inbox.py)
*before* the 202 answer, under a request id derived from the idempotency key (``Idempotency-Key``
header or ``idempotency_key`` field): a repeated key returns the first request (``replayed:
true``), never a second order; the same key with a different payload or for another kind of
request is 409, and so is the key of a request whose file is unreadable (quarantined). Keys the
server makes (``auto:``, ``cancel:<id>``) live in their own id namespace. Submissions get an
advisory risk pre-check against the latest snapshot (services/risk_precheck.py; ``RISK_PRECHECK``).
Each accepted request is audited (ORDER_SUBMIT / ORDER_CANCEL / MANUAL_INTERVENTION) with the
actor, the client address and the request id as correlation id *before* the 202 (a halt excepted:
it is never held back by the audit disk); a replay writes an entry the first attempt could not
(api/request_audit.py). Storage faults are 503/507 (api/errors.py). Requests are optionally
forwarded as LEAN commands (api/lean_commands.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from slowapi import Limiter

from api.schemas import (
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY,
    REQUEST_ID,
    ActorType,
    OrderAccepted,
    OrderList,
    OrderRecord,
    OrderSubmission,
    TradingControl,
)
from api.services import Services, services_of
from api.settings import ApiSettings
from models.agent_policy import state_refusal
from models.audit import AuditAction
from services.order_queue import IdempotencyConflict, RequestUnreadable
from services.risk_precheck import adds_exposure, precheck, trading_state
from utils.audit_logger import wall_clock
from utils.logging_config import get_logger
from utils.order_inbox import InboxAction, InboxFormatError, InboxRequest, OrderSpec, derive_request_id

logger = get_logger(__name__)

FINAL_STATES = frozenset({"rejected", "cancelled", "done"})
IdempotencyHeader = Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)]
RequestIdPath = Annotated[str, Path(pattern=REQUEST_ID)]
# For a stored request: the audit action, its correlation id and the call that writes the entry.
AuditWrite = Callable[[InboxRequest], tuple[AuditAction, str, Callable[[], object]]]
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "idempotency key reused for a different request, or the target cannot change"},
    413: {"description": "request body too large"},
}


def _request_id_and_key(header: str | None, body: str | None) -> tuple[str, str]:
    """The client's key, or one the server makes (in its own id namespace: no client key collides)."""
    if header and body and header != body:
        raise HTTPException(422, "Idempotency-Key header and idempotency_key field differ")
    if header or body:
        key = header or body or ""
        return derive_request_id(key), key
    key = f"auto:{secrets.token_hex(16)}"
    return derive_request_id(key, server_made=True), key


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _accepted(services: Services, inbox: InboxRequest, replayed: bool,
              check: dict[str, Any] | None = None) -> JSONResponse:
    body = OrderAccepted(request_id=inbox.request_id, idempotency_key=inbox.idempotency_key, status="queued",
                         replayed=replayed, request=inbox.to_dict(), precheck=check)  # type: ignore[arg-type]
    headers = {"Location": f"/api/v1/orders/{inbox.request_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers=headers)


def _same_kind(existing: InboxRequest, inbox: InboxRequest) -> bool:
    return existing.action is inbox.action and existing.target_request_id == inbox.target_request_id


async def _replay(services: Services, inbox: InboxRequest, strict: bool,
                  audit: AuditWrite) -> JSONResponse | None:
    """The first result when this request id is already in the inbox (its audit entry written now if
    the first attempt could not); 409 for another kind of request, another payload, or a quarantined one."""
    existing, error = await anyio.to_thread.run_sync(services.queue.load, inbox.request_id)
    if error is not None:
        raise HTTPException(409, str(RequestUnreadable(inbox.request_id, error)))
    if existing is None:
        return None
    if not _same_kind(existing, inbox) or (strict and existing.payload() != inbox.payload()):
        raise HTTPException(409, f"idempotency key already used for a different request ({existing.request_id})")
    await _ensure_audited(services, existing, audit)
    return _accepted(services, existing, replayed=True)


async def _enqueue(services: Services, inbox: InboxRequest, audit: AuditWrite,
                   strict: bool = True) -> tuple[InboxRequest, bool]:
    """Store ``inbox`` durably, then its audit entry: no acknowledgement without both."""
    try:
        result = await anyio.to_thread.run_sync(lambda: services.queue.enqueue(inbox, strict_payload=strict))
    except (IdempotencyConflict, RequestUnreadable) as exc:
        raise HTTPException(409, str(exc)) from None
    if not _same_kind(result.request, inbox):
        raise HTTPException(409, f"idempotency key already used for a different request ({inbox.request_id})")
    if result.created and services.dispatcher is not None:
        services.spawn(services.dispatcher.forward(result.request), f"forward-{inbox.request_id}")
    await _ensure_audited(services, result.request, audit, new_request=result.created)
    return result.request, not result.created


async def _ensure_audited(services: Services, stored: InboxRequest, audit: AuditWrite,
                          new_request: bool = False) -> None:
    action, correlation_id, write = audit(stored)
    await anyio.to_thread.run_sync(lambda: services.request_audit.ensure(correlation_id, action, write, new_request))


def _audit_submit(services: Services, client: str, warnings: list[str]) -> AuditWrite:
    def build(stored: InboxRequest) -> tuple[AuditAction, str, Callable[[], object]]:
        spec = stored.order
        assert spec is not None
        return AuditAction.ORDER_SUBMIT, stored.request_id, lambda: services.audit.log(
            AuditAction.ORDER_SUBMIT, f"Queued {spec.side} {spec.quantity} {spec.underlying} {spec.expiry} "
            f"{spec.strike} {spec.right} ({spec.order_type})", actor=stored.actor, actor_type=stored.actor_type,
            resource_type="order_request", resource_id=stored.request_id,
            after_state={"status": "queued", **spec.to_dict()}, ip_address=client, correlation_id=stored.request_id,
            metadata={"confidence": spec.confidence, "reasoning": spec.reasoning, "precheck_warnings": warnings},
            required=True)
    return build


def _audit_cancel(services: Services, client: str) -> AuditWrite:
    def build(stored: InboxRequest) -> tuple[AuditAction, str, Callable[[], object]]:
        target = stored.target_request_id or ""
        return AuditAction.ORDER_CANCEL, target, lambda: services.audit.log(
            AuditAction.ORDER_CANCEL, f"Cancel requested for {target}", actor=stored.actor,
            actor_type=stored.actor_type, resource_type="order_request", resource_id=target, reason=stored.reason,
            ip_address=client, correlation_id=target, metadata={"cancel_request_id": stored.request_id},
            required=True)
    return build


def _audit_control(services: Services, client: str) -> AuditWrite:
    """A halt is acknowledged even when its audit entry cannot be written (logged AUDIT_WRITE_FAILED
    with the whole entry): it is in the inbox, and stopping trading must never wait for the audit disk."""
    def build(stored: InboxRequest) -> tuple[AuditAction, str, Callable[[], object]]:
        action = stored.action
        return AuditAction.MANUAL_INTERVENTION, stored.request_id, lambda: services.audit.log(
            AuditAction.MANUAL_INTERVENTION, f"Trading {action.value} requested", actor=stored.actor,
            actor_type=stored.actor_type, resource_type="trading", resource_id=stored.request_id,
            reason=stored.reason, ip_address=client, correlation_id=stored.request_id,
            metadata={"action": action.value}, required=action is not InboxAction.HALT)
    return build


def build_router(limiter: Limiter, settings: ApiSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["orders"], responses=ERROR_RESPONSES)
    reads = limiter.shared_limit(settings.rate_limit_reads, scope="reads")

    @router.post("/orders", status_code=202, response_model=OrderAccepted, summary="Queue an option order",
                 responses={**WRITE_RESPONSES, 422: {"description": "invalid, or refused by the risk pre-check"}})
    @limiter.limit(settings.rate_limit_orders)
    async def submit_order(request: Request, order: OrderSubmission,
                           idempotency_key: IdempotencyHeader = None) -> JSONResponse:
        services = services_of(request)
        request_id, key = _request_id_and_key(idempotency_key, order.idempotency_key)
        try:
            spec = OrderSpec(underlying=order.underlying, right=order.right, strike=order.strike, expiry=order.expiry,
                             side=order.side, quantity=order.quantity, order_type=order.order_type,
                             limit_price=order.limit_price, confidence=order.confidence, reasoning=order.reasoning)
            inbox = InboxRequest(request_id=request_id, idempotency_key=key, submitted_at=wall_clock(),
                                 actor=order.actor, actor_type=order.actor_type, action=InboxAction.SUBMIT, order=spec)
        except InboxFormatError as exc:
            raise HTTPException(422, str(exc)) from None
        replay = await _replay(services, inbox, True, _audit_submit(services, _client(request), []))
        if replay is not None:
            return replay
        check: dict[str, Any] | None = None
        if settings.risk_precheck != "off":
            status = services.snapshots.current()
            result = precheck(spec, status.view.snapshot, status.status)
            check = {"mode": settings.risk_precheck, "violations": result.violations, "warnings": result.warnings}
            if result.violations and settings.risk_precheck == "enforce":
                logger.warning("ORDER_PRECHECK_REFUSED", extra={"request_id": inbox.request_id,
                                                                "violations": result.violations, "actor": order.actor})
                services.audit.log(AuditAction.ORDER_REJECT, f"Pre-check refused {spec.side} {spec.quantity} "
                                   f"{spec.underlying} {spec.right} {spec.strike}", actor=order.actor,
                                   actor_type=order.actor_type, resource_type="order_request",
                                   resource_id=inbox.request_id, reason="; ".join(result.violations),
                                   ip_address=_client(request), correlation_id=inbox.request_id,
                                   metadata={"confidence": order.confidence, "reasoning": order.reasoning})
                raise HTTPException(422, {"message": "refused by the risk pre-check", **check})
        snapshot = services.snapshots.current().view.snapshot
        if order.actor_type == "ai_agent" and snapshot is not None:  # one agent policy, two doors (issue 16)
            refusal = state_refusal(trading_state(snapshot), adds_exposure(spec, snapshot))
            if refusal is not None:
                logger.warning("AGENT_ORDER_REFUSED_BY_TRADING_STATE", extra={"request_id": inbox.request_id,
                                                                              "actor": order.actor, "reason": refusal})
                services.audit.log(AuditAction.ORDER_REJECT, f"Agent order refused: {refusal}", actor=order.actor,
                                   actor_type=order.actor_type, resource_type="order_request",
                                   resource_id=inbox.request_id, reason=refusal, ip_address=_client(request),
                                   correlation_id=inbox.request_id)
                raise HTTPException(422, {"message": "refused by the agent policy", "violations": [refusal]})
        audit = _audit_submit(services, _client(request), check["warnings"] if check else [])
        stored, replayed = await _enqueue(services, inbox, audit)
        if not replayed:
            logger.info("ORDER_REQUEST_QUEUED", extra={"request_id": stored.request_id, "symbol": spec.underlying,
                                                       "quantity": spec.quantity, "order_type": spec.order_type,
                                                       "actor": order.actor})
        return _accepted(services, stored, replayed, check if not replayed else None)

    @router.get("/orders", response_model=OrderList, summary="Queued requests and their outcomes, newest first")
    @reads
    async def list_orders(request: Request, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                          limit: Annotated[int, Query(ge=1, le=500)] = 50,
                          action: Annotated[Literal["submit", "cancel", "halt", "resume", "roll"] | None,
                                            Query()] = None,
                          ) -> OrderList:
        queue = services_of(request).queue
        total, items = await anyio.to_thread.run_sync(lambda: queue.page(offset, limit, action))
        return OrderList(total=total, offset=offset, limit=limit, items=[OrderRecord(**i) for i in items])

    @router.get("/orders/{request_id}", response_model=OrderRecord, summary="One request and its outcome",
                responses={404: {"description": "no such request"}})
    @reads
    async def get_order(request: Request, request_id: RequestIdPath) -> OrderRecord:
        record = await anyio.to_thread.run_sync(services_of(request).queue.record, request_id)
        if record is None:
            raise HTTPException(404, f"no request {request_id}")
        return OrderRecord(**record)

    @router.delete("/orders/{request_id}", status_code=202, response_model=OrderAccepted,
                   summary="Ask the algorithm to cancel a queued or working order",
                   responses={**WRITE_RESPONSES, 404: {"description": "no such request"}})
    @limiter.limit(settings.rate_limit_orders)
    async def cancel_order(request: Request, request_id: RequestIdPath,
                           actor: Annotated[str, Query(min_length=1, max_length=128, pattern=r"\S")] = "api-client",
                           actor_type: Annotated[ActorType, Query()] = "human",
                           reason: Annotated[str | None, Query(min_length=1, max_length=2000, pattern=r"\S")] = None,
                           ) -> JSONResponse:
        services = services_of(request)
        record = await anyio.to_thread.run_sync(services.queue.record, request_id)
        if record is None:
            raise HTTPException(404, f"no request {request_id}")
        key = f"cancel:{request_id}"
        inbox = InboxRequest(request_id=derive_request_id(key, server_made=True), idempotency_key=key,
                             submitted_at=wall_clock(), actor=actor, actor_type=actor_type, action=InboxAction.CANCEL,
                             target_request_id=request_id, reason=reason)
        audit = _audit_cancel(services, _client(request))
        replay = await _replay(services, inbox, False, audit)
        if replay is not None:
            return replay
        if record["request"] is None:
            raise HTTPException(409, f"request {request_id} is unreadable (quarantined): nothing to cancel")
        if record["request"]["action"] != "submit":
            raise HTTPException(409, "only order submissions can be cancelled")
        if record["state"] in FINAL_STATES:
            raise HTTPException(409, f"request {request_id} is already {record['state']}")
        stored, replayed = await _enqueue(services, inbox, audit, strict=False)
        return _accepted(services, stored, replayed)

    async def control(request: Request, body: TradingControl, header_key: str | None,
                      action: InboxAction) -> JSONResponse:
        services = services_of(request)
        request_id, key = _request_id_and_key(header_key, body.idempotency_key)
        inbox = InboxRequest(request_id=request_id, idempotency_key=key, submitted_at=wall_clock(),
                             actor=body.actor, actor_type=body.actor_type, action=action, reason=body.reason)
        audit = _audit_control(services, _client(request))
        replay = await _replay(services, inbox, True, audit)
        if replay is not None:
            return replay
        stored, replayed = await _enqueue(services, inbox, audit)
        if not replayed:
            logger.warning("TRADING_CONTROL_QUEUED", extra={"action": action.value, "actor": body.actor,
                                                            "reason": body.reason, "request_id": stored.request_id})
        return _accepted(services, stored, replayed)

    @router.post("/trading/halt", status_code=202, response_model=OrderAccepted, tags=["trading"],
                 summary="Ask the algorithm to halt trading (actor and reason required)", responses=WRITE_RESPONSES)
    @limiter.limit(settings.rate_limit_orders)
    async def halt(request: Request, body: TradingControl, idempotency_key: IdempotencyHeader = None) -> JSONResponse:
        return await control(request, body, idempotency_key, InboxAction.HALT)

    @router.post("/trading/resume", status_code=202, response_model=OrderAccepted, tags=["trading"],
                 summary="Ask the algorithm to resume trading (actor and reason required)", responses=WRITE_RESPONSES)
    @limiter.limit(settings.rate_limit_orders)
    async def resume(request: Request, body: TradingControl,
                     idempotency_key: IdempotencyHeader = None) -> JSONResponse:
        return await control(request, body, idempotency_key, InboxAction.RESUME)

    return router
