"""Builds the Object Store state snapshot (utils/object_store_schema.py) from the bot's state."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING

from execution.bot_managed_positions import BotManagedPosition
from models.market_data import PortfolioView
from utils.object_store_schema import EquitySummary, PositionSnapshot, StateSnapshot

if TYPE_CHECKING:
    from execution.trading_bot import TradingBot


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


def build_snapshot(bot: TradingBot, now_utc: datetime, mode: str, view: PortfolioView) -> StateSnapshot:
    working = [{"client_id": o.request.client_id, "symbol": o.working.symbol, "purpose": o.request.purpose.value,
                "quantity": o.working.quantity, "filled_quantity": o.working.filled_quantity,
                "limit_price": o.working.limit_price, "attempt": o.working.attempt, "phase": o.phase.value,
                "position_id": o.request.position_id} for o in bot.executor.active()]
    working += [{"client_id": r.roll_id, "symbol": f"{r.target.close_symbol} -> {r.target.symbol}", "purpose": "roll",
                 "quantity": r.target.quantity, "filled_quantity": abs(r.open_filled), "limit_price": r.target.net_mid,
                 "attempt": 0, "phase": r.phase.value, "position_id": r.position_id}
                for r in bot.rolls.rolls.values() if r.active]
    return StateSnapshot(
        algorithm_time=now_utc, mode=mode, ticker=bot.config.ticker, underlying_price=bot.underlying_price,
        equity=EquitySummary(view.total_portfolio_value, view.cash, view.unrealized_profit, view.total_fees),
        positions=[position_snapshot(p) for p in bot.book.positions.values()],
        counters=dict(bot.counters), parameters=bot.config.as_parameters(),
        equity_history=list(bot.equity_history),
        portfolio_greeks=asdict(bot.manager.portfolio_greeks()),
        slippage=bot.slippage.to_dict(), working_orders=working,
        risk={"trading_state": bot.breaker.state.value, "reduce_only": bot.reduce_only,
              "entries_suspended": bot.entries_suspended, "limits": bot.limits.as_dict(),
              "circuit_breaker": bot.breaker.as_dict(), "orders_today": bot.gateway.counter.orders_today,
              "gateway_rejections": bot.gateway.rejections})
