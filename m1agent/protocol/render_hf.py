"""MiniMax-M1's own chat template (``chat_template`` in the release's ``tokenizer_config.json``).

``render_template`` is that template, reproduced without Jinja, as transformers' ``apply_chat_template``
renders it (trim_blocks, lstrip_blocks, ``tojson`` = ``json.dumps(x, ensure_ascii=False)``, tools
passed as given). Its quirks, all kept because the output must be byte-identical:

- Content is read as a list of parts. System and user messages render only their *first* part's text,
  untrimmed; assistant messages render all their ``type: text`` parts, concatenated.
- Every system message, wherever it is, is appended (no separator) to one system block at the top.
- The tools block appears only for a non-empty ``tools`` list; its format line has no quotes,
  ``{name: <tool-name-1>, arguments: <args-json-object-1>}`` (the template wrote ``''name''``, which
  Jinja reads as adjacent strings).
- A tool message is a list of parts, each rendered as ``tool name: …`` + ``tool result: …``.
- ``tool_calls`` are ignored: an assistant message keeps its text parts only.
- Other roles render nothing. There is no default system prompt.

``hf_messages`` turns OpenAI-format messages into the list-of-parts shape the template reads. That is
input shaping, not a change to the template: string content becomes one text part, ``developer``
becomes ``system`` (OpenAI's newer name for it), and consecutive tool messages become one tool message
(the shape MiniMax's function-call guide sends: all results of a turn in one block, in call order),
each part named after its call.

One deliberate deviation, on by default and off with ``strict=True``: an assistant message's
``tool_calls`` are written into its content in M1's own output form, ``<tool_calls>\\n`` + one JSON
object per line + ``</tool_calls>``. The template would drop them, and the next turn would then see
results for calls it cannot see itself making; this way the history shows exactly what the model wrote.
"""

from __future__ import annotations

import contextlib
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

AI_NAME = "assistant"
TOOLS_CLOSE = (
    TOOLS_INSTRUCTION + "{name: <tool-name-1>, arguments: <args-json-object-1>}\n...\n</tool_calls>" + TURN_END
)


def _first_text(message: Mapping[str, Any], where: str) -> Any:
    """``message['content'][0]['text']``, as the template reads system and user messages."""
    return item(item(message.get("content", UNDEFINED), 0, where), "text", where)


def _named_result(part: Any, where: str) -> str:
    return concat(where, "tool name: ", item(part, "name", where), "\ntool result: ", item(part, "text", where), "\n\n")


def render_template(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Any] | None,
    *,
    add_generation_prompt: bool,
) -> str:
    """The model's template applied to messages already in its shape (see :func:`hf_messages`)."""
    ai = ai_header(AI_NAME)
    out = [BEGIN_OF_DOCUMENT]
    system_prompt = ""
    for index, message in enumerate(messages):
        if message.get("role") == "system":
            where = f"messages[{index}]"
            system_prompt = concat(where, system_prompt, _first_text(message, where))
    if system_prompt != "":
        out.append(system_header(AI_NAME) + system_prompt + TURN_END)

    if tools:
        out.append(TOOLS_OPEN)
        out.extend(tojson(tool) + "\n" for tool in iterate(tools, "tools"))
        out.append(TOOLS_CLOSE)

    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role")
        content = message.get("content", UNDEFINED)
        if role == "user":
            out.append(concat(where, USER_HEADER, _first_text(message, where), TURN_END))
        elif role == "assistant":
            if content is None:
                raise PromptRenderError(f"{where}: the template loops over content that is null")
            parts = [part for part in iterate(content, where) if item(part, "type", where) == "text"]
            out.append(ai + "".join(text(item(part, "text", where)) for part in parts) + TURN_END)
        elif role == "tool":
            if content is None:
                raise PromptRenderError(f"{where}: the template loops over content that is null")
            results = [_named_result(part, where) for part in iterate(content, where)]
            out.append(TOOL_RESULT_HEADER + "".join(results) + TURN_END)

    if add_generation_prompt:
        out.append(ai)
    return "".join(out)


# --- OpenAI-format messages -> the template's shape -------------------------------------------------


def _text_parts(content: Any) -> Any:
    """String (or null) content as one text part; a list of parts is the template's shape already."""
    if content is None or isinstance(content, str):
        return [{"type": "text", "text": content or ""}]
    if isinstance(content, list | tuple):
        return [{"type": "text", "text": part} if isinstance(part, str) else part for part in content]
    return content


def calls_text(calls: Sequence[Any], where: str = "tool_calls") -> str:
    """OpenAI ``tool_calls`` written back the way M1 writes them: a ``<tool_calls>`` block, one call a line."""
    lines = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise PromptRenderError(f"{where}: every tool call needs a function with a string name")
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            # OpenAI sends arguments as JSON text, where the model wrote an object; text that is not
            # JSON is shown as the string it is.
            with contextlib.suppress(json.JSONDecodeError):
                arguments = json.loads(arguments) if arguments.strip() else {}
        elif arguments is None:
            arguments = {}
        lines.append(tojson({"name": function["name"], "arguments": arguments}, where) + "\n")
    return "<tool_calls>\n" + "".join(lines) + "</tool_calls>"


def _assistant_content(message: Mapping[str, Any], where: str, strict: bool) -> Any:
    content = message.get("content")
    parts = [] if content is None else _text_parts(content)
    calls = message.get("tool_calls")
    # The deliberate deviation (see the module docstring): the template would drop these calls, leaving
    # the model results of calls it cannot see itself making; write them as the model wrote them.
    if strict or not calls:
        return parts
    if not isinstance(calls, list | tuple):
        raise PromptRenderError(f"{where}: tool_calls must be a list")
    written = "".join(
        part["text"]
        for part in parts
        if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)
    )
    # M1 puts its calls on a line of their own, after its thinking and any text.
    separator = "\n" if written and not written.endswith("\n") else ""
    return [*parts, {"type": "text", "text": separator + calls_text(calls, where)}]


def _call_names(calls: Any) -> tuple[dict[str, str], list[str]]:
    """The names of an assistant turn's calls, by call id and by position."""
    by_id: dict[str, str] = {}
    in_order: list[str] = []
    for call in calls if isinstance(calls, list | tuple) else ():
        function = call.get("function") if isinstance(call, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        name = name if isinstance(name, str) else ""
        in_order.append(name)
        if isinstance(call, Mapping) and isinstance(call.get("id"), str):
            by_id[call["id"]] = name
    return by_id, in_order


def _result_parts(message: Mapping[str, Any], name: str) -> list[Any]:
    """A tool message's content as named parts; parts that carry a name already keep it."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return [{"type": "text", "name": name, "text": content or ""}]
    if not isinstance(content, list | tuple):
        return [content]  # not parts at all: the template fails on it, as it should
    named = []
    for part in content:
        if isinstance(part, str):
            part = {"type": "text", "text": part}
        if isinstance(part, Mapping) and "name" not in part:
            part = {**part, "name": name}
        named.append(part)
    return named


def hf_messages(messages: Sequence[Mapping[str, Any]], *, strict: bool = False) -> list[dict[str, Any]]:
    """OpenAI-format messages in the shape M1's own template reads. The input is not modified.

    A tool result is named after its call: the call with its ``tool_call_id`` in the last assistant
    turn, else the message's ``name``, else the call at the same position. Consecutive tool messages
    are merged into one. Otherwise, messages already in the template's shape (list content, named
    tool-result parts) pass through unchanged.
    """
    out: list[dict[str, Any]] = []
    by_id: dict[str, str] = {}
    in_order: list[str] = []
    position = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role")
        converted = dict(message)
        if role == "tool":
            call_id = message.get("tool_call_id")
            name = by_id.get(call_id) if isinstance(call_id, str) else None
            if name is None:
                own = message.get("name")
                name = own if isinstance(own, str) else in_order[position] if position < len(in_order) else ""
            position += 1
            parts = _result_parts(message, name)
            if out and out[-1].get("role") == "tool" and index > 0 and messages[index - 1].get("role") == "tool":
                out[-1]["content"] = [*out[-1]["content"], *parts]
                continue
            converted["content"] = parts
        elif role in ("system", "developer", "user"):
            converted["role"] = "system" if role == "developer" else role
            converted["content"] = _text_parts(message.get("content"))
        elif role == "assistant":
            converted["content"] = _assistant_content(message, where, strict)
            by_id, in_order = _call_names(message.get("tool_calls"))
            position = 0
        out.append(converted)
    return out
