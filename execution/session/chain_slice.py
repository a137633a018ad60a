"""A compact slice of the option chain for the state snapshot, so that the sidecar's MCP tool
``get_option_chain`` sees contracts the bot does not hold (the sidecar never sees LEAN's chain).

The LEAN adapter hands ``ChainSliceRecorder.capture`` the filtered chain's quotes at most once per
``interval`` of algorithm time (``due``); the snapshot carries the last capture. ``compact_chain``
keeps at most ``limit`` contracts: every expiry the chain filter lets through gets an equal (even)
share, filled with the strikes nearest the money (a strike's call and put together), then the rest
of the budget goes to the nearest strikes left over. Each contract carries its quote, mark (the mid of a two-sided
quote), open interest when LEAN reports one, and delta, vega and IV: LEAN's when it has Greeks
(``greeks_source`` "market"), else our Black-Scholes from the mid in one vectorised solve
("calculated"), else none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from execution.positions.entry_rule import years_to_expiry
from models.bot_config import Right
from models.market_data import ContractQuote
from models.option_greeks import greeks_from_mids
from utils.object_store_schema import ChainContract, OptionChainSlice

CHAIN_SLICE_LIMIT = 200


def _select(quotes: Sequence[ContractQuote], spot: float, limit: int) -> list[ContractQuote]:
    """At most ``limit`` quotes: an equal share per expiry, nearest the money first, then the rest."""
    by_expiry: dict[object, list[ContractQuote]] = {}
    for quote in sorted(quotes, key=lambda q: (abs(q.strike - spot), q.strike, q.right.value, q.symbol)):
        by_expiry.setdefault(quote.expiry, []).append(quote)
    share = max(2, limit // max(1, len(by_expiry)) // 2 * 2)  # even: a strike's call and put together
    chosen = [q for group in by_expiry.values() for q in group[:share]][:limit]
    if len(chosen) < limit:
        rest = sorted((q for group in by_expiry.values() for q in group[share:]),
                      key=lambda q: (abs(q.strike - spot), q.expiry, q.strike, q.right.value))
        chosen += rest[:limit - len(chosen)]
    return sorted(chosen, key=lambda q: (q.expiry, q.right.value, q.strike))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def compact_chain(quotes: Sequence[ContractQuote], spot: float | None, now: datetime, as_of: datetime,
                  rate: float, limit: int = CHAIN_SLICE_LIMIT) -> OptionChainSlice:
    """The snapshot's chain slice of ``quotes`` at ``now`` (exchange time; ``as_of`` is UTC)."""
    chosen = _select(quotes, spot or 0.0, limit) if quotes else []
    mids = [q.mid if q.has_two_sided_quote else None for q in chosen]
    missing = [i for i, q in enumerate(chosen) if not q.has_market_greeks and mids[i] is not None]
    calculated: dict[int, tuple[float, float, float]] = {}
    if missing and spot:
        solved = greeks_from_mids([chosen[i].right == Right.CALL for i in missing], [mids[i] for i in missing],
                                  spot, [chosen[i].strike for i in missing],
                                  [years_to_expiry(chosen[i].expiry, now) for i in missing], rate)
        calculated = {i: (g.delta, g.vega, g.iv) for i, g in zip(missing, solved, strict=True) if g is not None}
    contracts = []
    for i, q in enumerate(chosen):
        source: str | None = None
        delta = vega = iv = None
        if q.has_market_greeks:
            source, delta, vega, iv = "market", _finite(q.delta), _finite(q.vega), _finite(q.iv)
        elif i in calculated:
            source = "calculated"
            delta, vega, iv = (_finite(v) for v in calculated[i])
        mark = mids[i]
        contracts.append(ChainContract(
            symbol=q.symbol, right=q.right.value, strike=q.strike, expiry=q.expiry.isoformat(),
            bid=_finite(q.bid), ask=_finite(q.ask), mark=None if mark is None else round(mark, 4),
            delta=None if delta is None else round(delta, 6), vega=None if vega is None else round(vega, 6),
            iv=None if iv is None else round(iv, 6),
            open_interest=int(q.open_interest) if q.open_interest > 0 and np.isfinite(q.open_interest) else None,
            greeks_source=source))
    return OptionChainSlice(as_of=as_of, underlying_price=spot, contracts=contracts, chain_size=len(quotes))


class ChainSliceRecorder:
    """Holds the last chain slice; ``due`` says when the adapter should read the chain again."""

    def __init__(self, interval: timedelta, rate: float, limit: int = CHAIN_SLICE_LIMIT) -> None:
        self.interval = interval
        self.rate = rate
        self.limit = limit
        self.last: OptionChainSlice | None = None
        self._next: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self._next is None or now >= self._next

    def capture(self, now: datetime, as_of: datetime, spot: float | None, quotes: Sequence[ContractQuote]) -> None:
        self._next = now + self.interval
        self.last = compact_chain(quotes, spot, now, as_of, self.rate, self.limit)

    def current(self) -> OptionChainSlice | None:
        return self.last
