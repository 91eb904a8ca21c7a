"""``m1agent run "TASK" [PATH]`` and ``m1agent resume ID``: the coding agent, headless.

``--json`` prints every run event as one JSON line (the transcript's own format), then one
``workspace_changes`` line with the patch. The exit code says how the run ended (``EXIT_CODES``).
Approvals follow the mode: ``auto`` lets the rules decide; what still needs a yes is asked on a
terminal, approved with ``--yes``, left pending with ``--stop-on-approval``, and otherwise denied
with a message saying so.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

import typer
from pydantic import TypeAdapter
from rich.console import Console

from m1agent.cli.backend_options import BaseUrl, Model, Raw, Region, backend_overrides
from m1agent.cli.config import CodingConfig, ConfigError
from m1agent.errors import M1AgentError
from m1agent.events import ApprovalRequested, RunEvent, RunFinished, event_to_json

# This module's commands; app.py registers them on the application.
commands = typer.Typer()

LIMIT_STOPS = frozenset(
    {"max_turns", "max_tool_calls", "max_tokens", "max_cost", "max_wall_time", "thinking_budget_exhausted",
     "retries_exhausted"}
)  # fmt: skip
EXIT_CODES = {
    "completed": 0,  # an answer or changes
    "error": 1,  # the run failed (backend, bug, sandbox)
    "usage": 2,  # bad flags or config
    "limit": 3,  # a budget or retry limit ended the run
    "approval_pending": 4,  # --stop-on-approval, and a call waits for a yes
    "nothing": 5,  # completed with neither an answer nor changes
    "policy_end": 6,  # a policy ended the run
    "cancelled": 130,
}


@dataclass(frozen=True, slots=True)
class WorkspaceChanges:
    """The last JSON line: what the run changed in the sandbox's copy, as a patch."""

    session_id: str
    stop_reason: str
    exit_code: int
    patch: str
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    applied: str = ""  # "commit <id>", "patch <file>", or "" when not applied
    kind: Literal["workspace_changes"] = "workspace_changes"


_CHANGES_ADAPTER = TypeAdapter(WorkspaceChanges)


def exit_code(stop_reason: str, *, answered: bool, changed: bool) -> int:
    """The process exit code for how a run ended."""
    if stop_reason == "completed":
        return EXIT_CODES["completed"] if answered or changed else EXIT_CODES["nothing"]
    if stop_reason in LIMIT_STOPS:
        return EXIT_CODES["limit"]
    return EXIT_CODES.get(stop_reason, EXIT_CODES["error"])


class HeadlessApprover:
    """Answers approval requests without a UI: ``yes`` approves, a terminal asks, otherwise deny."""

    def __init__(self, *, yes: bool, interactive: bool, console: Console) -> None:
        self.yes, self.interactive, self.console = yes, interactive, console
        self.denied: list[str] = []

    def __call__(self, request: ApprovalRequested) -> bool:
        what = f"{request.name} {json.dumps(request.arguments, ensure_ascii=False)[:300]}"
        if self.yes:
            return True
        if self.interactive:
            answer = self.console.input(f"[bold]approve[/bold] {what} ({request.reason})? [y/N] ")
            return answer.strip().lower() in ("y", "yes")
        self.denied.append(request.name)
        self.console.print(
            f"[yellow]denied {what}[/yellow]: it needs approval ({request.reason}) and there is no terminal "
            "to ask; pass --yes to approve, or --mode auto with allow rules in m1agent.toml"
        )
        return False


async def run_headless(
    config: CodingConfig,
    repo: Path,
    *,
    task: str | None,
    session_id: str | None = None,
    as_json: bool = False,
    approver: HeadlessApprover | None = None,
    stop_on_approval: bool = False,
    apply: bool = False,
    out: Any = None,
    console: Console | None = None,
) -> int:
    """Run (``task``) or resume (``session_id``, ``task=None``) the coding agent; returns the exit code."""
    from m1agent.cli.coding import coding_environment
    from m1agent.cli.display import EventPrinter, print_diff
    from m1agent.cli.workspace import restore_workspace, save_workspace

    stream = out or sys.stdout
    console = console or Console(file=sys.stderr if as_json else stream, highlight=False)
    printer = None if as_json else EventPrinter(console)
    finished: RunFinished | None = None
    session = ""
    async with coding_environment(config, repo, approver=None if stop_on_approval else approver) as cs:
        if session_id is not None:
            await restore_workspace(cs.workspace, config.sessions_path, session_id)
        events = cs.agent.stream(task, session_id=session_id) if task is not None else cs.agent.stream(
            None, session_id=session_id, approvals=_approvals(approver, cs, session_id)
        )
        async for event in events:
            _emit(event, as_json, stream, printer)
            if isinstance(event, RunFinished):
                finished = event
            session = getattr(event, "session_id", "") or session
        session = session or session_id or ""
        changes = await cs.workspace.diff()
        save_workspace(config.sessions_path, session, repo, changes.patch)
        stop = finished.stop_reason if finished else "error"
        code = exit_code(stop, answered=bool(finished and finished.output.strip()), changed=not changes.empty)
        applied = ""
        if apply and not changes.empty and code == 0:
            result = await cs.workspace.apply(f"{(task or 'm1agent')[:72]}\n\nsession {session}")
            if result is not None:
                applied = f"commit {result.commit}" if result.kind == "commit" else f"patch {result.patch_file}"
    if as_json:
        line = WorkspaceChanges(session, stop, code, changes.patch, changes.added, changes.modified, changes.deleted,
                                applied)
        stream.write(_CHANGES_ADAPTER.dump_json(line).decode() + "\n")
        stream.flush()
    else:
        if not changes.empty:
            print_diff(console, changes.patch, title="changes in the sandbox (your checkout is untouched)")
        console.print(f"[dim]session {session}: {stop}, exit code {code}"
                      + (f"; applied as {applied}" if applied else "") + "[/dim]")
    return code


def _approvals(approver: HeadlessApprover | None, cs: Any, session_id: str | None) -> dict[str, bool]:
    """Answers for the calls a stopped run left waiting (``resume --yes`` approves them all)."""
    if approver is None or not approver.yes or session_id is None:
        return {}
    return {call_id: True for call_id in cs.agent.load_state(session_id).approvals}


def _emit(event: RunEvent, as_json: bool, stream: Any, printer: Any) -> None:
    if as_json:
        stream.write(event_to_json(event).decode() + "\n")
        stream.flush()
    else:
        printer(event)


def _fail(message: str, code: int = EXIT_CODES["usage"]) -> NoReturn:
    Console(file=sys.stderr, highlight=False).print(f"[red]{message}[/red]")
    raise typer.Exit(code)


@commands.command("run")
def run_command(
    task: str = typer.Argument(..., help="What to do, in words."),
    path: Path = typer.Argument(Path("."), help="The repository (default: the current directory)."),
    as_json: bool = typer.Option(False, "--json", help="Print every event as a JSON line."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve every call the policy asks about."),
    stop_on_approval: bool = typer.Option(False, "--stop-on-approval", help="End with exit 4 instead of denying."),
    apply: bool = typer.Option(False, "--apply", help="Apply the changes to the checkout when the run succeeds."),
    mode: str = typer.Option(None, "--mode", help="read-only, ask or auto (default: the config's, else ask)."),
    base_url: BaseUrl = None,
    raw: Raw = False,
    model: Model = None,
    region: Region = None,
    max_turns: int = typer.Option(None, "--max-turns", help="Stop after this many model turns."),
    image: str = typer.Option(None, "--image", help="Sandbox image."),
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved."),
    config_file: Path = typer.Option(None, "--config", help="A user config file instead of the default one."),
) -> None:
    """Run the coding agent on a task without a UI; the exit code says how it ended."""
    repo = path.resolve()
    if not repo.is_dir():
        _fail(f"{repo} is not a directory: pass the repository's root folder")
    code = _headless(
        repo, task=task, session_id=None, as_json=as_json, yes=yes, stop_on_approval=stop_on_approval,
        apply=apply, flags=dict(
            backend=backend_overrides(base_url=base_url, raw=raw, model=model, region=region), mode=mode,
            max_turns=max_turns, image=image, sessions=sessions, user_file=config_file,
        ),
    )  # fmt: skip
    raise typer.Exit(code)


@commands.command("resume")
def resume_command(
    session_id: str = typer.Argument(..., help="The session to carry on (see `m1agent sessions`)."),
    task: str = typer.Option(None, "--message", "-m", help="A new message; without it, the run carries on."),
    as_json: bool = typer.Option(False, "--json", help="Print every event as a JSON line."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Approve the waiting calls and every later one."),
    apply: bool = typer.Option(False, "--apply", help="Apply the changes to the checkout when the run succeeds."),
    base_url: BaseUrl = None,
    raw: Raw = False,
    model: Model = None,
    sessions: Path = typer.Option(None, "--sessions", help="Where transcripts are saved."),
    config_file: Path = typer.Option(None, "--config", help="A user config file instead of the default one."),
) -> None:
    """Carry on a saved session in a fresh sandbox holding its earlier changes."""
    from m1agent.cli.coding import build_config
    from m1agent.cli.workspace import saved_workspace

    flags: dict[str, Any] = dict(backend=backend_overrides(base_url=base_url, raw=raw, model=model),
                                 sessions=sessions, user_file=config_file)
    try:  # the current folder's config says where sessions are; the session's own repository is read later
        probe = build_config(Path.cwd(), **flags)
    except ConfigError as exc:
        _fail(str(exc))
    repo_text = saved_workspace(probe.sessions_path, session_id).get("repo")
    if not repo_text:
        _fail(f"no saved session {session_id!r} under {probe.sessions_path}: see `m1agent sessions`")
    code = _headless(Path(str(repo_text)), task=task, session_id=session_id, as_json=as_json, yes=yes,
                     stop_on_approval=False, apply=apply, flags=flags)
    raise typer.Exit(code)


def _headless(
    repo: Path, *, task: str | None, session_id: str | None, as_json: bool, yes: bool, stop_on_approval: bool,
    apply: bool, flags: dict[str, Any],
) -> int:
    from m1agent.cli.coding import build_config

    console = Console(file=sys.stderr if as_json else sys.stdout, highlight=False)
    try:
        config = build_config(repo, **flags)
    except ConfigError as exc:
        _fail(str(exc))
    interactive = sys.stdin.isatty() and not as_json
    approver = HeadlessApprover(yes=yes, interactive=interactive, console=console)
    try:
        return asyncio.run(run_headless(
            config, repo, task=task, session_id=session_id, as_json=as_json, approver=approver,
            stop_on_approval=stop_on_approval, apply=apply, console=console,
        ))  # fmt: skip
    except ConfigError as exc:
        _fail(str(exc))
    except M1AgentError as exc:
        _fail(str(exc), EXIT_CODES["error"])
    except KeyboardInterrupt:
        return EXIT_CODES["cancelled"]
    return EXIT_CODES["error"]
