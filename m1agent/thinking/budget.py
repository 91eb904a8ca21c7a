"""How many tokens a request may ask for: the thinking budget, the answer reserve, the room left.

``max_tokens`` is computed so that a request never makes the server answer 400 for lack of room:
it is capped by ``context_window - prompt_tokens`` less a safety margin for counting error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from m1agent.errors import ContextTooLong

Recovery = Literal["force", "retry", "stop"]

# The exact counter has not been checked against the published tokenizer.json; keep 2% in hand.
COUNT_MARGIN = 0.02
MIN_MARGIN_TOKENS = 64


@dataclass(frozen=True, slots=True)
class ThinkingBudget:
    """Thinking tokens per turn and per run, and what to do when a turn runs out.

    ``recovery`` is tried in order: ``force`` closes the think block and continues the same
    generation (raw completions only), ``retry`` asks once more with a bigger output budget, and
    ``stop`` ends the run with ``stop_reason="thinking_budget_exhausted"``.
    """

    per_turn: int = 40_000
    per_run: int | None = None
    answer_reserve: int = 8_192
    retry_factor: float = 2.0
    recovery: tuple[Recovery, ...] = ("force", "retry", "stop")
    # Below this many thinking tokens a turn is not worth starting; the run stops instead.
    min_turn_thinking: int = 256

    @classmethod
    def m1_40k(cls, **overrides: object) -> ThinkingBudget:
        """The preset for MiniMax-M1-40k: up to 40K tokens of thinking per answer."""
        return replace(cls(per_turn=40_000, answer_reserve=8_192), **overrides)  # type: ignore[arg-type]

    @classmethod
    def m1_80k(cls, **overrides: object) -> ThinkingBudget:
        """The preset for MiniMax-M1-80k: up to 80K tokens of thinking per answer."""
        return replace(cls(per_turn=80_000, answer_reserve=10_240), **overrides)  # type: ignore[arg-type]


def safety_margin(prompt_tokens: int) -> int:
    """Tokens kept free beyond the counted prompt, for counting error."""
    return max(MIN_MARGIN_TOKENS, int(prompt_tokens * COUNT_MARGIN))


def room_left(context_window: int, prompt_tokens: int) -> int:
    """Output tokens the server can still accept for a prompt of this size."""
    return context_window - prompt_tokens - safety_margin(prompt_tokens)


def compute_max_tokens(
    *, thinking_cap: int, answer_reserve: int, prompt_tokens: int, context_window: int
) -> int:
    """``max_tokens`` for one request: thinking cap plus answer reserve, within the room left.

    Raises ``ContextTooLong`` before anything is sent when not even the answer reserve fits.
    """
    room = room_left(context_window, prompt_tokens)
    if room < answer_reserve:
        raise ContextTooLong(
            f"the prompt has about {prompt_tokens} tokens and leaves {max(room, 0)} of the "
            f"{context_window}-token window, less than the {answer_reserve}-token answer reserve"
        )
    return min(thinking_cap + answer_reserve, room)
