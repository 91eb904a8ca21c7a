"""What earlier turns' thinking looks like in the next request: strip, keep, keep the last n, or summarize.

The transcript always keeps the full thinking; this only shapes the copy that goes to the backend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from m1agent.messages import AssistantMessage, Message

HistoryMode = Literal["strip", "keep", "keep_last_n", "summarize"]
Summarizer = Callable[[str], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class ReasoningHistory:
    """A per-backend setting for earlier turns' thinking.

    ``summarize`` replaces each earlier thought by a short summary written by the model; summaries are
    cached by the thought's hash, so a thought is summarized once and the prompt prefix stays stable.
    """

    mode: HistoryMode = "strip"
    last_n: int = 1
    summarizer: Summarizer | None = None
    _cache: dict[str, str] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """A short label for events and logs."""
        return f"keep_last_n({self.last_n})" if self.mode == "keep_last_n" else self.mode

    async def apply(self, messages: Sequence[Message], summarizer: Summarizer | None = None) -> list[Message]:
        """The messages to send: assistant thinking kept, emptied or summarized per the mode.

        ``summarizer`` is used when the history has none of its own (the run's backend, by default).
        """
        assistant_at = [i for i, m in enumerate(messages) if isinstance(m, AssistantMessage) and m.thinking]
        keep: set[int] = set()
        if self.mode == "keep":
            keep = set(assistant_at)
        elif self.mode == "keep_last_n" and self.last_n > 0:
            keep = set(assistant_at[-self.last_n :])
        out: list[Message] = []
        for i, message in enumerate(messages):
            if not isinstance(message, AssistantMessage) or not message.thinking or i in keep:
                out.append(message)
            elif self.mode == "summarize":
                out.append(replace(message, thinking=await self.summary(message.thinking, summarizer)))
            else:
                out.append(replace(message, thinking=""))
        return out

    async def summary(self, thinking: str, summarizer: Summarizer | None = None) -> str:
        """The cached short summary of one thought (computed by the model on first use)."""
        summarize = self.summarizer or summarizer
        if summarize is None:
            raise ValueError("ReasoningHistory(mode='summarize') needs a summarizer")
        key = hashlib.sha256(thinking.encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = (await summarize(thinking)).strip()
        return self._cache[key]


SUMMARY_INSTRUCTIONS = (
    "Summarize the reasoning below in at most three short sentences: the decisions taken and the facts "
    "they rest on. Write only the summary."
)
