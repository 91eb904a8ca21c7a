"""Slash commands of ``m1agent code``: each is a short async function of the session and its argument."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from m1agent.cli.display import print_diff

if TYPE_CHECKING:
    from m1agent.cli.terminal_session import TerminalSession

Handler = Callable[["TerminalSession", str], Awaitable[bool]]
COMMANDS: dict[str, tuple[str, Handler]] = {}
MODES = ("read-only", "ask", "auto")
EFFORT = {"low": 4_096, "medium": 16_384, "high": 40_000, "max": 80_000}


def command(name: str, summary: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (summary, handler)
        return handler

    return register


def command_names() -> list[str]:
    return [f"/{name}" for name in COMMANDS]


async def dispatch(session: TerminalSession, line: str) -> bool:
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
async def _help(session: TerminalSession, _: str) -> bool:
    table = Table(show_header=False, box=None, padding=(0, 2))
    for name, (summary, _handler) in COMMANDS.items():
        table.add_row(f"[bold]/{name}[/bold]", summary)
    session.console.print(table)
    session.console.print("[dim]Enter sends; end a line with \\ or press Esc-Enter for a new line; "
                          "Ctrl-C stops a run; Ctrl-D or /exit leaves.[/dim]")
    return True


@command("context", "what the model sees: tokens by kind of message, of the context window")
async def _context(session: TerminalSession, _: str) -> bool:
    from m1agent.cli.ledger import history_ledger

    status = session.status
    session.console.print(
        f"context: {status.context_tokens:,} of {status.context_window:,} tokens ({status.context_fraction:.1%}) "
        "at the last request"
    )
    if session.session_id is None:
        session.console.print("[dim]no conversation yet[/dim]")
        return True
    history = session.agent.load_state(session.session_id).history
    table = Table("kind", "messages", "tokens", title="history", title_justify="left")
    for kind, count, tokens in history_ledger(history, session.count):
        table.add_row(kind, str(count), f"{tokens:,}")
    session.console.print(table)
    return True


@command("cost", "tokens and cost so far")
async def _cost(session: TerminalSession, _: str) -> bool:
    session.console.print(session.status.cost_report())
    return True


@command("thinking", "show the last thoughts, or set the effort: low, medium, high, max or a token count")
async def _thinking(session: TerminalSession, argument: str) -> bool:
    fold = session.printer.fold
    if not argument:
        last = fold.last if fold is not None else ""
        session.note(last.strip() or "no thoughts yet", title=f"last thoughts ({fold.tokens if fold else 0} tokens)")
        return True
    tokens = EFFORT.get(argument.lower()) or (int(argument) if argument.isdigit() else 0)
    if tokens <= 0:
        session.console.print("[red]/thinking takes low, medium, high, max or a number of tokens[/red]")
        return True
    session.set_thinking_budget(tokens)
    session.console.print(f"thinking budget: up to {tokens:,} tokens per answer")
    return True


@command("compact", "compact the conversation now (old tool outputs to stubs, old thinking dropped)")
async def _compact(session: TerminalSession, _: str) -> bool:
    from m1agent.context.compaction import CompactionPolicy, Compactor

    if session.session_id is None:
        session.console.print("[dim]nothing to compact yet[/dim]")
        return True
    history = session.agent.load_state(session.session_id).history
    counter = session.agent.backend.token_counter
    tokens = Compactor(CompactionPolicy(limit=1), counter).tokens(history)
    policy = CompactionPolicy(limit=max(tokens, 1), trigger=0.0, target=0.5, keep_recent=4, stale_turns=1,
                              min_stub_tokens=50)
    result = await session.compact(Compactor(policy, counter))
    if result is None:
        session.console.print(f"[dim]nothing to compact: {tokens:,} tokens, all recent[/dim]")
        return True
    session.console.print(f"compacted: {result.detail()}")
    return True


@command("diff", "the changes in the working copy (the sandbox) since the start or the last /apply")
async def _diff(session: TerminalSession, _: str) -> bool:
    changes = await session.workspace.diff()
    print_diff(session.console, changes.patch, title="working copy vs your checkout")
    return True


@command("apply", "write the changes into your checkout (a git commit when it is clean, else changed files)")
async def _apply(session: TerminalSession, argument: str) -> bool:
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


def _commit_message(session: TerminalSession) -> str:
    """The first request of the conversation as the subject, the session in the body."""
    first = ""
    if session.session_id is not None:
        from m1agent.messages import UserMessage

        history = session.agent.load_state(session.session_id).history
        first = next((m.content for m in history if isinstance(m, UserMessage)), "")
    subject = " ".join(first.split())[:68] or "changes"
    return f"m1agent: {subject}\n\nsession {session.session_id or ''}"


@command("undo", "take the last /apply back out of your checkout")
async def _undo(session: TerminalSession, _: str) -> bool:
    undone = await session.workspace.undo()
    what = f"commit {undone.applied.commit[:10]}" if undone.applied.commit else "the applied changes"
    how = "dropped" if undone.how == "reset" else "reverted"
    session.console.print(f"{how} {what}; your checkout is as before /apply, and /diff shows the changes again")
    return True


@command("mcp", "the MCP servers and their tools")
async def _mcp(session: TerminalSession, _: str) -> bool:
    from m1agent.mcp.toolset import MCPToolset

    toolsets = [t for t in session.agent.tools if isinstance(t, MCPToolset)]
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
async def _model(session: TerminalSession, argument: str) -> bool:
    if argument:
        session.switch_model(argument)
    backend = session.agent.backend
    session.console.print(f"backend {escape(backend.name)} · model {escape(backend.model)} · "
                          f"context window {backend.context_window:,}")
    return True


@command("mode", "show or set the approval mode: read-only, ask or auto")
async def _mode(session: TerminalSession, argument: str) -> bool:
    if argument:
        if argument not in MODES:
            session.console.print(f"[red]mode must be one of {', '.join(MODES)}[/red]")
            return True
        if not session.set_mode(argument):
            session.console.print("[red]this session cannot change its mode[/red]")
            return True
    session.console.print(f"mode: {session.status.mode}")
    return True


@command("resume", "list saved sessions, or continue one: /resume ID")
async def _resume(session: TerminalSession, argument: str) -> bool:
    store = session.agent.sessions
    if not argument:
        ids = store.sessions()[-10:]
        session.console.print("\n".join(ids) if ids else "[dim]no saved sessions[/dim]")
        return True
    if not store.exists(argument):
        session.console.print(f"[red]no session {escape(argument)}[/red]: /resume lists them")
        return True
    switching = argument != session.session_id
    session.session_id = argument
    session.status.session_id = argument
    state = session.agent.load_state(argument)
    note = await session.restore_changes(argument) if switching and session.restore_changes else ""
    session.console.print(f"resumed session {escape(argument)} ({len(state.history)} messages)"
                          + (f"; {escape(note)}" if note else ""))
    if state.unresolved_calls:
        await session.run(None)
    return True


@command("clear", "start a new conversation (the old one stays saved)")
async def _clear(session: TerminalSession, _: str) -> bool:
    session.session_id = None
    session.status.reset()
    session.console.clear()
    session.console.print("[dim]new conversation[/dim]")
    return True


@command("exit", "leave (the session is saved; /resume or m1agent resume continues it)")
async def _exit(session: TerminalSession, _: str) -> bool:
    return False
