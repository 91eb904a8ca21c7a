"""``m1agent code [PATH]``: work on a repository with M1 interactively; changes go to a sandboxed copy."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer
from rich.console import Console

from m1agent.backends.base import Backend
from m1agent.cli.app import app
from m1agent.cli.backend_choice import REAL_M1_HELP, real_backend

INSTRUCTIONS = (
    "You are a careful software engineer working in a sandbox. The repository is in the folder `repo/` of "
    "the work folder. Read before you change, run the tests before and after a change, change as little as "
    "needed, and end with a short summary of what you changed and why. The person reviews your changes "
    "with /diff and applies them to their checkout with /apply."
)


def _data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "m1agent"


@app.command("code")
def code_command(
    path: Path = typer.Argument(Path("."), help="The repository (default: the current directory)."),
    base_url: str = typer.Option(None, "--base-url", help="A vLLM server's /v1 URL."),
    raw: bool = typer.Option(False, "--raw", help="With --base-url: use raw /v1/completions."),
    model: str = typer.Option(None, "--model", help="Model name on the server."),
    region: str = typer.Option("global", "--region", help="Hosted API region: global or china."),
    mode: str = typer.Option("ask", "--mode", help="read-only, ask (writes and commands need approval) or auto."),
    image: str = typer.Option(None, "--image", help="Sandbox image (default: m1agent's own)."),
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved."),
    resume: str = typer.Option(None, "--resume", help="Continue a saved session."),
) -> None:
    """Work on a repository with M1: it reads, changes and tests a sandboxed copy; you review and /apply."""
    console = Console(highlight=False)
    repo = path.resolve()
    if not repo.is_dir():
        console.print(f"[red]{repo} is not a directory[/red]: pass the repository's root folder")
        raise typer.Exit(2)
    if mode not in ("read-only", "ask", "auto"):
        console.print("[red]--mode must be read-only, ask or auto[/red]")
        raise typer.Exit(2)
    backend = real_backend(base_url=base_url, raw=raw, model=model, region=region)
    if backend is None:
        console.print(f"[red]no model to talk to.[/red] {REAL_M1_HELP}\n"
                      "[dim](`m1agent demo` shows the agent at work without one.)[/dim]")
        raise typer.Exit(2)
    store = sessions or _data_home() / "sessions"
    asyncio.run(_session(backend, repo, console, mode=mode, image=image, sessions=store, resume=resume))


async def _session(
    backend: Backend, repo: Path, console: Console, *, mode: str, image: str | None, sessions: Path,
    resume: str | None,
) -> None:
    from m1agent.agent import Agent
    from m1agent.cli.checkout import SandboxCheckout
    from m1agent.cli.code_session import CodeSession, Workspace
    from m1agent.cli.status import SessionStatus
    from m1agent.policies.coding import coding_policy
    from m1agent.pricing import PriceTable
    from m1agent.sandboxes.config import SandboxConfig
    from m1agent.sandboxes.docker_sandbox import DockerSandbox
    from m1agent.sandboxes.tools import SandboxToolset
    from m1agent.thinking import ThinkingBudget, ThinkingGovernor

    budget = ThinkingBudget.m1_80k()
    model = backend.model or "the server's model"
    console.print(f"[bold]m1agent code[/bold] · {backend.name} · {model} · {repo}\n"
                  "[dim]Changes go to a sandboxed copy; /diff shows them, /apply writes them to your checkout. "
                  "/help lists the commands.[/dim]")
    with console.status("starting the sandbox…"):
        box = DockerSandbox(SandboxConfig(image=image) if image else SandboxConfig())
        await box.start()
    try:
        await box.open_repo(repo)
        policy = [coding_policy(mode)]
        hosted = getattr(backend, "name", "") == "minimax"
        agent: Agent[None] = Agent(
            backend,
            INSTRUCTIONS,
            tools=[SandboxToolset(box)],
            policies=policy,
            sessions=sessions,
            thinking=ThinkingGovernor(budget),
            pricing=PriceTable.hosted_m1() if hosted else None,
        )

        def set_mode(new_mode: str) -> None:
            agent.policies = [coding_policy(new_mode)]

        checkout = SandboxCheckout(box, repo, sessions.parent / "patches")
        status = SessionStatus(backend.name, backend.model, context_window=backend.context_window,
                               thinking_budget=budget.per_turn, mode=mode)
        session = CodeSession(
            agent, console, status, Workspace(checkout.diff, checkout.apply, checkout.undo),
            history_file=_data_home() / "history", repo=repo, set_mode=set_mode, session_id=resume,
        )
        if resume:
            from m1agent.cli.slash import dispatch

            await dispatch(session, f"/resume {resume}")
        await session.main()
        if session.session_id:
            console.print(f"[dim]session {session.session_id} saved under {sessions}[/dim]")
    finally:
        await box.close()
