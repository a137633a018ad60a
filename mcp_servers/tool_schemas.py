"""The tool set (11 tools, one place): names, descriptions and small input schemas. A test keeps
``tools/list`` under 4,000 tokens (JSON characters / 4)."""

from __future__ import annotations

from typing import Any

from mcp_servers.base_server import ToolCategory, ToolSchema

_ID = {"type": "string", "maxLength": 64}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_PRICE = {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
ORDER: dict[str, Any] = {
    "underlying": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{0,5}$"},
    "right": {"enum": ["call", "put"]}, "strike": _PRICE, "expiry": _DATE, "side": {"enum": ["buy", "sell"]},
    "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
    "order_type": {"enum": ["market", "limit"]}, "limit_price": _PRICE,
    "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "reasoning": _TEXT}
ORDER_REQUIRED = ["underlying", "right", "strike", "expiry", "side", "quantity", "order_type", "confidence",
                  "reasoning"]
_CLOSE = {"position_id": _ID, "quantity": ORDER["quantity"], "order_type": ORDER["order_type"],
          "limit_price": _PRICE, "confidence": ORDER["confidence"], "reasoning": _TEXT}

SCHEMAS: tuple[ToolSchema, ...] = (
    ToolSchema("get_option_chain", "Option contracts from the last state snapshot, by expiry and |delta| range.",
               ToolCategory.MARKET_DATA, {"expiry": _DATE, "min_abs_delta": {"type": "number", "minimum": 0,
                                                                             "maximum": 1},
                                          "max_abs_delta": {"type": "number", "minimum": 0, "maximum": 1}}),
    ToolSchema("get_positions", "Open positions with Greeks, portfolio Greeks and equity.", ToolCategory.PORTFOLIO),
    ToolSchema("get_risk_state", "Trading state (active/reducing/halted), risk limits, breaker, orders today.",
               ToolCategory.RISK),
    ToolSchema("check_order", "Dry-run an order through the gateway's own risk rules on the current exposure; "
               "returns every check and the preview.",
               ToolCategory.RISK, ORDER, ORDER_REQUIRED),
    ToolSchema("propose_order", "Propose an order: returns proposal id, pre-check, preview, expiry. A person "
               "approves it (manual) or the agent's budget does (autonomous).", ToolCategory.TRADING, ORDER,
               ORDER_REQUIRED),
    ToolSchema("propose_close", "Propose closing a position (all contracts unless quantity is given).",
               ToolCategory.TRADING, _CLOSE, ["position_id", "confidence", "reasoning"]),
    ToolSchema("propose_roll", "Propose rolling a whole position to a later expiry and/or another strike: ONE "
               "combo order (close + open). net_limit: net price per unit, negative = credit; none = market.",
               ToolCategory.TRADING, {"position_id": _ID, "new_expiry": _DATE, "new_strike": _PRICE,
                                      "net_limit": {"type": "number", "minimum": -1e6, "maximum": 1e6},
                                      "confidence": ORDER["confidence"], "reasoning": _TEXT},
               ["position_id", "new_expiry", "confidence", "reasoning"]),
    ToolSchema("get_proposal", "A proposal's status, preview, decision and inbox outcome.", ToolCategory.TRADING,
               {"proposal_id": _ID}, ["proposal_id"]),
    ToolSchema("cancel_proposal", "Withdraw one of your pending proposals.", ToolCategory.TRADING,
               {"proposal_id": _ID}, ["proposal_id"]),
    ToolSchema("explain_position", "Why a position was or was not closed or rolled: its audit trail.",
               ToolCategory.ANALYSIS, {"position_id": _ID}, ["position_id"]),
    ToolSchema("run_backtest", "Run the offline harness (synthetic market) and return its statistics.",
               ToolCategory.BACKTEST, {"days": {"type": "integer", "minimum": 1, "maximum": 60},
                                       "start": _DATE, "seed": {"type": "integer", "minimum": 0, "maximum": 10**6},
                                       "parameters": {"type": "object", "maxProperties": 20,
                                                      "additionalProperties": {"type": "string", "maxLength": 200}},
                                       "time_limit_seconds": {"type": "number", "minimum": 1, "maximum": 600}}),
)
