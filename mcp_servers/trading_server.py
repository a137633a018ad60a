"""The trading MCP server: the 11 tools of mcp_servers/tool_schemas.py over the sidecar's state
snapshot, audit trail, proposal store and order inbox (never over execution/)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from mcp_servers import backtest_tool
from mcp_servers.base_server import BaseMCPServer, Caller, RenderedResult, ServerConfig, ToolError
from mcp_servers.tool_schemas import SCHEMAS
from models.agent_policy import AgentSpec
from services import proposal_service
from services.agent_gate import evaluate
from services.agent_runtime import McpRuntime
from services.proposal_service import in_thread
from services.proposals import ProposalRefused
from services.risk_precheck import trading_state
from utils.object_store_schema import PositionSnapshot, StateSnapshot
from utils.order_inbox import InboxFormatError, OrderSpec, RollSpec

VERSION = "1.0.0"


def _order(args: dict[str, Any]) -> OrderSpec:
    try:
        return OrderSpec(underlying=args["underlying"], right=args["right"], strike=float(args["strike"]),
                         expiry=date.fromisoformat(args["expiry"]), side=args["side"], quantity=args["quantity"],
                         order_type=args["order_type"], limit_price=args.get("limit_price"),
                         confidence=args.get("confidence"), reasoning=args["reasoning"])
    except (InboxFormatError, ValueError) as exc:
        raise ToolError(f"invalid order: {exc}") from None


def _positions_body(doc: dict[str, Any]) -> dict[str, Any]:
    return {"positions": [p for p in doc.get("positions", []) if p.get("status") != "closed"],
            "portfolio_greeks": doc.get("portfolio_greeks", {}), "equity": doc.get("equity", {})}


def _wanted(row: dict[str, Any], expiry: str | None, low: float, high: float, ranged: bool) -> bool:
    if expiry and row["expiry"] != expiry:
        return False
    delta = row.get("delta")
    return not ranged or (delta is not None and low <= abs(delta) <= high)


class TradingMCPServer(BaseMCPServer):
    def __init__(self, runtime: McpRuntime, config: ServerConfig | None = None) -> None:
        self.runtime = runtime
        self._positions_cache: tuple[int, dict[str, Any], str] | None = None  # (snapshot version, data, JSON)
        super().__init__(config or ServerConfig(name="options-bot", version=VERSION), audit=runtime.audit)

    def _register_tools(self) -> None:
        handlers = {"get_option_chain": self._chain, "get_positions": self._positions,
                    "get_risk_state": self._risk, "check_order": self._check, "propose_order": self._propose,
                    "propose_close": self._propose_close, "propose_roll": self._propose_roll,
                    "get_proposal": self._get_proposal, "cancel_proposal": self._cancel,
                    "explain_position": self._explain, "run_backtest": self._backtest}
        for schema in SCHEMAS:
            self.register_tool(schema, handlers[schema.name])

    # -- reads --------------------------------------------------------------------------------
    def _snapshot(self) -> tuple[StateSnapshot, dict[str, Any]]:
        status = self.runtime.snapshots.current()
        if status.view.snapshot is None:
            raise ToolError(f"no state snapshot yet ({status.status}): is the algorithm running?")
        return status.view.snapshot, status.meta()

    def _position(self, position_id: str) -> PositionSnapshot:
        snapshot, _ = self._snapshot()
        found = next((p for p in snapshot.positions if p.id == position_id and p.status != "closed"), None)
        if found is None:
            raise ToolError(f"no open position {position_id!r}; get_positions lists them")
        return found

    async def _positions(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        """Open positions, portfolio Greeks and equity: built and serialised once per snapshot version;
        only the freshness ``meta`` is new on each call."""
        status = self.runtime.snapshots.current()
        view = status.view
        if view.snapshot is None or view.document is None:
            raise ToolError(f"no state snapshot yet ({status.status}): is the algorithm running?")
        cached = self._positions_cache
        if cached is None or cached[0] != view.version:
            data = _positions_body(view.document)
            cached = self._positions_cache = (view.version, data, json.dumps(data, default=str,
                                                                             separators=(",", ":"))[1:])
        meta = status.meta()
        return RenderedResult({"meta": meta, **cached[1]},
                              '{"meta":' + json.dumps(meta, separators=(",", ":")) + "," + cached[2])

    async def _chain(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        """The snapshot's chain slice, filtered by expiry and |delta| (a contract without a delta is
        left out when a delta range is asked for)."""
        snapshot, meta = self._snapshot()
        low, high = args.get("min_abs_delta", 0.0), args.get("max_abs_delta", 1.0)
        ranged, expiry = "min_abs_delta" in args or "max_abs_delta" in args, args.get("expiry")
        if low > high:
            raise ToolError(f"min_abs_delta {low} is above max_abs_delta {high}")
        chain = snapshot.option_chain
        out: dict[str, Any] = {"meta": meta, "underlying": snapshot.ticker}
        if chain is None:
            rows = [{"symbol": p.symbol, "right": p.right, "strike": p.strike, "expiry": p.expiry, "mark": p.mark_price,
                     "delta": p.delta, "vega": p.vega, "iv": p.iv} for p in snapshot.positions if p.status != "closed"]
            note = ("this snapshot carries no option chain (no chain read yet, or an algorithm older than the chain "
                    "slice): these are only the contracts the bot holds")
            return {**out, "underlying_price": snapshot.underlying_price, "source": "positions", "note": note,
                    "contracts": [r for r in rows if _wanted(r, expiry, low, high, ranged)]}
        rows = [dataclasses.asdict(c) for c in chain.contracts]
        picked = [r for r in rows if _wanted(r, expiry, low, high, ranged)]
        out.update(underlying_price=chain.underlying_price, source="chain", as_of=chain.as_of.isoformat(),
                   chain_size=chain.chain_size, expiries=sorted({r["expiry"] for r in rows}), contracts=picked)
        if not picked:
            out["note"] = "no contract of the slice matches; 'expiries' lists those it holds"
        return out

    async def _risk(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        snapshot, meta = self._snapshot()
        return {"meta": meta, "trading_state": trading_state(snapshot), "risk": snapshot.risk}

    async def _check(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        current = self.runtime.snapshots.current()
        result = evaluate(_order(args), current.view.snapshot, current.status)
        return {**result.as_dict(), "preview": result.preview,
                "authority": "advisory: the algorithm's pre-trade gateway checks the order again"}

    # -- proposals ----------------------------------------------------------------------------
    @staticmethod
    def _agent(caller: Caller) -> AgentSpec:
        assert caller.agent is not None  # handle_call refuses unauthenticated calls
        return caller.agent

    async def _step(self, function: Any, *args: Any) -> dict[str, Any]:
        try:
            return await in_thread(function, self.runtime, *args)
        except (ProposalRefused, InboxFormatError) as exc:
            raise ToolError(str(exc)) from None

    async def _propose(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        return await self._step(proposal_service.propose, self._agent(caller), "open", _order(args))

    def _closing(self, position: PositionSnapshot, args: dict[str, Any], quantity: int | None = None) -> OrderSpec:
        held = abs(position.quantity)
        wanted = quantity or args.get("quantity") or held
        if wanted > held:
            raise ToolError(f"position {position.id} holds {held} contracts; cannot close {wanted}")
        order_type = args.get("order_type", "market")
        return _order({"underlying": position.underlying, "right": position.right, "strike": position.strike,
                       "expiry": position.expiry, "side": "buy" if position.quantity < 0 else "sell",
                       "quantity": wanted, "order_type": order_type,
                       "limit_price": args.get("limit_price") if order_type == "limit" else None,
                       "confidence": args["confidence"], "reasoning": args["reasoning"]})

    async def _propose_close(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        order = self._closing(self._position(args["position_id"]), args)
        return await self._step(proposal_service.propose, self._agent(caller), "close", order)

    async def _propose_roll(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        """ONE roll request once approved (the algorithm sends one combo order); the pre-check and
        preview look at its two legs: the close of the held contract and the open of the new one."""
        position = self._position(args["position_id"])
        new_expiry, new_strike = args["new_expiry"], float(args.get("new_strike", position.strike))
        if new_expiry < position.expiry or (new_expiry == position.expiry and new_strike == position.strike):
            raise ToolError(f"new_expiry must be after the position's expiry {position.expiry} (or the same "
                            "expiry with another new_strike)")
        limit = args.get("net_limit")
        try:
            roll = RollSpec(position_id=position.id, underlying=position.underlying, right=position.right,
                            strike=position.strike, expiry=date.fromisoformat(position.expiry),
                            side="short" if position.quantity < 0 else "long", quantity=abs(position.quantity),
                            new_strike=new_strike, new_expiry=date.fromisoformat(new_expiry),
                            order_type="market" if limit is None else "limit", limit_price=limit,
                            confidence=args["confidence"], reasoning=args["reasoning"])
        except (InboxFormatError, ValueError) as exc:
            raise ToolError(f"invalid roll: {exc}") from None
        return await self._step(proposal_service.propose, self._agent(caller), "roll", roll.closing_leg(),
                                (roll.opening_leg(),), roll)

    async def _get_proposal(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        def read(runtime: McpRuntime, agent: AgentSpec, proposal_id: str) -> dict[str, Any]:
            return proposal_service.view(runtime, proposal_service.owned(runtime, agent, proposal_id))
        return await self._step(read, self._agent(caller), args["proposal_id"])

    async def _cancel(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        return await self._step(proposal_service.cancel, self._agent(caller), args["proposal_id"])

    # -- analysis and backtest ----------------------------------------------------------------
    async def _explain(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        """The position's own audit chain and those of the rolls that led to it: every close, skipped
        ladder level (with its reason), stop, expiry guard and roll step the algorithm recorded."""
        snapshot, _ = self._snapshot()
        position = next((p for p in snapshot.positions if p.id == args["position_id"]), None)
        if position is None:
            raise ToolError(f"no position {args['position_id']!r} in the snapshot")
        chains = [c for c in (position.correlation_id, *(r.get("roll_id") for r in position.roll_history or [])) if c]

        def read(runtime: McpRuntime) -> list[Any]:
            return [item for chain in chains for item in runtime.audit_index.query(correlation_id=chain,
                                                                                  limit=200).items]

        items = sorted(await in_thread(read, self.runtime), key=lambda item: item.entry.timestamp)
        entries = [{"at": item.entry.timestamp.isoformat(), "action": item.entry.action.value,
                    "description": item.entry.description, "reason": item.entry.reason,
                    "correlation_id": item.entry.correlation_id} for item in items]
        decisions: dict[str, int] = {}
        for entry in entries:
            decisions[entry["action"]] = decisions.get(entry["action"], 0) + 1
        return {"position": dataclasses.asdict(position), "correlation_ids": chains, "decisions": decisions,
                "ladder_levels_done": position.ladder_levels_done, "roll_history": position.roll_history,
                "trail": entries[-100:]}

    async def _backtest(self, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
        return await backtest_tool.run_backtest(args)
