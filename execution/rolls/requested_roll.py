"""A roll a person or an agent asked for (issue 16: an approved ``propose_roll`` reaches the
algorithm as ONE inbox request of kind ``roll``, utils/inbox_specs.RollSpec).

``refusal`` checks the request against the book as it is now (the proposal was made from a snapshot
that may be old): the position exists and is open, still holds the named contract on the named
side, the whole position moves (a roll never leaves half a position behind), nothing else is
closing or rolling it, the new contract is in the chain, has the same right and is not held the
other way. ``requested_target`` turns it into the same ``RollTarget`` the bot's own rolls use, so
the roll manager works it identically: one combo order through the pre-trade gateway, legs and
fills under the request id (the proposal's correlation id) as the roll id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from execution.rolls.roll_target import RollTarget
from execution.smart_execution import InvalidQuoteError, combo_net_quote
from models.bot_config import Right
from models.market_data import ContractQuote
from utils.inbox_specs import RollSpec

if TYPE_CHECKING:
    from execution.bot_managed_positions import BotManagedPosition
    from execution.ports import RollHost


@dataclass(frozen=True)
class RollRequest:
    """What the inbox consumer hands the roll manager."""

    request_id: str  # also the roll id: the correlation id of every order, fill and audit entry
    spec: RollSpec
    new_quote: ContractQuote | None  # the new contract from the current chain (None: not in it)
    actor: str
    actor_type: str


@dataclass(frozen=True)
class RequestedRollResult:
    accepted: bool
    reason: str | None = None
    order_ids: tuple[int, ...] = ()


def refusal(request: RollRequest, position: BotManagedPosition | None, host: RollHost, rolling: bool) -> str | None:
    """Why the roll cannot go out now, or None."""
    spec = request.spec
    if host.config.ticker != spec.underlying:
        return f"this algorithm trades {host.config.ticker} options only"
    if position is None:
        return f"no bot-managed position {spec.position_id}"
    if position.quantity == 0 or position.status.value == "closed":
        return f"position {spec.position_id} is closed"
    held = (position.right.value, position.strike, position.expiry, position.side)
    if held != (spec.right, spec.strike, spec.expiry, spec.side):
        return (f"position {spec.position_id} holds {position.side} {position.symbol}, not the contract the "
                f"request names ({spec.side} {spec.expiry} {spec.strike} {spec.right})")
    if spec.quantity != abs(position.quantity):
        return f"a roll moves the whole position: {abs(position.quantity)} contracts, not {spec.quantity}"
    if rolling:
        return f"position {spec.position_id} is already being rolled"
    if host.covered(position):
        return f"a working order is already closing position {spec.position_id}"
    new = request.new_quote
    if new is None:
        return "the new contract is not in the current option chain"
    if (new.right == Right.CALL) != (spec.right == "call") or new.expiry < position.expiry:
        return f"{new.symbol} is not a later contract of the same right"
    exposure = host.ledger.exposure(new.symbol)
    if exposure and (exposure < 0) != (position.quantity < 0):
        return f"{new.symbol} is held or worked the other way: the legs would net"
    if host.quotes.get(position.symbol) is None:
        return f"no quote for the held contract {position.symbol}"
    return None


def requested_target(request: RollRequest, position: BotManagedPosition, current: ContractQuote,
                     today: date) -> RollTarget | str:
    """The ``RollTarget`` for the named contract, or why its quotes cannot price the combo."""
    new = request.new_quote
    assert new is not None
    close_ratio = 1 if position.quantity < 0 else -1  # a short position is bought back
    try:
        net_bid, net_ask = combo_net_quote([(close_ratio, current.bid, current.ask), (-close_ratio, new.bid, new.ask)])
    except InvalidQuoteError as exc:
        return f"no two-sided quotes to price the roll: {exc}"
    return RollTarget(quote=new, close_symbol=position.symbol, close_ratio=close_ratio, open_ratio=-close_ratio,
                      quantity=abs(position.quantity), net_bid=net_bid, net_ask=net_ask,
                      multiplier=position.multiplier, delta=new.delta,
                      delta_source="market" if new.has_market_greeks else "none", dte=(new.expiry - today).days,
                      qualified=1, reason=f"requested by {request.actor}: {request.spec.reasoning[:200]}")
