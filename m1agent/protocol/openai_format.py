"""Typed history (``m1agent.messages``) -> OpenAI chat messages and tools, the shape vLLM and the hosted API take.

The conversion is deterministic: the same history always gives equal dicts, and so the same JSON bytes and
the same rendered prompt (prefix caching depends on it).

- Kept thinking goes back into ``content`` in M1's own output form, ``<think>\\n{thinking}\\n</think>\\n`` +
  text. Which turns keep their thinking is the caller's policy: empty ``thinking`` writes no block.
- Tool calls become ``tool_calls`` entries whose ``arguments`` is ``json.dumps(args, ensure_ascii=False)``.
  A call without an id gets ``call_<assistant turn>_<index>``.
- Tool results become ``role: tool`` messages. The M1 prompt pairs results with calls by position only, so
  the results that follow an assistant turn are put in that turn's call order.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from m1agent.protocol.types import call_id

if TYPE_CHECKING:  # m1agent.messages imports this package: importing it at run time would be circular
    from m1agent.messages import AssistantMessage, Message, ToolResultMessage, ToolSpec


def assistant_content(thinking: str, text: str) -> str:
    """The ``content`` of an assistant turn: the thinking block as M1 writes it, then the text."""
    if not thinking:
        return text
    return f"<think>\n{thinking}\n</think>\n{text}"


def _assistant(message: AssistantMessage, turn: int) -> dict[str, Any]:
    content = assistant_content(message.thinking, message.text)
    if not message.tool_calls:
        return {"role": "assistant", "content": content}
    calls = [
        {
            "id": call.id or call_id(turn, index),
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
        }
        for index, call in enumerate(message.tool_calls)
    ]
    # OpenAI's own form for a turn that only calls tools is ``content: null``.
    return {"role": "assistant", "content": content or None, "tool_calls": calls}


def _tool_result(message: ToolResultMessage) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": message.call_id, "content": message.content}


def _in_call_order(results: list[ToolResultMessage], call_ids: list[str]) -> list[ToolResultMessage]:
    """Results sorted by their call's position; results for unknown ids keep their place after them."""
    position = {cid: index for index, cid in enumerate(call_ids)}
    unknown = len(call_ids)
    return sorted(results, key=lambda result: position.get(result.call_id, unknown))


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Convert typed history into OpenAI chat messages, ready for ``render`` or a chat API."""
    out: list[dict[str, Any]] = []
    last_call_ids: list[str] = []
    pending: list[ToolResultMessage] = []
    assistant_turn = 0

    def flush_results() -> None:
        out.extend(_tool_result(result) for result in _in_call_order(pending, last_call_ids))
        pending.clear()

    for message in messages:
        if message.role == "tool":
            pending.append(message)
            continue
        flush_results()
        if message.role == "assistant":
            converted = _assistant(message, assistant_turn)
            last_call_ids = [call["id"] for call in converted.get("tool_calls", ())]
            assistant_turn += 1
            out.append(converted)
        elif message.role in ("system", "user"):
            last_call_ids = []
            out.append({"role": message.role, "content": message.content})
        else:
            raise TypeError(f"not a history message: {message!r:.80}")
    flush_results()
    return out


def tools_to_openai(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """The OpenAI ``tools`` list, in the given order; schemas are copied, so callers may edit the result."""
    return [copy.deepcopy(spec.to_openai()) for spec in tools]
