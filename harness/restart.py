"""The restart drill: stop the algorithm mid-run and start a new instance, as a live LEAN restart does.

    python -m harness.runner --restart-at 2015-12-23T12:00 [--restart-at ...]

At each moment (algorithm time, exchange time zone) the running instance stops without any
callback (a killed process gets no ``on_end_of_algorithm``), and a new instance of the same class
starts in live mode with a fresh ``initialize()``. What survives is what survives a real restart:
the brokerage keeps the holdings, the cash and the working orders (the harness brokerage and its
portfolio), the Object Store keeps its files. The old instance's scheduled events die with it.
The new instance's first slice is the restart minute; its adapter restores and reconciles there.

``Drill`` wraps a harness engine: ``Drill(engine, moments).install()`` before ``engine.run()``;
``drill.restarts`` then holds, per restart, what reconciliation restored, dropped, adopted,
cancelled and flagged (``summary_lines``).

Two hooks shape what happens around the restart (tests): ``while_down(engine)`` runs while no
instance runs (an order that fills then, a person's trade: LEAN's brokerage books it, no instance
hears of it); ``before_first_slice(engine)`` runs after the new ``initialize()`` and before its
first slice (a live LEAN can deliver order events then, on the brokerage's thread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.engine import HarnessEngine
from harness.qc_algorithm import QCAlgorithm


@dataclass
class RestartRecord:
    at: datetime
    restored: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    resized: list[str] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)  # reconcile.OrderDecision.as_dict()
    holdings: list[dict[str, Any]] = field(default_factory=list)  # holdings.HoldingDecision.as_dict()
    trading_state: str = ""

    def count(self, decision: str) -> int:
        return sum(1 for order in self.orders if order["decision"] == decision)

    def count_holdings(self, decision: str) -> int:
        return sum(1 for holding in self.holdings if holding["decision"] == decision)


def _stopped() -> None:
    """A scheduled event of an instance that no longer runs."""


def _nobody(event: Any) -> None:
    """An order event while no instance runs: LEAN's brokerage booked the fill; nobody hears of it."""


Hook = Callable[[HarnessEngine], None]


class Drill:
    def __init__(self, engine: HarnessEngine, moments: Sequence[datetime], while_down: Hook | None = None,
                 before_first_slice: Hook | None = None) -> None:
        if not engine.live_mode:
            raise ValueError("the restart drill runs in live mode (a backtest never restarts)")
        self.engine = engine
        self.pending = sorted(moments)
        self.while_down, self.before_first_slice = while_down, before_first_slice
        self.restarts: list[RestartRecord] = []

    def install(self) -> None:
        """Intercept the algorithm's ``on_data``: at a restart moment, restart, then deliver the slice."""
        algorithm = self.engine.algorithm
        original = type(algorithm).on_data

        def on_data(data: Any) -> None:
            if self.pending and algorithm.time >= self.pending[0]:
                while self.pending and algorithm.time >= self.pending[0]:
                    self.pending.pop(0)
                self._restart(algorithm)
                algorithm.on_data = on_data  # type: ignore[method-assign]  # the new instance is drilled too
            original(algorithm, data)
            if self.restarts and self.restarts[-1].trading_state == "":
                self._record(algorithm)

        algorithm.on_data = on_data  # type: ignore[method-assign]

    def _restart(self, algorithm: QCAlgorithm) -> None:
        """The same Python object becomes a new instance: its state is dropped and rebuilt by the
        class's ``__init__`` and ``initialize()`` — except the brokerage's securities, portfolio
        and cash, which a live LEAN loads from the brokerage after ``initialize()``."""
        now = algorithm.time
        securities, portfolio, cash = algorithm.securities, algorithm.portfolio, algorithm.portfolio.cash
        for event in algorithm.schedule._events:
            event.callback = _stopped
        if self.while_down is not None:
            brokerage = self.engine.brokerage
            emit, brokerage._emit = brokerage._emit, _nobody  # no instance runs to hear of it
            try:
                self.while_down(self.engine)
            finally:
                brokerage._emit = emit
        algorithm.__dict__.clear()
        type(algorithm).__init__(algorithm)
        algorithm.securities, algorithm.portfolio = securities, portfolio
        algorithm._attach(self.engine)
        algorithm._time, algorithm._clock_started = now, True  # a live initialize() runs at the current time
        algorithm.initialize()
        portfolio.cash = cash  # set_cash in initialize() is ignored live: the brokerage's cash counts
        unique = {option.symbol: option for option in self.engine._options}  # add_option ran again
        self.engine._options[:] = list(unique.values())
        self.restarts.append(RestartRecord(now))
        if self.before_first_slice is not None:
            self.before_first_slice(self.engine)

    def _record(self, algorithm: QCAlgorithm) -> None:
        record = self.restarts[-1]
        adapter = getattr(algorithm, "adapter", None)
        report = getattr(getattr(adapter, "restart", None), "report", None)  # lean_restore.FirstSlice
        bot = getattr(adapter, "bot", None)
        record.trading_state = bot.session.trading_state.value if bot is not None else "n/a"
        if report is None:
            return
        record.restored, record.dropped = list(report.restored), list(report.dropped)
        record.conflicts, record.resized = list(report.conflicts), list(report.resized)
        record.orders = [decision.as_dict() for decision in report.orders]
        record.holdings = [decision.as_dict() for decision in report.holdings]

    def summary_lines(self) -> list[str]:
        lines = []
        for record in self.restarts:
            lines.append(
                f"  restart           {record.at:%Y-%m-%d %H:%M}: positions {len(record.restored)} restored, "
                f"{len(record.dropped)} dropped, {len(record.conflicts)} in conflict; orders "
                f"{record.count('adopt')} adopted, {record.count('cancel')} cancelled, {record.count('flag')} "
                f"flagged; holdings {record.count_holdings('adopt')} adopted, {record.count_holdings('flag')} "
                f"flagged; trading state {record.trading_state}")
            lines += [f"                    {line}" for line in record.resized]
        return lines


def drill_setup(moments: Sequence[datetime], while_down: Hook | None = None,
                before_first_slice: Hook | None = None) -> tuple[dict[str, Any], list[Drill]]:
    """Keyword arguments for ``harness.runner.run`` that drill a run at ``moments`` (live mode),
    and the list that receives the installed drill."""
    installed: list[Drill] = []

    def configure(engine: HarnessEngine) -> None:
        drill = Drill(engine, moments, while_down, before_first_slice)
        drill.install()
        installed.append(drill)

    return ({"configure": configure, "live_mode": True} if moments else {}), installed
