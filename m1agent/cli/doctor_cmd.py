"""``m1agent doctor``: is everything the coding agent needs in place? One line per check, with the fix."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from m1agent.cli.backend_options import BaseUrl, Model, backend_overrides
from m1agent.cli.config import CodingConfig, ConfigError, load_config

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: ``fix`` says what to do when ``ok`` is false."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_backend(config: CodingConfig, timeout: float = 10.0) -> Check:
    """The server answers, and serves the configured model (vLLM), or the hosted key is set."""
    import httpx

    b = config.backend
    kind = b.resolved_kind
    if kind == "minimax":
        variable = b.key_variable
        if not os.environ.get(variable):
            return Check("backend", False, f"hosted MiniMax API ({b.region}), but {variable} is not set",
                         f"export {variable}=... or set backend.url to a vLLM server in m1agent.toml")
        return Check("backend", True, f"hosted MiniMax API ({b.region}), key from {variable}")
    key = os.environ.get(b.api_key_env) if b.api_key_env else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        reply = httpx.get(b.url.rstrip("/") + "/models", headers=headers, timeout=timeout)
        reply.raise_for_status()
        models = [m.get("id", "?") for m in reply.json().get("data", [])]
    except Exception as exc:
        return Check("backend", False, f"{kind} at {b.url}: {type(exc).__name__}: {str(exc)[:200]}",
                     "start the vLLM server (flags in the README) or fix backend.url / --base-url")
    if b.model and b.model not in models:
        return Check("backend", False, f"{kind} at {b.url} serves {', '.join(models) or 'no model'}, not {b.model}",
                     f"set backend.model to one of: {', '.join(models)}")
    return Check("backend", True, f"{kind} at {b.url}, model{'s' if len(models) > 1 else ''} {', '.join(models)}")


def check_tokenizer() -> Check:
    """Exact M1 token counts, or an estimate."""
    from m1agent.tokens import load_counter

    try:
        counter = load_counter()
    except Exception as exc:
        return Check("tokenizer", False, str(exc), "point M1AGENT_TOKENIZER at a folder holding M1's merges.txt")
    if counter.exact:
        return Check("tokenizer", True, f"exact ({type(counter).__name__})")
    return Check("tokenizer", True, "estimate (counts run a little high)",
                 "for exact counts set M1AGENT_TOKENIZER to a folder holding M1's merges.txt")


def check_docker(config: CodingConfig) -> list[Check]:
    """The engine answers and the sandbox image is there."""
    from m1agent.cli.coding import sandbox_config
    from m1agent.sandboxes import docker_client

    image = sandbox_config(config).image
    try:
        client = docker_client()
        version = client.version().get("Version", "?")
    except Exception as exc:
        return [Check("docker", False, str(exc)[:300], "run scripts/setup.d/10-docker.sh (as root), or start dockerd"),
                Check("sandbox image", False, f"{image}: no engine to ask", "start Docker first")]
    checks = [Check("docker", True, f"engine {version}")]
    try:
        client.images.get(image)
        checks.append(Check("sandbox image", True, image))
    except Exception:
        checks.append(Check("sandbox image", False, f"{image} is missing", "run `m1agent sandbox build`"))
    return checks


def check_git() -> Check:
    """``/apply`` and ``/undo`` need git on the host."""
    path = shutil.which("git")
    if path is None:
        return Check("git", False, "git is not installed", "install git (apt-get install git)")
    return Check("git", True, path)


async def check_mcp(config: CodingConfig, timeout: float = 30.0) -> list[Check]:
    """Each configured MCP server starts and lists its tools."""
    from m1agent.mcp import MCPToolset

    if not config.mcp_servers:
        return []
    try:
        toolset = MCPToolset(config.mcp_servers)
    except Exception as exc:
        return [Check("mcp", False, str(exc), "fix [mcp_servers] in m1agent.toml")]
    checks = []
    try:
        async with asyncio.timeout(timeout), toolset:
            rows = await toolset.status()
    except Exception as exc:
        return [Check("mcp", False, f"{type(exc).__name__}: {exc}", "check the servers' commands and URLs")]
    for row in rows:
        if row.state == "healthy" and not row.error:
            checks.append(Check(f"mcp {row.name}", True, f"{row.server or row.transport}, {len(row.tools)} tools"))
        else:
            checks.append(Check(f"mcp {row.name}", False, f"{row.state}: {row.error[:300]}",
                                "check its command/url in [mcp_servers]; `m1agent mcp list` shows more"))
    return checks


def run_checks(config: CodingConfig) -> list[Check]:
    """Every check, in the order shown."""
    checks = [check_backend(config), check_tokenizer(), *check_docker(config), check_git()]
    checks += asyncio.run(check_mcp(config))
    return checks


def print_report(console: Console, config_line: Check, checks: list[Check]) -> bool:
    """Print the lines; True when every check passed."""
    for check in [config_line, *checks]:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        console.print(f"{mark} {check.name}: {escape(check.detail)}")
        if check.fix and not check.ok:
            console.print(f"    [yellow]fix:[/yellow] {escape(check.fix)}")
        elif check.fix:
            console.print(f"    [dim]{escape(check.fix)}[/dim]")
    return all(c.ok for c in checks)


@commands.command("doctor")
def doctor_command(
    path: Path = typer.Argument(Path("."), help="The repository whose m1agent.toml to read."),
    base_url: BaseUrl = None,
    model: Model = None,
    config_file: Path = typer.Option(None, "--config", help="A user config file instead of the default one."),
) -> None:
    """Check the backend and model, the tokenizer, Docker and the sandbox image, git and the MCP servers."""
    console = Console(highlight=False)
    overrides = {"backend": backend_overrides(base_url=base_url, model=model)}
    try:
        config = load_config(path.resolve(), overrides=overrides, user_file=config_file)
    except ConfigError as exc:
        print_report(console, Check("config", False, str(exc), "fix the file named above"), [])
        raise typer.Exit(1) from None
    sources = ", ".join(config.sources) or "defaults (no m1agent.toml found)"
    ok = print_report(console, Check("config", True, f"{sources}; mode {config.mode}"), run_checks(config))
    raise typer.Exit(0 if ok else 1)
