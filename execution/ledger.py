"""The exposure ledger: per contract, what is held plus every order that could still fill.

One picture of exposure for everything that needs one: the pre-trade gateway and every risk limit
(execution/risk/risk_context.py), what is already being closed (``closing``), the snapshot and so
the sidecar. Working orders come from every place that sends them: the order executor (entries,
exits, requests of people and agents, adopted orders of a previous run), the roll manager (both
legs of a combo while it can still fill) and the restart reconciliation (old orders being
cancelled). Risk limits count what could fill, not only what has filled.

The ledger holds no state of its own: it reads its sources each time, so it can never drift from
them. Each source is a callable returning ``WorkingLeg`` values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkingLeg:
    """Signed contracts of one order (or one combo leg) still to fill."""

    ref: str  # the client id, the roll id, or "lean:<order id>" for an unknown order of a previous run
    symbol: str
    remaining: int
    purpose: str
    position_id: str | None = None
    lean_order_ids: tuple[int, ...] = ()
    source: str = "bot"  # bot | roll | previous_run

    def as_dict(self) -> dict[str, object]:
        return {"ref": self.ref, "symbol": self.symbol, "remaining": self.remaining, "purpose": self.purpose,
                "position_id": self.position_id, "lean_order_ids": list(self.lean_order_ids),
                "source": self.source}


LegSource = Callable[[], Iterable[WorkingLeg]]


class ExposureLedger:
    def __init__(self, held: Callable[[], Mapping[str, int]], sources: Iterable[LegSource] = ()) -> None:
        self._held = held
        self._sources: list[LegSource] = list(sources)

    def add_source(self, source: LegSource) -> None:
        self._sources.append(source)

    def held(self) -> dict[str, int]:
        """Signed contracts held per contract (zero holdings left out)."""
        return {symbol: qty for symbol, qty in self._held().items() if qty}

    def working(self) -> list[WorkingLeg]:
        return [leg for source in self._sources for leg in source() if leg.remaining]

    def pending(self) -> dict[str, int]:
        """Signed contracts still to fill per contract, over every working order and leg."""
        out: dict[str, int] = {}
        for leg in self.working():
            out[leg.symbol] = out.get(leg.symbol, 0) + leg.remaining
        return {symbol: qty for symbol, qty in out.items() if qty}

    def exposure(self, symbol: str) -> int:
        """Held plus working: where the contract ends if everything working fills."""
        return self._held().get(symbol, 0) + sum(leg.remaining for leg in self.working() if leg.symbol == symbol)

    def closing(self, symbol: str, held: int) -> int:
        """Contracts of a holding ``held`` that working orders already close (every working order
        or roll leg on that contract that goes against it, whoever placed it)."""
        if not held:
            return 0
        return sum(abs(leg.remaining) for leg in self.working()
                   if leg.symbol == symbol and (leg.remaining > 0) != (held > 0))

    def working_symbols(self) -> set[str]:
        """Contracts with any working order or leg (whatever its direction)."""
        return {leg.symbol for leg in self.working()}

    def open_contracts(self) -> set[str]:
        """Contracts that are, or could become, a position: held, or with any working order (legs
        fill in any order: a buy and a sell that net to zero can each fill alone)."""
        return set(self.held()) | self.working_symbols()
