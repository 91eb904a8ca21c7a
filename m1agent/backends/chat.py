"""The one chat reader: an OpenAI-style chat answer, payload by payload, into M1 deltas and a ``Turn``.

Every chat server (vLLM, SGLang, the hosted API on either route) goes through ``ChatReader``, and what
differs between them is a field of their ``ServerProfile``, never a branch on the backend:

- thinking in ``reasoning_content``/``reasoning`` is fed back as the ``<think>`` block M1 wrote, so one
  ``StreamParser`` makes the same deltas and ``Turn`` rules for every server; a ``<think>`` block that
  also shows up in ``content`` is merged into it;
- a whole ``message`` (a non-streamed answer, or the hosted stream's last event that repeats the
  answer) gives only what the deltas missed, and its ``tool_calls`` are the authoritative ones;
- calls the server parsed itself are checked here: their joined arguments must decode to a JSON
  object, and a call that fails is reported, never run. Where the profile says streamed arguments are
  corrupt, content after a call is held back until every call checks out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from m1agent.backends.base import Counter, ModelEvent, ModelRequest, ModelResponse, count_usage
from m1agent.backends.profile import ServerProfile, finish_reason
from m1agent.errors import StreamInterrupted
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
WITHHELD = "server_text_after_bad_call"
CORRUPT_CALL_ADVICE = (
    ". vLLM's streaming minimax tool parser is known to corrupt arguments: serve M1 through the "
    "Completions backend (raw /v1/completions with our parser), or use VLLM(..., stream=False)"
)
CUT_OFF_ADVICE = ": the output was cut off at max_tokens; raise it"


def chat_body(request: ModelRequest, profile: ServerProfile, model: str, messages: list[dict[str, Any]],
              tools: list[dict[str, Any]] | None, max_tokens: int) -> dict[str, Any]:
    """The JSON body of one chat request, shaped by the profile (``extra_body`` is the caller's to add).

    ``tool_choice`` is only ever ``auto`` or ``none``: ``required`` would make vLLM decode JSON from the
    first token, so M1 could not think, and the hosted API rejects it.
    """
    def sample(value: float) -> float:
        if profile.sampling_range is None:
            return value
        low, high = profile.sampling_range
        return min(high, max(low, float(value)))

    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        profile.max_tokens_field: max_tokens,
        "temperature": sample(request.temperature),
        "top_p": sample(request.top_p),
    }
    if tools:
        body["tools"] = tools
        body["tool_choice"] = "none" if request.tool_choice == "none" else "auto"
    if request.stop:
        body["stop"] = list(request.stop)
    return body


def extra_body(request: ModelRequest) -> dict[str, Any]:
    """The request's extra body fields, never ``tool_choice`` (see ``chat_body``)."""
    return {k: v for k, v in request.extra_body.items() if k != "tool_choice"}


class ChatReader:
    """Reads one chat answer: ``feed`` each JSON payload, then ``finish`` for the ``ModelResponse``."""

    def __init__(self, turn_index: int, profile: ServerProfile, source: str) -> None:
        self.hold_after_calls = profile.corrupts_streamed_arguments
        self.text = TurnAssembler(turn_index)
        self.calls = ServerCalls(turn_index, source, advice=CORRUPT_CALL_ADVICE if self.hold_after_calls else "")
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self._reasoning: list[str] = []  # what the deltas brought, to take only the rest from a whole message
        self._content: list[str] = []
        self._held: list[str] = []  # content after a call began, trusted only once every call is good

    @property
    def raw_text(self) -> str:
        """The M1 output as reconstructed so far."""
        return self.text.raw_text

    def feed(self, payload: dict[str, Any]) -> list[StreamDelta]:
        """The deltas of one payload: a stream chunk, a whole answer, or the last event repeating it."""
        if isinstance(payload.get("usage"), dict) and payload["usage"]:
            self.usage = payload["usage"]
        out: list[StreamDelta] = []
        for choice in payload.get("choices") or ():
            message = choice.get("message")
            out += self._whole(message) if isinstance(message, dict) else self._delta(choice.get("delta") or {})
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def _delta(self, delta: dict[str, Any]) -> list[StreamDelta]:
        out: list[StreamDelta] = []
        # vLLM has no M1 reasoning parser, but a server with one splits the thinking off, under either name.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            self._reasoning.append(reasoning)
            out += self.text.reasoning(reasoning)
        content = delta.get("content")
        if content:
            self._content.append(content)
            out += self._answer(content)
        for position, call in enumerate(delta.get("tool_calls") or ()):
            function = call.get("function") or {}
            index = call.get("index")
            out += self.calls.delta(index if isinstance(index, int) else position, name=function.get("name"),
                                    server_id=call.get("id"), arguments=function.get("arguments"))
        return out

    def _answer(self, content: str) -> list[StreamDelta]:
        if self.hold_after_calls and self.calls:
            self._held.append(content)
            return []
        return self.text.content(content)

    def _whole(self, message: dict[str, Any]) -> list[StreamDelta]:
        out: list[StreamDelta] = []
        reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
        for full, seen, feed in ((reasoning, self._reasoning, self.text.reasoning),
                                 (message.get("content") or "", self._content, self._answer)):
            so_far = "".join(seen)
            if full.startswith(so_far) and len(full) > len(so_far):
                seen.append(full[len(so_far) :])
                out += feed(seen[-1])
        calls = message.get("tool_calls") or []
        if calls and self.calls:
            self.calls.replace([((c.get("function") or {}).get("name") or "",
                                 (c.get("function") or {}).get("arguments") or "") for c in calls])
        elif calls:
            out += self._delta({"tool_calls": calls})
        return out

    def finish(self, model: str, counter: Counter, requests: int) -> list[ModelEvent]:
        """The last deltas and the ``ModelResponse``; ``StreamInterrupted`` if no finish reason came."""
        if self.finish_reason is None:
            raise StreamInterrupted("the stream ended without a finish reason")
        out: list[ModelEvent] = []
        held = "".join(self._held)
        if held and not self.calls.any_invalid():
            out += self.text.content(held)
            held = ""
        cut = self.finish_reason == "length"
        deltas, parsed = self.text.finish(thinking_complete=not cut)
        out += deltas
        if cut:
            self.calls.advice = CUT_OFF_ADVICE
        call_deltas, good, problems, block = self.calls.finish(max(self.text.last_index + 1, len(parsed.tool_calls)))
        out += call_deltas
        if held:
            withheld = ParseProblem(WITHHELD, "text the server sent after a corrupted tool call was withheld "
                                    "from the answer: it is most likely a piece of the call's arguments", held)
            problems.append(withheld)
            out.append(ProblemFound(withheld))
        turn = Turn(parsed.thinking, parsed.text, parsed.tool_calls + tuple(good), parsed.problems + tuple(problems))
        reported = (self.usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        usage = count_usage(turn, int(self.usage.get("prompt_tokens") or 0),
                            int(self.usage.get("completion_tokens") or 0), requests, counter,
                            int(reported) if reported is not None else None)
        out.append(ModelResponse(turn=turn, usage=usage, finish_reason=finish_reason(self.finish_reason, turn),
                                 raw_text=self.text.raw_text + block + held, model=model))
        return out


def _last_call_index(deltas: list[StreamDelta], current: int) -> int:
    """The highest call index the parser has given out, seen through its deltas (``current`` if none)."""
    for delta in deltas:
        index = delta.call_index if isinstance(delta, ProblemFound) else getattr(delta, "index", None)
        if isinstance(index, int):
            current = max(current, index)
    return current


class TurnAssembler:
    """Feeds content and separate reasoning through the M1 parser in the order the model wrote them."""

    def __init__(self, turn_index: int) -> None:
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
        self.last_index = _last_call_index(out, self.last_index)
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
        self.last_index = _last_call_index(flushed, self.last_index)
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
