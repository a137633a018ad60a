"""Builds the PreTradeContext the gateway checks an order against, from the exposure ledger.

Positions and working orders come from the one exposure ledger (execution/ledger.py): held
contracts plus every order and roll leg that could still fill, so the limits count what could
fill, not only what has filled. Per-contract Greek estimates come from the last quote seen
(LEAN's Greeks) or, when LEAN has none yet, from our Black-Scholes on the mid; a contract with
neither gets no estimate and the gateway fails the Greek checks closed for an exposure-adding order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from execution.ledger import ExposureLedger
from execution.positions.position_manager import PortfolioGreeks
from execution.risk.circuit_breaker import CircuitBreaker, TradingState
from execution.risk.pre_trade_validator import OrderCounter
from models.bot_config import Right
from models.market_data import ContractQuote
from models.option_greeks import greeks_from_mids
from models.orders import OrderRequest
from models.pre_trade_rules import PreTradeContext


@dataclass(frozen=True)
class RiskInputs:
    """The narrow things the gateway's context reads (no bot object)."""

    ledger: ExposureLedger
    quotes: Mapping[str, ContractQuote]  # the last quote seen per contract (a live dict)
    spot: Callable[[], float | None]
    equity: Callable[[], float]
    trading_state: Callable[[], TradingState]  # the effective state (execution/session/session_state.py)
    portfolio_greeks: Callable[[], PortfolioGreeks]  # of what is held
    multiplier: Callable[[str], float]
    breaker: CircuitBreaker
    counter: OrderCounter
    risk_free_rate: float
    ticker: str


def _unit_greeks(quote: ContractQuote, spot: float, today_ordinal: int, rate: float) -> tuple[float, float] | None:
    """(delta, vega per 1 %) of one contract: LEAN's when it has them, else ours from the mid."""
    if quote.has_market_greeks and quote.vega:
        return quote.delta, quote.vega
    if not quote.has_two_sided_quote or spot <= 0:
        return (quote.delta, quote.vega) if quote.delta and quote.vega else None
    years = max(quote.expiry.toordinal() - today_ordinal, 0) / 365.0
    (greeks,) = greeks_from_mids([quote.right == Right.CALL], [quote.mid], spot, [quote.strike], [years], rate)
    return None if greeks is None else (greeks.delta, greeks.vega)


def build_pre_trade_context(inputs: RiskInputs, now: datetime, orders: Sequence[OrderRequest], *,
                            every_contract: bool = False) -> PreTradeContext:
    """The context for ``orders``. ``every_contract``: also estimate the Greeks of held contracts the
    orders do not trade (the snapshot's copy, which the sidecar's dry run reads for any order)."""
    quotes, ledger = inputs.quotes, inputs.ledger
    spot = inputs.spot() or 0.0
    positions = ledger.held()
    pending = ledger.pending()
    symbols = set(positions) | {o.symbol for o in orders} | set(pending)
    prices: dict[str, float] = {}
    multipliers: dict[str, float] = {}
    dollar_delta: dict[str, float] = {}
    vega: dict[str, float] = {}
    for symbol in symbols:
        multiplier = inputs.multiplier(symbol)
        multipliers[symbol] = multiplier
        quote = quotes.get(symbol)
        if quote is None:
            continue
        if quote.has_two_sided_quote:
            prices[symbol] = quote.mid
        if (not every_contract and symbol in positions and symbol not in pending
                and not any(o.symbol == symbol for o in orders)):
            continue  # held and not traded: its Greeks are already in the portfolio totals
        unit = _unit_greeks(quote, spot, now.toordinal(), inputs.risk_free_rate)
        if unit is not None:
            dollar_delta[symbol] = unit[0] * multiplier * spot
            vega[symbol] = unit[1] * multiplier
    for order in orders:  # the mid at decision time, when the chain quote is gone
        if order.symbol not in prices and order.expected_price:
            prices[order.symbol] = order.expected_price
    held = inputs.portfolio_greeks()
    held_delta, held_vega = held.dollar_delta, held.vega
    # working orders count as filled: three resting orders must not each fit the limit alone
    pending_delta = sum(qty * dollar_delta.get(symbol, 0.0) for symbol, qty in pending.items())
    pending_vega = sum(qty * vega.get(symbol, 0.0) for symbol, qty in pending.items())
    breaker, counter = inputs.breaker, inputs.counter
    equity = inputs.equity()
    return PreTradeContext(
        now=now, portfolio_value=equity, positions=positions, prices=prices, multipliers=multipliers,
        open_positions=len(ledger.open_contracts()), orders_today=counter.orders_today,
        recent_order_times=counter.recent(now),
        portfolio_dollar_delta=held_delta + pending_delta, portfolio_vega=held_vega + pending_vega,
        dollar_delta_per_contract=dollar_delta, vega_per_contract=vega,
        session_start_equity=breaker.session_start_equity if breaker.session_start_equity is not None else equity,
        equity_high_watermark=breaker.high_watermark if breaker.high_watermark is not None else equity,
        trading_state=inputs.trading_state(), underlyings=dict.fromkeys(symbols, inputs.ticker),
        pending=pending, working_symbols=frozenset(ledger.working_symbols()))
