"""Per-turn effort: more thinking for planning turns, less for mechanical tool turns.

An effort hook sees what came just before the next turn and returns a thinking cap for it, or
``None`` for the full per-turn budget. Applications pass their own hook to the agent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from m1agent.messages import Message, ToolResultMessage, UserMessage


@dataclass(frozen=True, slots=True)
class TurnInfo:
    """What an effort hook may look at: the history so far and the coming turn's index."""

    turn_index: int
    history: Sequence[Message]
    per_turn: int

    @property
    def last_results(self) -> list[ToolResultMessage]:
        """The tool results since the last assistant message (empty after a user message)."""
        results: list[ToolResultMessage] = []
        for message in reversed(self.history):
            if not isinstance(message, ToolResultMessage):
                break
            results.append(message)
        return results[::-1]

    @property
    def after_user(self) -> bool:
        """True when the coming turn answers a user message (a planning turn)."""
        return bool(self.history) and isinstance(self.history[-1], UserMessage)


EffortHook = Callable[[TurnInfo], int | None]


def default_effort(after_tool_fraction: float = 0.25, minimum: int = 2_048) -> EffortHook:
    """Full budget after a user message or a failed call; a lower cap after results that only need reading."""

    def hook(info: TurnInfo) -> int | None:
        results = info.last_results
        if info.after_user or not results or any(r.is_error for r in results):
            return None
        return max(minimum, int(info.per_turn * after_tool_fraction))

    return hook
