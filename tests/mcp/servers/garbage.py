"""An MCP server that writes lines that are not JSON-RPC to stdout before it starts serving.

(Once serving, the SDK's stdio server moves its own stdout away from fd 1, so later prints cannot
reach the client; a banner before that is the garbage real servers send.)
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

server = MCPServer("garbage", version="1.0")


@server.tool()
def noisy(text: str) -> str:
    """Print to stdout (harmless once serving), then answer."""
    print("this line is not JSON-RPC", flush=True)
    return text


if __name__ == "__main__":
    print("Starting server... (a banner on stdout)", flush=True)
    print("{not json either", flush=True)
    server.run()
