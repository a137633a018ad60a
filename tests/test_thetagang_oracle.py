"""thetagang 2.1.1 as the oracle of the roll and entry rules (issue 19).

Each test runs thetagang's own decision functions with its broker (``ibkr``) and configuration
mocked, on the same scenario the project decides, with the project's parameters set to thetagang's
semantics (``roll_atm_is_itm`` true, ``roll_target_choice`` soonest_expiry, economics off, strike
limits off where thetagang has none). Where the project deliberately differs by default, a test
below names the difference and why (``test_difference_*``).

thetagang functions used (package ``thetagang`` 2.1.1, installed by the ``oracle`` extra):
- ``strategies/options_engine.py`` ``OptionsStrategyEngine.put_can_be_rolled`` / ``call_can_be_rolled``
  (when to roll) and ``roll_positions`` (close when unable to roll, ``NoValidContractsError`` branch);
- ``trading_operations.py`` ``OptionChainScanner.find_eligible_contracts`` (which contract);
- ``portfolio_manager.py`` ``PortfolioManager.get_write_threshold`` (minimum move before writing).
The red/green rule lives in closures inside ``check_for_uncovered_positions`` /
``check_if_can_write_puts`` (``is_ok_to_write_calls`` / ``is_ok_to_write_puts``), which cannot be
called on their own; it is checked against that source, quoted in ``test_red_green_*``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest

thetagang = pytest.importorskip("thetagang", reason="the oracle extra (pip install -e '.[oracle]') is not installed")

from ib_async import PortfolioItem  # noqa: E402
from ib_async.contract import Option, Stock  # noqa: E402
from thetagang.portfolio_manager import PortfolioManager  # noqa: E402
from thetagang.strategies.options_engine import OptionsStrategyEngine  # noqa: E402
from thetagang.trading_operations import NoValidContractsError, OptionChainScanner  # noqa: E402

from execution.bot_managed_positions import BotManagedPosition  # noqa: E402
from execution.positions.entry_conditions import check_entry, day_colour_allows, move_threshold  # noqa: E402
from execution.rolls.roll_rules import RollAction, RollDecision, RollRule, resolve_no_target, should_roll  # noqa: E402
from execution.rolls.roll_target import NoRollTarget, RollTarget, find_roll_target  # noqa: E402
from models.bot_config import BotConfig, Right  # noqa: E402
from models.market_data import ContractQuote  # noqa: E402
from models.roll_config import CloseIfUnable, PutStrikeCap, RollConfig, TargetChoice  # noqa: E402

TODAY = date.today()  # thetagang's option_dte counts from date.today()
STRIKE, ENTRY, QTY = 100.0, 2.0, -2
SPOTS = {"otm": {Right.PUT: 105.0, Right.CALL: 95.0}, "atm": {Right.PUT: 100.0, Right.CALL: 100.0},
         "itm": {Right.PUT: 95.0, Right.CALL: 105.0}}


def ib_expiry(day: date) -> str:
    return f"{day:%Y%m%d}"


def osi(expiry: date, right: Right, strike: float) -> str:
    return f"{'GOOG':<6}{expiry:%y%m%d}{'C' if right == Right.CALL else 'P'}{round(strike * 1000):08d}"


# --- when to roll ---------------------------------------------------------------------------------

def roll_when(*, dte: int, pnl: float, min_pnl: float, max_dte: int | None, itm: bool, always: bool) -> Any:
    side = SimpleNamespace(itm=itm, always_when_itm=always, has_excess=True, credit_only=False)
    return SimpleNamespace(dte=dte, pnl=pnl, min_pnl=min_pnl, max_dte=max_dte, close_at_pnl=0.0,
                           puts=side, calls=side)


def engine(rw: Any, spot: float) -> OptionsStrategyEngine:
    config = SimpleNamespace(trading_is_allowed=lambda symbol: True,
                             strategies=SimpleNamespace(wheel=SimpleNamespace(defaults=SimpleNamespace(roll_when=rw))))
    ibkr = MagicMock()
    ibkr.get_ticker_for_stock = AsyncMock(return_value=SimpleNamespace(marketPrice=lambda: spot))
    return OptionsStrategyEngine(config=config, ibkr=ibkr, option_scanner=MagicMock(), order_ops=MagicMock(),
                                 services=MagicMock(), target_quantities={}, has_excess_puts=set(),
                                 has_excess_calls=set(), qualified_contracts={})


def portfolio_item(right: Right, dte: int, mark: float) -> PortfolioItem:
    contract = Option("GOOG", ib_expiry(TODAY + timedelta(days=dte)), STRIKE, "P" if right == Right.PUT else "C",
                      "SMART", multiplier="100")
    average_cost = ENTRY * 100  # IB: per contract, premium x multiplier
    unrealized = (average_cost - mark * 100) * abs(QTY)  # a short position gains as the mark falls
    return PortfolioItem(contract, QTY, mark, -mark * 100 * abs(QTY), average_cost, unrealized, 0.0, "DU1")


def project_position(right: Right, dte: int, mark: float, spot: float) -> BotManagedPosition:
    expiry = TODAY + timedelta(days=dte)
    return BotManagedPosition(id="P1", symbol=osi(expiry, right, STRIKE), underlying="GOOG", right=right,
                              strike=STRIKE, expiry=expiry, multiplier=100.0, opened_at=None,  # type: ignore[arg-type]
                              quantity=QTY, entry_price=ENTRY, mark_price=mark, underlying_price=spot)


def thetagang_rolls(right: Right, rw: Any, spot: float, dte: int, mark: float) -> bool:
    tg = engine(rw, spot)
    item = portfolio_item(right, dte, mark)
    check = tg.put_can_be_rolled if right == Right.PUT else tg.call_can_be_rolled
    return asyncio.run(check(item, MagicMock()))


def project_rolls(right: Right, rw: Any, spot: float, dte: int, mark: float) -> bool:
    itm, always = rw.puts.itm, rw.puts.always_when_itm
    config = RollConfig(dte=rw.dte, pnl=rw.pnl, min_pnl=rw.min_pnl, max_dte=rw.max_dte or 0,
                        put_itm=itm, call_itm=itm, put_always_when_itm=always, call_always_when_itm=always,
                        atm_is_itm=True, target_min_dte=max(21, rw.dte + 1))
    return should_roll(project_position(right, dte, mark, spot), None, TODAY, config).should_roll


def _differs_by_design(moneyness: str, dte: int, max_dte: int | None, always: bool) -> bool:
    """The one deliberate difference in the roll trigger (test_difference_max_dte_bounds_always_when_itm)."""
    return always and moneyness in ("itm", "atm") and max_dte is not None and dte > max_dte


ROLL_SCENARIOS = [
    (right, moneyness, dte, pnl, max_dte, itm, always)
    for right, moneyness, dte, pnl, max_dte, (itm, always) in itertools.product(
        [Right.PUT, Right.CALL], ["otm", "atm", "itm"], [2, 10, 15, 45], [-0.5, 0.0, 0.05, 0.5, 0.95],
        [None, 30], [(True, False), (False, False), (True, True)])
    if not _differs_by_design(moneyness, dte, max_dte, always)
]


@pytest.mark.parametrize(("right", "moneyness", "dte", "pnl", "max_dte", "itm", "always"), ROLL_SCENARIOS)
def test_the_roll_trigger_decides_as_thetagang(right, moneyness, dte, pnl, max_dte, itm, always):
    rw = roll_when(dte=10, pnl=0.9, min_pnl=0.0, max_dte=max_dte, itm=itm, always=always)
    spot, mark = SPOTS[moneyness][right], ENTRY * (1 - pnl)

    assert project_rolls(right, rw, spot, dte, mark) == thetagang_rolls(right, rw, spot, dte, mark)


def test_difference_max_dte_bounds_always_when_itm():
    """thetagang checks ``always_when_itm`` before ``max_dte``, so an ITM position rolls at any DTE;
    here ``roll_max_dte`` means never, or an ITM position keeps rolling out toward LEAPs."""
    rw = roll_when(dte=10, pnl=0.9, min_pnl=0.0, max_dte=30, itm=True, always=True)
    spot, mark = SPOTS["itm"][Right.PUT], ENTRY * 1.5

    assert thetagang_rolls(Right.PUT, rw, spot, 45, mark) is True
    assert project_rolls(Right.PUT, rw, spot, 45, mark) is False


def test_difference_at_the_money_is_not_itm_by_default():
    """thetagang's ``put_is_itm`` is ``strike >= price``; the project's default counts ITM only with
    intrinsic value (``roll_atm_is_itm`` false), so an ATM put with ITM rolls off still rolls."""
    rw = roll_when(dte=10, pnl=0.9, min_pnl=0.0, max_dte=None, itm=False, always=False)
    position = project_position(Right.PUT, 5, 1.0, 100.0)
    default = RollConfig(put_itm=False)

    assert thetagang_rolls(Right.PUT, rw, 100.0, 5, 1.0) is False
    assert should_roll(position, None, TODAY, default).should_roll is True
    assert should_roll(position, None, TODAY, dataclasses.replace(default, atm_is_itm=True)).should_roll is False


# --- which contract ------------------------------------------------------------------------------

HELD_DTE, TARGET_DTE, MAX_DTE = 5, 20, 50


@dataclasses.dataclass(frozen=True)
class Leg:
    dte: int
    strike: float
    delta: float  # |delta|
    mid: float


def scanner(chain: list[Leg], spot: float) -> OptionChainScanner:
    expirations = sorted({ib_expiry(TODAY + timedelta(days=c.dte)) for c in chain})
    strikes = sorted({c.strike for c in chain})
    by_key = {(ib_expiry(TODAY + timedelta(days=c.dte)), c.strike): c for c in chain}

    async def qualify(*contracts: Option) -> list[Option | None]:
        out: list[Option | None] = []
        for n, contract in enumerate(contracts, start=1):
            if (contract.lastTradeDateOrContractMonth, contract.strike) in by_key:
                contract.conId = n
                out.append(contract)
            else:
                out.append(None)
        return out

    async def tickers(symbol: str, contracts: list[Option], **_: Any) -> list[Any]:
        out = []
        for contract in contracts:
            leg = by_key[(contract.lastTradeDateOrContractMonth, contract.strike)]
            greeks = SimpleNamespace(delta=-leg.delta, optPrice=leg.mid)
            out.append(SimpleNamespace(contract=contract, modelGreeks=greeks,
                                       midpoint=lambda m=leg.mid: m, marketPrice=lambda m=leg.mid: m,
                                       putOpenInterest=1000, callOpenInterest=1000))
        return out

    ibkr = MagicMock()
    ibkr.get_ticker_for_contract = AsyncMock(return_value=SimpleNamespace(midpoint=lambda: spot,
                                                                          marketPrice=lambda: spot))
    ibkr.get_chains_for_contract = AsyncMock(return_value=[SimpleNamespace(
        exchange="SMART", tradingClass="GOOG", strikes=strikes, expirations=expirations)])
    ibkr.qualify_contracts = qualify
    ibkr.get_tickers_for_contracts = tickers
    config = SimpleNamespace(
        get_target_dte=lambda symbol: TARGET_DTE, get_target_delta=lambda symbol, right: 0.30,
        get_max_dte_for=lambda symbol: MAX_DTE,
        runtime=SimpleNamespace(option_chains=SimpleNamespace(expirations=100, strikes=100)),
        strategies=SimpleNamespace(wheel=SimpleNamespace(defaults=SimpleNamespace(
            target=SimpleNamespace(minimum_open_interest=0)))))
    order_ops = SimpleNamespace(get_order_exchange=lambda: "SMART")
    return OptionChainScanner(config=config, ibkr=ibkr, order_ops=order_ops)  # type: ignore[arg-type]


def thetagang_target(chain: list[Leg], minimum_price: float, spot: float = 100.0,
                     held_mid: float | None = None) -> tuple[int, float]:
    """``held_mid``: what ``roll_positions`` passes as ``fallback_minimum_price`` (the held mid)."""
    held_expiry = ib_expiry(TODAY + timedelta(days=HELD_DTE))
    chosen = asyncio.run(scanner(chain, spot).find_eligible_contracts(
        Stock("GOOG", "SMART", "USD"), "P", None, minimum_price=lambda: minimum_price,
        exclude_expirations_before=held_expiry, exclude_exp_strike=(STRIKE, held_expiry),
        fallback_minimum_price=None if held_mid is None else (lambda: held_mid)))
    expiry = date(int(chosen.contract.lastTradeDateOrContractMonth[:4]),
                  int(chosen.contract.lastTradeDateOrContractMonth[4:6]),
                  int(chosen.contract.lastTradeDateOrContractMonth[6:]))
    return (expiry - TODAY).days, chosen.contract.strike


def project_target(chain: list[Leg], spot: float = 100.0) -> tuple[int, float]:
    result = project_find(chain, spot)
    assert isinstance(result, RollTarget), result
    return result.dte, result.quote.strike


def project_find(chain: list[Leg], spot: float = 100.0, **overrides: Any) -> RollTarget | NoRollTarget:
    held_expiry = TODAY + timedelta(days=HELD_DTE)
    position = BotManagedPosition(id="P1", symbol=osi(held_expiry, Right.PUT, STRIKE), underlying="GOOG",
                                  right=Right.PUT, strike=STRIKE, expiry=held_expiry, multiplier=100.0,
                                  opened_at=None, quantity=QTY, entry_price=ENTRY,  # type: ignore[arg-type]
                                  mark_price=0.95, underlying_price=spot)
    current = ContractQuote(position.symbol, Right.PUT, STRIKE, held_expiry, 0.9, 1.0, 500.0)
    quotes = [ContractQuote(osi(TODAY + timedelta(days=c.dte), Right.PUT, c.strike), Right.PUT, c.strike,
                            TODAY + timedelta(days=c.dte), c.mid - 0.05, c.mid + 0.05, 1000.0, 0.3, -c.delta)
              for c in chain]
    config = RollConfig(dte=10, target_min_dte=TARGET_DTE, target_max_dte=MAX_DTE, target_delta=0.30,
                        target_choice=TargetChoice.SOONEST_EXPIRY, put_strike_cap=PutStrikeCap.OFF,
                        max_debit_pct=None, max_spread_pct=2.0)
    config = dataclasses.replace(config, **overrides)
    return find_roll_target(position, quotes, spot, TODAY, config, current, risk_free_rate=0.01)


SOON, LATER, LATEST, TOO_SOON, TOO_FAR = 21, 28, 45, 14, 60
CHAINS = {
    "highest delta at or below target in the soonest expiry": [
        Leg(SOON, 90, 0.15, 0.8), Leg(SOON, 95, 0.24, 1.2), Leg(SOON, 97.5, 0.29, 1.6), Leg(SOON, 100, 0.38, 2.4),
        Leg(LATER, 97.5, 0.30, 2.0), Leg(TOO_SOON, 97.5, 0.28, 1.0), Leg(TOO_FAR, 95, 0.30, 3.0)],
    "the soonest expiry has nothing at or below target: a later one": [
        Leg(SOON, 100, 0.42, 2.6), Leg(SOON, 97.5, 0.35, 1.9), Leg(LATER, 95, 0.27, 1.7),
        Leg(LATER, 97.5, 0.33, 2.1), Leg(LATEST, 92.5, 0.22, 1.9)],
    "ties broken by expiry first, not by delta": [
        Leg(SOON, 92.5, 0.20, 1.0), Leg(LATER, 95, 0.30, 1.8), Leg(LATEST, 97.5, 0.30, 2.4)],
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_soonest_expiry_picks_the_contract_thetagang_picks(name):
    chain = CHAINS[name]

    assert project_target(chain) == thetagang_target(chain, minimum_price=0.0)


def test_the_fallback_above_target_matches_thetagangs_when_it_has_a_minimum_price():
    chain = [Leg(SOON, 100, 0.45, 2.6), Leg(SOON, 97.5, 0.36, 1.9), Leg(LATER, 97.5, 0.33, 2.2)]

    assert project_target(chain) == thetagang_target(chain, minimum_price=0.05) == (SOON, 97.5)


def test_difference_the_fallback_is_always_taken():
    """thetagang falls back to deltas above the target only when a minimum price is set; with none
    it finds no contract. Here the fallback always applies (the stated rule), because the roll
    economics already bound what the new contract may cost."""
    chain = [Leg(SOON, 100, 0.45, 2.6), Leg(SOON, 97.5, 0.36, 1.9)]

    with pytest.raises(NoValidContractsError):
        thetagang_target(chain, minimum_price=0.0)
    assert project_target(chain) == (SOON, 97.5)


def test_difference_closest_delta_is_the_default_choice():
    """The default ``closest_delta`` takes the |delta| nearest the target across the DTE window
    (the issue-4 rule: the target delta is the risk asked for), where thetagang takes the soonest."""
    chain = CHAINS["highest delta at or below target in the soonest expiry"]
    held_expiry = TODAY + timedelta(days=HELD_DTE)
    position = BotManagedPosition(id="P1", symbol=osi(held_expiry, Right.PUT, STRIKE), underlying="GOOG",
                                  right=Right.PUT, strike=STRIKE, expiry=held_expiry, multiplier=100.0,
                                  opened_at=None, quantity=QTY, entry_price=ENTRY,  # type: ignore[arg-type]
                                  mark_price=0.95, underlying_price=100.0)
    quotes = [ContractQuote(osi(TODAY + timedelta(days=c.dte), Right.PUT, c.strike), Right.PUT, c.strike,
                            TODAY + timedelta(days=c.dte), c.mid - 0.05, c.mid + 0.05, 1000.0, 0.3, -c.delta)
              for c in chain]
    current = ContractQuote(position.symbol, Right.PUT, STRIKE, held_expiry, 0.9, 1.0, 500.0)
    config = RollConfig(target_min_dte=TARGET_DTE, target_max_dte=MAX_DTE, put_strike_cap=PutStrikeCap.OFF,
                        max_debit_pct=None, max_spread_pct=2.0)
    result = find_roll_target(position, quotes, 100.0, TODAY, config, current, risk_free_rate=0.01)

    assert isinstance(result, RollTarget) and (result.dte, result.quote.strike) == (LATER, 97.5)
    assert thetagang_target(chain, minimum_price=0.0) == (SOON, 97.5)


def test_difference_a_debit_roll_is_bounded_by_default():
    """The issue's scenario: with credit-only off thetagang rolls for any debit (its minimum price
    only asks the new contract to be worth more than ``minimum_credit``). The held put (0.90/1.00)
    rolls into one quoted 0.20/0.30 for about 0.75 of debit per share: thetagang takes it; the
    project's default ``roll_max_debit_pct`` 0.5 of the 2.00 received (1.00) takes it too, and a
    tighter ``roll_max_debit`` 0.5 refuses it with the numbers."""
    chain = [Leg(SOON, 90, 0.10, 0.25)]

    assert thetagang_target(chain, minimum_price=0.0) == (SOON, 90)
    assert isinstance(project_find(chain, max_debit_pct=0.5), RollTarget)
    refused = project_find(chain, max_debit=0.5)
    assert isinstance(refused, NoRollTarget) and refused.economics["best_net_credit"] == pytest.approx(-0.8)


def test_difference_credit_only_is_checked_at_the_far_side():
    """thetagang's credit-only compares mids (new mid > held mid + ``minimum_credit``); here the credit
    must hold at the far side of both legs, so the combo still collects if it goes to market."""
    chain = [Leg(SOON, 97.5, 0.28, 1.00)]  # mid 1.00 > held mid 0.95, but its bid 0.95 < held ask 1.00

    assert thetagang_target(chain, minimum_price=0.95) == (SOON, 97.5)
    refused = project_find(chain, credit_only=True)
    assert isinstance(refused, NoRollTarget) and refused.rejected == {"credit": 1}


def test_thetagangs_preference_for_a_credit_is_the_economics_floor_at_the_limit():
    """In ``roll_positions`` thetagang takes, in its order, the first contract whose mid exceeds the
    held mid (0.95 here): a credit at mids. ``roll_min_credit`` 0 read at the limit (no market
    fallback) asks the same of every candidate."""
    chain = [Leg(SOON, 97.5, 0.29, 0.80), Leg(LATER, 95, 0.27, 1.10), Leg(LATEST, 92.5, 0.25, 1.40)]

    expected = thetagang_target(chain, minimum_price=0.0, held_mid=0.95)
    chosen = project_find(chain, min_credit=0.0, market_fallback=False)

    assert isinstance(chosen, RollTarget) and (chosen.dte, chosen.quote.strike) == expected == (LATER, 95)


def test_difference_no_credit_anywhere_is_refused_not_rolled_at_the_best_price():
    """When no contract pays a credit at mids thetagang rolls into the most expensive one (a debit);
    with a credit floor the project refuses the roll and audits the numbers, and with the default
    (no floor, a debit bound of half the premium) it keeps its delta choice."""
    chain = [Leg(SOON, 97.5, 0.29, 0.80), Leg(LATER, 95, 0.27, 0.90)]

    assert thetagang_target(chain, minimum_price=0.0, held_mid=0.95) == (LATER, 95)
    refused = project_find(chain, min_credit=0.0, market_fallback=False)
    assert isinstance(refused, NoRollTarget) and refused.rejected == {"economics": 2}
    assert refused.economics["best_net_credit"] == pytest.approx(-0.05)
    assert project_target(chain) == (SOON, 97.5)


# --- close when unable to roll -----------------------------------------------------------------------

def thetagang_closes(pnl: float, dte: int, max_dte: int | None, spot: float = 105.0) -> bool:
    rw = roll_when(dte=10, pnl=0.9, min_pnl=0.0, max_dte=max_dte, itm=True, always=False)
    tg = engine(rw, spot)
    tg.config.get_strike_limit = lambda symbol, right: None
    tg.config.close_if_unable_to_roll = lambda symbol: True
    tg.config.runtime = SimpleNamespace(orders=SimpleNamespace(minimum_credit=0.0))
    tg.config.strategies.tail_hedge = SimpleNamespace(enabled=False, targets=[])
    mark = ENTRY * (1 - pnl)
    tg.ibkr.get_ticker_for_contract = AsyncMock(return_value=SimpleNamespace(
        midpoint=lambda: mark, marketPrice=lambda: mark, modelGreeks=None))
    tg.order_ops = SimpleNamespace(get_order_exchange=lambda: "SMART")
    tg.option_scanner = SimpleNamespace(find_eligible_contracts=AsyncMock(side_effect=NoValidContractsError("none")))
    item = portfolio_item(Right.PUT, dte, mark)
    return bool(asyncio.run(tg.roll_positions([item], "P", {}, None)))


def project_closes(pnl: float, dte: int, max_dte: int | None) -> bool:
    config = RollConfig(dte=10, max_dte=max_dte or 0, close_if_unable_to_roll=CloseIfUnable.PROFITABLE)
    due = RollDecision(RollAction.ROLL, RollRule.DTE, "due", dte, pnl, False)
    return resolve_no_target(due, NoRollTarget("none", 0, {}), config).should_close


@pytest.mark.parametrize(("pnl", "dte", "max_dte"), list(itertools.product([-0.3, 0.0, 0.4], [3, 10, 25], [15, 30])))
def test_profitable_closes_when_thetagang_closes(pnl, dte, max_dte):
    assert project_closes(pnl, dte, max_dte) == thetagang_closes(pnl, dte, max_dte)


def test_difference_without_roll_max_dte_profitable_uses_roll_dte():
    """thetagang never closes when ``max_dte`` is unset; ``roll_max_dte`` 0 (off) is the project's
    default, so ``profitable`` reads the window as ``roll_dte`` rather than never closing."""
    assert thetagang_closes(0.4, 5, None) is False
    assert project_closes(0.4, 5, None) is True
    assert project_closes(0.4, 15, None) is False


# --- entry: minimum move and day colour ----------------------------------------------------------

def thetagang_threshold(closes: list[float], price: float, sigma: float, pct: float) -> tuple[float, float]:
    fake = SimpleNamespace(
        get_close_price=PortfolioManager.get_close_price,
        config=SimpleNamespace(get_write_threshold_sigma=lambda symbol, right: sigma or None,
                               get_write_threshold_perc=lambda symbol, right: pct,
                               strategies=SimpleNamespace(wheel=SimpleNamespace(defaults=SimpleNamespace(
                                   constants=SimpleNamespace(daily_stddev_window="30 D"))))),
        ibkr=SimpleNamespace(request_historical_data=AsyncMock(
            return_value=[SimpleNamespace(close=c) for c in closes])))
    ticker = SimpleNamespace(contract=Stock("GOOG", "SMART", "USD"), close=closes[-1], marketPrice=lambda: price)
    threshold, change = asyncio.run(PortfolioManager.get_write_threshold(fake, ticker, "P"))  # type: ignore[arg-type]
    return float(threshold), float(change)


CLOSES = [100.0, 101.2, 99.8, 100.9, 102.3, 101.1, 100.4]


@pytest.mark.parametrize(("sigma", "pct", "price"), [(1.0, 0.0, 101.5), (1.0, 0.0, 99.0), (2.0, 0.0, 102.6),
                                                     (0.0, 0.01, 101.5), (0.0, 0.01, 99.3), (0.0, 0.0, 100.4)])
def test_the_minimum_move_is_thetagangs_write_threshold(sigma, pct, price):
    threshold, change = thetagang_threshold(CLOSES, price, sigma, pct)
    config = BotConfig.from_parameters({"entry_min_move_sigma": str(sigma), "entry_min_move_pct": str(pct),
                                        "entry_sigma_days": str(len(CLOSES))}.get)

    assert move_threshold(CLOSES[-1], CLOSES, sigma, pct) == pytest.approx(threshold)
    assert check_entry(config, TODAY, price, CLOSES).allowed == (change >= threshold)


@pytest.mark.parametrize(("price", "close"), [(99.0, 100.0), (100.0, 100.0), (101.0, 100.0)])
def test_red_green_is_thetagangs_write_when(price, close):
    """options_engine.py ``is_ok_to_write_puts``: ``if not can_write_when_green and
    ticker.marketPrice() > close_price: return False`` and ``if not can_write_when_red and
    ticker.marketPrice() < close_price: return False``; thetagang's defaults write puts on red
    (green false, red true) and calls on green (green true, red false)."""
    def thetagang_allows(green: bool, red: bool) -> bool:
        return not ((not green and price > close) or (not red and price < close))

    assert day_colour_allows("red", price, close) == thetagang_allows(green=False, red=True)
    assert day_colour_allows("green", price, close) == thetagang_allows(green=True, red=False)
    assert day_colour_allows("any", price, close) == thetagang_allows(green=True, red=True)


def test_difference_entry_day_defaults_to_any():
    """thetagang writes puts only on red days and calls only on green days by default; the project's
    entry rule defaults to ``any`` (``entry_put_day``/``entry_call_day``) so that its entries are
    what they were before issue 19 unless a trader opts in."""
    config = BotConfig.from_parameters({}.get)

    assert (config.entry_put_day, config.entry_call_day) == ("any", "any")
    assert math.isclose(config.entry_min_move_pct, 0.0) and math.isclose(config.entry_min_move_sigma, 0.0)
