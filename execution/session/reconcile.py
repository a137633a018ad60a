"""Restart reconciliation of working orders: the previous run's open orders, before anything is sent.

A live restart finds LEAN's open order tickets from before (the brokerage keeps them). Each is
decided by ``plan_orders``, a pure function of the open orders, the working orders the last
snapshot recorded and the positions restored:

- ADOPT: a closing order of the bot (profit-take, stop-loss, expiry guard, roll close, request of
  a person) that the snapshot knew, on a restored position, in the closing direction and not
  beyond what is held. It keeps working and covers the position, so the close is not sent twice.
- CANCEL: any other order the bot placed (entries, roll combos, orders the snapshot did not know,
  closes that would flip a position). Until LEAN confirms the cancel it stays in the exposure
  ledger; a fill that still arrives is booked like any fill (LEAN books it).
- FLAG: an order the bot did not place (no ``bot:`` tag). Left working, counted in the ledger.

``PreviousRunOrders`` keeps the cancelled and flagged ones in the ledger until their final event.
Every decision is logged (ORDER_RECONCILED) and audited by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from execution.bot_managed_positions import PositionBook
from execution.ledger import WorkingLeg
from execution.orders.order_executor import OrderExecutor
from execution.positions.fill_booking import FillOrigin
from models.audit import AuditAction
from models.market_data import ContractQuote
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

ADOPTABLE = frozenset({OrderPurpose.PROFIT_TAKE.value, OrderPurpose.STOP_LOSS.value, OrderPurpose.EXPIRY_GUARD.value,
                       OrderPurpose.EXTERNAL.value})


class Decision(StrEnum):
    ADOPT = "adopt"
    CANCEL = "cancel"
    FLAG = "flag"


@dataclass(frozen=True)
class OpenOrder:
    """One open order LEAN reports after the restart (signed contracts still to fill)."""

    order_id: int
    symbol: str
    remaining: int
    client_id: str | None  # from the order tag ``bot:<client id>``; None when the bot did not place it
    contract: ContractQuote | None = None  # right, strike and expiry (from LEAN's Symbol), when an option


@dataclass(frozen=True)
class OrderDecision:
    decision: Decision
    order: OpenOrder
    purpose: str
    position_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "lean_order_id": self.order.order_id, "symbol": self.order.symbol,
                "remaining": self.order.remaining, "client_id": self.order.client_id, "purpose": self.purpose,
                "position_id": self.position_id, "reason": self.reason}


def plan_orders(open_orders: Iterable[OpenOrder], saved_working: Iterable[Any],
                positions: Mapping[str, tuple[str, int]]) -> list[OrderDecision]:
    """``positions``: symbol -> (position id, signed contracts) of what was restored."""
    known = {str(w.get("client_id")): w for w in saved_working
             if isinstance(w, dict) and w.get("source", "bot") in ("bot", "roll")}  # a roll's legs: its roll id
    adopted: dict[str, int] = {}  # contracts of each position already covered by adopted closes
    out = []
    for order in sorted(open_orders, key=lambda o: o.order_id):
        if order.client_id is None:
            out.append(OrderDecision(Decision.FLAG, order, "unknown", None, "not placed by the bot: left working"))
            continue
        saved = known.get(order.client_id)
        purpose = str(saved.get("purpose")) if saved else "unknown"
        held = positions.get(order.symbol)
        reason = _why_not_adopt(order, saved, purpose, held, adopted.get(order.symbol, 0))
        if reason is None and held is not None:
            adopted[order.symbol] = adopted.get(order.symbol, 0) + abs(order.remaining)
            out.append(OrderDecision(Decision.ADOPT, order, purpose, held[0], "closing order of a restored position"))
        else:
            out.append(OrderDecision(Decision.CANCEL, order, purpose, held[0] if held else None, reason or ""))
    return out


def _why_not_adopt(order: OpenOrder, saved: Any, purpose: str, held: tuple[str, int] | None,
                   covered: int) -> str | None:
    if saved is None:
        return "not in the last snapshot's working orders"
    if purpose not in ADOPTABLE:
        return f"a {purpose} order is not continued after a restart"
    if held is None or held[1] == 0:
        return "no restored position on its contract"
    if order.remaining == 0 or (order.remaining > 0) == (held[1] > 0):
        return "does not close the restored position"
    if covered + abs(order.remaining) > abs(held[1]):
        return "would close more than is held (the position would flip)"
    return None


class PreviousRunOrders:
    """Cancelled or flagged orders of a previous run: in the exposure ledger until their final
    event, and remembered after it: LEAN can still report a fill after CANCELED (and books it)."""

    def __init__(self) -> None:
        self._legs: dict[int, WorkingLeg] = {}
        self._decisions: dict[int, OrderDecision] = {}  # every one (a restart's open orders: a few)

    def add(self, decision: OrderDecision) -> None:
        order = decision.order
        self._decisions[order.order_id] = decision
        self._legs[order.order_id] = WorkingLeg(order.client_id or f"lean:{order.order_id}", order.symbol,
                                                order.remaining, decision.purpose, decision.position_id,
                                                (order.order_id,), "previous_run")

    def working_legs(self) -> list[WorkingLeg]:
        return list(self._legs.values())

    def origin(self, client_id: str) -> FillOrigin:
        """A fill of a bot order (tagged ``bot:<client id>``) that no part of this run tracks: an
        order of a previous run under that client id (a replaced order: its replacement was open at
        the restart), else one nobody knows any more (purpose unknown)."""
        for decision in self._decisions.values():
            origin = fill_origin(decision)
            if origin is not None and origin.client_id == client_id:
                return origin
        return FillOrigin(client_id, "unknown", client_id)

    def on_update(self, update: OrderUpdate) -> OrderDecision | None:
        """Follow an event of such an order (also one after its final event); its decision, or None
        when it is not one."""
        decision = self._decisions.get(update.order_id)
        leg = self._legs.get(update.order_id)
        if leg is None:
            return decision
        if update.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) and update.fill_quantity:
            leg = WorkingLeg(leg.ref, leg.symbol, leg.remaining - update.fill_quantity, leg.purpose,
                             leg.position_id, leg.lean_order_ids, leg.source)
            self._legs[update.order_id] = leg
        if update.state.is_final or leg.remaining == 0:
            del self._legs[update.order_id]
        return decision


def fill_origin(decision: OrderDecision) -> FillOrigin | None:
    """What a fill of a previous run's order books as (None: not placed by the bot)."""
    order = decision.order
    if order.client_id is None:
        return None
    return FillOrigin(order.client_id, decision.purpose, order.client_id, order.contract, previous_run=True)


def adopt(decision: OrderDecision, executor: OrderExecutor, book: PositionBook, now: datetime) -> None:
    """An adopted close keeps working in the executor as the order it was, on its position."""
    order, position = decision.order, book.positions.get(decision.position_id or "")
    executor.adopt(OrderRequest(order.client_id or str(order.order_id), order.symbol, order.remaining,
                                OrderPurpose(decision.purpose), position_id=decision.position_id,
                                correlation_id=position.correlation_id if position else None), order.order_id, now)


def apply_plan(decisions: Iterable[OrderDecision], adopt: Callable[[OrderDecision], None],
               previous: PreviousRunOrders, cancel: Callable[[int], bool], audit: AuditLogger) -> None:
    """Carry out ``plan_orders``: adopt, or keep in the ledger and cancel, or keep and flag; audit each."""
    for decision in decisions:
        if decision.decision is Decision.ADOPT:
            adopt(decision)
        else:
            previous.add(decision)
        cancelled = decision.decision is Decision.CANCEL and cancel(decision.order.order_id)
        fields = {**decision.as_dict(), "cancel_sent": cancelled}
        (logger.info if decision.decision is Decision.ADOPT else logger.warning)("ORDER_RECONCILED", extra=fields)
        audit.log(AuditAction.STATE_RESTORE, f"Restart: {decision.decision.value} order {decision.order.order_id} "
                  f"({decision.order.remaining:+d} {decision.order.symbol})", resource_type="order",
                  resource_id=decision.order.client_id or str(decision.order.order_id), reason=decision.reason,
                  metadata=fields)
