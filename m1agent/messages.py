"""The conversation as typed messages: what the loop keeps and what backends turn into wire format.

Every backend converts these deterministically, so that the same history always gives the same bytes
(prefix caching depends on it). Thinking-history policy is applied by handing backends copies of
``AssistantMessage`` whose ``thinking`` was emptied or kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from m1agent.protocol.types import ToolCallPart


@dataclass(frozen=True, slots=True)
class SystemMessage:
    """Instructions for the model."""

    content: str
    role: Literal["system"] = "system"


@dataclass(frozen=True, slots=True)
class UserMessage:
    """What the user said."""

    content: str
    role: Literal["user"] = "user"


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    """One model answer as it goes back into history."""

    text: str = ""
    tool_calls: tuple[ToolCallPart, ...] = ()
    thinking: str = ""
    role: Literal["assistant"] = "assistant"


@dataclass(frozen=True, slots=True)
class ToolResultMessage:
    """The result of one call. ``content`` is what the model reads (already capped)."""

    call_id: str
    name: str
    content: str
    is_error: bool = False
    role: Literal["tool"] = "tool"


Message = SystemMessage | UserMessage | AssistantMessage | ToolResultMessage


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it: a name, a description and a JSON schema (``type: object``)."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry, as vLLM and the hosted API take it."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }
