"""Reader of LEAN's on-disk data folder (the ``data/`` that ``lean init`` downloads).

Formats, as LEAN writes them (``Common/Util/LeanData.cs``, ``Common/Data/Market/QuoteBar.cs``,
``TradeBar.cs``, ``OpenInterest.cs``):

- ``equity/usa/minute/<t>/<yyyymmdd>_{trade,quote}.zip``: one CSV; ``option/usa/minute/<t>/
  <yyyymmdd>_{trade,quote,openinterest}_american.zip``: one CSV per contract named
  ``<yyyymmdd>_<t>_minute_<kind>_american_<call|put>_<strike x 10000>_<expiry yyyymmdd>.csv``.
- A row starts with the bar's start in milliseconds since midnight New York; prices are
  integers x 10000. Trade rows: ms, open, high, low, close, volume. Quote rows: ms, bid OHLC,
  bid size, ask OHLC, ask size. Open interest rows: ms, value.
- ``option/usa/universes/<t>/<yyyymmdd>.csv``: the day's chain (header, the underlying's row,
  then expiry, strike, right, OHLC, volume, open interest, IV and Greeks per contract).
- ``equity/usa/map_files``, ``factor_files``, ``symbol-properties``, ``alternative/interest-rate``.

Everything is read lazily (only what a subscription asks for) and cached per file. A missing or
unreadable file gives one warning naming the file and the day, and an empty result: LEAN logs
and skips such a file, it does not stop the backtest.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.market_hours import ExchangeHours, load_exchange_hours

SCALE = 10_000.0
TRADE_COLUMNS = 6
QUOTE_COLUMNS = 11
OPEN_INTEREST_COLUMNS = 2


@dataclass(frozen=True)
class ContractKey:
    """(right, strike, expiry) of one option contract file; ``right`` is "call" or "put"."""

    right: str
    strike: float
    expiry: date


@dataclass(frozen=True)
class UniverseRow:
    expiry: date
    strike: float
    right: str  # "C" or "P"
    close: float
    open_interest: float
    volume: float = 0.0
    # implied volatility and Greeks as LEAN's universe generator computed them (0 when absent)
    implied_volatility: float = 0.0
    greeks: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)  # delta, gamma, vega, theta, rho


def _parse_rows(text: str, columns: int) -> np.ndarray:
    """CSV text of numbers -> float array (rows, columns); empty fields are NaN, prices x 10000."""
    if not text.strip():
        return np.zeros((0, columns))
    tokens = text.replace("\r", "").replace("\n", ",").strip(",").split(",")
    if "" in tokens:  # an empty side of a quote bar (no bid or no ask that minute)
        tokens = [t or "nan" for t in tokens]
    flat = np.array(tokens, dtype=float)
    if flat.size % columns:
        raise ValueError(f"expected {columns} columns per row, got {flat.size} values")
    return flat.reshape(-1, columns)


class LeanDataFolder:
    """One LEAN data folder. ``warn`` receives one message per unreadable file."""

    def __init__(self, root: Path, warn: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.warnings: list[str] = []
        self._warn_sink = warn
        self._zip_members: dict[Path, dict[str, str] | None] = {}
        self._archives: dict[Path, zipfile.ZipFile] = {}  # open once: a day's option zip lists ~2,000 files
        self.points_read = 0

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            if self._warn_sink is not None:
                self._warn_sink(message)

    def close(self) -> None:
        """Close the zip files read so far (their member lists stay cached)."""
        for archive in self._archives.values():
            archive.close()
        self._archives.clear()
        self._zip_members.clear()

    def has_equity(self, ticker: str) -> bool:
        return (self.root / "equity" / "usa" / "minute" / ticker.lower()).is_dir()

    # -- market hours, properties, rates -------------------------------------------------
    def exchange_hours(self, security_type: str, market: str = "usa", ticker: str = "[*]") -> ExchangeHours:
        return load_exchange_hours(self.root / "market-hours" / "market-hours-database.json",
                                   security_type, market, ticker)

    def symbol_properties(self, market: str, security_type: str, ticker: str) -> tuple[float, float]:
        """(contract multiplier, minimum price variation); ``[*]`` rows are the fallback."""
        return _symbol_properties(self.root / "symbol-properties" / "symbol-properties-database.csv",
                                  market.lower(), security_type.lower(), ticker.upper())

    def risk_free_rate(self, day: date) -> float:
        """LEAN's InterestRateProvider: the last rate on or before ``day``, as a fraction."""
        rates = _interest_rates(self.root / "alternative" / "interest-rate" / "usa" / "interest-rate.csv")
        value = 0.01  # LEAN's default when the file has nothing yet
        for when, rate in rates:
            if when > day:
                break
            value = rate
        return value

    def map_file(self, ticker: str) -> list[tuple[date, str]]:
        path = self.root / "equity" / "usa" / "map_files" / f"{ticker.lower()}.csv"
        return [(datetime.strptime(r[0], "%Y%m%d").date(), r[1]) for r in self._csv(path) if len(r) >= 2]

    def factor_file(self, ticker: str) -> list[tuple[date, float, float]]:
        """(date, price factor, split factor) rows, LEAN's CorporateFactorRow."""
        path = self.root / "equity" / "usa" / "factor_files" / f"{ticker.lower()}.csv"
        return [(datetime.strptime(r[0], "%Y%m%d").date(), float(r[1]), float(r[2]))
                for r in self._csv(path) if len(r) >= 3]

    def price_factor(self, ticker: str, day: date) -> float:
        """The adjusted-price factor LEAN applies on ``day`` (first row dated after it)."""
        for when, price_factor, split_factor in self.factor_file(ticker):
            if when > day:
                return price_factor * split_factor
        return 1.0

    def _csv(self, path: Path) -> list[list[str]]:
        try:
            return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
        except OSError as exc:
            self._warn(f"cannot read {path}: {exc}")
            return []

    # -- minute bars ---------------------------------------------------------------------
    def _members(self, path: Path, day: date) -> dict[str, str] | None:
        """{entry name: entry name} of a zip (cached); None and a warning when unreadable."""
        if path not in self._zip_members:
            try:
                archive = zipfile.ZipFile(path)
                self._archives[path] = archive
                self._zip_members[path] = {n: n for n in archive.namelist()}
            except FileNotFoundError:
                self._warn(f"missing data file {path} for {day:%Y-%m-%d}: skipped")
                self._zip_members[path] = None
            except (zipfile.BadZipFile, OSError) as exc:
                self._warn(f"corrupt data file {path} for {day:%Y-%m-%d}: {exc}; skipped")
                self._zip_members[path] = None
        return self._zip_members[path]

    def _read_member(self, path: Path, member: str | None, day: date, columns: int) -> np.ndarray | None:
        names = self._members(path, day)
        if names is None:
            return None
        if member is None:
            member = next(iter(names), None)
        if member is None or member not in names:
            return None
        try:
            rows = _parse_rows(self._archives[path].read(member).decode("ascii"), columns)
        except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError) as exc:
            self._warn(f"corrupt data in {path}:{member} for {day:%Y-%m-%d}: {exc}; skipped")
            return None
        self.points_read += len(rows)
        return rows

    def equity_minute(self, ticker: str, day: date, kind: str) -> np.ndarray | None:
        """Rows of the day's equity ``trade`` or ``quote`` file, prices in dollars."""
        path = self.root / "equity" / "usa" / "minute" / ticker.lower() / f"{day:%Y%m%d}_{kind}.zip"
        rows = self._read_member(path, None, day, TRADE_COLUMNS if kind == "trade" else QUOTE_COLUMNS)
        return None if rows is None else _to_dollars(rows, kind)

    def option_contracts(self, ticker: str, day: date, kind: str = "quote") -> dict[ContractKey, str]:
        """The contracts that have a ``kind`` file in the day's option zip."""
        path = self._option_zip(ticker, day, kind)
        names = self._members(path, day)
        out: dict[ContractKey, str] = {}
        for name in names or ():
            key = _contract_key(name)
            if key is not None:
                out[key] = name
        return out

    def option_minute(self, ticker: str, day: date, kind: str, key: ContractKey) -> np.ndarray | None:
        path = self._option_zip(ticker, day, kind)
        member = (f"{day:%Y%m%d}_{ticker.lower()}_minute_{kind}_american_{key.right}_"
                  f"{round(key.strike * SCALE)}_{key.expiry:%Y%m%d}.csv")
        columns = {"trade": TRADE_COLUMNS, "quote": QUOTE_COLUMNS}.get(kind, OPEN_INTEREST_COLUMNS)
        names = self._members(path, day)
        if names is None or member not in names:
            return None
        rows = self._read_member(path, member, day, columns)
        return None if rows is None else _to_dollars(rows, kind)

    def _option_zip(self, ticker: str, day: date, kind: str) -> Path:
        return self.root / "option" / "usa" / "minute" / ticker.lower() / f"{day:%Y%m%d}_{kind}_american.zip"

    # -- universes -----------------------------------------------------------------------
    def option_universe(self, ticker: str, day: date) -> tuple[float, list[UniverseRow]] | None:
        """(underlying close of the previous session, contracts) of the day's universe file."""
        path = self.root / "option" / "usa" / "universes" / ticker.lower() / f"{day:%Y%m%d}.csv"
        if not path.is_file():
            self._warn(f"missing option universe file {path} for {day:%Y-%m-%d}: no chain that day")
            return None
        try:
            rows = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
                    if r and not r[0].startswith("#")]
            underlying = float(rows[0][6])
            contracts = [UniverseRow(datetime.strptime(r[0], "%Y%m%d").date(), float(r[1]), r[2], float(r[6] or 0),
                                     float(r[8] or 0), float(r[7] or 0), float(r[9] or 0) if len(r) > 9 else 0.0,
                                     tuple(float(v or 0) for v in (r[10:15] + [""] * 5)[:5]))  # type: ignore[arg-type]
                         for r in rows[1:]]
        except (OSError, ValueError, IndexError) as exc:
            self._warn(f"corrupt option universe file {path} for {day:%Y-%m-%d}: {exc}; no chain that day")
            return None
        return underlying, contracts


def _to_dollars(rows: np.ndarray, kind: str) -> np.ndarray:
    out = rows.copy()
    if kind == "trade":
        out[:, 1:5] /= SCALE
    elif kind == "quote":
        out[:, 1:5] /= SCALE
        out[:, 6:10] /= SCALE
    return out


def _contract_key(name: str) -> ContractKey | None:
    parts = name.rsplit(".", 1)[0].split("_")
    if len(parts) < 8:
        return None
    try:
        return ContractKey(parts[-3], int(parts[-2]) / SCALE, datetime.strptime(parts[-1], "%Y%m%d").date())
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _interest_rates(path: Path) -> tuple[tuple[date, float], ...]:
    if not path.is_file():
        return ()
    out = []
    for row in csv.reader(path.read_text(encoding="utf-8").splitlines()[1:]):
        if len(row) >= 2 and row[1]:
            out.append((date.fromisoformat(row[0]), float(row[1]) / 100.0))
    return tuple(sorted(out))


@lru_cache(maxsize=32)
def _symbol_properties(path: Path, market: str, security_type: str, ticker: str) -> tuple[float, float]:
    default = (100.0, 0.01) if security_type == "option" else (1.0, 0.01)
    if not path.is_file():
        return default
    found: dict[str, tuple[float, float]] = {}
    for row in csv.reader(path.read_text(encoding="utf-8").splitlines()):
        if len(row) >= 7 and row[0].lower() == market and row[2].lower() == security_type:
            found[row[1].upper()] = (float(row[5]), float(row[6]))
    return found.get(ticker, found.get("[*]", default))
