"""Paper-trading sign-off (refactoring instructions 11.1 "paper trading successful for 1 trading
session", 11.3 "deployment sign-off"): a pass/fail list from a live Object Store folder, in
Markdown, for a person to read and sign.

    python -m reports.signoff [--storage storage] [--out backtests/signoff.md]

Checks (each PASS or FAIL with the evidence; exit status 1 when any fails):

1. live session: the snapshot says ``mode=live`` and the trail covers at least one session day;
2. every order accounted for: each ``order.submit`` ends filled to its quantity, rejected, or is
   still working in the last snapshot; each roll completes, fails or is still working; each inbox
   request has a final outcome (not ``processing``);
3. no limit breach: no slippage-budget breach, no risk override, orders per day within
   ``max_daily_orders``, open positions within ``max_open_positions`` (gateway rejections are the
   limits working and are listed, not failed);
4. no unmatched fill (``order.event_unmatched``) and no component failure;
5. restarts reconciled: each start after the first is followed by a ``system.state_restore``
   without conflicts;
6. circuit breaker: every trip listed with its reset; the run ends ACTIVE or a person reset it;
7. audit trail intact: no torn or malformed line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from models.audit import AuditAction, AuditEntry
from reports.sources import RunData, load_storage
from utils.order_inbox import InboxFormatError, OutcomeStatus, outcome_key, parse_inbox_key, read_outcome

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Check:
    name: str
    passed: bool
    evidence: list[str] = field(default_factory=list)


def _of(entries: list[AuditEntry], *actions: AuditAction) -> list[AuditEntry]:
    return [e for e in entries if e.action in actions]


def check_live_session(data: RunData) -> Check:
    snap = data.snapshot
    days = sorted({e.timestamp.date().isoformat() for e in data.entries})
    mode = snap.mode if snap else "no snapshot"
    evidence = [f"snapshot mode: {mode}", f"audit days: {', '.join(days) or 'none'}"]
    return Check("Live (paper) session of at least one trading day", mode == "live" and bool(days), evidence)


def check_orders_accounted(data: RunData, folder: Path) -> Check:
    entries = data.entries
    working = {str(o.get("client_id")) for o in (data.snapshot.working_orders if data.snapshot else [])}
    submitted = {e.resource_id: int((e.after_state or {}).get("quantity", 0))
                 for e in _of(entries, AuditAction.ORDER_SUBMIT)}
    filled: Counter[str] = Counter()
    for e in _of(entries, AuditAction.ORDER_FILL):
        filled[e.resource_id] += int(e.metadata.get("fill_quantity") or 0)
    rejected = {e.resource_id for e in _of(entries, AuditAction.ORDER_REJECT)}
    problems = []
    for order, quantity in submitted.items():
        if filled[order] == quantity or order in rejected or order in working:
            continue
        problems.append(f"order {order}: submitted {quantity:+d}, filled {filled[order]:+d}, no rejection, not working")
    rolls = {e.resource_id for e in _of(entries, AuditAction.ROLL_START)}
    ended = {e.resource_id for e in _of(entries, AuditAction.ROLL_COMPLETE, AuditAction.ROLL_FAIL)}
    problems += [f"roll {r}: started, neither completed nor failed, not working"
                 for r in sorted(rolls - ended - working)]
    inbox = folder / "options_bot" / "inbox"
    requests = sorted(p for p in inbox.glob("*.json")) if inbox.is_dir() else []
    for path in requests:
        request_id = parse_inbox_key(f"options_bot/inbox/{path.name}")
        outcome = folder / outcome_key(request_id) if request_id else None
        if outcome is None or not outcome.is_file():
            problems.append(f"request {path.name}: no outcome")
            continue
        try:
            status = read_outcome(outcome.read_text(encoding="utf-8", errors="replace")).status
        except InboxFormatError as exc:
            problems.append(f"request {path.name}: unreadable outcome ({exc})")
            continue
        if status == OutcomeStatus.PROCESSING:
            problems.append(f"request {path.name}: still processing")
    evidence = [f"{len(submitted)} orders, {sum(1 for o in submitted if filled[o] == submitted[o])} filled, "
                f"{len(rejected)} rejected, {len(working)} working; {len(rolls)} rolls; {len(requests)} requests",
                *problems]
    return Check("Every order accounted for from request to fill", not problems, evidence)


def check_limits(data: RunData) -> Check:
    entries = data.entries
    limits = (data.snapshot.risk.get("limits", {}) if data.snapshot else {}) or {}
    breaches = [f"{e.timestamp:%Y-%m-%d %H:%M} {e.action.value}: {e.description}"
                for e in _of(entries, AuditAction.SLIPPAGE_BUDGET_BREACH, AuditAction.RISK_OVERRIDE)]
    per_day = Counter(e.timestamp.date() for e in _of(entries, AuditAction.ORDER_SUBMIT))
    max_daily = limits.get("max_daily_orders")
    if isinstance(max_daily, int):
        breaches += [f"{day}: {count} orders > max_daily_orders {max_daily}" for day, count in per_day.items()
                     if count > max_daily]
    open_now = sum(1 for p in data.snapshot.positions if p.quantity) if data.snapshot else 0
    max_open = limits.get("max_open_positions")
    if isinstance(max_open, int) and open_now > max_open:
        breaches.append(f"{open_now} open positions > max_open_positions {max_open}")
    held = [f"{e.timestamp:%Y-%m-%d %H:%M} gateway rejected: {e.reason or e.description}"
            for e in _of(entries, AuditAction.RISK_CHECK_FAILED)]
    evidence = [f"busiest day: {max(per_day.values(), default=0)} orders (limit {max_daily}); "
                f"open positions now {open_now} (limit {max_open})", *breaches, *held]
    return Check("No risk-limit breach", not breaches, evidence)


def check_unmatched(data: RunData) -> Check:
    bad = _of(data.entries, AuditAction.ORDER_EVENT_UNMATCHED, AuditAction.COMPONENT_FAILURE)
    evidence = [f"{e.timestamp:%Y-%m-%d %H:%M} {e.action.value}: {e.description}" for e in bad] or ["none"]
    return Check("No unmatched fill and no component failure", not bad, evidence)


def check_restarts(data: RunData) -> Check:
    problems, evidence = [], []
    starts = [i for i, e in enumerate(data.entries) if e.action == AuditAction.SYSTEM_START]
    for number, index in enumerate(starts[1:], start=1):
        following = data.entries[index + 1:starts[number + 1] if number + 1 < len(starts) else None]
        restore = next((e for e in following if e.action == AuditAction.STATE_RESTORE), None)
        when = f"{data.entries[index].timestamp:%Y-%m-%d %H:%M}"
        if restore is None:
            problems.append(f"restart at {when}: no state restore recorded")
        elif restore.metadata.get("conflicts"):
            problems.append(f"restart at {when}: conflicts with LEAN's portfolio {restore.metadata['conflicts']}")
        else:
            dropped = restore.metadata.get("dropped") or []
            note = f" (dropped {dropped}: LEAN held none; compare the broker's statement)" if dropped else ""
            evidence.append(f"restart at {when}: {restore.description}{note}")
    return Check("Restarts reconciled", not problems, [f"{max(len(starts) - 1, 0)} restarts", *evidence, *problems])


def check_breaker(data: RunData) -> Check:
    trips = _of(data.entries, AuditAction.CIRCUIT_BREAKER_TRIP)
    resets = _of(data.entries, AuditAction.CIRCUIT_BREAKER_RESET)
    state = str(data.snapshot.risk.get("trading_state", "unknown")) if data.snapshot else "unknown"
    evidence = [f"final trading state: {state}; {len(trips)} trips, {len(resets)} resets"]
    evidence += [f"{e.timestamp:%Y-%m-%d %H:%M} trip: {e.description}" for e in trips]
    evidence += [f"{e.timestamp:%Y-%m-%d %H:%M} reset by {e.actor}: {e.reason}" for e in resets]
    evidence += [f"{e.timestamp:%Y-%m-%d %H:%M} {e.description} ({e.reason})"
                 for e in _of(data.entries, AuditAction.CIRCUIT_BREAKER_STATE_CHANGE)]
    return Check("Circuit breaker ends ACTIVE (or was reset by a person)", state == "active", evidence)


def check_trail(data: RunData) -> Check:
    problems = [p for p in data.problems if "audit" in p or "snapshot" in p]
    return Check("Audit trail and snapshot intact", not problems, problems or [f"{len(data.entries)} entries read"])


def run_checks(folder: Path) -> tuple[list[Check], RunData]:
    data = load_storage(folder)
    checks = [check_live_session(data), check_orders_accounted(data, folder), check_limits(data),
              check_unmatched(data), check_restarts(data), check_breaker(data), check_trail(data)]
    return checks, data


SIGNERS = ("Developer: all changes reviewed", "Code review: PR approved by a second reviewer",
           "QA: all test scenarios passed", "Risk: risk management verified",
           "Deployment: paper trading successful")


def render_markdown(checks: list[Check], folder: Path) -> str:
    verdict = "PASS" if all(c.passed for c in checks) else "FAIL"
    lines = [f"# Paper-trading sign-off: {verdict}", "", f"Object Store folder: `{folder}`", ""]
    for check in checks:
        lines.append(f"- [{'x' if check.passed else ' '}] **{'PASS' if check.passed else 'FAIL'}** {check.name}")
        lines += [f"  - {line}" for line in check.evidence]
    lines += ["", "## Sign-off (refactoring instructions 11.3)", "", "| role | name | date | signature |",
              "|---|---|---|---|"]
    lines += [f"| {role} |  |  |  |" for role in SIGNERS]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.signoff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", type=Path, default=REPO_ROOT / "storage", help="live Object Store folder")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "backtests" / "signoff.md")
    args = parser.parse_args(argv)
    checks, _ = run_checks(args.storage)
    text = render_markdown(checks, args.storage)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}")
    print(f"sign-off sheet: {args.out}")
    return 0 if all(c.passed for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
