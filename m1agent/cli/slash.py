"""Slash commands of ``m1agent code``: each is a short async function of the session and its argument.

A command sees the session only through ``SessionControls``: what it may read, and the methods that
change the session. The session module imports this one to dispatch, never the other way round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from rich.markup import escape
from rich.table import Table

from m1agent.cli.config import MODES
from m1agent.cli.display import print_diff
from m1agent.messages import UserMessage

if TYPE_CHECKING:
    from rich.console import Console

    from m1agent.backends.base import Backend
    from m1agent.cli.status import SessionStatus
    from m1agent.cli.workspace import Workspace
    from m1agent.context.compaction import CompactionResult
    from m1agent.mcp.toolset import MCPToolset
    from m1agent.messages import Message


class SessionControls(Protocol):
    """What a slash command may read and change of the session it runs in."""

    console: Console
    status: SessionStatus
    workspace: Workspace

    @property
    def session_id(self) -> str | None: ...

    @property
    def backend(self) -> Backend: ...

    def count(self, text: str) -> int: ...

    def history(self) -> list[Message]: ...

    def last_thought(self) -> tuple[str, int]: ...

    def set_thinking_budget(self, tokens: int) -> None: ...

    def set_mode(self, mode: str) -> None: ...

    def switch_model(self, model: str) -> None: ...

    async def compact(self) -> tuple[int, CompactionResult | None]: ...

    def saved_sessions(self) -> list[str]: ...

    async def resume(self, session_id: str) -> bool: ...

    def new_conversation(self) -> None: ...

    def mcp_toolsets(self) -> list[MCPToolset]: ...

    def note(self, text: str, title: str = "") -> None: ...


Handler = Callable[[SessionControls, str], Awaitable[bool]]
COMMANDS: dict[str, tuple[str, Handler]] = {}
EFFORT = {"low": 4_096, "medium": 16_384, "high": 40_000, "max": 80_000}


def command(name: str, summary: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (summary, handler)
        return handler

    return register


def command_names() -> list[str]:
    return [f"/{name}" for name in COMMANDS]


async def dispatch(session: SessionControls, line: str) -> bool:
    """Run one slash command; ``False`` ends the session. Unknown commands say what exists."""
    name, _, argument = line[1:].partition(" ")
    entry = COMMANDS.get(name.strip().lower())
    if entry is None:
        session.console.print(f"[red]unknown command[/red] /{escape(name)}: /help lists the commands")
        return True
    try:
        return await entry[1](session, argument.strip())
    except Exception as exc:  # a failed command must not end the session
        hint = getattr(exc, "hint", "")
        session.console.print(f"[red]/{escape(name)} failed[/red]: {escape(str(exc))}"
                              + (f"\n{escape(hint)}" if hint else ""))
        return True


@command("help", "this list")
async def _help(session: SessionControls, _: str) -> bool:
    table = Table(show_header=False, box=None, padding=(0, 2))
    for name, (summary, _handler) in COMMANDS.items():
        table.add_row(f"[bold]/{name}[/bold]", summary)
    session.console.print(table)
    session.console.print("[dim]Enter sends; end a line with \\ or press Esc-Enter for a new line; "
                          "Ctrl-C stops a run; Ctrl-D or /exit leaves.[/dim]")
    return True


@command("context", "what the model sees: tokens by kind of message, of the context window")
async def _context(session: SessionControls, _: str) -> bool:
    from m1agent.cli.ledger import history_ledger

    status = session.status
    session.console.print(
        f"context: {status.context_tokens:,} of {status.context_window:,} tokens ({status.context_fraction:.1%}) "
        "at the last request"
    )
    if session.session_id is None:
        session.console.print("[dim]no conversation yet[/dim]")
        return True
    table = Table("kind", "messages", "tokens", title="history", title_justify="left")
    for kind, count, tokens in history_ledger(session.history(), session.count):
        table.add_row(kind, str(count), f"{tokens:,}")
    session.console.print(table)
    return True


@command("cost", "tokens and cost so far")
async def _cost(session: SessionControls, _: str) -> bool:
    session.console.print(session.status.cost_report())
    return True


@command("thinking", "show the last thoughts, or set the effort: low, medium, high, max or a token count")
async def _thinking(session: SessionControls, argument: str) -> bool:
    if not argument:
        text, tokens = session.last_thought()
        session.note(text.strip() or "no thoughts yet", title=f"last thoughts ({tokens} tokens)")
        return True
    tokens = EFFORT.get(argument.lower()) or (int(argument) if argument.isdigit() else 0)
    if tokens <= 0:
        session.console.print("[red]/thinking takes low, medium, high, max or a number of tokens[/red]")
        return True
    session.set_thinking_budget(tokens)
    session.console.print(f"thinking budget: up to {tokens:,} tokens per answer")
    return True


@command("compact", "compact the conversation now (old tool outputs to stubs, old thinking dropped)")
async def _compact(session: SessionControls, _: str) -> bool:
    if session.session_id is None:
        session.console.print("[dim]nothing to compact yet[/dim]")
        return True
    tokens, result = await session.compact()
    if result is None:
        session.console.print(f"[dim]nothing to compact: {tokens:,} tokens, all recent[/dim]")
        return True
    session.console.print(f"compacted: {result.detail()}")
    return True


@command("diff", "the changes in the working copy (the sandbox) since the start or the last /apply")
async def _diff(session: SessionControls, _: str) -> bool:
    changes = await session.workspace.diff()
    print_diff(session.console, changes.patch, title="working copy vs your checkout")
    return True


@command("apply", "write the changes into your checkout (a git commit when it is clean, else changed files)")
async def _apply(session: SessionControls, argument: str) -> bool:
    applied = await session.workspace.apply(argument or _commit_message(session))
    if applied is None:
        session.console.print("nothing to apply: the working copy has no changes (/diff)")
    elif applied.kind == "commit":
        session.console.print(f"[green]applied[/green] as commit {applied.commit[:10]} "
                              f"({len(applied.files)} file(s)); /undo takes it back")
    else:
        session.console.print(f"[green]applied[/green] to {len(applied.files)} file(s), not committed: the "
                              f"checkout had uncommitted changes (patch kept at {escape(str(applied.patch_file))}); "
                              "/undo takes it back")
    return True


def _commit_message(session: SessionControls) -> str:
    """The first request of the conversation as the subject, the session in the body."""
    first = next((m.content for m in session.history() if isinstance(m, UserMessage)), "")
    subject = " ".join(first.split())[:68] or "changes"
    return f"m1agent: {subject}\n\nsession {session.session_id or ''}"


@command("undo", "take the last /apply back out of your checkout")
async def _undo(session: SessionControls, _: str) -> bool:
    undone = await session.workspace.undo()
    what = f"commit {undone.applied.commit[:10]}" if undone.applied.commit else "the applied changes"
    how = "dropped" if undone.how == "reset" else "reverted"
    session.console.print(f"{how} {what}; your checkout is as before /apply, and /diff shows the changes again")
    return True


@command("mcp", "the MCP servers and their tools")
async def _mcp(session: SessionControls, _: str) -> bool:
    toolsets = session.mcp_toolsets()
    if not toolsets:
        session.console.print("[dim]no MCP servers configured (add [mcp.servers.NAME] to m1agent.toml)[/dim]")
        return True
    for toolset in toolsets:
        try:
            tools = await toolset.list_tools()
        except Exception as exc:
            names = ", ".join(toolset.servers)
            session.console.print(f"[red]MCP servers {escape(names)} unavailable[/red]: {escape(str(exc))}")
            continue
        session.console.print(f"[bold]{escape(', '.join(toolset.servers))}[/bold]: "
                              + escape(", ".join(t.spec().name for t in tools)))
    return True


@command("model", "show the backend and model, or switch the model name: /model NAME")
async def _model(session: SessionControls, argument: str) -> bool:
    if argument:
        session.switch_model(argument)
    backend = session.backend
    session.console.print(f"backend {escape(backend.name)} · model {escape(backend.model)} · "
                          f"context window {backend.context_window:,}")
    return True


@command("mode", "show or set the approval mode: read-only, ask or auto")
async def _mode(session: SessionControls, argument: str) -> bool:
    if argument:
        if argument not in MODES:
            session.console.print(f"[red]mode must be one of {', '.join(MODES)}[/red]")
            return True
        session.set_mode(argument)
    session.console.print(f"mode: {session.status.mode}")
    return True


@command("resume", "list saved sessions, or continue one: /resume ID")
async def _resume(session: SessionControls, argument: str) -> bool:
    if not argument:
        ids = session.saved_sessions()[-10:]
        session.console.print("\n".join(ids) if ids else "[dim]no saved sessions[/dim]")
        return True
    if not await session.resume(argument):
        session.console.print(f"[red]no session {escape(argument)}[/red]: /resume lists them")
    return True


@command("clear", "start a new conversation (the old one stays saved)")
async def _clear(session: SessionControls, _: str) -> bool:
    session.new_conversation()
    session.console.clear()
    session.console.print("[dim]new conversation[/dim]")
    return True


@command("exit", "leave (the session is saved; /resume or m1agent resume continues it)")
async def _exit(session: SessionControls, _: str) -> bool:
    return False
