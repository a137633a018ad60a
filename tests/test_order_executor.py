"""OrderExecutor (issue 3 §5): limit at mid, cancel/replace toward the far side, market after N."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from execution.orders.order_executor import OrderExecutor, Phase
from execution.risk.order_gateway import GatewayResult
from execution.risk.pre_trade_validator import ValidationResult
from execution.risk.slippage_budget import SlippageBudget
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderKind, OrderPurpose, OrderRequest, OrderState, OrderUpdate

T0 = datetime(2016, 1, 4, 10, 0)
SYMBOL = "GOOG  160219P00700000"


class Broker:
    def __init__(self) -> None:
        self.sent: list[OrderRequest] = []
        self.cancelled: list[int] = []

    def submit(self, request: OrderRequest) -> list[int]:
        self.sent.append(request)
        return [len(self.sent)]

    def cancel(self, order_id: int) -> bool:
        self.cancelled.append(order_id)
        return True

    def portfolio(self) -> PortfolioView:
        return PortfolioView(100_000.0, 100_000.0, 0.0, 0.0)

    def equity(self) -> float:
        return 100_000.0

    def contract_multiplier(self, symbol: str) -> float:
        return 100.0


class ApprovingGateway:
    """The gateway's interface, approving everything: these tests are about pricing."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def submit(self, request: OrderRequest, now: datetime, *, actor: str = "system", actor_type: str = "system",
               on_approved: Callable[[], None] | None = None) -> GatewayResult:
        if on_approved is not None:
            on_approved()
        return GatewayResult(ValidationResult(True, False, ()), tuple(self.broker.submit(request)))

    def cancel(self, order_id: int) -> bool:
        return self.broker.cancel(order_id)


def quote(bid: float, ask: float) -> ContractQuote:
    return ContractQuote(SYMBOL, Right.PUT, 700.0, date(2016, 2, 19), bid, ask)


def executor(**params: str) -> tuple[OrderExecutor, Broker, SlippageBudget]:
    config = BotConfig.from_parameters({"reprice_seconds": "60", "reprice_max_attempts": "2", **params}.get)
    broker, budget = Broker(), SlippageBudget(50.0, 1_000.0, 10.0)
    gateway = ApprovingGateway(broker)
    return OrderExecutor(config, gateway, budget, broker.contract_multiplier), broker, budget  # type: ignore[arg-type]


def event(order_id: int, state: OrderState, quantity: int = 0, price: float = 0.0) -> OrderUpdate:
    return OrderUpdate(order_id, "C1", SYMBOL, state, price, quantity, 0.0, T0)


def request(quantity: int = 2) -> OrderRequest:
    return OrderRequest("C1", SYMBOL, quantity, OrderPurpose.ENTRY)


def test_a_new_order_goes_out_as_a_limit_at_mid() -> None:
    ex, broker, _ = executor()
    ex.place(request(-2), quote(9.8, 10.2), T0)
    assert broker.sent[0].kind == OrderKind.LIMIT and broker.sent[0].limit_price == pytest.approx(10.0)


def test_market_style_or_no_quote_sends_a_market_order() -> None:
    ex, broker, _ = executor(order_style="market")
    ex.place(request(), quote(9.8, 10.2), T0)
    ex2, broker2, _ = executor()
    ex2.place(request(), None, T0)
    assert broker.sent[0].kind == OrderKind.MARKET and broker2.sent[0].kind == OrderKind.MARKET


def test_before_the_delay_nothing_is_repriced() -> None:
    ex, broker, _ = executor()
    ex.place(request(), quote(9.8, 10.2), T0)
    ex.on_slice(T0 + timedelta(seconds=59), {SYMBOL: quote(9.8, 10.2)})
    assert broker.cancelled == []


def test_after_the_delay_the_order_is_cancelled_and_replaced_toward_the_ask() -> None:
    ex, broker, _ = executor()
    tracked = ex.place(request(2), quote(9.8, 10.2), T0)
    ex.on_slice(T0 + timedelta(seconds=60), {SYMBOL: quote(9.8, 10.2)})
    assert broker.cancelled == [1] and tracked.phase == Phase.REPLACING
    ex.on_update(event(1, OrderState.CANCELED))
    replacement = broker.sent[1]
    assert replacement.kind == OrderKind.LIMIT and 10.0 < replacement.limit_price <= 10.2
    assert replacement.client_id == "C1" and tracked.lean_order_ids == [1, 2]


def test_partial_fill_before_a_reprice_replaces_only_the_remainder() -> None:
    ex, broker, _ = executor()
    tracked = ex.place(request(3), quote(9.8, 10.2), T0)
    ex.on_update(event(1, OrderState.PARTIALLY_FILLED, 1, 10.0))
    ex.on_slice(T0 + timedelta(minutes=1), {SYMBOL: quote(9.8, 10.2)})
    ex.on_update(event(1, OrderState.CANCELED))
    assert broker.sent[1].quantity == 2
    ex.on_update(event(2, OrderState.FILLED, 2, 10.1))
    assert tracked.phase == Phase.DONE
    assert tracked.working.average_fill_price == pytest.approx((10.0 + 2 * 10.1) / 3)
    assert ex.active() == []


def test_after_the_last_reprice_the_order_goes_to_market() -> None:
    ex, broker, _ = executor()
    ex.place(request(1), quote(9.8, 10.2), T0)
    for n in range(1, 4):
        ex.on_slice(T0 + timedelta(minutes=n), {SYMBOL: quote(9.8, 10.2)})
        ex.on_update(event(len(broker.sent), OrderState.CANCELED))
    kinds = [r.kind for r in broker.sent]
    assert kinds == [OrderKind.LIMIT, OrderKind.LIMIT, OrderKind.LIMIT, OrderKind.MARKET]


def test_a_sell_is_never_repriced_below_zero_credit() -> None:
    ex, broker, _ = executor()
    ex.place(request(-1), quote(0.0, 0.10), T0)  # no bid: market would give the option away
    for n in range(1, 6):
        ex.on_slice(T0 + timedelta(minutes=n), {SYMBOL: quote(0.0, 0.10)})
        ex.on_update(event(len(broker.sent), OrderState.CANCELED))
    assert all(r.kind == OrderKind.LIMIT and r.limit_price is not None and r.limit_price > 0 for r in broker.sent)


def test_a_cancel_in_working_phase_finishes_the_order_without_replacement() -> None:
    ex, broker, _ = executor()
    tracked = ex.place(request(), quote(9.8, 10.2), T0)
    assert ex.cancel("C1")
    ex.on_update(event(1, OrderState.CANCELED))
    assert tracked.phase == Phase.DONE and len(broker.sent) == 1


def test_each_fill_is_charged_to_the_slippage_budget_against_the_mid_at_order_time() -> None:
    ex, _, budget = executor()
    ex.place(request(2), quote(9.8, 10.2), T0)
    _, check = ex.on_update(event(1, OrderState.FILLED, 2, 10.2))
    assert check is not None and check.slippage_usd == pytest.approx(0.2 * 2 * 100)
    assert budget.session_total == pytest.approx(40.0)


def test_a_rejected_order_is_finished_and_marked() -> None:
    ex, _, _ = executor()
    tracked = ex.place(request(), quote(9.8, 10.2), T0)
    ex.on_update(event(1, OrderState.INVALID))
    assert tracked.rejected and tracked.phase == Phase.DONE and ex.active() == []


def test_a_rejection_delivered_inside_submit_finishes_the_order() -> None:
    ex, broker, _ = executor()

    class RejectingInside(ApprovingGateway):
        def submit(self, request, now, *, actor="system", actor_type="system", on_approved=None):  # type: ignore[no-untyped-def]
            if on_approved is not None:
                on_approved()
            ex.on_update(event(1, OrderState.INVALID))  # LEAN rejects before the ticket returns
            return GatewayResult(ValidationResult(True, False, ()), (1,))

    ex.gateway = RejectingInside(broker)  # type: ignore[assignment]
    tracked = ex.place(request(), quote(9.8, 10.2), T0)
    assert tracked.rejected and tracked.phase == Phase.DONE and ex.active() == []
