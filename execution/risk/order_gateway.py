"""The one pre-trade gateway: the only object that holds the broker's order entry.

Every order the bot sends — entries, profit-takes, stop-losses, expiry closes, repriced
replacements, both legs of a roll as one unit, requests queued by people and agents — goes through
``OrderGateway.submit``: the circuit breaker and every risk limit (execution/risk/pre_trade_validator.py)
are checked against a fresh ``PreTradeContext`` and only an approved order reaches
``BrokerPort.submit``. Nothing else in execution/ calls the broker's ``submit`` (a test checks
the source), and LEAN's order methods are called only by the LEAN broker behind it.
Cancels always pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from execution.ports import BrokerPort
from execution.risk.pre_trade_validator import OrderCounter, PreTradeContext, PreTradeValidator, ValidationResult
from models.orders import OrderRequest
from utils.logging_config import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True)
class GatewayResult:
    validation: ValidationResult
    order_ids: tuple[int, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.validation.approved


class OrderGateway:
    def __init__(self, broker: BrokerPort, validator: PreTradeValidator,
                 context: Callable[[datetime, Sequence[OrderRequest]], PreTradeContext]) -> None:
        self._broker = broker
        self._validator = validator
        self._context = context
        self.counter = OrderCounter()
        self.rejections = 0

    def submit(self, request: OrderRequest, now: datetime, *, actor: str = "system",
               actor_type: str = "system", on_approved: Callable[[], None] | None = None) -> GatewayResult:
        """Validate, then send. A rejection is logged and audited by the validator; nothing is sent.
        ``on_approved`` runs between approval and sending (LEAN may deliver fills inside ``submit``,
        so whatever must be recorded before the first fill goes there)."""
        ctx = self._context(now, (request,))
        result = self._validator.validate(request, ctx, actor=actor, actor_type=actor_type)
        if not result.approved:
            self.rejections += 1
            return GatewayResult(result)
        self.counter.record(now)
        if on_approved is not None:
            on_approved()
        return GatewayResult(result, tuple(self._broker.submit(request)))

    def submit_combo(self, legs: Sequence[OrderRequest], ratios: list[tuple[str, int]], quantity: int,
                     limit_price: float | None, now: datetime) -> GatewayResult:
        """A combo (a roll's legs) validated as one unit, then sent as one LEAN combo order."""
        ctx = self._context(now, legs)
        result = self._validator.validate(legs, ctx)
        if not result.approved:
            self.rejections += 1
            return GatewayResult(result)
        self.counter.record(now)
        return GatewayResult(result, tuple(self._broker.submit_combo(legs[0].client_id, ratios, quantity,
                                                                     limit_price)))

    def cancel(self, order_id: int) -> bool:
        """Cancels always pass (they only ever reduce what is working)."""
        return self._broker.cancel(order_id)
