"""Turning the raw JSON text of one call object into a call, or into problems the model can act on.

Shared by the whole-text and streaming parsers, so both judge every call in exactly the same way.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from m1agent.protocol.types import ParseProblem, ProblemKind, ToolCallPart

CALL_SHAPE = '{"name": "<tool name>", "arguments": {...}}'


def read_call(raw: str, call_id: str) -> ToolCallPart | list[ParseProblem]:
    """Decode one complete call object; return the call, or every problem that keeps it from running."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        obj = _single_quoted(raw)
        if obj is None:
            return [invalid_json(raw, f"it is not valid JSON: {exc.msg} at character {exc.pos}")]
    if not isinstance(obj, dict):
        return [invalid_json(raw, f"it is a JSON {_json_type(obj)}, not an object")]
    problems: list[ParseProblem] = []
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        problems.append(
            ParseProblem(
                ProblemKind.TOOL_CALL_MISSING_NAME,
                "This call has no tool name: give every call a string \"name\", "
                f"as in {CALL_SHAPE}.",
                raw,
            )
        )
        name = ""
    label = f"the call to {name!r}" if name else "this call"
    if "arguments" not in obj:
        problems.append(
            ParseProblem(
                ProblemKind.TOOL_CALL_MISSING_ARGUMENTS,
                f"{label.capitalize()} has no \"arguments\": add them as a JSON object "
                "(use {} when the tool takes no arguments) and send the call again.",
                raw,
            )
        )
        return problems
    arguments = _as_object(obj["arguments"])
    if arguments is None:
        given = obj["arguments"]
        what = "a string that does not decode to a JSON object" if isinstance(given, str) else (
            f"a JSON {_json_type(given)}, not an object"
        )
        problems.append(
            ParseProblem(
                ProblemKind.ARGUMENTS_NOT_OBJECT,
                f'The "arguments" of {label} are {what}: '
                'send them as an object of named values, for example {"path": "a.txt"}.',
                raw,
            )
        )
    if problems:
        return problems
    assert arguments is not None
    return ToolCallPart(name=name, arguments=arguments, id=call_id)


def invalid_json(raw: str, reason: str) -> ParseProblem:
    """Text inside a ``<tool_calls>`` block that is not a usable JSON object."""
    return ParseProblem(
        ProblemKind.INVALID_TOOL_CALL_JSON,
        f"This text in the <tool_calls> block was skipped because {reason}; "
        f"write each call as one JSON object on its own line, {CALL_SHAPE}.",
        raw,
    )


def truncated_call(raw: str) -> ParseProblem:
    """A call object the output ended inside of: it is never run."""
    return invalid_json(raw, "the output ended before the call object was closed, so it was not run")


def unclosed_think() -> ParseProblem:
    """The output was cut inside thinking."""
    return ParseProblem(
        ProblemKind.UNCLOSED_THINK,
        "The output ended inside <think> without </think>, so there is no answer and no tool call: "
        "keep the reasoning shorter, close it with </think>, then answer or call tools.",
    )


def unclosed_tool_calls(raw: str = "") -> ParseProblem:
    """A ``<tool_calls>`` block without its closing tag."""
    return ParseProblem(
        ProblemKind.UNCLOSED_TOOL_CALLS,
        "The <tool_calls> block was never closed: only its complete calls were kept; "
        "end every block with </tool_calls>.",
        raw,
    )


def call_in_thinking(raw: str) -> ParseProblem:
    """A tool-call block written inside the thinking: never executed."""
    return ParseProblem(
        ProblemKind.TOOL_CALL_IN_THINKING,
        "A <tool_calls> block was written inside <think>…</think>, so it was not run: "
        "close the thinking with </think> first, then write the <tool_calls> block.",
        raw,
    )


def _single_quoted(raw: str) -> Any:
    """Repair a call written with Python-style single quotes, when it is unambiguous; else None."""
    if "'" not in raw:
        return None
    try:
        value = ast.literal_eval(raw)  # evaluates literals only, never code
        return json.loads(json.dumps(value)) if isinstance(value, dict) else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _as_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return None
        if isinstance(decoded, dict):
            return decoded
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"
