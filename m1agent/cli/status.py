"""The interactive session's running account: backend, context used of the window, thinking tokens, cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from m1agent.events import RunEvent, RunFinished, RunStarted, TurnFinished
from m1agent.usage import Usage


@dataclass
class SessionStatus:
    """Fed every event of every run; ``line()`` is the status line shown under the prompt."""

    backend: str
    model: str = ""
    context_window: int = 1_000_000
    thinking_budget: int | None = None
    mode: str = "ask"
    session_id: str = ""
    context_tokens: int = 0  # the last request's prompt: what the model currently sees
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    runs: int = 0
    turns: int = 0
    last_thinking_tokens: int = 0
    count: Callable[[str], int] | None = None  # for servers whose usage does not report thinking tokens

    def update(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self.session_id = event.session_id or self.session_id
        elif isinstance(event, TurnFinished):
            self.turns += 1
            self.model = event.model or self.model
            self.context_tokens = event.usage.input_tokens + event.usage.output_tokens
            usage = event.usage
            if not usage.thinking_tokens and event.message.thinking and self.count is not None:
                usage = replace(usage, thinking_tokens=self.count(event.message.thinking))
            self.last_thinking_tokens = usage.thinking_tokens
            self.usage = self.usage + usage
            if event.cost is not None:
                self.cost = (self.cost or 0.0) + event.cost
        elif isinstance(event, RunFinished):
            self.runs += 1

    def reset(self) -> None:
        """A new conversation: nothing in context; spending so far is kept (it was spent)."""
        self.session_id, self.context_tokens = "", 0

    @property
    def context_fraction(self) -> float:
        return self.context_tokens / self.context_window if self.context_window else 0.0

    def cost_text(self) -> str:
        return f"${self.cost:.4f}" if self.cost is not None else "$0 (self-hosted)"

    def line(self) -> str:
        """One line: ``backend · model · mode · context 12.3K/1M (1%) · thinking 4.1K · $0.0021``."""
        model = self.model or "model from the server"
        used, window = _short(self.context_tokens), _short(self.context_window)
        return (
            f" {self.backend} · {model} · mode {self.mode} · context {used}/{window} ({self.context_fraction:.0%})"
            f" · thinking {_short(self.usage.thinking_tokens)} · {self.cost_text()} "
        )

    def cost_report(self) -> str:
        """What ``/cost`` prints."""
        u = self.usage
        return (
            f"requests {u.requests} · input {u.input_tokens:,} (cached {u.cached_tokens:,}) · "
            f"output {u.output_tokens:,} (thinking {u.thinking_tokens:,}) · cost {self.cost_text()}"
        )


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}K"
    return str(n)
