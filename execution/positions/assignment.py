"""Assignment and exercise, as LEAN sends them, and the stock positions they leave.

LEAN's exercise model (``Common/Orders/OptionExercise/DefaultExerciseModel.cs``) sends, under one
order id: the option leg filled at 0 (``is_assignment`` for a short ITM option, message
"Automatic Assignment" / "Automatic Exercise"), then — in the money, physical delivery — the
underlying filled at the strike for contracts x multiplier shares ("Option Assignment" /
"Option Exercise"). A short option also reaches ``on_assignment_order_event``.

The option leg closes the bot-managed option position at 0 (the premium is kept, booked by the
bot with the reason ``assignment`` / ``exercise``); the underlying leg opens or grows a
bot-managed ``StockPosition`` at the strike, so the exposure ledger, the snapshot and the risk
limits see the shares. Then ``assignment_action``:

- ``close`` (default): at the next session's first slice the shares are sold (or bought back)
  with a market order through the pre-trade gateway; the fill realises the share loss or gain
  against the strike.
- ``hold``: the shares stay (the wheel); nothing is sent.

A sale (or buy-back) of such shares larger than what is held — e.g. a previous run's close that
fills after the restart found fewer shares, or a person's order — closes the shares and books the
rest as a stock position of its own (origin ``excess_fill``, audited with its quantity), never
dropped: LEAN books all of it. That position is closed at once, whatever ``assignment_action``.

Everything is logged (OPTION_ASSIGNED, ASSIGNMENT_SHARES_BOOKED, ASSIGNMENT_CLOSE_DUE) and
audited (``AuditAction.TRADE_OPEN`` / ``TRADE_CLOSE`` with resource type ``stock_position``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.audit import AuditAction
from models.orders import OrderUpdate
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

ASSIGNMENT_ACTIONS = ("close", "hold")
EXCESS = "excess_fill"  # a StockPosition's origin: the rest of a share fill larger than the shares held


def is_exercise_leg(update: OrderUpdate) -> bool:
    """The option leg of an assignment or exercise (LEAN's exercise model fills it at 0)."""
    message = update.message.lower()
    return update.is_assignment or (update.fill_price == 0 and ("assignment" in message or "exercise" in message))


@dataclass
class StockPosition:
    symbol: str
    quantity: int  # signed shares
    cost: float  # average price per share (the strike for assigned shares)
    from_position: str
    opened_at: datetime
    assigned_on: date
    realized_pnl: float = 0.0
    fees: float = 0.0
    close_sent: bool = False
    retry_at: datetime | None = None
    origin: str = "assignment"  # or EXCESS

    def as_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "quantity": self.quantity, "cost": self.cost,
                "from_position": self.from_position, "opened_at": self.opened_at.isoformat(),
                "assigned_on": self.assigned_on.isoformat(), "realized_pnl": self.realized_pnl, "fees": self.fees,
                "close_sent": self.close_sent, "origin": self.origin}


class Assignments:
    def __init__(self, action: str, audit: AuditLogger) -> None:
        if action not in ASSIGNMENT_ACTIONS:
            raise ValueError(f"assignment_action must be one of {ASSIGNMENT_ACTIONS}, got {action!r}")
        self.action = action
        self._audit = audit
        self._expected: dict[int, tuple[str, str]] = {}  # LEAN order id -> (option position id, kind)
        self.stocks: dict[str, StockPosition] = {}

    def held(self) -> dict[str, int]:
        return {s.symbol: s.quantity for s in self.stocks.values() if s.quantity}

    def option_leg(self, update: OrderUpdate, position_id: str) -> str:
        """The option leg was booked; the underlying leg of the same order id is expected."""
        kind = "assignment" if update.is_assignment else "exercise"
        self._expected[update.order_id] = (position_id, kind)
        logger.warning("OPTION_ASSIGNED" if update.is_assignment else "OPTION_EXERCISED", extra={
            "position_id": position_id, "symbol": update.symbol, "lean_order_id": update.order_id,
            "fill_quantity": update.fill_quantity, "event_message": update.message})
        return kind

    def underlying_leg(self, update: OrderUpdate) -> bool:
        """Book the shares of an expected assignment/exercise; False when the fill is not one."""
        expected = self._expected.get(update.order_id)
        if expected is None or not update.fill_quantity:
            return False
        position_id, kind = expected
        stock = self.stocks.get(update.symbol)
        if stock is None or stock.quantity == 0:
            stock = StockPosition(update.symbol, 0, 0.0, position_id, update.time, update.time.date())
            self.stocks[update.symbol] = stock
        total = stock.quantity + update.fill_quantity
        if total and (stock.quantity == 0 or (stock.quantity > 0) == (update.fill_quantity > 0)):
            stock.cost = (stock.cost * stock.quantity + update.fill_price * update.fill_quantity) / total
        stock.quantity, stock.close_sent, stock.assigned_on = total, False, update.time.date()
        logger.warning("ASSIGNMENT_SHARES_BOOKED", extra={
            "symbol": update.symbol, "shares": update.fill_quantity, "price": update.fill_price, "kind": kind,
            "from_position": position_id, "then": self.action})
        self._audit.log(AuditAction.TRADE_OPEN, f"{kind}: {update.fill_quantity:+d} {update.symbol} at "
                        f"{update.fill_price:g}", resource_type="stock_position", resource_id=update.symbol,
                        reason=kind, metadata={"from_position": position_id, "then": self.action,
                                               "lean_order_id": update.order_id})
        return True

    def restore(self, saved: Sequence[Any], held: Callable[[str], int | None], now: datetime) -> list[str]:
        """After a restart: the shares the last snapshot recorded, reconciled with what LEAN holds
        like option positions (same sign, the smaller size; none or the other sign: not managed).
        Returns one line per difference (every one is audited by the caller)."""
        differences = []
        for raw in saved:
            try:
                symbol, quantity = str(raw["symbol"]), int(raw["quantity"])
                cost = float(raw["cost"])
                # the close is due from the session after the assignment (a snapshot without the day: now)
                assigned_on = date.fromisoformat(str(raw["assigned_on"])) if raw.get("assigned_on") else now.date()
            except (KeyError, TypeError, ValueError) as exc:
                differences.append(f"stock position unreadable: {exc}")
                continue
            lean = held(symbol) or 0
            if not quantity or not lean or (lean > 0) != (quantity > 0):
                differences.append(f"{symbol}: saved {quantity} shares, LEAN {lean}: not managed")
                continue
            managed = lean if abs(lean) < abs(quantity) else quantity
            if managed != lean or managed != quantity:
                differences.append(f"{symbol}: saved {quantity} shares, LEAN {lean}, managed {managed}")
            self.stocks[symbol] = StockPosition(symbol, managed, cost, str(raw.get("from_position") or ""), now,
                                                assigned_on, float(raw.get("realized_pnl") or 0.0),
                                                origin=EXCESS if raw.get("origin") == EXCESS else "assignment")
        return differences

    def due(self, now: datetime) -> list[StockPosition]:
        """Shares to close now: with ``close``, from the session after the assignment on; the rest of
        an over-sized fill at once, whatever the action; a refused close again after its back-off."""
        return [s for s in self.stocks.values() if s.quantity and not s.close_sent
                and (s.origin == EXCESS or (self.action == "close" and now.date() > s.assigned_on))
                and (s.retry_at is None or now >= s.retry_at)]

    def apply_fill(self, update: OrderUpdate) -> StockPosition | None:
        """A fill of a bot order on shares it holds: realises the gain or loss against the cost; the
        part beyond the shares held becomes a stock position of its own (``_excess``)."""
        stock = self.stocks.get(update.symbol)
        if stock is None or not stock.quantity or (stock.quantity > 0) == (update.fill_quantity > 0):
            return None
        closed = min(abs(update.fill_quantity), abs(stock.quantity))
        sign = 1 if stock.quantity > 0 else -1
        realized = (update.fill_price - stock.cost) * closed * sign
        stock.realized_pnl += realized
        stock.fees += update.fee
        stock.quantity -= sign * closed
        if stock.quantity == 0:
            self._audit.log(AuditAction.TRADE_CLOSE, f"Assigned shares closed: {update.symbol}",
                            resource_type="stock_position", resource_id=update.symbol, reason="assignment_close",
                            metadata={"realized_pnl": round(stock.realized_pnl, 2), "fees": round(stock.fees, 2)})
        excess = update.fill_quantity + sign * closed
        if excess:
            self._excess(stock, update, excess)
        return stock

    def _excess(self, stock: StockPosition, update: OrderUpdate, excess: int) -> None:
        stock.quantity, stock.cost, stock.origin = excess, update.fill_price, EXCESS
        stock.opened_at, stock.assigned_on = update.time, update.time.date()
        stock.close_sent, stock.retry_at = False, None
        fields = {"symbol": update.symbol, "shares": excess, "price": update.fill_price, "fill_quantity":
                  update.fill_quantity, "lean_order_id": update.order_id, "order_id": update.client_id}
        logger.warning("EXCESS_SHARES_BOOKED", extra=fields)
        self._audit.log(AuditAction.TRADE_OPEN, f"Share fill beyond the shares held: {excess:+d} {update.symbol} at "
                        f"{update.fill_price:g} (LEAN booked it) is a stock position, closed at once",
                        resource_type="stock_position", resource_id=update.symbol, reason=EXCESS, metadata=fields)
