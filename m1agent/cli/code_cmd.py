"""``m1agent code [PATH]``: work on a repository with M1 interactively; changes go to a sandboxed copy."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from m1agent.cli.backend_options import BaseUrl, Model, Raw, Region, backend_overrides, describe, make_backend
from m1agent.cli.config import MODES, CodingConfig
from m1agent.errors import M1AgentError

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


@commands.command("code")
def code_command(
    path: Path = typer.Argument(Path("."), help="The repository (default: the current directory)."),
    mode: str = typer.Option(None, "--mode", help="read-only, ask or auto (default: the config's, else ask)."),
    base_url: BaseUrl = None,
    raw: Raw = False,
    model: Model = None,
    region: Region = None,
    image: str = typer.Option(None, "--image", help="Sandbox image (default: m1agent's own)."),
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved."),
    config_file: Path = typer.Option(None, "--config", help="A user config file instead of the default one."),
    resume: str = typer.Option(None, "--resume", help="Continue a saved session."),
) -> None:
    """Work on a repository with M1: it reads, changes and tests a sandboxed copy; you review and /apply."""
    from m1agent.cli.coding import build_config

    console = Console(highlight=False)
    repo = path.resolve()
    if mode is not None and mode not in MODES:
        console.print(f"[red]--mode must be one of {', '.join(MODES)}[/red]")
        raise typer.Exit(2)
    try:
        config = build_config(repo, backend=backend_overrides(base_url=base_url, raw=raw, model=model, region=region),
                              mode=mode, image=image, sessions=sessions, user_file=config_file)
        asyncio.run(_session(config, repo, console, resume=resume))
    except M1AgentError as exc:
        console.print(f"[red]{exc}[/red]" + (f"\n{exc.hint}" if getattr(exc, "hint", "") else ""))
        raise typer.Exit(2) from None


async def _session(config: CodingConfig, repo: Path, console: Console, *, resume: str | None) -> None:
    from m1agent.cli.coding import coding_environment
    from m1agent.cli.terminal_session import TerminalSession

    backend = make_backend(config.backend)
    console.print(f"[bold]m1agent code[/bold] · {describe(backend)} · {repo}\n"
                  "[dim]Changes go to a sandboxed copy; /diff shows them, /apply writes them to your checkout. "
                  "/help lists the commands.[/dim]")
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(backend.aclose)
        with console.status("starting the sandbox…"):
            env = await stack.enter_async_context(coding_environment(config, repo, backend=backend))
        session = TerminalSession(env, console, history_file=config.sessions_path.parent / "history")
        stack.push_async_callback(session.aclose)  # the backends /model built
        if resume and not await session.resume(resume):
            console.print(f"[red]no session {escape(resume)}[/red] under {config.sessions_path}: "
                          "see `m1agent sessions`")
        await session.main()
        await session.keep_changes()
        if session.session_id:
            console.print(f"[dim]session {session.session_id} saved under {config.sessions_path}; "
                          f"`m1agent code --resume {session.session_id}` carries it on[/dim]")
