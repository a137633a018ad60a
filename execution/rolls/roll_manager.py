"""Rolls (issue 4): close the held contract and open a later one as ONE LEAN combo order.

Flow, with the seed's event names; ``roll_id`` is the correlation id of every order, fill and
audit entry of the roll:

ROLL_INITIATED -> target (execution/rolls/roll_target.py; none: ROLL_NO_TARGET, then close or hold per
``close_if_unable_to_roll``) -> both legs validated by the gateway as one unit
(ROLL_VALIDATION_FAILED when refused) -> ``combo_limit_order`` at the net mid -> each leg's
fills move contracts from the old position to a new one (the old one's P&L realised; the new one
carries a roll history) -> ROLL_COMPLETED when every leg is filled.

A roll is a small state machine: pending -> partially_filled -> completed | failed. After
``leg_timeout`` a roll with nothing filled is cancelled and, with ``market_fallback``, sent again as
a combo market order once LEAN confirms the cancels. A roll with one leg (partly) filled and the
other not is repaired: the rest of the old contract is closed, the open leg is not chased (no
unplanned exposure), ROLL_FAILED is logged and audited, and the circuit breaker is told
(roll_leg_failed: reduce-only). ``RollExecutionError`` never escapes to LEAN.

Rules are checked every ``ROLL_CHECK_MINUTES`` (not every minute: they depend on days and P&L),
and one attempt per position per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from execution.bot_managed_positions import BotManagedPosition, FillRejected, PositionStatus
from execution.ledger import WorkingLeg
from execution.positions.fill_booking import FillOrigin, crosses_zero
from execution.rolls.requested_roll import RequestedRollResult, RollRequest, refusal, requested_target
from execution.rolls.roll_rules import RollDecision, resolve_no_target, should_roll
from execution.rolls.roll_target import NoRollTarget, RollTarget, find_roll_target
from execution.rolls.step_order import due_for_roll
from models.audit import AuditAction
from models.exceptions import RollExecutionError
from models.market_data import ContractQuote
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate
from models.roll_config import RollConfig
from utils.logging_config import get_logger

if TYPE_CHECKING:
    from execution.ports import RollHost

logger = get_logger(__name__)

ROLL_CHECK_MINUTES = 5


class RollPhase(StrEnum):
    PENDING = "pending"
    PARTIALLY_FILLED = "partially_filled"
    TO_MARKET = "to_market"  # limit combo cancelled; the market combo goes out on the cancels
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass
class Roll:
    roll_id: str
    position_id: str
    target: RollTarget
    started_at: datetime
    order_ids: list[int] = field(default_factory=list)
    close_filled: int = 0  # signed contracts filled on the leg that closes the old contract
    open_filled: int = 0
    phase: RollPhase = RollPhase.PENDING
    new_position_id: str | None = None
    cancels_pending: set[int] = field(default_factory=set)
    last_fill: OrderUpdate | None = None
    failing: str | None = None  # timed out: the reason, until LEAN confirms the cancels
    sending: bool = False  # its combo is being validated: not yet working for the ledger
    expected: dict[str, float] = field(default_factory=dict)  # each leg's mid at roll time: the slippage reference
    refusal: str | None = None  # why its combo never went out (gateway or LEAN)

    @property
    def close_goal(self) -> int:
        return self.target.close_ratio * self.target.quantity

    @property
    def open_goal(self) -> int:
        return self.target.open_ratio * self.target.quantity

    @property
    def active(self) -> bool:
        return self.phase not in (RollPhase.COMPLETED, RollPhase.FAILED)


class RollManager:
    def __init__(self, config: RollConfig, bot: RollHost) -> None:
        self.config = config
        self.bot = bot
        self.rolls: dict[str, Roll] = {}
        self._due: dict[str, RollDecision] = {}
        self._attempted: dict[str, date] = {}
        self._next_check: datetime | None = None
        self._next_id = 1
        for note in config.notes:  # issue 19: a parameter read in its legacy form
            logger.warning("ROLL_PARAMETER_LEGACY_VALUE", extra={"detail": note})

    def working_legs(self) -> list[WorkingLeg]:
        """For the exposure ledger: both legs of every roll that can still fill (active, or failed
        while LEAN has not confirmed the cancels yet); a combo being validated is left out."""
        legs = []
        for roll in self.rolls.values():
            if roll.sending or not (roll.active or roll.failing is not None):
                continue
            ids = tuple(roll.order_ids)
            legs += [WorkingLeg(roll.roll_id, roll.target.close_symbol, roll.close_goal - roll.close_filled,
                                OrderPurpose.ROLL.value, roll.position_id, ids, "roll"),
                     WorkingLeg(roll.roll_id, roll.target.symbol, roll.open_goal - roll.open_filled,
                                OrderPurpose.ROLL.value, roll.new_position_id, ids, "roll")]
        return legs

    def due_not_attempted(self, now: datetime) -> set[str]:
        """Issue 19 (manage_order rolls_first): positions due to roll without today's attempt."""
        open_ = [p for p in self.bot.book.open_positions() if not self.bot.covered(p)]  # covered: no roll yet
        return due_for_roll(open_, self.bot.quotes, now.date(), self.config,
                            self.bot.underlying_price, lambda pid: self._attempted.get(pid) == now.date())

    def rolling(self, position_id: str) -> bool:
        return any(r.active and r.position_id == position_id for r in self.rolls.values())

    # -- decisions -------------------------------------------------------------------------
    def wants_chain(self, now: datetime) -> bool:
        """Every ROLL_CHECK_MINUTES: which positions are due to roll (then the chain is read)."""
        if not self.config.enabled:
            return False
        if self._next_check is not None and now < self._next_check:
            return bool(self._due)
        self._next_check = now + timedelta(minutes=ROLL_CHECK_MINUTES)
        today, bot = now.date(), self.bot
        self._due = {}
        for position in bot.book.open_positions():
            if self.rolling(position.id) or self._attempted.get(position.id) == today:
                continue
            if bot.covered(position):
                continue  # a close is working on it: roll only what nobody else is closing, later
            decision = should_roll(position, bot.quotes.get(position.symbol), today, self.config,
                                   spot=bot.underlying_price)
            if decision.should_roll or decision.should_close:
                self._due[position.id] = decision
        return bool(self._due)

    def act(self, now: datetime, candidates: list[ContractQuote]) -> None:
        due, self._due = self._due, {}
        for position_id, decision in due.items():
            position = self.bot.book.positions.get(position_id)
            if position is None or position.quantity == 0 or self.bot.covered(position):
                continue
            self._attempted[position_id] = now.date()
            try:
                self._roll(now, position, decision, candidates)
            except RollExecutionError as exc:
                logger.error("ROLL_FAILED", extra={"position_id": position_id, "error": str(exc)})

    def _roll(self, now: datetime, position: BotManagedPosition, decision: RollDecision,
              candidates: list[ContractQuote]) -> None:
        bot = self.bot
        if bot.covered(position):
            logger.info("ROLL_DEFERRED", extra={"position_id": position.id, "reason": "a close is working on it"})
            return
        roll_id = f"R{self.bot.run_id}{self._next_id:05d}"
        self._next_id += 1
        current = bot.quotes.get(position.symbol)
        if decision.should_close:
            bot.close_position(position, OrderPurpose.ROLL, decision.reason)
            return
        logger.info("ROLL_INITIATED", extra={"roll_id": roll_id, "position_id": position.id,
                                             "symbol": position.symbol, **decision.to_dict()})
        bot.audit.log(AuditAction.ROLL_START, f"Roll {roll_id} of {position.symbol}: {decision.reason}",
                      resource_type="roll", resource_id=roll_id, correlation_id=roll_id,
                      before_state={"position_id": position.id, "symbol": position.symbol,
                                    "quantity": position.quantity}, metadata=decision.to_dict())
        if current is None or not bot.underlying_price:
            raise RollExecutionError(f"{roll_id}: no quote for {position.symbol} or no underlying price")
        # never into a contract held (or worked) the other way: the legs would net, one position orphaned
        short = position.quantity < 0
        candidates = [c for c in candidates if not (bot.ledger.exposure(c.symbol) and
                                                    (bot.ledger.exposure(c.symbol) < 0) != short)]
        target = find_roll_target(position, candidates, bot.underlying_price, now.date(), self.config, current,
                                  risk_free_rate=bot.config.risk_free_rate)
        if isinstance(target, NoRollTarget):
            self._no_target(roll_id, position, decision, target)
            return
        self._start(roll_id, position, current, target, now, target.limit_price)

    def _start(self, roll_id: str, position: BotManagedPosition, current: ContractQuote, target: RollTarget,
               now: datetime, limit: float | None) -> Roll:
        roll = Roll(roll_id, position.id, target, now)
        legs = ((position.symbol, current), (target.symbol, target.quote))
        roll.expected = {symbol: quote.mid for symbol, quote in legs if quote.has_two_sided_quote}
        self.rolls[roll_id] = roll
        self.bot.quotes[target.symbol] = target.quote
        self._send(roll, now, limit)
        return roll

    def request(self, wanted: RollRequest, now: datetime) -> RequestedRollResult:
        """A roll a person or agent asked for (execution/rolls/requested_roll.py), worked as the bot's own."""
        spec, bot = wanted.spec, self.bot
        position = bot.book.positions.get(spec.position_id)
        reason = refusal(wanted, position, bot, position is not None and self.rolling(position.id))
        target = reason if reason is not None or position is None else requested_target(
            wanted, position, bot.quotes[position.symbol], now.date())
        if isinstance(target, str) or position is None:
            logger.warning("ROLL_REQUEST_REFUSED", extra={"request_id": wanted.request_id, "reason": target})
            return RequestedRollResult(False, str(target))
        logger.info("ROLL_INITIATED", extra={"roll_id": wanted.request_id, "position_id": position.id,
                                             "symbol": position.symbol, "requested_by": wanted.actor})
        bot.audit.log(AuditAction.ROLL_START, f"Roll {wanted.request_id} of {position.symbol} requested by "
                      f"{wanted.actor}", actor=wanted.actor, actor_type=wanted.actor_type, resource_type="roll",
                      resource_id=wanted.request_id, correlation_id=wanted.request_id, reason=spec.reasoning,
                      before_state={"position_id": position.id, "symbol": position.symbol,
                                    "quantity": position.quantity}, metadata={"request": spec.to_dict()})
        self._attempted[position.id] = now.date()  # the bot's own roll rules leave it alone today
        roll = self._start(wanted.request_id, position, bot.quotes[position.symbol], target, now, spec.limit_price)
        if roll.phase is RollPhase.FAILED or not roll.order_ids:
            roll.phase = RollPhase.FAILED
            return RequestedRollResult(False, roll.refusal or "LEAN refused the combo order", tuple(roll.order_ids))
        return RequestedRollResult(True, None, tuple(roll.order_ids))

    def _send(self, roll: Roll, now: datetime, limit: float | None) -> None:
        bot, target = self.bot, roll.target
        if limit is not None and round(limit, 2) == 0:
            # LEAN's combo_limit_order throws on a limit of exactly 0 (QCAlgorithm.Trading.cs):
            # an even roll is sent one cent of debit, the smallest price LEAN accepts
            logger.info("ROLL_LIMIT_NUDGED", extra={"roll_id": roll.roll_id, "net_mid": limit, "limit": 0.01})
            limit = 0.01
        legs = [OrderRequest(roll.roll_id, symbol, quantity, OrderPurpose.ROLL, position_id=roll.position_id,
                             correlation_id=roll.roll_id)
                for symbol, quantity in ((target.close_symbol, roll.close_goal - roll.close_filled),
                                         (target.symbol, roll.open_goal - roll.open_filled))]
        units = target.quantity
        roll.sending = True
        try:
            result = bot.gateway.submit_combo(legs, [(target.close_symbol, target.close_ratio),
                                                     (target.symbol, target.open_ratio)], units, limit, now)
        finally:
            roll.sending = False
        if not result.accepted:
            roll.phase, roll.refusal = RollPhase.FAILED, f"refused by the pre-trade gateway: {result.validation.reason}"
            logger.warning("ROLL_VALIDATION_FAILED", extra={"roll_id": roll.roll_id,
                                                            "reason": result.validation.reason})
            bot.audit.log(AuditAction.ROLL_FAIL, f"Roll {roll.roll_id} refused by the pre-trade gateway",
                          resource_type="roll", resource_id=roll.roll_id, correlation_id=roll.roll_id,
                          reason=result.validation.reason, metadata=target.to_dict())
            return
        roll.order_ids.extend(result.order_ids)
        logger.info("ROLL_ORDER_SENT", extra={
            "roll_id": roll.roll_id, "limit": limit if limit is not None else "market",
            "order_ids": list(result.order_ids), **target.to_dict()})

    def _no_target(self, roll_id: str, position: BotManagedPosition, decision: RollDecision,
                   target: NoRollTarget) -> None:
        outcome = resolve_no_target(decision, target, self.config)
        logger.info("ROLL_NO_TARGET", extra={"roll_id": roll_id, "position_id": position.id,
                                             "then": outcome.action.value, **target.to_dict()})
        self.bot.audit.log(AuditAction.ROLL_FAIL, f"Roll {roll_id}: no target ({target.reason})",
                           resource_type="roll", resource_id=roll_id, correlation_id=roll_id,
                           reason="ROLL_NO_TARGET", metadata={**target.to_dict(), "then": outcome.action.value})
        if outcome.should_close:
            self.bot.close_position(position, OrderPurpose.ROLL, f"no roll target: {target.reason}")

    # -- events ----------------------------------------------------------------------------
    def on_update(self, update: OrderUpdate) -> bool:
        """Handle an event of a roll's order; False when it is not one."""
        roll = self.rolls.get(update.client_id or "")
        if roll is None:
            return False
        if update.state in (OrderState.FILLED, OrderState.PARTIALLY_FILLED) and update.fill_quantity:
            self._fill(roll, update)
        elif update.state in (OrderState.CANCELED, OrderState.INVALID):
            roll.cancels_pending.discard(update.order_id)
            if roll.failing is not None and not roll.cancels_pending:
                reason, roll.failing = roll.failing, None
                self._fail(roll, update.time, reason, repaired=roll.close_filled != 0 or roll.open_filled != 0)
                return True
            if update.state == OrderState.INVALID and roll.phase == RollPhase.PENDING:
                roll.phase = RollPhase.FAILED
                self._fail(roll, update.time, f"LEAN rejected the combo: {update.message}", repaired=False)
            elif roll.phase == RollPhase.TO_MARKET and not roll.cancels_pending:
                roll.phase = RollPhase.PENDING  # before sending: a market combo can fill inside the call
                self._send(roll, update.time, None)
        return True

    def _fill(self, roll: Roll, update: OrderUpdate) -> None:
        bot, target = self.bot, roll.target
        old = bot.book.positions[roll.position_id]
        closing = update.symbol == target.close_symbol
        position = old if closing else self._new_position(roll, old, update.time)
        if position.status is PositionStatus.CLOSED or crosses_zero(position.quantity, update.fill_quantity):
            # a late leg fill (LEAN books it): its position was closed meanwhile (by a repair) or it
            # goes through zero; booked like any fill, the rest as a position of its own
            bot.book_fill(update, FillOrigin(roll.roll_id, OrderPurpose.ROLL.value, roll.roll_id))
        else:
            try:
                bot.manager.apply_fill(position, update.fill_quantity, update.fill_price, update.fee, update.time)
            except FillRejected as exc:
                bot.unmatched(update, f"roll {roll.roll_id}: {exc}")
                return
            bot.record_fill(update, roll.roll_id)
        if closing:
            roll.last_fill = update
            roll.close_filled += update.fill_quantity  # counted only once booked
        else:
            roll.open_filled += update.fill_quantity
        expected = roll.expected.get(update.symbol, 0.0)
        if expected > 0:  # roll fills are charged to the slippage budget like any other fill
            bot.slippage.check_slippage(expected, update.fill_price, update.fill_quantity, roll.roll_id,
                                        target.multiplier)
        bot.audit.log(AuditAction.ROLL_LEG_FILL, f"Roll {roll.roll_id}: {update.fill_quantity:+d} {update.symbol}",
                      resource_type="roll", resource_id=roll.roll_id, correlation_id=roll.roll_id,
                      metadata={"symbol": update.symbol, "fill_quantity": update.fill_quantity,
                                "fill_price": update.fill_price, "fee": update.fee})
        if roll.phase == RollPhase.FAILED:
            return  # a late fill of a failed roll: booked above, the roll stays failed
        if roll.close_filled == roll.close_goal and roll.open_filled == roll.open_goal:
            self._complete(roll, old, roll.last_fill or update)
        else:
            roll.phase = RollPhase.PARTIALLY_FILLED

    def _new_position(self, roll: Roll, old: BotManagedPosition, when: datetime) -> BotManagedPosition:
        if roll.new_position_id is not None:
            return self.bot.book.positions[roll.new_position_id]
        target = roll.target
        held = self.bot.book.open_for_symbol(target.symbol)
        # rolling into a contract already held the same way: the contracts merge into that position
        merged = held is not None and held.id != old.id
        new = held if held is not None and merged else self.bot.manager.open_position(
            target.quote, target.multiplier, when, roll.roll_id)
        new.roll_history = [*(new.roll_history if merged else old.roll_history),
                            {"roll_id": roll.roll_id, "from": old.symbol, "to": target.symbol,
                             "from_position": old.id, "at": when.isoformat()}]
        roll.new_position_id = new.id
        if merged:
            logger.info("ROLL_MERGED", extra={"roll_id": roll.roll_id, "position_id": new.id, "symbol": new.symbol})
        else:
            self.bot.counters["positions_opened"] += 1
        return new

    def _complete(self, roll: Roll, old: BotManagedPosition, update: OrderUpdate) -> None:
        roll.phase = RollPhase.COMPLETED
        self.bot.counters["rolls_completed"] += 1
        self.bot.position_closed(old, update, "roll")
        logger.info("ROLL_COMPLETED", extra={"roll_id": roll.roll_id, "old_position": old.id,
                                             "new_position": roll.new_position_id,
                                             "realized_pnl": round(old.realized_pnl, 2)})
        self.bot.audit.log(AuditAction.ROLL_COMPLETE, f"Roll {roll.roll_id} completed: {old.symbol} -> "
                           f"{roll.target.symbol}", resource_type="roll", resource_id=roll.roll_id,
                           correlation_id=roll.roll_id, before_state={"position_id": old.id, "symbol": old.symbol},
                           after_state={"position_id": roll.new_position_id, "symbol": roll.target.symbol},
                           metadata={"realized_pnl": old.realized_pnl, **roll.target.to_dict()})

    # -- timeouts and repair ---------------------------------------------------------------
    def check_timeouts(self, now: datetime) -> None:
        for roll in list(self.rolls.values()):
            if roll.phase not in (RollPhase.PENDING, RollPhase.PARTIALLY_FILLED):
                continue
            if now - roll.started_at < self.config.leg_timeout:
                continue
            nothing_filled = roll.close_filled == 0 and roll.open_filled == 0
            if nothing_filled and self.config.market_fallback and roll.started_at is not None:
                roll.started_at = now  # the market combo gets a timeout of its own
                roll.phase = RollPhase.TO_MARKET
                self._cancel_open(roll)
                if roll.phase == RollPhase.TO_MARKET and not roll.cancels_pending:
                    roll.phase = RollPhase.PENDING
                    self._send(roll, now, None)
                continue
            roll.phase = RollPhase.FAILED
            roll.failing = "legs not filled within the timeout"
            self._cancel_open(roll)
            if roll.failing is not None and not roll.cancels_pending:  # nothing left to cancel
                reason, roll.failing = roll.failing, None
                self._fail(roll, now, reason, repaired=not nothing_filled)
            # else: the repair waits for LEAN to confirm the cancels (a leg may still fill meanwhile)

    def _cancel_open(self, roll: Roll) -> None:
        orders = list(roll.order_ids)
        roll.cancels_pending.update(orders)  # first: LEAN may confirm a cancel inside the call
        for order_id in orders:
            if not self.bot.gateway.cancel(order_id):
                roll.cancels_pending.discard(order_id)  # already filled or gone

    def _fail(self, roll: Roll, now: datetime, reason: str, repaired: bool) -> None:
        bot = self.bot
        old = bot.book.positions.get(roll.position_id)
        if repaired and old is not None and old.quantity != 0:
            bot.close_position(old, OrderPurpose.ROLL, f"repair of roll {roll.roll_id}")
        elif old is not None and old.quantity == 0 and roll.last_fill is not None:
            bot.position_closed(old, roll.last_fill, "roll")
        logger.error("ROLL_FAILED", extra={"roll_id": roll.roll_id, "reason": reason, "repaired": repaired,
                                           "close_filled": roll.close_filled, "open_filled": roll.open_filled})
        bot.audit.log(AuditAction.ROLL_FAIL, f"Roll {roll.roll_id} failed: {reason}", resource_type="roll",
                      resource_id=roll.roll_id, correlation_id=roll.roll_id, reason=reason,
                      metadata={"close_filled": roll.close_filled, "open_filled": roll.open_filled,
                                "repaired": repaired})
        if repaired:
            bot.breaker.on_roll_leg_failed(now, roll.roll_id, reason)
