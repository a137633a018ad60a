"""The one pre-trade gateway (issue 5): nothing reaches the broker around it, a refusal sends
nothing, and the circuit breaker acts on the running bot (unit and harness scenarios)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from execution.risk.circuit_breaker import TradingState
from execution.trading_bot import TradingBot
from harness.market import MarketConfig
from harness.runner import run
from models.audit import AuditAction
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderPurpose, OrderRequest, OrderState, OrderUpdate
from models.risk_limits import RiskLimits
from utils.audit_logger import AuditLogger, MemoryAuditSink
from utils.audit_reader import read_storage_folder_trail

ROOT = Path(__file__).resolve().parent.parent
LEAN_ORDER_METHODS = {"market_order", "limit_order", "combo_market_order", "combo_limit_order",
                      "combo_leg_limit_order", "stop_market_order", "stop_limit_order", "market_on_open_order",
                      "market_on_close_order", "exercise_option", "liquidate", "set_holdings"}
NOW = datetime(2016, 1, 4, 10, 0)
EXPIRY = date(2016, 2, 5)


def calls(path: Path) -> list[tuple[str, str, str | None]]:
    """(method name, enclosing function, enclosing class) of every attribute call in a file."""
    found: list[tuple[str, str, str | None]] = []

    def visit(node: ast.AST, func: str, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, func, child.name)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name, cls)
            else:
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                    found.append((child.func.attr, func, cls))
                visit(child, func, cls)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>", None)
    return found


def test_lean_order_methods_are_called_only_by_the_lean_broker_behind_the_gateway() -> None:
    for path in [ROOT / "main.py", *sorted((ROOT / "execution").rglob("*.py"))]:
        for name, func, cls in calls(path):
            if name in LEAN_ORDER_METHODS:
                assert (path.name, cls) == ("lean_broker.py", "LeanBroker") and func in ("submit", "submit_combo"), \
                    f"{path.name}:{cls}.{func} calls {name} around the pre-trade gateway"


def test_only_the_gateway_calls_the_brokers_submit() -> None:
    for path in [ROOT / "main.py", *sorted((ROOT / "execution").rglob("*.py"))]:
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("submit", "submit_combo")
                    and "broker" in ast.unparse(node.func.value)):
                assert path.name == "order_gateway.py", f"{path.name} calls {ast.unparse(node.func)}"


class Broker:
    def __init__(self) -> None:
        self.sent: list[OrderRequest] = []
        self.value = 100_000.0

    def submit(self, request: OrderRequest) -> list[int]:
        self.sent.append(request)
        return [len(self.sent)]

    def cancel(self, order_id: int) -> bool:
        return True

    def portfolio(self) -> PortfolioView:
        return PortfolioView(self.value, self.value, 0.0, 0.0)

    def equity(self) -> float:
        return self.value

    def contract_multiplier(self, symbol: str) -> float:
        return 100.0


def put(bid: float = 5.0, ask: float = 5.2) -> ContractQuote:
    return ContractQuote("P700", Right.PUT, 700.0, EXPIRY, bid, ask, 100, 0.3, -0.30, 0.01, -40.0, 0.8, -0.1)


def bot_with(limits: RiskLimits, **params: str) -> tuple[TradingBot, Broker, MemoryAuditSink]:
    broker, sink = Broker(), MemoryAuditSink()
    config = BotConfig.from_parameters({"order_style": "market", **params}.get)
    bot = TradingBot(config, broker, AuditLogger(clock=lambda: NOW.replace(tzinfo=UTC), sinks=[sink]), limits)
    return bot, broker, sink


def test_a_refused_entry_never_reaches_the_broker_and_is_audited() -> None:
    bot, broker, sink = bot_with(RiskLimits(max_single_order_value=100.0))  # 3 x 5.1 x 100 = 1,530
    bot.on_market(NOW, 750.0, {}, [put()])
    assert broker.sent == [] and bot.counters["risk_rejections"] == 1
    assert AuditAction.RISK_CHECK_FAILED in sink.actions() and AuditAction.ORDER_SUBMIT not in sink.actions()


def test_an_approved_entry_is_sent_once() -> None:
    bot, broker, _ = bot_with(RiskLimits())
    bot.on_market(NOW, 750.0, {}, [put()])
    assert len(broker.sent) == 1 and broker.sent[0].purpose == OrderPurpose.ENTRY


def open_short(bot: TradingBot, broker: Broker) -> None:
    bot.on_market(NOW, 750.0, {}, [put()])
    request = broker.sent[-1]
    bot.on_order_update(OrderUpdate(len(broker.sent), request.client_id, "P700", OrderState.FILLED, 5.1, -3, 0.0, NOW))


def test_a_daily_loss_halts_new_entries_but_the_stop_loss_still_closes() -> None:
    bot, broker, sink = bot_with(RiskLimits(max_daily_loss_pct=0.03, halted_allows_closes=True), stop_loss_pct="1.0")
    open_short(bot, broker)
    broker.value = 96_000.0  # -4 % on the session
    later = NOW + timedelta(minutes=5)
    bot.on_market(later, 700.0, {"P700": put(12.0, 12.4)})  # loss 140 % of premium: stop-loss
    assert bot.breaker.state is TradingState.HALTED and not bot.wants_candidates()
    assert broker.sent[-1].purpose == OrderPurpose.STOP_LOSS and broker.sent[-1].quantity == 3
    assert AuditAction.CIRCUIT_BREAKER_TRIP in sink.actions()


def test_with_closes_disabled_a_halt_refuses_the_stop_once_per_state_and_day() -> None:
    bot, broker, sink = bot_with(RiskLimits(max_daily_loss_pct=0.03, halted_allows_closes=False), stop_loss_pct="1.0")
    open_short(bot, broker)
    broker.value = 96_000.0
    for minute in range(5, 10):
        bot.on_market(NOW + timedelta(minutes=minute), 700.0, {"P700": put(12.0, 12.4)})
    assert [r.purpose for r in broker.sent] == [OrderPurpose.ENTRY]
    assert sink.actions().count(AuditAction.RISK_CHECK_FAILED) == 1


def test_a_human_reset_reopens_trading() -> None:
    bot, broker, sink = bot_with(RiskLimits(max_daily_loss_pct=0.03))
    bot.on_market(NOW, 750.0, {})
    broker.value = 96_000.0
    bot.on_market(NOW + timedelta(minutes=1), 750.0, {})
    assert bot.breaker.state is TradingState.HALTED
    bot.breaker.reset("user:ops@example.com", "human", "loss reviewed")
    bot.on_market(NOW + timedelta(minutes=2), 750.0, {}, [put()])
    assert bot.breaker.state is TradingState.ACTIVE and broker.sent[-1].purpose == OrderPurpose.ENTRY
    assert AuditAction.CIRCUIT_BREAKER_RESET in sink.actions()


def test_a_crash_in_the_harness_trips_the_breaker_stops_entries_and_the_trail_says_why(tmp_path) -> None:
    crash = (datetime(2015, 12, 24, 11, 0), -0.12)  # the underlying drops 12 % in one minute
    engine, _ = run(days=6, start=None, seed=7, storage=tmp_path / "s", overrides={"profit_ladder": "0.5:0.3"},
                    market=MarketConfig(shocks=(crash,)))
    bot = engine.algorithm.adapter.bot
    trail = read_storage_folder_trail(tmp_path / "s").entries
    trips = [e for e in trail if e.action == AuditAction.CIRCUIT_BREAKER_TRIP]
    assert trips and trips[0].after_state is not None
    assert trips[0].after_state["trigger"] in ("daily_loss", "drawdown")
    tripped_at = trips[0].timestamp
    halted_until = next((e.timestamp for e in trail if e.action == AuditAction.CIRCUIT_BREAKER_STATE_CHANGE
                         and e.after_state == {"state": "active"} and e.timestamp > tripped_at), None)
    entries_while_halted = [e for e in trail if e.action == AuditAction.ORDER_SUBMIT and e.timestamp > tripped_at
                            and (halted_until is None or e.timestamp < halted_until)
                            and e.after_state is not None and e.after_state["purpose"] == "entry"]
    assert entries_while_halted == []
    closes = [e for e in trail if e.action == AuditAction.TRADE_CLOSE and e.timestamp > tripped_at]
    assert closes, "management closes still work while halted"
    assert bot.counters["component_failures"] == 0 and bot.counters["unmatched_events"] == 0
