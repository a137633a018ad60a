"""Builds the Object Store state snapshot (utils/object_store_schema.py) from the bot's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from execution.bot_managed_positions import BotManagedPosition, PositionBook
from execution.ledger import ExposureLedger, WorkingLeg
from execution.orders.order_executor import TrackedOrder
from execution.positions.position_manager import PortfolioGreeks
from execution.session.session_state import SessionState
from models.bot_config import BotConfig
from models.market_data import PortfolioView
from models.pre_trade_rules import PreTradeContext, context_to_dict
from models.risk_limits import RiskLimits
from utils.object_store_schema import EquitySummary, OptionChainSlice, PositionSnapshot, StateSnapshot


def position_snapshot(p: BotManagedPosition) -> PositionSnapshot:
    greeks = p.greeks_source is not None
    return PositionSnapshot(
        id=p.id, symbol=p.symbol, underlying=p.underlying, right=p.right.value, strike=p.strike,
        expiry=p.expiry.isoformat(), side=p.side, quantity=p.quantity, entry_price=p.entry_price,
        mark_price=p.mark_price, multiplier=p.multiplier, unrealized_pnl=p.unrealized_pnl,
        realized_pnl=p.realized_pnl, fees=p.fees, opened_at=p.opened_at.isoformat(), status=p.status.value,
        delta=p.delta if greeks else None, gamma=p.gamma if greeks else None,
        theta=p.theta if greeks else None, vega=p.vega if greeks else None, rho=p.rho if greeks else None,
        iv=p.iv if greeks else None, dollar_delta=p.dollar_delta if greeks else None,
        daily_theta_decay=p.daily_theta_decay if greeks else None,
        greeks_source=p.greeks_source.value if p.greeks_source else None,
        greeks_updated_at=p.greeks_updated_at.isoformat() if p.greeks_updated_at else None,
        correlation_id=p.correlation_id, ladder_levels_done=sorted(p.ladder_levels_done),
        roll_history=list(p.roll_history))


def describe_working(leg: WorkingLeg, orders: Mapping[str, TrackedOrder]) -> dict[str, Any]:
    """One working order or roll leg for the snapshot (with the executor's pricing when it has it)."""
    out: dict[str, Any] = {"client_id": leg.ref, **leg.as_dict()}
    tracked = orders.get(leg.ref)
    if tracked is not None:
        out.update(quantity=tracked.working.quantity, filled_quantity=tracked.working.filled_quantity,
                   limit_price=tracked.working.limit_price, attempt=tracked.working.attempt,
                   phase=tracked.phase.value)
    return out


def no_chain() -> OptionChainSlice | None:
    return None


def state_fingerprint(session: SessionState, ledger: ExposureLedger, counters: Mapping[str, int]) -> tuple[object, ...]:
    """Changes whenever something a restart needs changed: the session state, the book (fills,
    opens, closes), the working orders."""
    working = tuple((leg.ref, leg.symbol, leg.remaining) for leg in ledger.working())
    return (*session.fingerprint(), counters["fills"], counters["positions_opened"], counters["positions_closed"],
            working)


@dataclass(frozen=True)
class SnapshotSources:
    """The narrow things a snapshot reads (no bot object)."""

    config: BotConfig
    limits: RiskLimits
    book: PositionBook
    ledger: ExposureLedger
    session: SessionState
    counters: Mapping[str, int]
    greeks: Callable[[], PortfolioGreeks]
    describe_working: Callable[[WorkingLeg], dict[str, Any]]
    gateway_rejections: Callable[[], int]
    stock_positions: Callable[[], list[dict[str, Any]]] = list  # shares an assignment delivered
    option_chain: Callable[[], OptionChainSlice | None] = no_chain  # the last chain slice (chain_slice.py)
    flagged_holdings: Callable[[], list[dict[str, Any]]] = list  # LEAN holdings a restart left alone
    # the gateway's context now, for the sidecar's dry run of its rules (services/gateway_dry_run.py)
    gateway_context: Callable[[], PreTradeContext] | None = None


def build_snapshot(src: SnapshotSources, now_utc: datetime, mode: str, view: PortfolioView,
                   underlying_price: float | None, equity_history: list[tuple[datetime, float]]) -> StateSnapshot:
    session = src.session
    working = [src.describe_working(leg) for leg in src.ledger.working()]
    return StateSnapshot(
        algorithm_time=now_utc, mode=mode, ticker=src.config.ticker, underlying_price=underlying_price,
        equity=EquitySummary(view.total_portfolio_value, view.cash, view.unrealized_profit, view.total_fees),
        positions=[position_snapshot(p) for p in src.book.positions.values()],
        counters=dict(src.counters), parameters=src.config.as_parameters(),
        equity_history=list(equity_history), portfolio_greeks=asdict(src.greeks()),
        slippage=session.slippage.to_dict(), working_orders=working, option_chain=src.option_chain(),
        risk={"trading_state": session.trading_state.value, "breaker_state": session.breaker.state.value,
              "reduce_only": session.reduce_only, "entries_suspended": session.entries_suspended,
              "limits": src.limits.as_dict(), "circuit_breaker": session.breaker.as_dict(),
              "orders_today": session.counter.orders_today, "gateway_rejections": src.gateway_rejections(),
              "exposure": {"held": src.ledger.held(), "pending": src.ledger.pending()},
              "session": session.to_dict(), "stock_positions": src.stock_positions(),
              "flagged_holdings": src.flagged_holdings(),
              **({} if src.gateway_context is None else {"gateway_context": context_to_dict(src.gateway_context())})})
