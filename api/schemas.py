"""Pydantic request and response models: what the OpenAPI document shows and what is validated."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from utils.json_fields import has_forbidden_characters
from utils.order_inbox import IDEMPOTENCY_KEY_PATTERN, MAX_QUANTITY, MAX_TEXT, REQUEST_ID_PATTERN, TICKER_PATTERN

ActorType = Literal["human", "ai_agent", "system"]
REQUEST_ID = REQUEST_ID_PATTERN.pattern
IDEMPOTENCY_KEY = IDEMPOTENCY_KEY_PATTERN.pattern


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_text(value: object) -> object:
    """Only an ISO date string is a date (no epoch numbers, no datetimes)."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO date string YYYY-MM-DD")
    return value


def _one_line(value: str) -> str:
    if has_forbidden_characters(value):
        raise ValueError("control characters and lone surrogates are not allowed")
    return value


def _free_text(value: str) -> str:
    if has_forbidden_characters(value, multiline=True):
        raise ValueError("control characters (other than tab and newline) are not allowed")
    return value


# Strict: no coercion (true is not 1, "3" is not 3, 2.0 is not 2), finite numbers, clean text.
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY, strict=True, description="contracts")]
Price = Annotated[float, Field(gt=0, le=1e7, strict=True)]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
ActorName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S", examples=["agent:alpha"]),
                      AfterValidator(_one_line)]
FreeText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S"), AfterValidator(_free_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=False, strict=True)


class OrderSubmission(_Strict):
    """One option order from a person or an agent."""

    idempotency_key: str | None = Field(
        None, pattern=IDEMPOTENCY_KEY, description="repeat it to retry safely (or send the Idempotency-Key header)")
    actor: ActorName
    actor_type: ActorType
    underlying: str = Field(pattern=TICKER_PATTERN.pattern, examples=["GOOG"])
    right: Literal["call", "put"]
    strike: Price
    expiry: IsoDate = Field(strict=False)  # the ISO string is checked above, then parsed
    side: Literal["buy", "sell"]
    quantity: Quantity
    order_type: Literal["market", "limit"] = "market"
    limit_price: Price | None = None
    confidence: float | None = Field(None, ge=0, le=1, strict=True, description="required when actor_type is ai_agent")
    reasoning: FreeText = Field(description="why, for the audit trail")

    @model_validator(mode="after")
    def _consistent(self) -> OrderSubmission:
        if self.order_type == "limit" and self.limit_price is None:
            raise ValueError("a limit order needs limit_price")
        if self.order_type == "market" and self.limit_price is not None:
            raise ValueError("a market order takes no limit_price")
        if self.actor_type == "ai_agent" and self.confidence is None:
            raise ValueError("confidence is required when an AI agent submits")
        return self


class TradingControl(_Strict):
    """Halt or resume trading: who asks and why (both required, both audited)."""

    idempotency_key: str | None = Field(None, pattern=IDEMPOTENCY_KEY)
    actor: ActorName
    actor_type: ActorType = "human"
    reason: FreeText


class SnapshotMeta(BaseModel):
    available: bool
    status: Literal["fresh", "stale", "torn", "missing", "unreadable", "none"]
    age_seconds: float | None = Field(description="seconds since the served snapshot's file was written")
    algorithm_time: str | None
    snapshot_version: int
    error: str | None


class StateEnvelope(BaseModel):
    meta: SnapshotMeta
    data: dict[str, Any] | None


class ListEnvelope(BaseModel):
    meta: SnapshotMeta
    data: list[dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    snapshot: SnapshotMeta
    websocket_clients: int


class AuditPageModel(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class Precheck(BaseModel):
    mode: Literal["enforce", "warn", "off"]
    violations: list[str]
    warnings: list[str]


class OrderAccepted(BaseModel):
    request_id: str
    idempotency_key: str
    status: Literal["queued"]
    replayed: bool = Field(description="true when this idempotency key was seen before: the first result")
    request: dict[str, Any]
    precheck: Precheck | None = None


class OrderRecord(BaseModel):
    request_id: str
    state: Literal["queued", "processing", "accepted", "rejected", "cancelled", "done", "unreadable"]
    request: dict[str, Any] | None = Field(description="null when the request file is unreadable (quarantined)")
    outcome: dict[str, Any] | None
    outcome_error: str | None
    request_error: str | None = Field(None, description="why the request file cannot be read")


class OrderList(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[OrderRecord]


class WsTicket(BaseModel):
    ticket: str
    expires_in_seconds: float


class ErrorBody(BaseModel):
    detail: Any


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or invalid bearer token"},
    429: {"model": ErrorBody, "description": "rate limit exceeded (see Retry-After)"},
}
