"""The pre-trade gateway's rules: one order, or the legs of a roll as one unit, against RiskLimits.

Pure and in one place: the algorithm's gateway (execution/risk/pre_trade_validator.py, which adds
the log and audit of a rejection) and the sidecar's dry run for agents (services/gateway_dry_run.py,
the MCP ``check_order`` tool and the REST queue's pre-check) both call ``evaluate`` on a
``PreTradeContext``; the algorithm publishes its current context in the state snapshot.

An order *reduces exposure* iff, for every symbol it trades (legs on one symbol netted), the
position after it is smaller and not of the other sign: ``|pos + qty| < |pos|``, no flip, with
pos = held + working (``pending``). A roll (close one contract, open another) or a flip adds.

- ``order_sanity`` and ``circuit_breaker`` (models/trading_state.py ``permits``) apply to every
  order. All other checks apply to exposure-adding orders only and are reported "exempt" for a
  reducing one: a stop-loss or close is never blocked by a size, value, count, Greek, blocked
  symbol, loss or order-flow limit. (So closing one leg of an offsetting pair can leave the *net*
  Greeks beyond their limit; being unable to exit is judged the larger risk.)
- Caps are inclusive (``value == limit`` passes); open positions and Greeks also pass when the
  order does not make the figure worse (a hedge while over the delta limit); daily loss and
  drawdown fail once the limit is reached, like the breaker. Missing market data (price,
  multiplier, Greek estimate) for a leg fails the check that needs it: the gateway fails closed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from models.exceptions import OrderValidationError
from models.orders import OrderKind, OrderRequest
from models.risk_limits import RiskLimits, limit_reached, within_limit
from models.trading_state import TradingState, permits

RATE_WINDOW = timedelta(seconds=60)
Value = float | str | None


class CheckName(StrEnum):
    ORDER_SANITY = "order_sanity"
    CIRCUIT_BREAKER = "circuit_breaker"
    BLOCKED_SYMBOL = "blocked_symbol"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    DAILY_ORDERS = "daily_orders"
    ORDER_RATE = "order_rate"
    ORDER_VALUE = "order_value"
    POSITION_SIZE = "position_size"
    OPEN_POSITIONS = "open_positions"
    DOLLAR_DELTA = "dollar_delta"
    VEGA = "vega"


@dataclass(frozen=True)
class CheckResult:
    """One check. ``current_value`` is the figure the order would produce (post-trade), except
    for daily_loss/drawdown (now); ``limit_value`` the limit it was held against."""

    name: str
    passed: bool
    reason: str
    current_value: Value = None
    limit_value: Value = None


@dataclass(frozen=True)
class ValidationResult:
    approved: bool
    reduces_exposure: bool
    checks: tuple[CheckResult, ...]

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.passed)

    @property
    def reason(self) -> str:
        return "; ".join(f"{c.name}: {c.reason}" for c in self.failed) or "approved"

    def raise_if_rejected(self) -> None:
        if not self.approved:
            raise OrderValidationError(self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {"approved": self.approved, "reduces_exposure": self.reduces_exposure,
                "checks": [asdict(check) for check in self.checks]}


@dataclass(frozen=True)
class PreTradeContext:
    """What the gateway needs to know at the moment of one order (algorithm time ``now``).

    Maps are keyed by the order's ``symbol`` string. ``positions``: held signed contracts;
    ``pending``: signed contracts of working (unfilled) orders. ``prices``: mid per contract;
    ``multipliers``: contract multiplier from the security. ``dollar_delta_per_contract`` /
    ``vega_per_contract``: USD delta (delta x multiplier x underlying price) and USD vega per
    vol point of ONE long contract; the portfolio figures are the current totals in the same
    units. ``underlyings``: underlying ticker per symbol (default: the symbol's first word, as in
    LEAN's "GOOG  151218P00750000"). ``orders_today`` / ``recent_order_times``: from an
    ``OrderCounter``. ``session_start_equity``, ``equity_high_watermark``, ``trading_state``: from
    the CircuitBreaker, so the gateway and the breaker measure losses alike.
    """

    now: datetime
    portfolio_value: float
    positions: Mapping[str, int]
    prices: Mapping[str, float]
    multipliers: Mapping[str, float]
    open_positions: int
    orders_today: int
    recent_order_times: Sequence[datetime]
    portfolio_dollar_delta: float
    portfolio_vega: float
    dollar_delta_per_contract: Mapping[str, float]
    vega_per_contract: Mapping[str, float]
    session_start_equity: float
    equity_high_watermark: float
    trading_state: TradingState
    underlyings: Mapping[str, str] = field(default_factory=dict)
    pending: Mapping[str, int] = field(default_factory=dict)
    working_symbols: frozenset[str] = frozenset()  # contracts with any working order (the ledger's)

    def position(self, symbol: str) -> int:
        return self.positions.get(symbol, 0) + self.pending.get(symbol, 0)


def net_legs(orders: Sequence[OrderRequest]) -> dict[str, int]:
    """Signed contracts per symbol over all legs."""
    net: dict[str, int] = {}
    for order in orders:
        net[order.symbol] = net.get(order.symbol, 0) + order.quantity
    return net


def leg_reduces(position: int, quantity: int) -> bool:
    after = position + quantity
    return quantity != 0 and abs(after) < abs(position) and (after == 0 or (after > 0) == (position > 0))


def reduces_exposure(net: Mapping[str, int], ctx: PreTradeContext) -> bool:
    return bool(net) and all(leg_reduces(ctx.position(symbol), qty) for symbol, qty in net.items())


def _ok(name: CheckName, reason: str, current: Value = None, limit: Value = None) -> CheckResult:
    return CheckResult(name.value, True, reason, current, limit)


def _fail(name: CheckName, reason: str, current: Value = None, limit: Value = None) -> CheckResult:
    return CheckResult(name.value, False, reason, current, limit)


def _cap(name: CheckName, value: float, limit: float, what: str, before: float | None = None) -> CheckResult:
    """Inclusive cap; with ``before``, also passes when the order does not make |value| worse."""
    if within_limit(abs(value), limit):
        return _ok(name, f"{what} {value:g} within {limit:g}", value, limit)
    if before is not None and abs(value) <= abs(before):
        return _ok(name, f"{what} {value:g} beyond {limit:g} but not worse than {before:g}", value, limit)
    return _fail(name, f"{what} {value:g} exceeds {limit:g}", value, limit)


EXPOSURE_CHECKS = tuple(n for n in CheckName if n not in (CheckName.ORDER_SANITY, CheckName.CIRCUIT_BREAKER))


def evaluate(legs: Sequence[OrderRequest], ctx: PreTradeContext, limits: RiskLimits) -> ValidationResult:
    """Every check's outcome for one order (one leg) or a combo's legs as one unit."""
    sanity = check_sanity(legs)
    if not sanity.passed:
        return ValidationResult(False, False, (sanity,))
    net = net_legs(legs)
    reducing = reduces_exposure(net, ctx)
    checks = [sanity, check_breaker(ctx, reducing, limits.halted_allows_closes)]
    if reducing:
        checks += [_ok(name, "exempt: order reduces exposure") for name in EXPOSURE_CHECKS]
    else:
        adding = {s: q for s, q in net.items() if not leg_reduces(ctx.position(s), q)}
        checks += [check_blocked(adding, ctx, limits.blocked_symbols),
                   check_loss(CheckName.DAILY_LOSS, ctx.session_start_equity, ctx.portfolio_value,
                              limits.max_daily_loss_pct, "session start equity"),
                   check_loss(CheckName.DRAWDOWN, ctx.equity_high_watermark, ctx.portfolio_value,
                              limits.max_drawdown_pct, "equity high watermark"),
                   _cap(CheckName.DAILY_ORDERS, ctx.orders_today + 1, limits.max_daily_orders, "orders this session"),
                   check_rate(ctx, limits.max_orders_per_minute),
                   check_order_value(adding, ctx, limits.max_single_order_value),
                   check_position_size(adding, ctx, limits.max_position_size_pct),
                   check_open_positions(net, ctx, limits.max_open_positions),
                   check_greek(CheckName.DOLLAR_DELTA, net, ctx.dollar_delta_per_contract,
                               ctx.portfolio_dollar_delta, limits.max_abs_dollar_delta),
                   check_greek(CheckName.VEGA, net, ctx.vega_per_contract, ctx.portfolio_vega, limits.max_abs_vega)]
    return ValidationResult(all(c.passed for c in checks), reducing, tuple(checks))


# -- checks -------------------------------------------------------------------------------------
def check_sanity(legs: Sequence[OrderRequest]) -> CheckResult:
    if not legs:
        return _fail(CheckName.ORDER_SANITY, "no legs")
    for leg in legs:
        if not isinstance(leg.symbol, str) or not leg.symbol.strip():
            return _fail(CheckName.ORDER_SANITY, f"{leg.client_id}: empty symbol")
        if isinstance(leg.quantity, bool) or not isinstance(leg.quantity, int) or leg.quantity == 0:
            return _fail(CheckName.ORDER_SANITY, f"{leg.client_id}: quantity {leg.quantity!r} is not a "
                         "non-zero whole number of contracts")
        if leg.kind is OrderKind.LIMIT and (leg.limit_price is None or not math.isfinite(leg.limit_price)):
            return _fail(CheckName.ORDER_SANITY, f"{leg.client_id}: limit order without a finite limit price")
    zero = [symbol for symbol, qty in net_legs(legs).items() if qty == 0]
    if zero:
        return _fail(CheckName.ORDER_SANITY, f"legs on {zero[0]} net to zero contracts")
    return _ok(CheckName.ORDER_SANITY, f"{len(legs)} leg(s)")


def check_breaker(ctx: PreTradeContext, reducing: bool, halted_allows_closes: bool) -> CheckResult:
    state = ctx.trading_state
    if permits(state, reducing, False, halted_allows_closes):
        return _ok(CheckName.CIRCUIT_BREAKER, f"state {state.value}", state.value)
    allowed = ("exposure-reducing orders only (reduce-only)" if state is TradingState.REDUCING or
               halted_allows_closes else "no new orders")
    return _fail(CheckName.CIRCUIT_BREAKER, f"state {state.value}: {allowed}", state.value,
                 TradingState.ACTIVE.value)


def check_blocked(adding: Mapping[str, int], ctx: PreTradeContext, blocked: frozenset[str]) -> CheckResult:
    for symbol in adding:
        words = symbol.split()
        underlying = ctx.underlyings.get(symbol) or (words[0] if words else symbol)
        if underlying.upper() in blocked or symbol.upper() in blocked:
            return _fail(CheckName.BLOCKED_SYMBOL, f"{underlying} is blocked", underlying)
    return _ok(CheckName.BLOCKED_SYMBOL, "no blocked underlying")


def check_loss(name: CheckName, reference: float, value: float, limit: float, what: str) -> CheckResult:
    """Fall of ``value`` below ``reference`` as a fraction; fails once ``limit`` is reached."""
    if not reference > 0:
        return _fail(name, f"no usable {what} ({reference!r})", None, limit)
    loss = (reference - value) / reference
    if not math.isfinite(loss):
        return _fail(name, f"portfolio value {value!r} unusable", None, limit)
    if limit_reached(loss, limit):
        return _fail(name, f"{name.value} {loss:.4%} reached {limit:.4%}", loss, limit)
    return _ok(name, f"{name.value} {loss:.4%} below {limit:.4%}", loss, limit)


def check_rate(ctx: PreTradeContext, limit: int) -> CheckResult:
    now = ctx.now
    in_window = sum(1 for t in ctx.recent_order_times if t <= now and now - t < RATE_WINDOW)
    return _cap(CheckName.ORDER_RATE, in_window + 1, limit, "orders in 60 s")


def contract_value(symbol: str, ctx: PreTradeContext) -> float | None:
    price, multiplier = ctx.prices.get(symbol), ctx.multipliers.get(symbol)
    if price is None or multiplier is None or not (0 < price < math.inf and 0 < multiplier < math.inf):
        return None  # NaN fails the comparisons too
    return price * multiplier


def check_order_value(adding: Mapping[str, int], ctx: PreTradeContext, limit: float) -> CheckResult:
    total = 0.0
    for symbol, qty in adding.items():
        unit = contract_value(symbol, ctx)
        if unit is None:
            return _fail(CheckName.ORDER_VALUE, f"no price/multiplier for {symbol}")
        total += abs(qty) * unit
    return _cap(CheckName.ORDER_VALUE, total, limit, "order value")


def check_position_size(adding: Mapping[str, int], ctx: PreTradeContext, limit: float) -> CheckResult:
    if not (math.isfinite(ctx.portfolio_value) and ctx.portfolio_value > 0):
        return _fail(CheckName.POSITION_SIZE, f"portfolio value {ctx.portfolio_value!r} not positive", None, limit)
    worst, worst_symbol = 0.0, ""
    for symbol, qty in adding.items():
        unit = contract_value(symbol, ctx)
        if unit is None:
            return _fail(CheckName.POSITION_SIZE, f"no price/multiplier for {symbol}", None, limit)
        pct = abs(ctx.position(symbol) + qty) * unit / ctx.portfolio_value
        if pct >= worst:
            worst, worst_symbol = pct, symbol
    return _cap(CheckName.POSITION_SIZE, worst, limit, f"position {worst_symbol} share of portfolio")


def open_positions_change(net: Mapping[str, int], ctx: PreTradeContext) -> int:
    """Contracts the order opens (+) or closes (-). A contract is open while it is held or has any
    working order (the ledger's rule: working orders may fill in any order, or not at all); the
    order itself is counted as filled."""
    change = 0
    for symbol, qty in net.items():
        held = ctx.positions.get(symbol, 0)
        working = symbol in ctx.working_symbols or ctx.pending.get(symbol, 0) != 0
        change += int(working or held + qty != 0) - int(working or held != 0)
    return change


def check_open_positions(net: Mapping[str, int], ctx: PreTradeContext, limit: int) -> CheckResult:
    return _cap(CheckName.OPEN_POSITIONS, ctx.open_positions + open_positions_change(net, ctx), limit,
                "open positions", ctx.open_positions)


def check_greek(name: CheckName, net: Mapping[str, int], per_contract: Mapping[str, float],
                current: float, limit: float) -> CheckResult:
    projected = current
    for symbol, qty in net.items():
        unit = per_contract.get(symbol)
        if unit is None or not math.isfinite(unit):
            return _fail(name, f"no {name.value} estimate for {symbol}", None, limit)
        projected += qty * unit
    return _cap(name, projected, limit, f"portfolio {name.value}", current)


# -- the context as JSON (the algorithm publishes it in the state snapshot; services/gateway_context.py reads it)
def context_to_dict(ctx: PreTradeContext) -> dict[str, Any]:
    """JSON-ready; a non-finite figure is left out of a map (missing fails its check closed, as NaN
    does) and written as None in a scalar (read back as NaN)."""
    def figures(values: Mapping[str, float]) -> dict[str, float]:
        return {k: float(v) for k, v in values.items() if math.isfinite(v)}

    def scalar(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    return {"now": ctx.now.isoformat(), "portfolio_value": scalar(ctx.portfolio_value),
            "positions": dict(ctx.positions), "pending": dict(ctx.pending),
            "working_symbols": sorted(ctx.working_symbols), "prices": figures(ctx.prices),
            "multipliers": figures(ctx.multipliers), "open_positions": ctx.open_positions,
            "orders_today": ctx.orders_today, "recent_order_times": [t.isoformat() for t in ctx.recent_order_times],
            "portfolio_dollar_delta": scalar(ctx.portfolio_dollar_delta), "portfolio_vega": scalar(ctx.portfolio_vega),
            "dollar_delta_per_contract": figures(ctx.dollar_delta_per_contract),
            "vega_per_contract": figures(ctx.vega_per_contract),
            "session_start_equity": scalar(ctx.session_start_equity),
            "equity_high_watermark": scalar(ctx.equity_high_watermark),
            "trading_state": ctx.trading_state.value, "underlyings": dict(ctx.underlyings)}
