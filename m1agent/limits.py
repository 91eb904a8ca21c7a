"""Limits that end a run with a result: turns, tool calls, tokens, cost and wall time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

LimitName = Literal["max_turns", "max_tool_calls", "max_tokens", "max_cost", "max_wall_time"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-run limits; ``None`` means unlimited.

    ``max_turns`` counts model turns, except turns whose every outcome was retry feedback (bad
    arguments, unknown tool, unreadable output): those are bounded by each tool's ``max_retries`` and
    ``max_format_retries`` instead. ``max_tokens`` bounds input plus output tokens over the run.
    """

    max_turns: int | None = 50
    max_tool_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    max_wall_time: float | None = None
    max_format_retries: int = 3

    def exceeded(
        self, *, turns: int, tool_calls: int, tokens: int, cost: float | None, elapsed: float
    ) -> tuple[LimitName, float, float] | None:
        """The first limit reached, as ``(stop_reason, used, maximum)``, or ``None``."""
        if self.max_turns is not None and turns >= self.max_turns:
            return "max_turns", turns, self.max_turns
        if self.max_tool_calls is not None and tool_calls >= self.max_tool_calls:
            return "max_tool_calls", tool_calls, self.max_tool_calls
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return "max_tokens", tokens, self.max_tokens
        if self.max_cost is not None and cost is not None and cost >= self.max_cost:
            return "max_cost", cost, self.max_cost
        if self.max_wall_time is not None and elapsed >= self.max_wall_time:
            return "max_wall_time", elapsed, self.max_wall_time
        return None

    def retries_exhausted(
        self, format_failures: int, tool_failures: Mapping[str, int], max_retries: Mapping[str, int | None]
    ) -> str | None:
        """Why the run must stop for repeated bad calls or unreadable output, or ``None``.

        ``max_retries`` holds each tool's own bound by name (``None`` for a name no tool has: those
        share ``max_format_retries``).
        """
        if format_failures > self.max_format_retries:
            return f"the model's output could not be read {format_failures} times in a row"
        for name, failures in tool_failures.items():
            allowed = max_retries.get(name)
            allowed = self.max_format_retries if allowed is None else allowed
            if failures > allowed:
                return f"{name} failed {failures} times in a row (max_retries={allowed})"
        return None


__all__ = ["LimitName", "Limits"]
