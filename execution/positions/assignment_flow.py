"""Assignment and exercise as the bot handles them: LEAN's events in, the delivered shares closed out.

LEAN's exercise model sends the option leg (filled at 0, ``is_assignment`` for a short) and then the
underlying leg (±100 x contracts at the strike) under the same order id (positions/assignment.py
books both). ``book_exercise_event`` routes one such event; ``close_due_shares`` sends the close of
shares that ``assignment_action=close`` wants gone (through the gateway, retried after a back-off
when refused, never while an order already closes them). Narrow inputs only, no bot object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from execution.bot_managed_positions import PositionBook
from execution.ledger import ExposureLedger
from execution.orders.order_executor import TrackedOrder
from execution.positions.assignment import Assignments, is_exercise_leg
from execution.positions.fill_booking import FillBooking
from execution.positions.trade_recorder import TradeRecorder
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate


def book_exercise_event(update: OrderUpdate, assignments: Assignments, book: PositionBook,
                        recorder: TradeRecorder, booking: FillBooking) -> bool:
    """Book ``update`` when it is either leg of an assignment/exercise; False when it is not one."""
    if update.state not in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) or not update.fill_quantity:
        return False
    if assignments.underlying_leg(update):
        recorder.fill_received(update, None, None)
        return True
    position = book.open_for_symbol(update.symbol)
    if position is None or not is_exercise_leg(update):
        return False
    kind = assignments.option_leg(update, position.id)
    closing = min(abs(update.fill_quantity), abs(position.quantity)) * (1 if position.quantity < 0 else -1)
    recorder.fill_received(update, None, None)
    booking.book_part(replace(update, fill_quantity=closing, fill_price=0.0), None, None, None, reason=kind)
    return True


def close_due_shares(now: datetime, assignments: Assignments, ledger: ExposureLedger,
                     submit: Callable[[OrderRequest], TrackedOrder], client_id: Callable[[], str],
                     retry_after: timedelta) -> None:
    for stock in assignments.due(now):
        if ledger.closing(stock.symbol, stock.quantity):
            continue  # an order already closes them (a previous run's, until its cancel is confirmed)
        stock.close_sent = True
        tracked = submit(OrderRequest(client_id(), stock.symbol, -stock.quantity, OrderPurpose.ASSIGNMENT,
                                      correlation_id=stock.from_position))
        if tracked.rejected:  # never dropped: due again after the back-off
            stock.close_sent, stock.retry_at = False, now + retry_after
