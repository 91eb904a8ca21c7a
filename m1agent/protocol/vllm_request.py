"""What vLLM 0.23 does to a chat request before its M1 template renders it.

The ``vllm`` variant must produce what the server renders for the same request, and the server does
not hand the request to the template as sent:

- **Tools** pass through its request model (``ChatCompletionToolsParam`` / ``FunctionDefinition``,
  pydantic, extra keys allowed) and come back from ``model_dump()``: ``type`` is filled in as
  ``"function"``; ``function`` keys are ordered name, description, parameters, then the extra keys (such
  as ``strict``) in the order sent; a missing description or parameters becomes ``null``;
  ``defer_loading`` appears only when set. An empty ``tools`` list is refused with a 400.
- **Messages** go through its chat utilities. The template loops over ``message['content']``, so vLLM
  detects the "openai" content format: string content becomes one text part, ``null`` content no parts,
  and ``refusal``/``thinking``/``input_text``/``output_text`` parts become text parts (parts without
  text are skipped). A ``tool`` message's text parts are then joined with ``"\\n"`` into one string, so
  they render under a single ``tool result:`` (0.11 still rendered one per part). ``tool_calls`` are kept
  on assistant messages only; an empty list is dropped; ``arguments`` given as a JSON string are decoded
  (``"null"`` and empty become ``{}``, undecodable text is refused).
- **Developer messages**: the template knows no ``developer`` role, so they become ``system``
  messages, and when a system message then sits anywhere but first (or there are several), all of them
  merge into one first message, their texts joined with a blank line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from m1agent.protocol.render_common import PromptRenderError

_TOOL_FIELDS = ("type", "function", "defer_loading")
_FUNCTION_FIELDS = ("name", "description", "parameters", "defer_loading")
# Part types vLLM reads as text, and the key each keeps its text under.
_TEXT_PART_KEYS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal",
                   "thinking": "thinking"}


def _optional(value: Any, kind: type | tuple[type, ...], where: str, field: str) -> Any:
    if value is not None and not isinstance(value, kind):
        raise PromptRenderError(f"{where}: vLLM refuses a {field} that is a {type(value).__name__}")
    return value


def normalize_tools(tools: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    """The tools as vLLM 0.23's request model dumps them for the template."""
    if tools is None:
        return None
    if not tools:
        raise PromptRenderError("vLLM refuses an empty tools list: pass no tools (None) instead")
    out = []
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or not isinstance(function, Mapping):
            raise PromptRenderError(f"{where}: vLLM needs {{'type': 'function', 'function': {{'name': …}}}}")
        if tool.get("type", "function") != "function":
            raise PromptRenderError(f"{where}: vLLM accepts only tools of type 'function'")
        if not isinstance(function.get("name"), str):
            raise PromptRenderError(f"{where}: vLLM needs a string function name")
        outer_defer = _optional(tool.get("defer_loading"), bool, where, "defer_loading")
        inner_defer = _optional(function.get("defer_loading"), bool, where, "defer_loading")
        dumped_function: dict[str, Any] = {
            "name": function["name"],
            "description": _optional(function.get("description"), str, where, "description"),
            "parameters": copy.deepcopy(_optional(function.get("parameters"), Mapping, where, "parameters")),
        }
        # The request model copies a tool-level defer_loading into a function that has none.
        if inner_defer is None:
            inner_defer = outer_defer
        if inner_defer is not None:
            dumped_function["defer_loading"] = inner_defer
        dumped_function.update(
            (key, copy.deepcopy(value)) for key, value in function.items() if key not in _FUNCTION_FIELDS
        )
        dumped: dict[str, Any] = {"type": "function", "function": dumped_function}
        if outer_defer is not None:
            dumped["defer_loading"] = outer_defer
        dumped.update((key, copy.deepcopy(value)) for key, value in tool.items() if key not in _TOOL_FIELDS)
        out.append(dumped)
    return out


def _texts(content: Any, where: str) -> list[str]:
    """The text of each part, as vLLM's content-part parser reads it."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise PromptRenderError(f"{where}: content must be a string or a list of parts")
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
            continue
        kind = part.get("type") if isinstance(part, Mapping) else None
        if not isinstance(kind, str) or kind not in _TEXT_PART_KEYS:
            raise PromptRenderError(f"{where}: vLLM serves M1 text only, not a content part of type {kind!r}")
        value = part.get(_TEXT_PART_KEYS[kind])
        if value is None:
            continue  # vLLM skips a text part without text, with a warning
        if not isinstance(value, str):
            raise PromptRenderError(f"{where}: vLLM refuses a {kind} part whose text is a {type(value).__name__}")
        texts.append(value)
    return texts


def _calls(calls: Any, where: str) -> list[dict[str, Any]] | None:
    """An assistant's ``tool_calls`` after vLLM's post-processing; None when they are dropped."""
    if not isinstance(calls, list | tuple):
        raise PromptRenderError(f"{where}: tool_calls must be a list")
    if not calls:
        return None
    out = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        kind = call.get("type", "function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping) or kind != "function":
            raise PromptRenderError(f"{where}: vLLM accepts only tool calls of type 'function' with a function")
        arguments = function.get("arguments")
        if not arguments:
            arguments = {}
        elif not isinstance(arguments, dict | list):
            try:
                decoded = json.loads(arguments)
            except (TypeError, ValueError):
                raise PromptRenderError(f"{where}: vLLM refuses tool-call arguments that are not JSON") from None
            arguments = {} if decoded is None else decoded
        decoded_function = {**copy.deepcopy(dict(function)), "arguments": copy.deepcopy(arguments)}
        out.append({**copy.deepcopy(dict(call)), "function": decoded_function})
    return out


def _consolidated_system(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """vLLM's merge of the system messages into one first message, done only when one is out of place."""
    contents: list[str] = []
    others = []
    needed = False
    for index, message in enumerate(conversation):
        if message["role"] != "system":
            others.append(message)
            continue
        needed = needed or index > 0 or bool(contents)
        content = message.get("content", "")
        if isinstance(content, list):
            content = "\n".join(part["text"] for part in content if "text" in part)
        if content:
            contents.append(content)
    if not needed:
        return conversation
    return [{"role": "system", "content": "\n\n".join(contents)}, *others]


def conversation(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The messages as vLLM 0.23 passes them to the M1 template. The input is not modified."""
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role")
        if not isinstance(role, str):
            raise PromptRenderError(f"{where}: vLLM needs a string role")
        texts = _texts(message.get("content"), where)
        converted: dict[str, Any] = {"role": role, "content": [{"type": "text", "text": t} for t in texts]}
        if role == "assistant" and message.get("tool_calls") is not None:
            calls = _calls(message["tool_calls"], where)
            if calls is not None:
                converted["tool_calls"] = calls
        elif role == "tool":
            converted["content"] = "\n".join(texts)
        out.append(converted)
    if any(message["role"] == "developer" for message in out):
        out = _consolidated_system([{**m, "role": "system"} if m["role"] == "developer" else m for m in out])
    return out
