"""The pre-trade gateway's checks: one order, or the legs of a roll as one unit, against RiskLimits.

Pure: the caller builds a ``PreTradeContext`` per order; ``validate`` returns every check's outcome.

An order *reduces exposure* iff, for every symbol it trades (legs on one symbol netted), the
position after it is smaller and not of the other sign: ``|pos + qty| < |pos|``, no flip, with
pos = held + working (``pending``). A roll (close one contract, open another) or a flip adds.

- ``order_sanity`` and ``circuit_breaker`` (``execution.risk.circuit_breaker.permits``) apply to every
  order. All other checks apply to exposure-adding orders only and are reported "exempt" for a
  reducing one: a stop-loss or close is never blocked by a size, value, count, Greek, blocked
  symbol, loss or order-flow limit. (So closing one leg of an offsetting pair can leave the *net*
  Greeks beyond their limit; being unable to exit is judged the larger risk.)
- Caps are inclusive (``value == limit`` passes); open positions and Greeks also pass when the
  order does not make the figure worse (a hedge while over the delta limit); daily loss and
  drawdown fail once the limit is reached, like the breaker. Missing market data (price,
  multiplier, Greek estimate) for a leg fails the check that needs it: the gateway fails closed.
- Cancels always pass (``validate_cancel``).

A rejection is logged RISK_LIMIT_EXCEEDED (WARNING, one record per failed check, the seed's
fields) and audited once as RISK_CHECK_FAILED with every failed check in the metadata.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from execution.risk.circuit_breaker import TradingState, permits
from models.audit import AuditAction
from models.exceptions import OrderValidationError
from models.orders import OrderKind, OrderRequest
from models.risk_limits import RiskLimits, limit_reached, within_limit
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

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


class OrderCounter:
    """Orders sent per exchange session and over the last ``RATE_WINDOW`` (algorithm time).
    ``record`` every order sent; ``start_session`` at each session (with the breaker's)."""

    def __init__(self) -> None:
        self.session_date: date | None = None
        self.orders_today = 0
        self._recent: deque[datetime] = deque()

    def start_session(self, session_date: date) -> None:
        if session_date != self.session_date:
            self.session_date, self.orders_today = session_date, 0

    def record(self, now: datetime) -> None:
        self.orders_today += 1
        self._recent.append(now)

    def recent(self, now: datetime) -> tuple[datetime, ...]:
        while self._recent and now - self._recent[0] >= RATE_WINDOW:
            self._recent.popleft()
        return tuple(self._recent)

    def to_dict(self) -> dict[str, Any]:
        return {"session_date": None if self.session_date is None else self.session_date.isoformat(),
                "orders_today": self.orders_today, "recent": [t.isoformat() for t in self._recent]}

    def restore(self, saved: Mapping[str, Any]) -> None:
        """After a restart: the day's count and the rate window as they were (raises ValueError,
        TypeError or KeyError on a malformed value and changes nothing then)."""
        raw_date = saved["session_date"]
        session_date = None if raw_date is None else date.fromisoformat(raw_date)
        count = saved["orders_today"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"orders_today must be a whole number >= 0, got {count!r}")
        recent = [datetime.fromisoformat(t) for t in saved.get("recent") or []]
        self.session_date, self.orders_today = session_date, count
        self._recent = deque(sorted(recent))


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


_EXPOSURE_CHECKS = tuple(n for n in CheckName if n not in (CheckName.ORDER_SANITY, CheckName.CIRCUIT_BREAKER))


def _jsonable(value: Value) -> Value:
    """NaN/inf cannot go into a JSON Lines audit record."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


class PreTradeValidator:
    def __init__(self, limits: RiskLimits, audit: AuditLogger) -> None:
        self.limits = limits
        self._audit = audit

    def validate(self, orders: OrderRequest | Sequence[OrderRequest], ctx: PreTradeContext, *,
                 actor: str = "system", actor_type: str = "system") -> ValidationResult:
        """Check one order or several legs as one unit; log and audit a rejection."""
        legs = (orders,) if isinstance(orders, OrderRequest) else tuple(orders)
        sanity = self._sanity(legs)
        if not sanity.passed:
            return self._finish(legs, ctx, ValidationResult(False, False, (sanity,)), actor, actor_type)
        net = net_legs(legs)
        reducing = reduces_exposure(net, ctx)
        checks = [sanity, self._breaker(ctx, reducing)]
        if reducing:
            checks += [_ok(name, "exempt: order reduces exposure") for name in _EXPOSURE_CHECKS]
        else:
            adding = {s: q for s, q in net.items() if not leg_reduces(ctx.position(s), q)}
            checks += [self._blocked(adding, ctx),
                       self._loss(CheckName.DAILY_LOSS, ctx.session_start_equity, ctx.portfolio_value,
                                  self.limits.max_daily_loss_pct, "session start equity"),
                       self._loss(CheckName.DRAWDOWN, ctx.equity_high_watermark, ctx.portfolio_value,
                                  self.limits.max_drawdown_pct, "equity high watermark"),
                       _cap(CheckName.DAILY_ORDERS, ctx.orders_today + 1, self.limits.max_daily_orders,
                            "orders this session"),
                       self._rate(ctx), self._order_value(adding, ctx), self._position_size(adding, ctx),
                       self._open_positions(net, ctx),
                       self._greek(CheckName.DOLLAR_DELTA, net, ctx.dollar_delta_per_contract,
                                   ctx.portfolio_dollar_delta, self.limits.max_abs_dollar_delta),
                       self._greek(CheckName.VEGA, net, ctx.vega_per_contract, ctx.portfolio_vega,
                                   self.limits.max_abs_vega)]
        result = ValidationResult(all(c.passed for c in checks), reducing, tuple(checks))
        return self._finish(legs, ctx, result, actor, actor_type)

    def validate_cancel(self, client_id: str, ctx: PreTradeContext) -> ValidationResult:
        """Cancels always pass, whatever the state."""
        return ValidationResult(True, True, (
            _ok(CheckName.CIRCUIT_BREAKER, f"cancel of {client_id} passes in state {ctx.trading_state.value}"),))

    # -- checks ---------------------------------------------------------------------------------
    @staticmethod
    def _sanity(legs: Sequence[OrderRequest]) -> CheckResult:
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

    def _breaker(self, ctx: PreTradeContext, reducing: bool) -> CheckResult:
        state = ctx.trading_state
        if permits(state, reducing, False, self.limits.halted_allows_closes):
            return _ok(CheckName.CIRCUIT_BREAKER, f"state {state.value}", state.value)
        allowed = ("exposure-reducing orders only" if state is TradingState.REDUCING or
                   self.limits.halted_allows_closes else "no new orders")
        return _fail(CheckName.CIRCUIT_BREAKER, f"state {state.value}: {allowed}", state.value,
                     TradingState.ACTIVE.value)

    def _blocked(self, adding: Mapping[str, int], ctx: PreTradeContext) -> CheckResult:
        blocked = self.limits.blocked_symbols
        for symbol in adding:
            words = symbol.split()
            underlying = ctx.underlyings.get(symbol) or (words[0] if words else symbol)
            if underlying.upper() in blocked or symbol.upper() in blocked:
                return _fail(CheckName.BLOCKED_SYMBOL, f"{underlying} is blocked", underlying)
        return _ok(CheckName.BLOCKED_SYMBOL, "no blocked underlying")

    @staticmethod
    def _loss(name: CheckName, reference: float, value: float, limit: float, what: str) -> CheckResult:
        """Fall of ``value`` below ``reference`` as a fraction; fails once ``limit`` is reached."""
        if not reference > 0:
            return _fail(name, f"no usable {what} ({reference!r})", None, limit)
        loss = (reference - value) / reference
        if not math.isfinite(loss):
            return _fail(name, f"portfolio value {value!r} unusable", None, limit)
        if limit_reached(loss, limit):
            return _fail(name, f"{name.value} {loss:.4%} reached {limit:.4%}", loss, limit)
        return _ok(name, f"{name.value} {loss:.4%} below {limit:.4%}", loss, limit)

    def _rate(self, ctx: PreTradeContext) -> CheckResult:
        now = ctx.now
        in_window = sum(1 for t in ctx.recent_order_times if t <= now and now - t < RATE_WINDOW)
        return _cap(CheckName.ORDER_RATE, in_window + 1, self.limits.max_orders_per_minute, "orders in 60 s")

    @staticmethod
    def _contract_value(symbol: str, ctx: PreTradeContext) -> float | None:
        price, multiplier = ctx.prices.get(symbol), ctx.multipliers.get(symbol)
        if price is None or multiplier is None or not (0 < price < math.inf and 0 < multiplier < math.inf):
            return None  # NaN fails the comparisons too
        return price * multiplier

    def _order_value(self, adding: Mapping[str, int], ctx: PreTradeContext) -> CheckResult:
        total = 0.0
        for symbol, qty in adding.items():
            unit = self._contract_value(symbol, ctx)
            if unit is None:
                return _fail(CheckName.ORDER_VALUE, f"no price/multiplier for {symbol}")
            total += abs(qty) * unit
        return _cap(CheckName.ORDER_VALUE, total, self.limits.max_single_order_value, "order value")

    def _position_size(self, adding: Mapping[str, int], ctx: PreTradeContext) -> CheckResult:
        limit = self.limits.max_position_size_pct
        if not (math.isfinite(ctx.portfolio_value) and ctx.portfolio_value > 0):
            return _fail(CheckName.POSITION_SIZE, f"portfolio value {ctx.portfolio_value!r} not positive", None, limit)
        worst, worst_symbol = 0.0, ""
        for symbol, qty in adding.items():
            unit = self._contract_value(symbol, ctx)
            if unit is None:
                return _fail(CheckName.POSITION_SIZE, f"no price/multiplier for {symbol}", None, limit)
            pct = abs(ctx.position(symbol) + qty) * unit / ctx.portfolio_value
            if pct >= worst:
                worst, worst_symbol = pct, symbol
        return _cap(CheckName.POSITION_SIZE, worst, limit, f"position {worst_symbol} share of portfolio")

    def _open_positions(self, net: Mapping[str, int], ctx: PreTradeContext) -> CheckResult:
        # a contract is open while it is held or has any working order (the ledger's rule: working
        # orders may fill in any order, or not at all); the order checked here is counted as filled
        change = 0
        for symbol, qty in net.items():
            held = ctx.positions.get(symbol, 0)
            working = symbol in ctx.working_symbols or ctx.pending.get(symbol, 0) != 0
            change += int(working or held + qty != 0) - int(working or held != 0)
        return _cap(CheckName.OPEN_POSITIONS, ctx.open_positions + change, self.limits.max_open_positions,
                    "open positions", ctx.open_positions)

    @staticmethod
    def _greek(name: CheckName, net: Mapping[str, int], per_contract: Mapping[str, float],
               current: float, limit: float) -> CheckResult:
        projected = current
        for symbol, qty in net.items():
            unit = per_contract.get(symbol)
            if unit is None or not math.isfinite(unit):
                return _fail(name, f"no {name.value} estimate for {symbol}", None, limit)
            projected += qty * unit
        return _cap(name, projected, limit, f"portfolio {name.value}", current)

    # -- rejection: log + audit -----------------------------------------------------------------
    def _finish(self, legs: Sequence[OrderRequest], ctx: PreTradeContext, result: ValidationResult,
                actor: str, actor_type: str) -> ValidationResult:
        ids = "+".join(leg.client_id for leg in legs) or "<no legs>"
        if result.approved:
            logger.debug("RISK_CHECK_PASSED", extra={"order_id": ids, "reduces_exposure": result.reduces_exposure})
            return result
        position_id = next((leg.position_id for leg in legs if leg.position_id), "")
        for check in result.failed:
            logger.warning("RISK_LIMIT_EXCEEDED", extra={
                "limit_type": check.name, "current_value": _jsonable(check.current_value),
                "limit_value": _jsonable(check.limit_value), "action_taken": "order_rejected",
                "position_id": position_id, "order_id": ids, "reason": check.reason})
        self._audit.log(
            AuditAction.RISK_CHECK_FAILED, f"Order {ids} rejected by the pre-trade gateway",
            resource_type="order", resource_id=ids, actor=actor, actor_type=actor_type,
            reason=result.reason, metadata={
                "legs": [{"client_id": leg.client_id, "symbol": leg.symbol, "quantity": leg.quantity,
                          "purpose": str(leg.purpose), "position_id": leg.position_id} for leg in legs],
                "reduces_exposure": result.reduces_exposure, "trading_state": ctx.trading_state.value,
                "failed_checks": [{k: _jsonable(v) for k, v in asdict(check).items()} for check in result.failed]})
        return result
