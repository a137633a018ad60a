"""Restart reconciliation of holdings: LEAN's whole portfolio against what the restore manages.

A live LEAN start runs ``initialize()``, then loads the brokerage's open orders and holdings
(``Engine/Setup/BrokerageSetupHandler.cs``: LoadExistingHoldingsAndOrders, each holding's security
added unrequested), so every holding is in ``Portfolio`` by the first slice.

The restore (state_restore.py) takes back the snapshot's positions, each at most what LEAN holds
(same sign, the smaller size). What LEAN holds beyond that — a contract the snapshot does not
name, or more of one it does — was never seen by the bot: an order of the previous run that
filled while the bot was down, or a trade of a person. ``plan_holdings`` decides each such extra,
a pure function of LEAN's holdings, what is managed, the snapshot's working orders and the open
orders now:

- ADOPT: an option of the bot's underlying that an order of the previous run explains (the
  snapshot recorded it working on that contract, in that direction, and LEAN now has less of it
  open: the difference filled while the bot was down). Booked as that order's late fill, at the
  price LEAN's average price implies, so the position is bot-managed and audited (``late_fill``).
- FLAG: anything else (shares, another underlying, what no order of the bot explains). Left
  alone: counted in the exposure ledger (risk limits see it), listed in the snapshot
  (``risk.flagged_holdings``) and the restart drill's summary, logged and audited.

``Rewind`` makes the restore idempotent for order events LEAN delivered before it (a live LEAN
can send them between ``initialize()`` and the first slice): LEAN's holdings and open orders
already include their fills, so the restore works on the picture before them, then the events
are replayed and booked once, like any fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from execution.positions.fill_booking import FillOrigin
from execution.session.reconcile import OpenOrder
from models.audit import AuditAction
from models.market_data import ContractQuote
from models.orders import OrderState, OrderUpdate
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

FILLS = (OrderState.FILLED, OrderState.PARTIALLY_FILLED)


class HoldingAction(StrEnum):
    ADOPT = "adopt"
    FLAG = "flag"


@dataclass(frozen=True)
class Holding:
    """One of LEAN's holdings at the restart (``Portfolio``): signed quantity, average price."""

    symbol: str
    quantity: int
    average_price: float
    contract: ContractQuote | None = None  # an option's right, strike and expiry; None for shares
    underlying: str = ""  # the option's underlying ticker (shares: their own ticker)


@dataclass(frozen=True)
class HoldingDecision:
    decision: HoldingAction
    symbol: str
    quantity: int  # signed: the part of LEAN's holding this decision is about
    price: float
    reason: str
    client_id: str | None = None  # the order of the previous run that explains it (ADOPT)
    purpose: str = "unknown"
    lean_order_id: int = 0
    contract: ContractQuote | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "symbol": self.symbol, "quantity": self.quantity,
                "price": self.price, "reason": self.reason, "client_id": self.client_id, "purpose": self.purpose,
                "lean_order_id": self.lean_order_id}


def plan_holdings(holdings: Iterable[Holding], managed: Mapping[str, tuple[int, float]], saved_working: Iterable[Any],
                  open_orders: Iterable[OpenOrder], ticker: str) -> list[HoldingDecision]:
    """``managed``: symbol -> (signed quantity, entry price or cost) the restore took back."""
    working = [w for w in saved_working if isinstance(w, dict) and w.get("source", "bot") in ("bot", "roll")]
    opened = list(open_orders)
    out: list[HoldingDecision] = []
    for holding in sorted(holdings, key=lambda h: h.symbol):
        held, entry = managed.get(holding.symbol, (0, 0.0))
        extra = holding.quantity - held
        if not holding.quantity or not extra or (extra > 0) != (holding.quantity > 0):
            continue  # all of it managed (LEAN holding less than the snapshot: the restore managed LEAN's)
        price = _price_of(holding, held, entry, extra)
        if holding.contract is None or holding.underlying != ticker:
            what = "shares" if holding.contract is None else f"an option of {holding.underlying or 'another ticker'}"
            out.append(HoldingDecision(HoldingAction.FLAG, holding.symbol, extra, price,
                                       f"{what} the snapshot does not hold: left alone"))
            continue
        for saved in working:
            if saved.get("symbol") != holding.symbol or not extra:
                continue
            filled = _filled_while_down(saved, opened)
            if not filled or (filled > 0) != (extra > 0):
                continue
            take = min(abs(filled), abs(extra)) * (1 if extra > 0 else -1)
            ids = [int(i) for i in saved.get("lean_order_ids") or [] if isinstance(i, int)]
            out.append(HoldingDecision(HoldingAction.ADOPT, holding.symbol, take, price,
                                       "filled while the bot was down", str(saved.get("client_id")),
                                       str(saved.get("purpose") or "unknown"), ids[-1] if ids else 0, holding.contract))
            extra -= take
        if extra:
            out.append(HoldingDecision(HoldingAction.FLAG, holding.symbol, extra, price,
                                       "no order of the bot's previous run explains it: left alone"))
    return out


def _filled_while_down(saved: dict[str, Any], opened: Sequence[OpenOrder]) -> int:
    """What of a working order the snapshot recorded is no longer open at LEAN (signed): filled
    while the bot was down, or cancelled; the holding it explains is at most that."""
    try:
        remaining = int(saved.get("remaining") or 0)
    except (TypeError, ValueError):
        return 0
    ids = set(saved.get("lean_order_ids") or [])
    still = sum(o.remaining for o in opened if o.symbol == saved.get("symbol")
                and (o.order_id in ids or (not ids and o.client_id == saved.get("client_id"))))
    left = remaining - still
    return left if left and (left > 0) == (remaining > 0) else 0


def _price_of(holding: Holding, held: int, entry: float, extra: int) -> float:
    """The price of the extra contracts LEAN's average price implies (LEAN averages every fill)."""
    implied = (holding.average_price * holding.quantity - entry * held) / extra
    return round(implied, 4) if implied > 0 else holding.average_price


class Rewind:
    """Order events LEAN delivered before the restore: their fills are in LEAN's holdings and open
    orders already. The restore reads both as they were before those fills; then the events are
    replayed and booked once."""

    def __init__(self, early: Sequence[OrderUpdate]) -> None:
        self.events = list(early)
        self._fills = [u for u in self.events if u.state in FILLS and u.fill_quantity]
        self._by_symbol: dict[str, int] = {}
        for update in self._fills:
            self._by_symbol[update.symbol] = self._by_symbol.get(update.symbol, 0) + update.fill_quantity

    def quantity(self, symbol: str, lean: int | None) -> int | None:
        if symbol not in self._by_symbol:
            return lean
        return (lean or 0) - self._by_symbol[symbol]

    def lookup(self, held: Callable[[Any], int | None], symbol_of: Callable[[Any], str]) -> Callable[[Any], int | None]:
        return lambda item: self.quantity(symbol_of(item), held(item))

    def holdings(self, holdings: Iterable[Holding], ticker: str) -> list[Holding]:
        """``ticker``: the underlying of a contract an early fill names that LEAN no longer holds
        (the events came from the algorithm's own subscriptions)."""
        out = {h.symbol: h for h in holdings}
        for update in self._fills:
            if update.symbol not in out:
                out[update.symbol] = Holding(update.symbol, 0, update.fill_price, update.contract,
                                             ticker if update.contract is not None else update.symbol)
        for symbol, filled in self._by_symbol.items():
            known = out[symbol]
            out[symbol] = Holding(symbol, known.quantity - filled, known.average_price, known.contract,
                                  known.underlying)
        return list(out.values())

    def orders(self, open_orders: Iterable[OpenOrder]) -> list[OpenOrder]:
        """The open orders with the early fills still to fill (an order they completed: open again)."""
        out = {o.order_id: o for o in open_orders}
        for update in self._fills:
            known = out.get(update.order_id)
            if known is None:
                out[update.order_id] = OpenOrder(update.order_id, update.symbol, update.fill_quantity,
                                                 update.client_id, update.contract)
            else:
                out[update.order_id] = OpenOrder(known.order_id, known.symbol, known.remaining + update.fill_quantity,
                                                 known.client_id, known.contract or update.contract)
        return list(out.values())


def apply_holdings(decisions: Iterable[HoldingDecision], now: datetime,
                   book_fill: Callable[[OrderUpdate, FillOrigin], None], flagged: list[HoldingDecision],
                   audit: AuditLogger) -> None:
    """Carry out ``plan_holdings``: an adopted holding is booked as the fill of its order that the
    bot never heard of (a late fill of that order); a flagged one is kept in ``flagged``. Each is
    logged and audited."""
    for decision in decisions:
        fields = decision.as_dict()
        if decision.decision is HoldingAction.ADOPT:
            logger.warning("HOLDING_ADOPTED", extra=fields)
            fill = OrderUpdate(decision.lean_order_id, decision.client_id, decision.symbol, OrderState.FILLED,
                               decision.price, decision.quantity, 0.0, now, contract=decision.contract,
                               message="filled while the bot was down (restart)")
            book_fill(fill, FillOrigin(decision.client_id or "", decision.purpose, decision.client_id,
                                       decision.contract, previous_run=True))
        else:
            logger.error("HOLDING_FLAGGED", extra=fields)
            flagged.append(decision)
        audit.log(AuditAction.STATE_RESTORE, f"Restart: {decision.decision.value} holding {decision.quantity:+d} "
                  f"{decision.symbol}", resource_type="holding", resource_id=decision.symbol, reason=decision.reason,
                  metadata=fields)
