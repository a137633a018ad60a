"""Live restart: take back the bot-managed positions and the circuit breaker from the last snapshot.

Only in live mode (a local backtest shares ``storage/`` with earlier runs; their state is not this
run's). Each open position in the snapshot is reconciled with what LEAN's portfolio holds for
that contract: the bot manages at most what both agree on (same sign, the smaller size); a
contract LEAN does not hold is dropped; a sign conflict is not managed and entries are suspended
until a person looks. Trips of the circuit breaker come back as they were (a halt survives a
restart). Everything is logged and audited (STATE_RESTORE).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from execution.bot_managed_positions import BotManagedPosition
from models.audit import AuditAction
from models.bot_config import Right
from utils.logging_config import get_logger
from utils.object_store_schema import PositionSnapshot, StateSnapshot

if TYPE_CHECKING:
    from execution.trading_bot import TradingBot

logger = get_logger(__name__)


@dataclass
class RestoreReport:
    restored: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def restore_state(bot: TradingBot, snapshot: StateSnapshot, held: Callable[[PositionSnapshot], int | None],
                  now: datetime) -> RestoreReport:
    """``held(position)`` is LEAN's signed quantity of that contract (None: unknown to LEAN)."""
    report = RestoreReport()
    highest = 0
    for saved in snapshot.positions:
        highest = max(highest, int(saved.id[1:]) if saved.id[1:].isdigit() else 0)  # closed ones too
        if saved.status != "open" or saved.quantity == 0:
            continue
        lean = held(saved)
        if not lean:
            report.dropped.append(saved.id)
            continue
        if (lean > 0) != (saved.quantity > 0):
            report.conflicts.append(saved.id)
            continue
        quantity = lean if abs(lean) < abs(saved.quantity) else saved.quantity
        position = BotManagedPosition(
            id=saved.id, symbol=saved.symbol, underlying=saved.underlying, right=Right(saved.right),
            strike=saved.strike, expiry=date.fromisoformat(saved.expiry), multiplier=saved.multiplier,
            opened_at=datetime.fromisoformat(saved.opened_at), quantity=quantity, entry_price=saved.entry_price,
            realized_pnl=saved.realized_pnl, fees=saved.fees, mark_price=saved.mark_price,
            correlation_id=saved.correlation_id,
            ladder_levels_done={int(level) for level in saved.ladder_levels_done or [] if isinstance(level, int)},
            roll_history=[dict(entry) for entry in saved.roll_history or [] if isinstance(entry, dict)])
        bot.book.add(position)
        report.restored.append(saved.id)
    bot.book.continue_after(highest)
    breaker = snapshot.risk.get("circuit_breaker")
    if isinstance(breaker, dict):
        bot.breaker.restore(breaker, now)
    if report.conflicts:
        bot.entries_suspended = True
    fields = {"restored": report.restored, "dropped": report.dropped, "conflicts": report.conflicts,
              "snapshot_time": snapshot.algorithm_time.isoformat(), "trading_state": bot.breaker.state.value}
    (logger.error if report.conflicts else logger.info)("STATE_RESTORED", extra=fields)
    bot.audit.log(AuditAction.STATE_RESTORE, f"Restart: {len(report.restored)} positions restored, "
                  f"{len(report.dropped)} dropped, {len(report.conflicts)} in conflict with LEAN's portfolio",
                  resource_type="algorithm", resource_id="state", metadata=fields)
    return report
