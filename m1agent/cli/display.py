"""Printing a run's events for a person: thinking dimmed, calls and results as compact panels, diffs coloured."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from m1agent.events import (
    ApprovalRequested,
    ApprovalResolved,
    ContextChanged,
    LimitHit,
    PolicyDecision,
    RetryFeedback,
    RunEvent,
    RunFinished,
    ThinkingRecovery,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
)
from m1agent.protocol.types import TextDelta, ThinkingDelta

RESULT_LINES = 14
ARGUMENT_CHARS = 600
FOLDED_LINES = 3  # lines of the thought shown while it streams, when folded


@dataclass
class ThinkingFold:
    """Thinking shown live as its last few lines and a token count against the budget, then folded to one line.

    ``count`` turns text into tokens (an M1 token counter's ``count``); the fold keeps the whole text in
    ``last`` so that a UI can show it on request.
    """

    console: Console
    budget: int | None = None
    count: Any = None
    last: str = ""
    tokens: int = 0
    _live: Live | None = field(default=None, init=False)

    def feed(self, text: str) -> None:
        if self._live is None:
            self.last, self.tokens = "", 0
            self._live = Live(self._view(), console=self.console, transient=True, refresh_per_second=8)
            self._live.start()
        self.last += text
        self.tokens += self.count(text) if self.count else max(1, len(text) // 4)
        self._live.update(self._view())

    def _header(self) -> str:
        of = f" / {self.budget:,}" if self.budget else ""
        return f"{self.tokens:,}{of} thinking tokens"

    def _view(self) -> Group:
        tail = [line for line in self.last.splitlines() if line.strip()][-FOLDED_LINES:]
        lines = [Text(f"thinking… {self._header()}", style="dim")]
        lines += [Text("  " + line[: max(20, self.console.width - 4)], style="dim italic") for line in tail]
        return Group(*lines)

    def close(self) -> None:
        """End the live view and leave the folded line."""
        if self._live is None:
            return
        self._live.stop()
        self._live = None
        self.console.print(Text(f"▸ thought: {self._header()} (/thinking shows it)", style="dim"))


@dataclass
class EventPrinter:
    """Call it with each event of ``Agent.stream``; it keeps only what it needs to fold thinking."""

    console: Console
    show_thinking: bool = True
    fold: ThinkingFold | None = None
    _mode: str = field(default="", init=False)
    _thinking_chars: int = field(default=0, init=False)
    _asked: set[str] = field(default_factory=set, init=False)

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, ThinkingDelta):
            self._stream("thinking", event.text, "dim italic")
        elif isinstance(event, TextDelta):
            self._stream("text", event.text, "")
        else:
            self._end_stream()
            self._event(event)

    def _stream(self, mode: str, text: str, style: str) -> None:
        if mode == "thinking":
            self._thinking_chars += len(text)
            if not self.show_thinking:
                return
            if self.fold is not None:
                if self._mode != mode:
                    self._end_stream()
                    self._mode = mode
                self.fold.feed(text)
                return
        if self._mode != mode:
            self._end_stream()
            self._mode = mode
            if mode == "thinking":
                self.console.print(Text("thinking: ", style="dim"), end="")
        self.console.print(Text(text, style=style), end="", soft_wrap=True)

    def end_stream(self) -> None:
        """Finish what is streaming (a folded thought folds), e.g. before asking the person something."""
        self._end_stream()

    def _end_stream(self) -> None:
        if self._mode == "thinking" and self.fold is not None:
            self.fold.close()
        elif self._mode:
            self.console.print()
        self._mode = ""

    def _event(self, event: RunEvent) -> None:
        out = self.console
        if isinstance(event, TurnStarted):
            self._thinking_chars = 0
            out.rule(f"[dim]turn {event.turn_index}[/dim]", style="dim")
        elif isinstance(event, TurnFinished):
            usage = event.usage
            thought = f"{usage.thinking_tokens} thinking tokens" if usage.thinking_tokens else (
                f"{self._thinking_chars} characters of thinking"
            )
            thought = "" if self.fold is not None else thought + ", "  # the fold has shown the count
            out.print(f"[dim]({thought}{usage.output_tokens} output tokens, finish: {event.finish_reason})[/dim]")
        elif isinstance(event, ToolCallStarted):
            if event.call_id in self._asked:  # its arguments were just shown with the approval request
                out.print(f"[cyan]▶ {escape(event.name)}[/cyan]")
                return
            out.print(Panel(escape(_arguments(event.arguments)), title=f"[bold cyan]{escape(event.name)}[/]",
                            title_align="left", border_style="cyan", expand=False))
        elif isinstance(event, ToolCallFinished):
            body = _head_and_tail(event.content.splitlines())
            style = "green" if event.status == "ok" else "red"
            out.print(Panel(escape(body or "(no output)"), title=f"[{style}]{escape(event.name)}: {event.status}[/]",
                            title_align="left", border_style=style, expand=False))
        elif isinstance(event, ApprovalRequested):
            self._asked.add(event.call_id)
            why = f"[yellow]{escape(event.reason)}[/yellow]\n" if event.reason else ""
            out.print(Panel(why + escape(_arguments(event.arguments)),
                            title=f"[bold yellow]approval needed: {escape(event.name)}[/]", title_align="left",
                            border_style="yellow", expand=False))
        elif isinstance(event, ApprovalResolved):
            verdict = "[green]approved[/green]" if event.approved else "[red]refused[/red]"
            out.print(f"{verdict}{': ' + escape(event.reason) if event.reason else ''}")
        elif isinstance(event, PolicyDecision) and event.action == "deny":
            out.print(f"[red]policy denied[/red] {escape(event.name)}: {escape(event.reason)}")
        elif isinstance(event, RetryFeedback) and event.message:
            out.print(f"[yellow]feedback to the model[/yellow]: {escape(event.message.splitlines()[0])}")
        elif isinstance(event, LimitHit):
            out.print(f"[red]limit reached[/red]: {event.limit} ({event.used:g} of {event.maximum:g})")
        elif isinstance(event, ThinkingRecovery):
            out.print(f"[yellow]thinking budget[/yellow] ({event.action}): {escape(event.note)}")
        elif isinstance(event, ContextChanged) and event.what not in ("thinking_policy", "thinking_recovery"):
            out.print(f"[dim]{escape(event.what)}: {escape(event.detail)}[/dim]")
        elif isinstance(event, RunFinished):
            self._finished(event)

    def _finished(self, event: RunFinished) -> None:
        usage = event.usage
        spent = (
            f"{usage.input_tokens} input, {usage.output_tokens} output ({usage.thinking_tokens} thinking) tokens"
            if usage is not None else "no usage reported"
        )
        cost = f", cost ${event.cost:.4f}" if event.cost is not None else ""
        style = "green" if event.stop_reason == "completed" else "yellow"
        self.console.rule(f"[{style}]run {event.stop_reason}[/]: {spent}{cost}", style=style)
        if event.error:
            self.console.print(f"[red]{escape(event.error)}[/red]")


def _arguments(arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, ensure_ascii=False, indent=1)
    if len(text) > ARGUMENT_CHARS:
        text = text[:ARGUMENT_CHARS] + f"\n… ({len(text) - ARGUMENT_CHARS} more characters)"
    return text


def _head_and_tail(lines: list[str]) -> str:
    """The first and last lines of a long result: a command's verdict is usually at its end."""
    if len(lines) <= RESULT_LINES:
        return "\n".join(lines)
    head, tail = RESULT_LINES // 3, RESULT_LINES - RESULT_LINES // 3
    hidden = len(lines) - head - tail
    return "\n".join([*lines[:head], f"… ({hidden} lines not shown)", *lines[-tail:]])


def print_diff(console: Console, patch: str, title: str = "changes") -> None:
    """A unified diff, syntax-highlighted."""
    if not patch.strip():
        console.print("[dim]no changes[/dim]")
        return
    console.print(Panel(Syntax(patch, "diff", theme="ansi_dark", word_wrap=True), title=title, title_align="left"))
