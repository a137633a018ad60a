"""The pre-trade gateway's own rules, dry-run in the sidecar on the exposure the algorithm last published.

With every state snapshot the algorithm writes its gateway context (``risk.gateway_context``: held
and working contracts from the exposure ledger, the day's order count and rate window, the loss
baselines, the portfolio Greeks with working orders counted as filled, the effective trading state,
prices and Greek estimates per contract). ``dry_run`` adds the order's contract to that context and
calls ``models.pre_trade_rules.evaluate`` with the snapshot's limits: the very function the gateway
calls, so an agent's ``check_order``, a proposal's pre-check and the REST queue's pre-check give the
gateway's answer as of the snapshot. It stays advisory: the gateway checks again on live data.

The order's contract is found among the snapshot's contracts (held, working, or in the published
chain slice) by underlying, right, strike and expiry; a contract the snapshot does not know is keyed
like LEAN's option symbol. Its price and Greeks come from the gateway context, else from the chain
slice (its mid and Greeks). What the snapshot cannot supply is estimated and said so in
``notes``: the price from the limit price, the Greeks from our Black-Scholes on that price (as the
gateway does from the mid when LEAN has no Greeks), the multiplier from the underlying's other
contracts (else 100). A market order on a contract the snapshot does not price cannot be valued:
the checks that need a price are then reported in ``unchecked`` (a warning), not as violations, and
so are the Greek checks when no volatility reproduces the price (e.g. a limit below intrinsic).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from models.option_greeks import greeks_from_mid
from models.orders import OrderKind, OrderPurpose, OrderRequest
from models.pre_trade_rules import (
    CheckName,
    PreTradeContext,
    ValidationResult,
    contract_value,
    evaluate,
    net_legs,
    open_positions_change,
)
from models.risk_limits import RiskLimits
from models.trading_state import STATE_NAMES, TradingState
from services.gateway_context import context_from_dict
from utils.object_store_schema import StateSnapshot
from utils.order_inbox import OrderSpec

DEFAULT_MULTIPLIER = 100.0
DEFAULT_RISK_FREE_RATE = 0.01  # BotConfig's default risk_free_rate
CONTEXT_KEY = "gateway_context"
_OSI = re.compile(r"^([A-Z][A-Z0-9.]{0,5})\s*(\d{6})([CP])(\d{8})$")
_NEEDS_PRICE = frozenset({CheckName.ORDER_VALUE.value, CheckName.POSITION_SIZE.value,
                          CheckName.DOLLAR_DELTA.value, CheckName.VEGA.value})

Contract = tuple[str, str, float, date]  # underlying, right (call|put), strike, expiry


@dataclass(frozen=True)
class DryRun:
    result: ValidationResult
    symbol: str  # the contract's key in the gateway's maps
    quantity: int  # signed contracts
    notes: list[str] = field(default_factory=list)  # estimates the snapshot could not supply
    unchecked: list[str] = field(default_factory=list)  # checks without the market data they need
    price: float | None = None  # per contract: the snapshot's mid, else the limit price, else the mark
    multiplier: float = DEFAULT_MULTIPLIER
    after: dict[str, float | None] = field(default_factory=dict)  # the exposure if it filled (preview)
    # why a person, not an agent's budget, should decide: the verdict rests on guesses (an unreadable
    # context or limits, the agent's own price, limits left unchecked)
    doubts: list[str] = field(default_factory=list)
    headroom: dict[str, float | None] = field(default_factory=dict)  # limit minus |after| per limit

    @property
    def violations(self) -> list[str]:
        return [f"{c.name}: {c.reason}" for c in self.result.failed if c.name not in self.unchecked]

    def check(self, name: CheckName) -> Any:
        """The figure a check measured after the order (None when it did not measure one)."""
        return next((c.current_value for c in self.result.checks if c.name == name.value), None)


def osi_symbol(contract: Contract) -> str:
    """LEAN's option symbol string (``str(Symbol)``): ``GOOG  151218P00750000``."""
    underlying, right, strike, expiry = contract
    return f"{underlying:<6}{expiry:%y%m%d}{'C' if right == 'call' else 'P'}{round(strike * 1000):08d}"


def parse_osi(symbol: str) -> Contract | None:
    found = _OSI.match(symbol.strip())
    if found is None:
        return None
    ticker, day, letter, strike = found.groups()
    try:
        expiry = date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]))
    except ValueError:
        return None
    return ticker, "call" if letter == "C" else "put", int(strike) / 1000.0, expiry


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _known_contracts(snapshot: StateSnapshot, ctx: PreTradeContext, notes: list[str]) -> Iterable[tuple[str, Contract]]:
    for p in snapshot.positions:
        expiry = _iso_date(p.expiry)
        if expiry is None:
            notes.append(f"position {p.id} has an unreadable expiry {p.expiry!r}: not matched by its terms")
        else:
            yield p.symbol, (p.underlying, p.right, p.strike, expiry)
    for row in snapshot.option_chain.contracts if snapshot.option_chain else ():
        expiry = _iso_date(row.expiry)
        if expiry is not None:
            yield row.symbol, (snapshot.ticker, row.right, row.strike, expiry)
    for symbols in (ctx.positions, ctx.pending, ctx.prices, ctx.working_symbols):
        for symbol in symbols:
            parsed = parse_osi(symbol)
            if parsed is not None:
                yield symbol, parsed


def _same(a: Contract, b: Contract) -> bool:
    return a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) < 1e-9 and a[3] == b[3]


def _rate(snapshot: StateSnapshot) -> float:
    try:
        rate = float(snapshot.parameters.get("risk_free_rate", DEFAULT_RISK_FREE_RATE))
    except ValueError:
        return DEFAULT_RISK_FREE_RATE
    return rate if math.isfinite(rate) else DEFAULT_RISK_FREE_RATE


def _estimate(symbol: str, contract: Contract, order: OrderSpec, snapshot: StateSnapshot,
              ctx: PreTradeContext, notes: list[str], doubts: list[str]) -> PreTradeContext:
    """The context with the order's contract priced and its Greeks estimated where it lacked them."""
    prices, multipliers = dict(ctx.prices), dict(ctx.multipliers)
    deltas, vegas = dict(ctx.dollar_delta_per_contract), dict(ctx.vega_per_contract)
    held = next((p for p in snapshot.positions if p.symbol == symbol), None)
    chain = snapshot.option_chain.contracts if snapshot.option_chain else []
    row = next((c for c in chain if c.symbol == symbol), None)
    if symbol not in multipliers:
        same_underlying = [p.multiplier for p in snapshot.positions if p.underlying == contract[0]]
        multipliers[symbol] = same_underlying[0] if same_underlying else DEFAULT_MULTIPLIER
        notes.append(f"multiplier {multipliers[symbol]:g} assumed for {symbol}")
    spot = snapshot.underlying_price
    if symbol in ctx.positions or symbol in ctx.pending:
        return replace(ctx, multipliers=multipliers)  # held or working: the gateway's own figures, as they are
    if symbol not in prices and row is not None and row.mark:
        prices[symbol] = row.mark  # the chain slice's mid, as the gateway prices from the mid
    if row is not None and row.delta is not None and row.vega is not None and spot and spot > 0:
        deltas.setdefault(symbol, row.delta * multipliers[symbol] * spot)
        vegas.setdefault(symbol, row.vega * multipliers[symbol])
    if symbol not in prices:
        price = order.limit_price if order.limit_price is not None else (held.mark_price if held else None)
        if price is not None and math.isfinite(price) and price > 0:
            prices[symbol] = price
            notes.append(f"price {price:g} of {symbol} from the {'limit' if order.limit_price else 'mark'}")
            if order.limit_price is not None:
                doubts.append(f"{symbol} is priced at the order's own limit {price:g} (not in the snapshot)")
    price = prices.get(symbol)
    if (symbol not in deltas or symbol not in vegas) and price is not None and spot and spot > 0:
        years = max(contract[3].toordinal() - ctx.now.toordinal(), 0) / 365.0
        greeks = greeks_from_mid(contract[1] == "call", price, spot, contract[2], years, _rate(snapshot))
        if greeks is not None:
            deltas.setdefault(symbol, greeks.delta * multipliers[symbol] * spot)
            vegas.setdefault(symbol, greeks.vega * multipliers[symbol])
            notes.append(f"Greeks of {symbol} from Black-Scholes on {price:g} (the gateway uses LEAN's or the mid)")
    underlyings = {**ctx.underlyings, symbol: contract[0]}
    return replace(ctx, prices=prices, multipliers=multipliers, dollar_delta_per_contract=deltas,
                   vega_per_contract=vegas, underlyings=underlyings)


def _figure(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else default


def rebuilt_context(snapshot: StateSnapshot, state: str) -> PreTradeContext:
    """For a snapshot without a published context (an algorithm older than this sidecar, or a torn
    one): the context rebuilt from its positions and risk fields, so the same rules still apply."""
    risk, equity = snapshot.risk, snapshot.equity.total_portfolio_value
    open_positions = [p for p in snapshot.positions if p.status != "closed"]
    exposure = risk.get("exposure") if isinstance(risk.get("exposure"), dict) else {}
    pending_raw = exposure.get("pending") if isinstance(exposure.get("pending"), dict) else {}
    pending = {k: v for k, v in pending_raw.items() if isinstance(v, int) and not isinstance(v, bool)}
    breaker = risk.get("circuit_breaker") if isinstance(risk.get("circuit_breaker"), dict) else {}
    greeks, orders_today = snapshot.portfolio_greeks, risk.get("orders_today")
    return PreTradeContext(
        now=snapshot.algorithm_time, portfolio_value=equity,
        positions={p.symbol: p.quantity for p in open_positions},
        prices={p.symbol: p.mark_price for p in open_positions if p.mark_price},
        multipliers={p.symbol: p.multiplier for p in open_positions},
        open_positions=len({p.symbol for p in open_positions} | set(pending)),
        orders_today=orders_today if isinstance(orders_today, int) and orders_today >= 0 else 0,
        recent_order_times=(), portfolio_dollar_delta=_figure(greeks.get("dollar_delta"), 0.0),
        portfolio_vega=_figure(greeks.get("vega"), 0.0),
        dollar_delta_per_contract={p.symbol: p.dollar_delta / p.quantity for p in open_positions
                                   if p.dollar_delta is not None and p.quantity},
        vega_per_contract={p.symbol: p.vega * p.multiplier for p in open_positions if p.vega is not None},
        session_start_equity=_figure(breaker.get("session_start_equity"), equity),
        equity_high_watermark=_figure(breaker.get("high_watermark"), equity),
        trading_state=STATE_NAMES.get(state, TradingState.ACTIVE),
        underlyings={p.symbol: p.underlying for p in open_positions},
        pending=pending, working_symbols=frozenset(pending))


def snapshot_context(snapshot: StateSnapshot, state: str, doubts: list[str]) -> PreTradeContext:
    """The gateway context the algorithm published in the snapshot, else one rebuilt from it (noted)."""
    raw = snapshot.risk.get(CONTEXT_KEY)
    if raw is not None:
        try:
            return context_from_dict(raw)
        except (ValueError, TypeError, OverflowError) as exc:
            doubts.append(f"the snapshot's gateway context is unreadable ({exc}): rebuilt from its positions")
    else:
        doubts.append("the snapshot has no gateway context (an older algorithm): rebuilt from its positions")
    if state not in STATE_NAMES:
        doubts.append(f"trading state {state!r} unknown: checked as active")
    try:
        return rebuilt_context(snapshot, state)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"the snapshot cannot be checked: {exc}") from exc


def snapshot_limits(snapshot: StateSnapshot, doubts: list[str]) -> RiskLimits:
    """The limits in force: the snapshot's ``risk.limits``, else its ``risk_*`` parameters, else defaults."""
    raw = snapshot.risk.get("limits")
    try:
        if isinstance(raw, Mapping):
            return RiskLimits.from_dict(raw)
        return RiskLimits.from_parameters(snapshot.parameters.get, environ={})
    except (ValueError, TypeError, OverflowError) as exc:
        doubts.append(f"the snapshot's risk limits are unreadable ({exc}): the defaults were used")
        return RiskLimits()


def dry_run(order: OrderSpec, snapshot: StateSnapshot, state: str, legs: Sequence[OrderSpec] = ()) -> DryRun:
    """The gateway's verdict on ``order`` as of ``snapshot`` (``state``: the effective trading state
    the snapshot reports, services/risk_precheck.py ``trading_state``). With ``legs`` (a roll's other
    leg) all are checked as ONE unit, as the gateway checks a combo order's legs."""
    notes: list[str] = []
    doubts: list[str] = []
    ctx = snapshot_context(snapshot, state, doubts)
    limits = snapshot_limits(snapshot, doubts)
    requests: list[OrderRequest] = []
    for spec in (order, *legs):
        wanted: Contract = (spec.underlying, spec.right, spec.strike, spec.expiry)
        known = _known_contracts(snapshot, ctx, notes)
        symbol = next((s for s, c in known if _same(c, wanted)), None) or osi_symbol(wanted)
        ctx = _estimate(symbol, wanted, spec, snapshot, ctx, notes, doubts)
        requests.append(OrderRequest(f"dry-run-{len(requests)}", symbol,
                                     spec.quantity if spec.side == "buy" else -spec.quantity, OrderPurpose.EXTERNAL,
                                     OrderKind.LIMIT if spec.order_type == "limit" else OrderKind.MARKET,
                                     spec.limit_price))
    result = evaluate(requests, ctx, limits)
    net = net_legs(requests)
    unchecked: list[str] = []
    # what the snapshot could not price or estimate is left to the gateway's live quote, except for a
    # contract the gateway holds or works: its own figures stand, and without them it fails closed
    guessed = [symbol for symbol in net if symbol not in ctx.positions and symbol not in ctx.pending]
    if not result.reduces_exposure:
        unpriced = [symbol for symbol in guessed if symbol not in ctx.prices]
        if unpriced:
            unchecked = sorted(_NEEDS_PRICE)
            notes.append(f"no price for {', '.join(unpriced)} in the snapshot (market order): value, size and "
                         "Greek limits are left to the gateway's live quote")
        else:
            unchecked = [name.value for name, known in ((CheckName.DOLLAR_DELTA, ctx.dollar_delta_per_contract),
                                                        (CheckName.VEGA, ctx.vega_per_contract))
                         if any(symbol not in known for symbol in guessed)]
            if unchecked:
                notes.append("no Greek estimate for a contract (no volatility reproduces its price): "
                             f"{' and '.join(unchecked)} limits are left to the gateway's live quote")
    symbol, quantity = requests[0].symbol, requests[0].quantity
    after = _after(symbol, net, ctx)
    headroom = {name: None if after[key] is None else round(limit - abs(after[key] or 0.0), 2)
                for name, key, limit in (("max_single_order_value", "order_value", limits.max_single_order_value),
                                         ("max_open_positions", "open_positions", float(limits.max_open_positions)),
                                         ("max_abs_dollar_delta", "dollar_delta", limits.max_abs_dollar_delta),
                                         ("max_abs_vega", "vega", limits.max_abs_vega))}
    if unchecked:
        doubts.append(f"limits not checked on the snapshot: {', '.join(unchecked)}")
    return DryRun(result, symbol, quantity, notes=doubts + notes, unchecked=unchecked, price=ctx.prices.get(symbol),
                  multiplier=ctx.multipliers.get(symbol, DEFAULT_MULTIPLIER), after=after, headroom=headroom,
                  doubts=doubts)


def _after(symbol: str, net: Mapping[str, int], ctx: PreTradeContext) -> dict[str, float | None]:
    """The first leg's position, and the open contracts, order value and portfolio Greeks if every leg
    filled (working orders counted as filled, as the gateway counts them); None where the snapshot
    gives no figure."""
    units = [contract_value(s, ctx) for s in net]
    deltas = [ctx.dollar_delta_per_contract.get(s) for s in net]
    vegas = [ctx.vega_per_contract.get(s) for s in net]
    return {"position": float(ctx.position(symbol) + net[symbol]),
            "open_positions": float(ctx.open_positions + open_positions_change(net, ctx)),
            "order_value": None if None in units else round(sum(abs(q) * (u or 0.0) for q, u in zip(
                net.values(), units, strict=True)), 2),
            "dollar_delta": None if None in deltas else round(ctx.portfolio_dollar_delta + sum(
                q * (d or 0.0) for q, d in zip(net.values(), deltas, strict=True)), 2),
            "vega": None if None in vegas else round(ctx.portfolio_vega + sum(
                q * (v or 0.0) for q, v in zip(net.values(), vegas, strict=True)), 2)}
