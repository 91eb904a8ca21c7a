"""vLLM's OpenAI chat API serving M1, through the official ``openai`` client (2.x or 3.x).

vLLM has no working M1 reasoning parser, so the thinking arrives inside ``content``; we run our own
M1 parser over it. ``reasoning_content``/``reasoning`` are read too, in case a server does split it.

Tool calls: with ``--tool-call-parser minimax`` the server sends them as ``tool_calls``, and its
*streamed* arguments are known to be wrong (the first parser generation resends whole strings; the
second shifts characters at delta boundaries, ends a call at a ``}`` inside a string, and diverts text
after a ``<`` into ``content``). So the joined arguments of every call are validated, a call that fails
is reported as a problem and never run, and content that arrives after a failed call is held back
instead of being shown as answer text. Some corruption leaves valid JSON with wrong values, which no
client can detect: ``stream=False`` (the server's non-streaming parser is right) or, better, the
``Completions`` backend with our own parser are the ways to get calls you can trust. Without a tool
parser on the server, the ``<tool_calls>`` block stays in ``content`` and our parser reads it.

``tool_choice: required`` is never sent: on vLLM it switches to structured decoding and M1 cannot think.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import openai

from m1agent.backends._assemble import AssemblerRun, ServerCalls, TurnAssembler, finish_turn, read_chat_delta
from m1agent.backends._common import DEFAULT_MAX_TOKENS, Counter, extra_body
from m1agent.backends._http import RetryPolicy, Timeouts
from m1agent.backends._openai import OpenAIProtocolBackend, ended_early, usage_numbers
from m1agent.backends.base import ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.profile import VLLM_CHAT, finish_reason
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.render import render
from m1agent.protocol.types import ParseProblem

ADVICE = (
    ". vLLM's streaming minimax tool parser is known to corrupt arguments: serve M1 through the "
    "Completions backend (raw /v1/completions with our parser), or use VLLM(..., stream=False)"
)
WITHHELD = "server_text_after_bad_call"
NON_STREAMING_READ = 3600.0


class VLLM(OpenAIProtocolBackend):
    """M1 through vLLM's ``/v1/chat/completions``.

    ``base_url`` is the OpenAI-style root, e.g. ``http://127.0.0.1:8000/v1``; ``model=None`` asks the
    server. ``stream=False`` makes one non-streamed request per turn (deltas then all arrive at the
    end, and the read timeout is at least an hour) so that tool calls come from vLLM's correct
    non-streaming parser. ``token_counter`` caps the
    default ``max_tokens`` by the context window and fills ``usage.thinking_tokens``.
    """

    name = "vllm"
    profile = VLLM_CHAT

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        stream: bool = True,
        context_window: int | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        token_counter: Counter | None = None,
    ) -> None:
        super().__init__(
            base_url,
            model=model,
            api_key=api_key,
            context_window=context_window,
            timeouts=timeouts,
            retry=retry,
            default_max_tokens=default_max_tokens,
            token_counter=token_counter,
        )
        self.streaming = stream

    def _new_run(self, request: ModelRequest) -> AssemblerRun:
        return AssemblerRun()

    def _arguments(self, request: ModelRequest, model: str) -> dict[str, Any]:
        messages = to_openai_messages(request.messages)
        tools = tools_to_openai(request.tools) if request.tools else None
        prompt = render(messages, tools, template="vllm")
        extra = extra_body(request)
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": self.max_tokens_for(request, prompt),
            "temperature": request.temperature,
            "top_p": request.top_p,
            "extra_body": extra,
        }
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "none" if request.tool_choice == "none" else "auto"
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if self.streaming:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        return kwargs

    async def _attempt(self, request: ModelRequest, run: AssemblerRun) -> AsyncGenerator[ModelEvent, None]:
        model = await self.resolve_model()
        kwargs = self._arguments(request, model)
        if self.streaming:
            create = self._client.chat.completions.with_streaming_response.create
            chunks = self.stream_payloads(lambda: create(**kwargs))
        else:
            # Nothing arrives until the whole answer is done: up to 80K tokens, so wait far longer.
            whole = openai.Timeout(connect=self.timeouts.connect, read=max(self.timeouts.read, NON_STREAMING_READ),
                                   write=self.timeouts.connect, pool=self.timeouts.connect)
            response = await self.call(lambda: self._client.chat.completions.create(**kwargs, timeout=whole))
            chunks = _single(response.model_dump())
        assembler = run.assembler = TurnAssembler(request.turn_index)
        calls = ServerCalls(request.turn_index, "vLLM's tool_calls", advice=ADVICE)
        after_calls: list[str] = []  # content that came after a call began: trusted only if all calls are good
        finish: str | None = None
        prompt_tokens = completion_tokens = 0
        async with contextlib.aclosing(chunks) as stream:
            async for chunk in stream:
                if chunk.get("usage"):
                    prompt_tokens, completion_tokens = usage_numbers(chunk["usage"])
                for choice in chunk.get("choices") or ():
                    # a whole (non-streamed) answer comes as "message"; content after a call began is held
                    delta = choice.get("delta") or choice.get("message") or {}
                    for event in read_chat_delta(delta, assembler, calls, held=after_calls):
                        yield event
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        if finish is None:
            raise ended_early()
        for final in self._finish(model, run, assembler, calls, after_calls, finish, prompt_tokens,
                                  completion_tokens):
            yield final

    def _finish(self, model: str, run: AssemblerRun, assembler: TurnAssembler, calls: ServerCalls,
                after_calls: list[str], finish: str, prompt_tokens: int, completion_tokens: int) -> list[ModelEvent]:
        out: list[ModelEvent] = []
        held = "".join(after_calls)
        if held and not calls.any_invalid():
            out += assembler.content(held)
            held = ""
        extra = () if not held else (ParseProblem(
            WITHHELD, "text the server sent after a corrupted tool call was withheld from the answer: it is most "
            "likely a piece of the call's arguments", held),)
        deltas, turn, block = finish_turn(assembler, calls, finish, extra)
        out += deltas
        raw = assembler.raw_text + block + held
        usage = self.usage_for(turn, prompt_tokens, completion_tokens, run.attempts)
        reason = finish_reason(finish, turn)
        out.append(ModelResponse(turn=turn, usage=usage, finish_reason=reason, raw_text=raw, model=model))
        return out


async def _single(payload: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
    yield payload
