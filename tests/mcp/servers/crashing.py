"""An MCP server that dies in the middle of a call (the process exits without answering)."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("crashing", version="1.0")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def crash() -> str:
    """Kill the server process mid-call."""
    os._exit(3)


if __name__ == "__main__":
    server.run()
