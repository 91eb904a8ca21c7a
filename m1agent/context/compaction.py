"""Keep a conversation within the window: compact late, lossless steps first.

When the prompt nears the limit, three steps run in order, each only while still over the target:

1. stale tool outputs become stubs naming their call id (the loop keeps the full text in the
   session's output store, where the ``read_output`` tool reads it back);
2. earlier turns' thinking is dropped, per the thinking history policy;
3. the model summarizes the oldest turns (never the instructions, the original task, earlier
   summaries or the recent turns).

System messages and the first user message (the task) are always kept word for word. A compaction
is an event: ``CompactionResult.event()`` gives the ``ContextChanged`` the loop emits, which the
session records and folds. The compactor remembers what it compacted and never compacts the same
content twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from m1agent.events import ContextChanged
from m1agent.messages import AssistantMessage, Message, SystemMessage, ToolResultMessage, UserMessage

STUB_PREFIX = "[output elided:"
SUMMARY_PREFIX = "[Summary of earlier turns]"
_MESSAGE_OVERHEAD = 6

Summarizer = Callable[[str], Awaitable[str]]


class Counter(Protocol):
    """Anything with an exact ``count`` (``m1agent.tokens``)."""

    def count(self, text: str) -> int: ...


@dataclass(slots=True)
class CompactionPolicy:
    """When to compact and how far.

    Compaction starts above ``trigger`` × ``limit`` tokens and stops at or below ``target`` × ``limit``.
    ``keep_recent`` trailing messages are never touched; tool outputs become stubs only when at least
    ``stale_turns`` assistant turns came after them and they are ``min_stub_tokens`` or longer.
    """

    limit: int
    trigger: float = 0.85
    target: float = 0.6
    keep_recent: int = 6
    stale_turns: int = 2
    min_stub_tokens: int = 200
    keep_thinking_last: int = 1


@dataclass(slots=True)
class CompactionResult:
    """The compacted messages and the account of what happened."""

    messages: list[Message]
    tokens_before: int
    tokens_after: int
    steps: list[str]
    stubbed: list[str] = field(default_factory=list)
    # The full text of each stubbed output, by call id: kept by the loop where ``read_output`` finds it.
    elided: dict[str, str] = field(default_factory=dict)
    thinking_dropped: int = 0
    summarized: int = 0

    def detail(self) -> str:
        """A JSON line for the session record."""
        return json.dumps(
            {
                "tokens_before": self.tokens_before,
                "tokens_after": self.tokens_after,
                "steps": self.steps,
                "stubbed": self.stubbed,
                "thinking_dropped": self.thinking_dropped,
                "summarized_messages": self.summarized,
            },
            sort_keys=True,
        )

    def event(self) -> ContextChanged:
        """The event the loop emits: it replaces the history and is recorded in the session."""
        return ContextChanged("compaction", self.detail(), list(self.messages))


def _digest(message: Message) -> str:
    return hashlib.blake2b(repr(message).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _text_of(message: Message) -> str:
    if isinstance(message, AssistantMessage):
        calls = "".join(json.dumps({"name": c.name, "arguments": c.arguments}) for c in message.tool_calls)
        return message.thinking + message.text + calls
    return message.content


def stub_text(message: ToolResultMessage, tokens: int) -> str:
    """What the model sees instead of a stale output; it names the call id to recall it by."""
    return (
        f"{STUB_PREFIX} {message.name} call {message.call_id}, {tokens} tokens; "
        f'read_output(id="{message.call_id}") shows it]'
    )


def render_for_summary(messages: Sequence[Message]) -> str:
    """The span to summarize as plain text, one block per message."""
    parts = []
    for m in messages:
        if isinstance(m, AssistantMessage):
            calls = "; ".join(f"{c.name}({json.dumps(c.arguments, sort_keys=True)})" for c in m.tool_calls)
            parts.append(f"assistant: {m.text}" + (f"\ncalls: {calls}" if calls else ""))
        elif isinstance(m, ToolResultMessage):
            parts.append(f"tool {m.name} [{m.call_id}]: {m.content}")
        else:
            parts.append(f"{m.role}: {m.content}")
    return "\n\n".join(parts)


SUMMARY_INSTRUCTIONS = (
    "Summarize the conversation excerpt below for your own later use: the facts found, files and "
    "identifiers involved, decisions taken, and what remains to do. Be concise; keep exact names."
)


class Compactor:
    """Compacts message lists; remembers which contents it compacted (by digest) and their token counts."""

    def __init__(self, policy: CompactionPolicy, counter: Counter) -> None:
        self.policy = policy
        self.counter = counter
        self._counts: dict[str, int] = {}
        self._compacted: set[str] = set()

    def tokens(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of ``messages``: exact per message (cached), plus a small per-message frame."""
        total = 0
        for m in messages:
            key = _digest(m)
            n = self._counts.get(key)
            if n is None:
                n = self.counter.count(_text_of(m)) + _MESSAGE_OVERHEAD
                self._counts[key] = n
            total += n
        return total

    def needs_compaction(self, messages: Sequence[Message], extra_tokens: int = 0) -> bool:
        """True when ``messages`` (plus ``extra_tokens`` of tools etc.) are above the trigger."""
        return self.tokens(messages) + extra_tokens > self.policy.trigger * self.policy.limit

    def _protected(self, messages: Sequence[Message]) -> set[int]:
        keep = {i for i, m in enumerate(messages) if isinstance(m, SystemMessage)}
        first_user = next((i for i, m in enumerate(messages) if isinstance(m, UserMessage)), None)
        if first_user is not None:
            keep.add(first_user)
        keep.update(range(max(0, len(messages) - self.policy.keep_recent), len(messages)))
        keep.update(
            i for i, m in enumerate(messages) if isinstance(m, UserMessage) and m.content.startswith(SUMMARY_PREFIX)
        )
        return keep

    async def compact(
        self, messages: Sequence[Message], *, summarize: Summarizer | None = None, extra_tokens: int = 0
    ) -> CompactionResult | None:
        """Compacted messages, or ``None`` when not needed or when this content was compacted before.

        ``summarize`` receives the oldest turns as text (with ``SUMMARY_INSTRUCTIONS`` prepended) and
        returns the summary; without it, only the lossless steps run.
        """
        msgs = list(messages)
        before = self.tokens(msgs) + extra_tokens
        if before <= self.policy.trigger * self.policy.limit:
            return None
        fingerprint = hashlib.blake2b("".join(_digest(m) for m in msgs).encode(), digest_size=16).hexdigest()
        if fingerprint in self._compacted:
            return None
        target = self.policy.target * self.policy.limit - extra_tokens
        result = CompactionResult(msgs, before, before, [])
        self._stub_outputs(result, target)
        if self.tokens(result.messages) > target:
            self._drop_thinking(result)
        if self.tokens(result.messages) > target and summarize is not None:
            await self._summarize(result, target, summarize)
        result.tokens_after = self.tokens(result.messages) + extra_tokens
        self._compacted.add(fingerprint)
        if not result.steps:
            return None
        self._compacted.add(
            hashlib.blake2b("".join(_digest(m) for m in result.messages).encode(), digest_size=16).hexdigest()
        )
        return result

    def _stub_outputs(self, result: CompactionResult, target: float) -> None:
        msgs = result.messages
        protected = self._protected(msgs)
        assistant_after = [0] * len(msgs)
        seen = 0
        for i in range(len(msgs) - 1, -1, -1):
            assistant_after[i] = seen
            if isinstance(msgs[i], AssistantMessage):
                seen += 1
        total = self.tokens(msgs)
        for i, m in enumerate(msgs):
            if total <= target:
                break
            if i in protected or not isinstance(m, ToolResultMessage) or m.content.startswith(STUB_PREFIX):
                continue
            if assistant_after[i] < self.policy.stale_turns:
                continue
            n = self.tokens([m])
            if n < self.policy.min_stub_tokens:
                continue
            result.elided[m.call_id] = m.content
            msgs[i] = replace(m, content=stub_text(m, n - _MESSAGE_OVERHEAD))
            total += self.tokens([msgs[i]]) - n
            result.stubbed.append(m.call_id)
        if result.stubbed:
            result.steps.append("stub_tool_outputs")

    def _drop_thinking(self, result: CompactionResult) -> None:
        msgs = result.messages
        with_thinking = [i for i, m in enumerate(msgs) if isinstance(m, AssistantMessage) and m.thinking]
        keep = set(with_thinking[-self.policy.keep_thinking_last :]) if self.policy.keep_thinking_last else set()
        for i in with_thinking:
            message = msgs[i]
            if i not in keep and isinstance(message, AssistantMessage):
                msgs[i] = replace(message, thinking="")
                result.thinking_dropped += 1
        if result.thinking_dropped:
            result.steps.append("drop_thinking")

    async def _summarize(self, result: CompactionResult, target: float, summarize: Summarizer) -> None:
        msgs = result.messages
        protected = self._protected(msgs)
        start = next((i for i in range(len(msgs)) if i not in protected), None)
        if start is None:
            return
        total = self.tokens(msgs)
        end = start
        freed = 0
        # Take whole turns from the oldest until enough would be freed; a span never ends between an
        # assistant's calls and their results, nor runs into a protected message.
        while end < len(msgs) and end not in protected and total - freed > target:
            freed += self.tokens([msgs[end]])
            end += 1
        while end < len(msgs) and end not in protected and isinstance(msgs[end], ToolResultMessage):
            end += 1
        while end > start and isinstance(msgs[end - 1], AssistantMessage) and msgs[end - 1].tool_calls:  # type: ignore[union-attr]
            end -= 1
        if end <= start:
            return
        span = msgs[start:end]
        summary = (await summarize(f"{SUMMARY_INSTRUCTIONS}\n\n{render_for_summary(span)}")).strip()
        msgs[start:end] = [UserMessage(f"{SUMMARY_PREFIX}\n{summary}")]
        result.summarized = len(span)
        result.steps.append("summarize")
