"""``m1agent demo``: the coding agent fixes a failing test in a bundled repository, offline by default."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from m1agent.cli.backend_options import REAL_M1_HELP, BaseUrl, Model, Raw, Region, describe, real_backend

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


@commands.command("demo")
def demo_command(
    base_url: BaseUrl = None,
    raw: Raw = False,
    model: Model = None,
    region: Region = "global",
    image: str = typer.Option(None, "--image", help="Sandbox image (default: m1agent's own; python:3.12-slim works)."),
    sessions: Path = typer.Option(Path(".m1agent/sessions"), "--sessions", help="Where transcripts are saved."),
) -> None:
    """Run the coding agent on a small repository with a failing test, in a Docker sandbox."""
    from m1agent.backends.replay import Replay
    from m1agent.cli.demo import CASSETTE, REPO, TASK
    from m1agent.cli.demo.session import run_session

    console = Console(highlight=False)
    backend = real_backend(base_url=base_url, raw=raw, model=model, region=region)
    if backend is None:
        backend = Replay(CASSETTE, strict=False)
        console.print(
            "[bold]m1agent demo[/bold]: the model is [bold yellow]replayed[/bold yellow] from a recorded session; "
            "the tools, the Docker sandbox, the tests, the policy and the diff are real.\n"
            f"[dim]{REAL_M1_HELP}[/dim]"
        )
    else:
        console.print(f"[bold]m1agent demo[/bold] with a real M1: {describe(backend)}")
    console.print(f"[bold]task:[/bold] {TASK}\n[dim]repository: {REPO}[/dim]")
    console.print("[dim]Calls the coding policy sends for approval are approved by the demo itself; "
                  "in `m1agent code` you decide.[/dim]")
    outcome = asyncio.run(run_session(backend, REPO, TASK, console, sessions=sessions, image=image))
    console.print(f"[dim]session {outcome.session_id} saved under {sessions}[/dim]")
    raise typer.Exit(0 if outcome.ok else 1)
