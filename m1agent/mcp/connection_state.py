"""What an MCP connection reports: its state, what the handshake said, its errors, and plain words for
a failure (the SDK wraps them in nested exception groups)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from mcp import Client, MCPError
from mcp import types as mcp_types

from m1agent.errors import M1AgentError


class ServerState(StrEnum):
    """Where a connection stands."""

    IDLE = "idle"
    CONNECTING = "connecting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    CLOSED = "closed"


class MCPConnectError(M1AgentError):
    """The server could not be started or did not complete the handshake in time."""

    hint = "check the server's command/url in the mcpServers config, and its stderr below"


class ServerUnavailable(M1AgentError):
    """The server is not connected (it crashed, or is reconnecting)."""

    hint = "the server will be reconnected; try again shortly or check its logs"


@dataclass(slots=True)
class ConnectionInfo:
    """What the handshake told us about the server."""

    protocol_version: str = ""
    server_name: str = ""
    server_version: str = ""
    capabilities: mcp_types.ServerCapabilities | None = None
    instructions: str | None = None


class NullLog:
    """Where a non-stdio transport would write stderr (it has none)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


def supports_listen(client: Client) -> bool:
    version = client.protocol_version
    tools = client.server_capabilities.tools
    return version >= "2026-07-28" and tools is not None and bool(tools.list_changed)


def plain_exception(exc: BaseException) -> BaseException:
    """The one meaningful exception inside nested exception groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if not isinstance(inner, asyncio.CancelledError):
                return plain_exception(inner)
    return exc


def describe_exception(exc: BaseException) -> str:
    exc = plain_exception(exc)
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, MCPError):
        return f"MCP error {exc.code}: {exc.message}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
