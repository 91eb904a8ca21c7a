"""MCP: any MCP server's tools in the agent, and m1agent itself as an MCP server.

``MCPToolset`` connects to servers (stdio, streamable HTTP, legacy SSE; both protocol eras) and
gives their tools to an agent; ``m1agent.mcp.server`` exposes an agent and the built-in tools to
other MCP clients.
"""

from m1agent.mcp.config import MCPConfigError, MCPServerConfig, load_config
from m1agent.mcp.connection import MCPConnectError, MCPConnection, ServerState, ServerUnavailable
from m1agent.mcp.tool import MCPProgress, MCPTool
from m1agent.mcp.toolset import MCPToolset, ServerStatus

__all__ = [
    "MCPConfigError",
    "MCPConnectError",
    "MCPConnection",
    "MCPProgress",
    "MCPServerConfig",
    "MCPTool",
    "MCPToolset",
    "ServerState",
    "ServerStatus",
    "ServerUnavailable",
    "load_config",
]
