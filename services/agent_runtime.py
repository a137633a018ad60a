"""What the MCP server works with, built once per process: the sidecar's snapshot cache, audit
logger, order queue and audit index (shared with api/ when mounted in the sidecar), the agent
policy (``MCP_AGENT_POLICY_FILE``, JSON, see models/agent_policy.py) and the proposal store.

Environment (stdio; the sidecar passes its own settings): ``OBJECT_STORE_DIR`` (./storage),
``AUDIT_DIR`` (logs/audit), ``MCP_PROPOSALS_DIR`` (logs/proposals), ``MCP_AGENT_POLICY_FILE``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from models.agent_policy import AgentPolicyConfig, parse_policy_config
from models.exceptions import ConfigurationError
from services.audit_index import AuditIndex
from services.order_queue import OrderQueue
from services.proposals import ProposalStore
from services.snapshot_cache import SnapshotCache
from utils.audit_logger import AuditLogger, wall_clock
from utils.audit_sinks import FileAuditSink
from utils.logging_config import get_logger

logger = get_logger(__name__)

POLICY_ENV, PROPOSALS_ENV = "MCP_AGENT_POLICY_FILE", "MCP_PROPOSALS_DIR"


@dataclass
class McpRuntime:
    object_store_dir: Path
    snapshots: SnapshotCache
    audit: AuditLogger
    queue: OrderQueue
    audit_index: AuditIndex
    policy: AgentPolicyConfig
    proposals: ProposalStore
    clock: Callable[[], datetime] = wall_clock


def load_policy(environ: Mapping[str, str] | None = None) -> AgentPolicyConfig:
    env = os.environ if environ is None else environ
    path = env.get(POLICY_ENV, "").strip()
    if not path:
        logger.warning("MCP_NO_AGENT_POLICY", extra={"variable": POLICY_ENV})
        return AgentPolicyConfig()
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(POLICY_ENV, f"cannot read {path}: {exc}") from exc
    policy = parse_policy_config(doc)
    logger.info("MCP_AGENT_POLICY_LOADED", extra={"agents": [a.name for a in policy.agents],
                                                  "approval_mode": policy.approval_mode.value})
    return policy


def proposals_dir(audit_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(PROPOSALS_ENV, "") or audit_dir.parent / "proposals")


def build_runtime(object_store_dir: Path, audit_dir: Path, *, snapshots: SnapshotCache | None = None,
                  audit: AuditLogger | None = None, queue: OrderQueue | None = None,
                  audit_index: AuditIndex | None = None, environ: Mapping[str, str] | None = None) -> McpRuntime:
    return McpRuntime(
        object_store_dir=object_store_dir,
        snapshots=snapshots or SnapshotCache(object_store_dir),
        audit=audit or AuditLogger(clock=wall_clock, sinks=[FileAuditSink(audit_dir)]),
        queue=queue or OrderQueue(object_store_dir),
        audit_index=audit_index or AuditIndex(object_store_dir, audit_dir),
        policy=load_policy(environ), proposals=ProposalStore(proposals_dir(audit_dir, environ)))


def runtime_from_env(environ: Mapping[str, str] | None = None) -> McpRuntime:
    env = os.environ if environ is None else environ
    return build_runtime(Path(env.get("OBJECT_STORE_DIR", "") or "storage"),
                         Path(env.get("AUDIT_DIR", "") or "logs/audit"), environ=env)
