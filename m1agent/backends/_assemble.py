"""Rebuilding one M1 turn from what a chat-style server sends: content, reasoning, structured calls.

Everything goes through one ``StreamParser`` so that every backend yields the same deltas and the same
``Turn`` rules. Separate reasoning (hosted ``reasoning_content``, vLLM ``reasoning``) is fed back as the
``<think>`` block M1 wrote; a ``<think>`` block that also shows up in ``content`` is merged into it.
Structured tool calls from the server are checked here: their joined arguments must decode to a JSON
object, and a call that fails is reported, never run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from m1agent.protocol.calls import read_call
from m1agent.protocol.stream import StreamParser
from m1agent.protocol.types import (
    ParseProblem,
    ProblemFound,
    ProblemKind,
    StreamDelta,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolCallPart,
    ToolCallStart,
    Turn,
    call_id,
)

_OPEN = "<think>"


def last_call_index(deltas: list[StreamDelta], current: int) -> int:
    """The highest call index the parser has given out, seen through its deltas (``current`` if none)."""
    for delta in deltas:
        index = delta.call_index if isinstance(delta, ProblemFound) else getattr(delta, "index", None)
        if isinstance(index, int):
            current = max(current, index)
    return current


class TurnAssembler:
    """Feeds content and reasoning through the M1 parser in the order the model wrote them."""

    def __init__(self, turn_index: int) -> None:
        self.turn_index = turn_index
        self.parser = StreamParser(turn_index)
        self.raw: list[str] = []
        self._reasoning_open = False
        self._content_started = False
        self._undecided = ""  # content held back until we know whether it opens a second <think>
        self.last_index = -1  # the highest call index our parser has given out

    @property
    def raw_text(self) -> str:
        """The M1 output as reconstructed so far."""
        return "".join(self.raw) + self._undecided

    def _feed(self, text: str) -> list[StreamDelta]:
        if not text:
            return []
        self.raw.append(text)
        out = self.parser.feed(text)
        self.last_index = last_call_index(out, self.last_index)
        return out

    def reasoning(self, text: str) -> list[StreamDelta]:
        """More thinking that arrived in a field of its own."""
        if not text:
            return []
        if self._content_started:  # thinking after the answer began: keep it, as answer text
            return self._feed(text)
        out: list[StreamDelta] = []
        if not self._reasoning_open:
            self._reasoning_open = True
            out += self._feed(_OPEN + "\n")
        return out + self._feed(text)

    def content(self, text: str) -> list[StreamDelta]:
        """More ``content``."""
        if not text:
            return []
        if not self._reasoning_open or self._content_started:
            self._content_started = True
            return self._feed(text)
        self._undecided += text
        head = self._undecided.lstrip()
        if len(head) < len(_OPEN) and _OPEN.startswith(head):
            return []
        return self._decide()

    def _decide(self) -> list[StreamDelta]:
        pending, self._undecided = self._undecided, ""
        self._content_started = True
        self._reasoning_open = False
        head = pending.lstrip()
        if head.startswith(_OPEN):
            # The server sent thinking twice over: in its own field and as a <think> block in content.
            # Both are thinking; the block's own </think> ends it.
            body = head[len(_OPEN) :]
            return self._feed("\n" + body.removeprefix("\n"))
        return self._feed("\n</think>\n" + pending)

    def finish(self, *, thinking_complete: bool) -> tuple[list[StreamDelta], Turn]:
        """End of output. ``thinking_complete``: separately sent reasoning ended normally."""
        out: list[StreamDelta] = []
        if self._undecided:
            out += self._decide()
        elif self._reasoning_open and thinking_complete:
            self._reasoning_open = False
            out += self._feed("\n</think>\n")
        flushed = self.parser.flush()
        self.last_index = last_call_index(flushed, self.last_index)
        return out + flushed, self.parser.close()


@dataclass(slots=True)
class _Call:
    name: str = ""
    server_id: str = ""
    args: list[str] = field(default_factory=list)
    started: bool = False


class ServerCalls:
    """Tool calls a server parsed itself, streamed as name + argument fragments, validated at the end."""

    def __init__(self, turn_index: int, source: str, *, advice: str = "") -> None:
        self.turn_index = turn_index
        self.source = source
        self.advice = advice
        self._calls: dict[int, _Call] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def delta(self, index: int, *, name: str | None = None, server_id: str | None = None,
              arguments: str | None = None) -> list[StreamDelta]:
        """One streamed ``tool_calls`` entry; returns display deltas (never a call to run)."""
        call = self._calls.setdefault(index, _Call())
        out: list[StreamDelta] = []
        if name and not call.name:  # servers send the whole name once; a repeat must not double it
            call.name = name
        if server_id:
            call.server_id = server_id
        if call.name and not call.started:
            call.started = True
            out.append(ToolCallStart(index, call_id(self.turn_index, index), call.name))
            if call.args:
                out.append(ToolCallArgsDelta(index, "".join(call.args)))
        if arguments:
            call.args.append(arguments)
            if call.started:
                out.append(ToolCallArgsDelta(index, arguments))
        return out

    def replace(self, calls: list[tuple[str, str]]) -> None:
        """Take these ``(name, arguments)`` as authoritative (a final message that repeats the calls)."""
        for index, (name, arguments) in enumerate(calls):
            call = self._calls.setdefault(index, _Call())
            call.name, call.args = name, [arguments]

    def any_invalid(self) -> bool:
        """True when at least one call would fail validation."""
        return any(self._check(c.name, "".join(c.args))[1] is not None for c in self._calls.values())

    def finish(self, offset: int) -> tuple[list[StreamDelta], list[ToolCallPart], list[ParseProblem], str]:
        """Validate every call: ``(deltas, good calls, problems, raw <tool_calls> block)``."""
        out: list[StreamDelta] = []
        good: list[ToolCallPart] = []
        problems: list[ParseProblem] = []
        lines: list[str] = []
        for position, index in enumerate(sorted(self._calls)):
            call = self._calls[index]
            final = offset + position
            raw_args = "".join(call.args)
            lines.append(f'{{"name": {json.dumps(call.name, ensure_ascii=False)}, "arguments": {raw_args or "null"}}}')
            if not call.started:  # a call without a name never had its start announced
                out.append(ToolCallStart(final, call_id(self.turn_index, final), call.name))
            arguments, problem = self._check(call.name, raw_args)
            if problem is not None:
                problems.append(problem)
                out.append(ProblemFound(problem, call_index=final))
            else:
                part = ToolCallPart(call.name, arguments or {}, call_id(self.turn_index, final))
                good.append(part)
                out.append(ToolCallDone(final, part))
        block = "<tool_calls>\n" + "\n".join(lines) + "\n</tool_calls>" if lines else ""
        return out, good, problems, block

    def _check(self, name: str, raw: str) -> tuple[dict[str, Any] | None, ParseProblem | None]:
        """Judge the joined call exactly as our own parser judges a call it reads from M1's text."""
        where = f"call {name or '(no name)'} from {self.source}"
        if not raw.strip():
            return None, ParseProblem(ProblemKind.TOOL_CALL_MISSING_ARGUMENTS,
                                      f"{where} arrived without arguments; it was not run", raw)
        result = read_call(f'{{"name": {json.dumps(name, ensure_ascii=False)}, "arguments": {raw}}}', "")
        if isinstance(result, ToolCallPart):
            return result.arguments, None
        problem = result[0]
        advice = self.advice if problem.kind == ProblemKind.INVALID_TOOL_CALL_JSON else ""
        return None, ParseProblem(problem.kind, f"{where}: {problem.detail}{advice}", raw)


@dataclass(slots=True)
class AssemblerRun:
    """Per-request state of a backend that cannot continue a cut answer: the current attempt's turn."""

    resumable: bool = False
    attempts: int = 1
    assembler: TurnAssembler | None = None

    @property
    def partial_text(self) -> str:
        return self.assembler.raw_text if self.assembler else ""


def read_chat_delta(
    delta: dict[str, Any], assembler: TurnAssembler, calls: ServerCalls, *,
    seen: dict[str, list[str]] | None = None, held: list[str] | None = None,
) -> list[StreamDelta]:
    """The one reader of a chat-API delta (or a whole message): thinking from ``reasoning_content`` or
    ``reasoning``, ``content`` through the M1 parser, ``tool_calls`` to the server-call checks.

    ``seen`` collects the text of each field as it came (for a final chunk that repeats the message);
    ``held`` takes the content that arrives once calls began, when the server is known to divert pieces
    of a call's arguments into ``content``.
    """
    out: list[StreamDelta] = []
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if reasoning:
        if seen is not None:
            seen.setdefault("reasoning_content", []).append(reasoning)
        out += assembler.reasoning(reasoning)
    content = delta.get("content")
    if content:
        if seen is not None:
            seen.setdefault("content", []).append(content)
        if held is not None and calls:
            held.append(content)
        else:
            out += assembler.content(content)
    for position, call in enumerate(delta.get("tool_calls") or ()):
        function = call.get("function") or {}
        index = call.get("index")
        out += calls.delta(index if isinstance(index, int) else position, name=function.get("name"),
                           server_id=call.get("id"), arguments=function.get("arguments"))
    return out


def finish_turn(
    assembler: TurnAssembler, calls: ServerCalls, finish: str | None, extra: tuple[ParseProblem, ...] = ()
) -> tuple[list[StreamDelta], Turn, str]:
    """The end of a chat answer: the last deltas, the ``Turn`` (the parser's calls and the server's good
    ones; every problem, ``extra`` last) and the raw text of the server's call block."""
    deltas, parsed = assembler.finish(thinking_complete=finish != "length")
    if finish == "length":
        calls.advice = ": the output was cut off at max_tokens; raise it"
    call_deltas, good, problems, block = calls.finish(max(assembler.last_index + 1, len(parsed.tool_calls)))
    deltas += call_deltas + [ProblemFound(p) for p in extra]
    turn = Turn(parsed.thinking, parsed.text, parsed.tool_calls + tuple(good),
                parsed.problems + tuple(problems) + extra)
    return deltas, turn, block
