"""The exposure ledger (execution/ledger.py): held plus every working order, per contract."""

from __future__ import annotations

import dataclasses

import pytest

from execution.ledger import ExposureLedger, WorkingLeg


def ledger(held: dict[str, int], *legs: WorkingLeg) -> ExposureLedger:
    return ExposureLedger(lambda: held, [lambda: list(legs)])


def leg(symbol: str, remaining: int, ref: str = "C1") -> WorkingLeg:
    return WorkingLeg(ref, symbol, remaining, "stop_loss")


def test_a_one_lot_close_covers_a_one_lot_position_either_way() -> None:
    assert ledger({"A": -1}, leg("A", 1)).closing("A", -1) == 1
    assert ledger({"A": 1}, leg("A", -1)).closing("A", 1) == 1


def test_orders_on_the_same_side_or_another_contract_do_not_close() -> None:
    book = ledger({"A": -2}, leg("A", -1), leg("B", 2))
    assert book.closing("A", -2) == 0 and book.closing("A", 0) == 0


def test_exposure_pending_and_open_contracts_count_what_could_fill() -> None:
    book = ledger({"A": -3, "Z": 0}, leg("A", 3, "close"), leg("B", -2, "entry"), leg("C", 1), leg("C", -1),
                  leg("D", 0))
    assert book.held() == {"A": -3}
    assert book.pending() == {"A": 3, "B": -2}  # C nets to zero; D has nothing left to fill
    assert book.exposure("A") == 0 and book.exposure("B") == -2 and book.exposure("Z") == 0
    assert book.open_contracts() == {"A", "B", "C"}  # C: either leg may fill alone
    assert [w.ref for w in book.working()] == ["close", "entry", "C1", "C1"]


def test_a_leg_read_from_the_ledger_cannot_change_the_order_it_describes() -> None:
    book = ledger({}, leg("A", 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        book.working()[0].remaining = 0  # type: ignore[misc]
    assert book.pending() == {"A": 2} and len(set(book.working())) == 1  # a value: hashable
