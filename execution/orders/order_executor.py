"""Working orders: limit at mid, cancel-and-replace toward the far side, market after N tries.

Every bot order becomes one ``TrackedOrder`` keyed by its client id (which LEAN carries in the
order tag, so every replacement's events find the same record). The executor:

- prices a new order at mid (``order_style="limit"`` with a two-sided quote), else market;
- on each slice reprices orders whose delay has passed: it cancels the LEAN order and, when the
  CANCELED event arrives, places the replacement for the remaining quantity at the next price
  (``next_limit_price``), or at market after ``reprice_max_attempts`` reprices;
- keeps the volume-weighted average fill price (``update_average_fill_price``) and charges each
  fill's slippage against the mid at order time to the ``SlippageBudget``.

It is told about LEAN's events by the bot; it never decides what to trade.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from execution.ledger import WorkingLeg
from execution.risk.order_gateway import OrderGateway
from execution.risk.slippage_budget import SlippageBudget, SlippageCheckResult
from execution.smart_execution import (
    RepricingPolicy,
    WorkingOrder,
    next_limit_price,
    reprice_due,
    update_average_fill_price,
)
from models.bot_config import BotConfig
from models.market_data import ContractQuote
from models.orders import OrderKind, OrderRequest, OrderState, OrderUpdate
from utils.logging_config import get_logger

logger = get_logger(__name__)

FINISHED_KEPT = 500


class Phase(StrEnum):
    NEW = "new"  # being validated: not yet with the broker, so not "pending" for the gateway
    WORKING = "working"
    REPLACING = "replacing"  # cancel sent; the replacement goes out on the CANCELED event
    DONE = "done"


@dataclass
class TrackedOrder:
    request: OrderRequest
    working: WorkingOrder
    lean_order_ids: list[int] = field(default_factory=list)
    phase: Phase = Phase.NEW
    next_price: float | None = None  # the replacement's limit; None = market
    rejected: bool = False
    rejection: str = ""  # why the gateway refused it
    as_given: bool = False  # a price chosen by a person or agent: never repriced

    @property
    def current_lean_id(self) -> int | None:
        return self.lean_order_ids[-1] if self.lean_order_ids else None


def priceable(quote: ContractQuote | None) -> bool:
    """A quote a limit can be priced from: an ask, and a bid that may be 0 (the credit floor in
    ``next_limit_price`` keeps a sell above 0; a market sell there would give the option away)."""
    return (quote is not None and math.isfinite(quote.bid) and math.isfinite(quote.ask)
            and 0.0 <= quote.bid <= quote.ask and quote.ask > 0.0)


def repricing_policy(config: BotConfig) -> RepricingPolicy:
    return RepricingPolicy(delay=timedelta(seconds=config.reprice_seconds),
                           max_attempts=max(1, config.reprice_max_attempts + 1))


class OrderExecutor:
    def __init__(self, config: BotConfig, gateway: OrderGateway, slippage: SlippageBudget,
                 multiplier: Callable[[str], float]) -> None:
        self.config = config
        self.gateway = gateway
        self.slippage = slippage
        self.policy = repricing_policy(config)
        self._multiplier = multiplier
        self.orders: dict[str, TrackedOrder] = {}  # working orders only: a finished one leaves
        self.finished = 0
        # the last FINISHED_KEPT finished orders: a fill LEAN reports after CANCELED still finds its
        # order (LEAN books it, so must we)
        self._finished: OrderedDict[str, TrackedOrder] = OrderedDict()

    def active(self) -> list[TrackedOrder]:
        return list(self.orders.values())

    def _finish(self, tracked: TrackedOrder) -> None:
        tracked.phase = Phase.DONE
        if self.orders.pop(tracked.request.client_id, None) is not None:
            self.finished += 1
        self._finished[tracked.request.client_id] = tracked
        while len(self._finished) > FINISHED_KEPT:
            self._finished.popitem(last=False)

    # -- placing ---------------------------------------------------------------------------
    def place(self, request: OrderRequest, quote: ContractQuote | None, now: datetime, *,
              actor: str = "system", actor_type: str = "system",
              on_approved: Callable[[], None] | None = None, as_given: bool = False) -> TrackedOrder:
        """Price and send ``request`` through the gateway; events may arrive (and finish it)
        before this returns. A refused order comes back finished with ``rejected`` set."""
        expected = request.expected_price
        if expected is None and quote is not None and quote.has_two_sided_quote:
            expected = quote.mid
        limit = None
        if as_given:
            limit = request.limit_price if request.kind == OrderKind.LIMIT else None
        elif self.config.order_style == "limit" and priceable(quote):
            assert quote is not None
            limit = next_limit_price(self.policy, request.quantity > 0, quote.bid, quote.ask, 0)
        working = WorkingOrder(request.client_id, request.symbol, request.quantity,
                               expected_price=expected if expected is not None else 0.0,
                               submitted_at=now, limit_price=limit)
        tracked = TrackedOrder(request, working, as_given=as_given)
        self.orders[request.client_id] = tracked
        self._send(tracked, request.quantity, limit, now, actor, actor_type, on_approved)
        return tracked

    def _send(self, tracked: TrackedOrder, quantity: int, limit: float | None, now: datetime,
              actor: str = "system", actor_type: str = "system",
              on_approved: Callable[[], None] | None = None) -> None:
        kind = OrderKind.MARKET if limit is None else OrderKind.LIMIT
        order = replace(tracked.request, quantity=quantity, kind=kind, limit_price=limit)

        def approved() -> None:  # from here on its events may arrive: it is working
            tracked.phase = Phase.WORKING
            if on_approved is not None:
                on_approved()

        try:
            result = self.gateway.submit(order, now, actor=actor, actor_type=actor_type, on_approved=approved)
        except Exception:
            tracked.rejected, tracked.rejection = True, "failed while placing the order"
            self._finish(tracked)  # never a phantom working order that covers a position
            raise
        if not result.accepted:
            tracked.rejected, tracked.rejection = True, result.validation.reason
            self._finish(tracked)
            return
        ids = [order_id for order_id in result.order_ids if order_id > 0]  # LEAN: 0 = refused, no event
        if not ids:
            tracked.rejected, tracked.rejection = True, "refused by LEAN before submission (no order id)"
            self._finish(tracked)
            return
        tracked.lean_order_ids.extend(ids)

    def adopt(self, request: OrderRequest, lean_order_id: int, now: datetime) -> TrackedOrder:
        """A working order of a previous run (restart reconciliation): tracked as it is, never
        repriced (its price is the previous run's)."""
        working = WorkingOrder(request.client_id, request.symbol, request.quantity, expected_price=0.0,
                               submitted_at=now, limit_price=None)
        tracked = TrackedOrder(request, working, [lean_order_id], Phase.WORKING, as_given=True)
        self.orders[request.client_id] = tracked
        return tracked

    # -- repricing -------------------------------------------------------------------------
    def on_slice(self, now: datetime, quotes: Mapping[str, ContractQuote]) -> None:
        for tracked in self.active():
            working = tracked.working
            if (tracked.phase != Phase.WORKING or tracked.as_given or working.limit_price is None
                    or working.submitted_at is None
                    or not reprice_due(self.policy, working.submitted_at, now)):
                continue
            quote = quotes.get(working.symbol)
            if not priceable(quote):
                continue  # no quote to reprice against: keep the order working as it is
            assert quote is not None
            attempt = working.attempt + 1
            price = next_limit_price(self.policy, working.is_buy, quote.bid, quote.ask, attempt)
            if price is not None and price == working.limit_price:
                working.submitted_at = now
                continue
            lean_id = tracked.current_lean_id
            if lean_id is None:
                continue
            tracked.phase, tracked.next_price = Phase.REPLACING, price
            working.attempt, working.submitted_at = attempt, now
            logger.info("ORDER_REPRICED", extra={
                "order_id": tracked.request.client_id, "lean_order_id": lean_id, "attempt": attempt,
                "old_limit": working.limit_price, "new_limit": price if price is not None else "market",
                "remaining_quantity": working.remaining_quantity})
            if not self.gateway.cancel(lean_id):
                tracked.phase = Phase.WORKING  # already filled or gone: its events tell the rest

    # -- events ----------------------------------------------------------------------------
    def pending_by_symbol(self) -> dict[str, int]:
        """Signed contracts still to fill per symbol (an order being replaced does not count:
        its replacement is validated as if the old one were gone)."""
        pending: dict[str, int] = {}
        for tracked in self.orders.values():
            if tracked.phase == Phase.WORKING:
                symbol = tracked.working.symbol
                pending[symbol] = pending.get(symbol, 0) + tracked.working.remaining_quantity
        return pending

    def working_legs(self) -> list[WorkingLeg]:
        """For the exposure ledger: every order the broker has (WORKING) or may still fill while
        its cancel is on the way (REPLACING). An order being validated (NEW) is left out, so a
        replacement is checked as if the order it replaces were gone."""
        return [WorkingLeg(t.request.client_id, t.working.symbol, t.working.remaining_quantity,
                           t.request.purpose.value, t.request.position_id, tuple(t.lean_order_ids))
                for t in self.orders.values() if t.phase in (Phase.WORKING, Phase.REPLACING)]

    def on_update(self, update: OrderUpdate) -> tuple[TrackedOrder | None, SlippageCheckResult | None]:
        """Track one event of a bot order; returns the order and the fill's slippage check."""
        tracked = self.orders.get(update.client_id) if update.client_id else None
        if tracked is None and update.client_id and update.fill_quantity:
            return self._late_fill(update)
        if tracked is None:
            return None, None
        check = None
        if update.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) and update.fill_quantity:
            # the order being replaced filled after its replacement went out: LEAN books both, so
            # the client order grows to what filled and the replacement is cancelled
            current = tracked.current_lean_id
            if (update.order_id != current and self._overfills(tracked, update) and current is not None
                    and self.gateway.cancel(current)):
                tracked.phase = Phase.WORKING  # its CANCELED event finishes the order, no replacement
            update_average_fill_price(tracked.working, update.fill_price, update.fill_quantity)
            check = self._charge(tracked, update)
            if tracked.working.is_filled:
                self._finish(tracked)
        elif update.state == OrderState.CANCELED and self._is_current(tracked, update.order_id):
            self._on_canceled(tracked, update.time)
        elif update.state == OrderState.INVALID and self._is_current(tracked, update.order_id):
            tracked.rejected = True
            self._finish(tracked)
        return tracked, check

    def _late_fill(self, update: OrderUpdate) -> tuple[TrackedOrder | None, SlippageCheckResult | None]:
        """A fill of an order already finished (LEAN can fill after CANCELED): booked like any fill."""
        tracked = self._finished.get(update.client_id or "")
        if tracked is None or update.state not in (OrderState.FILLED, OrderState.PARTIALLY_FILLED):
            return None, None
        self._overfills(tracked, update)
        update_average_fill_price(tracked.working, update.fill_price, update.fill_quantity)
        logger.warning("LATE_FILL_BOOKED", extra={
            "order_id": tracked.request.client_id, "lean_order_id": update.order_id, "symbol": update.symbol,
            "fill_quantity": update.fill_quantity, "fill_price": update.fill_price})
        return tracked, self._charge(tracked, update)

    @staticmethod
    def _overfills(tracked: TrackedOrder, update: OrderUpdate) -> bool:
        """A fill of one of the order's own LEAN orders beyond the client quantity (an order that
        was being replaced, or filled after CANCELED): LEAN booked it, so the order grows to it
        (ORDER_OVERFILLED). A fill from an unknown LEAN order id is left to be refused."""
        working = tracked.working
        after = working.filled_quantity + update.fill_quantity
        if update.order_id not in tracked.lean_order_ids or abs(after) <= abs(working.quantity) \
                or (after > 0) != (working.quantity > 0):
            return False
        logger.warning("ORDER_OVERFILLED", extra={
            "order_id": tracked.request.client_id, "lean_order_id": update.order_id, "quantity": working.quantity,
            "filled_quantity": after})
        working.quantity = after
        return True

    def _charge(self, tracked: TrackedOrder, update: OrderUpdate) -> SlippageCheckResult | None:
        if tracked.working.expected_price <= 0:
            return None
        return self.slippage.check_slippage(tracked.working.expected_price, update.fill_price, update.fill_quantity,
                                            tracked.request.client_id, self._multiplier(update.symbol))

    @staticmethod
    def _is_current(tracked: TrackedOrder, order_id: int) -> bool:
        """The latest LEAN order of ``tracked`` — or one not recorded yet: LEAN can reject an order
        inside the ``submit`` call, before its id comes back to us."""
        return order_id == tracked.current_lean_id or order_id not in tracked.lean_order_ids

    def _on_canceled(self, tracked: TrackedOrder, now: datetime) -> None:
        remaining = tracked.working.remaining_quantity
        if tracked.phase != Phase.REPLACING or remaining == 0:
            self._finish(tracked)
            return
        tracked.working.limit_price = tracked.next_price
        tracked.phase = Phase.NEW  # the old order is gone; the replacement is being validated
        self._send(tracked, remaining, tracked.next_price, now)

    def cancel(self, client_id: str) -> bool:
        """Cancel a working order for good (no replacement)."""
        tracked = self.orders.get(client_id)
        if tracked is None or tracked.phase == Phase.DONE or tracked.current_lean_id is None:
            return False
        tracked.phase = Phase.WORKING  # a CANCELED event in WORKING phase finishes it
        return self.gateway.cancel(tracked.current_lean_id)
