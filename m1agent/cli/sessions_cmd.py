"""``m1agent sessions`` lists the saved sessions; ``m1agent show ID`` prints one as a readable transcript."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from m1agent.cli.config import ConfigError, load_config
from m1agent.cli.workspace import saved_workspace
from m1agent.events import (
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    LimitHit,
    RetryFeedback,
    RunEvent,
    RunFinished,
    RunStarted,
    ToolCallFinished,
    TurnFinished,
)
from m1agent.session import TRANSCRIPT, SessionStore

# This module's commands; app.py registers them on the application.
commands = typer.Typer()

RESULT_LINES = 12


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One saved session: when it was last written, its first prompt, how its last run ended."""

    session_id: str
    updated: datetime
    prompt: str
    stop_reason: str
    repo: str


def summarize(store: SessionStore, session_id: str) -> SessionSummary:
    """The summary of one stored session."""
    assert store.root is not None
    folder = store.root / session_id
    events = store.load(session_id)
    prompt = next((e.prompt for e in events if isinstance(e, RunStarted) and e.prompt), "") or ""
    stop = next((e.stop_reason for e in reversed(events) if isinstance(e, RunFinished)), "running")
    repo = saved_workspace(store.root, session_id).get("repo", "")
    updated = datetime.fromtimestamp((folder / TRANSCRIPT).stat().st_mtime)
    return SessionSummary(session_id, updated, prompt, stop, repo)


def list_sessions(root: Path) -> list[SessionSummary]:
    """Every session under ``root``, the most recent first."""
    if not root.is_dir():
        return []
    store = SessionStore(root)
    found = [summarize(store, sid) for sid in store.sessions()]
    return sorted(found, key=lambda s: s.updated, reverse=True)


def _clip(text: str, lines: int) -> str:
    rows = text.rstrip().splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join([*rows[:lines], f"[… {len(rows) - lines} more lines]"])


def transcript_lines(events: list[RunEvent], *, thinking: bool = False) -> list[str]:
    """A session as text for a person: thinking folded to one line unless ``thinking``."""
    out: list[str] = []
    for e in events:
        if isinstance(e, RunStarted):
            out.append(f"── run {e.run_id}{' (resumed)' if e.resumed else ''} ──")
            if e.prompt:
                out.append(f"you: {e.prompt}")
        elif isinstance(e, TurnFinished):
            m = e.message
            if m.thinking:
                if thinking:
                    out.append("thinking:\n" + "\n".join("  " + line for line in m.thinking.strip().splitlines()))
                else:
                    first = m.thinking.strip().splitlines()[0] if m.thinking.strip() else ""
                    out.append(f"▸ thought ({len(m.thinking):,} chars): {first[:100]}")
            if m.text.strip():
                out.append(f"M1: {m.text.strip()}")
            for call in m.tool_calls:
                out.append(f"→ {call.name} {json.dumps(call.arguments, ensure_ascii=False)[:300]}")
        elif isinstance(e, ToolCallFinished):
            shown = "\n".join("  " + row for row in _clip(e.content, RESULT_LINES).split("\n"))
            out.append(f"← {e.name} [{e.status}]\n{shown}")
        elif isinstance(e, ApprovalRequested):
            out.append(f"? approval asked for {e.name}: {e.reason}")
        elif isinstance(e, ApprovalResolved):
            out.append(f"{'✓ approved' if e.approved else '✗ not approved'} {e.reason}".rstrip())
        elif isinstance(e, RetryFeedback) and e.in_history:
            out.append(f"! feedback to the model: {e.reason}")
        elif isinstance(e, LimitHit):
            out.append(f"! limit {e.limit}: {e.used:g} of {e.maximum:g}")
        elif isinstance(e, ContextChanged):
            out.append(f"· context: {e.what} ({e.detail})")
        elif isinstance(e, RunFinished):
            usage = f", {e.usage.total_tokens:,} tokens" if e.usage else ""
            cost = f", ${e.cost:.4f}" if e.cost else ""
            out.append(f"── {e.stop_reason}{usage}{cost}{': ' + e.error if e.error else ''} ──")
    return out


def _store_root(sessions: Path | None) -> Path:
    try:
        config = load_config(Path.cwd(), overrides={"sessions_dir": str(sessions) if sessions else None})
    except ConfigError as exc:
        Console(stderr=True).print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    return config.sessions_path


@commands.command("sessions")
def sessions_command(
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved (default: the config's)."),
) -> None:
    """List saved sessions, the most recent first."""
    console = Console(highlight=False)
    root = _store_root(sessions)
    found = list_sessions(root)
    if not found:
        console.print(f"no sessions under {root}")
        return
    for s in found:
        console.print(f"[bold]{s.session_id}[/bold]  {s.updated:%Y-%m-%d %H:%M}  {s.stop_reason:<18} "
                      f"{escape(s.prompt[:60])}  [dim]{escape(s.repo)}[/dim]")
    console.print(f"[dim]{len(found)} session(s) under {root}; `m1agent show ID`, `m1agent resume ID`[/dim]")


@commands.command("show")
def show_command(
    session_id: str = typer.Argument(..., help="The session (see `m1agent sessions`)."),
    thinking: bool = typer.Option(False, "--thinking", help="Unfold the model's thinking."),
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved (default: the config's)."),
) -> None:
    """Print a session's transcript: prompts, thinking (folded), answers, tool calls and results."""
    root = _store_root(sessions)
    store = SessionStore(root)
    if not store.exists(session_id):
        Console(stderr=True).print(f"[red]no session {escape(session_id)} under {root}[/red]: see `m1agent sessions`")
        raise typer.Exit(1)
    console = Console(highlight=False)
    for line in transcript_lines(store.load(session_id), thinking=thinking):
        console.print(escape(line))
