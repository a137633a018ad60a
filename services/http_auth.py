"""Bearer-token parsing and the client's address, for both doors' authentication (the sidecar's
token middleware, api/auth.py, and the MCP endpoint's per-agent tokens, mcp_servers/http_app.py)."""

from __future__ import annotations

from starlette.types import Scope


def bearer_token(authorization: str | None) -> tuple[str | None, str]:
    """(token, problem) from an Authorization header value."""
    if authorization is None:
        return None, "missing"
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None, "malformed"
    value = value.strip()
    return (value or None), ("ok" if value else "empty")


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
