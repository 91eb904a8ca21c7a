"""``m1agent tau run|replay``: the τ-bench domains (needs the extra ``m1agent[tau]``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer

# This module's commands; app.py registers them on the application.
commands = typer.Typer()


tau_app = typer.Typer(help="τ-bench airline and retail: run M1 on tasks, or replay the gold actions.",
                      no_args_is_help=True)
commands.add_typer(tau_app, name="tau")

Domain = Annotated[str, typer.Option("--domain", help="airline or retail")]
Tasks = Annotated[str, typer.Option("--tasks", help="comma-separated task ids (default: all)")]


def _task_ids(tasks: str) -> list[str] | None:
    return [t.strip() for t in tasks.split(",") if t.strip()] or None


def _check_domain(domain: str) -> None:
    if domain not in ("airline", "retail"):
        typer.echo(f"error: unknown domain {domain!r}; use airline or retail", err=True)
        raise typer.Exit(2)


def _backend(kind: str, base_url: str, model: str, api_key_env: str) -> Any:
    from m1agent.cli.backend_options import make_backend
    from m1agent.cli.config import BackendSettings, ConfigError

    try:
        return make_backend(BackendSettings(kind=kind, url=base_url, model=model, api_key_env=api_key_env))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@tau_app.command("run")
def run_command(
    domain: Domain = "airline",
    trials: Annotated[int, typer.Option("--trials", min=1, help="trials per task (pass^k up to k)")] = 1,
    tasks: Tasks = "",
    backend: Annotated[str, typer.Option(help="vllm, completions or minimax")] = "vllm",
    base_url: Annotated[str, typer.Option(help="M1 server root, e.g. http://localhost:8000/v1")] = "",
    model: Annotated[str, typer.Option(help="M1 model name on the server")] = "",
    api_key_env: Annotated[str, typer.Option(help="variable holding the M1 API key")] = "",
    user_base_url: Annotated[str, typer.Option(help="OpenAI-compatible /v1 root of the user model")] = "",
    user_model: Annotated[str, typer.Option(help="model that plays the user")] = "gpt-4.1",
    user_api_key_env: Annotated[str, typer.Option(help="variable holding the user model's key")] = "",
    max_steps: Annotated[int, typer.Option(help="most user turns per conversation")] = 40,
    report: Annotated[Path | None, typer.Option(help="write an HTML summary here")] = None,
) -> None:
    """Run M1 through the m1agent loop on tau2 tasks with a simulated user; grade with tau2."""
    _check_domain(domain)
    if not user_base_url:
        typer.echo("error: --user-base-url is required (an OpenAI-compatible server plays the user)", err=True)
        raise typer.Exit(2)
    from m1agent.policies.tau.domain import TauUnavailable
    from m1agent.policies.tau.usersim import UserSimulator

    try:
        from m1agent.policies.tau.live import TrialResult, run_tau
    except TauUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    user_key = os.environ.get(user_api_key_env) if user_api_key_env else None
    user = UserSimulator(user_base_url, user_model, api_key=user_key)
    model_backend = _backend(backend, base_url, model, api_key_env)

    def progress(result: TrialResult, done: int, total: int) -> None:
        mark = "pass" if result.passed else "fail"
        extra = f" error: {result.error}" if result.error else ""
        typer.echo(f"[{done}/{total}] task {result.task_id} trial {result.trial}: {mark} "
                   f"(end {result.end}, {len(result.violations)} denials, {result.seconds:.1f}s){extra}")
        for v in result.violations:
            typer.echo(f"    turn {v.turn}: {v.tool} denied by {v.rule}")

    try:
        outcome = asyncio.run(run_tau(domain, model_backend, user, trials=trials, task_ids=_task_ids(tasks),
                                      max_steps=max_steps, progress=progress))
    except TauUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(outcome.summary())
    if report is not None:
        report.write_text(outcome.to_html(), encoding="utf-8")
        typer.echo(f"report: {report}")


@tau_app.command("replay")
def replay_command(domain: Domain = "airline", tasks: Tasks = "") -> None:
    """Replay the gold actions through the loop and the policy engine; compare DB hashes with tau2's."""
    _check_domain(domain)
    from m1agent.policies.tau.domain import TauUnavailable

    try:
        from m1agent.policies.tau.replay import GoldReplay

        replay = GoldReplay(domain)
    except TauUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None

    def progress(task: Any) -> None:
        denied = "; ".join(f"{d.tool} denied by {d.rule}" for d in task.denials)
        typer.echo(f"task {task.task_id}: {'match' if task.db_match else 'MISMATCH'}"
                   + (f" ({denied})" if denied else ""))

    report = replay.run(_task_ids(tasks), progress)
    typer.echo(report.summary())
