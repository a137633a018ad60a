"""The position manager: owns the bot-managed positions and decides when to close them.

Per slice, for each open position (held contracts only, never the whole chain):

1. ``refresh`` marks it at mid and refreshes its Greeks — LEAN's (``greeks_source="market"``) when
   the chain has them, otherwise our Black-Scholes from the mid (``"calculated"``).
2. ``decide_exits`` returns the closing orders to place, in priority order:
   stop-loss (close everything not already being closed) > expiry guard (same) > the
   profit-taking ladder (one level at a time, only while no close is working, sized by
   ``calculate_close_quantity``; each level fires once; a level that rounds to 0 contracts is
   skipped, logged PROFIT_TAKE_SKIPPED and audited).

The manager never closes more than is held: a new close is sized from the quantity held minus
what working closes already cover. Fills reach it through ``apply_fill``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date, datetime

from execution.bot_managed_positions import (
    BotManagedPosition,
    FillRejected,
    GreeksSource,
    PositionBook,
    calculate_close_quantity,
)
from models.audit import AuditAction
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote
from models.option_greeks import greeks_from_mids
from models.orders import OrderPurpose
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True)
class ExitIntent:
    """A closing order the manager wants: ``quantity`` is the signed order quantity."""

    position_id: str
    symbol: str
    quantity: int
    purpose: OrderPurpose
    reason: str
    expected_price: float | None
    correlation_id: str | None
    ladder_level: int | None = None


@dataclass(frozen=True)
class PortfolioGreeks:
    """Sums over open positions: delta in shares and USD, gamma, vega (USD per 1 % of vol), theta
    (USD per calendar day)."""

    net_delta: float = 0.0
    dollar_delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    daily_theta: float = 0.0
    positions: int = 0
    calculated: int = 0  # positions whose Greeks came from our model, not LEAN


class PositionManager:
    def __init__(self, config: BotConfig, audit: AuditLogger) -> None:
        self.config = config
        self.audit = audit
        self.book = PositionBook()

    # -- market ----------------------------------------------------------------------------
    def refresh(self, now: datetime, spot: float | None, quotes: Mapping[str, ContractQuote]) -> None:
        """Mark and re-Greek every open position that has a usable quote this slice."""
        to_calculate: list[tuple[BotManagedPosition, ContractQuote]] = []
        for position in self.book.open_positions():
            quote = quotes.get(position.symbol)
            if quote is None or not quote.has_two_sided_quote:
                continue
            position.mark_price = quote.mid
            if quote.has_market_greeks:
                position.set_greeks(quote.delta, quote.gamma, quote.theta, quote.vega, quote.rho, quote.iv,
                                    spot or position.underlying_price, GreeksSource.MARKET, now)
            elif spot is not None and spot > 0:
                to_calculate.append((position, quote))
        if to_calculate and spot is not None:
            self._calculate_greeks(to_calculate, spot, now)

    def _calculate_greeks(self, items: list[tuple[BotManagedPosition, ContractQuote]], spot: float,
                          now: datetime) -> None:
        """Our Black-Scholes for the contracts LEAN has no Greeks for: one vectorised solve."""
        today = now.date()
        results = greeks_from_mids([p.right == Right.CALL for p, _ in items], [q.mid for _, q in items],
                                   spot, [p.strike for p, _ in items],
                                   [max((p.expiry - today).days, 0) / 365.0 for p, _ in items],
                                   self.config.risk_free_rate)
        for (position, quote), greeks in zip(items, results, strict=True):
            if greeks is None:
                logger.debug("GREEKS_UNAVAILABLE", extra={"position_id": position.id, "mid": quote.mid})
                continue
            position.set_greeks(greeks.delta, greeks.gamma, greeks.theta, greeks.vega, greeks.rho, greeks.iv,
                                spot, GreeksSource.CALCULATED, now)

    def portfolio_greeks(self) -> PortfolioGreeks:
        open_positions = [p for p in self.book.open_positions() if p.greeks_source is not None]
        return PortfolioGreeks(
            net_delta=sum(p.share_delta for p in open_positions),
            dollar_delta=sum(p.dollar_delta for p in open_positions),
            gamma=sum(p.position_gamma for p in open_positions),
            vega=sum(p.position_vega for p in open_positions),
            daily_theta=sum(p.daily_theta_decay for p in open_positions),
            positions=len(open_positions),
            calculated=sum(p.greeks_source == GreeksSource.CALCULATED for p in open_positions))

    # -- decisions -------------------------------------------------------------------------
    def decide_exits(self, now: datetime, closing: Mapping[str, int],
                     waiting_for_roll: Set[str] = frozenset()) -> list[ExitIntent]:
        """Closing orders to place now. ``closing[position_id]`` = contracts that working close
        orders already cover (absolute). Positions in ``waiting_for_roll`` (manage_order
        rolls_first, execution/rolls/step_order.py) get only the stop-loss until their roll attempt."""
        intents = []
        today = now.date()
        for position in self.book.open_positions():
            intent = self._decide(position, today, closing.get(position.id, 0), position.id in waiting_for_roll)
            if intent is not None:
                intents.append(intent)
        return intents

    def _decide(self, position: BotManagedPosition, today: date, covered: int,
                waiting_for_roll: bool = False) -> ExitIntent | None:
        held = abs(position.quantity)
        available = held - covered
        if available <= 0:
            return None
        pnl = position.pnl_pct
        stop = self.config.stop_loss_pct
        if pnl is not None and stop > 0 and -pnl >= stop:
            return self._close(position, available, OrderPurpose.STOP_LOSS,
                               f"loss {-pnl:.1%} of premium reached stop {stop:.0%}")
        if waiting_for_roll:
            return None  # the roll is tried first; the ladder and the expiry guard act after it
        dte = (position.expiry - today).days
        if dte <= self.config.exit_dte:
            return self._close(position, available, OrderPurpose.EXPIRY_GUARD,
                               f"{dte} days to expiry <= exit_dte {self.config.exit_dte}")
        if covered or pnl is None:
            return None  # one ladder step at a time
        return self._ladder(position, pnl)

    def _ladder(self, position: BotManagedPosition, pnl: float) -> ExitIntent | None:
        for level, (gain, take) in enumerate(self.config.profit_ladder):
            if level in position.ladder_levels_done or pnl < gain:
                continue
            position.ladder_levels_done.add(level)
            held = abs(position.quantity)
            count = calculate_close_quantity(held, take, self.config.min_close_contracts)
            if count == 0:
                self._skip(position, level, gain, take, pnl)
                continue
            return self._close(position, count, OrderPurpose.PROFIT_TAKE,
                               f"gain {pnl:.1%} reached level {level + 1} (+{gain:.0%}): take {take:.0%}",
                               level)
        return None

    def _skip(self, position: BotManagedPosition, level: int, gain: float, take: float, pnl: float) -> None:
        fields = {"position_id": position.id, "symbol": position.symbol, "level": level + 1,
                  "gain_threshold": gain, "take_pct": take, "pnl_pct": round(pnl, 4),
                  "quantity": position.quantity, "min_close": self.config.min_close_contracts}
        logger.info("PROFIT_TAKE_SKIPPED", extra=fields)
        self.audit.log(AuditAction.PROFIT_TAKE_SKIPPED,
                       f"Level {level + 1} would close 0 of {abs(position.quantity)} contracts: skipped",
                       resource_type="position", resource_id=position.id,
                       reason="close quantity below min_close", correlation_id=position.correlation_id,
                       before_state={"quantity": position.quantity},
                       after_state={"quantity": position.quantity}, metadata=fields)

    def _close(self, position: BotManagedPosition, count: int, purpose: OrderPurpose, reason: str,
               level: int | None = None) -> ExitIntent:
        quantity = count if position.quantity < 0 else -count
        event = {OrderPurpose.STOP_LOSS: "STOP_LOSS_TRIGGERED", OrderPurpose.EXPIRY_GUARD: "EXPIRY_GUARD_CLOSE",
                 OrderPurpose.PROFIT_TAKE: "PROFIT_TAKE_TRIGGERED"}[purpose]
        action = {OrderPurpose.STOP_LOSS: AuditAction.STOP_LOSS, OrderPurpose.EXPIRY_GUARD: AuditAction.EXPIRY_CLOSE,
                  OrderPurpose.PROFIT_TAKE: AuditAction.PROFIT_TAKE}[purpose]
        fields = {"position_id": position.id, "symbol": position.symbol, "quantity": position.quantity,
                  "close_quantity": quantity, "mark_price": position.mark_price,
                  "entry_price": position.entry_price, "reason": reason}
        logger.info(event, extra=fields)
        self.audit.log(action, f"{event}: close {count} of {abs(position.quantity)} {position.symbol}",
                       resource_type="position", resource_id=position.id, reason=reason,
                       correlation_id=position.correlation_id,
                       before_state={"quantity": position.quantity},
                       after_state={"quantity_after_fill": position.quantity + quantity},
                       metadata={"ladder_level": None if level is None else level + 1})
        return ExitIntent(position.id, position.symbol, quantity, purpose, reason, position.mark_price,
                          position.correlation_id, level)

    def retry_later(self, intent: ExitIntent) -> None:
        """The gateway refused ``intent``: a ladder level that did not go out may fire again."""
        position = self.book.positions.get(intent.position_id)
        if position is not None and intent.ladder_level is not None:
            position.ladder_levels_done.discard(intent.ladder_level)

    # -- fills -----------------------------------------------------------------------------
    def open_position(self, contract: ContractQuote, multiplier: float, when: datetime,
                      correlation_id: str | None) -> BotManagedPosition:
        position = BotManagedPosition(
            id=self.book.new_id(), symbol=contract.symbol, underlying=self.config.ticker,
            right=contract.right, strike=contract.strike, expiry=contract.expiry,
            multiplier=multiplier, opened_at=when, correlation_id=correlation_id)
        self.book.add(position)
        return position

    def apply_fill(self, position: BotManagedPosition, quantity: int, price: float, fee: float,
                   when: datetime) -> float:
        """Book a fill; raises ``FillRejected`` (position unchanged) for one that cannot apply."""
        if not math.isfinite(price):
            raise FillRejected(f"fill price {price} is not a number")
        realized = position.apply_fill(quantity, price, fee, when)
        if position.quantity == 0:
            self.book.mark_closed(position)
        return realized
