"""Typed parts of one M1 answer, and the deltas a streaming parse yields.

These are plain frozen dataclasses: they are created on every streamed token, so they must be cheap.
Each carries a ``kind`` tag so that a pydantic ``TypeAdapter`` can (de)serialize unions of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "error"]
"""Why a generation ended: a normal end (``stop``, or ``tool_calls`` when it has calls to run), a cut at
``max_tokens`` (``length``), the provider's moderation (``content_filter``), or anything else (``error``)."""


class ProblemKind(StrEnum):
    """What can be wrong in raw M1 output (meanings fixed by the corpus README)."""

    UNCLOSED_THINK = "unclosed_think"
    UNCLOSED_TOOL_CALLS = "unclosed_tool_calls"
    INVALID_TOOL_CALL_JSON = "invalid_tool_call_json"
    TOOL_CALL_MISSING_NAME = "tool_call_missing_name"
    TOOL_CALL_MISSING_ARGUMENTS = "tool_call_missing_arguments"
    ARGUMENTS_NOT_OBJECT = "arguments_not_object"
    TOOL_CALL_IN_THINKING = "tool_call_in_thinking"


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One piece of output the parser could not turn into a part.

    ``detail`` is a sentence the model can act on; ``raw`` is the offending text, if any.
    """

    kind: str
    detail: str
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ThinkingPart:
    """The text inside the leading ``<think>`` block."""

    content: str
    part_kind: Literal["thinking"] = "thinking"


@dataclass(frozen=True, slots=True)
class TextPart:
    """Answer text outside thinking and outside tool-call blocks."""

    content: str
    part_kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    """One well-formed call. ``id`` is deterministic: ``call_<turn>_<index>``."""

    name: str
    arguments: dict[str, Any]
    id: str = ""
    part_kind: Literal["tool_call"] = "tool_call"


def call_id(turn_index: int, call_index: int) -> str:
    """The deterministic id of call ``call_index`` in turn ``turn_index`` (M1 emits none)."""
    return f"call_{turn_index}_{call_index}"


@dataclass(frozen=True, slots=True)
class Turn:
    """One parsed M1 answer: thinking, text, calls, and whatever could not be read."""

    thinking: str = ""
    text: str = ""
    tool_calls: tuple[ToolCallPart, ...] = ()
    problems: tuple[ParseProblem, ...] = ()

    @property
    def problem_kinds(self) -> list[str]:
        """The sorted, de-duplicated kinds of problem in this turn."""
        return sorted({p.kind for p in self.problems})

    @property
    def truncated(self) -> bool:
        """True when the output was cut inside thinking or inside a tool-call block."""
        return any(
            p.kind in (ProblemKind.UNCLOSED_THINK, ProblemKind.UNCLOSED_TOOL_CALLS) for p in self.problems
        )

    def to_json(self) -> dict[str, Any]:
        """The corpus form: ``{thinking, text, tool_calls, problems}`` with problems as sorted kinds."""
        return {
            "thinking": self.thinking,
            "text": self.text,
            "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in self.tool_calls],
            "problems": self.problem_kinds,
        }


# --- streaming deltas -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """More thinking text, certain not to be part of a tag."""

    text: str
    kind: Literal["thinking_delta"] = "thinking_delta"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More answer text, certain not to be part of a tag."""

    text: str
    kind: Literal["text_delta"] = "text_delta"


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """A call has begun; ``name`` is filled once it is known (it may be empty at first)."""

    index: int
    id: str
    name: str = ""
    kind: Literal["tool_call_start"] = "tool_call_start"


@dataclass(frozen=True, slots=True)
class ToolCallArgsDelta:
    """A fragment of the raw JSON text of call ``index``; for display, not for execution."""

    index: int
    text: str
    kind: Literal["tool_call_args_delta"] = "tool_call_args_delta"


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """Call ``index`` is complete and valid: this is what gets executed."""

    index: int
    call: ToolCallPart
    kind: Literal["tool_call_done"] = "tool_call_done"


@dataclass(frozen=True, slots=True)
class ProblemFound:
    """The parser met something it could not read (also recorded in the final ``Turn``).

    ``call_index`` names the call object the problem belongs to, when it belongs to one.
    """

    problem: ParseProblem
    kind: Literal["problem"] = "problem"
    call_index: int | None = None


StreamDelta = ThinkingDelta | TextDelta | ToolCallStart | ToolCallArgsDelta | ToolCallDone | ProblemFound

__all__ = [
    "ParseProblem",
    "ProblemFound",
    "ProblemKind",
    "StreamDelta",
    "TextDelta",
    "TextPart",
    "ThinkingDelta",
    "ThinkingPart",
    "ToolCallArgsDelta",
    "ToolCallDone",
    "ToolCallPart",
    "ToolCallStart",
    "Turn",
    "call_id",
]
