"""Fills and limit-order pricing (seed 3.5 and issue 3 §3/§5). Pure: stdlib only, no LEAN, no I/O.

**Fills.** ``update_average_fill_price`` keeps an order's volume-weighted average fill price over
any sequence of partial fills: ``(old_cost + new_cost) / total`` over absolute quantities (sells
are negative). A fill that cannot apply (NaN/inf/negative price, zero or fractional quantity, a
sign opposite to the order, more than the order's remaining quantity) raises ``InvalidFillError``
and leaves the order unchanged; the caller logs and audits it and keeps running.

**Repricing.** Orders go out as limit orders at mid (``attempt`` 0) and, every ``policy.delay``,
are repriced toward the far side (the ask for a buy, the bid for a sell) by ``step_fraction`` of
the half-spread per attempt, capped at the far side. After ``max_attempts`` limit prices the order
goes to market (``next_limit_price`` returns None). Limits are rounded to ``tick`` toward the
passive side (down for a buy, up for a sell), so a limit never crosses the far side.

**Combos and the credit guard.** LEAN's ``combo_limit_order(legs, quantity, limit_price)`` takes
one net price for one unit of the combo as its legs define it: the sum of leg price x leg ratio
(``FillModel.ComboLimitFill``). A buy (quantity > 0) fills when that sum is below the limit, a
sell when it is above; LEAN does not reject negative limits. So for a buy a positive net price is
a debit and a negative one a credit; for a sell, the reverse. We price a combo with its net quote
(``combo_net_quote``) and ``is_buy = quantity > 0``, exactly like a single contract, with prices
allowed to be negative. A *credit* order (a sell at a mid >= 0 - every single-leg sell - or a buy
at a mid < 0; or as the caller says with ``credit=``) is never repriced so far that it stops being
a credit: the cash received stays >= ``max(policy.min_credit, tick)``. When the market itself (the
far side) would break that floor, the order never goes to market: it rests at the floor and the
caller cancels it on its own schedule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# The seed (4.4) places the slippage budget here; it lives in execution/slippage_budget.py and is
# re-exported (``as``: an explicit re-export) so ``from execution.smart_execution import SlippageBudget`` works.
from execution.risk.slippage_budget import SlippageBudget as SlippageBudget
from execution.risk.slippage_budget import SlippageCheckResult as SlippageCheckResult
from models.exceptions import ConfigurationError, PositionSizingError, TradingError
from utils.logging_config import get_logger

logger = get_logger(__name__)
DEFAULT_TICK = 0.01


class InvalidFillError(PositionSizingError):
    """A fill that cannot be applied to an order; the order was left unchanged."""


class InvalidQuoteError(TradingError, ValueError):
    """A bid/ask, tick or attempt number that cannot be priced (NaN, crossed, negative)."""


class FillableOrder(Protocol):
    """What ``update_average_fill_price`` needs. ``quantity`` (signed) is read when present."""

    filled_quantity: int
    average_fill_price: float


@dataclass
class WorkingOrder:
    """One order the bot has working. Quantities are signed contracts (+ buy, - sell)."""

    client_id: str
    symbol: str
    quantity: int
    expected_price: float  # mid at order time: the slippage reference
    submitted_at: datetime | None = None  # time of the last (re)pricing
    limit_price: float | None = None  # None = market
    attempt: int = 0
    filled_quantity: int = 0
    average_fill_price: float = 0.0

    @property
    def is_buy(self) -> bool:
        return self.quantity > 0

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def is_filled(self) -> bool:
        return self.filled_quantity == self.quantity


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _whole_contracts(quantity: float) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        raise InvalidFillError(f"fill quantity must be a number of contracts, got {quantity!r}")
    if not math.isfinite(quantity) or quantity != int(quantity):
        raise InvalidFillError(f"fill quantity must be a whole number of contracts, got {quantity!r}")
    if quantity == 0:
        raise InvalidFillError("fill quantity must not be zero")
    return int(quantity)


def update_average_fill_price(order: FillableOrder, new_fill_price: float, new_fill_quantity: float) -> float:
    """Apply one (partial) fill to ``order`` and return its new average fill price.

    ``order.filled_quantity`` (signed like the order) and ``order.average_fill_price`` are
    updated together; on ``InvalidFillError`` neither changes.
    """
    if isinstance(new_fill_price, bool) or not isinstance(new_fill_price, int | float):
        raise InvalidFillError(f"fill price must be a number, got {new_fill_price!r}")
    if not math.isfinite(new_fill_price) or new_fill_price < 0:
        raise InvalidFillError(f"fill price must be finite and >= 0, got {new_fill_price!r}")
    fill_qty = _whole_contracts(new_fill_quantity)
    old_qty = int(order.filled_quantity)
    order_qty: int | None = getattr(order, "quantity", None)
    direction = _sign(order_qty) if order_qty else _sign(old_qty)
    if direction and _sign(fill_qty) != direction:
        raise InvalidFillError(f"fill of {fill_qty:+d} has the opposite sign of the order "
                               f"({'buy' if direction > 0 else 'sell'})")
    if old_qty and _sign(old_qty) != _sign(fill_qty):
        raise InvalidFillError(f"fill of {fill_qty:+d} has the opposite sign of the fills so far ({old_qty:+d})")
    total_qty = old_qty + fill_qty
    if order_qty and abs(total_qty) > abs(order_qty):
        raise InvalidFillError(f"fill of {fill_qty:+d} would over-fill the order: {old_qty:+d} of "
                               f"{order_qty:+d} already filled")
    old_avg = float(order.average_fill_price)
    old_cost = old_avg * abs(old_qty)
    new_average = (old_cost + new_fill_price * abs(fill_qty)) / abs(total_qty)
    order.filled_quantity = total_qty
    order.average_fill_price = new_average
    logger.debug("FILL_PRICE_UPDATED", extra={
        "order_id": getattr(order, "client_id", None), "old_avg": old_avg, "new_avg": new_average,
        "old_qty": old_qty, "new_qty": fill_qty, "fill_price": new_fill_price})
    return new_average


# -- limit-at-mid repricing -------------------------------------------------------------------

@dataclass(frozen=True)
class RepricingPolicy:
    """Limit at mid, then ``step_fraction`` of the half-spread toward the far side every ``delay``;
    market after ``max_attempts`` limit prices (attempts 0 .. max_attempts-1; 0 is the mid)."""

    step_fraction: float = 0.25
    delay: timedelta = timedelta(seconds=30)
    max_attempts: int = 5
    min_credit: float = 0.0  # a credit order always receives at least max(min_credit, tick)

    def __post_init__(self) -> None:
        if not (isinstance(self.step_fraction, int | float) and 0 < self.step_fraction <= 1):
            raise ConfigurationError("step_fraction", f"must be in (0, 1], got {self.step_fraction!r}")
        if not isinstance(self.delay, timedelta) or self.delay <= timedelta(0):
            raise ConfigurationError("delay", f"must be a positive timedelta, got {self.delay!r}")
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ConfigurationError("max_attempts", f"must be an integer >= 1, got {self.max_attempts!r}")
        if not (isinstance(self.min_credit, int | float) and math.isfinite(self.min_credit)
                and self.min_credit >= 0):
            raise ConfigurationError("min_credit", f"must be finite and >= 0, got {self.min_credit!r}")


def _check_quote(bid: float, ask: float, tick: float) -> None:
    for name, value in (("bid", bid), ("ask", ask), ("tick", tick)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidQuoteError(f"{name} must be a finite number, got {value!r}")
    if bid > ask:
        raise InvalidQuoteError(f"crossed quote: bid {bid} > ask {ask}")
    if tick <= 0:
        raise InvalidQuoteError(f"tick must be > 0, got {tick}")


def _round_to_tick(price: float, tick: float, up: bool) -> float:
    ticks = round(price / tick, 9)  # absorb float noise: 1.05 / 0.05 is 20.999999999999996
    whole = math.ceil(ticks) if up else math.floor(ticks)
    return round(whole * tick, 10) + 0.0  # + 0.0 turns -0.0 into 0.0


def is_credit_order(is_buy: bool, bid: float, ask: float) -> bool:
    """Whether an order receives money at mid: a sell at mid >= 0 (every single-leg sell) or a
    buy at mid < 0 (a net-credit combo bought as a negative price)."""
    mid = (bid + ask) / 2
    return mid < 0 if is_buy else mid >= 0


def _credit_bound(policy: RepricingPolicy, is_buy: bool, tick: float) -> float:
    """The limit price a credit order must not go beyond (>= it for a sell, <= it for a buy)."""
    floor = _round_to_tick(max(policy.min_credit, tick), tick, up=True)
    return -floor if is_buy else floor


def next_limit_price(policy: RepricingPolicy, is_buy: bool, bid: float, ask: float, attempt: int,
                     tick: float = DEFAULT_TICK, credit: bool | None = None) -> float | None:
    """The limit price for ``attempt`` (0 = first submission), or None: go to market.

    ``bid``/``ask`` are the current quote (a combo's net quote from ``combo_net_quote``).
    ``credit`` pins whether the order is a credit; None infers it with ``is_credit_order``.
    A credit order whose far side breaks the credit floor never goes to market (see module doc).
    """
    _check_quote(bid, ask, tick)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise InvalidQuoteError(f"attempt must be an integer >= 0, got {attempt!r}")
    is_credit = is_credit_order(is_buy, bid, ask) if credit is None else credit
    far = ask if is_buy else bid
    bound = _credit_bound(policy, is_buy, tick) if is_credit else None
    market_keeps_credit = bound is None or (far <= bound if is_buy else far >= bound)
    if attempt >= policy.max_attempts and market_keeps_credit:
        return None
    mid = (bid + ask) / 2
    # past the last attempt (market would break the credit) the order rests at the far side,
    # which the credit bound below then pulls back to the floor
    fraction = 1.0 if attempt >= policy.max_attempts else min(1.0, attempt * policy.step_fraction)
    raw = mid + fraction * (far - mid)
    price = _round_to_tick(raw, tick, up=not is_buy)  # toward the passive side
    if bound is not None:
        price = min(price, bound) if is_buy else max(price, bound)
    return price


def reprice_due(policy: RepricingPolicy, submitted_at: datetime, now: datetime) -> bool:
    """True once ``policy.delay`` has passed since the order was (re)priced. Pass algorithm time."""
    if (submitted_at.tzinfo is None) != (now.tzinfo is None):
        raise InvalidQuoteError("submitted_at and now must both be time-zone aware or both naive")
    return now - submitted_at >= policy.delay


def combo_net_quote(legs: Iterable[tuple[float, float, float]]) -> tuple[float, float]:
    """Net (bid, ask) of one unit of a combo from ``(ratio, bid, ask)`` per leg, ratio signed.

    Buying one unit pays the ask of the long legs and receives the bid of the short ones; this is
    also the sum LEAN's ComboLimitFill compares with the limit. Either side may be negative.
    """
    net_bid = net_ask = 0.0
    count = 0
    for ratio, bid, ask in legs:
        _check_quote(bid, ask, DEFAULT_TICK)
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not math.isfinite(ratio) or ratio == 0:
            raise InvalidQuoteError(f"leg ratio must be a non-zero number, got {ratio!r}")
        net_bid += ratio * (bid if ratio > 0 else ask)
        net_ask += ratio * (ask if ratio > 0 else bid)
        count += 1
    if count == 0:
        raise InvalidQuoteError("a combo needs at least one leg")
    return net_bid, net_ask
