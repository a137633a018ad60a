"""The default entry rule finds a contract in LEAN's real GOOG sample chain (third-party data)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from execution.positions.entry_rule import choose_entry
from models.bot_config import BotConfig, Right
from models.market_data import ContractQuote

ROOT = Path(__file__).resolve().parent.parent
UNIVERSE = ROOT.parent / "shared" / "lean-data" / "option" / "usa" / "universes" / "goog" / "20151224.csv"


@pytest.mark.skipif(not UNIVERSE.is_file(), reason="LEAN sample data (../shared/lean-data) is not present")
def test_default_config_selects_a_30_delta_put_from_the_2015_12_24_chain():
    rows = list(csv.reader(UNIVERSE.read_text().splitlines()))
    spot = float(rows[1][6])  # the underlying's line: empty expiry/strike/right, then OHLC
    quotes = []
    for expiry, strike, right, _o, _h, _l, close, _v, oi, iv, delta, *_ in rows[2:]:
        if not iv:
            continue
        quotes.append(ContractQuote(f"{expiry}{right}{strike}", Right.CALL if right == "C" else Right.PUT,
                                    float(strike), datetime.strptime(expiry, "%Y%m%d").date(),
                                    float(close) * 0.99, float(close) * 1.01, float(oi or 0), float(iv),
                                    float(delta)))
    parameters = json.loads((ROOT / "config.json").read_text())["parameters"]
    config = BotConfig.from_parameters(parameters.get)

    decision = choose_entry(config, quotes, spot, datetime(2015, 12, 24, 10, 0), config.risk_free_rate)

    assert decision is not None
    assert decision.quote.right == Right.PUT and decision.quote.expiry == date(2016, 1, 22)
    assert abs(abs(decision.delta) - 0.30) < 0.05
