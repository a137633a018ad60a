"""LEAN entry point: the options bot's QCAlgorithm. Thin on purpose: it reads the parameters,
subscribes to the underlying and its option chain, and forwards LEAN's events to the bot
(execution/lean_adapter.py). Run it with `lean backtest .`, `lean live deploy .`, or offline with
`make backtest`."""

from datetime import timedelta

from AlgorithmImports import Command, OrderEvent, QCAlgorithm, Resolution, Slice

from execution.lean_adapter import LeanBotAdapter
from models.bot_config import BotConfig
from models.exceptions import ConfigurationError
from models.risk_limits import RiskLimits
from models.roll_config import RollConfig
from utils.logging_config import LeanLogHandler, configure_logging


class OptionsBotInboxCommand(Command):
    """A sidecar request delivered as a LEAN command (live deployments):
    ``lean live command . --data '{"$type": "OptionsBotInboxCommand", "request_json": "..."}'``.
    It takes the same path as the Object Store inbox (execution/orders/inbox_consumer.py)."""

    request_json = ""

    def run(self, algorithm) -> bool:  # LEAN passes the running QCAlgorithm
        adapter = getattr(algorithm, "adapter", None)
        return bool(adapter is not None and adapter.queue_command(str(self.request_json)))


class OptionsBotAlgorithm(QCAlgorithm):
    def initialize(self) -> None:
        configure_logging(LeanLogHandler(self))
        try:
            config = BotConfig.from_parameters(lambda name: self.get_parameter(name))
            limits = RiskLimits.from_parameters(lambda name: self.get_parameter(name))
            rolls = RollConfig.from_parameters(lambda name: self.get_parameter(name))
            if rolls.enabled and rolls.dte <= config.exit_dte:
                raise ConfigurationError("roll_dte", f"{rolls.dte} must be above exit_dte {config.exit_dte}, or "
                                         "the expiry guard closes positions before they are due to roll")
        except ConfigurationError as exc:
            self.error(f"CONFIGURATION_INVALID {exc}")
            raise
        self.set_start_date(config.start_date.year, config.start_date.month, config.start_date.day)
        self.set_end_date(config.end_date.year, config.end_date.month, config.end_date.day)
        self.set_cash(config.cash)
        equity = self.add_equity(config.ticker, Resolution.MINUTE)
        option = self.add_option(config.ticker, Resolution.MINUTE)
        strikes, min_dte, max_dte = config.filter_strikes, config.filter_min_dte, config.filter_max_dte
        option.set_filter(lambda u: u.strikes(-strikes, strikes).expiration(min_dte, max_dte))
        self.adapter = LeanBotAdapter(self, config, limits, rolls, equity.symbol, option.symbol)
        self.add_command(OptionsBotInboxCommand)
        self.schedule.on(self.date_rules.every_day(equity.symbol),
                         self.time_rules.every(timedelta(minutes=config.snapshot_minutes)),
                         self.adapter.save_state)

    def on_data(self, slice: Slice) -> None:
        self.adapter.on_data(slice)

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.adapter.on_order_event(order_event)

    def on_assignment_order_event(self, assignment_event: OrderEvent) -> None:
        self.adapter.on_assignment(assignment_event)

    def on_end_of_algorithm(self) -> None:
        self.adapter.on_end()
