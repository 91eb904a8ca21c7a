"""M1's wire format: ``parse`` raw output, stream it with ``StreamParser``, ``render`` raw prompts."""

from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.parse import parse
from m1agent.protocol.render import neutralize_special_tokens, render
from m1agent.protocol.stream import StreamParser
from m1agent.protocol.types import (
    ParseProblem,
    ProblemFound,
    ProblemKind,
    StreamDelta,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolCallPart,
    ToolCallStart,
    Turn,
    call_id,
)

__all__ = [
    "ParseProblem",
    "ProblemFound",
    "ProblemKind",
    "StreamDelta",
    "StreamParser",
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
    "neutralize_special_tokens",
    "parse",
    "render",
    "to_openai_messages",
    "tools_to_openai",
]
