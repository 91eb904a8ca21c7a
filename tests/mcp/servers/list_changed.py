"""An MCP server whose ``unlock`` tool adds a tool and announces the change (both protocol eras)."""

from __future__ import annotations

import contextlib

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("list-changed", version="1.0")


def secret() -> str:
    """The tool that appears after unlock."""
    return "the secret is 42"


@server.tool()
async def unlock(ctx: Context) -> str:
    """Add the ``secret`` tool and tell the client its tool list changed."""
    if server._tool_manager.get_tool("secret") is None:
        server.add_tool(secret)
    await ctx.notify_tools_changed()
    with contextlib.suppress(Exception):  # handshake-era clients get the classic notification
        await ctx.request_context.session.send_tool_list_changed()
    return "unlocked"


if __name__ == "__main__":
    server.run()
