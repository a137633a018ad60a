"""Live restart: take back the bot-managed positions and the session state from the last snapshot.

Only in live mode (a local backtest shares ``storage/`` with earlier runs; their state is not this
run's). Each open position in the snapshot is reconciled with what LEAN's portfolio holds for
that contract: the bot manages at most what both agree on (same sign, the smaller size); a
contract LEAN does not hold is dropped; a sign conflict is not managed and entries are suspended
until a person looks (the position never flips sign). The session state (execution/session/
session_state.py: breaker trips and baselines, latches, the day's order count, slippage spent)
comes back as one unit, so a halt and a same-day loss baseline survive a restart. Every
difference is logged and audited (STATE_RESTORE). The previous run's working orders are
reconciled afterwards (execution/session/reconcile.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from execution.bot_managed_positions import BotManagedPosition, PositionBook
from execution.positions.assignment import Assignments
from execution.session.holdings import HoldingDecision
from execution.session.reconcile import OrderDecision
from execution.session.session_state import SessionState
from models.audit import AuditAction
from models.bot_config import Right
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger
from utils.object_store_schema import PositionSnapshot, StateSnapshot

logger = get_logger(__name__)


Shares = Callable[[str], int | None]  # LEAN's signed share count of a ticker (None: unknown)


@dataclass
class RestoreReport:
    restored: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)  # "P00001: saved -3, LEAN -2, managed -2"
    session_problems: list[str] = field(default_factory=list)
    orders: list[OrderDecision] = field(default_factory=list)  # the previous run's open orders (reconcile.py)
    holdings: list[HoldingDecision] = field(default_factory=list)  # LEAN's holdings beyond them (holdings.py)


def restore_state(book: PositionBook, session: SessionState, audit: AuditLogger, snapshot: StateSnapshot,
                  held: Callable[[PositionSnapshot], int | None], now: datetime,
                  stocks: tuple[Assignments, Shares | None] | None = None) -> RestoreReport:
    """``held(position)`` is LEAN's signed quantity of that contract (None: unknown to LEAN);
    ``stocks``: the assignments' stock positions and LEAN's share count per ticker."""
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
        if lean != saved.quantity:
            report.resized.append(f"{saved.id}: saved {saved.quantity}, LEAN {lean}, managed {quantity}")
        position = BotManagedPosition(
            id=saved.id, symbol=saved.symbol, underlying=saved.underlying, right=Right(saved.right),
            strike=saved.strike, expiry=date.fromisoformat(saved.expiry), multiplier=saved.multiplier,
            opened_at=datetime.fromisoformat(saved.opened_at), quantity=quantity, entry_price=saved.entry_price,
            realized_pnl=saved.realized_pnl, fees=saved.fees, mark_price=saved.mark_price,
            correlation_id=saved.correlation_id,
            ladder_levels_done={int(level) for level in saved.ladder_levels_done or [] if isinstance(level, int)},
            roll_history=[dict(entry) for entry in saved.roll_history or [] if isinstance(entry, dict)])
        book.add(position)
        report.restored.append(saved.id)
    book.continue_after(highest)
    report.session_problems = _restore_session(session, snapshot, now)
    if stocks is not None:  # shares an assignment delivered, reconciled like the options
        saved_stocks = snapshot.risk.get("stock_positions")
        shares = stocks[1] or (lambda _ticker: None)
        report.resized += stocks[0].restore(saved_stocks if isinstance(saved_stocks, list) else [], shares, now)
    if report.conflicts:
        session.suspend_entries(f"restart: positions in conflict with LEAN's portfolio: {report.conflicts}")
    fields = {"restored": report.restored, "dropped": report.dropped, "conflicts": report.conflicts,
              "resized": report.resized, "session_problems": report.session_problems,
              "snapshot_time": snapshot.algorithm_time.isoformat(), "trading_state": session.trading_state.value}
    (logger.error if report.conflicts or report.session_problems else logger.info)("STATE_RESTORED", extra=fields)
    audit.log(AuditAction.STATE_RESTORE, f"Restart: {len(report.restored)} positions restored, "
                  f"{len(report.dropped)} dropped, {len(report.conflicts)} in conflict with LEAN's portfolio",
                  resource_type="algorithm", resource_id="state", metadata=fields)
    return report


def _restore_session(session: SessionState, snapshot: StateSnapshot, now: datetime) -> list[str]:
    saved = snapshot.risk.get("session")
    if isinstance(saved, dict):
        return session.restore(saved, now)
    breaker = snapshot.risk.get("circuit_breaker")  # a snapshot written before the session state existed
    if isinstance(breaker, dict):
        session.breaker.restore(breaker, now)
    logger.warning("SESSION_RESTORE_LEGACY", extra={"has_circuit_breaker": isinstance(breaker, dict)})
    return []
