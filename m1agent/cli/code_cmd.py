"""``m1agent code [PATH]``: work on a repository with M1 interactively; changes go to a sandboxed copy."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from m1agent.cli.backend_options import BaseUrl, Model, Raw, Region
from m1agent.cli.config import CodingConfig
from m1agent.errors import M1AgentError

# This module's commands; app.py registers them on the application.
commands = typer.Typer()

MODES = ("read-only", "ask", "auto")


def _history_file(config: CodingConfig) -> Path:
    return config.sessions_path.parent / "history"


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
    from m1agent.cli.run_cmd import build_config

    console = Console(highlight=False)
    repo = path.resolve()
    if mode is not None and mode not in MODES:
        console.print(f"[red]--mode must be one of {', '.join(MODES)}[/red]")
        raise typer.Exit(2)
    try:
        config = build_config(repo, mode=mode, base_url=base_url, raw=raw, model=model, region=region,
                              image=image, sessions=sessions, config=config_file)
        asyncio.run(_session(config, repo, console, resume=resume))
    except M1AgentError as exc:
        console.print(f"[red]{exc}[/red]" + (f"\n{exc.hint}" if getattr(exc, "hint", "") else ""))
        raise typer.Exit(2) from None


async def _session(config: CodingConfig, repo: Path, console: Console, *, resume: str | None) -> None:
    from m1agent.cli.coding import coding_environment, make_backend
    from m1agent.cli.status import SessionStatus
    from m1agent.cli.terminal_session import TerminalSession
    from m1agent.cli.workspace import restore_workspace, save_workspace, saved_workspace
    from m1agent.policies.coding import coding_policy
    from m1agent.tools.coding.toolset import READ_TOOLS

    backend = make_backend(config)
    console.print(f"[bold]m1agent code[/bold] · {backend.name} · {backend.model or 'the server’s model'} · {repo}\n"
                  "[dim]Changes go to a sandboxed copy; /diff shows them, /apply writes them to your checkout. "
                  "/help lists the commands.[/dim]")
    async with contextlib.AsyncExitStack() as stack:
        with console.status("starting the sandbox…"):
            cs = await stack.enter_async_context(coding_environment(config, repo, backend=backend))
        rules = config.rules

        def policies_for(new_mode: str) -> list[Any]:
            return [coding_policy(
                new_mode,  # type: ignore[arg-type,unused-ignore]
                allow_commands=rules.allow_commands, deny_commands=rules.deny_commands,
                allow_paths=rules.allow_paths, deny_paths=rules.deny_paths, read_tools=READ_TOOLS,
            )]

        governor = cs.agent.thinking
        status = SessionStatus(backend.name, backend.model, context_window=backend.context_window,
                               thinking_budget=getattr(getattr(governor, "budget", None), "per_turn", None),
                               mode=config.mode)
        async def keep_changes() -> None:  # beside the transcript, so that --resume finds them after a crash too
            if session.session_id:
                save_workspace(config, session.session_id, repo, (await cs.workspace.diff()).patch)

        async def restore_changes(session_id: str) -> str:
            if not saved_workspace(config, session_id).get("patch"):
                return ""
            if not (await cs.workspace.diff()).empty:  # never mix two sessions' changes in one working copy
                return "its saved changes were not put back: the working copy has changes of its own (/diff)"
            await restore_workspace(cs, config, session_id)
            return "its changes are back in the working copy (/diff)"

        session = TerminalSession(cs.agent, console, status, cs.workspace, history_file=_history_file(config),
                                  repo=repo, policies_for=policies_for, after_run=keep_changes,
                                  restore_changes=restore_changes)
        if resume:
            from m1agent.cli.slash import dispatch

            await dispatch(session, f"/resume {resume}")
        await session.main()
        if session.session_id:
            save_workspace(config, session.session_id, repo, (await cs.workspace.diff()).patch)
            console.print(f"[dim]session {session.session_id} saved under {config.sessions_path}; "
                          f"`m1agent code --resume {session.session_id}` carries it on[/dim]")
