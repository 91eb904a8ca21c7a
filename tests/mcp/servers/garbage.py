"""An MCP server that writes lines that are not JSON-RPC to stdout, at start and during a call."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("garbage", version="1.0")


@server.tool()
def noisy(text: str) -> str:
    """Print junk to stdout, then answer."""
    sys.stdout.write("this line is not JSON-RPC\n")
    sys.stdout.flush()
    return text


if __name__ == "__main__":
    print("Starting server... (a banner on stdout)", flush=True)
    print("{not json either", flush=True)
    server.run()
