"""vLLM's M1 chat template (``examples/tool_chat_template_minimax_m1.jinja``), reproduced without Jinja.

Two versions of that file exist. Every vLLM release that has it (0.9.2 to 0.23.0) ships one with the
labels ``ai_setting=assistant`` / ``ai name=assistant`` (3,442 characters); a single main-branch commit
had ``MiniMax AI`` in their place (3,446 characters). The text is otherwise identical, so one
interpreter serves both, given the label. What differs more is what the server does to a request
before the template sees it: ``vllm_request`` does what vLLM 0.23 does, ``main_branch_cleanup`` below
is the older clean-up the ``vllm-main`` variant has always applied.

Template behaviour, quirks included (all kept, because the output must be byte-identical):

- Only ``messages[0]`` can be the system prompt (a string, or list content whose *first* part is read),
  and it is trimmed. Without one, a fixed default prompt is injected; a blank one renders no block.
- Later ``system`` (or any other unknown-role) messages render nothing.
- ``tools=None`` renders no tools block; ``tools=[]`` renders an empty one.
- User and assistant text is trimmed part by part; tool results are not.
- An assistant message with ``tool_calls`` renders the calls only: its content (and any thinking) is
  dropped. Tool results render as ``tool result: …`` without the tool name or call id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from m1agent.protocol.render_common import (
    BEGIN_OF_DOCUMENT,
    TOOL_RESULT_HEADER,
    TOOLS_INSTRUCTION,
    TOOLS_OPEN,
    TURN_END,
    UNDEFINED,
    USER_HEADER,
    PromptRenderError,
    ai_header,
    concat,
    item,
    iterate,
    system_header,
    text,
    tojson,
)

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant created by Minimax based on MiniMax-M1 model."
TOOLS_CLOSE = (
    TOOLS_INSTRUCTION + '{"name": <tool-name>, "arguments": <args-json-object>}\n...\n</tool_calls>' + TURN_END
)


def _system_prompt(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content.strip()
    return text(item(item(content, 0, where), "text", where)).strip()


def _trimmed_parts(content: Any, where: str) -> str:
    """User and assistant bodies: trimmed string content, or every ``type: text`` part trimmed, joined."""
    if isinstance(content, str):
        return content.strip()
    if content is None:
        raise PromptRenderError(f"{where}: the template loops over content that is null")
    return "".join(
        text(item(part, "text", where)).strip()
        for part in iterate(content, where)
        if item(part, "type", where) == "text"
    )


def _calls_block(calls: Any, ai: str, where: str) -> str:
    if calls is None:
        raise PromptRenderError(f"{where}: the template loops over tool_calls that are null")
    lines = []
    for call in iterate(calls, where):
        function = item(call, "function", where)
        name = item(function, "name", where)
        arguments = item(function, "arguments", where)
        if arguments is UNDEFINED:
            raise PromptRenderError(f"{where}: a tool call has no arguments to print")
        lines.append(concat(where, '{"name": "', name, '", "arguments": ', tojson(arguments, where), "}\n"))
    return ai + "<tool_calls>\n" + "".join(lines) + "</tool_calls>" + TURN_END


def _tool_result(content: Any, where: str) -> str:
    if isinstance(content, str):
        return TOOL_RESULT_HEADER + "tool result: " + content + "\n\n" + TURN_END
    if content is None:
        raise PromptRenderError(f"{where}: the template loops over content that is null")
    pieces = []
    for part in iterate(content, where):
        if item(part, "type", where) == "text":
            pieces.append(concat(where, "tool result: ", item(part, "text", where), "\n\n"))
            continue
        if not isinstance(part, Mapping):  # the template calls part.get(...), which only an object has
            raise PromptRenderError(f"{where}: a tool-result part must be an object")
        if part.get("name"):
            result = item(part, "text", where)
            pieces.append(concat(where, "tool name: ", part["name"], "\ntool result: ", result, "\n\n"))
    return TOOL_RESULT_HEADER + "".join(pieces) + TURN_END


def render_template(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Any] | None,
    *,
    ai_name: str,
    add_generation_prompt: bool,
) -> str:
    """The template applied to messages and tools exactly as given (after the caller's clean-up)."""
    ai = ai_header(ai_name)
    out = [BEGIN_OF_DOCUMENT]
    body: Sequence[Mapping[str, Any]] = messages
    if messages[0].get("role") == "system":
        system_prompt = _system_prompt(messages[0].get("content", UNDEFINED), "messages[0]")
        body = messages[1:]
    else:
        system_prompt = DEFAULT_SYSTEM_PROMPT
    if system_prompt != "":
        out.append(system_header(ai_name) + system_prompt + TURN_END)

    if tools is not None:
        out.append(TOOLS_OPEN)
        out.extend(tojson(tool) + "\n" for tool in iterate(tools, "tools"))
        out.append(TOOLS_CLOSE)

    offset = len(messages) - len(body)
    for index, message in enumerate(body, start=offset):
        where = f"messages[{index}]"
        role = message.get("role", UNDEFINED)
        content = message.get("content", UNDEFINED)
        if role in ("tool", "ipython") and "tool_calls" not in message:
            out.append(_tool_result(content, where))
        elif "tool_calls" in message:
            out.append(_calls_block(message["tool_calls"], ai, where))
        elif role == "user":
            out.append(USER_HEADER + _trimmed_parts(content, where) + TURN_END)
        elif role == "assistant":
            out.append(ai + _trimmed_parts(content, where) + TURN_END)
        # any other role renders nothing: later system messages vanish

    if add_generation_prompt:
        out.append(ai)
    return "".join(out)


# --- the clean-up of the vllm-main variant ---------------------------------------------------------


def _decoded_arguments(raw: Any) -> dict[str, Any]:
    """An object, whatever form the arguments came in: empty, undecodable or non-object ones become {}."""
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


def main_branch_cleanup(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What the ``vllm-main`` variant has always done to messages before the template, unchanged.

    ``content: null`` (or none) is empty text; ``tool_calls`` that are null or empty are dropped, and
    dropped from non-assistant messages; call ``arguments`` that are JSON strings are decoded, and
    empty, undecodable or non-object arguments become ``{}``. The input is not modified.
    """
    out = []
    for index, message in enumerate(messages):
        cleaned = dict(message)
        if cleaned.get("content") is None:
            cleaned["content"] = ""
        calls = cleaned.pop("tool_calls", None)
        if message.get("role") == "assistant" and calls not in (None, []):
            if not isinstance(calls, list):
                raise PromptRenderError(f"messages[{index}]: tool_calls must be a list, got {type(calls).__name__}")
            cleaned["tool_calls"] = [_cleaned_call(call, f"messages[{index}]") for call in calls]
        out.append(cleaned)
    return out


def _cleaned_call(call: Any, where: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise PromptRenderError(f"{where}: every tool call needs a function with a string name")
    return {**call, "function": {**function, "arguments": _decoded_arguments(function.get("arguments"))}}
