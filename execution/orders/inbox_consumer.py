"""Acts on the requests people and agents queue through the sidecar (utils/order_inbox.py).

Each poll reads the inbox keys that have no outcome yet, oldest first, and for each one:

1. saves a ``processing`` outcome *before* acting, so a restart never acts twice on one id (a
   request found ``processing`` at start-up was interrupted: it is closed as ``done`` with a note,
   not retried — the audit trail tells whether its order went out);
2. acts: ``submit`` goes through the same pre-trade gateway as the bot's own orders (the actor and
   the agent's confidence and reasoning go into the audit trail), ``cancel`` cancels a working
   order, ``halt`` halts the circuit breaker, ``resume`` resets it (both need actor and reason),
   ``roll`` hands a whole position's roll to the roll manager (one combo order through the gateway,
   under the request id; execution/rolls/requested_roll.py);
3. saves the final outcome (accepted with LEAN order ids, or rejected with reasons) and audits it.

A torn or malformed request file (or one nested too deep, holding a number too long, bytes that are
not UTF-8) is quarantined: answered ``unreadable`` with the parse error and audited once; it never
stops the poll. Halt and resume are acted on before orders (``order_for_processing``).
The same requests arrive as LEAN commands (main.py) and take the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from execution.risk.circuit_breaker import CircuitBreakerResetRefused
from execution.rolls.requested_roll import RollRequest
from models.audit import AuditAction
from models.market_data import ContractQuote
from utils.logging_config import get_logger
from utils.object_store_schema import store_keys
from utils.order_inbox import (
    InboxAction,
    InboxFormatError,
    InboxOutcome,
    InboxRequest,
    OrderSpec,
    OutcomeStatus,
    order_for_processing,
    outcome_key,
    parse_inbox_key,
    parse_outcome_key,
    pending_request_keys,
    read_outcome,
    read_request,
)

if TYPE_CHECKING:
    from execution.ports import RequestHandler
    from utils.audit_sinks import TextObjectStore

logger = get_logger(__name__)

ContractResolver = Callable[[OrderSpec], ContractQuote | None]


class InboxConsumer:
    def __init__(self, store: TextObjectStore, bot: RequestHandler, resolve: ContractResolver,
                 clock: Callable[[], datetime]) -> None:
        self._store = store
        self._bot = bot
        self._resolve = resolve
        self._clock = clock
        self._seen: set[str] = set()  # ids acted on in this process (LEAN commands and inbox alike)
        self.processed = 0

    def recover(self) -> int:
        """At start-up: close requests a previous run claimed but did not finish."""
        closed = 0
        for key in store_keys(self._store):
            request_id = parse_outcome_key(key)
            if request_id is None:
                continue
            try:
                outcome = read_outcome(self._store.read(key))
            except (InboxFormatError, ValueError, OSError) as exc:  # ValueError: bytes that are not UTF-8
                logger.error("INBOX_OUTCOME_UNREADABLE", extra={"key": key, "error": str(exc)})
                continue
            if outcome.status is OutcomeStatus.PROCESSING:
                self._finish(request_id, OutcomeStatus.DONE, ("interrupted by a restart; not retried: see the "
                                                               "audit trail for whether its order was sent",))
                closed += 1
        return closed

    def poll(self) -> int:
        """Act on every pending inbox request; return how many were handled."""
        keys = pending_request_keys(store_keys(self._store))
        requests = []
        for key in keys:
            request_id = parse_inbox_key(key)
            if request_id is None or request_id in self._seen:
                continue
            try:
                request = read_request(self._store.read(key))
                if request.request_id != request_id:
                    raise InboxFormatError(f"the file {key} holds request {request.request_id}")
                requests.append(request)
            except (InboxFormatError, ValueError, OSError) as exc:  # ValueError: bytes that are not UTF-8
                self._quarantine(request_id, exc)
        for request in order_for_processing(requests):
            self.handle(request)
        return len(requests)

    def _quarantine(self, request_id: str, error: Exception) -> None:
        """A request file that cannot be read is answered ``unreadable`` (never acted on, never read
        again) and audited once; the poll carries on with the others."""
        self._seen.add(request_id)
        reason = f"malformed request: {type(error).__name__}: {str(error)[:300]}"
        logger.warning("INBOX_REQUEST_QUARANTINED", extra={"request_id": request_id, "error": reason})
        self._finish(request_id, OutcomeStatus.UNREADABLE, (reason,))
        self._bot.audit.log(AuditAction.MANUAL_INTERVENTION, "Unreadable inbox request quarantined",
                            resource_type="inbox_request", resource_id=request_id, reason=reason,
                            correlation_id=request_id, after_state={"status": OutcomeStatus.UNREADABLE.value})

    def handle(self, request: InboxRequest) -> InboxOutcome | None:
        """Act on one request exactly once (inbox or LEAN command)."""
        request_id = request.request_id
        if request_id in self._seen or self._store.contains_key(outcome_key(request_id)):
            logger.info("INBOX_REQUEST_DUPLICATE", extra={"request_id": request_id})
            return None
        if not self._save(InboxOutcome(request_id, OutcomeStatus.PROCESSING, self._clock())):
            return None  # not claimed durably: do not act; the next poll tries again
        self._seen.add(request_id)
        logger.info("INBOX_REQUEST_RECEIVED", extra={
            "request_id": request_id, "action": request.action.value, "actor": request.actor,
            "actor_type": request.actor_type})
        try:
            status, reasons, order_ids = self._act(request)
        except (CircuitBreakerResetRefused, InboxFormatError) as exc:
            status, reasons, order_ids = OutcomeStatus.REJECTED, (str(exc),), ()
        outcome = self._finish(request_id, status, reasons, order_ids)
        self._bot.audit.log(
            AuditAction.MANUAL_INTERVENTION, f"Request {request.action.value} from {request.actor}: {status.value}",
            resource_type="inbox_request", resource_id=request_id, actor=request.actor,
            actor_type=request.actor_type,
            reason=request.reason or (request.order.reasoning if request.order else None),
            correlation_id=request_id, after_state={"status": status.value, "order_ids": list(order_ids)},
            metadata={"request": request.payload(), "reasons": list(reasons)})
        return outcome

    def _act(self, request: InboxRequest) -> tuple[OutcomeStatus, tuple[str, ...], tuple[int, ...]]:
        bot, action = self._bot, request.action
        if action is InboxAction.HALT:
            bot.breaker.halt(self._clock(), request.actor, request.actor_type, request.reason or "")
            return OutcomeStatus.DONE, (), ()
        if action is InboxAction.RESUME:
            bot.breaker.reset(request.actor, request.actor_type, request.reason or "")
            bot.entries_suspended = False  # a person or agent looked (actor and reason audited below)
            return OutcomeStatus.DONE, (), ()
        if action is InboxAction.CANCEL:
            assert request.target_request_id is not None
            if bot.cancel_external(request.target_request_id):
                return OutcomeStatus.CANCELLED, (), ()
            return OutcomeStatus.REJECTED, ("no working order for that request",), ()
        if action is InboxAction.ROLL:
            return self._roll(request)
        assert request.order is not None
        spec = request.order
        if spec.underlying != bot.config.ticker:
            return OutcomeStatus.REJECTED, (f"this algorithm trades {bot.config.ticker} options only",), ()
        quote = self._resolve(spec)
        if quote is None:
            return OutcomeStatus.REJECTED, ("contract not in the current option chain",), ()
        quantity = spec.quantity if spec.side == "buy" else -spec.quantity
        tracked = bot.submit_external(request.request_id, quote, quantity, spec.limit_price, request.actor,
                                      request.actor_type)
        if tracked.rejected and not tracked.lean_order_ids:
            return OutcomeStatus.REJECTED, (tracked.rejection or "rejected",), ()
        if tracked.rejected:
            return OutcomeStatus.REJECTED, ("rejected by the brokerage",), tuple(tracked.lean_order_ids)
        return OutcomeStatus.ACCEPTED, (), tuple(tracked.lean_order_ids)

    def _roll(self, request: InboxRequest) -> tuple[OutcomeStatus, tuple[str, ...], tuple[int, ...]]:
        assert request.roll is not None
        spec = request.roll
        new_quote = self._resolve(spec.opening_leg()) if spec.underlying == self._bot.config.ticker else None
        result = self._bot.rolls.request(RollRequest(request.request_id, spec, new_quote, request.actor,
                                                     request.actor_type), self._bot.now or self._clock())
        if not result.accepted:
            return OutcomeStatus.REJECTED, (result.reason or "rejected",), result.order_ids
        return OutcomeStatus.ACCEPTED, (), result.order_ids

    def _finish(self, request_id: str, status: OutcomeStatus, reasons: tuple[str, ...] = (),
                order_ids: tuple[int, ...] = ()) -> InboxOutcome:
        outcome = InboxOutcome(request_id, status, self._clock(), reasons, order_ids)
        self._save(outcome)
        self.processed += 1
        logger.info("INBOX_REQUEST_DONE", extra={"request_id": request_id, "status": status.value,
                                                 "reasons": list(reasons), "order_ids": list(order_ids)})
        return outcome

    def _save(self, outcome: InboxOutcome) -> bool:
        if self._store.save(outcome_key(outcome.request_id), outcome.to_json()):
            return True
        logger.error("INBOX_OUTCOME_NOT_SAVED", extra={"request_id": outcome.request_id,
                                                       "status": outcome.status.value})
        return False
