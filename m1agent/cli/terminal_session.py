"""The interactive session of ``m1agent code``: read a line, run it (or a slash command), show what happens.

Runs stream through the rich event display; approval requests stop the display and ask y/n/always;
Ctrl-C during a run cancels the run (the transcript keeps what happened) and returns to the prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from m1agent.agent import Agent
from m1agent.cli.display import EventPrinter, ThinkingFold
from m1agent.cli.repl import Prompter
from m1agent.cli.status import SessionStatus
from m1agent.events import ApprovalRequested, RunEvent, RunStarted, TurnFinished

APPROVAL_ANSWERS = {"y": "yes", "n": "no", "a": "always"}


@dataclass
class TerminalSession:
    """One person's session: the agent, its conversation, the display and the running status."""

    agent: Agent[Any]
    console: Console
    status: SessionStatus
    workspace: Any  # m1agent.cli.workspace.Workspace: diff(), apply(message), undo()
    history_file: Path | None = None
    repo: Path = Path(".")
    policies_for: Callable[[str], list[Any]] | None = None  # an approval mode -> the policies it means
    after_run: Callable[[], Awaitable[None]] | None = None  # e.g. keep the working copy's changes with the session
    restore_changes: Callable[[str], Awaitable[str]] | None = None  # a resumed session's changes -> a note
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. MCP toolsets, config: for slash commands
    session_id: str | None = None
    always: set[str] = field(default_factory=set)  # tools approved for the rest of the session
    count: Callable[[str], int] = field(init=False)  # text -> M1 tokens
    printer: EventPrinter = field(init=False)
    prompter: Prompter = field(init=False)
    _shown: dict[str, asyncio.Event] = field(default_factory=dict, init=False)
    _asking: bool = field(default=False, init=False)
    _held: list[RunEvent] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        from m1agent.cli.slash import command_names

        # The counter the run itself counts thinking with, so that the live count matches the budget's.
        counter = getattr(self.agent.thinking, "counter", None) or self.agent.backend.token_counter
        count = self.count = counter.count
        self.status.count = self.status.count or count
        fold = ThinkingFold(self.console, budget=self.status.thinking_budget, count=count)
        self.printer = EventPrinter(self.console, fold=fold)
        self.prompter = Prompter(self.history_file, self.status.line, command_names())

    # --- the loop ---------------------------------------------------------------------------

    async def main(self) -> None:
        """Read and run until ``/exit`` or Ctrl-D."""
        from m1agent.cli.slash import dispatch

        while True:
            try:
                line = (await self.prompter.read()).strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            if not line:
                continue
            if line.startswith("/"):
                if not await dispatch(self, line):
                    return
                continue
            await self.run(line)

    async def run(self, prompt: str | None) -> None:
        """Run ``prompt`` in the conversation (``None``: carry on the session's unfinished run)."""
        task = asyncio.ensure_future(self._consume(prompt))
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            self.printer.end_stream()
            self.console.print("[yellow]interrupted[/yellow]: the run was cancelled; its transcript is kept.")
        except Exception as exc:  # the session survives a failed run; the person sees what to do
            self.printer.end_stream()
            hint = getattr(exc, "hint", "")
            self.console.print(f"[red]run failed[/red]: {escape(str(exc))}" + (f"\n{escape(hint)}" if hint else ""))
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
        if self.after_run is not None and self.session_id is not None:
            try:
                await self.after_run()
            except Exception as exc:  # keeping a copy must never end the session
                self.console.print(f"[yellow]could not save the working copy's changes[/yellow]: {escape(str(exc))}")
        self.console.print(f"[dim]{escape(self.status.line())}[/dim]")

    async def _consume(self, prompt: str | None) -> None:
        stream = self.agent.stream(prompt, session_id=self.session_id, approver=self._approve)
        async for event in stream:
            if isinstance(event, RunStarted):
                self.session_id = event.session_id
            self.status.update(event)
            if isinstance(event, TurnFinished):  # the server may have told the backend its window by now
                self.status.context_window = self.agent.backend.context_window or self.status.context_window
            if self._asking:
                self._held.append(event)
                continue
            self._show(event)

    def _show(self, event: RunEvent) -> None:
        self.printer(event)
        if isinstance(event, ApprovalRequested):
            self._shown.setdefault(event.call_id, asyncio.Event()).set()

    # --- approvals --------------------------------------------------------------------------

    async def _approve(self, request: ApprovalRequested) -> bool:
        if request.name in self.always:
            return True
        shown = self._shown.setdefault(request.call_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):  # the display shows the request before we ask
            await asyncio.wait_for(shown.wait(), timeout=2.0)
        self.printer.end_stream()
        self._asking = True
        try:
            answer = await self.prompter.choose(f"allow {request.name}?", APPROVAL_ANSWERS)
        finally:
            self._asking = False
            held, self._held = self._held, []
            for event in held:
                self._show(event)
        if answer == "a":
            self.always.add(request.name)
            self.console.print(f"[dim]{escape(request.name)} is approved for the rest of this session[/dim]")
        return answer in ("y", "a")

    # --- what slash commands may change ------------------------------------------------------

    def set_thinking_budget(self, tokens: int) -> None:
        """Thinking up to ``tokens`` per answer from the next run on: a new governor, a new agent."""
        from dataclasses import replace

        from m1agent.thinking import ThinkingBudget, ThinkingGovernor

        governor = self.agent.thinking
        if isinstance(governor, ThinkingGovernor):
            governor = replace(governor, budget=replace(governor.budget, per_turn=tokens))
        else:
            governor = ThinkingGovernor(ThinkingBudget.m1_80k(per_turn=tokens))
        self.agent = self.agent.replace(thinking=governor)
        self.status.thinking_budget = tokens
        if self.printer.fold is not None:
            self.printer.fold.budget = tokens

    def set_mode(self, mode: str) -> bool:
        """The approval mode's policies from the next run on; ``False`` when this session has none."""
        if self.policies_for is None:
            return False
        self.agent = self.agent.replace(policies=self.policies_for(mode))
        self.status.mode = mode
        return True

    def switch_model(self, model: str) -> None:
        """The same server asked for ``model`` from the next run on."""
        self.agent = self.agent.replace(backend=self.agent.backend.with_model(model))
        self.status.model = model

    async def compact(self, compactor: Any) -> Any:
        """Compact the conversation now, recorded in its transcript as any compaction is."""
        if self.session_id is None:
            return None
        return await self.agent.compact(self.session_id, compactor)

    # --- helpers for slash commands ---------------------------------------------------------

    def note(self, text: str, title: str = "") -> None:
        """A framed message from the UI itself."""
        self.console.print(Panel(escape(text), title=title or None, title_align="left", border_style="blue",
                                 expand=False))
