"""When a bot-managed position rolls to a later expiry (issue 4), as one pure decision.

``should_roll(position, quote, today, config, spot=...)`` reads plain values (the position, the
quote of its contract, the date, the ``RollConfig``, the underlying price) and returns a
``RollDecision``: ROLL or HOLD, the rule that decided (``RollRule``, for the audit trail) and a
sentence saying why. It never places orders, logs or audits; the caller does.
``resolve_no_target`` turns a ROLL that found no acceptable contract into CLOSE or HOLD.

Rules, in the order they are applied (the first that decides wins):

1. ``DISABLED``: ``roll_enabled`` is false -> HOLD.
2. ``FLAT``: the position holds no contracts -> HOLD.
3. ``MAX_DTE``: ``roll_max_dte`` > 0 and DTE > ``roll_max_dte`` -> HOLD ("never roll a position
   that still has more than this many days"; this holds for every rule below, ITM ones included).
4. In the money (put: spot < strike; call: spot > strike; at the money counts only with
   ``roll_atm_is_itm``, thetagang's reading):
   ``ALWAYS_WHEN_ITM``: ITM and ``roll_<right>_always_when_itm`` -> ROLL, whatever the DTE and P&L.
   ``ITM``: ITM and not ``roll_<right>_itm`` -> HOLD.
   ``ITM_UNKNOWN``: no underlying price and ``roll_<right>_itm`` false -> HOLD (the position may be
   ITM; a position that ITM rolls are allowed for, or always roll for, carries on to the rules
   below, since an unknown price cannot show that it is ITM).
5. ``NO_PNL``: P&L unknown (no mark on the position and no two-sided quote) -> HOLD.
6. ``DTE``: DTE <= ``roll_dte`` and P&L >= ``roll_min_pnl`` -> ROLL;
   ``MIN_PNL``: DTE <= ``roll_dte`` and P&L < ``roll_min_pnl`` -> HOLD.
7. ``PNL``: ``roll_pnl`` > 0 and P&L >= ``roll_pnl`` -> ROLL (the config guarantees
   ``roll_min_pnl`` <= ``roll_pnl``, so this is never below ``roll_min_pnl``).
8. ``NO_TRIGGER`` -> HOLD.

P&L is ``BotManagedPosition.pnl_pct``: profit as a fraction of the entry premium, which for a short
position is the fraction of its maximum profit (1.0 = the option is worth nothing). For a long
position it is the gain over the premium paid. Without a mark on the position, the mid of
``quote`` stands in. "At" a threshold counts: comparisons allow 1e-9 of float noise.

After a ROLL, the caller looks for a target (``execution.rolls.roll_target.find_roll_target``); when there
is none, ``resolve_no_target`` says CLOSE (``CLOSE_NO_TARGET``) or HOLD (``NO_TARGET``) by
``roll_close_if_unable_to_roll``: ``never`` holds; ``always`` closes; ``profitable`` (the default)
closes only when P&L > 0 and DTE <= ``roll_max_dte`` (or ``roll_dte`` when roll_max_dte is off), and
otherwise holds with the reason saying which condition failed.

Where this deviates from thetagang (``thetagang/strategies/options_engine.py``
``put_can_be_rolled``/``call_can_be_rolled``/``roll_positions``, ``config_models.RollWhenConfig``):

- ``roll_max_dte`` also bounds ``always_when_itm``. thetagang checks always_when_itm first, so an
  ITM position rolls at any DTE; the issue says max_dte means *never*, and without the bound an ITM
  position keeps rolling out toward LEAPs, which is what max_dte exists to stop.
- thetagang counts a strike equal to the spot as ITM; here ITM means intrinsic value > 0 unless
  ``roll_atm_is_itm`` is true (default false: an ATM option has no intrinsic value to be assigned on).
- An unknown underlying price is not treated as OTM when ITM rolls are forbidden (thetagang logs the
  failed lookup and skips the position): the position holds with ``ITM_UNKNOWN``, visibly.
- ``always_when_itm`` true with ``itm`` false is a configuration error (thetagang lets the first win).
- ``close_if_unable_to_roll=profitable`` is thetagang's rule (P&L > 0 and DTE <= max_dte), except
  that with ``roll_max_dte`` off the window is ``roll_dte`` (thetagang never closes without
  ``max_dte``). ``always`` is kept for those who want losing positions closed too.
- Long positions are rolled by the same rules (thetagang rolls short positions only); credit-only
  and the strike limits apply to short positions only (see ``roll_target``).
- No ``close_at_pnl``: the profit ladder (``profit_ladder``, a level with take 1 closes everything)
  already closes positions at a gain. No ``has_excess`` / ``maximum_new_contracts`` (no wheel here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from models.bot_config import Right
from models.market_data import ContractQuote
from models.roll_config import CloseIfUnable, RollConfig

if TYPE_CHECKING:
    from execution.bot_managed_positions import BotManagedPosition
    from execution.rolls.roll_target import NoRollTarget

EPS = 1e-9  # float noise allowed when a value sits exactly at a threshold


class RollAction(StrEnum):
    ROLL = "roll"
    CLOSE = "close"
    HOLD = "hold"


class RollRule(StrEnum):
    DISABLED = "disabled"
    FLAT = "flat"
    MAX_DTE = "max_dte"
    ALWAYS_WHEN_ITM = "always_when_itm"
    ITM = "itm"
    ITM_UNKNOWN = "itm_unknown"
    NO_PNL = "no_pnl"
    DTE = "dte"
    MIN_PNL = "min_pnl"
    PNL = "pnl"
    NO_TRIGGER = "no_trigger"
    NO_TARGET = "no_target"
    CLOSE_NO_TARGET = "close_no_target"


@dataclass(frozen=True)
class RollDecision:
    """What to do with one position, which rule decided and why (for logs and the audit trail)."""

    action: RollAction
    rule: RollRule
    reason: str
    dte: int
    pnl: float | None
    itm: bool | None  # None: no underlying price to tell

    @property
    def should_roll(self) -> bool:
        return self.action == RollAction.ROLL

    @property
    def should_close(self) -> bool:
        return self.action == RollAction.CLOSE

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action.value, "rule": self.rule.value, "reason": self.reason,
                "dte": self.dte, "pnl": self.pnl, "itm": self.itm}


def is_itm(right: Right, strike: float, spot: float | None, atm_is_itm: bool = False) -> bool | None:
    """In the money (intrinsic value > 0, or >= 0 with ``atm_is_itm``); None without a positive
    underlying price."""
    if spot is None or not spot > 0:  # also catches NaN
        return None
    if atm_is_itm and spot == strike:
        return True
    return spot < strike if right == Right.PUT else spot > strike


def position_pnl(position: BotManagedPosition, quote: ContractQuote | None) -> float | None:
    """``position.pnl_pct``, or the same figure at ``quote``'s mid when the position has no mark."""
    pnl = position.pnl_pct
    if pnl is not None or quote is None or not quote.has_two_sided_quote:
        return pnl
    if position.quantity == 0 or position.entry_price <= 0:
        return None
    change = (quote.mid - position.entry_price) / position.entry_price
    return change if position.quantity > 0 else -change


def should_roll(position: BotManagedPosition, quote: ContractQuote | None, today: date, config: RollConfig,
                *, spot: float | None = None) -> RollDecision:
    """Whether ``position`` is due to roll today. ``spot`` defaults to ``position.underlying_price``
    (0 there means unknown). Pure: see the module docstring for the rules and their order."""
    dte = position.days_to_expiry(today)
    pnl = position_pnl(position, quote)
    itm = is_itm(position.right, position.strike, spot if spot is not None else position.underlying_price,
                 config.atm_is_itm)

    def decide(action: RollAction, rule: RollRule, reason: str) -> RollDecision:
        return RollDecision(action, rule, reason, dte, pnl, itm)

    hold, roll = RollAction.HOLD, RollAction.ROLL
    right = position.right.value
    if not config.enabled:
        return decide(hold, RollRule.DISABLED, "rolling is switched off (roll_enabled false)")
    if position.quantity == 0:
        return decide(hold, RollRule.FLAT, "the position holds no contracts")
    if config.max_dte and dte > config.max_dte:
        return decide(hold, RollRule.MAX_DTE, f"DTE {dte} > roll_max_dte {config.max_dte}")
    if itm and config.always_when_itm(position.right):
        return decide(roll, RollRule.ALWAYS_WHEN_ITM, f"the {right} is in the money and "
                      f"roll_{right}_always_when_itm is true")
    if not config.itm_allowed(position.right):
        if itm:
            return decide(hold, RollRule.ITM, f"the {right} is in the money and roll_{right}_itm is false")
        if itm is None:
            return decide(hold, RollRule.ITM_UNKNOWN, f"no underlying price to tell whether the {right} is "
                          f"in the money, and roll_{right}_itm is false")
    if pnl is None:
        return decide(hold, RollRule.NO_PNL, "no mark price or two-sided quote to measure the P&L")
    if dte <= config.dte:
        if pnl >= config.min_pnl - EPS:
            return decide(roll, RollRule.DTE, f"DTE {dte} <= roll_dte {config.dte} and P&L {pnl:.2%} >= "
                          f"roll_min_pnl {config.min_pnl:.2%}")
        return decide(hold, RollRule.MIN_PNL, f"DTE {dte} <= roll_dte {config.dte} but P&L {pnl:.2%} < "
                      f"roll_min_pnl {config.min_pnl:.2%}")
    if config.pnl > 0 and pnl >= config.pnl - EPS:
        return decide(roll, RollRule.PNL, f"P&L {pnl:.2%} >= roll_pnl {config.pnl:.2%}")
    pnl_part = f"P&L {pnl:.2%} < roll_pnl {config.pnl:.2%}" if config.pnl > 0 else "roll_pnl is off"
    return decide(hold, RollRule.NO_TRIGGER, f"DTE {dte} > roll_dte {config.dte} and {pnl_part}")


def close_when_unable(decision: RollDecision, config: RollConfig) -> tuple[bool, str]:
    """Whether ``roll_close_if_unable_to_roll`` closes a position that found no target, and why."""
    mode, window = config.close_if_unable_to_roll, config.close_window_dte
    name = "roll_close_if_unable_to_roll"
    if mode == CloseIfUnable.NEVER:
        return False, f"holding ({name} never)"
    if mode == CloseIfUnable.ALWAYS:
        return True, f"closing ({name} always)"
    if decision.pnl is None or not decision.pnl > EPS:
        pnl = "unknown" if decision.pnl is None else f"{decision.pnl:.2%}"
        return False, f"holding ({name} profitable: P&L {pnl} is not > 0)"
    if decision.dte > window:
        return False, f"holding ({name} profitable: DTE {decision.dte} > {window})"
    return True, f"closing ({name} profitable: P&L {decision.pnl:.2%} > 0 and DTE {decision.dte} <= {window})"


def resolve_no_target(decision: RollDecision, no_target: NoRollTarget, config: RollConfig) -> RollDecision:
    """After a ROLL ``decision`` found no target: CLOSE or HOLD by ``roll_close_if_unable_to_roll``."""
    close, then = close_when_unable(decision, config)
    why = f"{decision.reason}; no roll target: {no_target.reason}; {then}"
    if close:
        return RollDecision(RollAction.CLOSE, RollRule.CLOSE_NO_TARGET, why, decision.dte, decision.pnl, decision.itm)
    return RollDecision(RollAction.HOLD, RollRule.NO_TARGET, why, decision.dte, decision.pnl, decision.itm)
