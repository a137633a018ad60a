"""Slippage budget (seed 4.4): per-trade and per-session limits on how far fills stray from mid.

- **Expected price** is the mid at order time (``WorkingOrder.expected_price``); call
  ``check_slippage`` once per fill (partial fills included) with that fill's price and signed
  quantity. For a combo, check each leg with the leg's own mid and fill.
- **Adverse is positive.** Paying more than expected on a buy, or receiving less on a sell, is
  positive slippage; price improvement is negative slippage. ``slippage_pct`` is relative to the
  expected price, ``slippage_usd`` = per-contract difference x |quantity| x ``multiplier`` (the
  security's contract multiplier, passed by the caller; the seed's four-argument call gets
  ``US_EQUITY_OPTION_MULTIPLIER``).
- **The session total only grows.** It adds adverse slippage only; price improvement does not
  refill the budget (one lucky fill must not license a run of bad ones).
- **Breach.** A fill beyond the per-trade % limit, or a session total beyond the session USD
  limit, is a breach: logged ``SLIPPAGE_BUDGET_EXCEEDED`` (WARNING), audited as
  ``AuditAction.SLIPPAGE_BUDGET_BREACH``, and the budget latches ``reduce_only = True`` until
  ``start_session`` opens the next exchange session. A fill past the alert threshold that is not a
  breach is logged ``SLIPPAGE_ALERT``.
- **Sessions** are exchange session dates passed by the caller (LEAN's algorithm time), never the
  wall clock. ``start_session`` with the current date again is a no-op, so calling it every slice
  cannot clear a breach; an earlier date is refused.
- **Bad input** (NaN/inf, expected price <= 0, negative actual price, zero or fractional quantity,
  multiplier <= 0) raises ``InvalidSlippageInputError`` (a ``ValueError``) and changes nothing:
  the caller logs and audits it and carries on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.audit import AuditAction
from models.exceptions import ConfigurationError, TradingError
from utils.audit_logger import AuditLogger
from utils.logging_config import get_logger

logger = get_logger(__name__)

_EPSILON = 1e-9  # float tolerance on the limits (a percentage point, a dollar)
# ``check_slippage``'s default multiplier, for the seed's four-argument call: one US equity option
# contract. The bot always passes the security's own multiplier.
US_EQUITY_OPTION_MULTIPLIER = 100.0


class InvalidSlippageInputError(TradingError, ValueError):
    """``check_slippage`` was given numbers it cannot measure; the budget was not changed."""


@dataclass(frozen=True)
class SlippageCheckResult:
    order_id: str
    slippage_pct: float  # signed: > 0 adverse, < 0 price improvement
    slippage_usd: float  # signed like slippage_pct
    within_trade_limit: bool
    session_total: float  # adverse USD this session, after this fill
    breached: bool  # this fill breached the per-trade or the session limit
    alert: bool  # slippage_pct above the alert threshold
    reduce_only: bool  # the budget's latch after this fill
    reason: str | None = None

    @property
    def passed(self) -> bool:
        """The seed's name (4.4): this fill stayed within both limits."""
        return not self.breached


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSlippageInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _limit(parameter: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(parameter, f"must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(parameter, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _session_date(value: Any) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidSlippageInputError(f"session_date must be a date (the exchange session), got {value!r}")
    return value


class SlippageBudget:
    """Enforces maximum slippage per trade (%) and per session (USD); latches reduce-only on breach."""

    def __init__(self, max_slippage_per_trade_pct: float = 0.5, max_slippage_per_session_usd: float = 1000.0,
                 alert_threshold_pct: float = 0.3, *, audit_logger: AuditLogger | None = None,
                 session_date: date | None = None) -> None:
        self.max_per_trade_pct = _limit("max_slippage_per_trade_pct", max_slippage_per_trade_pct)
        self.max_per_session_usd = _limit("max_slippage_per_session_usd", max_slippage_per_session_usd)
        self.alert_threshold_pct = _limit("alert_threshold_pct", alert_threshold_pct, allow_zero=True)
        if self.alert_threshold_pct > self.max_per_trade_pct:
            raise ConfigurationError("alert_threshold_pct", f"must not exceed max_slippage_per_trade_pct "
                                     f"({self.max_per_trade_pct}), got {alert_threshold_pct!r}")
        self._audit = audit_logger
        self._session_date = None if session_date is None else _session_date(session_date)
        self._session_total = 0.0
        self._reduce_only = False
        self._breaches = 0

    @property
    def session_date(self) -> date | None:
        return self._session_date

    @property
    def session_total(self) -> float:
        """Adverse slippage in USD since the session started (never decreases within a session)."""
        return self._session_total

    @property
    def reduce_only(self) -> bool:
        """True after a breach, until ``start_session`` opens a new session."""
        return self._reduce_only

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.max_per_session_usd - self._session_total)

    def start_session(self, session_date: date) -> bool:
        """Open the exchange session ``session_date``: reset the total and the reduce-only latch.

        Returns False (and changes nothing) when that session is already open.
        """
        new_date = _session_date(session_date)
        if self._session_date is not None:
            if new_date == self._session_date:
                return False
            if new_date < self._session_date:
                raise InvalidSlippageInputError(
                    f"session_date {new_date} is before the current session {self._session_date}")
        previous = {"session_date": None if self._session_date is None else self._session_date.isoformat(),
                    "session_total": self._session_total, "reduce_only": self._reduce_only}
        self._session_date, self._session_total, self._reduce_only, self._breaches = new_date, 0.0, False, 0
        logger.info("SLIPPAGE_SESSION_STARTED", extra={"session_date": new_date.isoformat(), "previous": previous})
        return True

    def check_slippage(self, expected_price: float, actual_price: float, quantity: int, order_id: str,
                       multiplier: float = US_EQUITY_OPTION_MULTIPLIER) -> SlippageCheckResult:
        """Measure one fill against the mid at order time and charge it to the session budget.

        ``multiplier`` is the security's contract multiplier; left out, one US equity option (100).
        """
        expected = _number("expected_price", expected_price)
        actual = _number("actual_price", actual_price)
        qty = _number("quantity", quantity)
        mult = _number("multiplier", multiplier)
        if expected <= 0:
            raise InvalidSlippageInputError(f"expected_price must be > 0, got {expected_price!r}")
        if actual < 0:
            raise InvalidSlippageInputError(f"actual_price must be >= 0, got {actual_price!r}")
        if qty == 0 or qty != int(qty):
            raise InvalidSlippageInputError(f"quantity must be a non-zero whole number, got {quantity!r}")
        if mult <= 0:
            raise InvalidSlippageInputError(f"multiplier must be > 0, got {multiplier!r}")

        # prices sit on a tick grid: drop the float noise of the subtraction (10.05 - 10.00)
        per_contract = round((actual - expected) if qty > 0 else (expected - actual), 10)
        slippage_pct = per_contract / expected * 100.0
        slippage_usd = per_contract * abs(qty) * mult
        self._session_total += max(0.0, slippage_usd)
        within_trade = slippage_pct <= self.max_per_trade_pct + _EPSILON  # at the limit is within
        session_breach = self._session_total > self.max_per_session_usd + _EPSILON
        breached = not within_trade or session_breach
        alert = slippage_pct > self.alert_threshold_pct + _EPSILON
        reasons = []
        if not within_trade:
            reasons.append(f"trade slippage {slippage_pct:.3f}% exceeds {self.max_per_trade_pct}%")
        if session_breach:
            reasons.append(f"session slippage ${self._session_total:.2f} exceeds ${self.max_per_session_usd:.2f}")
        reason = "; ".join(reasons) or None
        was_reduce_only = self._reduce_only
        if breached:
            self._reduce_only = True
            self._breaches += 1
        result = SlippageCheckResult(
            order_id=str(order_id), slippage_pct=slippage_pct, slippage_usd=slippage_usd,
            within_trade_limit=within_trade, session_total=self._session_total, breached=breached,
            alert=alert, reduce_only=self._reduce_only, reason=reason)
        fields = {"order_id": str(order_id), "expected": expected, "actual": actual, "quantity": int(qty),
                  "multiplier": mult, "slippage_pct": slippage_pct, "slippage_usd": slippage_usd,
                  "session_total": self._session_total, "limit_pct": self.max_per_trade_pct,
                  "limit_session_usd": self.max_per_session_usd}
        if breached:
            logger.warning("SLIPPAGE_BUDGET_EXCEEDED", extra={**fields, "reason": reason,
                                                              "reduce_only": True, "breaches": self._breaches})
            self._audit_breach(result, fields, was_reduce_only)
        elif alert:
            logger.info("SLIPPAGE_ALERT", extra={**fields, "alert_threshold_pct": self.alert_threshold_pct})
        return result

    def _audit_breach(self, result: SlippageCheckResult, fields: dict[str, Any], was_reduce_only: bool) -> None:
        if self._audit is None:
            return
        self._audit.log(
            AuditAction.SLIPPAGE_BUDGET_BREACH, f"Slippage budget exceeded: {result.reason}",
            resource_type="order", resource_id=result.order_id, reason=result.reason,
            before_state={"reduce_only": was_reduce_only},
            after_state={"reduce_only": True, "session_total": result.session_total},
            metadata={**fields, "session_date": None if self._session_date is None
                      else self._session_date.isoformat()})

    def restore(self, saved: dict[str, Any]) -> None:
        """After a restart: the session's spent slippage and the reduce-only latch as they were
        (raises ValueError, TypeError or KeyError on a malformed value and changes nothing then)."""
        raw_date = saved["session_date"]
        session_date = None if raw_date is None else _session_date(date.fromisoformat(raw_date))
        total = _number("session_total_usd", saved["session_total_usd"])
        if total < 0:
            raise InvalidSlippageInputError(f"session_total_usd must be >= 0, got {total!r}")
        reduce_only = saved["reduce_only"]
        if not isinstance(reduce_only, bool):
            raise InvalidSlippageInputError(f"reduce_only must be true or false, got {reduce_only!r}")
        breaches = int(saved.get("breaches") or 0)
        self._session_date, self._session_total = session_date, total
        self._reduce_only, self._breaches = reduce_only, breaches

    def to_dict(self) -> dict[str, Any]:
        """For the state snapshot."""
        return {"session_date": None if self._session_date is None else self._session_date.isoformat(),
                "session_total_usd": self._session_total, "remaining_usd": self.remaining_usd,
                "reduce_only": self._reduce_only, "breaches": self._breaches,
                "max_per_trade_pct": self.max_per_trade_pct, "max_per_session_usd": self.max_per_session_usd,
                "alert_threshold_pct": self.alert_threshold_pct}
