"""Propose, approve, reject, cancel: the steps of a proposal, shared by the MCP tools and the
approval routes (api/proposal_routes.py). Each step is audited with the proposal's correlation id.

``approval_mode`` manual: every proposal waits for a person. autonomous: a proposal within the
agent's budget (models/agent_policy.py) is approved by ``budget:<agent>`` and queued at once; beyond
it, it waits for a person like a manual one. A proposal the pre-check refuses is not created.
"""

from __future__ import annotations

from typing import Any

import anyio

from models.agent_policy import AgentSpec, ApprovalMode, actor_of, budget_refusals
from models.audit import AuditAction
from services.agent_gate import evaluate
from services.agent_runtime import McpRuntime
from services.proposals import APPROVED, CANCELLED, PENDING, REJECTED, Proposal, ProposalRefused, new_proposal
from utils.logging_config import get_logger
from utils.order_inbox import InboxAction, InboxRequest, OrderSpec, RollSpec, derive_request_id

logger = get_logger(__name__)


def _describe(order: OrderSpec) -> str:
    return f"{order.side} {order.quantity} {order.underlying} {order.expiry} {order.strike} {order.right}"


def _describe_roll(roll: RollSpec) -> str:
    price = "market" if roll.limit_price is None else f"net {roll.limit_price:+g}"
    return (f"roll {roll.position_id}: {roll.quantity} {roll.underlying} {roll.expiry} {roll.strike} {roll.right} -> "
            f"{roll.new_expiry} {roll.new_strike} as one combo ({price})")


def _describe_request(request: InboxRequest) -> str:
    return _describe_roll(request.roll) if request.roll is not None else _describe(request.order) if \
        request.order is not None else request.action.value


def summary(proposal: Proposal) -> str:
    if proposal.roll is not None:
        return _describe_roll(proposal.roll)
    return f"{proposal.kind}: " + ", then ".join(_describe(o) for o in (proposal.order, *proposal.legs))


def view(runtime: McpRuntime, proposal: Proposal) -> dict[str, Any]:
    doc = proposal.to_dict()
    doc["summary"] = summary(proposal)
    doc["status"] = runtime.proposals.status(proposal, runtime.clock())
    doc["decision"] = runtime.proposals.decision(proposal.proposal_id)
    doc["inbox"] = runtime.queue.record(proposal.request_id) if doc["status"] == APPROVED else None
    return doc


def _requests(proposal: Proposal) -> list[InboxRequest]:
    """The inbox request(s) an approved proposal becomes: one per proposal (a roll: one ``roll``
    request, worked as one combo order); a roll proposal stored before roll requests existed still
    becomes its legs."""
    if proposal.roll is not None:
        key = f"proposal:{proposal.proposal_id}"
        return [InboxRequest(request_id=proposal.request_id, idempotency_key=key, submitted_at=proposal.created_at,
                             actor=actor_of(proposal.agent), actor_type="ai_agent", action=InboxAction.ROLL,
                             roll=proposal.roll)]
    orders = [proposal.order, *proposal.legs]
    out = []
    for index, order in enumerate(orders):
        key = f"proposal:{proposal.proposal_id}" + (f":leg{index}" if index else "")
        out.append(InboxRequest(request_id=derive_request_id(key), idempotency_key=key,
                                submitted_at=proposal.created_at, actor=actor_of(proposal.agent),
                                actor_type="ai_agent", action=InboxAction.SUBMIT, order=order))
    return out


def _enqueue(runtime: McpRuntime, proposal: Proposal, approver: str) -> list[str]:
    ids = []
    for request in _requests(proposal):
        runtime.queue.enqueue(request)
        ids.append(request.request_id)
        terms = request.roll or request.order
        assert terms is not None
        runtime.audit.log(AuditAction.ORDER_SUBMIT, f"Queued {_describe_request(request)} from proposal "
                          f"{proposal.proposal_id}", actor=actor_of(proposal.agent), actor_type="ai_agent",
                          resource_type="order_request", resource_id=request.request_id,
                          after_state={"status": "queued", "action": request.action.value, **terms.to_dict()},
                          correlation_id=proposal.correlation_id,
                          metadata={"proposal_id": proposal.proposal_id, "approved_by": approver})
    logger.info("PROPOSAL_QUEUED", extra={"proposal_id": proposal.proposal_id, "request_ids": ids})
    return ids


def propose(runtime: McpRuntime, agent: AgentSpec, kind: str, order: OrderSpec,
            legs: tuple[OrderSpec, ...] = (), roll: RollSpec | None = None) -> dict[str, Any]:
    status = runtime.snapshots.current()
    checks = [evaluate(o, status.view.snapshot, status.status) for o in (order, *legs)]  # per leg: premiums
    first = checks[0]
    # the verdict: every leg as ONE unit, as the gateway checks a roll's combo order
    combined = evaluate(order, status.view.snapshot, status.status, legs) if legs else first
    violations = list(combined.violations)
    check = {**combined.as_dict(), "passed": not violations, "violations": violations,
             "warnings": list(combined.warnings)}
    premium = sum(c.premium_at_risk or 0.0 for c in checks if c.adds_exposure)
    now = runtime.clock()
    proposal = new_proposal(agent.name, kind, order, now, runtime.policy.proposal_ttl_seconds, check,
                            first.preview, premium, legs, roll)
    _requests(proposal)  # the inbox's own rules (e.g. an agent's confidence): refused now, not at approval
    audit = {"actor": agent.actor, "actor_type": "ai_agent", "resource_type": "proposal",
             "resource_id": proposal.proposal_id, "correlation_id": proposal.correlation_id}
    if violations:
        runtime.audit.log(AuditAction.PROPOSAL_REJECT, f"Pre-check refused {kind} {_describe(order)}",
                          reason="; ".join(violations), metadata={"precheck": check}, **audit)
        return {"status": "refused", "precheck": check, "preview": first.preview}
    runtime.proposals.save(proposal)
    runtime.audit.log(AuditAction.PROPOSAL_CREATE, f"{agent.actor} proposed {kind} {_describe(order)}",
                      after_state={**proposal.to_dict(), "status": PENDING}, reason=order.reasoning, **audit)
    result: dict[str, Any] = {"proposal_id": proposal.proposal_id, "status": PENDING, "precheck": check,
                              "preview": first.preview, "order_digest": proposal.digest,
                              "expires_at": proposal.expires_at.isoformat(), "correlation_id": proposal.correlation_id}
    if runtime.policy.approval_mode is ApprovalMode.AUTONOMOUS:
        with runtime.proposals.budget_lock(agent.name):  # two proposals at once cannot both take the last order
            beyond = _beyond_budget(runtime, agent, proposal, any(c.premium_at_risk is None and c.adds_exposure
                                                                   for c in checks))
            if not beyond:
                runtime.proposals.decide(proposal, APPROVED, f"budget:{agent.name}", now, proposal.digest,
                                         extra={"premium_at_risk": premium})
        if not beyond:
            runtime.audit.log(AuditAction.PROPOSAL_APPROVE, f"Within {agent.actor}'s budget: approved",
                              metadata={"approved_by": f"budget:{agent.name}"}, **audit)
            result["request_ids"] = _enqueue(runtime, proposal, f"budget:{agent.name}")
            result["status"] = APPROVED
        else:
            result["needs_approval"] = beyond
    return result


def _beyond_budget(runtime: McpRuntime, agent: AgentSpec, proposal: Proposal, unpriced: bool) -> list[str]:
    used = runtime.proposals.budget_use(agent.name, runtime.clock())
    contracts = max(o.quantity for o in (proposal.order, *proposal.legs))
    reasons = budget_refusals(agent.budget, used, proposal.kind, proposal.order.underlying, contracts,
                              proposal.premium_at_risk)
    if unpriced:
        reasons.append("premium at risk unknown (market order on a contract without a mark): a person decides")
    return reasons


def approve(runtime: McpRuntime, proposal_id: str, digest: str, approver: str) -> dict[str, Any]:
    proposal = runtime.proposals.get(proposal_id)
    runtime.proposals.decide(proposal, APPROVED, approver, runtime.clock(), digest)
    runtime.audit.log(AuditAction.PROPOSAL_APPROVE, f"{approver} approved {proposal.kind} {_describe(proposal.order)}",
                      actor=approver, actor_type="human", resource_type="proposal", resource_id=proposal_id,
                      correlation_id=proposal.correlation_id, metadata={"order_digest": digest})
    _enqueue(runtime, proposal, approver)
    return view(runtime, proposal)


def reject(runtime: McpRuntime, proposal_id: str, approver: str, reason: str | None) -> dict[str, Any]:
    proposal = runtime.proposals.get(proposal_id)
    runtime.proposals.decide(proposal, REJECTED, approver, runtime.clock(), reason=reason)
    runtime.audit.log(AuditAction.PROPOSAL_REJECT, f"{approver} rejected {proposal.kind} {_describe(proposal.order)}",
                      actor=approver, actor_type="human", resource_type="proposal", resource_id=proposal_id,
                      reason=reason, correlation_id=proposal.correlation_id)
    return view(runtime, proposal)


def listing(runtime: McpRuntime, status: str | None, limit: int) -> dict[str, Any]:
    """Proposals newest first (optionally one status), for the person who decides."""
    items = []
    for proposal in runtime.proposals.newest():
        doc = view(runtime, proposal)
        if status is None or doc["status"] == status:
            items.append(doc)
        if len(items) >= limit:
            break
    return {"items": items, "count": len(items)}


def owned(runtime: McpRuntime, agent: AgentSpec, proposal_id: str) -> Proposal:
    """The agent's own proposal; another agent's is reported as not found (no probing)."""
    proposal = runtime.proposals.get(proposal_id)
    if proposal.agent != agent.name:
        raise ProposalRefused(f"no proposal {proposal_id}", 404)
    return proposal


def cancel(runtime: McpRuntime, agent: AgentSpec, proposal_id: str) -> dict[str, Any]:
    proposal = owned(runtime, agent, proposal_id)
    runtime.proposals.decide(proposal, CANCELLED, agent.actor, runtime.clock())
    runtime.audit.log(AuditAction.PROPOSAL_CANCEL, f"{agent.actor} cancelled {proposal.proposal_id}",
                      actor=agent.actor, actor_type="ai_agent", resource_type="proposal", resource_id=proposal_id,
                      correlation_id=proposal.correlation_id)
    return view(runtime, proposal)


async def in_thread(function: Any, *args: Any) -> Any:
    """Run a blocking step (file I/O) off the event loop."""
    return await anyio.to_thread.run_sync(function, *args)
