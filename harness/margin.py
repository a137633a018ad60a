"""The harness's approximation of LEAN's option margin (buying power).

LEAN's option buying power model charges a short option about Reg-T's rule, and its position
groups (``OptionStrategyPositionGroupBuyingPowerModel``) charge a recognised strategy (spread,
butterfly, condor ...) no more than what it can lose. The harness keeps that shape without
LEAN's strategy matcher:

- a short option alone: 20 % of the underlying less the out-of-the-money amount, at least 10 %
  (times multiplier and contracts); a long option: none (its premium is paid in cash);
- the options of one underlying and expiry together: the smaller of the sum above and the worst
  loss of their combined payoff at expiry (0 for a long butterfly, the strike width for a vertical
  credit spread), when that loss is bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from harness.lean_enums import OptionRight, SecurityType
from harness.lean_symbols import Symbol


def naked_margin(symbol: Symbol, quantity: float, spot: float, multiplier: float) -> float:
    if symbol.security_type != SecurityType.OPTION or quantity >= 0:
        return 0.0
    strike = symbol.id.strike_price
    otm = spot - strike if symbol.id.option_right == OptionRight.PUT else strike - spot
    per_share = max(0.2 * spot - max(otm, 0.0), 0.1 * spot)
    return per_share * multiplier * abs(quantity)


def _worst_payoff(legs: list[tuple[Symbol, float, float]]) -> float | None:
    """The lowest value at expiry of the legs (symbol, quantity, multiplier); None when the loss
    grows without bound as the underlying rises (more calls sold than bought)."""
    if sum(q * m for s, q, m in legs if s.id.option_right == OptionRight.CALL) < 0:
        return None
    strikes = {0.0} | {s.id.strike_price for s, _, _ in legs}

    def value(price: float) -> float:
        total = 0.0
        for symbol, quantity, multiplier in legs:
            strike = symbol.id.strike_price
            intrinsic = price - strike if symbol.id.option_right == OptionRight.CALL else strike - price
            total += quantity * multiplier * max(intrinsic, 0.0)
        return total

    return min(value(k) for k in strikes)


def portfolio_margin(positions: dict[Symbol, float], spot: float, multiplier: Callable[[Symbol], float]) -> float:
    """The margin the option ``positions`` (symbol -> signed quantity) need, grouped by expiry."""
    groups: dict[tuple[Symbol | None, datetime], list[tuple[Symbol, float, float]]] = {}
    for symbol, quantity in positions.items():
        if symbol.security_type == SecurityType.OPTION and quantity != 0:
            groups.setdefault((symbol.underlying, symbol.id.date), []).append((symbol, quantity, multiplier(symbol)))
    total = 0.0
    for legs in groups.values():
        naked = sum(naked_margin(s, q, spot, m) for s, q, m in legs)
        if naked == 0:
            continue
        worst = _worst_payoff(legs) if len(legs) > 1 else None
        total += naked if worst is None else min(naked, max(-worst, 0.0))
    return total
