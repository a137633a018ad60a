"""The MCP server for AI agents, on the official ``mcp`` SDK (named ``mcp_servers`` so that it does
not shadow the SDK's ``mcp`` package). ``python -m mcp_servers`` serves stdio; the sidecar mounts the
streamable HTTP transport at ``/mcp`` (``mcp_servers.http_app.mount_mcp``)."""
