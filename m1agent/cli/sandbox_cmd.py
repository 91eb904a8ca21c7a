"""``m1agent sandbox ls|prune|build|shell``: look after the Docker sandboxes on this machine."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import typer

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


sandbox_app = typer.Typer(help="Docker sandboxes: list, prune, build the image, open a shell.", no_args_is_help=True)
commands.add_typer(sandbox_app, name="sandbox")


def _client() -> Any:
    from m1agent.sandboxes import SandboxUnavailable, docker_client

    try:
        return docker_client()
    except SandboxUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@sandbox_app.command("ls")
def list_command() -> None:
    """List the sandbox containers on this engine, and whether their owner process is gone."""
    from m1agent.sandboxes.lifecycle import list_sandboxes

    rows = list_sandboxes(_client())
    if not rows:
        typer.echo("no sandboxes")
        return
    typer.echo(f"{'NAME':36} {'STATUS':10} {'OWNER':8} {'AGE':>7}  IMAGE")
    for row in rows:
        owner = "gone" if row.orphaned else row.owner_pid
        age = f"{time.time() - row.created:.0f}s" if row.created else "?"
        typer.echo(f"{row.name:36} {row.status:10} {owner:8} {age:>7}  {row.image}")


@sandbox_app.command("prune")
def prune_command(
    everything: Annotated[bool, typer.Option("--all", help="Also remove sandboxes of running processes.")] = False,
) -> None:
    """Remove sandboxes (and their volumes) whose owner process is gone."""
    from m1agent.sandboxes.lifecycle import reap

    containers, volumes = reap(_client(), everything=everything)
    typer.echo(f"removed {containers} containers and {volumes} volumes")


@sandbox_app.command("build")
def build_command(
    method: Annotated[str, typer.Option(help="auto, dockerfile (needs a registry) or offline (needs root).")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the image exists.")] = False,
) -> None:
    """Build the sandbox image, from python:3.12-slim if a registry answers, else offline."""
    from m1agent.sandboxes import DEFAULT_IMAGE, SandboxUnavailable
    from m1agent.sandboxes.images import build_image

    if method not in ("auto", "dockerfile", "offline"):
        raise typer.BadParameter("use auto, dockerfile or offline", param_hint="--method")
    started = time.monotonic()
    try:
        used = build_image(_client(), method=method, force=force, progress=typer.echo)
    except SandboxUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{DEFAULT_IMAGE} ready ({used}, {time.monotonic() - started:.0f} s)")


@sandbox_app.command("shell")
def shell_command(
    network: Annotated[bool, typer.Option("--network", help="Give the sandbox the default bridge network.")] = False,
) -> None:
    """Open a sandbox and type commands into it (one per line; Ctrl-D ends and removes it)."""
    from m1agent.sandboxes import DockerSandbox, SandboxConfig

    async def session() -> None:
        config = SandboxConfig(network="bridge" if network else "none")
        async with DockerSandbox(config, client=_client()) as box:
            typer.echo(f"sandbox {box.session_id} ready; work dir {config.workdir}. Ctrl-D to leave.")
            while True:
                try:
                    line = await asyncio.to_thread(input, "sandbox$ ")
                except EOFError:
                    break
                if not line.strip():
                    continue
                result = await box.run(line, timeout=600)
                typer.echo(result.stdout, nl=False)
                typer.echo(result.stderr, nl=False, err=True)
                if result.timed_out or result.oom_killed or result.note:
                    typer.echo(f"[{result.note or 'timed out'}]", err=True)
        typer.echo("sandbox removed")

    asyncio.run(session())
