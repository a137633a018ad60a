"""The reader of LEAN's on-disk format (harness/lean_disk.py, harness/market_hours.py) on LEAN's
own GOOG sample data, and on broken copies of it (a missing or corrupt file warns and skips)."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest

from harness.lean_disk import ContractKey, LeanDataFolder
from tests.lean_data_paths import LEAN_DATA, needs_lean_data

pytestmark = needs_lean_data
DEC24 = date(2015, 12, 24)


def test_equity_trade_rows_are_ms_since_midnight_and_prices_divided_by_10000():
    rows = LeanDataFolder(LEAN_DATA).equity_minute("GOOG", DEC24, "trade")

    assert rows is not None
    assert rows[0, 0] == 34_080_000  # 09:28 (a pre-market bar, kept by the reader)
    assert rows[0, 4] == pytest.approx(750.30)  # 7503000 / 10000


def test_option_quote_file_of_one_contract_is_read_lazily_from_the_days_zip():
    folder = LeanDataFolder(LEAN_DATA)
    contracts = folder.option_contracts("goog", DEC24)
    key = ContractKey("call", 520.0, date(2016, 1, 15))

    rows = folder.option_minute("goog", DEC24, "quote", key)

    assert len(contracts) == 2192 and key in contracts
    assert rows is not None and rows.shape[1] == 11
    assert rows[0, 0] == 34_200_000 and rows[0, 4] == pytest.approx(227.3)  # bid close 2273000
    assert rows[0, 9] == pytest.approx(230.8)  # ask close
    assert folder.points_read == len(rows)  # nothing else was parsed


def test_an_empty_quote_side_is_nan_not_a_crash():
    key = ContractKey("call", 1000.0, DEC24)
    rows = LeanDataFolder(LEAN_DATA).option_minute("goog", DEC24, "quote", key)

    assert rows is not None and rows[0, 4] != rows[0, 4]  # NaN bid
    assert rows[0, 9] == pytest.approx(0.5)


def test_a_missing_file_gives_one_warning_naming_file_and_day():
    warnings: list[str] = []
    folder = LeanDataFolder(LEAN_DATA, warn=warnings.append)

    assert folder.equity_minute("goog", date(2015, 12, 23), "quote") is None  # not in the sample
    assert folder.equity_minute("goog", date(2015, 12, 23), "quote") is None

    assert len(warnings) == 1
    assert "20151223_quote.zip" in warnings[0] and "2015-12-23" in warnings[0]


def test_a_corrupt_zip_and_a_corrupt_csv_are_skipped_with_a_warning(tmp_path: Path):
    root = tmp_path / "data"
    shutil.copytree(LEAN_DATA / "market-hours", root / "market-hours")
    minute = root / "equity" / "usa" / "minute" / "goog"
    minute.mkdir(parents=True)
    (minute / "20151224_trade.zip").write_bytes(b"not a zip")
    with zipfile.ZipFile(minute / "20151224_quote.zip", "w") as archive:
        archive.writestr("20151224_goog_minute_quote.csv", "34200000,1,2\nbroken")
    warnings: list[str] = []
    folder = LeanDataFolder(root, warn=warnings.append)

    assert folder.equity_minute("goog", DEC24, "trade") is None
    assert folder.equity_minute("goog", DEC24, "quote") is None
    assert any("corrupt data file" in w and "20151224_trade.zip" in w and "2015-12-24" in w for w in warnings)
    assert any("corrupt data in" in w and "20151224_quote.zip" in w for w in warnings)


def test_market_hours_close_early_on_christmas_eve_and_skip_christmas_for_stock_and_options():
    folder = LeanDataFolder(LEAN_DATA)
    for kind in ("Equity", "Option"):  # the option entry inherits the equity's holidays and early closes
        hours = folder.exchange_hours(kind)
        assert hours.market_close(DEC24) == datetime(2015, 12, 24, 13, 0), kind
        assert hours.market_close(date(2015, 12, 23)) == datetime(2015, 12, 23, 16, 0), kind
        assert not hours.is_trading_day(date(2015, 12, 25)), kind
        assert hours.next_trading_day(DEC24) == date(2015, 12, 28), kind
        assert hours.is_open(datetime(2015, 12, 24, 12, 59)) and not hours.is_open(datetime(2015, 12, 24, 13, 0))
    equity = folder.exchange_hours("Equity")
    assert equity.is_open(datetime(2015, 12, 23, 8, 0), extended=True)
    assert not equity.is_open(datetime(2015, 12, 23, 8, 0))
    assert equity.sessions[0][1].start == time(9, 30)


def test_universe_symbol_properties_rates_and_factor_files():
    folder = LeanDataFolder(LEAN_DATA)
    universe = folder.option_universe("goog", date(2015, 12, 23))

    assert universe is not None
    underlying, rows = universe
    assert underlying > 700 and any(r.expiry == DEC24 for r in rows)
    assert folder.symbol_properties("usa", "option", "GOOG") == (100.0, 0.01)
    assert folder.symbol_properties("usa", "equity", "GOOG") == (1.0, 0.01)
    assert folder.risk_free_rate(DEC24) == pytest.approx(0.01)  # 1.00 % since 2015-12-17
    assert folder.price_factor("goog", DEC24) == 1.0
    assert folder.map_file("goog")[-1][1] == "goog"
