"""The trading states of the circuit breaker and the one rule of what each lets through.

Shared by the breaker and the pre-trade gateway (execution/risk/) and by the sidecar's dry run of
the gateway's rules (services/gateway_dry_run.py), so every door applies the same rule.
"""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        return SEVERITY[self]


SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def permits(state: TradingState, reduces_exposure: bool, is_cancel: bool,
            halted_allows_closes: bool) -> bool:
    """ACTIVE lets everything through; REDUCING only exposure-reducing orders; HALTED nothing new
    (exposure-reducing orders only with ``halted_allows_closes``). Cancels always pass."""
    if is_cancel or state is TradingState.ACTIVE:
        return True
    if state is TradingState.REDUCING:
        return reduces_exposure
    return reduces_exposure and halted_allows_closes
