"""Test hooks of the harness brokerage: reject an order or fill part of it (the rest on the next
slice, or never), per order or per leg: ``engine.brokerage.script.add(match, PartialFill(0.5))``."""

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
    remainder: str = "next_slice"  # or "never": the rest stays open until cancelled


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
