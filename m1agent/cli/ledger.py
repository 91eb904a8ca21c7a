"""The conversation's context ledger for ``/context``: tokens by kind of message, biggest tool results named."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from m1agent.messages import AssistantMessage, Message, SystemMessage, ToolResultMessage, UserMessage
from m1agent.tokens import load_counter

LARGEST_RESULTS = 3


def history_ledger(history: Sequence[Message], count: Callable[[str], int] | None = None) -> list[tuple[str, int, int]]:
    """``(kind, messages, tokens)`` rows: instructions, user, thinking, answers, tool calls, tool results,
    then the largest tool results one by one."""
    count = count or load_counter().count
    rows: dict[str, list[int]] = {}
    results: list[tuple[int, str]] = []

    def add(kind: str, text: str) -> int:
        tokens = count(text) if text else 0
        row = rows.setdefault(kind, [0, 0])
        row[0] += 1
        row[1] += tokens
        return tokens

    for message in history:
        if isinstance(message, SystemMessage):
            add("instructions", message.content)
        elif isinstance(message, UserMessage):
            add("user", message.content)
        elif isinstance(message, AssistantMessage):
            if message.thinking:
                add("thinking", message.thinking)
            if message.text:
                add("answers", message.text)
            for call in message.tool_calls:
                add("tool calls", json.dumps({"name": call.name, "arguments": call.arguments}))
        elif isinstance(message, ToolResultMessage):
            results.append((add("tool results", message.content), message.name))
    out = [(kind, n, tokens) for kind, (n, tokens) in rows.items()]
    for tokens, name in sorted(results, reverse=True)[:LARGEST_RESULTS]:
        out.append((f"  largest result: {name}", 1, tokens))
    return out
