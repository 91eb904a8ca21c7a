"""vLLM 0.23's request handling before the template, transcribed from its source for the tests.

Written apart from ``m1agent.protocol.vllm_request`` on purpose, close to vLLM's own code, so that the
two can be checked against each other: the tools go through pydantic models shaped like vLLM's
``FunctionDefinition`` / ``ChatCompletionToolsParam`` (``extra="allow"``) and ``model_dump()``; the
messages through ``_parse_chat_message_content`` ("openai" content format), ``_postprocess_messages``,
``_convert_developer_to_system`` and ``_consolidate_system_messages``.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator


class _OpenAIBaseModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionDefinition(_OpenAIBaseModel):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    defer_loading: bool | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler: Any) -> Any:
        data = handler(self)
        if self.defer_loading is None:
            data.pop("defer_loading", None)
        return data


class ChatCompletionToolsParam(_OpenAIBaseModel):
    type: Literal["function"] = "function"
    function: FunctionDefinition
    defer_loading: bool | None = None

    @model_validator(mode="after")
    def _propagate_defer_loading(self) -> ChatCompletionToolsParam:
        if self.defer_loading is not None and self.function.defer_loading is None:
            self.function.defer_loading = self.defer_loading
        return self

    @model_serializer(mode="wrap")
    def _serialize(self, handler: Any) -> Any:
        data = handler(self)
        if self.defer_loading is None:
            data.pop("defer_loading", None)
        return data


def tool_dicts(tools: list[Any] | None) -> list[dict[str, Any]] | None:
    if tools is None:
        return None
    assert tools != [], "vLLM 0.23 refuses an empty tools array"
    return [ChatCompletionToolsParam.model_validate(copy.deepcopy(t)).model_dump() for t in tools]


_TEXT_KEYS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal",
              "thinking": "thinking"}


def _parse_part(part: Any) -> dict[str, Any] | None:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    part_type = part.get("type", None)
    content = part.get(_TEXT_KEYS[part_type], None)
    if content is None:
        return None
    return {"type": "text", "text": content}


def _parse_message(message: dict[str, Any]) -> dict[str, Any]:
    role = message["role"]
    content = message.get("content")
    if content is None:
        content = []
    elif isinstance(content, str):
        content = [{"type": "text", "text": content}]
    parsed = [p for p in (_parse_part(part) for part in content) if p]
    result: dict[str, Any] = {"role": role, "content": parsed}
    if role == "assistant":
        if "tool_calls" in message and message["tool_calls"] is not None:
            result["tool_calls"] = list(message["tool_calls"])
    elif role == "tool":
        if "tool_call_id" in message:
            result["tool_call_id"] = message["tool_call_id"]
        texts = [item.get("text", "") for item in parsed if item.get("type") == "text"]
        result["content"] = "\n".join(texts) if texts else ""
    if "name" in message and isinstance(message["name"], str):
        result["name"] = message["name"]
    return result


def _postprocess(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        if message["role"] == "assistant" and "tool_calls" in message:
            tool_calls = message.get("tool_calls")
            if not isinstance(tool_calls, list):
                continue
            if len(tool_calls) == 0:
                message.pop("tool_calls", None)
                continue
            for item in tool_calls:
                function = item.get("function")
                assert item.get("type", "function") == "function" and isinstance(function, dict)
                if content := function.get("arguments"):
                    if not isinstance(content, dict | list):
                        parsed = json.loads(content)
                        function["arguments"] = parsed if parsed is not None else {}
                else:
                    function["arguments"] = {}


def _consolidate(conversation: list[dict[str, Any]]) -> list[dict[str, Any]]:
    system_contents: list[str] = []
    non_system = []
    needs_consolidation = False
    for i, msg in enumerate(conversation):
        if msg["role"] == "system":
            if i > 0 or system_contents:
                needs_consolidation = True
            content = msg.get("content", "")
            if isinstance(content, list):
                parts = []
                for part in content:
                    if isinstance(part, dict) and "text" in part:
                        parts.append(part["text"])
                    elif isinstance(part, str):
                        parts.append(part)
                content = "\n".join(parts)
            if content:
                system_contents.append(content)
        else:
            non_system.append(msg)
    if not needs_consolidation:
        return conversation
    return [{"role": "system", "content": "\n\n".join(system_contents)}, *non_system]


def conversation(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as vLLM 0.23 hands them to a template whose content format is "openai"."""
    conv = [_parse_message(m) for m in copy.deepcopy(messages)]
    _postprocess(conv)
    if any(m["role"] == "developer" for m in conv):
        converted = []
        for msg in conv:
            if msg["role"] == "developer":
                msg = {**msg, "role": "system"}
                msg.pop("tools", None)
            converted.append(msg)
        conv = _consolidate(converted)
    return conv
