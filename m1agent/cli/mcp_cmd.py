"""``m1agent mcp list|call|serve``: look at the configured MCP servers, call a tool by hand, serve m1agent."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


mcp_app = typer.Typer(help="MCP servers: list them, call a tool by hand, serve m1agent over MCP.",
                      no_args_is_help=True)
commands.add_typer(mcp_app, name="mcp")

ConfigOption = Annotated[
    list[Path] | None,
    typer.Option("--config", "-c", help="An mcpServers file (JSON/TOML); default: the user's, then the project's."),
]


def _toolset(config: list[Path] | None) -> Any:
    from m1agent.mcp import MCPConfigError, MCPToolset

    try:
        return MCPToolset.from_config(config)
    except (MCPConfigError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@mcp_app.command("list")
def list_command(config: ConfigOption = None) -> None:
    """Connect to every configured server and show its health and tools."""

    async def run() -> list[Any]:
        async with _toolset(config) as toolset:
            return await toolset.status()

    rows = asyncio.run(run())
    if not rows:
        typer.echo("no MCP servers configured: add .m1agent/mcp.json or ~/.config/m1agent/mcp.json")
        return
    for row in rows:
        about = f" {row.server} (protocol {row.protocol_version})" if row.server else ""
        typer.echo(f"{row.name}: {row.state} [{row.transport or '?'}]{about}")
        if row.error:
            typer.echo(f"  error: {row.error.splitlines()[0]}")
        for name in row.tools:
            typer.echo(f"  - {name}")


@mcp_app.command("call")
def call_command(
    server: Annotated[str, typer.Argument(help="The server's name in the config.")],
    tool: Annotated[str, typer.Argument(help="The tool's own name (not prefixed).")],
    args: Annotated[str, typer.Option("--args", "-a", help="The arguments as a JSON object.")] = "{}",
    timeout: Annotated[float | None, typer.Option(help="Seconds before the call is cancelled.")] = None,
    config: ConfigOption = None,
) -> None:
    """Call one tool by hand and print what the model would read."""
    from m1agent.errors import M1AgentError

    try:
        arguments = json.loads(args)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--args") from None
    if not isinstance(arguments, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--args")

    async def run() -> Any:
        async with _toolset(config) as toolset:
            return await toolset.call(server, tool, arguments, timeout=timeout)

    try:
        result = asyncio.run(run())
    except M1AgentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(result.content)
    if result.is_error:
        raise typer.Exit(1)


def _load(spec: str) -> Any:
    """``module:attribute``; a zero-argument callable is called."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"{spec!r}: use module:attribute")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise typer.BadParameter(f"{spec!r}: {exc}") from None
    return value


@mcp_app.command("serve")
def serve_command(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="HTTP host (loopback unless you mean otherwise).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8765,
    agent: Annotated[
        str | None, typer.Option(help="module:factory returning an Agent; exposes run_agent(task).")
    ] = None,
    tool: Annotated[
        list[str] | None, typer.Option(help="module:attribute of a Tool, Toolset or list of them (repeatable).")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Expose the Docker sandbox tools (run_python, run_shell, files).")
    ] = False,
    pack_repo: Annotated[
        Path | None, typer.Option(help="Expose pack_repo over this repository.")
    ] = None,
) -> None:
    """Run m1agent as an MCP server, so other MCP clients can run the agent or use its tools."""
    from m1agent.mcp.server import serve

    items: list[Any] = []
    for spec in tool or []:
        value = _load(spec)
        if callable(value) and not hasattr(value, "invoke") and not hasattr(value, "list_tools"):
            value = value()
        items.extend(value if isinstance(value, list | tuple) else [value])
    if sandbox:
        from m1agent.sandboxes.tools import SandboxToolset

        items.append(SandboxToolset())
    if pack_repo is not None:
        from m1agent.tools.pack_repo import pack_repo_tool

        items.append(pack_repo_tool(pack_repo))
    factory = _load(agent) if agent else None
    if factory is None and not items:
        raise typer.BadParameter("nothing to serve: give --agent, --tool, --sandbox or --pack-repo")
    if http and host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: serving on {host}, reachable from other machines", err=True)
    try:
        asyncio.run(serve(factory, tools=items, transport="http" if http else "stdio", host=host, port=port))
    except KeyboardInterrupt:
        sys.exit(130)
