"""An MCP server that hangs: at the handshake (``--at-start``) or inside its ``hang`` tool.

With ``--at-start`` it reads its stdin and never answers anything. With ``--spawn-child`` it starts
a long ``sleep`` first, a child that outlives the server when only the server is stopped.
"""

from __future__ import annotations

import subprocess
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("hanging", version="1.0")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def hang() -> str:
    """Never return (a blocking sleep in a worker thread, as a stuck tool would)."""
    time.sleep(3600)
    return "unreachable"


if __name__ == "__main__":
    if "--spawn-child" in sys.argv:
        subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    if "--at-start" in sys.argv:
        for _line in sys.stdin:
            pass
        time.sleep(3600)
    server.run()
