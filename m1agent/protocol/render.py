"""OpenAI-format messages and tools -> the raw M1 prompt, exactly as vLLM's M1 chat template renders it.

The reference is vLLM's ``examples/tool_chat_template_minimax_m1.jinja`` rendered with transformers' Jinja
settings (``trim_blocks``, ``lstrip_blocks``, ``tojson`` = ``json.dumps(x, ensure_ascii=False)`` with the
default separators and key order), after the message clean-up vLLM's chat utilities do first. The output is
byte-identical to that, quirks included, because prefix caching and exact token accounting depend on it:

- Only ``messages[0]`` can be the system prompt (string, or list content whose *first* part is used),
  and it is trimmed. Without one, a fixed default prompt is injected; a blank one renders no system block.
- Later ``system`` (or any other unknown-role) messages render nothing.
- ``tools=None`` renders no tools block; ``tools=[]`` renders an empty one (as vLLM does for ``"tools": []``).
- User and assistant text is trimmed; tool results are not.
- An assistant message with ``tool_calls`` renders the calls only: its content (and any thinking) is dropped.
- Tool results render as ``tool result: ...`` without the tool name or call id; the model pairs results
  with calls by order.

Clean-up mirrored from vLLM before rendering: ``content: null`` is empty text; ``tool_calls`` that are null
or empty are ignored (and are ignored on non-assistant messages); call ``arguments`` that are JSON strings
are decoded, and empty, undecodable or non-object arguments become ``{}``.

Nothing is escaped here. Apply :func:`neutralize_special_tokens` to untrusted user and tool text first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from m1agent.errors import M1AgentError

BEGIN_OF_DOCUMENT = "<begin_of_document>"
BEGIN_OF_SENTENCE = "<beginning_of_sentence>"
END_OF_SENTENCE = "<end_of_sentence>"
END_OF_DOCUMENT = "<end_of_document>"

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant created by Minimax based on MiniMax-M1 model."
SYSTEM_HEADER = BEGIN_OF_SENTENCE + "system ai_setting=MiniMax AI\n"
USER_HEADER = BEGIN_OF_SENTENCE + "user name=user\n"
AI_HEADER = BEGIN_OF_SENTENCE + "ai name=MiniMax AI\n"
TOOL_RESULT_HEADER = BEGIN_OF_SENTENCE + "tool name=tools\n"
TURN_END = END_OF_SENTENCE + "\n"
TOOLS_OPEN = BEGIN_OF_SENTENCE + "system tool_setting=tools\nYou are provided with these tools:\n<tools>\n"
TOOLS_CLOSE = (
    "</tools>\n\nIf you need to call tools, please respond with <tool_calls></tool_calls> XML tags, and "
    "provide tool-name and json-object of arguments, following the format below:\n<tool_calls>\n"
    '{"name": <tool-name>, "arguments": <args-json-object>}\n...\n</tool_calls>' + TURN_END
)

_ZERO_WIDTH_SPACE = "\u200b"
# Longest first, so that "</tool_calls>" is handled before "<tool_calls>" could match inside it.
_INJECTABLE = (
    "<beginning_of_sentence>",
    "<begin_of_document>",
    "<end_of_sentence>",
    "<end_of_document>",
    "</tool_calls>",
    "<tool_calls>",
    "</think>",
    "<think>",
)


class PromptRenderError(M1AgentError, ValueError):
    """The messages cannot be rendered: the template itself would fail on them."""

    hint = "pass OpenAI-format messages: a role, string or text-part content, tool_calls with a function"


def _tojson(value: Any) -> str:
    """transformers' ``tojson`` filter: no HTML escaping, no indent, default separators, key order kept."""
    return json.dumps(value, ensure_ascii=False)


def _text(value: Any) -> str:
    """Jinja's string conversion, for values a template prints or trims."""
    return "" if value is None else str(value)


def _call_arguments(raw: Any) -> dict[str, Any]:
    """vLLM's clean-up of one call's arguments: an object, whatever form they came in."""
    if not raw:
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except json.JSONDecodeError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def _content_parts(message: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list) or not all(isinstance(part, Mapping) for part in content):
        raise PromptRenderError(f"{where}: content must be a string or a list of parts, got {content!r:.80}")
    return content


def _system_prompt(first: Mapping[str, Any]) -> str:
    content = first.get("content")
    if content is None or isinstance(content, str):
        return _text(content).strip()
    parts = _content_parts(first, "system message")
    if not parts:
        raise PromptRenderError("system message: list content must have at least one part")
    return _text(parts[0].get("text")).strip()


def _trimmed_text(message: Mapping[str, Any], where: str) -> str:
    """User/assistant body: trimmed string content, or every text part trimmed and joined."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return _text(content).strip()
    return "".join(
        _text(part.get("text")).strip() for part in _content_parts(message, where) if part.get("type") == "text"
    )


def _tool_calls_block(calls: Any, where: str) -> str:
    if not isinstance(calls, list):
        raise PromptRenderError(f"{where}: tool_calls must be a list, got {type(calls).__name__}")
    lines = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(name, str):
            raise PromptRenderError(f"{where}: every tool call needs a function with a string name")
        arguments = _call_arguments(function.get("arguments"))  # type: ignore[union-attr]
        lines.append('{"name": "' + name + '", "arguments": ' + _tojson(arguments) + "}\n")
    return AI_HEADER + "<tool_calls>\n" + "".join(lines) + "</tool_calls>" + TURN_END


def _tool_result(message: Mapping[str, Any], where: str) -> str:
    content = message.get("content")
    if content is None or isinstance(content, str):
        return TOOL_RESULT_HEADER + "tool result: " + _text(content) + "\n\n" + TURN_END
    pieces = []
    for part in _content_parts(message, where):
        text = part.get("text")
        if part.get("type") == "text" or part.get("name"):
            if not isinstance(text, str):
                raise PromptRenderError(f"{where}: a text part of a tool result needs a string 'text'")
            if part.get("type") == "text":
                pieces.append("tool result: " + text + "\n\n")
            else:
                name = part["name"]
                if not isinstance(name, str):
                    raise PromptRenderError(f"{where}: a named tool-result part needs a string 'name'")
                pieces.append("tool name: " + name + "\ntool result: " + text + "\n\n")
    return TOOL_RESULT_HEADER + "".join(pieces) + TURN_END


def _has_tool_calls(message: Mapping[str, Any]) -> bool:
    """vLLM keeps ``tool_calls`` only on assistant messages, and drops null or empty lists."""
    return message.get("role") == "assistant" and message.get("tool_calls") not in (None, [])


def _render_message(message: Mapping[str, Any], where: str) -> str:
    role = message.get("role")
    if _has_tool_calls(message):
        return _tool_calls_block(message["tool_calls"], where)
    if role in ("tool", "ipython"):
        return _tool_result(message, where)
    if role == "user":
        return USER_HEADER + _trimmed_text(message, where) + TURN_END
    if role == "assistant":
        return AI_HEADER + _trimmed_text(message, where) + TURN_END
    return ""  # the template renders nothing for other roles, later system messages included


def render(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    add_generation_prompt: bool = True,
) -> str:
    """Render OpenAI-format ``messages`` and ``tools`` into the raw M1 prompt.

    Byte-identical to vLLM's M1 chat template for the same request (see the module docstring for the
    template's behaviour). Raises :class:`PromptRenderError` where the template itself would fail, e.g. on
    an empty conversation or a tool call without a name.
    """
    if not messages:
        raise PromptRenderError("there are no messages to render")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise PromptRenderError(f"messages[{index}] must be an object, got {type(message).__name__}")

    out = [BEGIN_OF_DOCUMENT]
    body_start = 0
    if messages[0].get("role") == "system":
        system_prompt = _system_prompt(messages[0])
        body_start = 1
    else:
        system_prompt = DEFAULT_SYSTEM_PROMPT
    if system_prompt:
        out.append(SYSTEM_HEADER + system_prompt + TURN_END)

    if tools is not None:
        out.append(TOOLS_OPEN)
        out.extend(_tojson(tool) + "\n" for tool in tools)
        out.append(TOOLS_CLOSE)

    for index in range(body_start, len(messages)):
        out.append(_render_message(messages[index], f"messages[{index}]"))

    if add_generation_prompt:
        out.append(AI_HEADER)
    return "".join(out)


def neutralize_special_tokens(text: str) -> str:
    """Defuse control strings in untrusted text before it goes into a raw prompt.

    A zero-width space after the ``<`` turns ``<end_of_sentence>``, ``<beginning_of_sentence>``,
    ``<begin_of_document>`` and ``<end_of_document>`` into plain text the tokenizer cannot read as control
    tokens, and keeps ``<think>``/``<tool_calls>`` tags in tool output from being copied as real structure.
    The text still reads the same to the model. Apply it to user and tool text, never to whole prompts.
    """
    if "<" not in text:
        return text
    for tag in _INJECTABLE:
        if tag in text:
            text = text.replace(tag, tag[0] + _ZERO_WIDTH_SPACE + tag[1:])
    return text
