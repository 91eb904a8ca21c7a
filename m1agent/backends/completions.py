"""Raw ``/v1/completions`` (vLLM or SGLang): we render the prompt and parse the output ourselves.

This is the recommended way to serve M1 from vLLM: the prompt is byte-identical to vLLM's M1 chat
template, and tool calls come from our JSON-aware parser instead of the server's streaming parser,
which corrupts arguments. It also works on servers with no M1 tool parser at all (SGLang).

A connection that drops mid-answer is resumed, not restarted: the next request's prompt ends with the
text already received, so the model continues where it stopped and the deltas already yielded stay true.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from m1agent.backends._common import extra_body
from m1agent.backends._openai import OpenAIProtocolBackend, ended_early, usage_numbers
from m1agent.backends.base import ModelEvent, ModelRequest, ModelResponse
from m1agent.backends.profile import RAW_COMPLETIONS, finish_reason
from m1agent.protocol.openai_format import to_openai_messages, tools_to_openai
from m1agent.protocol.render import render
from m1agent.protocol.stream import StreamParser

END_OF_SENTENCE = "<end_of_sentence>"
BEGINNING_OF_SENTENCE = "<beginning_of_sentence>"
STOP = [END_OF_SENTENCE, BEGINNING_OF_SENTENCE]


def build_prompt(request: ModelRequest) -> str:
    """The raw prompt for a request: the rendered history, the generation header, the continuation."""
    tools = tools_to_openai(request.tools) if request.tools else None
    return render(to_openai_messages(request.messages), tools) + request.continuation


@dataclass(slots=True)
class _Run:
    prompt: str
    max_tokens: int
    parser: StreamParser
    received: list[str] = field(default_factory=list)
    resumable: bool = True
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def partial_text(self) -> str:
        return "".join(self.received)


class Completions(OpenAIProtocolBackend):
    """M1 through a raw text-completions endpoint, with the client-side M1 parser.

    ``base_url`` is the OpenAI-style root, e.g. ``http://127.0.0.1:8000/v1``. ``model=None`` asks the
    server (``/v1/models``), which also gives ``context_window`` when it is not set. ``max_tokens``
    defaults to ``default_max_tokens``, capped by what the context window leaves when a
    ``token_counter`` (by default ``m1agent.tokens.load_counter()``); that counter also fills
    ``usage.thinking_tokens``.
    """

    name = "completions"
    # The prompt is ours, so a cut-off answer can be continued (thinking budget forcing, resumes).
    profile = RAW_COMPLETIONS

    def _new_run(self, request: ModelRequest) -> _Run:
        prompt = build_prompt(request)
        return _Run(prompt, self.max_tokens_for(request, prompt), StreamParser(request.turn_index))

    def _body_extras(self, request: ModelRequest) -> dict[str, Any]:
        return {"skip_special_tokens": False, **extra_body(request)}

    async def _attempt(self, request: ModelRequest, run: _Run) -> AsyncGenerator[ModelEvent, None]:
        model = await self.resolve_model()
        received = run.partial_text
        max_tokens = run.max_tokens
        if received:
            max_tokens = max(1, max_tokens - self.token_counter.count(received))
        opener = lambda: self._client.completions.with_streaming_response.create(  # noqa: E731
            model=model,
            prompt=run.prompt + received,
            max_tokens=max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=STOP + list(request.stop or []),
            stream=True,
            stream_options={"include_usage": True},
            extra_body=self._body_extras(request),
        )
        finish: str | None = None
        async with contextlib.aclosing(self.stream_payloads(opener)) as stream:
            async for chunk in stream:
                if chunk.get("usage"):
                    prompt_tokens, completion_tokens = usage_numbers(chunk["usage"])
                    # A resumed answer's prompt carries the text that arrived before the break: that text
                    # is output, not input.
                    carried = self.token_counter.count(received) if received else 0
                    run.prompt_tokens = prompt_tokens - carried
                    run.completion_tokens = completion_tokens + carried
                for choice in chunk.get("choices") or ():
                    text = choice.get("text") or ""
                    if text:
                        run.received.append(text)
                        for delta in run.parser.feed(text):
                            yield delta
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        if finish is None:
            raise ended_early()
        for delta in run.parser.flush():
            yield delta
        turn = run.parser.close()
        yield ModelResponse(
            turn=turn,
            usage=self.usage_for(turn, run.prompt_tokens, run.completion_tokens, run.attempts),
            finish_reason=finish_reason(finish, turn),
            raw_text=run.partial_text,
            model=model,
        )
