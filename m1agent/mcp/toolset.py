"""Several MCP servers as one ``Toolset``: parallel connects, unique prefixed names, cached lists.

Servers connect at once, each under its own timeout; one that fails is dropped with a warning and
the run starts with the rest. The tool list of each server is cached and refetched after a
``tools/list_changed`` or a reconnect; a server that is not healthy contributes no tools, so its
tools leave the next turn and come back after it reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client
from mcp import types as mcp_types

from m1agent.errors import UnknownTool
from m1agent.mcp.config import MCPServerConfig, configs_from_mapping, load_config
from m1agent.mcp.connection import MCPConnection, ServerUnavailable
from m1agent.mcp.results import cap_text, describe_block
from m1agent.mcp.tool import MCPTool
from m1agent.messages import UserMessage
from m1agent.schema import sanitize_name, unique_name
from m1agent.tool import RunContext, ToolReturn

logger = logging.getLogger("m1agent.mcp")


@dataclass(slots=True)
class ServerStatus:
    """One server as ``m1agent mcp list`` shows it."""

    name: str
    state: str
    transport: str
    protocol_version: str = ""
    server: str = ""
    error: str = ""
    tools: list[str] = field(default_factory=list)


class _Server:
    """A connection plus its cached tool list."""

    def __init__(self, config: MCPServerConfig) -> None:
        self.config = config
        self.stale = True
        self.wire_tools: list[mcp_types.Tool] = []
        self.built: dict[str, MCPTool] = {}  # by exposed name: schemas normalized once per listing
        self.lock = asyncio.Lock()
        self.connection = MCPConnection(config, on_change=self.invalidate)

    def invalidate(self) -> None:
        self.stale = True


class MCPToolset:
    """The tools of a set of MCP servers, for ``Agent(tools=[...])`` or for direct calls.

    ``servers`` is a list of ``MCPServerConfig`` or an ``mcpServers``-style mapping; ``None`` reads the
    user's and the project's config files.
    """

    def __init__(
        self,
        servers: Sequence[MCPServerConfig] | Mapping[str, Mapping[str, Any]] | None = None,
        *,
        project_dir: str | Path | None = None,
    ) -> None:
        configs = load_config(project_dir=project_dir) if servers is None else configs_from_mapping(servers)
        self._configs = [config for config in configs if config.enabled]
        self._servers = {config.name: _Server(config) for config in self._configs}
        self.failed: dict[str, str] = {}
        self._users = 0  # how many ``async with`` blocks hold the connections open
        self._names: dict[tuple[str, str], str] = {}
        self._tools: dict[str, MCPTool] = {}

    @classmethod
    def from_config(
        cls, paths: Iterable[str | Path] | None = None, *, project_dir: str | Path | None = None
    ) -> MCPToolset:
        """Servers from ``mcpServers`` files (default: the user's file, then the project's)."""
        return cls(load_config(paths, project_dir=project_dir))

    @property
    def servers(self) -> list[str]:
        """The names of the configured servers (connected or not)."""
        return list(self._servers)

    def connection(self, server: str) -> MCPConnection:
        """The connection of one server (for its state and counters)."""
        return self._server(server).connection

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> MCPToolset:
        # Re-entrant: an agent enters its toolsets for every run; entered once outside the runs,
        # the servers stay up across them.
        if self._users == 0:
            await self.connect()
        self._users += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._users -= 1
        if self._users == 0:
            await self.close()

    async def connect(self) -> None:
        """Connect every server in parallel; drop (and warn about) those that fail."""
        self._servers = {config.name: _Server(config) for config in self._configs}
        self.failed = {}
        servers = list(self._servers.values())
        results = await asyncio.gather(*(s.connection.connect() for s in servers), return_exceptions=True)
        for server, result in zip(servers, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                reason = str(result)
                self.failed[server.config.name] = reason
                logger.warning("%s; going on without it", reason.splitlines()[0])
                await server.connection.close()
        for name in self.failed:
            self._servers.pop(name, None)

    async def close(self) -> None:
        """Close every connection (in parallel); no server process is left running."""
        await asyncio.gather(*(s.connection.close() for s in self._servers.values()), return_exceptions=True)

    # --- tools ------------------------------------------------------------------------------

    async def list_tools(self) -> list[MCPTool]:
        """The tools of the healthy servers, with names unique across all of them."""
        servers = [s for s in self._servers.values() if s.connection.healthy]
        await asyncio.gather(*(self._refresh(s) for s in servers))
        taken: set[str] = set()
        tools: dict[str, MCPTool] = {}
        # Names given before are kept so a refresh never renames a tool under the model's feet.
        pending: list[tuple[_Server, mcp_types.Tool]] = []
        for server in servers:
            for wire in server.wire_tools:
                key = (server.config.name, wire.name)
                if key in self._names and self._names[key] not in taken:
                    taken.add(self._names[key])
                    tools[self._names[key]] = self._build(server, self._names[key], wire)
                else:
                    pending.append((server, wire))
        for server, wire in pending:
            prefix = server.config.prefix if server.config.prefix is not None else server.config.name
            wanted = f"{sanitize_name(prefix)}__{wire.name}" if prefix else wire.name
            name = unique_name(wanted, taken | set(self._names.values()))
            self._names[(server.config.name, wire.name)] = name
            taken.add(name)
            tools[name] = self._build(server, name, wire)
        self._tools = tools
        return list(tools.values())

    @staticmethod
    def _build(server: _Server, name: str, wire: mcp_types.Tool) -> MCPTool:
        tool = server.built.get(name)
        if tool is None or tool.original_name != wire.name:
            tool = server.built[name] = MCPTool(name, wire, server.config, server.connection)
        return tool

    async def _refresh(self, server: _Server) -> None:
        if not server.stale:
            return
        async with server.lock:
            if not server.stale:
                return
            server.stale = False  # a change that arrives while listing marks it stale again
            caps = server.connection.info.capabilities
            if caps is not None and caps.tools is None:
                server.wire_tools = []
                return
            try:
                listed = await server.connection.request(_list_all_tools, timeout=server.config.connect_timeout)
            except Exception as exc:
                server.stale = True
                server.wire_tools = []
                logger.warning("mcp server %s: listing tools failed: %s", server.config.name, exc)
                return
            server.wire_tools = [tool for tool in listed if server.config.tool_allowed(tool.name)]
            server.built = {}

    def resolve(self, name: str) -> tuple[str, str]:
        """The (server, original tool name) behind a prefixed name given by ``list_tools``."""
        for key, given in self._names.items():
            if given == name:
                return key
        raise UnknownTool(f"no MCP tool is named {name!r}")

    async def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        ctx: RunContext[Any] | None = None,
    ) -> ToolReturn:
        """Call a server's tool by its original name, as the model would (validated, capped)."""
        await self.list_tools()
        name = self._names.get((server, tool))
        if name is None or name not in self._tools:
            self._server(server)
            raise UnknownTool(f"MCP server {server!r} has no tool {tool!r} (or it is blocked)")
        context = ctx or RunContext(deps=None, tool_name=name)
        return await self._tools[name].invoke(arguments or {}, context, timeout=timeout)

    # --- resources and prompts --------------------------------------------------------------

    async def list_resources(self, server: str) -> list[mcp_types.Resource]:
        """The server's resources (empty when it has no resources capability)."""
        entry = self._server(server)
        caps = entry.connection.info.capabilities
        if caps is None or caps.resources is None:
            return []
        return await entry.connection.request(_list_all_resources, timeout=entry.config.connect_timeout)

    async def list_prompts(self, server: str) -> list[mcp_types.Prompt]:
        """The server's prompts (empty when it has no prompts capability)."""
        entry = self._server(server)
        caps = entry.connection.info.capabilities
        if caps is None or caps.prompts is None:
            return []
        return await entry.connection.request(_list_all_prompts, timeout=entry.config.connect_timeout)

    async def read_resource(self, server: str, uri: str, *, max_chars: int | None = None) -> str:
        """A resource as text: text contents as they are, binary ones as a short note with the URI."""
        entry = self._server(server)

        async def read(client: Client) -> mcp_types.ReadResourceResult:
            return await client.read_resource(uri)

        result = await entry.connection.request(read, timeout=entry.config.call_timeout)
        media: list[dict[str, Any]] = []
        parts = [
            describe_block(mcp_types.EmbeddedResource(type="resource", resource=item), media)
            if not isinstance(item, mcp_types.TextResourceContents)
            else item.text
            for item in result.contents
        ]
        text = "\n".join(parts)
        limit = max_chars or entry.config.max_output_chars
        return cap_text(text, limit)[0]

    async def resource_message(self, server: str, uri: str) -> UserMessage:
        """A resource attached to the conversation, on request, as a user message naming its URI."""
        text = await self.read_resource(server, uri)
        return UserMessage(content=f"[resource {uri} from MCP server {server}]\n{text}")

    async def get_prompt(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        """A server prompt rendered as text (its messages, one per paragraph)."""
        entry = self._server(server)

        async def get(client: Client) -> mcp_types.GetPromptResult:
            return await client.get_prompt(name, arguments or {})

        result = await entry.connection.request(get, timeout=entry.config.call_timeout)
        media: list[dict[str, Any]] = []
        return "\n\n".join(f"{m.role}: {describe_block(m.content, media)}" for m in result.messages)

    # --- status -----------------------------------------------------------------------------

    async def status(self) -> list[ServerStatus]:
        """Every configured server with its health and (prefixed) tool names."""
        tools = await self.list_tools()
        rows = []
        for name, entry in self._servers.items():
            conn = entry.connection
            rows.append(
                ServerStatus(
                    name=name,
                    state=conn.state.value,
                    transport=entry.config.transport,
                    protocol_version=conn.info.protocol_version,
                    server=f"{conn.info.server_name} {conn.info.server_version}".strip(),
                    error=conn.error,
                    tools=[t.name for t in tools if t.server == name],
                )
            )
        for name, reason in self.failed.items():
            rows.append(ServerStatus(name=name, state="failed", transport="", error=reason))
        return rows

    def _server(self, name: str) -> _Server:
        if name in self._servers:
            return self._servers[name]
        if name in self.failed:
            raise ServerUnavailable(f"MCP server {name!r} failed to connect: {self.failed[name]}")
        raise ServerUnavailable(f"no MCP server is named {name!r}", hint=f"configured: {', '.join(self._servers)}")


async def _all_pages(fetch: Callable[[str | None], Awaitable[Any]], field_name: str) -> list[Any]:
    """Every item of a paginated MCP listing, following ``next_cursor`` to the end."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        items.extend(getattr(page, field_name))
        cursor = page.next_cursor
        if not cursor:
            return items


async def _list_all_tools(client: Client) -> list[mcp_types.Tool]:
    return await _all_pages(lambda cursor: client.list_tools(cursor=cursor), "tools")


async def _list_all_resources(client: Client) -> list[mcp_types.Resource]:
    return await _all_pages(lambda cursor: client.list_resources(cursor=cursor), "resources")


async def _list_all_prompts(client: Client) -> list[mcp_types.Prompt]:
    return await _all_pages(lambda cursor: client.list_prompts(cursor=cursor), "prompts")
