"""The order of the management steps (issue 19): ``manage_order`` = exits_first | rolls_first.

``exits_first`` (the default, the order before issue 19): each slice the profit ladder, the stop-loss
and the expiry guard act first; a roll is then tried only for a position no working order is
closing (a profit-take that went out covers the position, and the roll waits).

``rolls_first`` (thetagang's order: ``roll_positions`` before anything closes): a position that the
roll rules say is due (``should_roll`` ROLL or CLOSE) and has not had today's roll attempt is held
back from the profit ladder and the expiry guard (``PositionManager.decide_exits(...,
waiting_for_roll)``) until that attempt is made (rolls are checked
every few minutes, so on the slices in between the exit waits instead of racing the roll). Once the
attempt is made, the roll's legs cover the position (exits skip it); a roll with no target is
closed or held by ``roll_close_if_unable_to_roll`` and then the exits apply as usual.
The stop-loss is never held back: it protects money, whatever the order.

Worked example (README "Management order"): a short put sold at 2.00, 9 days to expiry, marked at
0.90 (P&L +55 %), with ``profit_ladder`` 0.50:0.30, ``roll_dte`` 10 and ``exit_dte`` 5.
exits_first: the ladder closes 30 % at once; the roll waits until no close is working, then rolls
what is left. rolls_first: the ladder is held; the roll sends one combo for every contract; if no
target qualifies, the ladder fires on the next slice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

from execution.bot_managed_positions import BotManagedPosition
from execution.rolls.roll_rules import should_roll
from models.market_data import ContractQuote
from models.roll_config import RollConfig

ROLLS_FIRST = "rolls_first"
EXITS_FIRST = "exits_first"


def due_for_roll(positions: Iterable[BotManagedPosition], quotes: Mapping[str, ContractQuote], today: date,
                 config: RollConfig, spot: float | None, attempted: Callable[[str], bool]) -> set[str]:
    """Ids of the positions the roll rules want to roll (or close) today and that have not had
    today's attempt (``attempted(position_id)``)."""
    if not config.enabled:
        return set()
    due = set()
    for position in positions:
        if attempted(position.id):
            continue
        decision = should_roll(position, quotes.get(position.symbol), today, config, spot=spot)
        if decision.should_roll or decision.should_close:
            due.add(position.id)
    return due
