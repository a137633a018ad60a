"""Booking fills into the bot-managed book, so that the bot's book always equals the account.

LEAN books every fill it reports, even one that arrives after the order's CANCELED event or after
a restart cancelled a previous run's order (issue 13, fault 11). So this books every fill too:

- into the open position on its contract; a fill through zero closes that position and books the
  rest as a position of its own;
- a fill that finds no position opens one when the order was the bot's: an entry or a request of
  a person or agent, as usual; and any other order of the bot whose fill came late (a close after
  its position was closed by another order, an order of a previous run that the restart
  cancelled: an entry, an exit, a roll leg). Those are logged (LATE_FILL_POSITION) and audited
  (``trade.open``, reason ``late_fill``) with the order's purpose, so nobody is surprised by a
  position the bot did not decide to open;
- a fill of an order the bot did not place that no position takes, or of a contract whose right,
  strike and expiry are unknown, is unmatched: counted, logged and audited, never silent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from execution.bot_managed_positions import BotManagedPosition, FillRejected
from execution.positions.position_manager import PositionManager
from execution.positions.trade_recorder import TradeRecorder
from execution.smart_execution import WorkingOrder
from models.audit import AuditAction
from models.market_data import ContractQuote
from models.orders import OrderPurpose, OrderUpdate
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

OPENING = frozenset(p.value for p in OrderPurpose if p.may_open)


def crosses_zero(held: int, fill: int) -> bool:
    """A fill of ``fill`` contracts takes a holding of ``held`` through zero to the other side."""
    return held != 0 and (held > 0) != (fill > 0) and abs(fill) > abs(held)


@dataclass(frozen=True)
class FillOrigin:
    """What the bot knows of the order a fill belongs to."""

    client_id: str
    purpose: str  # an OrderPurpose value, or "unknown" (an order of a previous run the snapshot did not know)
    correlation_id: str | None = None
    contract: ContractQuote | None = None  # right, strike, expiry: to open a position with
    previous_run: bool = False  # an order of a run before the last restart


class FillBooking:
    def __init__(self, manager: PositionManager, recorder: TradeRecorder, audit: AuditLogger,
                 multiplier: Callable[[str], float], last_quote: Callable[[str], ContractQuote | None]) -> None:
        self._manager = manager
        self._recorder = recorder
        self._audit = audit
        self._multiplier = multiplier
        self._last_quote = last_quote
        self.contracts: dict[str, ContractQuote] = {}  # the contract of each entry and request, by client id

    def book(self, update: OrderUpdate, origin: FillOrigin | None, working: WorkingOrder | None = None,
             slippage_pct: float | None = None) -> None:
        """Book one fill; a fill through zero closes the position, then the rest is booked alone."""
        held = self._manager.book.open_for_symbol(update.symbol)
        if held is not None and crosses_zero(held.quantity, update.fill_quantity):
            closing = -held.quantity
            fee = update.fee * abs(closing) / abs(update.fill_quantity)
            self.book_part(replace(update, fill_quantity=closing, fee=fee), origin, working, slippage_pct)
            update = replace(update, fill_quantity=update.fill_quantity - closing, fee=update.fee - fee)
        self.book_part(update, origin, working, slippage_pct)

    def book_part(self, update: OrderUpdate, origin: FillOrigin | None, working: WorkingOrder | None,
                  slippage_pct: float | None, reason: str | None = None) -> None:
        """Book a fill that does not cross zero (``reason``: why a close happened, when not the purpose)."""
        position = self._position_for(update, origin)
        if position is None:
            return
        opening = position.quantity == 0
        try:
            realized = self._manager.apply_fill(position, update.fill_quantity, update.fill_price, update.fee,
                                                update.time)
        except FillRejected as exc:
            if opening:
                self._manager.book.discard_unfilled(position)  # no empty position left open in the book
            self._recorder.unmatched(update, str(exc))
            return
        self._audit.log_order_fill(
            update.client_id or str(update.order_id), update.symbol, update.fill_quantity, update.fill_price,
            working.filled_quantity if working else update.fill_quantity,
            working.average_fill_price if working else update.fill_price, update.state.value,
            slippage_pct=slippage_pct, fee=update.fee, correlation_id=position.correlation_id,
            is_assignment=update.is_assignment)
        if opening:
            contract = self.contracts.get(update.client_id or "")
            at_entry = {"delta": contract.delta if contract.has_market_greeks else None,
                        "iv": contract.iv or None, "mid": contract.mid} if contract is not None else None
            self._recorder.opened(position, update, at_entry)
        elif realized:
            logger.info("PNL_REALIZED", extra={"position_id": position.id, "realized": round(realized, 2)})
        if position.quantity == 0:
            self._recorder.position_closed(position, update, reason or (origin.purpose if origin else "external"))

    def _position_for(self, update: OrderUpdate, origin: FillOrigin | None) -> BotManagedPosition | None:
        position = self._manager.book.open_for_symbol(update.symbol)
        if position is not None:
            return position
        if origin is None:
            self._recorder.unmatched(update, "no bot-managed position or order of the bot for this fill")
            return None
        contract = (self.contracts.get(origin.client_id) or origin.contract or update.contract
                    or self._last_quote(update.symbol))
        if contract is None or contract.symbol != update.symbol:
            self._recorder.unmatched(update, f"{origin.purpose} order {origin.client_id}: no contract data to open "
                                             "a position with")
            return None
        position = self._manager.open_position(contract, self._multiplier(contract.symbol), update.time,
                                               origin.correlation_id or origin.client_id)
        if origin.previous_run or origin.purpose not in OPENING:
            self._late_position(position, update, origin)
        return position

    def _late_position(self, position: BotManagedPosition, update: OrderUpdate, origin: FillOrigin) -> None:
        fields = {"position_id": position.id, "symbol": update.symbol, "fill_quantity": update.fill_quantity,
                  "fill_price": update.fill_price, "order_id": origin.client_id, "lean_order_id": update.order_id,
                  "purpose": origin.purpose, "previous_run": origin.previous_run}
        logger.warning("LATE_FILL_POSITION", extra=fields)
        run = "a previous run's " if origin.previous_run else ""
        self._audit.log(AuditAction.TRADE_OPEN, f"Late fill of {run}{origin.purpose} order {origin.client_id}: "
                        f"{update.fill_quantity:+d} {update.symbol} (LEAN booked it) is now position {position.id}",
                        resource_type="position", resource_id=position.id, reason="late_fill",
                        correlation_id=position.correlation_id, metadata=fields)
