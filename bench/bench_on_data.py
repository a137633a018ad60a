"""The bot's own per-slice work (issue 3), printed figures:

1. ``on_data`` (the adapter + bot, not the harness) per slice with a ~400-contract chain and 20
   bot-managed positions: median µs (goal <= 100 µs).
2. Its growth from a ~100- to a ~2,000-contract chain (goal <= 1.2x): held contracts are looked up
   by symbol, the chain is never scanned while the entry rule is idle.
3. LEAN-object attribute reads per slice, counted by the harness's fake contracts (each one is a
   pythonnet crossing in real LEAN): goal <= 10 x positions + 20, independent of chain size.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.runner import install_fake_lean, load_algorithm_class, load_parameters  # noqa: E402

install_fake_lean()

from execution.bot_managed_positions import BotManagedPosition  # noqa: E402
from execution.lean_adapter import quote_from_contract  # noqa: E402
from harness.engine import OPEN, HarnessEngine  # noqa: E402
from harness.lean_data import Slice  # noqa: E402
from harness.market import MarketConfig  # noqa: E402
from harness.trading_calendar import trading_days  # noqa: E402

POSITIONS = 20
MINUTES = 300


def measure(filter_strikes: int, max_dte: int, positions: int = POSITIONS) -> tuple[int, float, float]:
    """(chain size, median µs per on_data, attribute reads per slice)."""
    params = load_parameters(ROOT / "config.json")
    day = trading_days(datetime(2015, 12, 23).date(), 1)[0]
    params.update({"filter_strikes": str(filter_strikes), "filter_max_dte": str(max_dte), "entry_enabled": "false",
                   "start_date": day.isoformat(), "end_date": day.isoformat(), "exit_dte": "0",
                   "profit_ladder": "0.95:0.5", "stop_loss_pct": "20",
                   # rolls stay on (their checks are part of the cost) but none is due
                   "roll_dte": "1", "roll_pnl": "0"})
    with tempfile.TemporaryDirectory() as tmp:
        engine = HarnessEngine(load_algorithm_class(), params, Path(tmp),
                               market_config=MarketConfig(strikes_each_side=70, weekly_count=8, monthly_count=4))
        algorithm = engine.algorithm
        algorithm.initialize()
        market = engine.market()
        market.start_day(day)
        engine._build_chains(day)
        adapter = algorithm.adapter
        chain = next(iter(engine._chains.values()))
        open_at = datetime.combine(day, OPEN)
        algorithm._time = open_at + timedelta(minutes=1)
        market.advance(algorithm._time)
        # positions spread over the chain, in contracts with a two-sided quote (bid > 0)
        contracts = sorted((c for c in chain if c.bid_price > 0.5 and (c.expiry.date() - day).days > 3),
                           key=lambda c: (c.expiry, c.strike, str(c.right)))
        step = max(1, len(contracts) // positions)
        for n, contract in enumerate(contracts[::step][:positions]):
            key = adapter.broker.remember(contract.symbol)
            quote = quote_from_contract(contract)
            adapter.broker.static[key] = quote
            position = BotManagedPosition(
                id=f"B{n:03d}", symbol=key, underlying="GOOG", right=quote.right, strike=quote.strike,
                expiry=quote.expiry, multiplier=100.0, opened_at=algorithm._time, quantity=-1,
                entry_price=max(quote.mid, 0.05))
            adapter.bot.book.add(position)
        timings, reads = [], []
        for minute in range(2, MINUTES + 2):
            now = open_at + timedelta(minutes=minute)
            algorithm._time = now
            market.advance(now)
            chain.underlying.price = market.spot
            data = Slice(now, engine._chains)
            before = market.book.reads
            start = time.perf_counter_ns()
            adapter.on_data(data)
            timings.append((time.perf_counter_ns() - start) / 1000)
            reads.append(market.book.reads - before)
        bot = adapter.bot
        assert bot.counters["orders_submitted"] == 0, "the bench must measure management, not orders"
        assert bot.counters["component_failures"] == 0
        assert len(bot.book.open_positions()) == positions
        missing = [(p.symbol, p.mark_price) for p in bot.book.open_positions() if p.greeks_source is None]
        assert not missing, missing
        return len(chain), statistics.median(timings), statistics.mean(reads)


def main() -> None:
    sizes = {"~100": (8, 21), "~400": (14, 45), "~2,000": (50, 75)}
    results = {label: measure(*args) for label, args in sizes.items()}
    for label, (size, median_us, reads) in results.items():
        print(f"on_data with {size:,} contracts ({label}) and {POSITIONS} positions: median {median_us:,.1f} µs/slice, "
              f"{reads:.1f} attribute reads/slice (limit {10 * POSITIONS + 20})")
    small, large = results["~100"][1], results["~2,000"][1]
    print(f"growth ~100 -> ~2,000 contracts: {large / small:.2f}x (goal <= 1.2x); "
          f"~400-contract median {results['~400'][1]:,.1f} µs (goal <= 100 µs)")


if __name__ == "__main__":
    main()
