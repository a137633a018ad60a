"""Test hooks of the harness brokerage: reject an order or fill part of it (the rest on the next
slice, never, or after it is cancelled), per order or per leg:
``engine.brokerage.script.add(match, PartialFill(0.5))``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.lean_orders import Order


@dataclass(frozen=True)
class Reject:
    reason: str = "Rejected by the harness fill script"


@dataclass(frozen=True)
class PartialFill:
    fraction: float
    # "next_slice"; "never": the rest stays open until cancelled; "after_cancel": as "never", then
    # the rest fills at the first slice after the CANCELED event (a live brokerage's late fill)
    remainder: str = "next_slice"

    def __post_init__(self) -> None:
        if self.remainder not in ("next_slice", "never", "after_cancel"):
            raise ValueError(f"unknown remainder {self.remainder!r}")


@dataclass
class _Directive:
    match: Callable[[Order], bool]
    action: Reject | PartialFill
    uses: int


@dataclass
class FillScript:
    """Test hooks: ``script.add(lambda order: ..., PartialFill(0.5), uses=1)``."""

    directives: list[_Directive] = field(default_factory=list)

    def add(self, match: Callable[[Order], bool], action: Reject | PartialFill, uses: int = 1) -> None:
        self.directives.append(_Directive(match, action, uses))

    def take(self, order: Order) -> Reject | PartialFill | None:
        for directive in self.directives:
            if directive.uses > 0 and directive.match(order):
                directive.uses -= 1
                return directive.action
        return None
