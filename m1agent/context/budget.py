"""How many tokens a pack may take: the window, minus room to think and answer, minus what is there."""

from __future__ import annotations

M1_WINDOW = 1_000_000
THINKING_RESERVE = 80_000
ANSWER_RESERVE = 8_000


def available_budget(
    *,
    window: int = M1_WINDOW,
    thinking_reserve: int = THINKING_RESERVE,
    answer_reserve: int = ANSWER_RESERVE,
    tools_tokens: int = 0,
    history_tokens: int = 0,
    cap: int | None = None,
) -> int:
    """The pack budget: ``window`` minus reserves, tools and history, at most ``cap``, never negative."""
    room = window - thinking_reserve - answer_reserve - tools_tokens - history_tokens
    if cap is not None:
        room = min(room, cap)
    return max(0, room)
