"""Which contract a position rolls into (issue 4), as one pure search over the option chain.

``find_roll_target(position, chain_quotes, spot, today, config, current_quote, risk_free_rate=...)``
returns a ``RollTarget`` (the new contract, the combo legs and its net price) or a
``NoRollTarget`` (why not, with a count of the contracts each criterion rejected, for the
ROLL_NO_TARGET audit entry). It logs ROLL_NO_TARGET at DEBUG; it never orders or audits.

Criteria, applied as a funnel in this order (each contract is counted once, under the first
criterion it fails, so the counts of ``NoRollTarget.rejected`` add up to the chain's size):

1. ``right``: same right.  2. ``not_later``: expiry after the current one.
3. ``dte_window``: ``roll_target_min_dte`` <= DTE <= ``roll_target_max_dte``.
4. ``underlying``: the OSI root of the symbol (``symbol[:-15]`` of LEAN's ``symbol.value``, padded
   to 6 or not) is the position's underlying.
5. ``quote``: a two-sided quote (bid > 0, ask >= bid, finite).
6. ``open_interest``: >= ``roll_min_open_interest``.  7. ``spread``: (ask - bid) / mid <=
   ``roll_max_spread_pct``.
8. ``strike_limit`` (short positions only): a put's new strike <= the cap of
   ``roll_put_strike_cap`` (premium: old strike + premium received per share; profit: old strike +
   max(0, premium received - current mid), and the old strike when the put is in the money; off);
   a call's new strike >= old strike when ``roll_call_strike_floor``.
9. ``credit`` (short positions with ``roll_credit_only``): buying the current contract back at
   its ask and selling the new one at its bid must leave a net credit > 0 per share.
9b. ``economics`` (short positions, issue 19): the net credit per share at the price the combo will
   actually work at must be >= ``RollConfig.min_net_credit(premium received)``: the strictest of
   ``roll_min_credit``, ``roll_min_credit_pct`` x premium, -``roll_max_debit`` and
   -``roll_max_debit_pct`` x premium (a negative floor is the largest debit allowed). The price it
   works at is the far side of both legs when ``roll_market_fallback`` may send it at market, else
   the limit (``working_limit``: the net mid to the cent, 0.01 when that is 0; what the roll
   manager sends). A chain that
   fails only here gives a ``NoRollTarget`` whose ``economics`` carries the numbers (floor, basis,
   the best credit on offer) for the ROLL_NO_TARGET audit entry.
10. ``delta``: a usable delta: the quote's when LEAN has one (non-zero, |delta| <= 1), else our
    Black-Scholes delta at the volatility the mid implies (solved for all such candidates in one
    vectorised call); none (no solvable volatility, no spot) rejects the contract.

Speed: criteria 1-9 run in one Python pass with cheap comparisons (a verdict per expiry is cached);
numpy only solves the Black-Scholes deltas, vectorised over the few survivors that lack one.
About 0.1 ms over a 400-contract chain with LEAN's Greeks (bench/bench_roll.py).

Choice among the survivors, deterministic, by ``roll_target_choice``:
``closest_delta`` (default): the smallest | |delta| - ``roll_target_delta`` | (rounded to 1e-9, so
float noise does not break a tie), then the nearest expiry (least extra time at risk), then the
strike further out of the money (lower for puts, higher for calls), then the symbol.
``soonest_expiry`` (thetagang's ``find_eligible_contracts``): among those with |delta| <= target,
the soonest expiry, then the highest |delta|; fallback when none is at or below the target: the
soonest expiry, then the lowest |delta| above it (thetagang's fallback, which it takes only when
a minimum price is set; here it is always taken, since the economics criterion already bounds the
price). Ties then go to the strike further out of the money, then the symbol.

The combo (LEAN convention, see ``execution.smart_execution``): legs
``Leg.create(position.symbol, close_ratio)`` and ``Leg.create(target.symbol, open_ratio)``, sent
with ``quantity`` = |contracts held| > 0. A short position has ratios (+1, -1): buy back, sell new;
a long one (-1, +1). ``net_bid``/``net_ask`` are ``combo_net_quote`` of those legs: the price of
one unit, positive = a debit, negative = a credit; the limit starts at ``net_mid``.

Against thetagang (``trading_operations.OptionChainScanner.find_eligible_contracts``,
``options_engine.roll_positions``): thetagang keeps |delta| <= target and takes the soonest expiry
at or past its target DTE, highest delta first; here the delta closest to the target wins inside a
DTE window (the issue's rule), with the window's far end bounding how far out a roll goes.
thetagang's credit-only compares mids; here the credit must hold at the far side of both legs, so
the combo still collects a credit if it is repriced to market (``roll_market_fallback``).
thetagang's put cap (``profit``) is available; the issue's (``premium``) is the default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from execution.smart_execution import combo_net_quote
from models.bot_config import Right
from models.market_data import ContractQuote
from models.option_greeks import DAYS_PER_YEAR, bs_greeks, implied_volatility_vectorised
from models.roll_config import PutStrikeCap, RollConfig, TargetChoice
from utils.logging_config import get_logger

if TYPE_CHECKING:
    from execution.bot_managed_positions import BotManagedPosition

logger = get_logger(__name__)

EPS = 1e-9
OSI_TAIL = 15  # yyMMdd + C/P + 8 strike digits after the (padded) root


class TargetRule(StrEnum):
    """The criteria, in funnel order; also the keys of ``NoRollTarget.rejected``."""

    RIGHT = "right"
    NOT_LATER = "not_later"
    DTE_WINDOW = "dte_window"
    UNDERLYING = "underlying"
    QUOTE = "quote"
    OPEN_INTEREST = "open_interest"
    SPREAD = "spread"
    STRIKE_LIMIT = "strike_limit"
    CREDIT = "credit"
    ECONOMICS = "economics"
    DELTA = "delta"


@dataclass(frozen=True)
class RollTarget:
    """The contract to roll into and the combo that does it (prices per share, one unit)."""

    quote: ContractQuote  # the new contract
    close_symbol: str  # the contract held now
    close_ratio: int  # Leg.create(close_symbol, close_ratio): +1 short (buy back), -1 long (sell)
    open_ratio: int  # Leg.create(quote.symbol, open_ratio): -1 short (sell), +1 long (buy)
    quantity: int  # combo quantity (> 0): contracts held
    net_bid: float  # combo_net_quote of the legs: positive = debit, negative = credit
    net_ask: float
    multiplier: float
    delta: float  # the new contract's delta (signed, per share)
    delta_source: str  # "market" (LEAN's Greeks) or "calculated" (our Black-Scholes from the mid)
    dte: int
    qualified: int  # contracts that passed every criterion
    reason: str

    @property
    def symbol(self) -> str:
        return self.quote.symbol

    @property
    def net_mid(self) -> float:
        """The first limit price for ``combo_limit_order(legs, quantity, net_mid)``."""
        return (self.net_bid + self.net_ask) / 2.0

    @property
    def limit_price(self) -> float:
        """The net limit the roll manager sends first (``working_limit`` of the net mid)."""
        return working_limit(self.net_mid)

    @property
    def is_credit(self) -> bool:
        """The roll collects money at mid."""
        return self.net_mid < 0

    @property
    def expected_net_credit(self) -> float:
        """USD collected (+) or paid (-) for the whole roll at mid."""
        return -self.net_mid * self.quantity * self.multiplier

    @property
    def worst_net_credit(self) -> float:
        """USD collected (+) or paid (-) at the far side of both legs (a combo market order)."""
        return -self.net_ask * self.quantity * self.multiplier

    def to_dict(self) -> dict[str, object]:
        return {"close_symbol": self.close_symbol, "open_symbol": self.symbol, "close_ratio": self.close_ratio,
                "open_ratio": self.open_ratio, "quantity": self.quantity, "net_bid": self.net_bid,
                "net_ask": self.net_ask, "net_mid": self.net_mid, "limit_price": self.limit_price,
                "expected_net_credit": self.expected_net_credit, "worst_net_credit": self.worst_net_credit,
                "strike": self.quote.strike, "expiry": self.quote.expiry.isoformat(), "dte": self.dte,
                "delta": self.delta, "delta_source": self.delta_source, "reason": self.reason}


def working_limit(net_mid: float) -> float:
    """The combo's first limit: the net mid to the cent; one that rounds to 0 goes out as a debit of
    one cent, because LEAN's ``combo_limit_order`` throws on a limit of exactly 0 (DESIGN §3)."""
    limit = round(net_mid, 2)
    return limit if limit != 0 else 0.01


@dataclass(frozen=True)
class NoRollTarget:
    """No acceptable contract: why, and how many contracts each criterion rejected."""

    reason: str
    considered: int
    rejected: dict[str, int] = field(default_factory=dict)  # TargetRule value -> contracts, funnel order
    economics: dict[str, object] = field(default_factory=dict)  # the numbers when roll economics refused

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"reason": self.reason, "considered": self.considered,
                                  "rejected": dict(self.rejected)}
        if self.economics:
            out["economics"] = dict(self.economics)
        return out


@dataclass(frozen=True)
class RollEconomics:
    """The floor a short roll's net credit per share must reach, and the price basis it is read at."""

    floor: float  # least net credit per share (negative: the largest debit); -inf: no bound
    far_side: bool  # True: at the far side of both legs (a market fallback may send it); False: the limit
    premium: float  # premium received per share (the base of the _pct knobs)
    held_bid: float
    held_ask: float

    @property
    def basis(self) -> str:
        return "far side of both legs" if self.far_side else "limit at the net mid"

    def credit(self, bid: float, ask: float) -> float:
        """Net credit per share of buying the held contract back and selling one quoted bid/ask."""
        if self.far_side:
            return bid - self.held_ask
        return -working_limit((self.held_bid + self.held_ask) / 2.0 - (bid + ask) / 2.0)


def roll_economics(position: BotManagedPosition, config: RollConfig, current: ContractQuote) -> RollEconomics | None:
    """The economics a short position's roll must meet; None for long positions or when every knob is off."""
    if position.quantity >= 0:
        return None
    floor = config.min_net_credit(position.entry_price)
    if floor == -math.inf:
        return None
    return RollEconomics(floor, config.market_fallback, position.entry_price, current.bid, current.ask)


_NOT_LATER, _OUTSIDE_WINDOW = -1, -2
_RULES: tuple[str, ...] = tuple(rule.value for rule in TargetRule)
_ECONOMICS, _DELTA = _RULES.index(TargetRule.ECONOMICS), _RULES.index(TargetRule.DELTA)


def choose(usable: list[int], kept: list[ContractQuote], deltas: list[float], dtes: list[int], config: RollConfig,
           right: Right) -> int:
    """The index (into ``kept``) of the target among ``usable`` by ``roll_target_choice`` (module docstring)."""
    target, otm = config.target_delta, 1.0 if right == Right.PUT else -1.0
    if config.target_choice == TargetChoice.CLOSEST_DELTA:
        return min(usable, key=lambda j: (round(abs(abs(deltas[j]) - target), 9), dtes[j], otm * kept[j].strike,
                                          kept[j].symbol))
    below = [j for j in usable if abs(deltas[j]) <= target + EPS]
    if below:
        return min(below, key=lambda j: (dtes[j], -round(abs(deltas[j]), 9), otm * kept[j].strike, kept[j].symbol))
    return min(usable, key=lambda j: (dtes[j], round(abs(deltas[j]), 9), otm * kept[j].strike, kept[j].symbol))


def _expiry_verdict(expiry: date, held_expiry: date, today: date, config: RollConfig) -> int:
    if expiry <= held_expiry:
        return _NOT_LATER
    dte = (expiry - today).days
    return dte if config.target_min_dte <= dte <= config.target_max_dte else _OUTSIDE_WINDOW


def strike_bounds(position: BotManagedPosition, config: RollConfig, current_mid: float,
                  spot: float) -> tuple[float, float]:
    """(lowest, highest) new strike allowed; the limits bind short positions only."""
    if position.quantity >= 0:
        return -math.inf, math.inf
    if position.right == Right.CALL:
        return (position.strike if config.call_strike_floor else -math.inf), math.inf
    if config.put_strike_cap == PutStrikeCap.PREMIUM:
        return -math.inf, position.strike + position.entry_price
    if config.put_strike_cap == PutStrikeCap.PROFIT:
        itm = spot < position.strike or (config.atm_is_itm and spot == position.strike)
        if not spot > 0 or itm:  # in the money (or spot unknown): never roll up
            return -math.inf, position.strike
        return -math.inf, position.strike + max(0.0, position.entry_price - current_mid)
    return -math.inf, math.inf


def _no_target(position: BotManagedPosition, reason: str, considered: int,
               rejected: dict[str, int], economics: dict[str, object] | None = None) -> NoRollTarget:
    result = NoRollTarget(reason, considered, rejected, economics or {})
    logger.debug("ROLL_NO_TARGET", extra={"position_id": position.id, "symbol": position.symbol,
                                          "reason": reason, "considered": considered, "rejected": rejected})
    return result


def _scan(position: BotManagedPosition, chain_quotes: Sequence[ContractQuote], today: date, config: RollConfig,
          bounds: tuple[float, float], min_credit_bid: float | None,
          economics: RollEconomics | None) -> tuple[list[ContractQuote], list[int], list[int], float]:
    """Criteria 1-9b in one pass: the surviving quotes, their DTEs, the rejections per criterion
    (in ``TargetRule`` order, the delta criterion left at 0) and the best net credit among those the
    economics refused (-inf: none). Per-expiry verdicts are cached."""
    right, held_expiry = position.right, position.expiry
    roots = {position.underlying, f"{position.underlying:<6}"}  # OSI root field, padded or compact
    verdict: dict[date, int] = {}  # expiry -> DTE, or _NOT_LATER / _OUTSIDE_WINDOW
    min_oi = config.min_open_interest
    max_spread = config.max_spread_pct + EPS
    low, high = bounds[0] - EPS, bounds[1] + EPS
    n = [0] * len(_RULES)
    kept: list[ContractQuote] = []
    dtes: list[int] = []
    best_refused = -math.inf
    for q in chain_quotes:
        if q.right != right:
            n[0] += 1
            continue
        dte = verdict.get(q.expiry)
        if dte is None:
            dte = verdict[q.expiry] = _expiry_verdict(q.expiry, held_expiry, today, config)
        bid, ask = q.bid, q.ask
        if dte == _NOT_LATER:
            n[1] += 1
        elif dte == _OUTSIDE_WINDOW:
            n[2] += 1
        elif q.symbol[:-OSI_TAIL] not in roots:
            n[3] += 1
        elif not (bid > 0.0 and bid <= ask < math.inf):  # NaN fails every comparison
            n[4] += 1
        elif min_oi and not q.open_interest >= min_oi:
            n[5] += 1
        elif (ask - bid) / ((ask + bid) * 0.5) > max_spread:
            n[6] += 1
        elif not low <= q.strike <= high:
            n[7] += 1
        elif min_credit_bid is not None and bid <= min_credit_bid:
            n[8] += 1
        elif economics is not None and (credit := economics.credit(bid, ask)) < economics.floor - EPS:
            n[9] += 1
            best_refused = max(best_refused, credit)
        else:
            kept.append(q)
            dtes.append(dte)
    return kept, dtes, n, best_refused


def _deltas(quotes: list[ContractQuote], dtes: list[int], is_call: bool, spot: float,
            rate: float) -> tuple[list[float], list[bool]]:
    """Each quote's delta: LEAN's when usable (finite, non-zero, |delta| <= 1), else Black-Scholes at
    the volatility its mid implies, solved for all of them in one vectorised call (NaN: none)."""
    deltas = [q.delta for q in quotes]
    market = [math.isfinite(d) and d != 0.0 and abs(d) <= 1.0 for d in deltas]
    need = [j for j, ok in enumerate(market) if not ok]
    if need:
        mids = np.array([quotes[j].mid for j in need], dtype=np.float64)
        strikes = np.array([quotes[j].strike for j in need], dtype=np.float64)
        years = np.array([dtes[j] for j in need], dtype=np.float64) / DAYS_PER_YEAR
        iv = implied_volatility_vectorised(is_call, mids, spot, strikes, years, rate)
        solved = np.isfinite(iv)
        calc = bs_greeks(is_call, spot, strikes, years, rate, np.where(solved, iv, 0.2)).delta
        for k, j in enumerate(need):
            deltas[j] = float(calc[k]) if solved[k] else math.nan
    return deltas, market


def find_roll_target(position: BotManagedPosition, chain_quotes: Sequence[ContractQuote], spot: float,
                     today: date, config: RollConfig, current_quote: ContractQuote, *,
                     risk_free_rate: float) -> RollTarget | NoRollTarget:
    """The contract ``position`` should roll into, or why there is none (criteria: module docstring).

    ``current_quote`` is the quote of the contract held now (it prices the leg that closes it; a bid
    of 0 is fine); ``spot`` the underlying price; ``risk_free_rate`` feeds our Black-Scholes.
    """
    total = len(chain_quotes)
    if position.quantity == 0:
        return _no_target(position, "the position holds no contracts", total, {})
    cur_bid, cur_ask = current_quote.bid, current_quote.ask
    if not (0.0 <= cur_bid <= cur_ask < math.inf and cur_ask > 0.0):
        return _no_target(position, f"the held contract has no usable quote (bid {cur_bid}, ask {cur_ask})",
                          total, {})
    short = position.quantity < 0
    bounds = strike_bounds(position, config, current_quote.mid, spot)
    # credit-only: sell the new contract at its bid for more than the held one's ask
    min_credit_bid = cur_ask + EPS if short and config.credit_only else None
    economics = roll_economics(position, config, current_quote)
    kept, dtes, n, best_refused = _scan(position, chain_quotes, today, config, bounds, min_credit_bid, economics)
    deltas, market = _deltas(kept, dtes, position.right == Right.CALL, spot, risk_free_rate)
    usable = [j for j, d in enumerate(deltas) if d == d]  # not NaN
    n[_DELTA] = len(kept) - len(usable)
    if not usable:
        rejected = {rule: count for rule, count in zip(_RULES, n, strict=True) if count}
        detail = ", ".join(f"{rule} {count}" for rule, count in rejected.items()) or "the chain is empty"
        numbers: dict[str, object] = {}
        if economics is not None and n[_ECONOMICS]:
            numbers = {"min_net_credit": round(economics.floor, 4), "best_net_credit": round(best_refused, 4),
                       "basis": economics.basis, "premium_received": economics.premium}
            detail += (f" (best net credit {best_refused:+.2f}/share at the {economics.basis} < floor "
                       f"{economics.floor:+.2f}/share, premium received {economics.premium:.2f})")
        return _no_target(position, f"no contract qualified among {total}: {detail}", total, rejected, numbers)

    best = choose(usable, kept, deltas, dtes, config, position.right)
    chosen = kept[best]
    close_ratio, open_ratio = (1, -1) if short else (-1, 1)
    net_bid, net_ask = combo_net_quote(((close_ratio, cur_bid, cur_ask), (open_ratio, chosen.bid, chosen.ask)))
    source = "market" if market[best] else "calculated"
    net_mid = (net_bid + net_ask) / 2.0
    target = config.target_delta
    reason = (f"{chosen.symbol}: |delta| {abs(deltas[best]):.3f} ({source}) for target {target:.2f} "
              f"({config.target_choice.value}), "
              f"DTE {dtes[best]}, strike {chosen.strike:g}; net {'credit' if net_mid < 0 else 'debit'} "
              f"{abs(net_mid):.2f} per share at mid; {len(usable)} of {total} contracts qualified")
    return RollTarget(quote=chosen, close_symbol=position.symbol, close_ratio=close_ratio, open_ratio=open_ratio,
                      quantity=abs(position.quantity), net_bid=net_bid, net_ask=net_ask,
                      multiplier=position.multiplier, delta=deltas[best], delta_source=source,
                      dte=dtes[best], qualified=len(usable), reason=reason)
