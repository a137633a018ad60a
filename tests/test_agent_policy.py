"""models/agent_policy.py: the one policy for agents' orders (trading state, budgets, identity)."""

from __future__ import annotations

import pytest

from models.agent_policy import (
    AgentBudget,
    ApprovalMode,
    BudgetUse,
    budget_refusals,
    hash_token,
    parse_policy_config,
    state_refusal,
)
from models.exceptions import ConfigurationError

BUDGET = AgentBudget(orders_per_day=2, contracts_per_order=3, premium_at_risk_per_day=1000.0,
                     allowed_actions=frozenset({"open", "close"}), allowed_underlyings=frozenset({"GOOG"}))


@pytest.mark.parametrize(("state", "adds", "refused"), [
    ("active", True, False), ("halted", False, False), ("halted", True, True), ("tripped", True, True),
    ("reducing", True, True), ("reduce_only", True, True), ("reducing", False, False)])
def test_halted_refuses_all_but_closes_and_reducing_refuses_added_exposure(state: str, adds: bool,
                                                                           refused: bool) -> None:
    assert (state_refusal(state, adds) is not None) is refused


def test_within_budget_nothing_is_refused_and_each_limit_is_named_when_passed() -> None:
    assert budget_refusals(BUDGET, BudgetUse(1, 500.0), "open", "GOOG", 3, 500.0) == []
    reasons = budget_refusals(BUDGET, BudgetUse(2, 900.0), "roll", "AAPL", 4, 200.0)
    assert [r.split(" ")[0] for r in reasons] == ["action", "underlying", "orders", "contracts", "premium"]


def test_the_config_keeps_only_token_hashes_and_finds_an_agent_by_its_token() -> None:
    config = parse_policy_config({"approval_mode": "autonomous", "agents": [
        {"name": "alpha", "token_sha256": hash_token("a-secret-token"), "budget": {"orders_per_day": 1}},
        {"name": "beta", "token_sha256": hash_token("b-secret-token")}]})
    assert config.approval_mode is ApprovalMode.AUTONOMOUS and config.proposal_ttl_seconds == 120
    agent = config.agent_for_token("a-secret-token")
    assert agent is not None and agent.actor == "agent:alpha" and agent.budget.orders_per_day == 1
    assert config.agent_for_token("b-secret-token") is config.agent_named("beta")
    assert config.agent_for_token("wrong") is None and config.agent_for_token(None) is None
    assert "a-secret-token" not in repr(config)


@pytest.mark.parametrize(("doc", "parameter"), [
    ({"approval_mode": "yolo"}, "approval_mode"),
    ({"agents": [{"name": "Alpha!", "token_sha256": "0" * 64}]}, "agents[0].name"),
    ({"agents": [{"name": "alpha", "token_sha256": "plain-token"}]}, "agents[0].token_sha256"),
    ({"agents": [{"name": "alpha", "token_sha256": "0" * 64, "budget": {"orders_per_day": -1}}]},
     "agents[0].budget.orders_per_day"),
    ({"agents": [{"name": "alpha", "token_sha256": "0" * 64, "budget": {"allowed_actions": ["sell_all"]}}]},
     "agents[0].budget.allowed_actions"),
    ({"agents": [{"name": "a", "token_sha256": "0" * 64}, {"name": "b", "token_sha256": "0" * 64}]}, "agents"),
])
def test_a_bad_policy_names_what_to_fix(doc: dict, parameter: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy_config(doc)
    assert caught.value.parameter == parameter
