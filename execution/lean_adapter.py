"""The LEAN side of the port: turns Slices and OrderEvents into the bot's plain data, and the
bot's OrderRequests into LEAN orders. The only execution module that imports AlgorithmImports.

Reads from LEAN objects are kept few: each one crosses the Python/.NET boundary in real LEAN.
The held contracts are looked up by symbol in the chain; the whole chain is read only when the
entry rule is about to act.
"""

from __future__ import annotations

from datetime import UTC, datetime

from AlgorithmImports import (
    OptionChain,
    OptionContract,
    OptionRight,
    OrderEvent,
    OrderStatus,
    QCAlgorithm,
    Slice,
    Symbol,
)

from execution.trading_bot import TradingBot
from models.bot_config import BotConfig, Right
from models.exceptions import TradingError
from models.market_data import ContractQuote, PortfolioView
from models.orders import OrderKind, OrderRequest, OrderState, OrderUpdate
from utils.logging_config import get_logger
from utils.object_store_schema import STATE_KEY

logger = get_logger(__name__)

TAG_PREFIX = "bot:"

_STATES = {
    OrderStatus.SUBMITTED: OrderState.SUBMITTED,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.CANCELED: OrderState.CANCELED,
    OrderStatus.INVALID: OrderState.INVALID,
}


def quote_from_contract(contract: OptionContract) -> ContractQuote:
    greeks = contract.greeks
    delta = float(greeks.delta) if greeks is not None else 0.0
    return ContractQuote(
        symbol=str(contract.symbol.value),
        right=Right.CALL if contract.right == OptionRight.CALL else Right.PUT,
        strike=float(contract.strike),
        expiry=contract.expiry.date(),
        bid=float(contract.bid_price),
        ask=float(contract.ask_price),
        open_interest=float(contract.open_interest),
        iv=float(contract.implied_volatility),
        delta=delta,
    )


class LeanBroker:
    """BrokerPort over a QCAlgorithm."""

    def __init__(self, algorithm: QCAlgorithm) -> None:
        self._algorithm = algorithm
        self._symbols: dict[str, Symbol] = {}

    def remember(self, symbol: Symbol) -> str:
        key = str(symbol.value)
        self._symbols[key] = symbol
        return key

    def symbol(self, key: str) -> Symbol | None:
        return self._symbols.get(key)

    def submit(self, request: OrderRequest) -> list[int]:
        symbol = self._symbols.get(request.symbol)
        if symbol is None:
            raise TradingError(f"no LEAN symbol known for {request.symbol}")
        tag = f"{TAG_PREFIX}{request.client_id}"
        if request.kind == OrderKind.LIMIT:
            if request.limit_price is None:
                raise TradingError(f"limit order {request.client_id} without a limit price")
            ticket = self._algorithm.limit_order(symbol, request.quantity, request.limit_price, tag=tag)
        else:
            ticket = self._algorithm.market_order(symbol, request.quantity, tag=tag)
        return [int(ticket.order_id)]

    def portfolio(self) -> PortfolioView:
        p = self._algorithm.portfolio
        return PortfolioView(float(p.total_portfolio_value), float(p.cash),
                             float(p.total_unrealized_profit), float(p.total_fees))

    def contract_multiplier(self, symbol: str) -> float:
        lean_symbol = self._symbols[symbol]
        return float(self._algorithm.securities[lean_symbol].symbol_properties.contract_multiplier)


class LeanBotAdapter:
    """What main.py forwards LEAN's events to."""

    def __init__(self, algorithm: QCAlgorithm, config: BotConfig, underlying: Symbol,
                 option: Symbol) -> None:
        self._algorithm = algorithm
        self._underlying = underlying
        self._option = option
        self.broker = LeanBroker(algorithm)
        self.bot = TradingBot(config, self.broker)

    # -- data ------------------------------------------------------------------------------
    def on_data(self, data: Slice) -> None:
        try:
            chain = data.option_chains.get(self._option)
            spot = float(self._algorithm.securities[self._underlying].price)
            held = self._held_quotes(chain)
            candidates = self._candidates(chain) if self.bot.wants_candidates() else None
            self.bot.on_market(self._algorithm.time, spot, held, candidates)
        except Exception as exc:
            logger.exception("ON_DATA_FAILED", extra={"time": str(self._algorithm.time)})
            self.bot.record_failure("on_data", exc)

    def _held_quotes(self, chain: OptionChain | None) -> dict[str, ContractQuote]:
        quotes: dict[str, ContractQuote] = {}
        if chain is None:
            return quotes
        contracts = chain.contracts
        for key in self.bot.book.held_symbols:
            symbol = self.broker.symbol(key)
            contract = contracts.get(symbol) if symbol is not None else None
            if contract is not None:
                quotes[key] = quote_from_contract(contract)
        return quotes

    def _candidates(self, chain: OptionChain | None) -> list[ContractQuote]:
        if chain is None:
            return []
        quotes = []
        for contract in chain:
            self.broker.remember(contract.symbol)
            quotes.append(quote_from_contract(contract))
        return quotes

    # -- orders ----------------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent) -> None:
        try:
            self.bot.on_order_update(self._translate(event))
        except Exception as exc:
            logger.exception("ORDER_EVENT_FAILED", extra={"order_id": int(event.order_id)})
            self.bot.record_failure("on_order_event", exc)

    def _translate(self, event: OrderEvent) -> OrderUpdate:
        order = self._algorithm.transactions.get_order_by_id(event.order_id)
        tag = str(order.tag) if order is not None and order.tag else ""
        client_id = tag[len(TAG_PREFIX):] if tag.startswith(TAG_PREFIX) else None
        fee = float(event.order_fee.value.amount) if event.order_fee is not None else 0.0
        return OrderUpdate(
            order_id=int(event.order_id), client_id=client_id, symbol=self.broker.remember(event.symbol),
            state=_STATES.get(event.status, OrderState.OTHER), fill_price=float(event.fill_price),
            fill_quantity=round(float(event.fill_quantity)), fee=fee,
            time=self._algorithm.time, is_assignment=bool(event.is_assignment),
            message=str(event.message or ""))

    # -- state -----------------------------------------------------------------------------
    def save_state(self) -> bool:
        """Write the state snapshot to the Object Store; a failure is logged, never raised."""
        try:
            now = utc_now_of(self._algorithm)
            mode = "live" if self._algorithm.live_mode else "backtest"
            text = self.bot.snapshot(now, mode).to_json()
            return bool(self._algorithm.object_store.save(STATE_KEY, text))
        except Exception:
            logger.exception("STATE_SAVE_FAILED", extra={"key": STATE_KEY})
            return False


def utc_now_of(algorithm: QCAlgorithm) -> datetime:
    moment = algorithm.utc_time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
